//! The sync loop: one thread that turns what happens into work for the pod workers.
//!
//! `rk-syncloop` selects over:
//!
//! | channel | what it means | what we do |
//! | --- | --- | --- |
//! | config | the mux saw pods added, updated, deleted, removed or a source ready | update the pod manager, dispatch to workers |
//! | pleg | a container started, died or went away | sync that pod |
//! | probes | a liveness probe failed, a readiness or startup result changed | sync that pod |
//! | reports | a worker synced, terminated or finished a pod | schedule its next sync, or forget it |
//! | sync tick (1 s) | time passes | sync the pods that are due (resync period, expired backoffs) |
//! | housekeeping tick (2 s) | time passes | tell the GC which pods exist; stop what runs but should not (only once every source is ready) |
//!
//! It holds nothing but dispatch: pods live in [`PodManager`], per-pod work in the workers.

mod admission;
mod housekeeping;
mod podmanager;
mod queue;
mod statics;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, select, tick};

use crate::api::core::Pod;
use crate::pleg::{EventKind, PlegEvent, PlegHandle};
use crate::podworker::{Phase, PodSyncer, PodWorkers, Report, UpdateKind, Work};
use crate::source::{ConfigEvent, Op, PodUpdate, Source};

pub use admission::{SysctlAllowlist, apparmor_enabled};
pub use podmanager::{PodManager, full_name};

#[derive(Debug, Clone)]
pub struct Config {
    /// syncFrequency: how often a running pod is synced when nothing happens.
    pub sync_frequency: Duration,
    pub housekeeping_period: Duration,
    /// The sources that must each deliver a first set before anything may be cleaned up.
    pub sources: Vec<Source>,
    /// maxPods: admission refuses pods beyond this many.
    pub max_pods: usize,
    /// The sysctls pods may set (the safe ones and allowedUnsafeSysctls).
    pub sysctls: admission::SysctlAllowlist,
    /// Whether the host enforces AppArmor; pods that ask for it are refused when not.
    pub apparmor_enabled: bool,
}

pub struct Deps<S: PodSyncer> {
    pub config: Receiver<ConfigEvent>,
    pub pleg_events: Receiver<PlegEvent>,
    pub pleg: PlegHandle,
    pub syncer: Arc<S>,
    pub status: crate::status::Handle,
    pub health: Health,
    /// Housekeeping asks it to remove the directories of pods that are gone.
    pub volumes: Option<crate::volume::VolumeHandle>,
    /// API-server mode's managers the loop keeps informed; `None` standalone.
    pub api: Option<ApiHooks>,
    /// The garbage collector, told at each housekeeping which pods exist.
    pub gc: Option<crate::gc::GcHandle>,
    /// Probe results that call for a sync; `None` without a prober.
    pub probes: Option<Receiver<crate::prober::ProbeUpdate>>,
}

/// What the sync loop tells the API-mode managers about pods coming and going.
#[derive(Clone)]
pub struct ApiHooks {
    pub mirror: crate::mirror::MirrorHandle,
    pub objects: Arc<crate::objects::ApiObjects>,
}

/// When the sync loop last went round, for /healthz.
#[derive(Clone, Default)]
pub struct Health(Arc<AtomicU64>);

impl Health {
    fn beat(&self) {
        let ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
        self.0.store(u64::try_from(ms).unwrap_or(u64::MAX), Ordering::Release);
    }

    /// True when the loop went round within `threshold`.
    pub fn healthy(&self, threshold: Duration) -> bool {
        let last = self.0.load(Ordering::Acquire);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
        let now = u64::try_from(now).unwrap_or(u64::MAX);
        last != 0 && now.saturating_sub(last) <= u64::try_from(threshold.as_millis()).unwrap_or(u64::MAX)
    }
}

/// Start `rk-syncloop`.
pub fn spawn<S: PodSyncer>(cfg: Config, deps: Deps<S>) -> std::io::Result<std::thread::JoinHandle<()>> {
    let (report_tx, reports) = crossbeam_channel::unbounded();
    let mut lp = SyncLoop {
        workers: PodWorkers::new(deps.syncer.clone(), report_tx),
        pods: PodManager::default(),
        queue: queue::WorkQueue::default(),
        ready: HashSet::new(),
        pleg: deps.pleg.clone(),
        status: deps.status.clone(),
        volumes: deps.volumes.clone(),
        api: deps.api.clone(),
        gc: deps.gc.clone(),
        statics: statics::StaticStarts::default(),
        cfg,
    };
    std::thread::Builder::new()
        .name("rk-syncloop".into())
        .spawn(move || {
            let probes = deps.probes.unwrap_or_else(crossbeam_channel::never);
            lp.run(&deps.config, &deps.pleg_events, &reports, &probes, &deps.health)
        })
}

