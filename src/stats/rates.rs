//! CPU usage rates (`usageNanoCores`) from two samples of a cumulative CPU-time counter,
//! as cAdvisor and the CRI stats provider compute them:
//!
//! ```text
//! usageNanoCores = (usage₂ − usage₁) / (t₂ − t₁) × 10⁹      t in ns, usage in core-ns
//! ```
//!
//! Keyed by what is measured (`node`, `pod/<uid>`, `container/<id>`...). A counter that
//! went backwards (a cgroup recreated) restarts the key; keys not seen in a round are
//! forgotten at its end, so the map follows the pods that exist.
#![forbid(unsafe_code)]

use std::collections::HashMap;

#[derive(Debug, Clone, Copy)]
struct Sample {
    at_ns: i64,
    usage_ns: u64,
    round: u64,
}

#[derive(Debug, Default)]
pub struct Rates {
    last: HashMap<String, Sample>,
    round: u64,
}

impl Rates {
    /// Records a sample; returns the rate since the previous one of the same key.
    pub fn observe(&mut self, key: &str, at_ns: i64, usage_ns: u64) -> Option<u64> {
        let sample = Sample { at_ns, usage_ns, round: self.round };
        let Some(prev) = self.last.get(key).copied() else {
            self.last.insert(key.to_string(), sample);
            return None;
        };
        if at_ns == prev.at_ns && usage_ns == prev.usage_ns {
            // The same sample again (a runtime caching its figures): no new information;
            // keep the earlier base so the next real sample spans a real interval.
            if let Some(s) = self.last.get_mut(key) {
                s.round = self.round;
            }
            return None;
        }
        self.last.insert(key.to_string(), sample);
        let elapsed = at_ns.checked_sub(prev.at_ns).filter(|&d| d > 0)?;
        let used = usage_ns.checked_sub(prev.usage_ns)?;
        // f64 keeps the multiplication from overflowing; the precision is ample.
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let rate = (used as f64 / elapsed as f64 * 1e9) as u64;
        Some(rate)
    }

    /// Ends a sampling round: keys not observed in it are dropped.
    pub fn end_round(&mut self) {
        let round = self.round;
        self.last.retain(|_, s| s.round == round);
        self.round = self.round.wrapping_add(1);
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.last.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: i64 = 1_000_000_000;

    #[test]
    fn rate_from_two_samples() {
        let mut r = Rates::default();
        assert_eq!(r.observe("c", 10 * SEC, 1_000_000_000), None, "one sample is no rate");
        // 0.5 s of CPU in 10 s: 50 millicores = 50,000,000 nanocores.
        assert_eq!(r.observe("c", 20 * SEC, 1_500_000_000), Some(50_000_000));
        // Two cores busy for 5 s.
        assert_eq!(r.observe("c", 25 * SEC, 11_500_000_000), Some(2_000_000_000));
    }

    #[test]
    fn counter_reset_and_clock_going_back() {
        let mut r = Rates::default();
        r.observe("c", 10 * SEC, 5_000);
        assert_eq!(r.observe("c", 20 * SEC, 1_000), None, "counter went backwards: restart");
        assert_eq!(r.observe("c", 30 * SEC, 1_000 + SEC.unsigned_abs()), Some(100_000_000));
        assert_eq!(r.observe("c", 29 * SEC, 2 * SEC.unsigned_abs()), None, "time went backwards");
    }

    #[test]
    fn repeated_sample_keeps_the_base() {
        let mut r = Rates::default();
        r.observe("c", 10 * SEC, 0);
        assert_eq!(r.observe("c", 10 * SEC, 0), None);
        assert_eq!(r.observe("c", 11 * SEC, 1_000_000), Some(1_000_000));
    }

    #[test]
    fn unseen_keys_are_forgotten() {
        let mut r = Rates::default();
        r.observe("a", SEC, 1);
        r.observe("b", SEC, 1);
        r.end_round();
        r.observe("a", 2 * SEC, 2);
        r.end_round();
        assert_eq!(r.len(), 1);
        assert_eq!(r.observe("b", 3 * SEC, 3), None, "b starts over");
    }
}
