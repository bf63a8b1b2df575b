//! The pod phase, computed from the API container statuses as upstream's `getPhase` does, and
//! the restart-policy questions it and the container conversion ask.
//!
//! Upstream v1.37 has `ContainerRestartRules` on by default, so every "would this container be
//! restarted?" goes through the container-level `restartPolicy` and `restartPolicyRules`
//! first and falls back to the pod's `restartPolicy` (default `Always`).
//!
//! ```text
//!  any regular init container failed and will not be restarted ......... Failed
//!  a regular init container not done, or a sidecar not started
//!    (and no app container has run in this sandbox), or a container
//!    waiting without a previous termination .............................. Pending
//!  something running, every container known ............................ Running
//!  nothing running, something stopped, every container known:
//!    terminal pod (not static) ........ all exit 0 → Succeeded, else Failed
//!    some stopped container will restart ............................... Running
//!    all stopped with exit 0 → Succeeded, else ......................... Failed
//!  otherwise ............................................................ Pending
//! ```

use crate::api::core::{Container, ContainerStatus, Pod, PodSpec};

/// `status.phase`. Upstream's kubelet never reports `Unknown` (the node controller does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
            Phase::Unknown => "Unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        match s {
            "Pending" => Some(Phase::Pending),
            "Running" => Some(Phase::Running),
            "Succeeded" => Some(Phase::Succeeded),
            "Failed" => Some(Phase::Failed),
            "Unknown" => Some(Phase::Unknown),
            _ => None,
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed)
    }
}

/// True when the phase string is `Succeeded` or `Failed`.
pub fn is_terminal_phase(phase: Option<&str>) -> bool {
    phase.and_then(Phase::parse).is_some_and(Phase::is_terminal)
}

/// The `kubernetes.io/config.source` value of pods from the API server.
const API_SOURCE: &str = "api";
const CONFIG_SOURCE_ANNOTATION: &str = "kubernetes.io/config.source";

/// A static pod (file or http source): it has a config source annotation other than `api`.
pub fn is_static_pod(pod: &Pod) -> bool {
    pod.metadata
        .annotation(CONFIG_SOURCE_ANNOTATION)
        .is_some_and(|s| s != API_SOURCE)
}

/// Reason upstream gives containers that the RestartAllContainers rule action stopped.
pub(crate) const RESTARTING_ALL_CONTAINERS: &str = "RestartingAllContainers";

/// Would `container`, exited with `exit_code`, be started again (upstream's
/// `ContainerShouldRestart`): a matching `restartPolicyRules` entry with action `Restart`
/// wins, then the container's own `restartPolicy`, then the pod's (default `Always`).
pub fn container_should_restart(container: &Container, spec: &PodSpec, exit_code: i32) -> bool {
    if let Some(policy) = container.restart_policy.as_deref() {
        if matching_rule_action(container, exit_code) == Some("Restart") {
            return true;
        }
        match policy {
            "Always" => return true,
            "OnFailure" => return exit_code != 0,
            "Never" => return false,
            _ => {}
        }
    }
    match spec.restart_policy.as_deref() {
        Some("OnFailure") => exit_code != 0,
        Some("Never") => false,
        _ => true,
    }
}

/// The action of the first restart rule whose exit-code condition matches.
fn matching_rule_action(container: &Container, exit_code: i32) -> Option<&str> {
    container.restart_policy_rules.iter().find_map(|rule| {
        let codes = rule.exit_codes.as_ref()?;
        let listed = codes.values.contains(&exit_code);
        let hit = match codes.operator.as_str() {
            "In" => listed,
            "NotIn" => !listed,
            _ => false,
        };
        hit.then_some(rule.action.as_str())
    })
}

/// Looks a container status up by name; app containers first, as upstream's combined list.
pub(crate) fn find_status<'a>(
    app: &'a [ContainerStatus],
    init: &'a [ContainerStatus],
    name: &str,
) -> Option<&'a ContainerStatus> {
    app.iter().chain(init).find(|s| s.name == name)
}

/// What one status says, reduced to what the phase needs.
enum Seen {
    Missing,
    Running {
        started: bool,
    },
    Terminated {
        exit_code: i32,
        reason: Option<String>,
    },
    /// Waiting after a previous termination (a restart is pending).
    WaitingAfter {
        exit_code: i32,
        reason: Option<String>,
    },
    Waiting,
    NoState,
}

