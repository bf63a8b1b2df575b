//! One probe of one container: the state machine upstream's probe worker runs every period.
//!
//! ```text
//!  each period:
//!   no status / no container ID yet ........................ wait
//!   pod terminal ........................................... stop
//!   new container ID ─► forget the old result, set the initial one, resume
//!   on hold (failed liveness, decided startup) ............. wait for a new container
//!   not running ─► Failure; stop unless it will be restarted
//!   pod deleting (liveness, startup) ─► Success, stop
//!   within initialDelaySeconds / startup gating ............ wait
//!   probe ─► same result as last time? run + 1 : run = 1
//!            run ≥ failureThreshold (Failure) or successThreshold (Success) ─► set result
//!            liveness Failure or any startup result ─► on hold
//! ```

use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, select, tick};

use super::run::Runner;
use super::{Command, Outcome, ProbeType, StatusSource, raw_container_id};
use crate::api::Time;
use crate::api::core::{Container, ContainerStatus, Pod, PodStatus as ApiPodStatus, Probe};
use crate::status::phase::container_should_restart;

/// Which worker: one per pod, container and probe type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    pub uid: String,
    pub container: String,
    pub kind: ProbeType,
}

/// What a step asks of the results cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ResultOp {
    Set(String, Outcome),
    Remove(String),
}

/// Upstream treats containers started this long before the agent as adopted.
const RESTART_GRACE_SECS: i64 = 10;

pub(crate) struct Worker {
    pub key: Key,
    pod: Pod,
    container: Container,
    spec: Probe,
    initial: Outcome,
    /// When the agent started (adopted containers keep their state until probed).
    agent_start: i64,
    /// The API container ID (`containerd://...`) of the instance being probed.
    container_id: String,
    last: Option<Outcome>,
    run: i32,
    on_hold: bool,
}

fn container_status<'a>(status: &'a ApiPodStatus, name: &str) -> Option<&'a ContainerStatus> {
    let with_id = |list: &'a [ContainerStatus]| {
        list.iter().find(|c| c.name == name && c.container_id.as_deref().is_some_and(|id| !id.is_empty()))
    };
    with_id(&status.container_statuses).or_else(|| with_id(&status.init_container_statuses))
}

impl Worker {
    /// `None` when the container has no probe of this type.
    pub fn new(pod: &Pod, container: &Container, kind: ProbeType, agent_start: i64) -> Option<Worker> {
        let (spec, initial) = match kind {
            ProbeType::Liveness => (container.liveness_probe.as_ref()?, Outcome::Success),
            ProbeType::Readiness => (container.readiness_probe.as_ref()?, Outcome::Failure),
            ProbeType::Startup => (container.startup_probe.as_ref()?, Outcome::Unknown),
        };
        Some(Worker {
            key: Key { uid: pod.metadata.uid().to_string(), container: container.name.clone(), kind },
            pod: pod.clone(),
            container: container.clone(),
            spec: spec.clone(),
            initial,
            agent_start,
            container_id: String::new(),
            last: None,
            run: 0,
            on_hold: false,
        })
    }

    /// periodSeconds, at least one second (the API's default is 10).
    pub fn period(&self) -> Duration {
        let secs = self.spec.period_seconds.unwrap_or(10).max(1);
        Duration::from_secs(u64::try_from(secs).unwrap_or(10))
    }

    fn is_restartable_init(&self) -> bool {
        self.pod.spec.init_containers.iter().any(|c| c.name == self.container.name) && self.container.is_restartable_init()
    }

    /// The current instance's runtime ID, if one was seen.
    pub fn current_id(&self) -> Option<&str> {
        (!self.container_id.is_empty()).then(|| raw_container_id(&self.container_id))
    }

    /// `prober_probe_total` and (for successes) `prober_probe_duration_seconds`.
    fn record(&self, outcome: Outcome, took: Duration) {
        use crate::metrics::kubelet::{PROBE_DURATION, PROBE_TOTAL};
        let kind = self.key.kind.to_string();
        let m = &self.pod.metadata;
        let (pod, ns) = (m.name.as_deref().unwrap_or(""), m.namespace.as_deref().unwrap_or(""));
        let result = match outcome {
            Outcome::Success => "successful",
            Outcome::Failure => "failed",
            Outcome::Unknown => "unknown",
        };
        PROBE_TOTAL.inc(&[&kind, result, &self.container.name, pod, ns, &self.key.uid]);
        if outcome != Outcome::Failure {
            PROBE_DURATION.observe(&[&kind, &self.container.name, pod, ns], took.as_secs_f64());
        }
    }

