//! The prober: liveness, readiness and startup probes of running containers, as upstream's
//! prober manager runs them.
//!
//! ```text
//!  podsync ── add_pod / stop_liveness_and_startup / remove_pod ──► rk-prober (manager thread)
//!                                                                   │ owns the workers and the
//!       ◄── results(uid): PodProbes (status + compute actions) ─────┤ results cache
//!                                                                   │ spawns/stops
//!  rk-syncloop ◄── ProbeUpdate{uid} (a result changed) ─────────────┤
//!                                                                   ▼
//!            rk-probe-<container>-<kind> (one thread per container and probe type)
//!              every periodSeconds: read the pod's API status (status manager), then
//!              run the probe (CRI ExecSync, HTTP GET, TCP connect, gRPC health) and
//!              send the result to the manager once a threshold is crossed
//! ```
//!
//! One thread per worker, as upstream has one goroutine per worker: a probe blocks for up to
//! its timeout (an exec through the runtime, a connect), so a shared scheduler would need a
//! pool sized for the slowest probes anyway, and per-worker threads keep each probe's period
//! independent of the others. The threads are small (64 KiB stacks) and idle between probes.
//!
//! Results are keyed by container ID: a new instance of a container starts with the probe's
//! initial result (liveness Success, readiness Failure, startup Unknown), never its
//! predecessor's.

mod exec;
mod grpc;
pub(crate) mod http;
mod manager;
mod net;
mod run;
mod worker;

#[cfg(test)]
mod http_tests;
#[cfg(test)]
mod manager_tests;
#[cfg(test)]
mod worker_tests;

use std::collections::BTreeMap;
use std::fmt;

use crossbeam_channel::Sender;

use crate::api::core::{Pod, PodStatus as ApiPodStatus};
use crate::kuberuntime::{ContainerVerdict, PodStatus, ProbeResult};
use crate::status::ProbeResults;

pub use manager::{Config, Deps, spawn};
pub use run::{ProbeError, Prober, Runner};

/// Which probe of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProbeType {
    Liveness,
    Readiness,
    Startup,
}

impl fmt::Display for ProbeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProbeType::Liveness => "Liveness",
            ProbeType::Readiness => "Readiness",
            ProbeType::Startup => "Startup",
        })
    }
}

/// A probe result as the results cache keeps it (upstream's `results.Result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    /// Startup probes before their first verdict.
    Unknown,
}

/// A result changed in a way the sync loop acts on: sync the pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeUpdate {
    pub uid: String,
    pub container_id: String,
    pub kind: ProbeType,
    pub outcome: Outcome,
}

/// Where workers read a pod's current API status (the status manager).
pub trait StatusSource: Send + Sync {
    fn pod_status(&self, uid: &str) -> Option<ApiPodStatus>;
}

impl StatusSource for crate::status::Handle {
    fn pod_status(&self, uid: &str) -> Option<ApiPodStatus> {
        self.get(uid)
    }
}

/// The results of one container instance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContainerProbes {
    pub liveness: Option<Outcome>,
    pub readiness: Option<Outcome>,
    pub startup: Option<Outcome>,
}

impl ContainerProbes {
    fn slot(&mut self, kind: ProbeType) -> &mut Option<Outcome> {
        match kind {
            ProbeType::Liveness => &mut self.liveness,
            ProbeType::Readiness => &mut self.readiness,
            ProbeType::Startup => &mut self.startup,
        }
    }
}

/// The results of one pod, by runtime container ID (without the `containerd://` prefix).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodProbes {
    pub containers: BTreeMap<String, ContainerProbes>,
}

impl PodProbes {
    /// What status generation needs: readiness and startup of the newest instance of each
    /// container, by name.
    pub fn status_results(&self, runtime: &PodStatus) -> ProbeResults {
        let mut out = ProbeResults::default();
        // Newest first: the first status of each name is its current instance.
        for c in &runtime.containers {
            if out.readiness.contains_key(&c.name) || out.startup.contains_key(&c.name) {
                continue;
            }
            let Some(r) = self.containers.get(&c.id) else { continue };
            if let Some(o) = r.readiness {
                out.readiness.insert(c.name.clone(), o == Outcome::Success);
            }
            if let Some(o) = r.startup {
                out.startup.insert(c.name.clone(), o == Outcome::Success);
            }
        }
        out
    }

    /// Liveness and startup verdicts of a container for `compute_pod_actions`.
    pub fn verdict(&self, container_id: &str) -> ContainerVerdict {
        let r = self.containers.get(container_id).copied().unwrap_or_default();
        let conv = |o: Option<Outcome>| match o {
            Some(Outcome::Success) => ProbeResult::Success,
            Some(Outcome::Failure) => ProbeResult::Failure,
            Some(Outcome::Unknown) | None => ProbeResult::NotRun,
        };
        ContainerVerdict { liveness: conv(r.liveness), startup: conv(r.startup) }
    }
}

/// The runtime's container ID from an API `containerID` (`containerd://<id>`).
pub(crate) fn raw_container_id(api_id: &str) -> &str {
    api_id.split_once("://").map_or(api_id, |(_, id)| id)
}

/// Commands to the manager thread.
pub(crate) enum Command {
    AddPod(Box<Pod>),
    StopLivenessAndStartup(String),
    RemovePod(String),
    Results { uid: String, reply: Sender<PodProbes> },
    /// From a worker: the cache entry of a container changes.
    Set { key: worker::Key, container_id: String, outcome: Outcome },
    Remove { key: worker::Key, container_id: String },
    /// From a worker: it stopped.
    Done { key: worker::Key, generation: u64 },
    #[cfg(test)]
    WorkerCount(Sender<usize>),
}

/// The handle other managers hold.
#[derive(Clone)]
pub struct Handle {
    tx: Sender<Command>,
}

impl Handle {
    fn send(&self, c: Command) {
        if self.tx.send(c).is_err() {
            log::warn!("prober: the manager thread is gone");
        }
    }

    /// Starts the workers of the pod's probes that do not run yet (upstream's `AddPod`).
    pub fn add_pod(&self, pod: &Pod) {
        let has_probes = pod.spec.containers.iter().chain(pod.spec.init_containers.iter()).any(|c| {
            c.liveness_probe.is_some() || c.readiness_probe.is_some() || c.startup_probe.is_some()
        });
        if has_probes {
            self.send(Command::AddPod(Box::new(pod.clone())));
        }
    }

    /// The pod is terminating: its containers must not be restarted for failed probes.
    pub fn stop_liveness_and_startup(&self, uid: &str) {
        self.send(Command::StopLivenessAndStartup(uid.to_string()));
    }

    /// Stops every worker of the pod.
    pub fn remove_pod(&self, uid: &str) {
        self.send(Command::RemovePod(uid.to_string()));
    }

    /// The current results of the pod's containers. Also asks readiness workers whose
    /// container is not ready yet to probe at once (upstream's `UpdatePodStatus` trigger).
    pub fn results(&self, uid: &str) -> PodProbes {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.send(Command::Results { uid: uid.to_string(), reply });
        rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap_or_default()
    }

    #[cfg(test)]
    fn worker_count(&self) -> usize {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.send(Command::WorkerCount(reply));
        rx.recv().unwrap_or(usize::MAX)
    }
}
