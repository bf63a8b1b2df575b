//! What a sync must do to a pod: upstream's `computePodActions` as a pure function of the
//! pod spec, the runtime's view and the probe verdicts.
//!
//! ```text
//!  sandbox missing / not ready / several ready / no IP / network mode changed
//!    └─► kill everything, create a sandbox (attempt + 1), start from the first init
//!        container (or all app containers that still should run); but nothing when
//!        restartPolicy Never has run containers before, or every app container is done
//!  otherwise
//!    ├─ ephemeral containers never seen ............................ start
//!    ├─ init containers (newest sandbox only, last to first):
//!    │    the next one after the last completed ...................... start
//!    │    failed: restart per policy, or kill the pod (Never) ......... kill_pod
//!    │    sidecars (restartPolicy Always): keep running, restart when exited,
//!    │    changed or failing probes; the next init container starts once started
//!    └─ when initialized, app containers:
//!         not running and should restart (policy, exit code) ......... start
//!         running but spec hash changed / liveness / startup failed .. kill (+ start)
//!         nothing running and nothing to start ....................... kill_pod
//! ```

use std::collections::BTreeMap;

use super::hash::container_hash;
use super::model::{ContainerState, ContainerStatus, PodStatus, SandboxState};
use crate::api::core::{Container, Pod};
use crate::status::conditions::sandbox_not_ready;
use crate::status::phase::container_should_restart;

/// The outcome of a probe for one container, as the prober last saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProbeResult {
    /// The probe has not run yet (or the container has no prober).
    #[default]
    NotRun,
    Success,
    Failure,
}

/// Liveness and startup verdicts of one container (by container ID).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContainerVerdict {
    pub liveness: ProbeResult,
    pub startup: ProbeResult,
}

impl ContainerVerdict {
    /// What a node without a prober assumes: every probe passed.
    pub const HEALTHY: ContainerVerdict =
        ContainerVerdict { liveness: ProbeResult::Success, startup: ProbeResult::Success };
}

/// Verdicts for standalone callers that run no prober.
pub fn all_healthy(_container_id: &str) -> ContainerVerdict {
    ContainerVerdict::HEALTHY
}

/// Why a container is killed; picks the grace period (probe-level ones for probe failures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KillReason {
    #[default]
    Unknown,
    LivenessProbe,
    StartupProbe,
    FailedPostStartHook,
}

/// A running container the sync must stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerToKill {
    pub name: String,
    /// The Killing event's message; empty means upstream's default `Stopping container <name>`.
    pub message: String,
    pub reason: KillReason,
}

/// What one sync does (upstream's `podActions`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodActions {
    /// Stop every container and sandbox of the pod first.
    pub kill_pod: bool,
    pub create_sandbox: bool,
    /// The sandbox to start containers in (the one being replaced when `create_sandbox`, or
    /// empty when there is none or the network mode changed).
    pub sandbox_id: String,
    /// The attempt number of the sandbox to create (or of the current one).
    pub attempt: u32,
    /// Why the sandbox is (re)created, as upstream words it.
    pub sandbox_reason: Option<&'static str>,
    /// Indices into `spec.initContainers`, in start order.
    pub init_containers_to_start: Vec<usize>,
    /// Indices into `spec.containers`.
    pub containers_to_start: Vec<usize>,
    /// Container ID to what to tell about its killing.
    pub containers_to_kill: BTreeMap<String, ContainerToKill>,
    /// Indices into `spec.ephemeralContainers`.
    pub ephemeral_containers_to_start: Vec<usize>,
}

fn pod_restarts_on_failure(pod: &Pod) -> bool {
    pod.spec.restart_policy.as_deref() != Some("Never")
}

/// The newest status of `name` exited with 0.
fn succeeded(name: &str, status: &PodStatus) -> bool {
    status.container(name).is_some_and(|s| s.state == Some(ContainerState::Exited) && s.exit_code == 0)
}

/// Upstream's `ShouldContainerBeRestarted`: not yet run, or dead and allowed by the policy.
pub fn should_container_be_restarted(container: &Container, pod: &Pod, status: &PodStatus) -> bool {
    if pod.metadata.deletion_timestamp.is_some() {
        return false;
    }
    let Some(s) = status.container(&container.name) else { return true };
    match s.state.unwrap_or_default() {
        ContainerState::Running => false,
        ContainerState::Unknown | ContainerState::Created => true,
        ContainerState::Exited => container_should_restart(container, &pod.spec, s.exit_code),
    }
}

/// The sandbox whose containers count as "active": the newest one, if it is ready.
fn active_sandbox(status: &PodStatus) -> Option<&str> {
    status.newest_sandbox().filter(|s| s.state == SandboxState::Ready).map(|s| s.id.as_str())
}

