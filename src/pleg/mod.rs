//! PLEG, the pod lifecycle event generator: notices what changed in the runtime.
//!
//! Every relist period (1 s) the `rk-pleg` thread lists sandboxes and containers (cheap),
//! compares them with the previous list, reads the full status of the pods that changed into
//! its cache, and sends [`PlegEvent`]s to the sync loop.
//!
//! ```text
//!   tick ──► relist ──► diff with previous ──► inspect changed pods ──► cache ──► events
//!                                                                        │
//!   newer_than(uid, t) ──► answered when the cache (or the last full relist) is newer
//!                          than t, else parked until a relist makes it so
//!   refresh(uid) ──► inspect that pod now (a worker that just acted needs not wait a tick)
//! ```
//!
//! The cache has one writer, this thread; pod workers ask it through [`PlegHandle`].

mod diff;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender, select};

use crate::kuberuntime::PodStatus;

pub use diff::{EventKind, PlegEvent, RuntimePod, events};

/// The runtime queries PLEG needs; the real one is CRI, tests use a fake.
pub trait Relister: Send + 'static {
    /// Every sandbox and container, grouped by pod UID (cheap: two list calls).
    fn relist(&mut self) -> Result<Vec<RuntimePod>, String>;
    /// The full status of one pod.
    fn pod_status(&mut self, uid: &str) -> Result<PodStatus, String>;
}

#[derive(Debug, Clone)]
pub struct Config {
    pub relist_period: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config { relist_period: Duration::from_secs(1) }
    }
}

enum Request {
    NewerThan { uid: String, since: Option<Instant>, reply: Sender<PodStatus> },
    Refresh { uid: String },
    Snapshot { reply: Sender<Vec<PodStatus>> },
}

/// How the rest of the agent talks to PLEG.
#[derive(Clone)]
pub struct PlegHandle {
    tx: Sender<Request>,
    /// Unix milliseconds of the last successful relist, for /healthz.
    last_relist_ms: Arc<AtomicU64>,
}

impl PlegHandle {
    /// The pod's status read after `since`; waits up to `timeout` for a relist to get it.
    pub fn newer_than(&self, uid: &str, since: Option<Instant>, timeout: Duration) -> Option<PodStatus> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.tx.send(Request::NewerThan { uid: uid.to_string(), since, reply }).ok()?;
        rx.recv_timeout(timeout).ok()
    }

    /// Re-read one pod now, without waiting for the next tick.
    pub fn refresh(&self, uid: &str) {
        let _ = self.tx.send(Request::Refresh { uid: uid.to_string() });
    }

    /// Every cached pod status, including pods the configuration does not know (orphans).
    pub fn snapshot(&self, timeout: Duration) -> Option<Vec<PodStatus>> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.tx.send(Request::Snapshot { reply }).ok()?;
        rx.recv_timeout(timeout).ok()
    }

    /// True when a relist succeeded within `threshold` (upstream: 3 minutes).
    pub fn healthy(&self, threshold: Duration) -> bool {
        let last = self.last_relist_ms.load(Ordering::Acquire);
        last != 0 && now_ms().saturating_sub(last) <= u64::try_from(threshold.as_millis()).unwrap_or(u64::MAX)
    }
}

fn now_ms() -> u64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Start the `rk-pleg` thread; events go to `events`.
pub fn spawn<R: Relister>(cfg: Config, relister: R, events: Sender<PlegEvent>) -> std::io::Result<PlegHandle> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let last_relist_ms = Arc::new(AtomicU64::new(0));
    let mut pleg = Pleg {
        relister,
        events,
        previous: HashMap::new(),
        cache: HashMap::new(),
        relisted_at: None,
        waiters: Vec::new(),
        last_relist_ms: last_relist_ms.clone(),
        failures: 0,
    };
    std::thread::Builder::new().name("rk-pleg".into()).spawn(move || pleg.run(cfg, rx))?;
    Ok(PlegHandle { tx, last_relist_ms })
}

struct Cached {
    status: PodStatus,
    at: Instant,
}

