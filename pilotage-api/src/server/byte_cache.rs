//! The server's in-memory caches, bounded in bytes (moka): data answers, reports and release
//! files are all held in a [`ByteCache`], which counts each entry as its key, its bytes and a
//! fixed allowance for the rest of the entry.

use std::sync::Arc;

use bytes::Bytes;

/// What a [`ByteCache`] weighs an entry by: the bytes its value holds (a body, a file).
pub trait Weighed {
    /// The bytes held, in bytes.
    fn weight(&self) -> usize;
}

impl Weighed for Bytes {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl<T: Weighed> Weighed for Arc<T> {
    fn weight(&self) -> usize {
        T::weight(self)
    }
}

/// A cache keyed by strings whose total weight never exceeds its capacity, in bytes: an entry
/// weighs its key's bytes, its value's [`Weighed::weight`] and a fixed allowance per entry
/// (headers and bookkeeping), so that many small entries cannot overrun the bound. The least
/// recently used entries go first.
#[derive(Clone)]
pub struct ByteCache<V> {
    inner: moka::sync::Cache<String, V>,
}

impl<V> std::fmt::Debug for ByteCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ByteCache")
            .field("bytes", &self.inner.weighted_size())
            .finish()
    }
}

impl<V: Weighed + Clone + Send + Sync + 'static> ByteCache<V> {
    /// A cache of at most `bytes` bytes, counting `per_entry` bytes for each entry beside its
    /// key and value.
    pub fn new(bytes: u64, per_entry: usize) -> ByteCache<V> {
        ByteCache {
            inner: moka::sync::Cache::builder()
                .max_capacity(bytes)
                .weigher(move |k: &String, v: &V| {
                    u32::try_from(k.len() + v.weight() + per_entry).unwrap_or(u32::MAX)
                })
                .build(),
        }
    }

    /// The value cached under `key`.
    pub fn get(&self, key: &str) -> Option<V> {
        self.inner.get(key)
    }

    /// Caches `value` under `key`.
    pub fn insert(&self, key: String, value: V) {
        self.inner.insert(key, value);
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        self.inner.invalidate_all();
    }

    /// Bytes held now (approximate until moka's pending work runs).
    pub fn weighted_size(&self) -> u64 {
        self.inner.weighted_size()
    }

    /// Entries held now (approximate until moka's pending work runs).
    pub fn entry_count(&self) -> u64 {
        self.inner.entry_count()
    }
}
