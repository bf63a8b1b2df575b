//! Pod conditions, as upstream's `pkg/kubelet/status/generate.go` and `generateAPIPodStatus`
//! build them: conditions other owners set (from the API object) are kept, `DisruptionTarget`
//! comes from the previous status, then the kubelet's own in upstream's order:
//! `PodReadyToStartContainers`, `Initialized`, `Ready`, `ContainersReady`, `PodScheduled`.
//! A condition keeps its `lastTransitionTime` while its status does not change.

use crate::api::core::{ContainerStatus, Pod, PodCondition, PodStatus};
use crate::api::time::Time;
use crate::kuberuntime::{self as rt, SandboxState};

use super::phase::{Phase, find_status};

pub const POD_SCHEDULED: &str = "PodScheduled";
pub const READY: &str = "Ready";
pub const INITIALIZED: &str = "Initialized";
pub const CONTAINERS_READY: &str = "ContainersReady";
pub const POD_READY_TO_START_CONTAINERS: &str = "PodReadyToStartContainers";
pub const DISRUPTION_TARGET: &str = "DisruptionTarget";
const POD_RESIZE_IN_PROGRESS: &str = "PodResizeInProgress";
const POD_RESIZE_PENDING: &str = "PodResizePending";
const ALL_CONTAINERS_RESTARTING: &str = "AllContainersRestarting";

pub const POD_COMPLETED: &str = "PodCompleted";
pub const POD_FAILED: &str = "PodFailed";
pub const CONTAINERS_NOT_READY: &str = "ContainersNotReady";
pub const CONTAINERS_NOT_INITIALIZED: &str = "ContainersNotInitialized";
pub const READINESS_GATES_NOT_READY: &str = "ReadinessGatesNotReady";
pub const POD_SANDBOX_NOT_READY: &str = "PodSandboxNotReady";

/// Conditions the kubelet owns: it regenerates them and drops what others wrote there.
pub fn owned_by_kubelet(type_: &str) -> bool {
    [
        POD_SCHEDULED,
        READY,
        INITIALIZED,
        CONTAINERS_READY,
        POD_RESIZE_IN_PROGRESS,
        POD_RESIZE_PENDING,
        POD_READY_TO_START_CONTAINERS,
        ALL_CONTAINERS_RESTARTING,
    ]
    .contains(&type_)
}

/// Conditions whose `lastTransitionTime` the kubelet maintains.
const TIMED: [&str; 7] = [
    CONTAINERS_READY,
    READY,
    INITIALIZED,
    POD_READY_TO_START_CONTAINERS,
    POD_SCHEDULED,
    DISRUPTION_TARGET,
    ALL_CONTAINERS_RESTARTING,
];

fn condition(type_: &str, ok: bool, reason: Option<&str>, message: Option<String>) -> PodCondition {
    PodCondition {
        type_: type_.to_string(),
        status: if ok { "True" } else { "False" }.to_string(),
        reason: reason.map(str::to_string),
        message,
        ..Default::default()
    }
}

/// `containers with unknown status: [a b], containers with unready status: [c]` for the
/// non-empty groups (Go's `%s` of a string slice is `[a b]`), `None` when all are empty.
fn containers_message(groups: &[(&str, &[&str])]) -> Option<String> {
    let parts: Vec<String> = groups
        .iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(what, names)| format!("containers with {what} status: [{}]", names.join(" ")))
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Why the pod needs a new sandbox before containers can start (upstream's
/// `PodSandboxChanged`), or `None` when the newest sandbox is ready with its network.
pub fn sandbox_not_ready(pod: &Pod, runtime: &rt::PodStatus) -> Option<&'static str> {
    let Some(newest) = runtime.newest_sandbox() else {
        return Some("no pod sandbox exists");
    };
    if runtime
        .sandboxes
        .iter()
        .filter(|s| s.state == SandboxState::Ready)
        .count()
        > 1
    {
        return Some("multiple pod sandboxes are ready and need to be reconciled");
    }
    if newest.state != SandboxState::Ready {
        return Some("pod sandbox is not ready");
    }
    let host_network = pod.spec.host_network.unwrap_or(false);
    if newest.host_network != host_network {
        return Some("network namespace mode changed and sandbox needs to be recreated");
    }
    if !host_network && newest.ips.is_empty() {
        return Some("pod sandbox has no IP address");
    }
    None
}

