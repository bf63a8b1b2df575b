//! Per-item exponential backoff, as client-go's `flowcontrol.Backoff` that the kubelet uses for
//! container restarts (CrashLoopBackOff) and image pulls (ImagePullBackOff).
//!
//! ```text
//!  exit #1 ── not in backoff (no entry) ── next(): entry = 10 s ── restart at once
//!  exit #2 ── now - finishedAt < 10 s?  ── yes: CrashLoopBackOff "back-off 10s ..."
//!                                       └─ no:  next(): entry = 20 s ── restart
//!  exit #n ── ... doubling up to the max (5 min)
//!  a run longer than the expiry (10 min for restarts, 2 x max for pulls) since the last
//!  next() ── the entry has expired: not in backoff, next() starts again at 10 s
//! ```
//!
//! Times are wall-clock (`SystemTime`): restart backoff compares against the `finishedAt` the
//! runtime reports. The clock is injectable for tests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::api::core::{Container, Pod};

/// Upstream's initial container restart backoff.
pub const CRASH_LOOP_INITIAL: Duration = Duration::from_secs(10);
/// Upstream's default `crashLoopBackOff.maxContainerRestartPeriod`.
pub const CRASH_LOOP_MAX: Duration = Duration::from_secs(300);
/// A container that ran this long since its last restart starts again from the initial delay.
pub const CRASH_LOOP_RESET: Duration = Duration::from_secs(600);
/// Upstream's image pull backoff: 10 s doubling to 5 min.
pub const IMAGE_PULL_INITIAL: Duration = Duration::from_secs(10);
pub const IMAGE_PULL_MAX: Duration = Duration::from_secs(300);

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock tests move by hand.
#[derive(Debug)]
pub struct FakeClock(Mutex<SystemTime>);

impl FakeClock {
    pub fn new(at: SystemTime) -> FakeClock {
        FakeClock(Mutex::new(at))
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }

    pub fn set(&self, at: SystemTime) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// When an entry is old enough to be forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// client-go's default: the event came more than twice the maximum after the last update.
    TwiceMax,
    /// The kubelet's restart backoff: more than this after the last update.
    After(Duration),
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    backoff: Duration,
    last_update: SystemTime,
}

/// Backoff entries by key.
pub struct Backoff {
    clock: Arc<dyn Clock>,
    initial: Duration,
    max: Duration,
    expiry: Expiry,
    entries: HashMap<String, Entry>,
}

