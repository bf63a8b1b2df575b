//! Pod and container statistics: identity, start times and writable layers from the
//! runtime; CPU, memory, swap, pressure and process counts from the pod's and containers'
//! cgroups (as upstream's default provider takes them from cAdvisor), with the runtime's
//! figures standing in where a cgroup cannot be read; logs and ephemeral storage from the
//! files on disk.
//!
//! | figure | first choice | else |
//! | --- | --- | --- |
//! | container cpu/memory/swap | container cgroup | CRI container stats, else zeros |
//! | pod cpu/memory | pod cgroup | CRI sandbox stats, else the containers' sum |
//! | pod network | CRI sandbox stats listing its interfaces | `/proc/<pause pid>/net/dev`, else CRI's default interface |
//! | process count | CRI sandbox stats | pod cgroup `pids.current` |
//! | rootfs | CRI writable layer + statvfs of its filesystem | — |
//! | logs | files in `<podLogsDir>/<ns>_<name>_<uid>/<container>/` | — |
//! | volumes | not yet: they come with the volume manager | — |
//!
//! Which pods: upstream's choice: per pod name the ready sandbox (or the newest), and only
//! running containers; a pod without one is not listed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::cgroups::{CgroupStats, Cgroups};
use crate::cri;

use super::convert::{self, add_opt, time_from_nanos};
use super::fs::{self, FsInfo, Usage};
use super::host::Proc;
use super::layout::PodCgroups;
use super::rates::Rates;
use super::summary::{
    ContainerStats, CpuStats, FsStats, MemoryStats, PodReference, PodStats, ProcessStats, SwapStats,
};

/// What pod figures are read from, besides the runtime's answers.
pub struct PodEnv<'a> {
    pub cgroups: Option<&'a Cgroups>,
    pub found: &'a PodCgroups,
    pub proc: &'a Proc,
    pub root_dir: &'a Path,
    pub pod_logs_dir: &'a Path,
    /// The filesystem of the root dir (logs and ephemeral storage live there).
    pub root_fs: Option<FsInfo>,
    /// Filesystems by mount point, for writable layers.
    pub fs_by_mountpoint: &'a HashMap<String, FsInfo>,
}

/// One pod as the runtime lists it.
pub struct PodInput<'a> {
    pub sandbox: &'a cri::PodSandbox,
    pub containers: Vec<&'a cri::Container>,
    pub sandbox_stats: Option<&'a cri::PodSandboxStats>,
    pub container_stats: &'a HashMap<String, cri::ContainerStats>,
}

/// Upstream's `removeTerminatedPods`: per namespace/name the ready sandboxes, else the newest.
pub fn select_sandboxes(mut all: Vec<cri::PodSandbox>) -> Vec<cri::PodSandbox> {
    all.sort_by_key(|s| s.created_at);
    let mut groups: Vec<((String, String), Vec<cri::PodSandbox>)> = Vec::new();
    for s in all {
        let meta = s.metadata.clone().unwrap_or_default();
        let key = (meta.namespace, meta.name);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(s),
            None => groups.push((key, vec![s])),
        }
    }
    let mut out = Vec::new();
    for (_, group) in groups {
        let ready: Vec<&cri::PodSandbox> =
            group.iter().filter(|s| s.state == cri::PodSandboxState::READY).collect();
        if group.len() == 1 || ready.is_empty() {
            out.extend(group.last().cloned());
        } else {
            out.extend(ready.into_iter().cloned());
        }
    }
    out
}

impl PodEnv<'_> {
    fn cgroup_of(&self, map: &HashMap<String, String>, key: &str) -> Option<CgroupStats> {
        self.cgroups?.stats(map.get(key)?)
    }

    fn log_stats(&self, dir: &Path, at_ns: i64) -> Option<FsStats> {
        let usage = fs::files_in(dir)?;
        Some(fs::with_usage(self.root_fs?.base_stats(time_from_nanos(at_ns)), usage))
    }
}

fn pod_log_dir(env: &PodEnv<'_>, r: &PodReference) -> PathBuf {
    env.pod_logs_dir.join(format!("{}_{}_{}", r.namespace, r.name, r.uid))
}