fn ready_to_start_containers(pod: &Pod, runtime: &rt::PodStatus) -> PodCondition {
    match sandbox_not_ready(pod, runtime) {
        None => condition(POD_READY_TO_START_CONTAINERS, true, None, None),
        Some(why) => condition(
            POD_READY_TO_START_CONTAINERS,
            false,
            Some(POD_SANDBOX_NOT_READY),
            Some(why.into()),
        ),
    }
}

/// An app container has run (is running or terminated): the pod initialized at some point.
fn any_app_container_started(pod: &Pod, app: &[ContainerStatus]) -> bool {
    app.iter()
        .filter(|s| pod.spec.containers.iter().any(|c| c.name == s.name))
        .any(|s| {
            s.state
                .as_ref()
                .is_some_and(|st| st.running.is_some() || st.terminated.is_some())
        })
}

fn initialized(
    pod: &Pod,
    init: &[ContainerStatus],
    app: &[ContainerStatus],
    phase: Phase,
    old: &PodStatus,
) -> PodCondition {
    let mut unknown = Vec::new();
    let mut incomplete = Vec::new();
    for c in &pod.spec.init_containers {
        let Some(s) = find_status(app, init, &c.name) else {
            unknown.push(c.name.as_str());
            continue;
        };
        let done = if c.is_restartable_init() {
            s.started == Some(true)
        } else {
            s.ready
        };
        if !done {
            incomplete.push(c.name.as_str());
        }
    }
    if phase == Phase::Succeeded && unknown.is_empty() {
        return condition(INITIALIZED, true, Some(POD_COMPLETED), None);
    }
    if any_app_container_started(pod, app) {
        return condition(INITIALIZED, true, None, None);
    }
    let message = containers_message(&[("unknown", &unknown), ("incomplete", &incomplete)]);
    // Once initialized, a pod stays initialized (RestartAllContainersOnContainerExits, on in 1.37).
    let was_initialized = old
        .conditions
        .iter()
        .any(|c| c.type_ == INITIALIZED && c.status == "True");
    match message {
        Some(m) if !was_initialized => condition(
            INITIALIZED,
            false,
            Some(CONTAINERS_NOT_INITIALIZED),
            Some(m),
        ),
        _ => condition(INITIALIZED, true, None, None),
    }
}

fn containers_ready(
    pod: &Pod,
    init: &[ContainerStatus],
    app: &[ContainerStatus],
    phase: Phase,
) -> PodCondition {
    let mut unknown = Vec::new();
    let mut unready = Vec::new();
    let sidecars = pod
        .spec
        .init_containers
        .iter()
        .filter(|c| c.is_restartable_init());
    for c in sidecars.chain(&pod.spec.containers) {
        match find_status(app, init, &c.name) {
            None => unknown.push(c.name.as_str()),
            Some(s) if !s.ready => unready.push(c.name.as_str()),
            Some(_) => {}
        }
    }
    if (phase == Phase::Succeeded && unknown.is_empty()) || phase == Phase::Failed {
        let reason = if phase == Phase::Failed {
            POD_FAILED
        } else {
            POD_COMPLETED
        };
        return condition(CONTAINERS_READY, false, Some(reason), None);
    }
    match containers_message(&[("unknown", &unknown), ("unready", &unready)]) {
        None => condition(CONTAINERS_READY, true, None, None),
        Some(m) => condition(CONTAINERS_READY, false, Some(CONTAINERS_NOT_READY), Some(m)),
    }
}

/// `Ready`: `ContainersReady`, and every readiness gate's condition True.
fn ready(pod: &Pod, conditions: &[PodCondition], containers: &PodCondition) -> PodCondition {
    if containers.status != "True" {
        let mut c = containers.clone();
        c.type_ = READY.to_string();
        return c;
    }
    let mut messages = Vec::new();
    for gate in &pod.spec.readiness_gates {
        let t = &gate.condition_type;
        match conditions.iter().find(|c| &c.type_ == t) {
            None => messages.push(format!(
                "corresponding condition of pod readiness gate {t:?} does not exist."
            )),
            Some(c) if c.status != "True" => {
                messages.push(format!(
                    "the status of pod readiness gate {t:?} is not \"True\", but {}",
                    c.status
                ));
            }
            Some(_) => {}
        }
    }
    if messages.is_empty() {
        return condition(READY, true, None, None);
    }
    condition(
        READY,
        false,
        Some(READINESS_GATES_NOT_READY),
        Some(messages.join(", ")),
    )
}

