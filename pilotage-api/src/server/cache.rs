//! Cache of encoded data answers, bounded in bytes (moka), keyed by release + normalized query.

use std::sync::Arc;

use bytes::Bytes;

/// One encoded answer, ready to send.
#[derive(Debug)]
pub struct Encoded {
    /// The body.
    pub body: Bytes,
    /// Its media type.
    pub media_type: &'static str,
    /// Strong entity tag, quoted.
    pub etag: String,
    /// URL of the next page, for the `Link` header.
    pub next: Option<String>,
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
