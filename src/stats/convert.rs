//! From what cgroups, `/proc` and the runtime report to Summary figures, as upstream's
//! cAdvisor and CRI stats providers convert them.
#![forbid(unsafe_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use super::summary::Time;
use crate::cgroups::{self, CgroupStats};
use crate::cri;

use super::host::{Interface, is_ignored_interface};
use super::rates::Rates;
use super::summary::{
    CpuStats, FsStats, InterfaceStats, IoStats, MemoryStats, NetworkStats, PsiData, PsiStats, SwapStats,
};

/// The interface whose figures a NetworkStats carries at its top level.
pub const DEFAULT_INTERFACE: &str = "eth0";

/// Nanoseconds since the epoch.
pub fn unix_nanos(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

pub fn time_from_nanos(nanos: i64) -> Time {
    Time::from_unix_nanos(nanos)
}

pub fn psi(p: &cgroups::Psi) -> PsiStats {
    let data =
        |d: &cgroups::PsiData| PsiData { total: d.total, avg10: d.avg10, avg60: d.avg60, avg300: d.avg300 };
    PsiStats { full: data(&p.full), some: data(&p.some) }
}

/// Pressure as cAdvisor reports it: all zeros where the kernel keeps none (cgroup v1).
fn psi_or_zero(p: Option<&cgroups::Psi>) -> Option<PsiStats> {
    Some(p.map(psi).unwrap_or_default())
}

/// CPU figures of a cgroup read at `at_ns`; `rates` turns the counter into a rate under
/// `key` (nothing until a second sample).
pub fn cgroup_cpu(cpu: &cgroups::CpuUsage, at_ns: i64, key: &str, rates: &mut Rates) -> CpuStats {
    CpuStats {
        time: time_from_nanos(at_ns),
        usage_nano_cores: rates.observe(key, at_ns, cpu.usage_ns),
        usage_core_nano_seconds: Some(cpu.usage_ns),
        psi: psi_or_zero(cpu.psi.as_ref()),
    }
}

/// Memory figures of a cgroup: available is the limit minus the working set, when there is
/// a limit (`limit` overrides the cgroup's own, as the machine size does for the node).
pub fn cgroup_memory(m: &cgroups::MemoryUsage, limit: Option<u64>, at_ns: i64) -> MemoryStats {
    MemoryStats {
        time: time_from_nanos(at_ns),
        available_bytes: limit.or(m.limit).map(|l| l.saturating_sub(m.working_set)),
        usage_bytes: Some(m.usage),
        working_set_bytes: Some(m.working_set),
        rss_bytes: Some(m.rss),
        page_faults: Some(m.page_faults),
        major_page_faults: Some(m.major_page_faults),
        psi: psi_or_zero(m.psi.as_ref()),
    }
}

pub fn cgroup_swap(m: &cgroups::MemoryUsage, at_ns: i64) -> SwapStats {
    SwapStats {
        time: time_from_nanos(at_ns),
        swap_available_bytes: m.swap_limit.map(|l| l.saturating_sub(m.swap_usage)),
        swap_usage_bytes: Some(m.swap_usage),
    }
}

/// IO pressure, where the kernel keeps it per cgroup (v2); nothing otherwise.
pub fn cgroup_io(s: &CgroupStats, at_ns: i64) -> Option<IoStats> {
    s.io_psi.as_ref().map(|p| IoStats { time: time_from_nanos(at_ns), psi: Some(psi(p)) })
}

fn value(v: &Option<cri::UInt64Value>) -> Option<u64> {
    v.as_ref().map(|v| v.value)
}

/// CPU figures from the runtime. Its own `usage_nano_cores` depends on when anyone last
/// asked it, so ours (from our samples) is preferred once we have two.
pub fn cri_cpu(c: &cri::CpuUsage, key: &str, rates: &mut Rates) -> CpuStats {
    let cumulative = value(&c.usage_core_nano_seconds);
    let ours = cumulative.and_then(|u| rates.observe(key, c.timestamp, u));
    CpuStats {
        time: time_from_nanos(c.timestamp),
        usage_nano_cores: ours.or(value(&c.usage_nano_cores)),
        usage_core_nano_seconds: cumulative,
        psi: c.psi.as_ref().map(cri_psi),
    }
}

pub fn cri_memory(m: &cri::MemoryUsage) -> MemoryStats {
    MemoryStats {
        time: time_from_nanos(m.timestamp),
        available_bytes: value(&m.available_bytes),
        usage_bytes: value(&m.usage_bytes),
        working_set_bytes: value(&m.working_set_bytes),
        rss_bytes: value(&m.rss_bytes),
        page_faults: value(&m.page_faults),
        major_page_faults: value(&m.major_page_faults),
        psi: m.psi.as_ref().map(cri_psi),
    }
}

pub fn cri_swap(s: &cri::SwapUsage) -> SwapStats {
    SwapStats {
        time: time_from_nanos(s.timestamp),
        swap_available_bytes: value(&s.swap_available_bytes),
        swap_usage_bytes: value(&s.swap_usage_bytes),
    }
}

fn cri_psi(p: &cri::PsiStats) -> PsiStats {
    let data = |d: &Option<cri::PsiData>| {
        d.as_ref()
            .map(|d| PsiData { total: d.total, avg10: d.avg10, avg60: d.avg60, avg300: d.avg300 })
            .unwrap_or_default()
    };
    PsiStats { full: data(&p.full), some: data(&p.some) }
}

fn cri_interface(i: &cri::NetworkInterfaceUsage) -> InterfaceStats {
    InterfaceStats {
        name: i.name.clone(),
        rx_bytes: value(&i.rx_bytes),
        rx_errors: value(&i.rx_errors),
        tx_bytes: value(&i.tx_bytes),
        tx_errors: value(&i.tx_errors),
    }
}

/// A sandbox's network as the runtime reports it, when it lists its interfaces; containerd
/// 1.6 sends only the default interface (and no timestamp), which `complete` decides on.
pub fn cri_network(n: &cri::NetworkUsage, fallback_ns: i64, complete: bool) -> Option<NetworkStats> {
    if complete && n.interfaces.is_empty() {
        return None;
    }
    let default = n.default_interface.as_ref().map(cri_interface).unwrap_or_default();
    let mut interfaces: Vec<InterfaceStats> = n.interfaces.iter().map(cri_interface).collect();
    if interfaces.is_empty() && !default.name.is_empty() {
        interfaces.push(default.clone());
    }
    let at = if n.timestamp > 0 { n.timestamp } else { fallback_ns };
    Some(NetworkStats { time: time_from_nanos(at), default, interfaces })
}

/// Interfaces read from `/proc/.../net/dev`, without the ones cAdvisor ignores.
pub fn proc_network(ifs: &[Interface], at_ns: i64) -> NetworkStats {
    let interfaces: Vec<InterfaceStats> = ifs
        .iter()
        .filter(|i| !is_ignored_interface(&i.name))
        .map(|i| InterfaceStats {
            name: i.name.clone(),
            rx_bytes: Some(i.rx_bytes),
            rx_errors: Some(i.rx_errors),
            tx_bytes: Some(i.tx_bytes),
            tx_errors: Some(i.tx_errors),
        })
        .collect();
    let default = interfaces.iter().find(|i| i.name == DEFAULT_INTERFACE).cloned().unwrap_or_default();
    NetworkStats { time: time_from_nanos(at_ns), default, interfaces }
}

/// A container's writable layer: usage from the runtime, size of its filesystem from us.
/// containerd measures layers in the background and sends time 0 until it has: the sample
/// time stands in then.
pub fn cri_rootfs(layer: &cri::FilesystemUsage, fs: Option<&super::fs::FsInfo>, at_ns: i64) -> FsStats {
    let at = if layer.timestamp > 0 { layer.timestamp } else { at_ns };
    let base = FsStats { time: time_from_nanos(at), ..Default::default() };
    let with_fs = match fs {
        Some(fs) => FsStats { time: base.time, ..fs.base_stats(base.time) },
        None => base,
    };
    FsStats { used_bytes: value(&layer.used_bytes), inodes_used: value(&layer.inodes_used), ..with_fs }
}

/// Adds optional counters as upstream's `addUsage` does: none only when both are none.
pub fn add_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.saturating_add(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn memory_available_needs_a_limit() {
        let m = cgroups::MemoryUsage { usage: 100, working_set: 80, limit: Some(1000), ..Default::default() };
        assert_eq!(cgroup_memory(&m, None, 0).available_bytes, Some(920));
        assert_eq!(
            cgroup_memory(&m, Some(500), 0).available_bytes,
            Some(420),
            "the machine size for the node"
        );
        let unlimited = cgroups::MemoryUsage { limit: None, ..m };
        let stats = cgroup_memory(&unlimited, None, 0);
        assert_eq!(stats.available_bytes, None);
        assert_eq!(stats.psi, Some(PsiStats::default()), "v1 reports zero pressure, as cAdvisor does");
    }

    #[test]
    fn containerd_network_gets_its_interface_list_and_time() {
        let eth0 = cri::NetworkInterfaceUsage {
            name: "eth0".into(),
            rx_bytes: Some(cri::UInt64Value { value: 10 }),
            ..Default::default()
        };
        let n = cri::NetworkUsage { timestamp: 0, default_interface: Some(eth0), interfaces: vec![] };
        assert_eq!(cri_network(&n, 5_000_000_000, true), None, "incomplete: read /proc instead");
        let s = cri_network(&n, 5_000_000_000, false).unwrap();
        assert_eq!(s.time, Time::from_unix(5));
        assert_eq!((s.default.name.as_str(), s.default.rx_bytes), ("eth0", Some(10)));
        assert_eq!(s.interfaces, vec![s.default.clone()]);
    }

    #[test]
    fn proc_network_default_and_ignored() {
        let i = |name: &str| Interface {
            name: name.into(),
            rx_bytes: 1,
            rx_errors: 0,
            tx_bytes: 2,
            tx_errors: 0,
        };
        let n = proc_network(&[i("lo"), i("eth0"), i("wlan0")], 0);
        assert_eq!(n.default.name, "eth0");
        assert_eq!(n.interfaces.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(), ["eth0", "wlan0"]);
        assert_eq!(proc_network(&[i("wlan0")], 0).default.name, "", "no eth0: an empty default");
    }

    #[test]
    fn rootfs_and_sums() {
        let layer = cri::FilesystemUsage {
            timestamp: 2_000_000_000,
            used_bytes: Some(cri::UInt64Value { value: 4096 }),
            inodes_used: Some(cri::UInt64Value { value: 3 }),
            ..Default::default()
        };
        let fs =
            super::super::fs::FsInfo { capacity: 100, available: 50, used: 50, inodes: 10, inodes_free: 4 };
        let r = cri_rootfs(&layer, Some(&fs), 9);
        assert_eq!(
            (r.used_bytes, r.inodes_used, r.capacity_bytes, r.inodes_free),
            (Some(4096), Some(3), Some(100), Some(4))
        );
        assert_eq!(r.time, Time::from_unix(2));
        let unmeasured = cri::FilesystemUsage { timestamp: 0, ..layer };
        let r = cri_rootfs(&unmeasured, None, 7_000_000_000);
        assert_eq!((r.capacity_bytes, r.time), (None, Time::from_unix(7)));
        assert_eq!(
            (add_opt(None, None), add_opt(Some(1), None), add_opt(Some(1), Some(2))),
            (None, Some(1), Some(3))
        );
    }
}
