//! The status manager: a thread (`rk-status`) that keeps the newest API status of every pod,
//! and a [`Handle`] to it.
//!
//! Pod workers [`Handle::set`] statuses; the read-only server takes a [`Handle::snapshot`];
//! workers read the previous status back with [`Handle::get`] to feed `generate`. Before
//! storing, the manager enforces upstream's rules: a terminal phase (Succeeded/Failed) never
//! goes back, and a container terminated for good never shows as running again (the update is
//! refused, as upstream's `checkContainerStateTransition`).
//!
//! Seam for API mode (issue 4): [`Deps::syncer`]. Without one (standalone) the manager only
//! stores. With one, every changed status is marked dirty and, once the queued commands are
//! drained (many `set`s coalesce into one pass), handed to [`Syncer::sync`]; statuses the
//! syncer could not write are retried on the next pass or every [`Config::sync_period`].
//! A pod with a `deletionTimestamp` is offered on every `set` (as upstream forces it), so
//! that its deletion can go ahead.
//!
//! ```text
//!  set ──► store (guarded) ──► dirty ──► [drain queue] ──► Syncer::sync ──► clean
//!  mark_terminated ──────────────┘ ▲                             │ Retry    │ Forget
//!  reconcile: API copy differs ────┤ (on the tick)               │          ▼
//!                                  └───────── sync_period ◄──────┘       dropped
//! ```
//!
//! [`Handle::mark_terminated`] is upstream's `TerminatePod`: the pod's worker stopped every
//! container, so its status is made final ([`terminated_status`]) and flagged *finished*;
//! only then may the syncer report a terminal phase and delete the pod from the API.
//! [`Handle::reconcile`] gives the manager the API server's copy of a pod (the sync loop
//! calls it for every API pod it is given, mirror pods included); on the next tick a status
//! that differs from ours in what the kubelet owns is written again (upstream's
//! `needsReconcile`).

use std::collections::BTreeMap;
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded, never, select, tick, unbounded};

use crate::api::core::{Pod, PodStatus};
use crate::source::CONFIG_MIRROR_ANNOTATION;

use super::StatusError;
use super::apimerge::equal_by_kubelet;
use super::phase::is_terminal_phase;
use super::terminate::terminated_status;
use super::transitions::check_transitions;

/// How the manager is run.
#[derive(Debug, Clone)]
pub struct Config {
    /// How often unsynced statuses are retried (upstream's status manager: 10 s).
    pub sync_period: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            sync_period: Duration::from_secs(10),
        }
    }
}

/// What the manager talks to.
#[derive(Default)]
pub struct Deps {
    /// Writes statuses somewhere (API mode); `None` in standalone mode.
    pub syncer: Option<Box<dyn Syncer>>,
}

/// What a [`Syncer`] made of one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOutcome {
    /// Written (or nothing to write); not offered again until it changes.
    Synced,
    /// Not written; offered again on the next pass.
    Retry,
    /// The pod is gone from the destination for good (deleted there, or replaced by another
    /// pod of the same name): drop the stored status.
    Forget,
}

/// Sends a pod's status to its destination (issue 4: PATCH `pods/<name>/status`). Runs on
/// the `rk-status` thread; the syncer logs its own failures. `finished`: the pod was
/// [`Handle::mark_terminated`] (no container can run any more).
pub trait Syncer: Send {
    fn sync(&mut self, pod: &Pod, status: &PodStatus, finished: bool) -> SyncOutcome;
}

enum Command {
    Set {
        pod: Box<Pod>,
        status: Box<PodStatus>,
    },
    Get {
        uid: String,
        reply: Sender<Option<PodStatus>>,
    },
    Remove {
        uid: String,
    },
    MarkTerminated {
        pod: Box<Pod>,
    },
    Reconcile {
        pod: Box<Pod>,
    },
    Snapshot {
        reply: Sender<Vec<(Pod, PodStatus)>>,
    },
    Ping {
        reply: Sender<()>,
    },
    SetContainerReadiness {
        uid: String,
        container_id: String,
        ready: bool,
    },
    Stop,
}

/// The way to the `rk-status` thread; cheap to clone.
#[derive(Clone)]
pub struct Handle {
    tx: Sender<Command>,
}

/// Starts the `rk-status` thread.
pub fn spawn(cfg: Config, deps: Deps) -> Result<Handle, StatusError> {
    let (tx, rx) = unbounded();
    let mut manager = Manager {
        pods: BTreeMap::new(),
        syncer: deps.syncer,
    };
    thread::Builder::new()
        .name("rk-status".into())
        .spawn(move || manager.run(&rx, cfg.sync_period))
        .map_err(StatusError::Spawn)?;
    Ok(Handle { tx })
}

