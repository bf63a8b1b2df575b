//! Reference counting: which registered pods reference which objects (upstream's
//! `cacheBasedManager` registration plus the stores' reference counts).
//!
//! A pod registers the set of names it references; registering it again (an update) adds
//! the new names before it releases the dropped ones, so an object both versions use is
//! never released in between. An object's count is the number of registered pods naming it;
//! when it reaches zero the object is released at once, as upstream.

use std::collections::{BTreeSet, HashMap};

/// An object's namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub namespace: String,
    pub name: String,
}

impl Key {
    pub fn new(namespace: &str, name: &str) -> Self {
        Key { namespace: namespace.to_string(), name: name.to_string() }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// What a registration changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Change {
    /// Objects this pod references now and did not before (upstream's `AddReference`).
    pub referenced: Vec<Key>,
    /// Of those, the ones no other pod referenced: start caching them.
    pub first: Vec<Key>,
    /// Objects no pod references any more: drop them.
    pub released: Vec<Key>,
}

#[derive(Debug, Default)]
pub struct Registry {
    /// pod key → (namespace, referenced names)
    pods: HashMap<String, (String, BTreeSet<String>)>,
    counts: HashMap<Key, usize>,
}

impl Registry {
    /// Registers (or re-registers) the pod `pod` of `namespace` referencing `names`.
    pub fn register(&mut self, pod: &str, namespace: &str, names: BTreeSet<String>) -> Change {
        let previous = self.pods.remove(pod);
        let mut change = Change::default();
        let old_names = match &previous {
            // A UID never moves between namespaces; if a key did, release all of the old ones.
            Some((ns, old)) if ns == namespace => old.clone(),
            _ => BTreeSet::new(),
        };
        for name in names.difference(&old_names) {
            let key = Key::new(namespace, name);
            let count = self.counts.entry(key.clone()).or_insert(0);
            *count += 1;
            if *count == 1 {
                change.first.push(key.clone());
            }
            change.referenced.push(key);
        }
        if let Some((old_ns, old)) = previous {
            let kept = if old_ns == namespace { names.clone() } else { BTreeSet::new() };
            for name in old.difference(&kept) {
                self.release(Key::new(&old_ns, name), &mut change.released);
            }
        }
        self.pods.insert(pod.to_string(), (namespace.to_string(), names));
        change
    }

    /// Forgets the pod; returns the objects no pod references any more.
    pub fn unregister(&mut self, pod: &str) -> Vec<Key> {
        let mut released = Vec::new();
        if let Some((ns, names)) = self.pods.remove(pod) {
            for name in names {
                self.release(Key::new(&ns, &name), &mut released);
            }
        }
        released
    }

    pub fn is_referenced(&self, key: &Key) -> bool {
        self.counts.contains_key(key)
    }

    /// How many pods reference `key`.
    pub fn count(&self, key: &Key) -> usize {
        self.counts.get(key).copied().unwrap_or(0)
    }

    fn release(&mut self, key: Key, released: &mut Vec<Key>) {
        if let Some(count) = self.counts.get_mut(&key) {
            *count -= 1;
            if *count == 0 {
                self.counts.remove(&key);
                released.push(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> BTreeSet<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    fn keys(n: &[&str]) -> Vec<Key> {
        n.iter().map(|s| Key::new("ns", s)).collect()
    }

    #[test]
    fn shared_objects_live_until_the_last_pod_goes() {
        let mut r = Registry::default();
        let c = r.register("p1", "ns", names(&["a", "b"]));
        assert_eq!((c.first, c.referenced), (keys(&["a", "b"]), keys(&["a", "b"])));
        let c = r.register("p2", "ns", names(&["b", "c"]));
        assert_eq!((c.first, c.referenced), (keys(&["c"]), keys(&["b", "c"])));
        assert_eq!(r.count(&Key::new("ns", "b")), 2);
        assert_eq!(r.unregister("p1"), keys(&["a"]), "b is still used by p2");
        assert!(r.is_referenced(&Key::new("ns", "b")));
        assert_eq!(r.unregister("p2"), keys(&["b", "c"]));
        assert_eq!(r.unregister("p2"), Vec::<Key>::new(), "unregistering twice is harmless");
        assert!(!r.is_referenced(&Key::new("ns", "b")));
    }

    #[test]
    fn an_update_adds_before_it_releases() {
        let mut r = Registry::default();
        r.register("p1", "ns", names(&["a", "b"]));
        let c = r.register("p1", "ns", names(&["b", "c"]));
        assert_eq!(c, Change { referenced: keys(&["c"]), first: keys(&["c"]), released: keys(&["a"]) });
        assert_eq!(r.count(&Key::new("ns", "b")), 1, "b was neither released nor counted twice");
        let same = r.register("p1", "ns", names(&["b", "c"]));
        assert_eq!(same, Change::default());
    }

    #[test]
    fn the_same_name_in_two_namespaces_is_two_objects() {
        let mut r = Registry::default();
        r.register("p1", "ns", names(&["a"]));
        let c = r.register("p2", "other", names(&["a"]));
        assert_eq!(c.first, vec![Key::new("other", "a")]);
        assert_eq!(r.unregister("p1"), keys(&["a"]));
    }
}