struct Pleg<R: Relister> {
    relister: R,
    events: Sender<PlegEvent>,
    previous: HashMap<String, RuntimePod>,
    cache: HashMap<String, Cached>,
    /// When the last successful relist started: every cache entry is at least this fresh.
    relisted_at: Option<Instant>,
    waiters: Vec<(String, Option<Instant>, Sender<PodStatus>)>,
    last_relist_ms: Arc<AtomicU64>,
    failures: u32,
}

impl<R: Relister> Pleg<R> {
    fn run(&mut self, cfg: Config, rx: Receiver<Request>) {
        let ticker = crossbeam_channel::tick(cfg.relist_period);
        self.relist();
        loop {
            select! {
                recv(ticker) -> _ => self.relist(),
                recv(rx) -> req => match req {
                    Ok(req) => self.handle(req),
                    Err(_) => return,
                },
            }
        }
    }

    fn handle(&mut self, req: Request) {
        match req {
            Request::NewerThan { uid, since, reply } => {
                if let Some(s) = self.fresh(&uid, since) {
                    let _ = reply.send(s);
                } else {
                    self.waiters.push((uid, since, reply));
                }
            }
            Request::Refresh { uid } => {
                self.inspect(&uid, Instant::now());
                self.wake_waiters();
            }
            Request::Snapshot { reply } => {
                let _ = reply.send(self.cache.values().map(|c| c.status.clone()).collect());
            }
        }
    }

    /// The cached status of `uid` if it was read after `since`.
    fn fresh(&self, uid: &str, since: Option<Instant>) -> Option<PodStatus> {
        let entry = self.cache.get(uid);
        let newest = match (entry.map(|c| c.at), self.relisted_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }?;
        if since.is_some_and(|s| newest <= s) {
            return None;
        }
        Some(entry.map(|c| c.status.clone()).unwrap_or_else(|| PodStatus { uid: uid.to_string(), ..Default::default() }))
    }

    fn wake_waiters(&mut self) {
        let waiters = std::mem::take(&mut self.waiters);
        for (uid, since, reply) in waiters {
            match self.fresh(&uid, since) {
                Some(s) => {
                    let _ = reply.send(s);
                }
                None => self.waiters.push((uid, since, reply)),
            }
        }
    }

    fn relist(&mut self) {
        let started = Instant::now();
        let pods = match self.relister.relist() {
            Ok(p) => p,
            Err(e) => {
                self.failures += 1;
                // One line when it starts failing, then one a minute.
                if self.failures == 1 || self.failures.is_multiple_of(60) {
                    log::error!("PLEG relist failed ({} times in a row): {e}", self.failures);
                }
                return;
            }
        };
        if self.failures > 0 {
            log::info!("PLEG relist works again after {} failures", self.failures);
            self.failures = 0;
        }
        let current: HashMap<String, RuntimePod> = pods.into_iter().map(|p| (p.uid.clone(), p)).collect();
        let evs = events(&self.previous, &current);
        // Re-read the pods that changed, and those never read yet.
        let mut stale: Vec<String> = evs.iter().map(|e| e.uid.clone()).collect();
        stale.extend(current.keys().filter(|u| !self.cache.contains_key(*u)).cloned());
        stale.sort_unstable();
        stale.dedup();
        let mut ok = true;
        for uid in stale.iter().filter(|u| current.contains_key(*u)) {
            ok &= self.inspect(uid, started);
        }
        self.cache.retain(|uid, _| current.contains_key(uid));
        self.previous = current;
        if ok {
            self.relisted_at = Some(started);
        }
        self.last_relist_ms.store(now_ms(), Ordering::Release);
        for e in evs {
            if self.events.send(e).is_err() {
                return;
            }
        }
        self.wake_waiters();
    }

    /// Read one pod's full status into the cache; false when the runtime could not say.
    fn inspect(&mut self, uid: &str, at: Instant) -> bool {
        match self.relister.pod_status(uid) {
            Ok(status) => {
                // An empty status is cached too, so a waiter learns at once that the pod has
                // nothing left; the next relist drops it.
                self.cache.insert(uid.to_string(), Cached { status, at });
                true
            }
            Err(e) => {
                log::warn!("PLEG cannot read the status of pod {uid}: {e}");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests;