/// What the conditions are computed from.
pub(crate) struct Inputs<'a> {
    pub pod: &'a Pod,
    pub runtime: &'a rt::PodStatus,
    pub old: &'a PodStatus,
    pub init: &'a [ContainerStatus],
    pub app: &'a [ContainerStatus],
    pub phase: Phase,
    pub now: Time,
}

/// Every condition of the new status, in upstream's order, with transition times.
pub(crate) fn build(i: &Inputs) -> Vec<PodCondition> {
    let mut out: Vec<PodCondition> = i
        .pod
        .status
        .conditions
        .iter()
        .filter(|c| !owned_by_kubelet(&c.type_))
        .cloned()
        .collect();
    if let Some(disruption) = i
        .old
        .conditions
        .iter()
        .find(|c| c.type_ == DISRUPTION_TARGET)
    {
        match out.iter_mut().find(|c| c.type_ == DISRUPTION_TARGET) {
            Some(slot) => *slot = disruption.clone(),
            None => out.push(disruption.clone()),
        }
    }
    let generation = i.pod.metadata.generation.filter(|g| *g != 0);
    let containers = containers_ready(i.pod, i.init, i.app, i.phase);
    let mut own = vec![
        ready_to_start_containers(i.pod, i.runtime),
        initialized(i.pod, i.init, i.app, i.phase, i.old),
    ];
    let so_far: Vec<PodCondition> = out.iter().chain(&own).cloned().collect();
    own.push(ready(i.pod, &so_far, &containers));
    own.push(containers);
    own.push(condition(POD_SCHEDULED, true, None, None));
    for c in &mut own {
        c.observed_generation = generation;
    }
    out.extend(own);
    stamp_transitions(&mut out, &i.old.conditions, i.now);
    out
}

/// Upstream's `SetContainerReadiness`: one container's readiness changed between syncs (a
/// readiness probe result, also while the pod terminates). Sets it on `status` and
/// recomputes `ContainersReady` and `Ready`; false when nothing changed.
pub fn set_container_readiness(pod: &Pod, status: &mut PodStatus, container_id: &str, is_ready: bool, now: Time) -> bool {
    let matches = |s: &ContainerStatus| {
        s.container_id.as_deref().is_some_and(|id| id.split_once("://").map_or(id, |(_, raw)| raw) == container_id)
    };
    let old = status.clone();
    let Some(c) = status.container_statuses.iter_mut().chain(status.init_container_statuses.iter_mut()).find(|s| matches(s))
    else {
        return false;
    };
    if c.ready == is_ready {
        return false;
    }
    c.ready = is_ready;
    let phase = status.phase.as_deref().and_then(Phase::parse).unwrap_or(Phase::Pending);
    let containers = containers_ready(pod, &status.init_container_statuses, &status.container_statuses, phase);
    let mut fresh = vec![ready(pod, &status.conditions, &containers), containers];
    stamp_transitions(&mut fresh, &old.conditions, now);
    for f in fresh {
        match status.conditions.iter_mut().find(|c| c.type_ == f.type_) {
            Some(slot) => *slot = f,
            None => status.conditions.push(f),
        }
    }
    true
}

/// Keeps the previous `lastTransitionTime` of a condition whose status did not change.
fn stamp_transitions(conditions: &mut [PodCondition], old: &[PodCondition], now: Time) {
    for c in conditions
        .iter_mut()
        .filter(|c| TIMED.contains(&c.type_.as_str()))
    {
        c.last_transition_time = match old.iter().find(|o| o.type_ == c.type_) {
            Some(o) if o.status == c.status => o.last_transition_time,
            _ => Some(now),
        };
    }
}

#[cfg(test)]
#[path = "conditions_tests.rs"]
mod tests;
