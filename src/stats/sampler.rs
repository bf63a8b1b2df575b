//! One sampling round: the node from `/proc`, cgroups and statvfs; the system containers;
//! the pods from the runtime (sandboxes, containers, their stats, the image filesystem)
//! and their cgroups. The result is a whole Summary, kept until the next round.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::summary::Time;
use crate::cgroups::Cgroups;
use crate::cri::{self, CriError};

use super::convert::{time_from_nanos, unix_nanos};
use super::fs::{self, FsInfo};
use super::host::Proc;
use super::layout::{self, PodCgroups};
use super::node::{NodeSources, node_stats};
use super::pods::{self, PodEnv, PodInput};
use super::rates::Rates;
use super::summary::{
    FsStats, NodeStats, PodStats, RuntimeStats, SYSTEM_CONTAINER_KUBELET, SYSTEM_CONTAINER_MISC,
    SYSTEM_CONTAINER_PODS, SYSTEM_CONTAINER_RUNTIME, Summary,
};
use super::system::{SystemContainer, runtime_pid};
use super::{Config, StatsError};

pub struct Sampler {
    cfg: Config,
    cri: cri::Client,
    cgroups: Option<Cgroups>,
    proc: Proc,
    rates: Rates,
    /// The runtime answered ListPodSandboxStats with Unimplemented: use ListContainerStats.
    no_sandbox_stats: bool,
    runtime_pid: Option<u32>,
    started: Time,
}

/// The runtime's stats of one round, by sandbox and by container ID.
#[derive(Default)]
struct RuntimeFigures {
    sandboxes: HashMap<String, cri::PodSandboxStats>,
    containers: HashMap<String, cri::ContainerStats>,
}

/// The deadline of the runtime calls of a round: a stuck runtime delays the figures, it
/// does not hold the thread for the full runtime request timeout.
const CRI_TIMEOUT: Duration = Duration::from_secs(30);

fn call<T>(call: &'static str, r: Result<T, CriError>) -> Result<T, StatsError> {
    r.map_err(|error| StatsError::Cri { call, error })
}

impl Sampler {
    pub fn new(cfg: Config, cri: cri::Client) -> Sampler {
        let cgroups = match Cgroups::detect_at(&cfg.host_root) {
            Ok(c) => Some(c),
            Err(e) => {
                log::warn!("stats: {e}; container figures come from the runtime only");
                None
            }
        };
        let proc = Proc::new(&cfg.host_root.join("proc"));
        Sampler {
            cfg,
            cri: cri.with_call_timeout(Some(CRI_TIMEOUT)),
            cgroups,
            proc,
            rates: Rates::default(),
            no_sandbox_stats: false,
            runtime_pid: None,
            started: Time::now(),
        }
    }

    /// A whole round. The node part is always there; the summary fails when the runtime
    /// cannot list pods (as upstream's does).
    pub fn sample(&mut self) -> (NodeStats, Result<Summary, StatsError>) {
        let at_ns = unix_nanos(SystemTime::now());
        let src =
            NodeSources { proc: &self.proc, cgroups: self.cgroups.as_ref(), root_dir: &self.cfg.root_dir };
        let mut node = node_stats(&self.cfg.node_name, &src, at_ns, &mut self.rates);
        node.system_containers = self.system_containers(at_ns);
        let pods = self.pods(at_ns).map(|(pods, image_fs)| {
            node.runtime = Some(RuntimeStats { image_fs: image_fs.clone(), container_fs: image_fs });
            pods
        });
        self.rates.end_round();
        let summary = pods.map(|pods| Summary { node: node.clone(), pods });
        (node, summary)
    }

    fn system_containers(&mut self, at_ns: i64) -> Vec<super::summary::ContainerStats> {
        let Some(cg) = self.cgroups.as_ref() else { return Vec::new() };
        let mut wanted = Vec::new();
        let kubelet = match self.cfg.kubelet_cgroups.as_str() {
            "" => SystemContainer::of_process(cg, SYSTEM_CONTAINER_KUBELET, "self", Some(self.started)),
            name => Some(SystemContainer {
                start_time: Some(self.started),
                ..SystemContainer::of_cgroup(SYSTEM_CONTAINER_KUBELET, name)
            }),
        };
        wanted.extend(kubelet);
        if self.runtime_pid.is_none_or(|pid| !self.proc_has(pid)) {
            self.runtime_pid = runtime_pid(&self.cfg.runtime_endpoint);
        }
        if let Some(pid) = self.runtime_pid {
            wanted.extend(SystemContainer::of_process(cg, SYSTEM_CONTAINER_RUNTIME, &pid.to_string(), None));
        }
        if !self.cfg.system_cgroups.is_empty() {
            wanted.push(SystemContainer::of_cgroup(SYSTEM_CONTAINER_MISC, &self.cfg.system_cgroups));
        }
        if let Some(pods) = &self.cfg.pods_cgroup {
            wanted.push(SystemContainer {
                memory_limit: self.cfg.pods_memory_limit,
                ..SystemContainer::of_cgroup(SYSTEM_CONTAINER_PODS, pods)
            });
        }
        wanted.iter().filter_map(|s| s.stats(cg, &self.proc, at_ns, &mut self.rates)).collect()
    }

    fn proc_has(&self, pid: u32) -> bool {
        self.cfg.host_root.join("proc").join(pid.to_string()).exists()
    }

