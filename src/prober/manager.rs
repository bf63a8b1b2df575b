//! `rk-prober`: owns the probe workers and the results cache; answers the pod workers'
//! questions and tells the sync loop when a result calls for a sync.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender};

use super::run::Runner;
use super::worker::{self, Key, Worker};
use super::{Command, ContainerProbes, Handle, Outcome, PodProbes, ProbeType, ProbeUpdate, StatusSource};
use crate::api::core::Pod;

/// Stack of a worker thread: enough for a TLS handshake, small enough for hundreds.
const WORKER_STACK: usize = 256 << 10;

#[derive(Debug, Clone)]
pub struct Config {
    /// When the agent started (unix seconds): containers older than that are adopted, and
    /// workers started soon after it spread their first probe over a period.
    pub agent_start: i64,
}

pub struct Deps {
    pub status: Arc<dyn StatusSource>,
    pub runner: Arc<dyn Runner>,
    /// Results the sync loop acts on: liveness failures, readiness and startup changes.
    pub updates: Sender<ProbeUpdate>,
}

struct Entry {
    stop: Sender<()>,
    trigger: Sender<()>,
    generation: u64,
}

struct Manager {
    cfg: Config,
    deps: Deps,
    tx: Sender<Command>,
    workers: HashMap<Key, Entry>,
    /// The container instance each worker probes now.
    current: HashMap<Key, String>,
    results: HashMap<String, BTreeMap<String, ContainerProbes>>,
    generation: u64,
}

/// Start `rk-prober`.
pub fn spawn(cfg: Config, deps: Deps) -> std::io::Result<Handle> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let mut m = Manager {
        cfg,
        deps,
        tx: tx.clone(),
        workers: HashMap::new(),
        current: HashMap::new(),
        results: HashMap::new(),
        generation: 0,
    };
    std::thread::Builder::new().name("rk-prober".into()).spawn(move || m.run(&rx))?;
    Ok(Handle { tx })
}

/// Whether the sync loop syncs the pod for this change (upstream's `syncLoopIteration`).
fn calls_for_sync(kind: ProbeType, outcome: Outcome) -> bool {
    kind != ProbeType::Liveness || outcome == Outcome::Failure
}

/// A fraction of `period` that differs from call to call (no random crate for this).
fn jitter(period: Duration) -> Duration {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    period.mul_f64(f64::from(nanos % 1000) / 1000.0)
}

impl Manager {
    fn run(&mut self, rx: &Receiver<Command>) {
        // `self.tx` keeps the channel open: the loop ends only with the process.
        while let Ok(c) = rx.recv() {
            self.handle(c);
        }
    }

    fn handle(&mut self, c: Command) {
        match c {
            Command::AddPod(pod) => self.add_pod(&pod),
            Command::StopLivenessAndStartup(uid) => self.stop(|k| k.uid == uid && k.kind != ProbeType::Readiness),
            Command::RemovePod(uid) => self.stop(|k| k.uid == uid),
            Command::Results { uid, reply } => {
                self.trigger_unready(&uid);
                let containers = self.results.get(&uid).cloned().unwrap_or_default();
                let _ = reply.send(PodProbes { containers });
            }
            Command::Set { key, container_id, outcome } => self.set(key, container_id, outcome),
            Command::Remove { key, container_id } => self.remove(&key, &container_id),
            Command::Done { key, generation } => {
                if self.workers.get(&key).is_some_and(|e| e.generation == generation) {
                    self.workers.remove(&key);
                    self.current.remove(&key);
                }
            }
            #[cfg(test)]
            Command::WorkerCount(reply) => {
                let _ = reply.send(self.workers.len());
            }
        }
    }

    fn add_pod(&mut self, pod: &Pod) {
        let sidecars = pod.spec.init_containers.iter().filter(|c| c.is_restartable_init());
        let now = crate::api::Time::now().unix_seconds();
        for c in pod.spec.containers.iter().chain(sidecars) {
            for kind in [ProbeType::Startup, ProbeType::Readiness, ProbeType::Liveness] {
                // Every sync calls this: skip running probes before building (cloning) a worker.
                let key = Key { uid: pod.metadata.uid().to_string(), container: c.name.clone(), kind };
                if self.workers.contains_key(&key) {
                    continue;
                }
                let Some(w) = Worker::new(pod, c, kind, self.cfg.agent_start) else { continue };
                let early = u64::try_from(now - self.cfg.agent_start).unwrap_or(0) < w.period().as_secs();
                self.start_worker(w, early);
            }
        }
    }

    fn start_worker(&mut self, w: Worker, early: bool) {
        let (stop, stop_rx) = crossbeam_channel::bounded(1);
        let (trigger, trigger_rx) = crossbeam_channel::bounded(1);
        self.generation += 1;
        let key = w.key.clone();
        let env = worker::Env {
            status: self.deps.status.clone(),
            runner: self.deps.runner.clone(),
            manager: self.tx.clone(),
            stop: stop_rx,
            trigger: trigger_rx,
            generation: self.generation,
            jitter: early.then(|| jitter(w.period())),
        };
        let name = format!("rk-probe-{}", key.container);
        match std::thread::Builder::new().name(name).stack_size(WORKER_STACK).spawn(move || worker::run(w, env)) {
            Ok(_) => {
                log::debug!("prober: {} probe of pod {} container {} started", key.kind, key.uid, key.container);
                self.workers.insert(key, Entry { stop, trigger, generation: self.generation });
            }
            Err(e) => log::error!("prober: cannot start the {} probe worker of {}: {e}", key.kind, key.container),
        }
    }

    /// Asks the matching workers to stop; they leave the table when they are done.
    fn stop(&mut self, matches: impl Fn(&Key) -> bool) {
        for (_, e) in self.workers.iter().filter(|(k, _)| matches(k)) {
            let _ = e.stop.try_send(());
        }
    }

    /// Readiness workers whose container is not ready probe at once.
    fn trigger_unready(&self, uid: &str) {
        let results = self.results.get(uid);
        for (k, e) in self.workers.iter().filter(|(k, _)| k.uid == uid && k.kind == ProbeType::Readiness) {
            let ready = self
                .current
                .get(k)
                .and_then(|id| results?.get(id))
                .is_some_and(|r| r.readiness == Some(Outcome::Success));
            if !ready {
                let _ = e.trigger.try_send(());
            }
        }
    }

    fn set(&mut self, key: Key, container_id: String, outcome: Outcome) {
        let entry = self.results.entry(key.uid.clone()).or_default().entry(container_id.clone()).or_default();
        let slot = entry.slot(key.kind);
        let changed = *slot != Some(outcome);
        *slot = Some(outcome);
        if changed && calls_for_sync(key.kind, outcome) {
            let update = ProbeUpdate { uid: key.uid.clone(), container_id: container_id.clone(), kind: key.kind, outcome };
            let _ = self.deps.updates.send(update);
        }
        self.current.insert(key, container_id);
    }

    fn remove(&mut self, key: &Key, container_id: &str) {
        let Some(pod) = self.results.get_mut(&key.uid) else { return };
        if let Some(c) = pod.get_mut(container_id) {
            *c.slot(key.kind) = None;
            if *c == ContainerProbes::default() {
                pod.remove(container_id);
            }
        }
        if pod.is_empty() {
            self.results.remove(&key.uid);
        }
    }
}