fn seen(status: Option<&ContainerStatus>) -> Seen {
    let Some(status) = status else {
        return Seen::Missing;
    };
    let state = status.state.clone().unwrap_or_default();
    if state.running.is_some() {
        return Seen::Running {
            started: status.started == Some(true),
        };
    }
    if let Some(t) = state.terminated {
        return Seen::Terminated {
            exit_code: t.exit_code,
            reason: t.reason,
        };
    }
    if state.waiting.is_some() {
        let last = status
            .last_state
            .as_ref()
            .and_then(|l| l.terminated.as_ref());
        return match last {
            Some(t) => Seen::WaitingAfter {
                exit_code: t.exit_code,
                reason: t.reason.clone(),
            },
            None => Seen::Waiting,
        };
    }
    Seen::NoState
}

fn restartable(
    container: &Container,
    spec: &PodSpec,
    exit_code: i32,
    reason: Option<&str>,
) -> bool {
    container_should_restart(container, spec, exit_code)
        || reason == Some(RESTARTING_ALL_CONTAINERS)
}

#[derive(Default)]
struct Counts {
    pending_init: u32,
    pending_sidecars: u32,
    init_failed_for_good: u32,
    unknown: u32,
    running: u32,
    waiting: u32,
    stopped: u32,
    stopped_for_good: u32,
    succeeded: u32,
}

/// The phase of `pod` from its API container statuses (upstream's `getPhase`).
/// `pod_is_terminal`: the worker has stopped the pod for good; `pod_has_initialized`: an app
/// container exists in the newest sandbox.
pub fn get_phase(
    pod: &Pod,
    init: &[ContainerStatus],
    app: &[ContainerStatus],
    pod_is_terminal: bool,
    pod_has_initialized: bool,
) -> Phase {
    let spec = &pod.spec;
    let mut n = Counts::default();
    for c in spec
        .init_containers
        .iter()
        .filter(|c| !c.is_restartable_init())
    {
        match seen(find_status(app, init, &c.name)) {
            Seen::Terminated { exit_code, reason } | Seen::WaitingAfter { exit_code, reason } => {
                if exit_code != 0 && !restartable(c, spec, exit_code, reason.as_deref()) {
                    n.init_failed_for_good += 1;
                }
            }
            _ => n.pending_init += 1,
        }
    }
    for c in spec
        .init_containers
        .iter()
        .filter(|c| c.is_restartable_init())
    {
        match seen(find_status(app, init, &c.name)) {
            Seen::Missing => n.unknown += 1,
            Seen::Running { started } => {
                n.pending_sidecars += u32::from(!started);
                n.running += 1;
            }
            // A stopped sidecar does not count for the phase.
            Seen::Terminated { .. } | Seen::WaitingAfter { .. } => {}
            Seen::Waiting => {
                n.pending_sidecars += 1;
                n.waiting += 1;
            }
            Seen::NoState => {
                n.pending_sidecars += 1;
                n.unknown += 1;
            }
        }
    }
    for c in &spec.containers {
        match seen(find_status(app, init, &c.name)) {
            Seen::Missing | Seen::NoState => n.unknown += 1,
            Seen::Running { .. } => n.running += 1,
            Seen::Terminated { exit_code, reason } => {
                n.stopped += 1;
                n.stopped_for_good +=
                    u32::from(!restartable(c, spec, exit_code, reason.as_deref()));
                n.succeeded += u32::from(exit_code == 0);
            }
            // Upstream counts a pending restart as stopped but never as succeeded.
            Seen::WaitingAfter { exit_code, reason } => {
                n.stopped += 1;
                n.stopped_for_good +=
                    u32::from(!restartable(c, spec, exit_code, reason.as_deref()));
            }
            Seen::Waiting => n.waiting += 1,
        }
    }
    decide(
        &n,
        pod_is_terminal && !is_static_pod(pod),
        pod_has_initialized,
    )
}

fn decide(n: &Counts, terminal: bool, pod_has_initialized: bool) -> Phase {
    if n.init_failed_for_good > 0 {
        return Phase::Failed;
    }
    let initializing = n.pending_init > 0 || (n.pending_sidecars > 0 && !pod_has_initialized);
    if initializing || n.waiting > 0 {
        return Phase::Pending;
    }
    if n.running > 0 && n.unknown == 0 {
        return Phase::Running;
    }
    if n.running == 0 && n.stopped > 0 && n.unknown == 0 {
        // A terminal pod's containers will not restart, whatever the policy says.
        if terminal || n.stopped == n.stopped_for_good {
            return if n.stopped == n.succeeded {
                Phase::Succeeded
            } else {
                Phase::Failed
            };
        }
        return Phase::Running;
    }
    Phase::Pending
}

#[cfg(test)]
#[path = "phase_tests.rs"]
mod tests;
