//! klog-style log lines through the `log` facade.
//!
//! Every line looks like the upstream kubelet's so that existing log tooling parses it:
//!
//! ```text
//! I1122 18:30:00.000000   1234 pleg.rs:42] message
//! ```
//!
//! Verbosity (`--v`): `error!`, `warn!` and `info!` always print; `debug!` prints at `--v=2`
//! and above (upstream's "steady state" level); `trace!` at `--v=4` and above (upstream's
//! "debug" level). Other crates' (ureq, rustls) debug and trace lines describe single HTTP
//! requests and TLS handshakes: they print only from `--v=6`, upstream's request-logging level.

use std::io::Write;
use std::sync::OnceLock;

struct Klog {
    max: log::LevelFilter,
}

/// Verbosity from which other crates' debug lines print.
const DEPENDENCY_DEBUG_VERBOSITY: u32 = 6;
static VERBOSITY: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

static LOGGER: OnceLock<Klog> = OnceLock::new();

/// Map a klog verbosity to the `log` level filter we print.
pub fn level_for_verbosity(v: u32) -> log::LevelFilter {
    match v {
        0 | 1 => log::LevelFilter::Info,
        2 | 3 => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    }
}

/// Install the klog-style logger. Later calls only change the verbosity.
pub fn init(verbosity: u32) {
    let max = level_for_verbosity(verbosity);
    VERBOSITY.store(verbosity, std::sync::atomic::Ordering::Relaxed);
    let logger = LOGGER.get_or_init(|| Klog { max: log::LevelFilter::Trace });
    // set_logger fails only when a logger is already installed: then keep that one.
    let _ = log::set_logger(logger);
    log::set_max_level(max.min(logger.max));
}

impl log::Log for Klog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
            && (metadata.level() <= log::Level::Info
                || is_ours(metadata.target())
                || VERBOSITY.load(std::sync::atomic::Ordering::Relaxed) >= DEPENDENCY_DEBUG_VERBOSITY)
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = format_line(record.level(), now_local(), thread_id(), record.file(), record.line(), record.args());
        // Logging must never take the agent down: a closed stderr is ignored.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

fn is_ours(target: &str) -> bool {
    target == "rkubelet" || target.starts_with("rkubelet::")
}

/// Wall-clock time split into the parts a klog header shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micros: u32,
}

/// Format one log line; public so the format can be tested without a clock.
pub fn format_line(
    level: log::Level,
    t: Stamp,
    tid: i64,
    file: Option<&str>,
    line: Option<u32>,
    args: &std::fmt::Arguments,
) -> String {
    let letter = match level {
        log::Level::Error => 'E',
        log::Level::Warn => 'W',
        _ => 'I',
    };
    let file = file.map(|f| f.rsplit('/').next().unwrap_or(f)).unwrap_or("???");
    format!(
        "{letter}{:02}{:02} {:02}:{:02}:{:02}.{:06} {tid:>7} {file}:{}] {args}\n",
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        t.micros,
        line.unwrap_or(0),
    )
}

fn thread_id() -> i64 {
    // SAFETY: gettid has no preconditions and cannot fail.
    i64::from(unsafe { libc::gettid() })
}

fn now_local() -> Stamp {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = libc::time_t::try_from(now.as_secs()).unwrap_or(0);
    // SAFETY: tm is plain old data; an all-zero value is a valid initial state.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the duration of the call; localtime_r is thread-safe.
    let ok = unsafe { !libc::localtime_r(&secs, &mut tm).is_null() };
    if !ok {
        return Stamp { month: 1, day: 1, hour: 0, minute: 0, second: 0, micros: now.subsec_micros() };
    }
    Stamp {
        month: u32::try_from(tm.tm_mon + 1).unwrap_or(1),
        day: u32::try_from(tm.tm_mday).unwrap_or(1),
        hour: u32::try_from(tm.tm_hour).unwrap_or(0),
        minute: u32::try_from(tm.tm_min).unwrap_or(0),
        second: u32::try_from(tm.tm_sec).unwrap_or(0),
        micros: now.subsec_micros(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_debug_lines_below_v6() {
        assert!(is_ours("rkubelet") && is_ours("rkubelet::pleg"));
        assert!(!is_ours("ureq::unversioned::transport::tcp") && !is_ours("rustls::client::hs"));
        assert!(!is_ours("rkubelet_fuzz"));
    }

    #[test]
    fn line_has_klog_shape() {
        let t = Stamp { month: 11, day: 22, hour: 18, minute: 30, second: 0, micros: 42 };
        let s = format_line(log::Level::Info, t, 1234, Some("src/pleg.rs"), Some(42), &format_args!("hello {}", 1));
        assert_eq!(s, "I1122 18:30:00.000042    1234 pleg.rs:42] hello 1\n");
        let s = format_line(log::Level::Warn, t, 7, None, None, &format_args!("x"));
        assert!(s.starts_with("W1122 18:30:00.000042       7 ???:0] x"));
    }

    #[test]
    fn verbosity_maps_to_levels() {
        assert_eq!(level_for_verbosity(0), log::LevelFilter::Info);
        assert_eq!(level_for_verbosity(2), log::LevelFilter::Debug);
        assert_eq!(level_for_verbosity(4), log::LevelFilter::Trace);
    }
}
