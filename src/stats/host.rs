//! The host's own figures from `/proc`: CPU time, memory, network interfaces, processes,
//! boot time and pressure. Parsers take text; [`Proc`] reads the files under a root so
//! tests can use a fake tree.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::cgroups::{Psi, read::parse_psi};

/// Where `/proc` is.
#[derive(Debug, Clone)]
pub struct Proc {
    root: PathBuf,
}

impl Proc {
    pub fn new(root: &Path) -> Proc {
        Proc { root: root.to_path_buf() }
    }

    fn read(&self, relative: &str) -> Option<String> {
        std::fs::read_to_string(self.root.join(relative)).ok()
    }

    pub fn stat(&self) -> Option<ProcStat> {
        parse_stat(&self.read("stat")?)
    }

    pub fn meminfo(&self) -> Option<HashMap<String, u64>> {
        Some(parse_meminfo(&self.read("meminfo")?))
    }

    /// `/proc/<pid>/net/dev` (`"self"` for our own namespace).
    pub fn net_dev(&self, pid: &str) -> Option<Vec<Interface>> {
        Some(parse_net_dev(&self.read(&format!("{pid}/net/dev"))?))
    }

    /// CPU time of one process (user + system), in clock ticks.
    pub fn process_ticks(&self, pid: &str) -> Option<u64> {
        parse_process_ticks(&self.read(&format!("{pid}/stat"))?)
    }

    /// The lower of `pid_max` and `threads-max`: how many tasks the node can run.
    pub fn max_pid(&self) -> Option<u64> {
        ["sys/kernel/pid_max", "sys/kernel/threads-max"]
            .iter()
            .filter_map(|f| self.read(f)?.trim().parse().ok())
            .min()
    }

    /// Tasks that exist now (the denominator of `/proc/loadavg`'s fourth field).
    pub fn running_tasks(&self) -> Option<u64> {
        parse_loadavg_tasks(&self.read("loadavg")?)
    }

    /// `/proc/pressure/<kind>` (`cpu`, `memory`, `io`), where the kernel has PSI.
    pub fn pressure(&self, kind: &str) -> Option<Psi> {
        parse_psi(&self.read(&format!("pressure/{kind}"))?)
    }
}

/// What `/proc/stat` says about the whole machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// Ticks spent not idle: user, nice, system, irq, softirq, steal (guest time is
    /// already inside user and nice).
    pub busy_ticks: u64,
    /// Boot time, seconds since the epoch.
    pub boot_time: i64,
}

pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let mut busy = None;
    let mut boot = None;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("cpu") => {
                let v: Vec<u64> = words.map(|w| w.parse().unwrap_or(0)).collect();
                let at = |i: usize| v.get(i).copied().unwrap_or(0);
                // user nice system idle iowait irq softirq steal guest guest_nice
                busy = Some([0, 1, 2, 5, 6, 7].iter().map(|&i| at(i)).fold(0u64, u64::saturating_add));
            }
            Some("btime") => boot = words.next().and_then(|w| w.parse().ok()),
            _ => {}
        }
    }
    Some(ProcStat { busy_ticks: busy?, boot_time: boot? })
}

/// `/proc/meminfo` in bytes (`kB` values multiplied; counts such as `HugePages_Total` as
/// they are). The one meminfo parser: stats, node capacity and emptyDir sizes use it.
pub fn parse_meminfo(text: &str) -> HashMap<String, u64> {
    text.lines()
        .filter_map(|line| {
            let (key, rest) = line.split_once(':')?;
            let mut words = rest.split_whitespace();
            let value: u64 = words.next()?.parse().ok()?;
            let value = if words.next() == Some("kB") { value.saturating_mul(1024) } else { value };
            Some((key.to_string(), value))
        })
        .collect()
}

/// One network interface's counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub rx_bytes: u64,
    pub rx_errors: u64,
    pub tx_bytes: u64,
    pub tx_errors: u64,
}

/// `/proc/net/dev`: two header lines, then `name: rx(bytes packets errs drop fifo frame
/// compressed multicast) tx(bytes packets errs ...)`.
pub fn parse_net_dev(text: &str) -> Vec<Interface> {
    text.lines()
        .skip(2)
        .filter_map(|line| {
            let (name, counters) = line.split_once(':')?;
            let v: Vec<u64> = counters.split_whitespace().map(|w| w.parse().ok()).collect::<Option<_>>()?;
            Some(Interface {
                name: name.trim().to_string(),
                rx_bytes: *v.first()?,
                rx_errors: *v.get(2)?,
                tx_bytes: *v.get(8)?,
                tx_errors: *v.get(10)?,
            })
        })
        .collect()
}