pub fn pod_stats(input: &PodInput<'_>, env: &PodEnv<'_>, at_ns: i64, rates: &mut Rates) -> PodStats {
    let meta = input.sandbox.metadata.clone().unwrap_or_default();
    let pod_ref = PodReference { name: meta.name, namespace: meta.namespace, uid: meta.uid };
    let containers: Vec<ContainerStats> = input
        .containers
        .iter()
        .map(|c| container_stats(c, input.container_stats.get(&c.id), &pod_ref, env, at_ns, rates))
        .collect();
    let linux = input.sandbox_stats.and_then(|s| s.linux.as_ref());
    let cgroup = env.cgroup_of(&env.found.pods, &pod_ref.uid);
    let key = format!("pod/{}", pod_ref.uid);

    let cpu = match (cgroup.as_ref().and_then(|c| c.cpu), linux.and_then(|l| l.cpu.as_ref())) {
        (Some(c), _) => Some(convert::cgroup_cpu(&c, at_ns, &key, rates)),
        (None, Some(c)) => Some(convert::cri_cpu(c, &key, rates)),
        (None, None) => sum_cpu(&containers),
    };
    let memory = match (cgroup.as_ref().and_then(|c| c.memory), linux.and_then(|l| l.memory.as_ref())) {
        (Some(m), _) => Some(convert::cgroup_memory(&m, None, at_ns)),
        (None, Some(m)) => Some(convert::cri_memory(m)),
        (None, None) => sum_memory(&containers),
    };
    let swap = match cgroup.as_ref().and_then(|c| c.memory) {
        Some(m) => Some(convert::cgroup_swap(&m, at_ns)),
        None => sum_swap(&containers),
    };
    let cri_network = linux.and_then(|l| l.network.as_ref());
    let network = cri_network
        .and_then(|n| convert::cri_network(n, at_ns, true))
        .or_else(|| {
            let pid = env.cgroups?.first_process(env.found.containers.get(&input.sandbox.id)?)?;
            Some(convert::proc_network(&env.proc.net_dev(&pid.to_string())?, at_ns))
        })
        .or_else(|| convert::cri_network(cri_network?, at_ns, false));
    let process_count = linux
        .and_then(|l| l.process.as_ref())
        .and_then(|p| p.process_count.as_ref().map(|v| v.value))
        .or_else(|| cgroup.as_ref().and_then(|c| c.pids));

    let pod_logs = fs::files_in(&pod_log_dir(env, &pod_ref));
    let etc_hosts = fs::du(&env.root_dir.join("pods").join(&pod_ref.uid).join("etc-hosts"));
    let ephemeral = ephemeral_storage(&containers, env.root_fs.as_ref(), &[pod_logs, etc_hosts], at_ns);
    PodStats {
        pod_ref,
        start_time: time_from_nanos(input.sandbox.created_at),
        containers,
        cpu,
        memory,
        io: cgroup.as_ref().and_then(|c| convert::cgroup_io(c, at_ns)),
        network,
        volume_stats: Vec::new(),
        ephemeral_storage: ephemeral,
        process_stats: process_count.map(|n| ProcessStats { process_count: Some(n) }),
        swap,
    }
}

fn container_stats(
    c: &cri::Container,
    stats: Option<&cri::ContainerStats>,
    pod: &PodReference,
    env: &PodEnv<'_>,
    at_ns: i64,
    rates: &mut Rates,
) -> ContainerStats {
    let name = c.metadata.as_ref().map(|m| m.name.clone()).unwrap_or_default();
    let cgroup = env.cgroup_of(&env.found.containers, &c.id);
    let key = format!("container/{}", c.id);
    let time = time_from_nanos(at_ns);
    let cpu = match (cgroup.as_ref().and_then(|s| s.cpu), stats.and_then(|s| s.cpu.as_ref())) {
        (Some(cpu), _) => convert::cgroup_cpu(&cpu, at_ns, &key, rates),
        (None, Some(cpu)) => convert::cri_cpu(cpu, &key, rates),
        (None, None) => {
            CpuStats { time, usage_nano_cores: Some(0), usage_core_nano_seconds: Some(0), psi: None }
        }
    };
    let cgroup_memory = cgroup.as_ref().and_then(|s| s.memory);
    let memory = match (cgroup_memory, stats.and_then(|s| s.memory.as_ref())) {
        (Some(m), _) => convert::cgroup_memory(&m, None, at_ns),
        (None, Some(m)) => convert::cri_memory(m),
        (None, None) => MemoryStats {
            time,
            usage_bytes: Some(0),
            working_set_bytes: Some(0),
            rss_bytes: Some(0),
            ..Default::default()
        },
    };
    let swap = match (cgroup_memory, stats.and_then(|s| s.swap.as_ref())) {
        (Some(m), _) => convert::cgroup_swap(&m, at_ns),
        (None, Some(s)) => convert::cri_swap(s),
        (None, None) => SwapStats { time, swap_available_bytes: Some(0), swap_usage_bytes: Some(0) },
    };
    let rootfs = stats.and_then(|s| s.writable_layer.as_ref()).map(|layer| {
        let mountpoint = layer.fs_id.as_ref().map(|f| f.mountpoint.as_str()).unwrap_or("");
        convert::cri_rootfs(layer, env.fs_by_mountpoint.get(mountpoint), at_ns)
    });
    ContainerStats {
        name: name.clone(),
        start_time: time_from_nanos(c.created_at),
        cpu: Some(cpu),
        memory: Some(memory),
        io: cgroup.as_ref().and_then(|s| convert::cgroup_io(s, at_ns)),
        rootfs,
        logs: env.log_stats(&pod_log_dir(env, pod).join(&name), at_ns),
        swap: Some(swap),
    }
}

