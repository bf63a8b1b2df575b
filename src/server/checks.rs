//! The health checks behind `/healthz`, in upstream's output format.

use std::sync::Arc;
use std::time::Duration;

use super::Reply;

/// One named check: `Ok(())` or why it fails.
pub type Check = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

#[derive(Clone, Default)]
pub struct Checks {
    checks: Vec<(String, Check)>,
}

impl Checks {
    pub fn add(mut self, name: &str, check: Check) -> Checks {
        self.checks.push((name.to_string(), check));
        self
    }

    /// `ok` when every check passes; otherwise 500 with one `[+]`/`[-]` line per check, as
    /// upstream's healthz handler writes it (reasons are withheld from the response and logged).
    pub fn reply(&self, verbose: bool) -> Reply {
        let mut lines = String::new();
        let mut failed = false;
        for (name, check) in &self.checks {
            match check() {
                Ok(()) => lines.push_str(&format!("[+]{name} ok\n")),
                Err(reason) => {
                    failed = true;
                    log::warn!("healthz check {name} failed: {reason}");
                    lines.push_str(&format!("[-]{name} failed: reason withheld\n"));
                }
            }
        }
        if failed {
            lines.push_str("healthz check failed\n");
            return Reply::text(500, lines);
        }
        if verbose { Reply::text(200, format!("{lines}healthz check passed\n")) } else { Reply::text(200, "ok") }
    }
}

/// A check from a "healthy within threshold" probe.
pub fn within(what: &'static str, threshold: Duration, healthy: impl Fn(Duration) -> bool + Send + Sync + 'static) -> Check {
    Arc::new(move || {
        if healthy(threshold) { Ok(()) } else { Err(format!("{what} has not run in the last {}s", threshold.as_secs())) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ok_and_failed_bodies() {
        let ok = Checks::default().add("ping", Arc::new(|| Ok(())));
        assert_eq!(ok.reply(false), Reply::text(200, "ok"));
        assert_eq!(ok.reply(true).body, b"[+]ping ok\nhealthz check passed\n".to_vec());
        let bad = ok.add("pleg", Arc::new(|| Err("stuck".into())));
        let r = bad.reply(false);
        assert_eq!(r.status, 500);
        assert_eq!(
            String::from_utf8_lossy(&r.body),
            "[+]ping ok\n[-]pleg failed: reason withheld\nhealthz check failed\n"
        );
    }
}