/// Interfaces cAdvisor leaves out of network stats: loopback, the host ends of container
/// veth pairs, and docker/nerdctl bridges.
pub fn is_ignored_interface(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["lo", "veth", "docker", "nerdctl"].iter().any(|p| name.starts_with(p))
}

/// `/proc/<pid>/stat`: utime + stime (fields 14 and 15). The command name (field 2) may
/// hold spaces and parentheses, so fields are counted after its last `)`.
pub fn parse_process_ticks(text: &str) -> Option<u64> {
    let (_, rest) = text.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state): utime is field 14, at index 11.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime.saturating_add(stime))
}

/// `/proc/loadavg`: `0.00 0.01 0.05 1/123 4567`; the total after the slash.
pub fn parse_loadavg_tasks(text: &str) -> Option<u64> {
    text.split_whitespace().nth(3)?.split_once('/')?.1.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn proc_stat() {
        let text = "cpu  100 20 30 5000 40 5 6 7 8 9\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1 2\nbtime 1700000000\nprocesses 9\n";
        let s = parse_stat(text).unwrap();
        assert_eq!(s.busy_ticks, 100 + 20 + 30 + 5 + 6 + 7, "idle, iowait and guest left out");
        assert_eq!(s.boot_time, 1_700_000_000);
        assert_eq!(parse_stat("cpu 1 2 3\n"), None, "no btime");
        assert_eq!(
            parse_stat("cpu 1 2\nbtime 5\n").unwrap().busy_ticks,
            3,
            "short lines count what is there"
        );
    }

    #[test]
    fn meminfo() {
        let m = parse_meminfo(
            "MemTotal:       24563412 kB\nMemFree:  100 kB\nHugePages_Total:       2\nBroken\nSwapTotal: lots kB\n",
        );
        assert_eq!(m["MemTotal"], 24_563_412 * 1024);
        assert_eq!(m["MemFree"], 102_400);
        assert_eq!(m["HugePages_Total"], 2);
        assert_eq!(m.len(), 3, "unparsable lines are left out");
        assert_eq!(m.get("Mem"), None, "whole keys only");
    }

    const NET_DEV: &str = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  123456     100    0    0    0     0          0         0   123456     100    0    0    0     0       0          0
  eth0: 9876543    5000    2    0    0     0          0         0  1234567    4000    1    0    0     0       0          0
vethab12: 1 1 0 0 0 0 0 0 2 2 0 0 0 0 0 0
  bad: 1 2
";

    #[test]
    fn net_dev() {
        let ifs = parse_net_dev(NET_DEV);
        assert_eq!(ifs.len(), 3, "{ifs:?}");
        assert_eq!(
            ifs[1],
            Interface {
                name: "eth0".into(),
                rx_bytes: 9_876_543,
                rx_errors: 2,
                tx_bytes: 1_234_567,
                tx_errors: 1
            }
        );
        let kept: Vec<&str> =
            ifs.iter().filter(|i| !is_ignored_interface(&i.name)).map(|i| i.name.as_str()).collect();
        assert_eq!(kept, ["eth0"]);
    }

    #[test]
    fn process_ticks() {
        let stat =
            "1234 (my (weird) cmd) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 4 0 99 1000 50";
        assert_eq!(parse_process_ticks(stat), Some(325));
        assert_eq!(parse_process_ticks("1 (x) S 1 2"), None);
    }

    #[test]
    fn loadavg_and_limits() {
        assert_eq!(parse_loadavg_tasks("0.00 0.01 0.05 2/345 6789\n"), Some(345));
        assert_eq!(parse_loadavg_tasks("0.00 0.01\n"), None);
        let dir = std::env::temp_dir().join(format!("rk-stats-proc-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sys/kernel")).unwrap();
        std::fs::write(dir.join("sys/kernel/pid_max"), "4194304\n").unwrap();
        std::fs::write(dir.join("sys/kernel/threads-max"), "191792\n").unwrap();
        assert_eq!(Proc::new(&dir).max_pid(), Some(191_792));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn real_proc() {
        let p = Proc::new(Path::new("/proc"));
        assert!(p.stat().unwrap().busy_ticks > 0);
        assert!(p.meminfo().unwrap()["MemTotal"] > 0);
        assert!(p.process_ticks("self").is_some());
        assert!(p.net_dev("self").unwrap().iter().any(|i| i.name == "lo"));
        assert!(p.max_pid().unwrap() > 0 && p.running_tasks().unwrap() > 0);
    }
}
