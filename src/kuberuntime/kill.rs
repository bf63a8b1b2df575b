//! Stopping containers and pods (upstream's `killContainer` and `killPodWithSyncResult`).
//!
//! ```text
//!  kill container: grace period ─► Killing event ─► preStop hook (bounded by the grace
//!    period, time spent is subtracted) ─► wait for its turn (sidecars stop after the app
//!    containers and after later sidecars) ─► StopContainer(timeout = what is left, ≥ 2 s)
//!  kill pod: every running container in parallel, then StopPodSandbox of every sandbox
//! ```
//! A pod that is no longer known (`None`, e.g. after a restart) is killed from what its
//! containers' labels and annotations say (grace period, preStop handler).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::actions::KillReason;
use super::error::RuntimeError;
use super::hooks;
use super::inspect::cri_container_status;
use super::labels::read_container_identity;
use super::model::PodStatus;
use super::runtime::Runtime;
use crate::api::core::{Container, Lifecycle, LifecycleHandler, Pod};
use crate::cri;
use crate::events::{EventType, reason};
use crate::status::reason::pod_desc;

/// Upstream's `minimumGracePeriodInSeconds`: no container is stopped with less.
pub const MINIMUM_GRACE_PERIOD: i64 = 2;
/// The API's default `terminationGracePeriodSeconds`, for pods whose spec leaves it unset.
pub const DEFAULT_TERMINATION_GRACE_PERIOD: i64 = 30;

/// The event field path of a container of `pod`.
pub(crate) fn field_path(pod: &Pod, name: &str) -> String {
    let spec = &pod.spec;
    if spec.init_containers.iter().any(|c| c.name == name) {
        format!("spec.initContainers{{{name}}}")
    } else if spec.ephemeral_containers.iter().any(|c| c.common.name == name) {
        format!("spec.ephemeralContainers{{{name}}}")
    } else {
        format!("spec.containers{{{name}}}")
    }
}

fn container_spec<'a>(pod: &'a Pod, name: &str) -> Option<&'a Container> {
    let s = &pod.spec;
    s.containers
        .iter()
        .chain(&s.init_containers)
        .chain(s.ephemeral_containers.iter().map(|e| &e.common))
        .find(|c| c.name == name)
}

/// Upstream's `setTerminationGracePeriod`.
pub(crate) fn grace_period(pod: &Pod, container: &Container, why: KillReason) -> i64 {
    if let Some(g) = pod.metadata.deletion_grace_period_seconds {
        return g;
    }
    let probe = match why {
        KillReason::LivenessProbe => container.liveness_probe.as_ref(),
        KillReason::StartupProbe => container.startup_probe.as_ref(),
        _ => None,
    };
    if let Some(g) = probe.and_then(|p| p.termination_grace_period_seconds) {
        return g;
    }
    pod.spec.termination_grace_period_seconds.unwrap_or(DEFAULT_TERMINATION_GRACE_PERIOD)
}

/// Who waits for whom when a pod with sidecars stops (upstream's `terminationOrdering`):
/// a sidecar waits for every app container and for the sidecar declared after it.
pub(crate) struct Ordering {
    /// Dropping a container's sender tells its waiters it stopped.
    done: Mutex<HashMap<String, Sender<()>>>,
    prereqs: HashMap<String, Vec<Receiver<()>>>,
}

impl Ordering {
    pub(crate) fn new(pod: &Pod, running: &[&str]) -> Ordering {
        let mut done = HashMap::new();
        // A container that is not running gets no sender: its channel is closed at once.
        let mut channel = |name: &str| {
            let (tx, rx) = crossbeam_channel::bounded::<()>(0);
            if running.contains(&name) {
                done.insert(name.to_string(), tx);
            }
            rx
        };
        let apps: Vec<Receiver<()>> = pod.spec.containers.iter().map(|c| channel(&c.name)).collect();
        let mut prereqs: HashMap<String, Vec<Receiver<()>>> = HashMap::new();
        let mut later_sidecar: Option<Receiver<()>> = None;
        for c in pod.spec.init_containers.iter().rev() {
            let rx = channel(&c.name);
            if c.is_restartable_init() {
                let mut waits = apps.clone();
                waits.extend(later_sidecar.take());
                prereqs.insert(c.name.clone(), waits);
                later_sidecar = Some(rx);
            }
        }
        Ordering { done: Mutex::new(done), prereqs }
    }

