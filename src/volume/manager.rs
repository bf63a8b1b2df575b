//! The `rk-volumes` thread: the desired and actual volumes of every pod, and when to set
//! them up, refresh them and tear them down. The slow work (API reads, TokenRequests,
//! mounts) runs on a few `rk-volume-op-<n>` worker threads, at most one job per pod at a
//! time, so one slow pod never holds up another's.
//!
//! ```text
//!             Ensure (not all mounted)      job done, all mounted
//!   (none) ───────────────────────► Pending ─────────────────────► Mounted ◄──┐
//!                                    │  ▲ job failed: FailedMount             │ refresh every
//!                                    └──┘ event, retry after 0.5 s … 2 m 2 s  │ syncFrequency, on a
//!                                                                           ──┘ change note, or a
//!   Teardown (after the pod's containers are gone) → unmount, forget          new pod object
//! ```
//!
//! An `Ensure` is answered at once when every volume the pod's containers use is mounted,
//! else when the last one is, else with a timeout error at its deadline.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender, never, select};

use super::error::VolumeError;
use super::mounts::{MountedVolume, PodVolumes};
use super::setup::{SetupContext, SetupOutcome, setup_pod};
use super::spec::{self, Plugin};
use super::token::TokenCache;
use super::{Config, Deps, teardown};
use crate::api::core::Pod;
use crate::events::{EventType, reason};
use crate::objects::ObjectChanged;

const BACKOFF_START: Duration = Duration::from_millis(500);
/// Upstream's `maxDurationBeforeRetry`.
const BACKOFF_MAX: Duration = Duration::from_secs(122);

pub(super) enum Command {
    Ensure { pod: Arc<Pod>, reply: Sender<Result<PodVolumes, VolumeError>>, deadline: Instant },
    Teardown { uid: String, reply: Sender<Result<(), VolumeError>> },
    CleanupOrphans { known: HashSet<String> },
}

enum Job {
    Setup { uid: String, pod: Arc<Pod>, tokens: TokenCache, refresh_only: bool },
    Teardown { uid: String },
    Orphans { known: HashSet<String> },
}

pub(super) enum Done {
    Setup { uid: String, refresh_only: bool, outcome: SetupOutcome },
    Teardown { uid: String, result: Result<(), String> },
    Orphans,
}

struct Waiter {
    reply: Sender<Result<PodVolumes, VolumeError>>,
    deadline: Instant,
}

/// What the manager knows of one pod.
struct Entry {
    pod: Arc<Pod>,
    mounted: BTreeMap<String, MountedVolume>,
    /// `None` while a job holds them.
    tokens: Option<TokenCache>,
    busy: bool,
    /// A job is wanted: `Some(true)` a refresh, `Some(false)` a full setup.
    wanted: Option<bool>,
    retry_at: Option<Instant>,
    backoff: Duration,
    next_refresh: Instant,
    waiters: Vec<Waiter>,
    teardown: Vec<Sender<Result<(), VolumeError>>>,
}

impl Entry {
    fn missing(&self) -> Vec<String> {
        let needed = spec::needed_volumes(&self.pod);
        needed.iter().filter(|v| !self.mounted.contains_key(&v.name)).map(|v| v.name.clone()).collect()
    }

    fn refreshable(&self) -> bool {
        spec::needed_volumes(&self.pod).iter().any(|v| Plugin::of(&v.source).is_ok_and(Plugin::refreshes))
    }
}

pub(super) struct Manager {
    cfg: Config,
    deps: Deps,
    jobs: Sender<Job>,
    pods: HashMap<String, Entry>,
    /// Teardowns under way, with whoever waits for them.
    tearing: HashMap<String, Vec<Sender<Result<(), VolumeError>>>>,
    orphans_busy: bool,
}

