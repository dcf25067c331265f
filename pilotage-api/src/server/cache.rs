//! Cache of encoded data answers, bounded in bytes (moka), keyed by release + normalized query
//! + content coding.

use std::sync::Arc;

use actix_web::HttpResponse;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use bytes::Bytes;
use pilotage_wire::RELEASE_HEADER;

use super::encoding::Coding;
use super::files::REVALIDATE;

/// `Vary` of data answers: they depend on `Accept` (format) and `Accept-Encoding` (coding).
pub const VARY_DATA: &str = "accept, accept-encoding";

/// One encoded answer, ready to send: the body in one content coding, and its headers built
/// once, so that a cache hit only clones them.
#[derive(Debug)]
pub struct Encoded {
    /// The body, in [`Encoded::coding`].
    pub body: Bytes,
    /// Its media type.
    pub media_type: &'static str,
    /// Strong entity tag of this coding, quoted (`"…-gzip"` for gzip).
    pub etag: String,
    /// URL of the next page, for the `Link` header.
    pub next: Option<String>,
    /// Content coding of the body.
    pub coding: Coding,
    /// The headers of the answer, in order.
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Encoded {
    /// An answer of `release` with `body` in `coding`; `etag` is the identity answer's tag
    /// (quoted), to which the coding is appended. An empty `release` (an answer of no release,
    /// such as the OpenAPI document) gives no `Pilotage-Release` header.
    pub fn new(
        body: Bytes,
        media_type: &'static str,
        etag: &str,
        next: Option<String>,
        coding: Coding,
        release: &str,
    ) -> Encoded {
        let etag = coding.etag(etag);
        let mut headers = vec![
            (header::CONTENT_TYPE, HeaderValue::from_static(media_type)),
            (header::CONTENT_ENCODING, coding.header_value()),
            (header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE)),
            (header::VARY, HeaderValue::from_static(VARY_DATA)),
        ];
        let mut text = |name: HeaderName, value: &str| {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.push((name, v));
            }
        };
        text(header::ETAG, &etag);
        if !release.is_empty() {
            text(HeaderName::from_static(RELEASE_HEADER), release);
        }
        if let Some(n) = &next {
            text(header::LINK, &format!("<{n}>; rel=\"next\""));
        }
        Encoded {
            body,
            media_type,
            etag,
            next,
            coding,
            headers,
        }
    }

    /// This identity answer in another coding (the body given already encoded in it).
    pub fn recoded(&self, body: Bytes, coding: Coding) -> Encoded {
        let release = self
            .headers
            .iter()
            .find(|(n, _)| n.as_str() == RELEASE_HEADER)
            .and_then(|(_, v)| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        Encoded::new(
            body,
            self.media_type,
            &self.etag,
            self.next.clone(),
            coding,
            &release,
        )
    }

    /// The `200 OK` answer.
    pub fn respond(&self) -> HttpResponse {
        let mut res = HttpResponse::Ok().body(self.body.clone());
        let headers = res.headers_mut();
        for (name, value) in &self.headers {
            headers.insert(name.clone(), value.clone());
        }
        res
    }
}

/// Bodies above this many bytes are compressed on the blocking pool, off the async worker.
const INLINE_COMPRESS_BYTES: usize = 64 * 1024;

/// The identity answer `identity` (cached under `identity_key`) in `coding`: from the cache,
/// else compressed now and cached. Small bodies, and a coding that fails, stay identity.
pub async fn in_coding(
    cache: Option<&AnswerCache>,
    identity_key: &str,
    identity: Arc<Encoded>,
    coding: Coding,
) -> Arc<Encoded> {
    if coding == Coding::Identity
        || identity.coding != Coding::Identity
        || identity.body.len() < super::encoding::MIN_COMPRESS_BYTES
    {
        return identity;
    }
    let key = key(identity_key, coding);
    if let Some(hit) = cache.and_then(|c| c.get(&key)) {
        return hit;
    }
    let body = identity.body.clone();
    let compressed = if body.len() > INLINE_COMPRESS_BYTES {
        actix_web::web::block(move || coding.encode(&body))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|r| r)
    } else {
        coding.encode(&body)
    };
    match compressed {
        Ok(body) => {
            let coded = Arc::new(identity.recoded(body, coding));
            if let Some(c) = cache {
                c.insert(key, coded.clone());
            }
            coded
        }
        Err(e) => {
            tracing::warn!(coding = coding.token(), error = %e, "cannot compress an answer");
            identity
        }
    }
}

/// The cache key of the answer `identity` (release, dataset, normalized query, format) in
/// `coding`.
pub fn key(identity: &str, coding: Coding) -> String {
    let mut k = String::with_capacity(identity.len() + 9);
    k.push_str(identity);
    k.push('\n');
    k.push_str(coding.token());
    k
}

/// The cache: total weight (body bytes + key bytes) never exceeds its capacity.
#[derive(Clone)]
pub struct AnswerCache {
    inner: moka::sync::Cache<String, Arc<Encoded>>,
}

impl std::fmt::Debug for AnswerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerCache")
            .field("bytes", &self.inner.weighted_size())
            .finish()
    }
}

impl AnswerCache {
    /// A cache of at most `bytes` bytes; `None` when `bytes` is 0 (caching off).
    pub fn new(bytes: u64) -> Option<AnswerCache> {
        (bytes > 0).then(|| AnswerCache {
            inner: moka::sync::Cache::builder()
                .max_capacity(bytes)
                .weigher(|k: &String, v: &Arc<Encoded>| {
                    u32::try_from(k.len() + v.body.len() + 128).unwrap_or(u32::MAX)
                })
                .build(),
        })
    }

    /// The answer cached under `key`.
    pub fn get(&self, key: &str) -> Option<Arc<Encoded>> {
        self.inner.get(key)
    }

    /// Caches `value` under `key`.
    pub fn insert(&self, key: String, value: Arc<Encoded>) {
        self.inner.insert(key, value);
    }

    /// Bytes held now (approximate until moka's pending work runs).
    pub fn weighted_size(&self) -> u64 {
        self.inner.weighted_size()
    }

    /// Answers held now (approximate).
    pub fn entry_count(&self) -> u64 {
        self.inner.entry_count()
    }
}
