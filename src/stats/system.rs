//! The node's system containers: `kubelet` (our own cgroup, or `kubeletCgroups`),
//! `runtime` (the cgroup of the process serving the CRI socket, found by its peer
//! credentials), `pods` (the cgroup holding all pods) and `misc` (`systemCgroups`, when
//! set).
//!
//! On cgroup v1 a process's CPU may be accounted in another hierarchy position than its
//! memory (the development machine puts every process in the CPU root): the cgroup's CPU
//! figures would then be someone else's, so the process's own CPU time is used instead.

use std::os::unix::net::UnixStream;

use super::summary::Time;
use crate::cgroups::Cgroups;

use super::convert::{cgroup_cpu, cgroup_io, cgroup_memory, cgroup_swap, time_from_nanos};
use super::host::Proc;
use super::node::ticks_to_nanos;
use super::rates::Rates;
use super::summary::{ContainerStats, CpuStats};

/// One system container to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemContainer {
    /// `kubelet`, `runtime`, `pods` or `misc`.
    pub name: &'static str,
    pub cgroup: String,
    /// The process whose CPU time stands for the cgroup's when the cgroup's own CPU figures
    /// are not its (`self` for the kubelet).
    pub process: Option<String>,
    /// A start time known better than the cgroup's (the kubelet's own start).
    pub start_time: Option<Time>,
    /// The memory limit to report available bytes against when the cgroup has none (node
    /// allocatable for `pods`, which upstream's kubelet would have set as the cgroup's limit).
    pub memory_limit: Option<u64>,
}

impl SystemContainer {
    /// The container of a process: its memory cgroup, with the process's own CPU when the
    /// hierarchies disagree. `None` when the process sits in the root cgroup (its figures
    /// would be the node's).
    pub fn of_process(
        cg: &Cgroups,
        name: &'static str,
        pid: &str,
        start_time: Option<Time>,
    ) -> Option<SystemContainer> {
        let pc = cg.process_cgroup(pid).ok()?;
        if pc.path.trim_matches('/').is_empty() {
            return None;
        }
        let process = pc.cpu_elsewhere.then(|| pid.to_string());
        Some(SystemContainer { name, cgroup: pc.path, process, start_time, memory_limit: None })
    }

    pub fn of_cgroup(name: &'static str, cgroup: &str) -> SystemContainer {
        SystemContainer { name, cgroup: cgroup.to_string(), process: None, start_time: None, memory_limit: None }
    }

    /// Its figures now; `None` when the cgroup does not exist.
    pub fn stats(&self, cg: &Cgroups, proc: &Proc, at_ns: i64, rates: &mut Rates) -> Option<ContainerStats> {
        let s = cg.stats(&self.cgroup)?;
        let key = format!("system/{}", self.name);
        let cpu = match &self.process {
            Some(pid) => proc.process_ticks(pid).map(|ticks| {
                let usage = ticks_to_nanos(ticks);
                CpuStats {
                    time: time_from_nanos(at_ns),
                    usage_nano_cores: rates.observe(&key, at_ns, usage),
                    usage_core_nano_seconds: Some(usage),
                    psi: Some(Default::default()),
                }
            }),
            None => s.cpu.map(|c| cgroup_cpu(&c, at_ns, &key, rates)),
        };
        let created = s.created.map(|t| time_from_nanos(super::convert::unix_nanos(t)));
        Some(ContainerStats {
            name: self.name.to_string(),
            start_time: self.start_time.or(created).unwrap_or_default(),
            cpu,
            memory: s.memory.map(|m| cgroup_memory(&m, m.limit.or(self.memory_limit), at_ns)),
            io: cgroup_io(&s, at_ns),
            rootfs: None,
            logs: None,
            swap: s.memory.map(|m| cgroup_swap(&m, at_ns)),
        })
    }
}