    /// One round; false when the worker should stop.
    pub fn step(&mut self, status: Option<&ApiPodStatus>, now: i64, runner: &dyn Runner, out: &mut Vec<ResultOp>) -> bool {
        let Some(status) = status else { return true };
        if crate::status::phase::is_terminal_phase(status.phase.as_deref()) {
            return false;
        }
        let Some(c) = container_status(status, &self.container.name) else { return true };
        let api_id = c.container_id.clone().unwrap_or_default();
        let running_since = c.state.as_ref().and_then(|s| s.running.as_ref()).map(|r| r.started_at);
        if api_id != self.container_id {
            if let Some(old) = self.current_id() {
                out.push(ResultOp::Remove(old.to_string()));
            }
            self.container_id = api_id;
            let id = raw_container_id(&self.container_id).to_string();
            let adopted = running_since
                .flatten()
                .is_some_and(|at| at.unix_seconds() < self.agent_start - RESTART_GRACE_SECS);
            if self.is_restartable_init() && self.key.kind == ProbeType::Startup && c.started == Some(true) {
                out.push(ResultOp::Set(id.clone(), Outcome::Success));
            }
            if !adopted {
                out.push(ResultOp::Set(id, self.initial));
            }
            self.on_hold = false;
        }
        if self.on_hold {
            return true;
        }
        let Some(started_at) = running_since else {
            out.push(ResultOp::Set(raw_container_id(&self.container_id).to_string(), Outcome::Failure));
            let Some(t) = c.state.as_ref().and_then(|s| s.terminated.as_ref()) else { return true };
            return container_should_restart(&self.container, &self.pod.spec, t.exit_code) || self.is_restartable_init();
        };
        if self.pod.metadata.deletion_timestamp.is_some() && self.key.kind != ProbeType::Readiness {
            out.push(ResultOp::Set(raw_container_id(&self.container_id).to_string(), Outcome::Success));
            return false;
        }
        let since = now - started_at.map_or(now, Time::unix_seconds);
        if since < i64::from(self.spec.initial_delay_seconds.unwrap_or(0)) {
            return true;
        }
        let started = c.started == Some(true);
        if started == (self.key.kind == ProbeType::Startup) {
            // Startup probes stop once started; the others wait for it.
            return true;
        }
        let began = std::time::Instant::now();
        let outcome = match runner.probe(self.key.kind, &self.pod, status, &self.container, raw_container_id(&self.container_id)) {
            Ok(o) => o,
            Err(_) => return true,
        };
        self.record(outcome, began.elapsed());
        if self.last == Some(outcome) {
            self.run = self.run.saturating_add(1);
        } else {
            self.last = Some(outcome);
            self.run = 1;
        }
        let threshold = match outcome {
            Outcome::Failure => self.spec.failure_threshold.unwrap_or(3),
            Outcome::Success => self.spec.success_threshold.unwrap_or(1),
            Outcome::Unknown => 1,
        };
        if self.run < threshold {
            return true;
        }
        out.push(ResultOp::Set(raw_container_id(&self.container_id).to_string(), outcome));
        if (self.key.kind == ProbeType::Liveness && outcome == Outcome::Failure) || self.key.kind == ProbeType::Startup {
            // Wait for a new instance; probing a container being killed only makes noise.
            self.on_hold = true;
            self.run = 0;
        }
        true
    }
}

/// What a worker thread needs besides its worker.
pub(crate) struct Env {
    pub status: Arc<dyn StatusSource>,
    pub runner: Arc<dyn Runner>,
    pub manager: Sender<Command>,
    pub stop: Receiver<()>,
    pub trigger: Receiver<()>,
    pub generation: u64,
    /// The first probe waits a random part of the period when the agent just started, so
    /// that all workers do not probe at once.
    pub jitter: Option<Duration>,
}

/// The worker thread: probe every period until stopped, then drop the results.
pub(crate) fn run(mut w: Worker, env: Env) {
    let stopped_early = env.jitter.is_some_and(|j| env.stop.recv_timeout(j).is_ok());
    if !stopped_early {
        probe_loop(&mut w, &env);
    }
    if let Some(id) = w.current_id() {
        let _ = env.manager.send(Command::Remove { key: w.key.clone(), container_id: id.to_string() });
    }
    let _ = env.manager.send(Command::Done { key: w.key, generation: env.generation });
}

fn probe_loop(w: &mut Worker, env: &Env) {
    let period = w.period();
    let mut ticker = tick(period);
    let mut ops = Vec::new();
    loop {
        let status = env.status.pod_status(&w.key.uid);
        let keep = w.step(status.as_ref(), Time::now().unix_seconds(), env.runner.as_ref(), &mut ops);
        for op in ops.drain(..) {
            let key = w.key.clone();
            let c = match op {
                ResultOp::Set(container_id, outcome) => Command::Set { key, container_id, outcome },
                ResultOp::Remove(container_id) => Command::Remove { key, container_id },
            };
            let _ = env.manager.send(c);
        }
        if !keep {
            return;
        }
        select! {
            recv(env.stop) -> _ => return,
            recv(ticker) -> _ => {}
            // A dropped trigger means the manager let go of this worker.
            recv(env.trigger) -> t => match t {
                Ok(()) => ticker = tick(period),
                Err(_) => return,
            },
        }
    }
}