/// Starts the worker threads and returns the manager to run on `rk-volumes`.
pub(super) fn start(cfg: Config, deps: Deps) -> std::io::Result<(Manager, Receiver<Done>)> {
    let (jobs, job_rx) = crossbeam_channel::unbounded::<Job>();
    let (done_tx, done_rx) = crossbeam_channel::unbounded();
    for n in 0..cfg.workers.max(1) {
        let (rx, tx) = (job_rx.clone(), done_tx.clone());
        let ctx = WorkerCtx { cfg: cfg.clone(), deps: deps.clone() };
        std::thread::Builder::new().name(format!("rk-volume-op-{n}")).spawn(move || {
            for job in rx {
                if tx.send(ctx.run(job)).is_err() {
                    return;
                }
            }
        })?;
    }
    let on_disk = teardown::pods_on_disk(&cfg.node);
    if !on_disk.is_empty() {
        log::info!("{} pod directories on disk; their volumes stay as they are until their pods are known or found gone", on_disk.len());
    }
    let m = Manager { cfg, deps, jobs, pods: HashMap::new(), tearing: HashMap::new(), orphans_busy: false };
    Ok((m, done_rx))
}

struct WorkerCtx {
    cfg: Config,
    deps: Deps,
}

impl WorkerCtx {
    fn run(&self, job: Job) -> Done {
        match job {
            Job::Setup { uid, pod, tokens, refresh_only } => {
                let ctx = SetupContext {
                    node: &self.cfg.node,
                    objects: self.deps.objects.as_ref(),
                    tokens: self.deps.tokens.as_deref(),
                    host: &super::hostpath::RealHost,
                    noswap: self.cfg.noswap,
                };
                let backup = tokens.clone();
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| setup_pod(&ctx, &pod, tokens, refresh_only)));
                let outcome = run.unwrap_or_else(|_| {
                    log::error!("volume setup of pod {uid} panicked; retrying later");
                    SetupOutcome { tokens: backup, ..SetupOutcome::default() }
                });
                Done::Setup { uid, refresh_only, outcome }
            }
            Job::Teardown { uid } => {
                let node = &self.cfg.node;
                let result = std::panic::catch_unwind(|| teardown::teardown_pod(node, &uid))
                    .unwrap_or_else(|_| Err("teardown panicked".into()));
                Done::Teardown { uid, result }
            }
            Job::Orphans { known } => {
                let node = &self.cfg.node;
                let _ = std::panic::catch_unwind(|| teardown::cleanup_orphans(node, &known));
                Done::Orphans
            }
        }
    }
}

impl Manager {
    pub(super) fn run(mut self, commands: &Receiver<Command>, done: &Receiver<Done>, changes: Option<Receiver<ObjectChanged>>) {
        let changes = changes.unwrap_or_else(never);
        loop {
            let wait = self.next_wake().saturating_duration_since(Instant::now());
            select! {
                recv(commands) -> c => match c {
                    Ok(c) => self.on_command(c),
                    Err(_) => { log::info!("volume manager: all handles gone, stopping"); return; }
                },
                recv(done) -> d => if let Ok(d) = d { self.on_done(d) },
                recv(changes) -> n => if let Ok(n) = n { self.on_change(&n) },
                default(wait) => {},
            }
            self.on_tick();
        }
    }

    fn on_command(&mut self, c: Command) {
        match c {
            Command::Ensure { pod, reply, deadline } => self.ensure(pod, reply, deadline),
            Command::Teardown { uid, reply } => {
                match self.pods.get_mut(&uid) {
                    Some(e) if e.busy => e.teardown.push(reply),
                    _ => self.start_teardown(&uid, vec![reply]),
                }
            }
            Command::CleanupOrphans { mut known } => {
                if self.orphans_busy {
                    return;
                }
                known.extend(self.pods.keys().cloned());
                known.extend(self.tearing.keys().cloned());
                if teardown::pods_on_disk(&self.cfg.node).iter().all(|u| known.contains(u)) {
                    return;
                }
                self.orphans_busy = true;
                self.submit(Job::Orphans { known });
            }
        }
    }

