//! The final status of a pod whose worker has stopped everything: upstream's `TerminatePod`
//! (`pkg/kubelet/status/status_manager.go`).
//!
//! Containers still shown as not terminated are reported terminated with reason
//! `ContainerStatusUnknown` and exit code 137 (the kubelet cannot know how they ended): every
//! app container once the pod has initialized, and the init containers that had started.
//! A pod that is not static and not yet terminal becomes `Failed`.
#![forbid(unsafe_code)]

use crate::api::core::{ContainerState, ContainerStateTerminated, ContainerStatus, Pod, PodStatus};

use super::phase::{is_static_pod, is_terminal_phase};

/// Reason of a container whose end the kubelet could not observe.
pub const CONTAINER_STATUS_UNKNOWN: &str = "ContainerStatusUnknown";
const UNKNOWN_MESSAGE: &str = "The container could not be located when the pod was terminated";

/// `status` (the newest the kubelet has for `pod`) made final.
pub fn terminated_status(pod: &Pod, mut status: PodStatus) -> PodStatus {
    if has_initialized(pod, &status) {
        status.container_statuses.iter_mut().for_each(mark_unknown);
    }
    let started = started_prefix(&status.init_container_statuses);
    status.init_container_statuses.iter_mut().take(started).for_each(mark_unknown);
    if !is_static_pod(pod) && !is_terminal_phase(status.phase.as_deref()) {
        log::debug!("pod {}: marking terminal pod as Failed (was {:?})", pod.full_name(), status.phase);
        status.phase = Some("Failed".to_string());
    }
    status
}

fn mark_unknown(s: &mut ContainerStatus) {
    if is_terminated(s) {
        return;
    }
    s.state = Some(ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: 137,
            reason: Some(CONTAINER_STATUS_UNKNOWN.to_string()),
            message: Some(UNKNOWN_MESSAGE.to_string()),
            ..Default::default()
        }),
        ..Default::default()
    });
}

fn is_terminated(s: &ContainerStatus) -> bool {
    s.state.as_ref().is_some_and(|st| st.terminated.is_some())
}

fn is_waiting(s: &ContainerStatus) -> bool {
    s.state.as_ref().is_some_and(|st| st.waiting.is_some())
}

fn ever_terminated(s: &ContainerStatus) -> bool {
    s.last_state.as_ref().is_some_and(|st| st.terminated.is_some())
}

fn exited_zero(state: Option<&ContainerState>) -> bool {
    state.and_then(|st| st.terminated.as_ref()).is_some_and(|t| t.exit_code == 0)
}

/// Upstream's `hasPodInitialized`: no init containers, an app container that left waiting,
/// or a last init container that completed (or, for a sidecar, started).
fn has_initialized(pod: &Pod, status: &PodStatus) -> bool {
    if pod.spec.init_containers.is_empty() {
        return true;
    }
    if status.container_statuses.iter().any(|s| ever_terminated(s) || !is_waiting(s)) {
        return true;
    }
    let Some(last) = status.init_container_statuses.last() else { return false };
    let Some(spec) = pod.spec.init_containers.iter().find(|c| c.name == last.name) else {
        return false;
    };
    if spec.is_restartable_init() {
        let running = last.state.as_ref().is_some_and(|st| st.running.is_some());
        return running && last.started == Some(true);
    }
    exited_zero(last.last_state.as_ref()) || exited_zero(last.state.as_ref())
}

/// How many init containers have tried to start: all but the trailing ones still waiting
/// for the first time (always at least one, upstream's `initializedContainers`).
fn started_prefix(statuses: &[ContainerStatus]) -> usize {
    statuses
        .iter()
        .rposition(|s| !is_waiting(s) || ever_terminated(s))
        .map_or(statuses.len().min(1), |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::testutil::{exited, pod, running, waiting, with_init};

    fn reason(s: &ContainerStatus) -> Option<&str> {
        s.state.as_ref()?.terminated.as_ref()?.reason.as_deref()
    }

    #[test]
    fn running_containers_become_unknown_and_the_pod_failed() {
        let p = pod(&["app", "done"]);
        let status = PodStatus {
            phase: Some("Running".into()),
            container_statuses: vec![running("app"), exited("done", 0)],
            ..Default::default()
        };
        let out = terminated_status(&p, status);
        assert_eq!(out.phase.as_deref(), Some("Failed"));
        assert_eq!(reason(&out.container_statuses[0]), Some(CONTAINER_STATUS_UNKNOWN));
        let t = out.container_statuses[0].state.as_ref().and_then(|s| s.terminated.as_ref());
        assert_eq!(t.map(|t| t.exit_code), Some(137));
        assert_eq!(out.container_statuses[1], exited("done", 0), "terminated ones are kept");
    }

    #[test]
    fn terminal_and_static_phases_stay() {
        let p = pod(&["app"]);
        let done = PodStatus { phase: Some("Succeeded".into()), ..Default::default() };
        assert_eq!(terminated_status(&p, done).phase.as_deref(), Some("Succeeded"));
        let mut s = pod(&["app"]);
        s.metadata.annotations.insert("kubernetes.io/config.source".into(), "file".into());
        let running_phase = PodStatus { phase: Some("Running".into()), ..Default::default() };
        assert_eq!(terminated_status(&s, running_phase).phase.as_deref(), Some("Running"));
    }

    #[test]
    fn uninitialized_pods_keep_waiting_app_containers() {
        let p = with_init(with_init(pod(&["app"]), "init-a"), "init-b");
        let status = PodStatus {
            init_container_statuses: vec![running("init-a"), waiting("init-b")],
            container_statuses: vec![waiting("app")],
            ..Default::default()
        };
        let out = terminated_status(&p, status);
        assert_eq!(reason(&out.init_container_statuses[0]), Some(CONTAINER_STATUS_UNKNOWN));
        assert!(is_waiting(&out.init_container_statuses[1]), "never started: stays waiting");
        assert!(is_waiting(&out.container_statuses[0]), "not initialized: app stays waiting");
        assert_eq!(started_prefix(&[waiting("a"), waiting("b")]), 1, "at least one");
        assert_eq!(started_prefix(&[]), 0);
    }
}