impl Handle {
    /// Stores `status` as the newest status of `pod` (by UID).
    pub fn set(&self, pod: &Pod, status: PodStatus) {
        let cmd = Command::Set {
            pod: Box::new(pod.clone()),
            status: Box::new(status),
        };
        if self.tx.send(cmd).is_err() {
            log::error!(
                "status of pod {} dropped: status manager is not running",
                pod.full_name()
            );
        }
    }

    /// The newest stored status of the pod with `uid`.
    pub fn get(&self, uid: &str) -> Option<PodStatus> {
        self.ask("get", |reply| Command::Get {
            uid: uid.to_string(),
            reply,
        })
        .flatten()
    }

    /// Forgets the pod with `uid`.
    pub fn remove(&self, uid: &str) {
        if self
            .tx
            .send(Command::Remove {
                uid: uid.to_string(),
            })
            .is_err()
        {
            log::error!("removing status of pod {uid}: status manager is not running");
        }
    }

    /// The pod's worker has stopped all its containers (upstream's `TerminatePod`): the
    /// status becomes final and, in API mode, a pod being deleted is deleted from the API
    /// once that status is written. `pod` is the newest copy (with its `deletionTimestamp`);
    /// its own status is the starting point if none was ever set.
    pub fn mark_terminated(&self, pod: &Pod) {
        let cmd = Command::MarkTerminated {
            pod: Box::new(pod.clone()),
        };
        if self.tx.send(cmd).is_err() {
            log::error!(
                "terminating status of pod {}: status manager is not running",
                pod.full_name()
            );
        }
    }

    /// The API server's copy of a pod (or of a static pod's mirror pod), to write our status
    /// again on the next tick if the API's differs from it in what the kubelet owns.
    pub fn reconcile(&self, api_pod: &Pod) {
        let _ = self.tx.send(Command::Reconcile {
            pod: Box::new(api_pod.clone()),
        });
    }

    /// A readiness probe result changed: set the container's `ready` and the pod's Ready
    /// conditions now, without waiting for a sync (upstream's `SetContainerReadiness`).
    /// `container_id` is the runtime's ID, without the `containerd://` prefix.
    pub fn set_container_readiness(&self, uid: &str, container_id: &str, ready: bool) {
        let _ = self.tx.send(Command::SetContainerReadiness {
            uid: uid.to_string(),
            container_id: container_id.to_string(),
            ready,
        });
    }

    /// Every stored pod with its status, ordered by namespace and name.
    pub fn snapshot(&self) -> Vec<(Pod, PodStatus)> {
        self.ask("snapshot", |reply| Command::Snapshot { reply })
            .unwrap_or_default()
    }

    /// Every stored pod with its status merged in (the read-only `/pods` list).
    pub fn pods(&self) -> Vec<Pod> {
        let merge = |(mut pod, status): (Pod, PodStatus)| {
            pod.status = status;
            pod
        };
        self.snapshot().into_iter().map(merge).collect()
    }

    /// Answers once the thread has handled everything sent before (for `/healthz`).
    pub fn ping(&self) -> Result<(), StatusError> {
        self.ask("ping", |reply| Command::Ping { reply })
            .ok_or(StatusError::Stopped { request: "ping" })
    }

    /// Ends the thread after it has handled what was sent before.
    pub fn stop(&self) {
        let _ = self.tx.send(Command::Stop);
    }

    fn ask<T>(&self, what: &'static str, make: impl FnOnce(Sender<T>) -> Command) -> Option<T> {
        let (reply, answer) = bounded(1);
        let answered = self
            .tx
            .send(make(reply))
            .ok()
            .and_then(|()| answer.recv().ok());
        if answered.is_none() {
            log::error!("{}", StatusError::Stopped { request: what });
        }
        answered
    }
}

struct Entry {
    pod: Pod,
    status: PodStatus,
    dirty: bool,
    /// Marked terminated: stays so (upstream's `podIsFinished`).
    finished: bool,
    /// The API's status, from [`Handle::reconcile`], until the next write.
    api_status: Option<PodStatus>,
}

struct Manager {
    pods: BTreeMap<String, Entry>,
    syncer: Option<Box<dyn Syncer>>,
}

impl Manager {
    fn run(&mut self, rx: &Receiver<Command>, sync_period: Duration) {
        let ticker = if self.syncer.is_some() {
            tick(sync_period)
        } else {
            never()
        };
        loop {
            let first = select! {
                recv(rx) -> cmd => match cmd {
                    Ok(cmd) => cmd,
                    Err(_) => return, // every handle dropped
                },
                recv(ticker) -> _ => {
                    self.mark_unreconciled();
                    self.sync_dirty();
                    continue;
                }
            };
            // Handle everything already queued before one sync pass: coalesces bursts.
            for cmd in std::iter::once(first).chain(rx.try_iter()) {
                if !self.handle(cmd) {
                    return;
                }
            }
            self.sync_dirty();
        }
    }

