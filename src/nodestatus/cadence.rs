//! How often a status computation asks the runtime and the host afresh.
//!
//! The fast start-up checks run every 100 ms while the Node is not Ready (up to two minutes);
//! asking the runtime and re-reading `/proc` on each of them cost ~10 CRI calls a second on a
//! node whose network was not ready. Upstream keeps these apart from the status computation:
//!
//! | what | read | upstream |
//! | --- | --- | --- |
//! | CRI Status (runtime and network readiness, handlers, features) | at most every 5 s | `updateRuntimeUp`, every 5 s |
//! | CRI Version, machine info (`/proc`, statvfs, IDs) | on regular updates only | every node status update; cadvisor's cached machine info |
//! | the image list | every 30 s | the image cache's period |
//!
//! A fast check therefore works on what was last read, and turns the Node Ready within 5 s
//! of the runtime becoming ready.

use std::time::{Duration, Instant};

/// Upstream's period of `updateRuntimeUp`.
pub(crate) const RUNTIME_STATUS_PERIOD: Duration = Duration::from_secs(5);
/// How often the image list is read from the runtime (upstream's image cache period).
pub(crate) const IMAGE_REFRESH: Duration = Duration::from_secs(30);

/// What one computation reads afresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Reads {
    pub runtime_status: bool,
    /// CRI Version and the machine info.
    pub version_and_machine: bool,
    pub images: bool,
}

/// When each source was last asked (whatever the answer: a failing runtime is not asked
/// more often).
#[derive(Debug, Default)]
pub(crate) struct Cadence {
    status_read: Option<Instant>,
    machine_read: Option<Instant>,
    images_read: Option<Instant>,
}

impl Cadence {
    /// What a computation at `now` reads; `regular`: a regular update (not a fast check).
    /// Records the reads as done.
    pub fn due(&mut self, now: Instant, regular: bool) -> Reads {
        let older = |last: Option<Instant>, period: Duration| {
            last.is_none_or(|t| now.saturating_duration_since(t) >= period)
        };
        let reads = Reads {
            runtime_status: older(self.status_read, RUNTIME_STATUS_PERIOD),
            version_and_machine: regular || self.machine_read.is_none(),
            images: older(self.images_read, IMAGE_REFRESH),
        };
        let mark = |slot: &mut Option<Instant>, read: bool| {
            if read {
                *slot = Some(now);
            }
        };
        mark(&mut self.status_read, reads.runtime_status);
        mark(&mut self.machine_read, reads.version_and_machine);
        mark(&mut self.images_read, reads.images);
        reads
    }

    /// The image list must be read again at the next computation (a failed read).
    pub fn images_failed(&mut self) {
        self.images_read = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the reads of `seconds` of fast checks every 100 ms with a regular update every
    /// `regular` (the worker's schedule while the Node is not Ready).
    fn count(seconds: u64, regular: Duration) -> (usize, usize, usize) {
        let start = Instant::now();
        let mut cadence = Cadence::default();
        let mut regular_due = start;
        let (mut status, mut version, mut images) = (0, 0, 0);
        let tick = Duration::from_millis(100);
        for i in 0..seconds * 10 {
            let now = start + tick * u32::try_from(i).unwrap_or(u32::MAX);
            let is_regular = now >= regular_due;
            if is_regular {
                regular_due = now + regular;
            }
            let reads = cadence.due(now, is_regular);
            status += usize::from(reads.runtime_status);
            version += usize::from(reads.version_and_machine);
            images += usize::from(reads.images);
        }
        (status, version, images)
    }

    #[test]
    fn a_minute_of_fast_checks_asks_the_runtime_at_upstreams_cadence() {
        let (status, version, images) = count(60, Duration::from_secs(10));
        // 600 checks: Status every 5 s, Version and /proc on the 6 regular updates, images every 30 s.
        assert_eq!((status, version, images), (12, 6, 2));
    }

    #[test]
    fn the_first_computation_reads_everything() {
        let mut cadence = Cadence::default();
        let now = Instant::now();
        let all = Reads { runtime_status: true, version_and_machine: true, images: true };
        assert_eq!(cadence.due(now, false), all);
        assert_eq!(cadence.due(now + Duration::from_millis(100), false), Reads::default());
    }

    #[test]
    fn a_regular_update_reads_the_status_only_when_it_is_old() {
        let mut cadence = Cadence::default();
        let now = Instant::now();
        cadence.due(now, true);
        let soon = cadence.due(now + Duration::from_secs(2), true);
        assert!(!soon.runtime_status && soon.version_and_machine);
        assert!(cadence.due(now + RUNTIME_STATUS_PERIOD, true).runtime_status);
    }

    #[test]
    fn a_failed_image_read_is_tried_again_next_time() {
        let mut cadence = Cadence::default();
        let now = Instant::now();
        assert!(cadence.due(now, true).images);
        cadence.images_failed();
        assert!(cadence.due(now + Duration::from_millis(100), false).images);
    }
}