fn find_active<'a>(status: &'a PodStatus, active: Option<&str>, name: &str) -> Option<&'a ContainerStatus> {
    let active = active?;
    status.containers.iter().find(|c| c.name == name && c.sandbox_id == active)
}

/// Upstream's `HasAnyRegularContainerCreated`.
fn any_app_container_created(pod: &Pod, status: &PodStatus) -> bool {
    pod.spec.containers.iter().any(|c| {
        status.container(&c.name).is_some_and(|s| {
            matches!(
                s.state,
                Some(ContainerState::Created | ContainerState::Running | ContainerState::Exited)
            )
        })
    })
}

/// Upstream's `isInitContainerFailed`.
fn init_failed(s: &ContainerStatus) -> bool {
    s.reason == "OOMKilled"
        || (s.state == Some(ContainerState::Exited) && s.exit_code != 0)
        || matches!(s.state, Some(ContainerState::Unknown) | None)
}

fn hash_changed(container: &Container, s: &ContainerStatus) -> bool {
    container_hash(container) != s.hash
}

/// Computes the actions of one sync. `verdicts` gives the liveness/startup results by
/// container ID ([`all_healthy`] when there is no prober).
pub fn compute_pod_actions(
    pod: &Pod,
    status: &PodStatus,
    verdicts: &dyn Fn(&str) -> ContainerVerdict,
) -> PodActions {
    let mut a = PodActions::default();
    let newest = status.newest_sandbox();
    a.sandbox_reason = sandbox_not_ready(pod, status);
    a.create_sandbox = a.sandbox_reason.is_some();
    a.kill_pod = a.create_sandbox;
    a.attempt = newest.map_or(0, |s| s.attempt.saturating_add(u32::from(a.create_sandbox)));
    // A new network mode means a fresh pod, not a changed sandbox (no SandboxChanged event).
    let ready = status.sandboxes.iter().filter(|s| s.state == SandboxState::Ready).count();
    let netns_changed = newest.is_some_and(|s| {
        ready <= 1
            && s.state == SandboxState::Ready
            && s.host_network != pod.spec.host_network.unwrap_or(false)
    });
    a.sandbox_id = match newest {
        Some(s) if !netns_changed => s.id.clone(),
        _ => String::new(),
    };

    if a.create_sandbox {
        sandbox_actions(pod, status, &mut a);
        return a;
    }

    for (i, ec) in pod.spec.ephemeral_containers.iter().enumerate() {
        if status.container(&ec.common.name).is_none() {
            a.ephemeral_containers_to_start.push(i);
        }
    }

    let initialized = init_container_actions(pod, status, verdicts, &mut a);
    if a.kill_pod || !initialized {
        return a;
    }

    let mut keep = 0;
    for (idx, c) in pod.spec.containers.iter().enumerate() {
        let s = status.container(&c.name);
        let running = s.is_some_and(|s| s.state == Some(ContainerState::Running));
        if !running {
            if should_container_be_restarted(c, pod, status) {
                a.containers_to_start.push(idx);
                if let Some(s) = s.filter(|s| matches!(s.state, Some(ContainerState::Unknown) | None)) {
                    // It may still run: stop it so two instances never run at once.
                    let message =
                        "Container is in \"unknown\" state, try killing it before restart".to_string();
                    a.containers_to_kill.insert(s.id.clone(), kill(c, message, KillReason::Unknown));
                }
            }
            continue;
        }
        let Some(s) = s else { continue };
        let mut restart = match c.restart_policy.as_deref() {
            Some(policy) => policy != "Never",
            None => pod_restarts_on_failure(pod),
        };
        let verdict = verdicts(&s.id);
        let (message, reason) = if hash_changed(c, s) {
            restart = true;
            (format!("Container {} definition changed", c.name), KillReason::Unknown)
        } else if verdict.liveness == ProbeResult::Failure {
            (format!("Container {} failed liveness probe", c.name), KillReason::LivenessProbe)
        } else if verdict.startup == ProbeResult::Failure {
            (format!("Container {} failed startup probe", c.name), KillReason::StartupProbe)
        } else {
            keep += 1;
            continue;
        };
        let message = if restart {
            a.containers_to_start.push(idx);
            format!("{message}, will be restarted")
        } else {
            message
        };
        a.containers_to_kill.insert(s.id.clone(), kill(c, message, reason));
    }

    if keep == 0 && a.containers_to_start.is_empty() {
        a.kill_pod = true;
        // Sidecars alone must not keep a finished pod alive.
        a.init_containers_to_start.clear();
    }
    a
}