    /// False when the thread should end.
    fn handle(&mut self, cmd: Command) -> bool {
        match cmd {
            Command::Set { pod, status } => self.set(*pod, *status),
            Command::Get { uid, reply } => {
                let _ = reply.send(self.pods.get(&uid).map(|e| e.status.clone()));
            }
            Command::Remove { uid } => {
                self.pods.remove(&uid);
            }
            Command::MarkTerminated { pod } => self.mark_terminated(*pod),
            Command::Reconcile { pod } => self.reconcile(*pod),
            Command::Snapshot { reply } => {
                let mut all: Vec<(Pod, PodStatus)> = self
                    .pods
                    .values()
                    .map(|e| (e.pod.clone(), e.status.clone()))
                    .collect();
                all.sort_by(|(a, _), (b, _)| {
                    (a.metadata.namespace(), a.metadata.name())
                        .cmp(&(b.metadata.namespace(), b.metadata.name()))
                });
                let _ = reply.send(all);
            }
            Command::Ping { reply } => {
                let _ = reply.send(());
            }
            Command::SetContainerReadiness { uid, container_id, ready } => {
                let Some(e) = self.pods.get(&uid) else { return true };
                let mut status = e.status.clone();
                let now = crate::api::time::Time::now();
                if super::conditions::set_container_readiness(&e.pod, &mut status, &container_id, ready, now) {
                    let pod = e.pod.clone();
                    self.set(pod, status);
                }
            }
            Command::Stop => return false,
        }
        true
    }

    fn set(&mut self, pod: Pod, mut status: PodStatus) {
        let uid = pod.metadata.uid().to_string();
        let Some(entry) = self.pods.get_mut(&uid) else {
            let entry = Entry {
                pod,
                status,
                dirty: true,
                finished: false,
                api_status: None,
            };
            self.pods.insert(uid, entry);
            return;
        };
        let old = &entry.status;
        if is_terminal_phase(old.phase.as_deref()) && !is_terminal_phase(status.phase.as_deref()) {
            log::warn!(
                "pod {}: keeping terminal phase {:?} over {:?}",
                pod.full_name(),
                old.phase,
                status.phase
            );
            status.phase = old.phase.clone();
            status.reason = old.reason.clone();
            status.message = old.message.clone();
        }
        if let Err(name) = check_transitions(old, &status, &pod.spec) {
            log::error!(
                "status update of pod {} refused: terminated container {name} attempted illegal transition to non-terminated state",
                pod.full_name()
            );
            entry.pod = pod;
            return;
        }
        entry.dirty |= entry.status != status || pod.metadata.deletion_timestamp.is_some();
        entry.status = status;
        entry.pod = pod;
    }

    fn mark_terminated(&mut self, pod: Pod) {
        let uid = pod.metadata.uid().to_string();
        let current = self
            .pods
            .get(&uid)
            .map_or_else(|| pod.status.clone(), |e| e.status.clone());
        self.set(pod.clone(), terminated_status(&pod, current));
        if let Some(entry) = self.pods.get_mut(&uid) {
            entry.finished = true;
            entry.dirty = true;
        }
    }

    /// Keeps the API's copy of the pod's status; a mirror pod's is our static pod's.
    fn reconcile(&mut self, api_pod: Pod) {
        let uid = api_pod
            .metadata
            .annotation(CONFIG_MIRROR_ANNOTATION)
            .unwrap_or_else(|| api_pod.metadata.uid())
            .to_string();
        if let Some(entry) = self.pods.get_mut(&uid) {
            entry.api_status = Some(api_pod.status);
        }
    }

    /// Marks dirty the statuses the API shows differently (upstream's `needsReconcile`).
    fn mark_unreconciled(&mut self) {
        for entry in self.pods.values_mut().filter(|e| !e.dirty) {
            if let Some(api) = entry.api_status.take()
                && !equal_by_kubelet(&api, &entry.status)
            {
                log::debug!(
                    "pod {}: status differs on the API server, writing it again",
                    entry.pod.full_name()
                );
                entry.dirty = true;
            }
        }
    }

    fn sync_dirty(&mut self) {
        let Some(syncer) = self.syncer.as_mut() else {
            return;
        };
        let mut forget = Vec::new();
        for (uid, entry) in self.pods.iter_mut().filter(|(_, e)| e.dirty) {
            match syncer.sync(&entry.pod, &entry.status, entry.finished) {
                SyncOutcome::Synced => {
                    entry.dirty = false;
                    entry.api_status = None;
                }
                SyncOutcome::Retry => {}
                SyncOutcome::Forget => forget.push(uid.clone()),
            }
        }
        for uid in forget {
            self.pods.remove(&uid);
        }
    }
}

#[cfg(test)]
#[path = "manager_tests.rs"]
mod tests;
