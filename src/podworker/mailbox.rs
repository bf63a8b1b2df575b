//! What goes into a worker's mailbox. Updates queue up while the worker is busy; before each
//! step the worker folds in everything queued (the newest pod object wins, a kill or removal
//! is sticky, the shortest grace period wins), so a burst of updates costs one sync.

use std::sync::Arc;

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
