//! The client: configuration, the HTTP exchange with retries, and the ETag cache.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use pilotage_wire::Problem;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{StatusCode, Url};

use crate::error::{Error, Result};

pub use pilotage_wire::API_KEY_HEADER;

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// When and how long to retry a failed request.
///
/// 429, 502, 503 and 504 answers and connection errors are retried, up to `max_attempts`
/// attempts in all, waiting `Retry-After` when the server gives it (capped at `max_delay`),
/// else an exponential backoff `base_delay × 2^(attempt−1)` capped at `max_delay`, with full
/// jitter between half and all of it so that clients do not retry in step.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 disables retries).
    pub max_attempts: u32,
    /// Backoff before the second attempt.
    pub base_delay: Duration,
    /// Longest wait between two attempts, `Retry-After` included.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retry: every failure is returned at once.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// `max_attempts` attempts in all with the given delays.
    pub fn new(max_attempts: u32, base_delay: Duration, max_delay: Duration) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            base_delay,
            max_delay,
        }
    }

    /// Wait before attempt `attempt + 1` (attempt counts from 1), given the server's
    /// `Retry-After` in seconds if any.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_delay);
        }
        let exp = self
            .base_delay
            .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(20))
            .min(self.max_delay);
        exp.mul_f64(0.5 + 0.5 * unit_random())
    }
}

/// Builder of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    api_key: Option<String>,
    timeout: Duration,
    user_agent: String,
    retry: RetryPolicy,
    etag_capacity: usize,
}

impl ClientBuilder {
    /// Base URL of the server, e.g. `http://127.0.0.1:8080` (paths `/v1/…` are appended).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// API key sent in `x-api-key` on every request (higher quota).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Timeout of each request (connection to last byte of a non-streamed body).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// Retry policy (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Number of answers kept for conditional requests (0 disables the ETag cache).
    pub fn etag_cache(mut self, entries: usize) -> Self {
        self.etag_capacity = entries;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client> {
        install_tls_provider();
        let invalid = |reason: String| Error::InvalidBaseUrl {
            url: self.base_url.clone(),
            reason,
        };
        let mut base = Url::parse(&self.base_url).map_err(|e| invalid(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "scheme {:?} is not http or https",
                base.scheme()
            )));
        }
        if base.host_str().is_none_or(str::is_empty) {
            return Err(invalid("no host".to_owned()));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            let value =
                HeaderValue::from_str(key).map_err(|e| Error::Build(format!("API key: {e}")))?;
            headers.insert(API_KEY_HEADER, value);
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .user_agent(self.user_agent.clone())
            .default_headers(headers)
            .build()
            .map_err(|e| Error::Build(e.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                retry: self.retry,
                etags: Mutex::new(EtagCache {
                    capacity: self.etag_capacity,
                    entries: VecDeque::new(),
                }),
                not_modified: AtomicU64::new(0),
            }),
        })
    }
}

/// Installs rustls's ring provider once per process (reqwest is built without a default one).
fn install_tls_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // An error means another provider is already installed, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A cached answer: URL, strong ETag, body and headers worth keeping.
#[derive(Debug, Clone)]
struct Cached {
    url: String,
    etag: HeaderValue,
    body: Bytes,
    headers: HeaderMap,
}

/// A small cache of answers by URL, evicting the oldest entry.
#[derive(Debug)]
struct EtagCache {
    capacity: usize,
    entries: VecDeque<Cached>,
}

impl EtagCache {
    fn get(&self, url: &str) -> Option<&Cached> {
        self.entries.iter().find(|c| c.url == url)
    }

    fn put(&mut self, entry: Cached) {
        if self.capacity == 0 {
            return;
        }
        self.entries.retain(|c| c.url != entry.url);
        while self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    base: Url,
    retry: RetryPolicy,
    etags: Mutex<EtagCache>,
    not_modified: AtomicU64,
}

/// The API client: cheap to clone (shared connection pool and cache).
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

/// A complete answer: status, headers, body.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Final URL.
    pub url: String,
    /// HTTP status (200 or 206; a 304 is served from the cache as 200).
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
}

impl Answer {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `rel="next"` target of the `Link` header, if any.
    pub fn next_link(&self) -> Option<String> {
        next_link(&self.headers)
    }

    /// Decodes the JSON body.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::UnexpectedBody {
            url: self.url.clone(),
            reason: format!("not the JSON the API specifies: {e}"),
        })
    }
}

/// The target of `Link: <…>; rel="next"`.
pub(crate) fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|part| {
            let (target, params) = part.trim().split_once(';')?;
            let rel_next = params
                .split(';')
                .any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next");
            rel_next.then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
        })
}

