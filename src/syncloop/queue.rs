//! When each pod is next due for a sync (periodic resync, or a backoff that expires).

use std::collections::HashMap;
use std::time::Instant;

#[derive(Default)]
pub struct WorkQueue {
    due: HashMap<String, Instant>,
}

impl WorkQueue {
    /// Schedule `uid` at `at` (a later schedule replaces an earlier one: the worker's own
    /// report of when it next needs attention is the latest word).
    pub fn schedule(&mut self, uid: &str, at: Instant) {
        self.due.insert(uid.to_string(), at);
    }

    pub fn forget(&mut self, uid: &str) {
        self.due.remove(uid);
    }

    /// Take every UID due at `now`.
    pub fn take_due(&mut self, now: Instant) -> Vec<String> {
        let ready: Vec<String> = self.due.iter().filter(|(_, t)| **t <= now).map(|(u, _)| u.clone()).collect();
        for u in &ready {
            self.due.remove(u);
        }
        ready
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn takes_only_what_is_due() {
        let now = Instant::now();
        let mut q = WorkQueue::default();
        q.schedule("a", now);
        q.schedule("b", now + Duration::from_secs(10));
        q.schedule("c", now + Duration::from_secs(10));
        q.schedule("c", now);
        q.forget("a");
        assert_eq!(q.take_due(now), vec!["c".to_string()]);
        assert!(q.take_due(now).is_empty());
        assert_eq!(q.take_due(now + Duration::from_secs(11)), vec!["b".to_string()]);
    }
}
