//! Answers encoded once and kept to send again, and their caches, bounded in bytes
//! ([`ByteCache`]): data answers, keyed by release + normalized query + content coding, and
//! professional reports, keyed by release, report, perimeter, period, format and key.

use std::sync::Arc;

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use bytes::Bytes;
use pilotage_wire::RELEASE_HEADER;

use super::byte_cache::{ByteCache, Weighed};
use super::encoding::{Coding, none_match};
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

/// Bytes counted for each cached data answer beside its key and body: its headers and
/// bookkeeping.
pub const ANSWER_ENTRY_BYTES: usize = 128;

/// The cache of encoded data answers, keyed by [`key`]: total weight (key, body and
/// [`ANSWER_ENTRY_BYTES`] per answer) never exceeds its capacity.
pub type AnswerCache = ByteCache<Arc<Encoded>>;

impl Weighed for Encoded {
    fn weight(&self) -> usize {
        self.body.len()
    }
}

/// A cache of data answers of at most `bytes` bytes; `None` when `bytes` is 0 (caching off).
pub fn answer_cache(bytes: u64) -> Option<AnswerCache> {
    (bytes > 0).then(|| AnswerCache::new(bytes, ANSWER_ENTRY_BYTES))
}

/// A report encoded once, ready to send again: body bytes, entity tag and headers.
#[derive(Debug)]
pub struct ReportAnswer {
    /// The encoded report (JSON, CSV or HTML).
    body: Bytes,
    /// Strong entity tag, quoted: the first 128 bits of the body's SHA-256, in hexadecimal.
    etag: String,
    /// Lines of the report, for the access log.
    rows: usize,
    /// Headers of the answer (content type, release, cache control, vary, entity tag, and the
    /// file name of a CSV), built once.
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ReportAnswer {
    /// A report encoded as `body`, with its quoted entity tag, its number of lines and the
    /// headers to send with it.
    pub fn new(
        body: Bytes,
        etag: String,
        rows: usize,
        headers: Vec<(HeaderName, HeaderValue)>,
    ) -> ReportAnswer {
        ReportAnswer {
            body,
            etag,
            rows,
            headers,
        }
    }

    /// Lines of the report, for the access log.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// `200 OK` with the body, or `304 Not Modified` when `If-None-Match` names its tag.
    pub fn respond(&self, req: &HttpRequest) -> HttpResponse {
        let fresh = none_match(req.headers(), &self.etag);
        let mut res = if fresh {
            HttpResponse::NotModified().finish()
        } else {
            HttpResponse::Ok().body(self.body.clone())
        };
        let headers = res.headers_mut();
        for (name, value) in &self.headers {
            if fresh && *name == header::CONTENT_TYPE {
                continue;
            }
            headers.insert(name.clone(), value.clone());
        }
        res
    }
}

/// Bytes of encoded reports kept by a server (JSON, CSV and HTML of the reports asked last):
/// a département report at national scale is 0.4–0.8 MB, so about a hundred of them.
pub const REPORT_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// The encoded reports already computed, by release, public release, report, perimeter asked,
/// period, format and the asking key's role and perimeter; bounded in bytes (moka).
///
/// A key's perimeter is part of the cache key so that an answer is only ever reused for keys
/// of the same perimeter; the key itself (revoked, expired, quota) and its right to the
/// perimeter asked are checked at every request before the cache is read. The release
/// versions in the cache key make a new release's answers new entries; the cache is also
/// emptied when new professional tables are loaded.
pub type ReportCache = ByteCache<Arc<ReportAnswer>>;

/// Bytes counted for each cached report beside its key and body: its headers and bookkeeping.
pub const REPORT_ENTRY_BYTES: usize = 512;

impl Weighed for ReportAnswer {
    fn weight(&self) -> usize {
        self.body.len()
    }
}
