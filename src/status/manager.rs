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
//!
//! ```text
//!  set ──► store (guarded) ──► dirty ──► [drain queue] ──► Syncer::sync ──► clean
//!                                 ▲                             │ Retry
//!                                 └───────── sync_period ◄──────┘
//! ```

use std::collections::BTreeMap;
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, bounded, never, select, tick, unbounded};

use crate::api::core::{ContainerStatus, Pod, PodSpec, PodStatus};

use super::StatusError;
use super::phase::{container_should_restart, is_terminal_phase};

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
}

/// Sends a pod's status to its destination (issue 4: PATCH `pods/<name>/status`). Runs on
/// the `rk-status` thread; the syncer logs its own failures.
pub trait Syncer: Send {
    fn sync(&mut self, pod: &Pod, status: &PodStatus) -> SyncOutcome;
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
    Snapshot {
        reply: Sender<Vec<(Pod, PodStatus)>>,
    },
    Ping {
        reply: Sender<()>,
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
            Command::Stop => return false,
        }
        true
    }

    fn set(&mut self, pod: Pod, mut status: PodStatus) {
        let uid = pod.metadata.uid().to_string();
        let Some(entry) = self.pods.get_mut(&uid) else {
            self.pods.insert(
                uid,
                Entry {
                    pod,
                    status,
                    dirty: true,
                },
            );
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
        entry.dirty |= entry.status != status;
        entry.status = status;
        entry.pod = pod;
    }

    fn sync_dirty(&mut self) {
        let Some(syncer) = self.syncer.as_mut() else {
            return;
        };
        for entry in self.pods.values_mut().filter(|e| e.dirty) {
            entry.dirty = syncer.sync(&entry.pod, &entry.status) == SyncOutcome::Retry;
        }
    }
}

/// A container whose old status is terminated and will not be restarted must not come back
/// as non-terminated; `Err` names the first that does.
fn check_transitions(old: &PodStatus, new: &PodStatus, spec: &PodSpec) -> Result<(), String> {
    // Pods that restart everything (policy Always, or a RestartAllContainers rule) may.
    let restart_all = spec
        .init_containers
        .iter()
        .chain(&spec.containers)
        .flat_map(|c| &c.restart_policy_rules)
        .any(|r| r.action == "RestartAllContainers");
    if matches!(spec.restart_policy.as_deref(), None | Some("Always")) || restart_all {
        return Ok(());
    }
    let groups = [
        (
            &old.container_statuses,
            &new.container_statuses,
            &spec.containers,
        ),
        (
            &old.init_container_statuses,
            &new.init_container_statuses,
            &spec.init_containers,
        ),
    ];
    for (old_list, new_list, specs) in groups {
        for o in old_list {
            let Some(t) = o.state.as_ref().and_then(|s| s.terminated.as_ref()) else {
                continue;
            };
            let spec_c = specs.iter().find(|c| c.name == o.name);
            if spec_c.is_some_and(|c| {
                c.is_restartable_init() || container_should_restart(c, spec, t.exit_code)
            }) {
                continue;
            }
            if new_list
                .iter()
                .any(|n: &ContainerStatus| n.name == o.name && !is_terminated(n))
            {
                return Err(o.name.clone());
            }
        }
    }
    Ok(())
}

fn is_terminated(s: &ContainerStatus) -> bool {
    s.state.as_ref().is_some_and(|st| st.terminated.is_some())
}

#[cfg(test)]
#[path = "manager_tests.rs"]
mod tests;
