//! A bounded least-recently-used map with string keys: the correlator's memory, so a node
//! that sees many distinct events keeps at most `capacity` of each record (client-go keeps
//! 4096).
//!
//! Each entry carries the tick of its last use; a second map orders the ticks, so finding the
//! oldest entry is a `BTreeMap` lookup, not a scan.

use std::collections::{BTreeMap, HashMap};

#[derive(Debug)]
pub struct Lru<V> {
    entries: HashMap<String, (u64, V)>,
    by_use: BTreeMap<u64, String>,
    tick: u64,
    capacity: usize,
}

impl<V> Lru<V> {
    pub fn new(capacity: usize) -> Self {
        Lru { entries: HashMap::new(), by_use: BTreeMap::new(), tick: 0, capacity: capacity.max(1) }
    }

    /// The value under `key`, marked as just used.
    pub fn get(&mut self, key: &str) -> Option<&V> {
        let tick = self.next_tick();
        let (used, value) = self.entries.get_mut(key)?;
        self.by_use.remove(used);
        *used = tick;
        self.by_use.insert(tick, key.to_string());
        Some(value)
    }

    /// Stores `value` under `key` as just used, evicting the least recently used entry when full.
    pub fn insert(&mut self, key: &str, value: V) {
        let tick = self.next_tick();
        if let Some((old, _)) = self.entries.insert(key.to_string(), (tick, value)) {
            self.by_use.remove(&old);
        }
        self.by_use.insert(tick, key.to_string());
        while self.entries.len() > self.capacity {
            let Some((_, oldest)) = self.by_use.pop_first() else { break };
            self.entries.remove(&oldest);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let mut lru = Lru::new(2);
        lru.insert("a", 1);
        lru.insert("b", 2);
        assert_eq!(lru.get("a"), Some(&1)); // a is now newer than b
        lru.insert("c", 3);
        assert_eq!(lru.len(), 2);
        assert_eq!(lru.get("b"), None);
        assert_eq!(lru.get("a"), Some(&1));
        assert_eq!(lru.get("c"), Some(&3));
        lru.insert("a", 10); // replacing does not grow
        assert_eq!(lru.len(), 2);
        assert_eq!(lru.get("a"), Some(&10));
    }
}