    /// Waits until `name` may stop, at most `grace` seconds; returns the whole seconds waited.
    fn wait_for_turn(&self, name: &str, grace: i64) -> i64 {
        if grace <= 0 {
            return 0;
        }
        let start = Instant::now();
        let deadline = start + Duration::from_secs(u64::try_from(grace).unwrap_or(0));
        for rx in self.prereqs.get(name).map(Vec::as_slice).unwrap_or_default() {
            if let Err(RecvTimeoutError::Timeout) = rx.recv_deadline(deadline) {
                break;
            }
        }
        i64::try_from(start.elapsed().as_secs()).unwrap_or(i64::MAX)
    }

    fn terminated(&self, name: &str) {
        self.done.lock().unwrap_or_else(|e| e.into_inner()).remove(name);
    }
}

/// What a kill needs to know of the pod and container when the specs are gone: what the
/// container's labels and annotations remember (upstream's `restoreSpecsFromContainerLabels`).
fn restore_from_labels(status: &cri::ContainerStatus) -> (Pod, Container) {
    let id = read_container_identity(&status.labels, &status.annotations).unwrap_or_default();
    let mut pod = Pod::default();
    pod.metadata.name = Some(id.pod_name);
    pod.metadata.namespace = Some(id.pod_namespace);
    pod.metadata.uid = Some(id.pod_uid);
    pod.metadata.deletion_grace_period_seconds = id.deletion_grace_period;
    // Without the annotation upstream stops orphans with the minimum grace period.
    pod.spec.termination_grace_period_seconds = Some(id.grace_period.unwrap_or(MINIMUM_GRACE_PERIOD));
    let name = if id.container_name.is_empty() {
        status.metadata.as_ref().map(|m| m.name.clone()).unwrap_or_default()
    } else {
        id.container_name
    };
    let container = Container {
        name,
        ports: id.ports,
        termination_message_path: Some(id.termination_message_path),
        lifecycle: id.pre_stop.map(|h| Lifecycle { pre_stop: Some(h), ..Default::default() }),
        ..Default::default()
    };
    (pod, container)
}

/// One container to stop, and why.
pub(crate) struct KillRequest<'a> {
    pub pod: Option<&'a Pod>,
    pub id: &'a str,
    pub name: &'a str,
    /// The Killing event message; empty: `Stopping container <name>`.
    pub message: &'a str,
    pub reason: KillReason,
    pub grace_override: Option<i64>,
    pub pod_ips: &'a [String],
}