impl Client {
    /// A builder with the defaults: `http://127.0.0.1:8080`, no key, 60 s timeout, the
    /// default retry policy, 64 cached answers.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            base_url: "http://127.0.0.1:8080".to_owned(),
            api_key: None,
            timeout: DEFAULT_TIMEOUT,
            user_agent: format!("pilotage-client/{}", env!("CARGO_PKG_VERSION")),
            retry: RetryPolicy::default(),
            etag_capacity: 64,
        }
    }

    /// A client for `base_url` with every other setting at its default.
    pub fn new(base_url: impl Into<String>) -> Result<Client> {
        Client::builder().base_url(base_url).build()
    }

    /// The base URL (with a trailing `/`).
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// Number of answers served from the ETag cache after a `304 Not Modified`.
    pub fn not_modified_count(&self) -> u64 {
        self.inner.not_modified.load(Ordering::Relaxed)
    }

    /// The absolute URL of `path` (`/v1/…`, a path with a query, or an absolute URL).
    pub fn url(&self, path: &str) -> Result<Url> {
        let relative = path.trim_start_matches('/');
        self.inner
            .base
            .join(relative)
            .map_err(|e| Error::InvalidBaseUrl {
                url: format!("{}{relative}", self.inner.base),
                reason: e.to_string(),
            })
    }

    /// GET with retries; an error status becomes [`Error::Api`]. The answer's body is not read.
    pub(crate) async fn send(&self, url: &Url, headers: HeaderMap) -> Result<reqwest::Response> {
        let policy = &self.inner.retry;
        let mut attempt = 1;
        loop {
            let sent = self
                .inner
                .http
                .get(url.clone())
                .headers(headers.clone())
                .send()
                .await;
            let retry_after = match sent {
                Ok(res)
                    if res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED =>
                {
                    return Ok(res);
                }
                Ok(res) => {
                    let status = res.status();
                    let retry_after = retry_after(res.headers());
                    if !retryable(status) || attempt >= policy.max_attempts {
                        return Err(api_error(url, res).await);
                    }
                    retry_after
                }
                Err(e) => {
                    if attempt >= policy.max_attempts
                        || !(e.is_connect() || e.is_timeout() || e.is_request())
                    {
                        return Err(Error::Connect {
                            url: url.to_string(),
                            source: e,
                        });
                    }
                    None
                }
            };
            tokio::time::sleep(policy.delay(attempt, retry_after)).await;
            attempt += 1;
        }
    }

    /// GET a complete answer, conditional on the cached ETag when there is one.
    pub async fn get(&self, path: &str) -> Result<Answer> {
        let url = self.url(path)?;
        let key = url.to_string();
        let mut headers = HeaderMap::new();
        let cached = self.cache().get(&key).cloned();
        if let Some(c) = &cached {
            headers.insert(header::IF_NONE_MATCH, c.etag.clone());
        }
        let res = self.send(&url, headers).await?;
        if res.status() == StatusCode::NOT_MODIFIED {
            if let Some(c) = cached {
                self.inner.not_modified.fetch_add(1, Ordering::Relaxed);
                return Ok(Answer {
                    url: key,
                    status: 200,
                    headers: c.headers,
                    body: c.body,
                });
            }
            return Err(Error::UnexpectedBody {
                url: key,
                reason: "304 Not Modified to an unconditional request".to_owned(),
            });
        }
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.bytes().await.map_err(|e| Error::Connect {
            url: key.clone(),
            source: e,
        })?;
        if let Some(etag) = headers.get(header::ETAG)
            && !etag.as_bytes().starts_with(b"W/")
        {
            self.cache().put(Cached {
                url: key.clone(),
                etag: etag.clone(),
                body: body.clone(),
                headers: headers.clone(),
            });
        }
        Ok(Answer {
            url: key,
            status,
            headers,
            body,
        })
    }

    /// GET and decode a JSON answer.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.get(path).await?.json()
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, EtagCache> {
        // A poisoned lock only means another task panicked mid-update of a plain cache.
        self.inner
            .etags
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A number in [0, 1) from the standard library's randomly keyed hasher (jitter needs no more).
fn unit_random() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let bits = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

fn retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let date = httpdate::parse_http_date(text).ok()?;
    Some(date.duration_since(SystemTime::now()).unwrap_or_default())
}

/// An error answer as [`Error::Api`], with its problem body when it has one.
async fn api_error(url: &Url, res: reqwest::Response) -> Error {
    let status = res.status();
    let wait = retry_after(res.headers()).map(|d| d.as_secs());
    let body = res.bytes().await.unwrap_or_default();
    let problem = serde_json::from_slice::<Problem>(&body).unwrap_or_else(|_| {
        let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        Problem::untyped(
            status.as_u16(),
            status.canonical_reason().unwrap_or("Error"),
            if text.is_empty() {
                format!("HTTP {status} with no problem body")
            } else {
                text
            },
        )
    });
    Error::Api {
        url: url.to_string(),
        status: status.as_u16(),
        problem: Box::new(problem),
        retry_after: wait,
    }
}