impl std::fmt::Debug for Backoff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backoff")
            .field("initial", &self.initial)
            .field("max", &self.max)
            .field("expiry", &self.expiry)
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// `a - b`, or zero when `b` is later.
fn since(a: SystemTime, b: SystemTime) -> Duration {
    a.duration_since(b).unwrap_or(Duration::ZERO)
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration, expiry: Expiry, clock: Arc<dyn Clock>) -> Backoff {
        Backoff { clock, initial, max, expiry, entries: HashMap::new() }
    }

    /// The container restart backoff: 10 s doubling to `max` (`maxContainerRestartPeriod`,
    /// default 5 min; the initial delay never exceeds it), forgotten after 10 min of running.
    pub fn crash_loop(max: Duration, clock: Arc<dyn Clock>) -> Backoff {
        Backoff::new(CRASH_LOOP_INITIAL.min(max), max, Expiry::After(CRASH_LOOP_RESET), clock)
    }

    /// The image pull backoff: 10 s doubling to 5 min.
    pub fn image_pull(clock: Arc<dyn Clock>) -> Backoff {
        Backoff::new(IMAGE_PULL_INITIAL, IMAGE_PULL_MAX, Expiry::TwiceMax, clock)
    }

    pub fn now(&self) -> SystemTime {
        self.clock.now()
    }

    fn expired(&self, event: SystemTime, last_update: SystemTime) -> bool {
        let age = since(event, last_update);
        match self.expiry {
            Expiry::TwiceMax => age > self.max.saturating_mul(2),
            Expiry::After(d) => age > d,
        }
    }

    /// The current delay of `key` (zero when unknown).
    pub fn get(&self, key: &str) -> Duration {
        self.entries.get(key).map_or(Duration::ZERO, |e| e.backoff)
    }

    /// Records one more failure of `key` at `event`: the delay starts at the initial value
    /// (new or expired entry) or doubles up to the maximum.
    pub fn next(&mut self, key: &str, event: SystemTime) {
        let now = self.clock.now();
        let backoff = match self.entries.get(key) {
            Some(e) if !self.expired(event, e.last_update) => e.backoff.saturating_mul(2).min(self.max),
            _ => self.initial,
        };
        self.entries.insert(key.to_string(), Entry { backoff, last_update: now });
    }

    /// True while less than the current delay has passed since `event` (upstream's
    /// `IsInBackOffSince`, used with the container's `finishedAt`).
    pub fn in_backoff_since(&self, key: &str, event: SystemTime) -> bool {
        let Some(e) = self.entries.get(key) else { return false };
        if self.expired(event, e.last_update) {
            return false;
        }
        since(self.clock.now(), event) < e.backoff
    }

    /// True while `event` is less than the current delay after the last `next()` (upstream's
    /// `IsInBackOffSinceUpdate`, used for image pulls with `event` = now).
    pub fn in_backoff_since_update(&self, key: &str, event: SystemTime) -> bool {
        let Some(e) = self.entries.get(key) else { return false };
        if self.expired(event, e.last_update) {
            return false;
        }
        since(event, e.last_update) < e.backoff
    }

    /// How long until `key`, failed at `event`, leaves its backoff (zero when it is not in it).
    pub fn remaining_since(&self, key: &str, event: SystemTime) -> Duration {
        match self.entries.get(key) {
            Some(e) if self.in_backoff_since(key, event) => {
                e.backoff.saturating_sub(since(self.clock.now(), event))
            }
            _ => Duration::ZERO,
        }
    }

    /// How long until `key` leaves its backoff counted from its last update.
    pub fn remaining_since_update(&self, key: &str) -> Duration {
        let now = self.clock.now();
        match self.entries.get(key) {
            Some(e) if self.in_backoff_since_update(key, now) => {
                e.backoff.saturating_sub(since(now, e.last_update))
            }
            _ => Duration::ZERO,
        }
    }

    pub fn reset(&mut self, key: &str) {
        self.entries.remove(key);
    }

    /// Forgets expired entries.
    pub fn gc(&mut self) {
        let now = self.clock.now();
        let expired: Vec<String> = self
            .entries
            .iter()
            .filter(|(_, e)| self.expired(now, e.last_update))
            .map(|(k, _)| k.clone())
            .collect();
        for k in expired {
            self.entries.remove(&k);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Default for Backoff {
    /// The container restart backoff with upstream's defaults, on the system clock.
    fn default() -> Self {
        Backoff::crash_loop(CRASH_LOOP_MAX, Arc::new(SystemClock))
    }
}

/// The restart backoff key of a container, as upstream's `GetBackoffKey`: the pod's name,
/// namespace and UID, the container's name, and what resets the backoff when it changes (the
/// image and the resources).
pub fn container_backoff_key(pod: &Pod, container: &Container) -> String {
    let m = &pod.metadata;
    let resources = serde_json::to_string(&container.resources).unwrap_or_default();
    let image = container.image.as_deref().unwrap_or("");
    let key =
        [m.name(), m.namespace(), m.uid(), container.name.as_str(), image, resources.as_str()].join("/");
    // FNV-1a 64, as upstream hashes the joined fields.
    let hash =
        key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_700_000_000;

    fn setup(max: Duration) -> (Backoff, Arc<FakeClock>) {
        let clock = Arc::new(FakeClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(T0)));
        (Backoff::crash_loop(max, clock.clone()), clock)
    }

    /// One crash of a container that ran for `ran`: what the kubelet's doBackOff sees and
    /// does. Returns the delay reported when in backoff, or None when it restarts now.
    fn crash(b: &mut Backoff, clock: &FakeClock, ran: Duration) -> Option<Duration> {
        clock.advance(ran);
        let finished = b.now();
        if b.in_backoff_since("k", finished) {
            let d = b.get("k");
            // The sync loop retries exactly when the backoff ends.
            clock.advance(b.remaining_since("k", finished));
            assert!(!b.in_backoff_since("k", finished));
            b.next("k", finished);
            return Some(d);
        }
        b.next("k", finished);
        None
    }

    #[test]
    fn first_restart_is_immediate_then_doubles_to_the_max() {
        let (mut b, clock) = setup(CRASH_LOOP_MAX);
        let s = Duration::from_secs;
        let delays: Vec<_> = (0..8).map(|_| crash(&mut b, &clock, s(1))).collect();
        assert_eq!(
            delays,
            vec![
                None,
                Some(s(10)),
                Some(s(20)),
                Some(s(40)),
                Some(s(80)),
                Some(s(160)),
                Some(s(300)),
                Some(s(300))
            ]
        );
    }

    #[test]
    fn ten_minutes_of_running_resets() {
        let (mut b, clock) = setup(CRASH_LOOP_MAX);
        let s = Duration::from_secs;
        assert_eq!(crash(&mut b, &clock, s(1)), None);
        assert_eq!(crash(&mut b, &clock, s(1)), Some(s(10)));
        assert_eq!(crash(&mut b, &clock, s(1)), Some(s(20)));
        // Ran for just over 10 minutes since the last restart: forgiven.
        assert_eq!(crash(&mut b, &clock, s(601)), None);
        assert_eq!(b.get("k"), s(10));
        assert_eq!(crash(&mut b, &clock, s(1)), Some(s(10)));
        // 10 minutes exactly is not enough.
        assert_eq!(crash(&mut b, &clock, s(600)), Some(s(20)));
    }

    #[test]
    fn default_is_the_restart_backoff() {
        let b = Backoff::default();
        assert_eq!(
            (b.initial, b.max, b.expiry),
            (CRASH_LOOP_INITIAL, CRASH_LOOP_MAX, Expiry::After(CRASH_LOOP_RESET))
        );
    }

    #[test]
    fn a_small_max_caps_the_initial_delay() {
        let (mut b, clock) = setup(Duration::from_secs(4));
        assert_eq!(crash(&mut b, &clock, Duration::from_secs(1)), None);
        assert_eq!(crash(&mut b, &clock, Duration::from_secs(1)), Some(Duration::from_secs(4)));
        assert_eq!(crash(&mut b, &clock, Duration::from_secs(1)), Some(Duration::from_secs(4)));
    }

    #[test]
    fn remaining_time_counts_from_the_event() {
        let (mut b, clock) = setup(CRASH_LOOP_MAX);
        let finished = b.now();
        b.next("k", finished);
        clock.advance(Duration::from_secs(3));
        assert!(b.in_backoff_since("k", finished));
        assert_eq!(b.remaining_since("k", finished), Duration::from_secs(7));
        assert_eq!(b.remaining_since("other", finished), Duration::ZERO);
    }

    #[test]
    fn image_pull_backoff_counts_from_the_last_failure() {
        let clock = Arc::new(FakeClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(T0)));
        let mut b = Backoff::image_pull(clock.clone());
        assert!(!b.in_backoff_since_update("img", b.now()));
        b.next("img", b.now());
        assert!(b.in_backoff_since_update("img", b.now()));
        clock.advance(Duration::from_secs(9));
        assert_eq!(b.remaining_since_update("img"), Duration::from_secs(1));
        clock.advance(Duration::from_secs(1));
        assert!(!b.in_backoff_since_update("img", b.now()));
        b.next("img", b.now());
        assert_eq!(b.get("img"), Duration::from_secs(20));
        // Ten quiet minutes (twice the max) forget the entry.
        clock.advance(Duration::from_secs(601));
        b.gc();
        assert!(b.is_empty());
    }

    #[test]
    fn backoff_key_changes_with_the_image() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web".into());
        pod.metadata.uid = Some("u1".into());
        let mut c =
            Container { name: "app".into(), image: Some("busybox:1.35".into()), ..Default::default() };
        let k1 = container_backoff_key(&pod, &c);
        assert_eq!(k1, container_backoff_key(&pod, &c));
        c.image = Some("busybox:1.36".into());
        assert_ne!(k1, container_backoff_key(&pod, &c));
    }
}
