//! The bounded (LRU) cache of planned operations, keyed by an operation text and name.

use lru::LruCache;
use std::hash::{BuildHasher, RandomState};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use super::Planned;

struct Entry {
    text: String,
    operation_name: Option<String>,
    planned: Arc<Planned>,
}

/// A bounded least-recently-used map from (operation text, operation name) to a plan.
///
/// Entries are found by a randomly keyed hash of the key and then compared in full, so a
/// hash collision (accidental or crafted) costs a miss, never another operation's plan.
pub(crate) struct PlanCache {
    hasher: RandomState,
    entries: Mutex<LruCache<u64, Entry>>,
}

impl PlanCache {
    /// An empty cache holding at most `capacity` plans.
    pub(crate) fn new(capacity: NonZeroUsize) -> Self {
        PlanCache {
            hasher: RandomState::new(),
            entries: Mutex::new(LruCache::new(capacity)),
        }
    }

    fn slot(&self, text: &str, operation_name: Option<&str>) -> u64 {
        self.hasher.hash_one((text, operation_name))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<u64, Entry>> {
        // Nothing panics while the lock is held; recover from poisoning all the same.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached plan for this key, marking it recently used.
    pub(crate) fn get(&self, text: &str, operation_name: Option<&str>) -> Option<Arc<Planned>> {
        let slot = self.slot(text, operation_name);
        let mut entries = self.lock();
        let entry = entries.get(&slot)?;
        (entry.text == text && entry.operation_name.as_deref() == operation_name)
            .then(|| entry.planned.clone())
    }

    /// Caches a plan, evicting the least recently used one when full.
    pub(crate) fn insert(&self, text: &str, operation_name: Option<&str>, planned: Arc<Planned>) {
        let slot = self.slot(text, operation_name);
        self.lock().put(
            slot,
            Entry {
                text: text.to_string(),
                operation_name: operation_name.map(str::to_string),
                planned,
            },
        );
    }

    /// How many plans are cached.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}
