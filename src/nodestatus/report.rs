//! When a computed status is sent (upstream's `tryUpdateNodeStatus` timing): at once if it
//! changed; otherwise only once nodeStatusReportFrequency has passed since the last report.
//! After a change (or the first report) that period is shifted by a random amount in
//! [-½, +½) of itself, so nodes that changed together do not all report together again; a
//! report forced by the period resets the shift, keeping later reports on a fixed beat.
//! Condition heartbeats move only when a report is sent, since unsent statuses are dropped.

use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub(crate) struct ReportClock {
    frequency: Duration,
    last_report: Option<Instant>,
    /// Added to `frequency`; negative values shorten it.
    shift_seconds: f64,
}

impl ReportClock {
    pub fn new(frequency: Duration) -> ReportClock {
        ReportClock { frequency, last_report: None, shift_seconds: 0.0 }
    }

    /// Whether the report period has run out (always, before the first report).
    pub fn expired(&self, now: Instant) -> bool {
        let Some(last) = self.last_report else { return true };
        let period = (self.frequency.as_secs_f64() + self.shift_seconds).max(0.0);
        now.saturating_duration_since(last).as_secs_f64() >= period
    }

    /// Whether a status computed at `now` is to be sent.
    pub fn should_report(&self, changed: bool, now: Instant) -> bool {
        changed || self.expired(now)
    }

    /// Called before sending; `random` in [0, 1) picks the shift after a change.
    pub fn sending(&mut self, changed: bool, random: f64) {
        self.shift_seconds = if changed || self.last_report.is_none() {
            self.frequency.as_secs_f64() * (random - 0.5)
        } else {
            0.0
        };
    }

    /// Called once the status was accepted.
    pub fn sent(&mut self, now: Instant) {
        self.last_report = Some(now);
    }

    /// Forget the last report (a new Node needs a full status at once).
    pub fn reset(&mut self) {
        self.last_report = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn first_report_is_due_at_once() {
        let clock = ReportClock::new(5 * MIN);
        assert!(clock.should_report(false, Instant::now()));
    }

    #[test]
    fn unchanged_status_waits_for_the_shifted_period() {
        let t0 = Instant::now();
        let mut clock = ReportClock::new(5 * MIN);
        // The first report shifts the period by (0.9 - 0.5) × 5 min = +2 min.
        clock.sending(false, 0.9);
        clock.sent(t0);
        assert!(!clock.should_report(false, t0 + Duration::from_secs(10)));
        assert!(!clock.should_report(false, t0 + 7 * MIN - Duration::from_secs(1)));
        assert!(clock.should_report(false, t0 + 7 * MIN));
        assert!(clock.should_report(true, t0 + Duration::from_secs(10)), "a change is sent at once");
    }

    #[test]
    fn a_forced_report_returns_to_the_fixed_beat() {
        let t0 = Instant::now();
        let mut clock = ReportClock::new(5 * MIN);
        clock.sending(true, 0.0);
        clock.sent(t0);
        // Shifted by -2.5 min after the change.
        assert!(clock.expired(t0 + 150 * Duration::from_secs(1)));
        let t1 = t0 + 3 * MIN;
        clock.sending(false, 0.0);
        clock.sent(t1);
        assert!(!clock.expired(t1 + 5 * MIN - Duration::from_secs(1)));
        assert!(clock.expired(t1 + 5 * MIN));
    }

    #[test]
    fn reset_makes_the_next_report_due() {
        let t0 = Instant::now();
        let mut clock = ReportClock::new(5 * MIN);
        clock.sending(false, 0.5);
        clock.sent(t0);
        assert!(!clock.expired(t0));
        clock.reset();
        assert!(clock.expired(t0));
    }
}
