//! Facts about the node that shape sandbox and container configs.
//!
//! The builders ([`super::sandbox`], [`super::container`]) are pure functions of a pod and a
//! [`NodeContext`]; everything they would otherwise ask the host (the resolver file, cgroup
//! version, memory size) is read once by the caller and kept here. [`NodeContext::default`]
//! gives upstream's defaults, so callers and tests set only what differs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::api::helpers::{CPU, EPHEMERAL_STORAGE, MEMORY};
use crate::api::quantity::Quantity;

/// How cgroups are named: plain paths, or systemd slices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CgroupDriver {
    #[default]
    Cgroupfs,
    Systemd,
}

impl CgroupDriver {
    /// The `cgroupDriver` config value (`cgroupfs` or `systemd`).
    pub fn parse(value: &str) -> Option<CgroupDriver> {
        match value {
            "cgroupfs" => Some(CgroupDriver::Cgroupfs),
            "systemd" => Some(CgroupDriver::Systemd),
            _ => None,
        }
    }
}

/// Facts about the node that shape sandbox and container configs.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeContext {
    pub node_name: String,
    /// The node's IPs, primary first: downward API `status.hostIP(s)`, and the IP family
    /// that orders `status.podIPs`.
    pub host_ips: Vec<String>,
    /// `clusterDNS`.
    pub cluster_dns: Vec<String>,
    /// `clusterDomain`; empty when unset.
    pub cluster_domain: String,
    /// The *contents* of the `resolvConf` file, read once by the caller; `""` means no
    /// resolver file (pods with the `Default` policy then get `127.0.0.1`/`::1`).
    pub resolv_conf: String,
    /// `--root-dir`.
    pub root_dir: PathBuf,
    /// `podLogsDir`.
    pub pod_logs_dir: PathBuf,
    /// Where the legacy per-container log symlinks go: upstream's fixed `/var/log/containers`
    /// (a field so that tests can point it elsewhere).
    pub container_logs_dir: PathBuf,
    pub cgroup_driver: CgroupDriver,
    pub cgroups_per_qos: bool,
    /// `cgroupRoot`; `""` is the same as `"/"`.
    pub cgroup_root: String,
    /// Node allocatable cpu (millicores), memory and ephemeral storage (bytes): what the
    /// downward API reports as a container's limit when it has none. Computed at start from
    /// the host and the reservations (`nodestatus::local_allocatable`), as the Node reports it.
    pub allocatable_cpu_milli: Option<i64>,
    pub allocatable_memory: Option<i64>,
    pub allocatable_ephemeral_storage: Option<i64>,
    /// The machine's memory in bytes (the Burstable `oom_score_adj` formula divides by it).
    pub memory_capacity: i64,
    /// `cpuCFSQuota`: enforce cpu limits with a CFS quota.
    pub cpu_cfs_quota: bool,
    /// `cpuCFSQuotaPeriod` in microseconds.
    pub cpu_cfs_quota_period_us: i64,
    /// `seccompDefault`: containers without a seccomp profile get `RuntimeDefault`.
    pub seccomp_default: bool,
    /// The host runs the unified cgroup v2 hierarchy.
    pub cgroup_v2: bool,
    /// `singleProcessOOMKill` as configured (`None` = unset); see [`Self::single_process_oom_kill`].
    pub single_process_oom_kill: Option<bool>,
    /// The `MemoryQoS` feature gate (on by default in v1.37; only acts on cgroup v2).
    pub memory_qos: bool,
    /// `memoryThrottlingFactor` (unset by default: no `memory.high`).
    pub memory_throttling_factor: Option<f64>,
    /// `memoryReservationPolicy: TieredReservation` (default `None`).
    pub tiered_memory_reservation: bool,
    /// The kernel accounts swap (cgroup v1 `memory.memsw.*`, v2 `memory.swap.max`).
    pub swap_controller: bool,
    /// SELinux is enabled on the host: the etc-hosts and termination-log mounts are relabeled.
    pub selinux_enabled: bool,
}

