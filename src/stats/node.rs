//! The node's own figures: CPU and memory of the root cgroup (or `/proc` when a
//! containerised agent cannot see the root), network from `/proc/net/dev`, the kubelet
//! root dir's filesystem, process limits, swap and pressure.
//!
//! As cAdvisor: the node's memory limit is the machine's size (`MemTotal`), so
//! `availableBytes = MemTotal − workingSet`; without the root cgroup the working set is
//! `MemTotal − MemFree − Inactive(file)`.

use std::collections::HashMap;
use std::path::Path;

use crate::cgroups::{Cgroups, Controller, MemoryUsage};

use super::convert::{self, cgroup_cpu, cgroup_memory, time_from_nanos};
use super::fs;
use super::host::Proc;
use super::rates::Rates;
use super::summary::{CpuStats, IoStats, NodeStats, RlimitStats, SwapStats};

/// Clock ticks per second of `/proc`'s CPU times (`USER_HZ`).
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf only reads a configuration value; it has no memory-safety preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|&t| t > 0).unwrap_or(100)
}

/// CPU time in ticks as nanoseconds.
pub fn ticks_to_nanos(ticks: u64) -> u64 {
    ticks.saturating_mul(1_000_000_000) / clock_ticks_per_second()
}

/// Where the node's figures come from.
pub struct NodeSources<'a> {
    pub proc: &'a Proc,
    pub cgroups: Option<&'a Cgroups>,
    pub root_dir: &'a Path,
}

/// Everything of the node but its system containers and runtime filesystems.
pub fn node_stats(node_name: &str, src: &NodeSources<'_>, at_ns: i64, rates: &mut Rates) -> NodeStats {
    let stat = src.proc.stat();
    let meminfo = src.proc.meminfo().unwrap_or_default();
    let mem_total = meminfo.get("MemTotal").copied();
    let root = src.cgroups.filter(|c| c.sees_root(Controller::Memory)).and_then(|c| c.stats("/"));

    let mut cpu = match root
        .as_ref()
        .and_then(|r| r.cpu)
        .filter(|_| src.cgroups.is_some_and(|c| c.sees_root(Controller::Cpu)))
    {
        Some(c) => cgroup_cpu(&c, at_ns, "node", rates),
        None => {
            let usage = stat.map(|s| ticks_to_nanos(s.busy_ticks));
            CpuStats {
                time: time_from_nanos(at_ns),
                usage_nano_cores: usage.and_then(|u| rates.observe("node", at_ns, u)),
                usage_core_nano_seconds: usage,
                psi: None,
            }
        }
    };
    let mut memory = match root.as_ref().and_then(|r| r.memory) {
        Some(m) => cgroup_memory(&m, mem_total, at_ns),
        None => cgroup_memory(&memory_from_meminfo(&meminfo), mem_total, at_ns),
    };
    // The kernel's node-wide pressure, where it keeps one.
    cpu.psi = src.proc.pressure("cpu").map(|p| convert::psi(&p)).or(cpu.psi).or(Some(Default::default()));
    memory.psi = src.proc.pressure("memory").map(|p| convert::psi(&p)).or(memory.psi);
    let io = src
        .proc
        .pressure("io")
        .map(|p| IoStats { time: time_from_nanos(at_ns), psi: Some(convert::psi(&p)) });

    let time = time_from_nanos(at_ns);
    NodeStats {
        node_name: node_name.to_string(),
        system_containers: Vec::new(),
        start_time: super::summary::Time::from_unix(stat.map_or(0, |s| s.boot_time)),
        cpu: Some(cpu),
        memory: Some(memory),
        io,
        network: src.proc.net_dev("self").map(|ifs| convert::proc_network(&ifs, at_ns)),
        fs: fs::fs_info(src.root_dir).ok().map(|f| f.node_stats(time)),
        runtime: None,
        rlimit: Some(RlimitStats {
            time,
            max_pid: src.proc.max_pid().and_then(|v| i64::try_from(v).ok()),
            num_of_running_processes: src.proc.running_tasks().and_then(|v| i64::try_from(v).ok()),
        }),
        swap: swap(&meminfo, at_ns),
    }
}