struct SyncLoop<S: PodSyncer> {
    cfg: Config,
    pods: PodManager,
    workers: PodWorkers<S>,
    queue: queue::WorkQueue,
    ready: HashSet<Source>,
    pleg: PlegHandle,
    status: crate::status::Handle,
    volumes: Option<crate::volume::VolumeHandle>,
    api: Option<ApiHooks>,
    gc: Option<crate::gc::GcHandle>,
    statics: statics::StaticStarts,
}

impl<S: PodSyncer> SyncLoop<S> {
    fn run(
        &mut self,
        config: &Receiver<ConfigEvent>,
        pleg: &Receiver<PlegEvent>,
        reports: &Receiver<Report>,
        probes: &Receiver<crate::prober::ProbeUpdate>,
        health: &Health,
    ) {
        let sync_tick = tick(Duration::from_secs(1));
        let housekeeping_tick = tick(self.cfg.housekeeping_period);
        health.beat();
        loop {
            select! {
                recv(config) -> ev => match ev {
                    Ok(ev) => self.on_config(ev),
                    Err(_) => { log::info!("sync loop: configuration closed, stopping"); return; }
                },
                recv(pleg) -> ev => if let Ok(ev) = ev { self.on_pleg(ev) },
                recv(reports) -> r => if let Ok(r) = r { self.on_report(r) },
                recv(probes) -> u => if let Ok(u) = u { self.on_probe(&u) },
                recv(sync_tick) -> _ => self.on_sync_tick(),
                recv(housekeeping_tick) -> _ => self.housekeeping(),
            }
            health.beat();
        }
    }

    fn on_config(&mut self, ev: ConfigEvent) {
        match ev {
            ConfigEvent::SourceReady(s) => {
                log::info!("source {s} delivered its first set of pods");
                self.ready.insert(s);
            }
            ConfigEvent::Update(PodUpdate { op, source, pods }) => {
                log::debug!("{op} from {source}: {}", names(&pods));
                for pod in pods {
                    self.on_pod(op, pod);
                }
            }
        }
    }

    fn on_pod(&mut self, op: Op, pod: Pod) {
        if let Some(api) = &self.api {
            // Secrets and ConfigMaps a pod refers to are watched while it exists; API pods
            // (mirror pods too) let the status manager compare with what the server shows.
            match op {
                Op::Remove => api.objects.unregister_pod(&pod),
                _ => api.objects.register_pod(&pod),
            }
            if matches!(op, Op::Add | Op::Update | Op::Reconcile | Op::Delete)
                && crate::source::pod_source(&pod) == Some(Source::Api)
            {
                self.status.reconcile(&pod);
            }
        }
        match op {
            Op::Add => {
                if let Some(reason) = self.admit(&pod) {
                    self.reject(pod, reason);
                    return;
                }
                self.upsert_and_dispatch(pod);
            }
            Op::Update | Op::Reconcile | Op::Delete => self.upsert_and_dispatch(pod),
            Op::Remove => {
                if let Some(p) = self.pods.remove(&pod) {
                    self.queue.forget(podmanager::uid(&p));
                    self.statics.forget_waiting(podmanager::uid(&p));
                    self.workers.update(Work::new(p, UpdateKind::Remove));
                } else if crate::source::is_mirror_pod(&pod) {
                    self.sync_static_pod_named(&full_name(&pod));
                }
            }
        }
    }

    /// A mirror pod came, changed or went: sync its static pod, which recreates the mirror
    /// pod when it is missing, being deleted or out of date (upstream's `handleMirrorPod`).
    fn sync_static_pod_named(&mut self, full_name: &str) {
        let Some(static_pod) = self.pods.static_named(full_name).cloned() else { return };
        if self.workers.phase(podmanager::uid(&static_pod)) == Some(Phase::Syncing) {
            self.workers.update(Work::new(static_pod, UpdateKind::Sync));
        }
    }

    fn upsert_and_dispatch(&mut self, pod: Pod) {
        let mirror_name = crate::source::is_mirror_pod(&pod).then(|| full_name(&pod));
        let Some(pod) = self.pods.upsert(pod) else {
            if let Some(name) = mirror_name {
                self.sync_static_pod_named(&name);
            }
            return;
        };
        let kind = if pod.metadata.deletion_timestamp.is_some() {
            UpdateKind::Kill { grace: pod.metadata.deletion_grace_period_seconds }
        } else {
            UpdateKind::Sync
        };
        if kind == UpdateKind::Sync && !self.may_start_static(&pod) {
            log::info!("static pod {} ({}) waits for its predecessor to stop", full_name(&pod), podmanager::uid(&pod));
            return;
        }
        self.workers.update(Work::new(pod, kind));
    }

    /// A static pod starts only when no other pod of its full name still runs or stops.
    fn may_start_static(&mut self, pod: &Arc<Pod>) -> bool {
        if !crate::source::is_static_pod(pod) {
            return true;
        }
        let workers = &self.workers;
        let running = |uid: &str| matches!(workers.phase(uid), Some(Phase::Syncing | Phase::Terminating));
        self.statics.try_start(&full_name(pod), pod, running)
    }