impl Runtime {
    /// Stops one container: preStop hook, then StopContainer with the grace period left.
    pub(crate) fn kill_container(
        &self,
        k: &KillRequest,
        ordering: Option<&Ordering>,
    ) -> Result<(), RuntimeError> {
        let (pod, container): (Cow<Pod>, Cow<Container>) =
            match k.pod.and_then(|p| container_spec(p, k.name).map(|c| (p, c))) {
                Some((p, c)) => (Cow::Borrowed(p), Cow::Borrowed(c)),
                None => match cri_container_status(&self.cri, k.id)? {
                    Some(s) => {
                        let (p, c) = restore_from_labels(&s);
                        (k.pod.map_or(Cow::Owned(p), Cow::Borrowed), Cow::Owned(c))
                    }
                    None => return Ok(()),
                },
            };
        let mut grace = grace_period(&pod, &container, k.reason);
        let message = if k.message.is_empty() {
            format!("Stopping container {}", container.name)
        } else {
            k.message.to_string()
        };
        self.recorder.pod_event(
            &pod,
            &field_path(&pod, k.name),
            EventType::Normal,
            reason::KILLING,
            &message,
        );
        if let Some(g) = k.grace_override {
            grace = g;
        }
        if let Some(handler) =
            container.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref()).filter(|_| grace > 0)
        {
            grace -= self.pre_stop(&pod, &container, k.id, handler, grace, k.pod_ips);
        }
        if let Some(o) = ordering.filter(|_| grace > 0) {
            grace -= o.wait_for_turn(k.name, grace);
        }
        grace = grace.max(MINIMUM_GRACE_PERIOD);
        log::debug!(
            "killing container {} ({}) of pod {} with grace period {grace}s",
            k.name,
            k.id,
            pod_desc(&pod)
        );
        let req = cri::StopContainerRequest { container_id: k.id.to_string(), timeout: grace };
        match self.cri.stop_container(&req) {
            Err(e) if !e.is_not_found() => {
                return Err(RuntimeError::cri(
                    format!("container {} ({}) of pod {}", k.name, k.id, pod_desc(&pod)),
                    e,
                ));
            }
            _ => {}
        }
        if let Some(o) = ordering {
            o.terminated(k.name);
        }
        Ok(())
    }

    /// Runs the preStop hook on its own thread for at most `grace` seconds; returns the whole
    /// seconds it took.
    fn pre_stop(
        &self,
        pod: &Pod,
        c: &Container,
        id: &str,
        handler: &LifecycleHandler,
        grace: i64,
        ips: &[String],
    ) -> i64 {
        let start = Instant::now();
        let (tx, rx) = crossbeam_channel::bounded(1);
        let (cri, recorder, owned_pod, owned_c, id_s, h, ips_v) = (
            self.cri.clone(),
            self.recorder.clone(),
            pod.clone(),
            c.clone(),
            id.to_string(),
            handler.clone(),
            ips.to_vec(),
        );
        // The thread outlives a hook that overruns the grace period: it owns what it uses.
        let spawned = std::thread::Builder::new().name("rk-prestop".into()).spawn(move || {
            let target = hooks::Target {
                cri: &cri,
                recorder: recorder.as_ref(),
                pod: &owned_pod,
                container: &owned_c,
                container_id: &id_s,
                pod_ips: &ips_v,
            };
            let _ = tx.send(hooks::run(&target, &h));
        });
        if let Err(e) = spawned {
            log::error!("cannot run the preStop hook of container {} of pod {}: {e}", c.name, pod_desc(pod));
            return 0;
        }
        match rx.recv_timeout(Duration::from_secs(u64::try_from(grace).unwrap_or(0))) {
            Ok(Err(message)) => {
                log::warn!("preStop hook of container {} of pod {} failed: {message}", c.name, pod_desc(pod));
                // The message may carry secrets: the event does not.
                let path = field_path(pod, &c.name);
                self.recorder.pod_event(
                    pod,
                    &path,
                    EventType::Warning,
                    reason::FAILED_PRE_STOP_HOOK,
                    "PreStopHook failed",
                );
            }
            Ok(Ok(())) => {}
            Err(_) => log::debug!(
                "preStop hook of container {} of pod {} did not finish in {grace}s",
                c.name,
                pod_desc(pod)
            ),
        }
        i64::try_from(start.elapsed().as_secs()).unwrap_or(i64::MAX)
    }

    /// Stops every running container of the pod (in parallel, sidecars last) and then every
    /// sandbox. `pod` is `None` for pods no longer known; `grace_override` replaces the pod's
    /// grace period (hard evictions).
    pub fn kill_pod(
        &self,
        pod: Option<&Pod>,
        status: &PodStatus,
        grace_override: Option<i64>,
    ) -> Result<(), RuntimeError> {
        let desc =
            pod.map_or_else(|| format!("{}_{}({})", status.name, status.namespace, status.uid), pod_desc);
        let running: Vec<_> = status.running().collect();
        let names: Vec<&str> = running.iter().map(|c| c.name.as_str()).collect();
        let ordering = pod
            .filter(|p| p.spec.init_containers.iter().any(Container::is_restartable_init))
            .map(|p| Ordering::new(p, &names));
        let mut failures: Vec<String> = std::thread::scope(|scope| {
            let handles: Vec<_> = running
                .iter()
                .map(|c| {
                    let k = KillRequest {
                        pod,
                        id: &c.id,
                        name: &c.name,
                        message: "",
                        reason: KillReason::Unknown,
                        grace_override,
                        pod_ips: &status.ips,
                    };
                    let ordering = ordering.as_ref();
                    scope.spawn(move || self.kill_container(&k, ordering).map_err(|e| e.to_string()))
                })
                .collect();
            handles
                .into_iter()
                .filter_map(|h| h.join().unwrap_or_else(|_| Err("kill thread panicked".into())).err())
                .collect()
        });
        for sb in &status.sandboxes {
            let req = cri::StopPodSandboxRequest { pod_sandbox_id: sb.id.clone() };
            match self.cri.stop_pod_sandbox(&req) {
                Err(e) if !e.is_not_found() => failures.push(format!("sandbox {}: {e}", sb.id)),
                _ => {}
            }
        }
        if failures.is_empty() { Ok(()) } else { Err(RuntimeError::Kill { pod: desc, failures }) }
    }
}

#[cfg(test)]
#[path = "kill_tests.rs"]
mod tests;