    fn ensure(&mut self, pod: Arc<Pod>, reply: Sender<Result<PodVolumes, VolumeError>>, deadline: Instant) {
        let uid = pod.metadata.uid().to_string();
        if !spec::safe_component(&uid) {
            let _ = reply.send(Err(VolumeError::InvalidPod { uid, reason: "not a usable pod UID".into() }));
            return;
        }
        let needed = spec::needed_volumes(&pod);
        let unsupported: Vec<String> = needed
            .iter()
            .filter_map(|v| Plugin::of(&v.source).err().map(|kind| super::error::no_plugin(&v.name, kind)))
            .collect();
        if !unsupported.is_empty() {
            let _ = reply.send(Err(VolumeError::Process { errors: unsupported }));
            return;
        }
        if needed.is_empty() {
            let _ = reply.send(Ok(self.pod_volumes(&uid, &BTreeMap::new())));
            return;
        }
        let now = Instant::now();
        let e = self.pods.entry(uid.clone()).or_insert_with(|| Entry {
            pod: pod.clone(),
            mounted: BTreeMap::new(),
            tokens: Some(TokenCache::default()),
            busy: false,
            wanted: Some(false),
            retry_at: None,
            backoff: Duration::ZERO,
            next_refresh: now,
            waiters: Vec::new(),
            teardown: Vec::new(),
        });
        let changed = *e.pod != *pod;
        e.pod = pod;
        if e.missing().is_empty() {
            if changed {
                // New labels or annotations for downwardAPI files, say.
                e.wanted = e.wanted.or(Some(true));
            }
            let mounted = e.mounted.clone();
            let _ = reply.send(Ok(self.pod_volumes(&uid, &mounted)));
        } else {
            e.wanted = Some(false);
            e.waiters.push(Waiter { reply, deadline });
        }
        self.kick(&uid);
    }

    fn pod_volumes(&self, uid: &str, mounted: &BTreeMap<String, MountedVolume>) -> PodVolumes {
        PodVolumes { pod_dir: crate::kuberuntime::paths::pod_dir(&self.cfg.node, uid), volumes: mounted.clone(), supports_rro: self.cfg.supports_rro }
    }

    /// Starts the wanted job of `uid` if nothing holds it back.
    fn kick(&mut self, uid: &str) {
        if self.tearing.contains_key(uid) {
            return;
        }
        let Some(e) = self.pods.get_mut(uid) else { return };
        let Some(refresh_only) = e.wanted else { return };
        if e.busy || e.retry_at.is_some_and(|t| t > Instant::now()) {
            return;
        }
        let Some(tokens) = e.tokens.take() else { return };
        e.busy = true;
        e.wanted = None;
        let job = Job::Setup { uid: uid.to_string(), pod: e.pod.clone(), tokens, refresh_only };
        self.submit(job);
    }

    fn submit(&self, job: Job) {
        if self.jobs.send(job).is_err() {
            log::error!("volume manager: every worker thread is gone");
        }
    }

    fn start_teardown(&mut self, uid: &str, replies: Vec<Sender<Result<(), VolumeError>>>) {
        if let Some(waiting) = self.tearing.get_mut(uid) {
            waiting.extend(replies);
            return;
        }
        if let Some(e) = self.pods.remove(uid) {
            for w in e.waiters {
                let _ = w.reply.send(Err(VolumeError::Cancelled));
            }
        }
        self.tearing.insert(uid.to_string(), replies);
        self.submit(Job::Teardown { uid: uid.to_string() });
    }

    fn on_done(&mut self, d: Done) {
        match d {
            Done::Setup { uid, refresh_only, outcome } => self.setup_done(&uid, refresh_only, outcome),
            Done::Teardown { uid, result } => {
                let replies = self.tearing.remove(&uid).unwrap_or_default();
                let result = result.map_err(|detail| VolumeError::Teardown { uid: uid.clone(), detail });
                match &result {
                    Ok(()) => log::debug!("volumes of pod {uid} torn down"),
                    Err(e) => log::warn!("{e}"),
                }
                for r in replies {
                    let _ = r.send(result.clone());
                }
                self.kick(&uid);
            }
            Done::Orphans => self.orphans_busy = false,
        }
    }

