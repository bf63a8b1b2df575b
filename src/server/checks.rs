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
        self.reply_excluding(verbose, &[])
    }

    /// [`Checks::reply`] with upstream's `?exclude=<name>`: excluded checks are not run.
    pub fn reply_excluding(&self, verbose: bool, exclude: &[String]) -> Reply {
        let mut lines = String::new();
        let mut failed = false;
        for (name, check) in &self.checks {
            if exclude.contains(name) {
                lines.push_str(&format!("[+]{name} excluded: ok\n"));
                continue;
            }
            match check() {
                Ok(()) => lines.push_str(&format!("[+]{name} ok\n")),
                Err(reason) => {
                    failed = true;
                    log::warn!("healthz check {name} failed: {reason}");
                    lines.push_str(&format!("[-]{name} failed: reason withheld\n"));
                }
            }
        }
        let unknown: Vec<String> = exclude.iter().filter(|x| !self.checks.iter().any(|(n, _)| n == *x)).map(|x| format!("{x:?}")).collect();
        if !unknown.is_empty() {
            lines.push_str(&format!("warn: some health checks cannot be excluded: no matches for {}\n", unknown.join(",")));
        }
        if failed {
            lines.push_str("healthz check failed\n");
            return Reply::text(500, lines);
        }
        if verbose { Reply::text(200, format!("{lines}healthz check passed\n")) } else { Reply::text(200, "ok") }
    }
}

impl Checks {
    /// One check by name (`/healthz/<name>`): `ok`, or 500 with the reason; `None` if unknown.
    pub fn reply_one(&self, name: &str) -> Option<Reply> {
        let (_, check) = self.checks.iter().find(|(n, _)| n == name)?;
        Some(match check() {
            Ok(()) => Reply::text(200, "ok"),
            Err(reason) => Reply::text(500, format!("internal server error: {reason}\n")),
        })
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
        let excluded = bad.reply_excluding(true, &["pleg".into(), "nope".into()]);
        assert_eq!(
            String::from_utf8_lossy(&excluded.body),
            "[+]ping ok\n[+]pleg excluded: ok\nwarn: some health checks cannot be excluded: no matches for \"nope\"\nhealthz check passed\n"
        );
        assert_eq!(bad.reply_one("ping"), Some(Reply::text(200, "ok")));
        assert_eq!(bad.reply_one("pleg"), Some(Reply::text(500, "internal server error: stuck\n")));
        assert_eq!(bad.reply_one("nope"), None);
    }
}