    fn runtime_figures(&mut self) -> Result<RuntimeFigures, StatsError> {
        let mut figures = RuntimeFigures::default();
        if !self.no_sandbox_stats {
            match self.cri.list_pod_sandbox_stats(&cri::ListPodSandboxStatsRequest::default()) {
                Ok(r) => {
                    for s in r.stats {
                        let Some(id) = s.attributes.as_ref().map(|a| a.id.clone()) else { continue };
                        for c in s.linux.iter().flat_map(|l| l.containers.iter()) {
                            if let Some(a) = &c.attributes {
                                figures.containers.insert(a.id.clone(), c.clone());
                            }
                        }
                        figures.sandboxes.insert(id, s);
                    }
                    return Ok(figures);
                }
                Err(e) if e.is_unimplemented() => {
                    log::info!(
                        "stats: the runtime does not implement ListPodSandboxStats; using ListContainerStats"
                    );
                    self.no_sandbox_stats = true;
                }
                // containerd fails the whole list when one sandbox cannot be read.
                Err(e) => log::debug!("stats: ListPodSandboxStats: {e}; using ListContainerStats this round"),
            }
        }
        let list = call(
            "ListContainerStats",
            self.cri.list_container_stats(&cri::ListContainerStatsRequest::default()),
        )?;
        for c in list.stats {
            if let Some(a) = &c.attributes {
                figures.containers.insert(a.id.clone(), c);
            }
        }
        Ok(figures)
    }

    fn image_fs(&self, at_ns: i64, fs_by_mountpoint: &mut HashMap<String, FsInfo>) -> Option<FsStats> {
        let info = match self.cri.image_fs_info(&cri::ImageFsInfoRequest::default()) {
            Ok(info) => info,
            Err(e) => {
                log::debug!("stats: ImageFsInfo: {e}");
                return None;
            }
        };
        let first = info.image_filesystems.first()?;
        let mountpoint = first.fs_id.as_ref().map(|f| f.mountpoint.clone()).unwrap_or_default();
        let fs = fs_info_cached(fs_by_mountpoint, &mountpoint);
        let time =
            if first.timestamp > 0 { time_from_nanos(first.timestamp) } else { time_from_nanos(at_ns) };
        let base = fs.map(|f| f.base_stats(time)).unwrap_or(FsStats { time, ..Default::default() });
        Some(FsStats {
            used_bytes: first.used_bytes.as_ref().map(|v| v.value),
            inodes_used: first.inodes_used.as_ref().map(|v| v.value),
            ..base
        })
    }

    fn pods(&mut self, at_ns: i64) -> Result<(Vec<PodStats>, Option<FsStats>), StatsError> {
        let sandboxes =
            call("ListPodSandbox", self.cri.list_pod_sandbox(&cri::ListPodSandboxRequest::default()))?;
        let sandboxes = pods::select_sandboxes(sandboxes.items);
        let containers =
            call("ListContainers", self.cri.list_containers(&cri::ListContainersRequest::default()))?;
        let running: Vec<cri::Container> =
            containers.containers.into_iter().filter(|c| c.state == cri::ContainerState::RUNNING).collect();
        let figures = self.runtime_figures()?;

        let mut fs_by_mountpoint = HashMap::new();
        let image_fs = self.image_fs(at_ns, &mut fs_by_mountpoint);
        for c in figures.containers.values() {
            if let Some(id) = c.writable_layer.as_ref().and_then(|l| l.fs_id.as_ref()) {
                fs_info_cached(&mut fs_by_mountpoint, &id.mountpoint);
            }
        }
        let found = match (&self.cgroups, &self.cfg.pods_cgroup) {
            (Some(cg), Some(root)) => layout::discover(cg, root),
            _ => PodCgroups::default(),
        };
        let env = PodEnv {
            cgroups: self.cgroups.as_ref(),
            found: &found,
            proc: &self.proc,
            root_dir: &self.cfg.root_dir,
            pod_logs_dir: &self.cfg.pod_logs_dir,
            root_fs: fs::fs_info(&self.cfg.root_dir).ok(),
            fs_by_mountpoint: &fs_by_mountpoint,
        };
        let mut out = Vec::new();
        for sandbox in &sandboxes {
            let containers: Vec<&cri::Container> =
                running.iter().filter(|c| c.pod_sandbox_id == sandbox.id).collect();
            if containers.is_empty() {
                continue;
            }
            let input = PodInput {
                sandbox,
                containers,
                sandbox_stats: figures.sandboxes.get(&sandbox.id),
                container_stats: &figures.containers,
            };
            out.push(pods::pod_stats(&input, &env, at_ns, &mut self.rates));
        }
        out.sort_by(|a, b| {
            (&a.pod_ref.namespace, &a.pod_ref.name).cmp(&(&b.pod_ref.namespace, &b.pod_ref.name))
        });
        Ok((out, image_fs))
    }
}

fn fs_info_cached(cache: &mut HashMap<String, FsInfo>, mountpoint: &str) -> Option<FsInfo> {
    if mountpoint.is_empty() {
        return None;
    }
    if let Some(f) = cache.get(mountpoint) {
        return Some(*f);
    }
    let f = fs::fs_info(&PathBuf::from(mountpoint)).ok()?;
    cache.insert(mountpoint.to_string(), f);
    Some(f)
}
