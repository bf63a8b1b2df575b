//! Client-side rate limiting: a token bucket of `burst` tokens refilled at `qps` per second
//! (kubeAPIQPS 50, kubeAPIBurst 100 by default), shared by all clones of a client.
//!
//! It is kept as the time at which the bucket will next be full ("theoretical arrival time"):
//! taking a token moves that time one interval later, and a caller waits until the bucket,
//! seen from that time, has room again. Each caller reserves its slot under the lock and then
//! sleeps outside it, so waiters queue fairly as client-go's `Wait` does.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket; `qps <= 0` turns limiting off (client-go's meaning of a negative QPS).
#[derive(Debug)]
pub struct RateLimiter {
    bucket: Option<Mutex<Bucket>>,
    origin: Instant,
}

#[derive(Debug)]
struct Bucket {
    interval_nanos: u64,
    burst: u64,
    /// Nanoseconds since `origin` at which the bucket is full again.
    full_at: u64,
}

impl Bucket {
    /// Takes a token at `now` (nanoseconds since origin); returns how long to wait first.
    fn reserve(&mut self, now: u64) -> u64 {
        let start = self.full_at.max(now);
        self.full_at = start.saturating_add(self.interval_nanos);
        let window = self.interval_nanos.saturating_mul(self.burst);
        self.full_at.saturating_sub(now).saturating_sub(window)
    }
}

impl RateLimiter {
    pub fn new(qps: f32, burst: u32) -> Self {
        let bucket = (qps > 0.0 && qps.is_finite()).then(|| {
            // f64 keeps 1e9/qps exact enough; the cast is saturating for tiny qps.
            let interval_nanos = (1e9 / f64::from(qps)) as u64;
            Mutex::new(Bucket { interval_nanos: interval_nanos.max(1), burst: u64::from(burst.max(1)), full_at: 0 })
        });
        RateLimiter { bucket, origin: Instant::now() }
    }

    /// Takes a token, returning how long the caller must wait before using it.
    pub fn reserve_at(&self, now: Instant) -> Duration {
        let Some(bucket) = &self.bucket else { return Duration::ZERO };
        let since = u64::try_from(now.saturating_duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX);
        // A poisoned lock only means a panic elsewhere while holding it; the counter is valid.
        let mut bucket = bucket.lock().unwrap_or_else(|p| p.into_inner());
        Duration::from_nanos(bucket.reserve(since))
    }

    /// Blocks until a token is available.
    pub fn wait(&self) {
        let delay = self.reserve_at(Instant::now());
        if !delay.is_zero() {
            log::trace!("client-side throttling: waiting {delay:?}");
            std::thread::sleep(delay);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    fn bucket(qps: u64, burst: u64) -> Bucket {
        Bucket { interval_nanos: SEC / qps, burst, full_at: 0 }
    }

    #[test]
    fn burst_is_free_then_qps_paces() {
        let mut b = bucket(10, 3);
        let t0 = 5 * SEC;
        assert_eq!([b.reserve(t0), b.reserve(t0), b.reserve(t0)], [0, 0, 0]);
        // The fourth token comes one interval (100 ms) later, the fifth two.
        assert_eq!(b.reserve(t0), SEC / 10);
        assert_eq!(b.reserve(t0), 2 * SEC / 10);
    }

    #[test]
    fn refills_over_time_up_to_burst() {
        let mut b = bucket(10, 3);
        for _ in 0..3 {
            assert_eq!(b.reserve(0), 0);
        }
        // After 200 ms two tokens are back, not more.
        let t = 2 * SEC / 10;
        assert_eq!([b.reserve(t), b.reserve(t)], [0, 0]);
        assert_eq!(b.reserve(t), SEC / 10);
        // A long pause fills the bucket only to `burst`.
        let later = 100 * SEC;
        assert_eq!([b.reserve(later), b.reserve(later), b.reserve(later)], [0, 0, 0]);
        assert_eq!(b.reserve(later), SEC / 10);
    }

    #[test]
    fn kubelet_defaults_allow_100_at_once_then_50_per_second() {
        let mut b = bucket(50, 100);
        let waits: Vec<u64> = (0..150).map(|_| b.reserve(SEC)).collect();
        assert!(waits[..100].iter().all(|&w| w == 0));
        assert_eq!(waits[100], SEC / 50);
        assert_eq!(waits[149], 50 * SEC / 50);
    }

    #[test]
    fn disabled_and_shared_limiters() {
        let off = RateLimiter::new(0.0, 10);
        let now = Instant::now();
        assert!((0..1000).all(|_| off.reserve_at(now).is_zero()));
        let on = RateLimiter::new(1.0, 1);
        let now = Instant::now();
        assert!(on.reserve_at(now).is_zero());
        let wait = on.reserve_at(now);
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1), "{wait:?}");
    }
}
