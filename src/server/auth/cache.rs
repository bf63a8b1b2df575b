//! A small TTL cache for webhook answers (token reviews, access reviews), with the clock
//! injected so tests can move time.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to.
#[derive(Debug, Clone)]
pub struct FakeClock(Arc<Mutex<Instant>>);

impl Default for FakeClock {
    fn default() -> Self {
        FakeClock(Arc::new(Mutex::new(Instant::now())))
    }
}

impl FakeClock {
    pub fn advance(&self, d: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += d;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Entries expire after the TTL they were put with; at most `capacity` are kept (when full,
/// expired entries go first, then the one closest to expiry).
pub struct TtlCache<K, V> {
    clock: Arc<dyn Clock>,
    capacity: usize,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(clock: Arc<dyn Clock>, capacity: usize) -> TtlCache<K, V> {
        TtlCache { clock, capacity: capacity.max(1), entries: Mutex::new(HashMap::new()) }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let now = self.clock.now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key) {
            Some((expires, v)) if *expires > now => Some(v.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Stores `value` for `ttl`; a zero TTL stores nothing (caching off).
    pub fn put(&self, key: K, value: V, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        let now = self.clock.now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, (expires, _)| *expires > now);
            if entries.len() >= self.capacity {
                let soonest = entries.iter().min_by_key(|(_, (expires, _))| *expires).map(|(k, _)| k.clone());
                if let Some(k) = soonest {
                    entries.remove(&k);
                }
            }
        }
        entries.insert(key, (now + ttl, value));
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_with_their_own_ttl() {
        let clock = FakeClock::default();
        let cache = TtlCache::new(Arc::new(clock.clone()), 10);
        cache.put("allowed", 1, Duration::from_secs(300));
        cache.put("denied", 2, Duration::from_secs(30));
        cache.put("off", 3, Duration::ZERO);
        assert_eq!((cache.get(&"allowed"), cache.get(&"denied"), cache.get(&"off")), (Some(1), Some(2), None));
        clock.advance(Duration::from_secs(30));
        assert_eq!((cache.get(&"allowed"), cache.get(&"denied")), (Some(1), None));
        clock.advance(Duration::from_secs(270));
        assert_eq!(cache.get(&"allowed"), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_full_cache_drops_expired_then_soonest() {
        let clock = FakeClock::default();
        let cache = TtlCache::new(Arc::new(clock.clone()), 2);
        cache.put(1, "a", Duration::from_secs(10));
        cache.put(2, "b", Duration::from_secs(100));
        cache.put(3, "c", Duration::from_secs(50));
        assert_eq!((cache.get(&1), cache.get(&2), cache.get(&3)), (None, Some("b"), Some("c")));
        clock.advance(Duration::from_secs(60));
        cache.put(4, "d", Duration::from_secs(10));
        assert_eq!((cache.get(&2), cache.get(&3), cache.get(&4)), (Some("b"), None, Some("d")));
        assert_eq!(cache.len(), 2);
    }
}
