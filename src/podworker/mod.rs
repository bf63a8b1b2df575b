//! Pod workers: one thread per pod UID, driving that pod towards its desired state.
//!
//! The sync loop owns a [`PodWorkers`] and hands it every update for a pod; the pod's worker
//! thread picks the newest one from its mailbox and acts. A worker's life:
//!
//! ```text
//!            Sync                     Kill / terminal phase             Remove
//!   ┌──────────────┐          ┌─────────────────────────────┐   ┌──────────────────────┐
//!   │              ▼          │                             ▼   │                      ▼
//!   │        ┌──────────┐─────┘   ┌─────────────┐  stopped  ┌────────────┐  cleaned  ┌──────────┐
//!   └────────│ Syncing  │────────►│ Terminating │──────────►│ Terminated │──────────►│ Finished │
//!            └──────────┘  Kill   └─────────────┘           └────────────┘           └──────────┘
//!                 │ Remove                 ▲ Remove (stop first, then clean up)        (thread exits)
//!                 └────────────────────────┘
//! ```
//!
//! - **Syncing**: wait for a runtime status newer than the last action, then
//!   [`PodSyncer::sync_pod`]; report when to sync again.
//! - **Terminating**: stop every container and the sandbox, honouring the grace period
//!   ([`PodSyncer::terminate_pod`]); retried until it succeeds.
//! - **Terminated**: nothing runs; the pod stays known (its status is final) until it is removed
//!   from the configuration.
//! - **Finished**: after [`PodSyncer::cleanup_pod`] removed containers, sandbox, volumes and
//!   directories, the thread reports and exits.
//!
//! Failure domain: a panic inside the syncer is caught at the worker boundary, logged, and the
//! same step is retried after [`PANIC_RETRY`]; the node keeps running.

mod mailbox;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use crate::api::core::Pod;
use crate::kuberuntime::PodStatus;

pub use mailbox::{UpdateKind, Work};

/// How long a worker waits before retrying a step whose syncer panicked.
pub const PANIC_RETRY: Duration = Duration::from_secs(10);

/// What one sync of a running pod concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// The pod is as desired for now; sync again after this long (or sooner on an event).
    Requeue(Duration),
    /// The pod reached a terminal phase (Succeeded/Failed): stop it and keep it stopped.
    Terminal,
}

/// The pod-level work a worker delegates: the real implementation drives CRI, volumes and
/// status; tests use fakes. `State` is per-pod memory owned by the worker (reason cache,
/// restart backoff, last status), created with `Default` when the worker starts.
pub trait PodSyncer: Send + Sync + 'static {
    type State: Default + Send + 'static;

    /// The runtime's view of the pod, read after `since` (waits for PLEG if needed; a `since`
    /// of `None` takes whatever is cached). `None` when no fresh view could be had: the
    /// worker then decides nothing and tries again shortly, so it never acts on stale facts.
    fn runtime_status(&self, pod: &Pod, since: Option<Instant>) -> Option<PodStatus>;

    /// Bring a running pod one step towards its spec.
    fn sync_pod(&self, state: &mut Self::State, pod: &Pod, status: &PodStatus, cancel: &Cancel) -> SyncOutcome;

    /// Stop all containers and the sandbox; `grace` overrides the pod's own grace period.
    fn terminate_pod(&self, state: &mut Self::State, pod: &Pod, status: &PodStatus, grace: Option<i64>) -> Result<(), String>;

    /// The pod is gone from the configuration: remove what is left of it on the node.
    fn cleanup_pod(&self, state: &mut Self::State, pod: &Pod, status: &PodStatus) -> Result<(), String>;
}

/// What workers tell the sync loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A sync finished; sync the pod again after `after` unless an event comes first.
    Synced { uid: String, after: Duration },
    /// All of the pod's containers are stopped (terminal phase, kill or deletion).
    Terminated { uid: String },
    /// The worker cleaned up and exited: the pod can be forgotten.
    Finished { uid: String },
}

/// Set when a kill or removal arrives, so a long sync stops between steps.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
    fn set(&self) {
        self.0.store(true, Ordering::Release)
    }
}

/// Where a worker stands, as the sync loop last heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Syncing,
    Terminating,
    Terminated,
}

struct Entry {
    tx: Sender<Work>,
    cancel: Cancel,
    phase: Phase,
}

/// The sync loop's handle on all pod workers.
pub struct PodWorkers<S: PodSyncer> {
    syncer: Arc<S>,
    reports: Sender<Report>,
    workers: HashMap<String, Entry>,
}

impl<S: PodSyncer> PodWorkers<S> {
    pub fn new(syncer: Arc<S>, reports: Sender<Report>) -> Self {
        PodWorkers { syncer, reports, workers: HashMap::new() }
    }

    /// Hand an update to the pod's worker, starting one if the pod has none.
    pub fn update(&mut self, work: Work) {
        let uid = work.uid().to_string();
        if matches!(work.kind, UpdateKind::Kill { .. } | UpdateKind::Remove)
            && let Some(e) = self.workers.get_mut(&uid) {
                e.cancel.set();
                if e.phase == Phase::Syncing {
                    e.phase = Phase::Terminating;
                }
            }
        if let Some(e) = self.workers.get(&uid)
            && e.tx.send(work.clone()).is_ok() {
                return;
            }
            // The worker is gone (it finished): a fresh update starts a new one below.
        let phase = match work.kind {
            UpdateKind::Sync => Phase::Syncing,
            _ => Phase::Terminating,
        };
        let cancel = Cancel::default();
        if phase != Phase::Syncing {
            cancel.set();
        }
        match worker::spawn(self.syncer.clone(), work, cancel.clone(), self.reports.clone()) {
            Ok(tx) => {
                self.workers.insert(uid, Entry { tx, cancel, phase });
            }
            Err(e) => log::error!("cannot start a worker for pod {uid}: {e}"),
        }
    }

    /// Record what a worker reported; returns true when the worker is finished and forgotten.
    pub fn observe(&mut self, report: &Report) -> bool {
        match report {
            Report::Synced { .. } => false,
            Report::Terminated { uid } => {
                if let Some(e) = self.workers.get_mut(uid) {
                    e.phase = Phase::Terminated;
                }
                false
            }
            Report::Finished { uid } => self.workers.remove(uid).is_some(),
        }
    }

    pub fn phase(&self, uid: &str) -> Option<Phase> {
        self.workers.get(uid).map(|e| e.phase)
    }

    /// UIDs of every pod that has a worker.
    pub fn known(&self) -> impl Iterator<Item = &str> {
        self.workers.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.workers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }
}

#[cfg(test)]
mod tests;