fn kill(c: &Container, message: String, reason: KillReason) -> ContainerToKill {
    ContainerToKill { name: c.name.clone(), message, reason }
}

/// The sandbox is (re)created: decide whether it is worth it and what starts in it.
fn sandbox_actions(pod: &Pod, status: &PodStatus, a: &mut PodActions) {
    if !pod_restarts_on_failure(pod) && a.attempt != 0 && !status.containers.is_empty() {
        // restartPolicy Never and containers ran before: only stop what is left.
        a.create_sandbox = false;
        return;
    }
    let to_start: Vec<usize> = pod
        .spec
        .containers
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            let run_once = match c.restart_policy.as_deref() {
                Some(policy) => policy == "OnFailure",
                None => pod.spec.restart_policy.as_deref() == Some("OnFailure"),
            };
            !(run_once && succeeded(&c.name, status))
        })
        .map(|(i, _)| i)
        .collect();
    if to_start.is_empty() && any_app_container_created(pod, status) {
        a.create_sandbox = false;
        return;
    }
    if pod.spec.init_containers.is_empty() {
        a.containers_to_start = to_start;
    } else {
        a.init_containers_to_start = vec![0];
    }
}

/// Upstream's `computeInitContainerActions`; true when the pod is initialized.
fn init_container_actions(
    pod: &Pod,
    status: &PodStatus,
    verdicts: &dyn Fn(&str) -> ContainerVerdict,
    a: &mut PodActions,
) -> bool {
    let inits = &pod.spec.init_containers;
    if inits.is_empty() {
        return true;
    }
    let active = active_sandbox(status);
    // An app container in the current sandbox means initialization finished (even if the
    // completed init containers were removed since).
    let mut initialized = pod.spec.containers.iter().any(|c| find_active(status, active, &c.name).is_some());
    let mut previously_initialized = initialized;
    let mut start = Vec::new();
    let last = inits.len() - 1;

    for (i, c) in inits.iter().enumerate().rev() {
        let sidecar = c.is_restartable_init();
        let Some(s) = find_active(status, active, &c.name) else {
            if previously_initialized && sidecar {
                start.push(i);
            }
            continue;
        };
        if previously_initialized && !sidecar {
            continue;
        }
        let message_kill = |a: &mut PodActions, message: String, reason| {
            a.containers_to_kill.insert(s.id.clone(), kill(c, message, reason));
        };
        match s.state {
            Some(ContainerState::Created) => start.push(i),
            Some(ContainerState::Running) if sidecar => {
                let verdict = verdicts(&s.id);
                'sidecar: {
                    if c.startup_probe.is_some() && verdict.startup != ProbeResult::Success {
                        if verdict.startup == ProbeResult::Failure {
                            let m = format!("Init container {} failed startup probe", c.name);
                            message_kill(a, m, KillReason::StartupProbe);
                            start.push(i);
                        }
                        break 'sidecar;
                    }
                    if i == last {
                        initialized = true;
                    } else if !previously_initialized {
                        start.push(i + 1);
                    }
                    if hash_changed(c, s) {
                        message_kill(
                            a,
                            format!("Init container {} definition changed", c.name),
                            KillReason::Unknown,
                        );
                        start.push(i);
                        break 'sidecar;
                    }
                    if c.liveness_probe.is_some() && verdict.liveness == ProbeResult::Failure {
                        let m = format!("Init container {} failed liveness probe", c.name);
                        message_kill(a, m, KillReason::LivenessProbe);
                        start.push(i);
                    }
                }
            }
            // A regular init container still running: wait for it.
            Some(ContainerState::Running) => {}
            Some(ContainerState::Exited) => {
                if sidecar {
                    start.push(i);
                } else if init_failed(s) {
                    if !should_container_be_restarted(c, pod, status) {
                        a.kill_pod = true;
                        a.init_containers_to_start.clear();
                        return false;
                    }
                    start.push(i);
                } else if i == last {
                    initialized = true;
                } else {
                    start.push(i + 1);
                }
            }
            Some(ContainerState::Unknown) | None => {
                let restart = match c.restart_policy.as_deref() {
                    Some(policy) => policy != "Never",
                    None => pod_restarts_on_failure(pod),
                };
                if !sidecar && !restart {
                    a.kill_pod = true;
                    a.init_containers_to_start.clear();
                    return false;
                }
                let m = "Init container is in \"unknown\" state, try killing it before restart".to_string();
                message_kill(a, m, KillReason::Unknown);
                start.push(i);
            }
        }
        previously_initialized = true;
    }
    if !previously_initialized {
        start.push(0);
    }
    start.reverse();
    a.init_containers_to_start = start;
    initialized
}

#[cfg(test)]
#[path = "actions_tests.rs"]
mod tests;
