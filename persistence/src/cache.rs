//! A bounded in-process cache of verified shard objects.
//!
//! Shard objects are immutable once written (unique names, create-only), so a cached copy can
//! never be stale: at worst it outlives a GC that deleted an object nobody references any more.

use bytes::Bytes;
use quick_cache::sync::Cache;
use quick_cache::Weighter;

/// Weighs an entry by its size in bytes.
#[derive(Debug, Clone, Copy)]
struct ByteWeighter;

impl Weighter<String, Bytes> for ByteWeighter {
    fn weight(&self, key: &String, value: &Bytes) -> u64 {
        (key.len() + value.len()) as u64
    }
}

/// Objects by key, bounded by their total size.
pub(crate) struct ObjectCache {
    inner: Option<Cache<String, Bytes, ByteWeighter>>,
}

/// Rough average object size, used only to size the cache's hash table up front.
const TYPICAL_OBJECT: u64 = 64 * 1024;

impl ObjectCache {
    /// A cache holding at most `capacity_bytes`; zero disables caching.
    pub(crate) fn new(capacity_bytes: u64) -> Self {
        let inner = (capacity_bytes > 0).then(|| {
            let items = (capacity_bytes / TYPICAL_OBJECT).clamp(16, 1 << 20) as usize;
            Cache::with_weighter(items, capacity_bytes, ByteWeighter)
        });
        Self { inner }
    }

    pub(crate) fn get(&self, key: &str) -> Option<Bytes> {
        self.inner.as_ref()?.get(key)
    }

    pub(crate) fn insert(&self, key: &str, value: Bytes) {
        if let Some(cache) = &self.inner {
            cache.insert(key.to_owned(), value);
        }
    }

    pub(crate) fn remove(&self, key: &str) {
        if let Some(cache) = &self.inner {
            cache.remove(key);
        }
    }

    #[cfg(test)]
    fn weight(&self) -> u64 {
        self.inner.as_ref().map_or(0, Cache::weight)
    }
}

impl std::fmt::Debug for ObjectCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectCache")
            .field("enabled", &self.inner.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cache never holds more bytes than its capacity.
    #[test]
    fn stays_within_capacity() {
        let cache = ObjectCache::new(10_000);
        for i in 0..100 {
            cache.insert(&format!("k{i}"), Bytes::from(vec![0u8; 1000]));
            assert!(cache.weight() <= 10_000);
        }
        assert!(cache.get("k99").is_some(), "the newest entry is kept");
    }

    /// A zero capacity disables caching.
    #[test]
    fn zero_capacity_disables() {
        let cache = ObjectCache::new(0);
        cache.insert("k", Bytes::from_static(b"v"));
        assert!(cache.get("k").is_none());
    }
}