/// The pid of the process serving a `unix://` CRI endpoint, from the socket's peer
/// credentials (one connect, no request).
pub fn runtime_pid(endpoint: &str) -> Option<u32> {
    let path = endpoint.strip_prefix("unix://").unwrap_or(endpoint);
    let stream = UnixStream::connect(path).ok()?;
    let cred = nix::sys::socket::getsockopt(&stream, nix::sys::socket::sockopt::PeerCredentials).ok()?;
    u32::try_from(cred.pid()).ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::cgroups::tests::v1_tree;

    #[test]
    fn kubelet_with_cpu_accounted_elsewhere_uses_its_process_time() {
        let t = v1_tree("sys-kubelet");
        std::fs::write(t.0.join("proc/self/stat"), "1 (rkubelet) S 0 0 0 0 0 0 0 0 0 0 300 100 0 0").unwrap();
        t.write("sys/fs/cgroup/memory/process_api/abc/memory.usage_in_bytes", "4096\n");
        t.write("sys/fs/cgroup/memory/process_api/abc/memory.stat", "total_rss 2048\n");
        let cg = Cgroups::detect_at(&t.0).unwrap();
        let proc = Proc::new(&t.0.join("proc"));
        let started = Time::from_unix(42);
        let k = SystemContainer::of_process(&cg, "kubelet", "self", Some(started)).unwrap();
        assert_eq!(k.cgroup, "/process_api/abc");
        assert_eq!(k.process.as_deref(), Some("self"));
        let mut rates = Rates::default();
        let s = k.stats(&cg, &proc, 1_000_000_000, &mut rates).unwrap();
        assert_eq!(s.name, "kubelet");
        assert_eq!(s.start_time, started);
        assert_eq!(s.cpu.unwrap().usage_core_nano_seconds, Some(ticks_to_nanos(400)));
        assert_eq!(s.memory.unwrap().usage_bytes, Some(4096));
        assert_eq!((s.rootfs, s.logs), (None, None));
    }

    #[test]
    fn runtime_in_its_own_cgroup_and_pods() {
        let t = v1_tree("sys-runtime");
        t.write("sys/fs/cgroup/memory/system/rt/memory.usage_in_bytes", "100\n");
        t.write("sys/fs/cgroup/memory/system/rt/memory.stat", "total_inactive_file 10\n");
        t.write("sys/fs/cgroup/cpuacct/system/rt/cpuacct.usage", "777\n");
        let cg = Cgroups::detect_at(&t.0).unwrap();
        let proc = Proc::new(&t.0.join("proc"));
        let rt = SystemContainer::of_process(&cg, "runtime", "77", None).unwrap();
        assert_eq!(rt.process, None, "cpu and memory agree");
        let mut rates = Rates::default();
        let s = rt.stats(&cg, &proc, 0, &mut rates).unwrap();
        assert_eq!(s.cpu.unwrap().usage_core_nano_seconds, Some(777));
        assert_eq!(s.memory.unwrap().working_set_bytes, Some(90));
        assert!(s.start_time.unix_seconds() > 0, "the cgroup directory's time");
        t.write("sys/fs/cgroup/cpuacct/kubepods/cpuacct.usage", "123\n");
        let pods = SystemContainer::of_cgroup("pods", "/kubepods");
        assert_eq!(
            pods.stats(&cg, &proc, 0, &mut rates).unwrap().cpu.unwrap().usage_core_nano_seconds,
            Some(123)
        );
        // No limit on the pods cgroup: available bytes count against node allocatable.
        t.write("sys/fs/cgroup/memory/kubepods/memory.usage_in_bytes", "300\n");
        t.write("sys/fs/cgroup/memory/kubepods/memory.stat", "total_inactive_file 100\n");
        let bounded = SystemContainer { memory_limit: Some(1000), ..SystemContainer::of_cgroup("pods", "/kubepods") };
        let memory = bounded.stats(&cg, &proc, 0, &mut rates).unwrap().memory.unwrap();
        assert_eq!((memory.working_set_bytes, memory.available_bytes), (Some(200), Some(800)));
        assert_eq!(SystemContainer::of_cgroup("misc", "/nope").stats(&cg, &proc, 0, &mut rates), None);
        t.write("proc/78/cgroup", "4:memory:/\n2:cpuacct:/\n");
        assert_eq!(SystemContainer::of_process(&cg, "runtime", "78", None), None, "the root is the node");
    }

    #[test]
    fn runtime_pid_from_a_socket() {
        let path = std::env::temp_dir().join(format!("rk-stats-peer-{}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let endpoint = format!("unix://{}", path.display());
        assert_eq!(runtime_pid(&endpoint), Some(std::process::id()));
        drop(listener);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(runtime_pid(&endpoint), None);
    }
}