/// The node's memory from `/proc/meminfo`, as the root cgroup would count it.
pub fn memory_from_meminfo(meminfo: &HashMap<String, u64>) -> MemoryUsage {
    let get = |k: &str| meminfo.get(k).copied().unwrap_or(0);
    let usage = get("MemTotal").saturating_sub(get("MemFree"));
    MemoryUsage {
        usage,
        working_set: usage.saturating_sub(get("Inactive(file)")),
        rss: get("AnonPages"),
        limit: None,
        ..Default::default()
    }
}

fn swap(meminfo: &HashMap<String, u64>, at_ns: i64) -> Option<SwapStats> {
    let total = *meminfo.get("SwapTotal")?;
    let free = meminfo.get("SwapFree").copied().unwrap_or(0);
    Some(SwapStats {
        time: time_from_nanos(at_ns),
        swap_available_bytes: None,
        swap_usage_bytes: Some(total.saturating_sub(free)),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::cgroups::tests::{v1_tree, v2_tree};

    fn fake_proc(root: &Path) {
        let w = |p: &str, t: &str| {
            let path = root.join(p);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, t).unwrap();
        };
        w("proc/stat", "cpu  1000 0 500 90000 0 0 0 0 0 0\nbtime 1700000000\n");
        w(
            "proc/meminfo",
            "MemTotal: 1000 kB\nMemFree: 200 kB\nInactive(file): 100 kB\nAnonPages: 300 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n",
        );
        w("proc/loadavg", "0.1 0.2 0.3 1/250 99\n");
        w("proc/sys/kernel/pid_max", "32768\n");
        w(
            "proc/self/net/dev",
            "h1\nh2\n  eth0: 100 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n    lo: 5 1 0 0 0 0 0 0 5 1 0 0 0 0 0 0\n",
        );
    }

    /// The node's figures from a fake tree (with fake `/proc` files) at t = 10 s.
    fn node_in(root: &Path) -> NodeStats {
        fake_proc(root);
        let cg = Cgroups::detect_at(root).unwrap();
        let proc = Proc::new(&root.join("proc"));
        let src = NodeSources { proc: &proc, cgroups: Some(&cg), root_dir: &std::env::temp_dir() };
        node_stats("n1", &src, 10_000_000_000, &mut Rates::default())
    }

    #[test]
    fn node_from_the_v1_root_cgroup() {
        let t = v1_tree("node-v1");
        let n = node_in(&t.0);
        assert_eq!(n.node_name, "n1");
        assert_eq!(n.start_time, crate::stats::summary::Time::from_unix(1_700_000_000));
        let cpu = n.cpu.unwrap();
        assert_eq!(cpu.usage_core_nano_seconds, Some(900_000_000), "root cpuacct.usage");
        assert_eq!(cpu.usage_nano_cores, None, "first sample");
        let m = n.memory.unwrap();
        assert_eq!(m.working_set_bytes, Some(20480 - 1024));
        assert_eq!(m.available_bytes, Some(1000 * 1024 - (20480 - 1024)), "MemTotal minus working set");
        let net = n.network.unwrap();
        assert_eq!((net.default.name.as_str(), net.interfaces.len()), ("eth0", 1));
        let rl = n.rlimit.unwrap();
        assert_eq!((rl.max_pid, rl.num_of_running_processes), (Some(32768), Some(250)));
        assert_eq!(n.swap.unwrap().swap_usage_bytes, Some(0));
        assert!(n.fs.unwrap().capacity_bytes.unwrap() > 0);
    }

    #[test]
    fn node_from_proc_when_the_root_is_hidden() {
        let t = v2_tree("node-proc");
        std::fs::write(
            t.0.join("proc/self/mountinfo"),
            "30 23 0:27 /agent /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
        )
        .unwrap();
        let n = node_in(&t.0);
        assert_eq!(n.cpu.unwrap().usage_core_nano_seconds, Some(ticks_to_nanos(1500)));
        let m = n.memory.unwrap();
        assert_eq!(m.usage_bytes, Some(800 * 1024));
        assert_eq!(m.working_set_bytes, Some(700 * 1024));
        assert_eq!(m.rss_bytes, Some(300 * 1024));
        assert_eq!(m.available_bytes, Some(300 * 1024));
    }
}