impl Default for NodeContext {
    fn default() -> Self {
        NodeContext {
            node_name: String::new(),
            host_ips: Vec::new(),
            cluster_dns: Vec::new(),
            cluster_domain: String::new(),
            resolv_conf: String::new(),
            root_dir: PathBuf::from("/var/lib/kubelet"),
            pod_logs_dir: PathBuf::from("/var/log/pods"),
            container_logs_dir: PathBuf::from(super::logsymlink::CONTAINER_LOGS_DIR),
            cgroup_driver: CgroupDriver::Cgroupfs,
            cgroups_per_qos: true,
            cgroup_root: "/".to_string(),
            allocatable_cpu_milli: None,
            allocatable_memory: None,
            allocatable_ephemeral_storage: None,
            memory_capacity: 0,
            cpu_cfs_quota: true,
            cpu_cfs_quota_period_us: 100_000,
            seccomp_default: false,
            cgroup_v2: false,
            single_process_oom_kill: None,
            memory_qos: true,
            memory_throttling_factor: None,
            tiered_memory_reservation: false,
            swap_controller: false,
            selinux_enabled: false,
        }
    }
}

impl NodeContext {
    /// Takes cpu, memory and ephemeral-storage from a node's `status.allocatable`.
    pub fn with_allocatable(mut self, allocatable: &BTreeMap<String, Quantity>) -> NodeContext {
        self.allocatable_cpu_milli = allocatable.get(CPU).and_then(Quantity::milli_value);
        self.allocatable_memory = allocatable.get(MEMORY).and_then(Quantity::value);
        self.allocatable_ephemeral_storage = allocatable.get(EPHEMERAL_STORAGE).and_then(Quantity::value);
        self
    }

    /// Where `Localhost` seccomp profiles live: `<root-dir>/seccomp`.
    pub fn seccomp_profile_root(&self) -> PathBuf {
        self.root_dir.join("seccomp")
    }

    /// Whether an OOM kill takes one process rather than the whole container: always on
    /// cgroup v1; on v2 as configured, off when unset (upstream's startup resolution).
    pub fn single_process_oom_kill(&self) -> bool {
        !self.cgroup_v2 || self.single_process_oom_kill.unwrap_or(false)
    }

    /// The memory QoS settings (`memory.min`/`low`/`high`) apply: the gate is on and the
    /// host is on cgroup v2.
    pub fn enforce_memory_qos(&self) -> bool {
        self.memory_qos && self.cgroup_v2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_upstream() {
        let n = NodeContext::default();
        assert_eq!(n.root_dir, PathBuf::from("/var/lib/kubelet"));
        assert_eq!(n.pod_logs_dir, PathBuf::from("/var/log/pods"));
        assert_eq!(n.container_logs_dir, PathBuf::from("/var/log/containers"));
        assert_eq!(n.cpu_cfs_quota_period_us, 100_000);
        assert!(n.cpu_cfs_quota && n.cgroups_per_qos && !n.seccomp_default);
        assert_eq!(n.seccomp_profile_root(), PathBuf::from("/var/lib/kubelet/seccomp"));
    }

    #[test]
    fn allocatable_from_node_status() {
        let allocatable: BTreeMap<String, Quantity> = [("cpu", "1500m"), ("memory", "2Gi"), ("pods", "110")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Quantity::parse(v).expect("quantity")))
            .collect();
        let n = NodeContext::default().with_allocatable(&allocatable);
        assert_eq!(n.allocatable_cpu_milli, Some(1500));
        assert_eq!(n.allocatable_memory, Some(2 << 30));
        assert_eq!(n.allocatable_ephemeral_storage, None, "not reported: no default");
    }

    #[test]
    fn oom_kill_resolution() {
        let mut n = NodeContext::default();
        assert!(n.single_process_oom_kill(), "cgroup v1 always kills one process");
        n.cgroup_v2 = true;
        assert!(!n.single_process_oom_kill(), "v2 defaults to the whole group");
        n.single_process_oom_kill = Some(true);
        assert!(n.single_process_oom_kill());
        assert_eq!(CgroupDriver::parse("systemd"), Some(CgroupDriver::Systemd));
        assert_eq!(CgroupDriver::parse("v2"), None);
    }
}