/// The pod's CPU as the sum of its containers' (upstream's fallback without a pod cgroup).
fn sum_cpu(containers: &[ContainerStats]) -> Option<CpuStats> {
    containers.iter().filter_map(|c| c.cpu.as_ref()).fold(None, |acc: Option<CpuStats>, c| {
        let acc = acc.unwrap_or_default();
        Some(CpuStats {
            time: c.time,
            usage_nano_cores: Some(
                acc.usage_nano_cores.unwrap_or(0).saturating_add(c.usage_nano_cores.unwrap_or(0)),
            ),
            usage_core_nano_seconds: Some(
                acc.usage_core_nano_seconds
                    .unwrap_or(0)
                    .saturating_add(c.usage_core_nano_seconds.unwrap_or(0)),
            ),
            psi: None,
        })
    })
}

fn sum_memory(containers: &[ContainerStats]) -> Option<MemoryStats> {
    let add = |a: Option<u64>, b: Option<u64>| Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0)));
    containers.iter().filter_map(|c| c.memory.as_ref()).fold(None, |acc: Option<MemoryStats>, m| {
        let acc = acc.unwrap_or_default();
        Some(MemoryStats {
            time: m.time,
            available_bytes: add(acc.available_bytes, m.available_bytes),
            usage_bytes: add(acc.usage_bytes, m.usage_bytes),
            working_set_bytes: add(acc.working_set_bytes, m.working_set_bytes),
            rss_bytes: add(acc.rss_bytes, m.rss_bytes),
            page_faults: add(acc.page_faults, m.page_faults),
            major_page_faults: add(acc.major_page_faults, m.major_page_faults),
            psi: None,
        })
    })
}

fn sum_swap(containers: &[ContainerStats]) -> Option<SwapStats> {
    containers.iter().filter_map(|c| c.swap.as_ref()).fold(None, |acc: Option<SwapStats>, s| {
        let acc = acc.unwrap_or_default();
        Some(SwapStats {
            time: s.time,
            swap_available_bytes: Some(
                acc.swap_available_bytes.unwrap_or(0).saturating_add(s.swap_available_bytes.unwrap_or(0)),
            ),
            swap_usage_bytes: Some(
                acc.swap_usage_bytes.unwrap_or(0).saturating_add(s.swap_usage_bytes.unwrap_or(0)),
            ),
        })
    })
}

/// Upstream's `calcEphemeralStorage`: the root filesystem's size, with the containers'
/// writable layers and logs, the pod's own log files and its etc-hosts counted as used
/// (ephemeral volumes join once the volume manager reports them).
pub fn ephemeral_storage(
    containers: &[ContainerStats],
    root_fs: Option<&FsInfo>,
    extra: &[Option<Usage>],
    at_ns: i64,
) -> Option<FsStats> {
    let mut total = root_fs?.base_stats(time_from_nanos(at_ns));
    for c in containers {
        let Some(rootfs) = &c.rootfs else { continue };
        total.time = total.time.max(rootfs.time);
        total.used_bytes = add_opt(total.used_bytes, rootfs.used_bytes);
        total.inodes_used = add_opt(total.inodes_used, rootfs.inodes_used);
        if let Some(logs) = &c.logs {
            total.time = total.time.max(logs.time);
            total.used_bytes = add_opt(total.used_bytes, logs.used_bytes);
            total.inodes_used = add_opt(total.inodes_used, logs.inodes_used);
        }
    }
    for usage in extra.iter().flatten() {
        total.used_bytes = add_opt(total.used_bytes, Some(usage.bytes));
        total.inodes_used = add_opt(total.inodes_used, Some(usage.inodes));
    }
    Some(total)
}