    fn setup_done(&mut self, uid: &str, refresh_only: bool, outcome: SetupOutcome) {
        let Some(e) = self.pods.get_mut(uid) else { return };
        let now = Instant::now();
        e.busy = false;
        e.tokens = Some(outcome.tokens);
        e.mounted.extend(outcome.mounted);
        for message in outcome.failed.values() {
            self.deps.recorder.pod_event(&e.pod, "", EventType::Warning, reason::FAILED_MOUNT, message);
        }
        let missing = e.missing();
        if missing.is_empty() {
            e.backoff = Duration::ZERO;
            e.retry_at = None;
            let volumes = PodVolumes { pod_dir: crate::kuberuntime::paths::pod_dir(&self.cfg.node, uid), volumes: e.mounted.clone(), supports_rro: self.cfg.supports_rro };
            for w in e.waiters.drain(..) {
                let _ = w.reply.send(Ok(volumes.clone()));
            }
        } else if !refresh_only {
            e.backoff = if e.backoff.is_zero() { BACKOFF_START } else { (e.backoff * 2).min(BACKOFF_MAX) };
            e.retry_at = Some(now + e.backoff);
            e.wanted = Some(false);
        }
        let token_due = e.tokens.as_ref().and_then(TokenCache::next_refresh).map(|t| now + t.duration_since(SystemTime::now()).unwrap_or_default());
        e.next_refresh = token_due.map_or(now + self.cfg.refresh_period, |t| t.min(now + self.cfg.refresh_period));
        if !e.teardown.is_empty() {
            let replies = std::mem::take(&mut e.teardown);
            self.start_teardown(uid, replies);
            return;
        }
        self.kick(uid);
    }

    /// A Secret or ConfigMap changed: refresh the pods whose volumes read it.
    fn on_change(&mut self, n: &ObjectChanged) {
        let hit: Vec<String> = self
            .pods
            .iter()
            .filter(|(_, e)| e.pod.metadata.namespace() == n.namespace)
            .filter(|(_, e)| spec::needed_volumes(&e.pod).iter().any(|v| spec::reads_object(v, n.kind, &n.name)))
            .map(|(uid, _)| uid.clone())
            .collect();
        for uid in hit {
            if let Some(e) = self.pods.get_mut(&uid) {
                e.wanted = e.wanted.or(Some(true));
            }
            self.kick(&uid);
        }
    }

    /// Deadlines of waiters, retries and refreshes that have come.
    fn on_tick(&mut self) {
        let now = Instant::now();
        let mut due = Vec::new();
        for (uid, e) in &mut self.pods {
            if e.waiters.iter().any(|w| w.deadline <= now) {
                let missing = e.missing();
                for w in e.waiters.extract_if(.., |w| w.deadline <= now) {
                    let err = VolumeError::Timeout { unmounted: missing.clone(), unattached: Vec::new(), not_processed: Vec::new() };
                    let _ = w.reply.send(Err(err));
                }
            }
            if e.wanted.is_none() && !e.busy && e.next_refresh <= now && e.missing().is_empty() && e.refreshable() {
                e.wanted = Some(true);
            }
            if e.wanted.is_some() && !e.busy && e.retry_at.is_none_or(|t| t <= now) {
                due.push(uid.clone());
            }
        }
        for uid in due {
            self.kick(&uid);
        }
    }

    fn next_wake(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(60);
        let mut wake = far;
        for e in self.pods.values() {
            for w in &e.waiters {
                wake = wake.min(w.deadline);
            }
            if let (Some(_), Some(t)) = (e.wanted, e.retry_at) {
                wake = wake.min(t);
            }
            if !e.busy && e.refreshable() {
                wake = wake.min(e.next_refresh);
            }
        }
        wake
    }
}
