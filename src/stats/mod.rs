//! Node, pod and container statistics: the Summary API (`/stats/summary`) and the resource
//! metrics (`/metrics/resource`, what metrics-server reads).
//!
//! The `rk-stats` thread samples every `interval` (10 s): the node from `/proc`, the root
//! cgroup and statvfs; pods from the runtime (CRI sandbox and container stats, image
//! filesystem) and their cgroups; see [`pods`] for which figure comes from where. Rates
//! (`usageNanoCores`) come from consecutive samples, as cAdvisor computes them. Requests
//! are answered from the latest round (sampled first when none is recent):
//!
//! ```text
//!   Handle::summary / resource_metrics / node ──Command──▶ rk-stats ──reply──▶ caller
//!                                                          │ every interval:
//!                                                          ▼ Sampler::sample → latest
//! ```
//!
//! Gaps: pod `volume` stats stay empty until the volume manager reports them; accelerators
//! and user-defined metrics are never reported.

mod convert;
pub mod fs;
pub(crate) mod host;
#[cfg(test)]
mod json_tests;
mod layout;
mod metrics;
mod node;
mod pods;
mod rates;
mod sampler;
pub mod summary;
mod system;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};

use crate::cri::{self, CriError};

pub use metrics::go_float;
pub use summary::{NodeStats, Summary};

/// How often the thread samples (cAdvisor's housekeeping interval).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
/// How long a caller waits for the thread (a sampling round in progress included).
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Config {
    pub node_name: String,
    /// `--root-dir`: its filesystem is the node's `fs`.
    pub root_dir: PathBuf,
    pub pod_logs_dir: PathBuf,
    /// The cgroup of all pods (`/kubepods`, `/kubepods.slice`); `None` without
    /// `cgroupsPerQOS` (then figures come from the runtime).
    pub pods_cgroup: Option<String>,
    /// Node allocatable memory: the `pods` container's available bytes are counted against
    /// it when its cgroup has no limit of its own.
    pub pods_memory_limit: Option<u64>,
    /// `kubeletCgroups`; empty: our own process's cgroup.
    pub kubelet_cgroups: String,
    /// `systemCgroups`: reported as `misc` when set.
    pub system_cgroups: String,
    /// The CRI endpoint; its server's cgroup is the `runtime` system container.
    pub runtime_endpoint: String,
    pub interval: Duration,
    /// Where `/proc` and `/sys` are (`/`; a fake tree in tests).
    pub host_root: PathBuf,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            node_name: String::new(),
            root_dir: PathBuf::from("/var/lib/kubelet"),
            pod_logs_dir: PathBuf::from("/var/log/pods"),
            pods_cgroup: Some("/kubepods".into()),
            pods_memory_limit: None,
            kubelet_cgroups: String::new(),
            system_cgroups: String::new(),
            runtime_endpoint: String::new(),
            interval: DEFAULT_INTERVAL,
            host_root: PathBuf::from("/"),
        }
    }
}

pub struct Deps {
    pub cri: cri::Client,
}

/// Why statistics are not available.
#[derive(Debug)]
pub enum StatsError {
    /// A runtime call a summary cannot do without failed.
    Cri { call: &'static str, error: CriError },
    /// The `rk-stats` thread is gone or did not answer in time.
    Unavailable,
}

impl fmt::Display for StatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatsError::Cri { call, error } => write!(f, "failed to list pod stats: CRI {call}: {error}"),
            StatsError::Unavailable => write!(f, "the stats thread is not answering"),
        }
    }
}

impl std::error::Error for StatsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StatsError::Cri { error, .. } => Some(error),
            StatsError::Unavailable => None,
        }
    }
}

enum Command {
    Summary(Sender<Result<Summary, String>>),
    Node(Sender<Option<NodeStats>>),
}

/// The stats provider: cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct Handle {
    tx: Sender<Command>,
}

/// Starts the `rk-stats` thread; it ends when every handle is dropped.
pub fn spawn(cfg: Config, deps: Deps) -> std::io::Result<Handle> {
    let (tx, rx) = unbounded();
    std::thread::Builder::new().name("rk-stats".into()).spawn(move || run(cfg, deps, &rx))?;
    Ok(Handle { tx })
}

fn run(cfg: Config, deps: Deps, rx: &Receiver<Command>) {
    let interval = cfg.interval;
    let mut sampler = sampler::Sampler::new(cfg, deps.cri);
    let mut latest = sampler.sample();
    let mut taken = Instant::now();
    loop {
        let wait = (taken + interval).saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(command) => {
                if taken.elapsed() >= interval {
                    latest = sampler.sample();
                    taken = Instant::now();
                }
                // A caller that gave up is no error of ours.
                match command {
                    Command::Summary(reply) => {
                        let _ = reply.send(latest.1.as_ref().map(Clone::clone).map_err(ToString::to_string));
                    }
                    Command::Node(reply) => {
                        let _ = reply.send(Some(latest.0.clone()));
                    }
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                latest = sampler.sample();
                taken = Instant::now();
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return,
        }
    }
}

impl Handle {
    fn ask<T>(&self, command: impl FnOnce(Sender<T>) -> Command) -> Option<T> {
        let (reply, answer) = bounded(1);
        self.tx.send(command(reply)).ok()?;
        answer.recv_timeout(REPLY_TIMEOUT).ok()
    }

    /// The latest Summary, typed (for eviction and other in-process readers).
    pub fn latest(&self) -> Result<Summary, String> {
        self.ask(Command::Summary).unwrap_or_else(|| Err(StatsError::Unavailable.to_string()))
    }

    /// `/stats/summary` as JSON; `only_cpu_and_memory` as the query parameter of that name.
    pub fn summary(&self, only_cpu_and_memory: bool) -> Result<serde_json::Value, String> {
        let summary = self.latest()?;
        let summary = if only_cpu_and_memory { summary.cpu_and_memory() } else { summary };
        serde_json::to_value(&summary).map_err(|e| e.to_string())
    }

    /// `/metrics/resource` in the Prometheus text format. A summary that failed is not an
    /// error here: upstream then serves `resource_scrape_error 1`.
    pub fn resource_metrics(&self) -> Result<String, String> {
        match self.latest() {
            Ok(s) => Ok(metrics::render(Some(&s.cpu_and_memory()))),
            Err(e) => {
                log::error!("stats: cannot get the summary for /metrics/resource: {e}");
                Ok(metrics::render(None))
            }
        }
    }

    /// The node's figures of the latest round.
    pub fn node(&self) -> Option<NodeStats> {
        self.ask(Command::Node).flatten()
    }

    /// Memory the node has left (`MemTotal − workingSet`), for eviction and node conditions.
    pub fn node_memory_available(&self) -> Option<u64> {
        self.node()?.memory?.available_bytes
    }

    /// Free bytes of the root dir's filesystem (nodefs).
    pub fn node_fs_available(&self) -> Option<u64> {
        self.node()?.fs?.available_bytes
    }
}

/// The kubelet API's `/stats/summary` and `/metrics/resource` read from this handle.
impl crate::server::stats_api::StatsProvider for Handle {
    fn summary(&self, only_cpu_and_memory: bool) -> Result<serde_json::Value, String> {
        Handle::summary(self, only_cpu_and_memory)
    }

    fn resource_metrics(&self) -> Result<String, String> {
        Handle::resource_metrics(self)
    }
}
