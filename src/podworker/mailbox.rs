//! A worker's mailbox: updates queue up while the worker is busy and are merged when it
//! looks, so a burst of updates costs one sync.

use std::sync::Arc;

use crossbeam_channel::Receiver;

use crate::api::core::Pod;

/// What the sync loop asks of a pod's worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateKind {
    /// Make the pod match its spec.
    Sync,
    /// Stop the pod (deletion, eviction, rejected); `grace` overrides its grace period.
    Kill { grace: Option<i64> },
    /// The pod is gone from the configuration: stop it if needed, clean up, and finish.
    Remove,
}

/// One update for one pod.
#[derive(Debug, Clone, PartialEq)]
pub struct Work {
    pub pod: Arc<Pod>,
    pub kind: UpdateKind,
}

impl Work {
    pub fn new(pod: Arc<Pod>, kind: UpdateKind) -> Work {
        Work { pod, kind }
    }

    pub fn uid(&self) -> &str {
        self.pod.metadata.uid.as_deref().unwrap_or_default()
    }
}

fn rank(k: &UpdateKind) -> u8 {
    match k {
        UpdateKind::Sync => 0,
        UpdateKind::Kill { .. } => 1,
        UpdateKind::Remove => 2,
    }
}

/// Merge a newer update into an older one: the newest pod object wins; a kill or removal is
/// sticky (a later plain sync never undoes it); the shortest grace period wins.
pub fn merge(older: Work, newer: Work) -> Work {
    let kind = match (&older.kind, &newer.kind) {
        (UpdateKind::Kill { grace: a }, UpdateKind::Kill { grace: b }) => UpdateKind::Kill {
            grace: match (a, b) {
                (Some(a), Some(b)) => Some((*a).min(*b)),
                (a, b) => a.or(*b),
            },
        },
        (o, n) if rank(o) > rank(n) => o.clone(),
        (_, n) => n.clone(),
    };
    Work { pod: newer.pod, kind }
}

/// Block for the next update, then fold in everything else already queued. `None` when the
/// sending side is gone.
pub fn next(rx: &Receiver<Work>) -> Option<Work> {
    let first = rx.recv().ok()?;
    Some(rx.try_iter().fold(first, merge))
}

/// Fold in whatever is queued, without blocking.
pub fn drain(rx: &Receiver<Work>, current: Work) -> Work {
    rx.try_iter().fold(current, merge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(uid: &str, generation: i64) -> Arc<Pod> {
        let mut p = Pod::default();
        p.metadata.uid = Some(uid.into());
        p.metadata.generation = Some(generation);
        Arc::new(p)
    }

    #[test]
    fn newest_pod_wins_and_kill_is_sticky() {
        let m = merge(Work::new(pod("u", 1), UpdateKind::Kill { grace: Some(30) }), Work::new(pod("u", 2), UpdateKind::Sync));
        assert_eq!(m.pod.metadata.generation, Some(2));
        assert_eq!(m.kind, UpdateKind::Kill { grace: Some(30) });
    }

    #[test]
    fn shortest_grace_and_remove_dominate() {
        let m = merge(Work::new(pod("u", 1), UpdateKind::Kill { grace: Some(30) }), Work::new(pod("u", 1), UpdateKind::Kill { grace: Some(2) }));
        assert_eq!(m.kind, UpdateKind::Kill { grace: Some(2) });
        let m = merge(Work::new(pod("u", 1), UpdateKind::Kill { grace: None }), Work::new(pod("u", 1), UpdateKind::Kill { grace: Some(5) }));
        assert_eq!(m.kind, UpdateKind::Kill { grace: Some(5) });
        let m = merge(Work::new(pod("u", 1), UpdateKind::Remove), Work::new(pod("u", 1), UpdateKind::Kill { grace: Some(1) }));
        assert_eq!(m.kind, UpdateKind::Remove);
    }

    #[test]
    fn next_coalesces_a_burst() {
        let (tx, rx) = crossbeam_channel::unbounded();
        for g in 1..=5 {
            tx.send(Work::new(pod("u", g), UpdateKind::Sync)).ok();
        }
        let w = next(&rx).map(|w| w.pod.metadata.generation);
        assert_eq!(w, Some(Some(5)));
        assert!(rx.is_empty());
    }
}
