//! Retrying without hammering the API server, and without flooding the log meanwhile.

use std::time::{Duration, Instant};

use crate::kubeclient::error::Error;

/// 800 ms doubling to 30 s, plus up to half again of jitter.
pub(super) struct Backoff {
    next: Duration,
}

const BACKOFF_INITIAL: Duration = Duration::from_millis(800);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

impl Backoff {
    pub(super) fn new() -> Self {
        Backoff { next: BACKOFF_INITIAL }
    }

    pub(super) fn reset(&mut self) {
        self.next = BACKOFF_INITIAL;
    }

    pub(super) fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (base * 2).min(BACKOFF_MAX);
        let half_millis = u64::try_from(base.as_millis() / 2).unwrap_or(0).max(1);
        (base + Duration::from_millis(crate::kubeclient::random_u64() % half_millis)).min(BACKOFF_MAX)
    }
}

/// Keeps an API server outage from filling the log.
#[derive(Default)]
pub(super) struct FailureLog {
    count: u64,
    last_warning: Option<Instant>,
}

const REPEAT_WARNING: Duration = Duration::from_secs(300);

impl FailureLog {
    pub(super) fn failed(&mut self, name: &str, e: &Error, delay: Duration) {
        self.count += 1;
        let due = self.last_warning.is_none_or(|t| t.elapsed() >= REPEAT_WARNING);
        if due {
            let again = if self.count > 1 { format!(" (failing for {} attempts)", self.count) } else { String::new() };
            log::warn!("reflector {name}: {e}{again}; retrying in {delay:.1?}");
            self.last_warning = Some(Instant::now());
        } else {
            log::debug!("reflector {name}: {e}; retrying in {delay:.1?}");
        }
    }

    pub(super) fn recovered(&mut self, name: &str) {
        if self.count > 0 {
            log::info!("reflector {name}: recovered after {} failed attempts", self.count);
        }
        *self = FailureLog::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_with_bounded_jitter() {
        let mut b = Backoff::new();
        let mut bases = Vec::new();
        for _ in 0..10 {
            let base = b.next;
            let d = b.next_delay();
            assert!(d >= base.min(BACKOFF_MAX) && d <= (base + base / 2).min(BACKOFF_MAX), "{d:?} for {base:?}");
            bases.push(base.as_millis());
        }
        assert_eq!(&bases[..7], &[800, 1600, 3200, 6400, 12800, 25600, 30000]);
        b.reset();
        assert_eq!(b.next, BACKOFF_INITIAL);
    }
}
