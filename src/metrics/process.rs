//! The standard `process_*` metrics of this process, read from `/proc` at each scrape (what
//! Prometheus' Go process collector reports for the upstream kubelet).

use std::fmt::Write as _;

use super::registry::format_value;

/// What `/proc/self/stat` says, in its own units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stat {
    pub utime_ticks: u64,
    pub stime_ticks: u64,
    pub start_ticks: u64,
    pub vsize_bytes: u64,
    pub rss_pages: u64,
}

/// Parses `/proc/<pid>/stat`. The command name may hold spaces and parentheses, so fields
/// are counted from the last `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let after = text.get(text.rfind(')')? + 1..)?;
    // Fields from 3 (state) on; field n is at index n - 3.
    let fields: Vec<&str> = after.split_whitespace().collect();
    let num = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    Some(Stat {
        utime_ticks: num(14)?,
        stime_ticks: num(15)?,
        start_ticks: num(22)?,
        vsize_bytes: num(23)?,
        rss_pages: num(24)?,
    })
}

/// `btime` of `/proc/stat`: boot time in Unix seconds.
pub fn parse_btime(text: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix("btime ")).and_then(|v| v.trim().parse().ok())
}

/// The soft "Max open files" limit of `/proc/self/limits` (None when unlimited).
pub fn parse_max_fds(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files").split_whitespace().next()?.parse().ok()
}

fn sysconf(name: libc::c_int) -> Option<u64> {
    // SAFETY: sysconf only reads a configuration value; any name is allowed (-1 if unknown).
    let v = unsafe { libc::sysconf(name) };
    u64::try_from(v).ok().filter(|v| *v > 0)
}

fn gauge(out: &mut String, name: &str, help: &str, kind: &str, v: f64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}", format_value(v));
}

/// Unix seconds when this process started.
pub fn start_time_seconds() -> Option<f64> {
    let ticks = sysconf(libc::_SC_CLK_TCK).unwrap_or(100) as f64;
    let stat = std::fs::read_to_string("/proc/self/stat").ok().and_then(|t| parse_stat(&t))?;
    let btime = std::fs::read_to_string("/proc/stat").ok().and_then(|t| parse_btime(&t))?;
    Some(btime as f64 + stat.start_ticks as f64 / ticks)
}

/// `process_start_time_seconds` alone (what `/metrics/probes` carries besides the probes).
pub fn encode_start_time(out: &mut String) {
    if let Some(start) = start_time_seconds() {
        gauge(out, "process_start_time_seconds", START_HELP, "gauge", start);
    }
}

const START_HELP: &str = "Start time of the process since unix epoch in seconds.";

/// The text of the process families (alphabetical, as Go's registry sorts them).
pub fn encode(out: &mut String) {
    let ticks = sysconf(libc::_SC_CLK_TCK).unwrap_or(100) as f64;
    let page = sysconf(libc::_SC_PAGESIZE).unwrap_or(4096) as f64;
    let stat = std::fs::read_to_string("/proc/self/stat").ok().and_then(|t| parse_stat(&t));
    if let Some(s) = stat {
        gauge(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter", (s.utime_ticks + s.stime_ticks) as f64 / ticks);
    }
    if let Some(max) = std::fs::read_to_string("/proc/self/limits").ok().and_then(|t| parse_max_fds(&t)) {
        gauge(out, "process_max_fds", "Maximum number of open file descriptors.", "gauge", max as f64);
    }
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        gauge(out, "process_open_fds", "Number of open file descriptors.", "gauge", dir.count() as f64);
    }
    if let Some(s) = stat {
        gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", s.rss_pages as f64 * page);
    }
    encode_start_time(out);
    if let Some(s) = stat {
        gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", s.vsize_bytes as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_a_tricky_command_name() {
        let text = "4242 (rk (a) b) S 1 4242 4242 0 -1 4194560 2000 0 0 0 150 50 0 0 20 0 12 0 987654 123456789 3000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        let s = parse_stat(text);
        assert_eq!(
            s,
            Some(Stat { utime_ticks: 150, stime_ticks: 50, start_ticks: 987654, vsize_bytes: 123456789, rss_pages: 3000 })
        );
        assert_eq!(parse_stat("12 (x) S 1"), None);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn btime_and_limits() {
        assert_eq!(parse_btime("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n"), Some(1_700_000_000));
        let limits = "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 524288               files\n";
        assert_eq!(parse_max_fds(limits), Some(1024));
        assert_eq!(parse_max_fds("Max open files            unlimited            unlimited            files\n"), None);
    }

    #[test]
    fn this_process_is_described() {
        let mut out = String::new();
        encode(&mut out);
        for name in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds", "process_open_fds"] {
            assert!(out.contains(&format!("# TYPE {name} ")), "{name} missing from:\n{out}");
        }
    }
}
