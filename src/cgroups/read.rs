//! Reading one cgroup's usage files, for v1 and v2, into the figures cAdvisor reports.
//!
//! | figure | v1 | v2 |
//! | --- | --- | --- |
//! | CPU time | `cpuacct.usage` (ns) | `cpu.stat` `usage_usec` × 1000 |
//! | memory usage | `memory.usage_in_bytes` | `memory.current` (root: `anon` + `file`) |
//! | working set | usage − `total_inactive_file` | usage − `inactive_file` |
//! | RSS | `total_rss` | `anon` |
//! | page faults | `pgfault`, `pgmajfault` | the same keys |
//! | limit | `memory.limit_in_bytes` | `memory.max` |
//! | swap | `total_swap` | `memory.swap.current`, `memory.swap.max` |
//! | processes | `pids.current` | `pids.current` |
//! | pressure | — | `cpu.pressure`, `memory.pressure`, `io.pressure` |
//!
//! A limit above 2^62 counts as none, as cAdvisor does (v1 writes "no limit" as a large
//! page-rounded number).
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::path::Path;
use std::time::SystemTime;

/// Limits above this are "unlimited" (cAdvisor's threshold).
pub const UNLIMITED_ABOVE: u64 = 1 << 62;

/// Pressure stall information of one kind: the share of time some (or all) tasks waited.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PsiData {
    /// Total stall time as the kernel counts it (microseconds).
    pub total: u64,
    pub avg10: f64,
    pub avg60: f64,
    pub avg300: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Psi {
    pub some: PsiData,
    pub full: PsiData,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuUsage {
    /// Cumulative CPU time, nanoseconds.
    pub usage_ns: u64,
    pub psi: Option<Psi>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MemoryUsage {
    pub usage: u64,
    pub working_set: u64,
    pub rss: u64,
    pub page_faults: u64,
    pub major_page_faults: u64,
    /// `None` when unlimited.
    pub limit: Option<u64>,
    pub swap_usage: u64,
    /// `None` when unlimited or not accounted.
    pub swap_limit: Option<u64>,
    pub psi: Option<Psi>,
}

/// What one cgroup's files say; each part is `None` when its files are missing or
/// malformed (a controller not enabled for the subtree, a cgroup that just went away).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CgroupStats {
    pub cpu: Option<CpuUsage>,
    pub memory: Option<MemoryUsage>,
    /// Tasks in the cgroup (`pids.current`).
    pub pids: Option<u64>,
    pub io_psi: Option<Psi>,
    /// The directory's modification time (what cAdvisor takes as the creation time).
    pub created: Option<SystemTime>,
}

fn read(dir: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(file)).ok()
}

fn read_u64(dir: &Path, file: &str) -> Option<u64> {
    read(dir, file)?.trim().parse().ok()
}

/// A limit file (`max` or a number) as `Some(limit)`, `None` when unlimited.
fn read_limit(dir: &Path, file: &str) -> Option<Option<u64>> {
    let text = read(dir, file)?;
    let text = text.trim();
    if text == "max" {
        return Some(None);
    }
    let value: u64 = text.parse().ok()?;
    Some((value <= UNLIMITED_ABOVE).then_some(value))
}

/// `key value` lines (`memory.stat`, `cpu.stat`); malformed lines are skipped.
pub fn parse_flat_keyed(text: &str) -> HashMap<&str, u64> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k, v.trim().parse().ok()?))
        })
        .collect()
}

/// A pressure file: `some avg10=0.00 avg60=0.00 avg300=0.00 total=0` and a `full` line
/// (which older kernels leave out of `cpu.pressure`: zero then).
pub fn parse_psi(text: &str) -> Option<Psi> {
    let mut psi = Psi::default();
    let mut seen = false;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let data = match words.next() {
            Some("some") => &mut psi.some,
            Some("full") => &mut psi.full,
            _ => continue,
        };
        for word in words {
            let Some((k, v)) = word.split_once('=') else { continue };
            match k {
                "avg10" => data.avg10 = v.parse().ok()?,
                "avg60" => data.avg60 = v.parse().ok()?,
                "avg300" => data.avg300 = v.parse().ok()?,
                "total" => data.total = v.parse().ok()?,
                _ => {}
            }
        }
        seen = true;
    }
    seen.then_some(psi)
}

pub(crate) fn read_psi(path: &Path) -> Option<Psi> {
    parse_psi(&std::fs::read_to_string(path).ok()?)
}

fn modified(dir: &Path) -> Option<SystemTime> {
    std::fs::metadata(dir).ok()?.modified().ok()
}