    /// A pod's containers stopped: a static pod waiting for its name may start.
    fn start_waiting_static(&mut self, stopped_uid: &str) {
        let Some(next) = self.statics.stopped(stopped_uid) else { return };
        if self.pods.contains(podmanager::uid(&next)) && self.may_start_static(&next) {
            log::info!("static pod {} ({}) starts: its predecessor stopped", full_name(&next), podmanager::uid(&next));
            self.workers.update(Work::new(next, UpdateKind::Sync));
        }
    }

    /// Upstream's admission, the parts that apply here: the pod's OS, the pod count, sysctls,
    /// AppArmor.
    /// `Some(reason)` rejects.
    fn admit(&self, pod: &Pod) -> Option<(String, String)> {
        let uid = podmanager::uid(pod);
        if self.pods.contains(uid) {
            return None;
        }
        if let Some(rejected) = admission::check_os(pod, std::env::consts::OS) {
            return Some(rejected);
        }
        let active = self
            .pods
            .pods()
            .filter(|p| self.workers.phase(podmanager::uid(p)).is_some_and(|ph| ph != Phase::Terminated))
            .count();
        if active >= self.cfg.max_pods {
            return Some((
                "OutOfpods".into(),
                format!(
                    "Node didn't have enough resource: pods, requested: 1, used: {active}, capacity: {}",
                    self.cfg.max_pods
                ),
            ));
        }
        self.cfg.sysctls.admit(pod).or_else(|| admission::admit_apparmor(pod, self.cfg.apparmor_enabled))
    }

    fn reject(&mut self, pod: Pod, (reason, message): (String, String)) {
        log::warn!("pod {} rejected: {reason}: {message}", full_name(&pod));
        let status = crate::api::core::PodStatus {
            phase: Some("Failed".into()),
            reason: Some(reason),
            message: Some(message),
            ..Default::default()
        };
        self.status.set(&pod, status);
        // Nothing of it can run: the Failed phase may go to the API server at once (upstream:
        // a pod without a worker cannot have running containers).
        self.status.mark_terminated(&pod);
        // Known, so later updates of it are not admitted again; never run.
        self.pods.upsert(pod);
    }

    fn on_pleg(&mut self, ev: PlegEvent) {
        if ev.kind == EventKind::ContainerRemoved {
            return;
        }
        if let Some(pod) = self.pods.get(&ev.uid)
            && self.workers.phase(&ev.uid).is_some() {
                let pod = pod.clone();
                self.workers.update(Work::new(pod, UpdateKind::Sync));
            }
    }

    /// Upstream's `handleProbeSync`: the pod syncs, which restarts a container whose
    /// liveness failed and publishes readiness.
    fn on_probe(&mut self, u: &crate::prober::ProbeUpdate) {
        log::debug!("pod {}: {} probe of container {} now {:?}", u.uid, u.kind, u.container_id, u.outcome);
        if u.kind == crate::prober::ProbeType::Readiness {
            // At once, a terminating pod included (it gets no more syncs).
            let ready = u.outcome == crate::prober::Outcome::Success;
            self.status.set_container_readiness(&u.uid, &u.container_id, ready);
        }
        if let Some(pod) = self.pods.get(&u.uid)
            && self.workers.phase(&u.uid) == Some(Phase::Syncing)
        {
            let pod = pod.clone();
            self.workers.update(Work::new(pod, UpdateKind::Sync));
        }
    }

    fn on_report(&mut self, r: Report) {
        if let Report::Synced { uid, after } = &r {
            self.queue.schedule(uid, Instant::now() + *after);
        }
        if let Report::Terminated { uid } = &r
            && let Some(pod) = self.pods.get(uid)
        {
            self.status.mark_terminated(pod);
        }
        if let Report::Finished { uid } = &r {
            self.queue.forget(uid);
            if !self.pods.contains(uid) {
                self.status.remove(uid);
            }
        }
        self.workers.observe(&r);
        if let Report::Terminated { uid } | Report::Finished { uid } = &r {
            self.start_waiting_static(uid);
        }
    }

    fn on_sync_tick(&mut self) {
        for uid in self.queue.take_due(Instant::now()) {
            let Some(pod) = self.pods.get(&uid).cloned() else { continue };
            if self.workers.phase(&uid) == Some(Phase::Syncing) {
                self.workers.update(Work::new(pod, UpdateKind::Sync));
            }
        }
    }

    /// Every configured source has delivered its first set: only then may we remove pods.
    fn sources_ready(&self) -> bool {
        self.cfg.sources.iter().all(|s| self.ready.contains(s))
    }
}

fn names(pods: &[Pod]) -> String {
    pods.iter().map(full_name).collect::<Vec<_>>().join(", ")
}