/// v1: each controller's directory is found separately (they may differ in depth).
pub struct V1Dirs<'a> {
    pub cpuacct: Option<&'a Path>,
    pub memory: Option<&'a Path>,
    pub pids: Option<&'a Path>,
}

pub fn read_v1(dirs: &V1Dirs<'_>) -> CgroupStats {
    let cpu = dirs
        .cpuacct
        .and_then(|d| read_u64(d, "cpuacct.usage"))
        .map(|usage_ns| CpuUsage { usage_ns, psi: None });
    let memory = dirs.memory.and_then(memory_v1);
    let pids = dirs.pids.and_then(|d| read_u64(d, "pids.current"));
    let created = [dirs.memory, dirs.cpuacct].into_iter().flatten().filter_map(modified).min();
    CgroupStats { cpu, memory, pids, io_psi: None, created }
}

fn memory_v1(dir: &Path) -> Option<MemoryUsage> {
    let usage = read_u64(dir, "memory.usage_in_bytes")?;
    let stat_text = read(dir, "memory.stat")?;
    let stat = parse_flat_keyed(&stat_text);
    // Hierarchical totals when the kernel keeps them (use_hierarchy), else the local ones.
    let pick = |total: &str, local: &str| stat.get(total).or_else(|| stat.get(local)).copied().unwrap_or(0);
    let inactive_file = pick("total_inactive_file", "inactive_file");
    Some(MemoryUsage {
        usage,
        working_set: usage.saturating_sub(inactive_file),
        rss: pick("total_rss", "rss"),
        page_faults: stat.get("pgfault").copied().unwrap_or(0),
        major_page_faults: stat.get("pgmajfault").copied().unwrap_or(0),
        limit: read_limit(dir, "memory.limit_in_bytes").flatten(),
        swap_usage: pick("total_swap", "swap"),
        swap_limit: None,
        psi: None,
    })
}

/// v2: one directory for every controller. `is_root` marks the hierarchy's root, which
/// has no `memory.current`.
pub fn read_v2(dir: &Path, is_root: bool) -> CgroupStats {
    let cpu = read(dir, "cpu.stat").and_then(|text| {
        let usec = parse_flat_keyed(&text).get("usage_usec").copied()?;
        Some(CpuUsage { usage_ns: usec.saturating_mul(1000), psi: read_psi(&dir.join("cpu.pressure")) })
    });
    CgroupStats {
        cpu,
        memory: memory_v2(dir, is_root),
        pids: read_u64(dir, "pids.current"),
        io_psi: read_psi(&dir.join("io.pressure")),
        created: modified(dir),
    }
}

fn memory_v2(dir: &Path, is_root: bool) -> Option<MemoryUsage> {
    let stat_text = read(dir, "memory.stat")?;
    let stat = parse_flat_keyed(&stat_text);
    let get = |k: &str| stat.get(k).copied().unwrap_or(0);
    let usage = match read_u64(dir, "memory.current") {
        Some(usage) => usage,
        None if is_root => get("anon").saturating_add(get("file")),
        None => return None,
    };
    Some(MemoryUsage {
        usage,
        working_set: usage.saturating_sub(get("inactive_file")),
        rss: get("anon"),
        page_faults: get("pgfault"),
        major_page_faults: get("pgmajfault"),
        limit: read_limit(dir, "memory.max").flatten(),
        swap_usage: read_u64(dir, "memory.swap.current").unwrap_or(0),
        swap_limit: read_limit(dir, "memory.swap.max").flatten(),
        psi: read_psi(&dir.join("memory.pressure")),
    })
}

/// The tasks of a cgroup directory (`cgroup.procs`), for finding a sandbox's process.
pub fn first_process(dir: &Path) -> Option<u32> {
    read(dir, "cgroup.procs")?.lines().find_map(|l| l.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn psi_files() {
        let text = "some avg10=1.50 avg60=0.25 avg300=0.00 total=123456\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n";
        let psi = parse_psi(text).unwrap();
        assert_eq!(psi.some, PsiData { total: 123_456, avg10: 1.5, avg60: 0.25, avg300: 0.0 });
        assert_eq!(psi.full.total, 7);
        let only_some = parse_psi("some avg10=0.10 avg60=0.00 avg300=0.00 total=5\n").unwrap();
        assert_eq!(only_some.full, PsiData::default());
        assert_eq!(parse_psi(""), None);
        assert_eq!(parse_psi("some avg10=x total=1\n"), None, "malformed numbers are not guessed");
    }

    #[test]
    fn flat_keyed() {
        let m = parse_flat_keyed("anon 10\nfile 20\nbroken\nneg -1\n");
        assert_eq!((m.get("anon"), m.get("file"), m.len()), (Some(&10), Some(&20), 2));
    }
}
