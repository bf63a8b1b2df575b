//! `containerStatuses` and `initContainerStatuses` from the runtime's view, as upstream's
//! `convertToAPIContainerStatuses` builds them (v1.37 defaults: `RestartAllContainersOnContainerExits`
//! beta on, `InPlacePodVerticalScaling` and `RecursiveReadOnlyMounts` GA).
//!
//! Per spec container, in this order:
//! 1. a default: waiting `ContainerCreating` (`PodInitializing` when the pod has init
//!    containers), the spec's volume mounts; the previous status replaces it wholesale when it
//!    was terminated, else lends its restart count and last state;
//! 2. no runtime record but previously running: last state terminated
//!    `ContainerStatusUnknown` (exit 137), restart count + 1 unless the pod is being deleted;
//! 3. the newest runtime record gives the state, the second newest the last state;
//! 4. a container the next sync would (re)start shows the reason cache's entry as waiting
//!    reason, its terminated state moving to last state.
//!
//! Init container statuses come in spec order; app container statuses sorted by name, as
//! upstream sorts them.

use std::collections::BTreeMap;

use crate::api::core::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, Pod, VolumeMountStatus,
};
use crate::api::time::Time;
use crate::kuberuntime::{self as rt, ContainerState as RtState};

use super::phase::container_should_restart;
use super::reason::ReasonCache;

pub const CONTAINER_CREATING: &str = "ContainerCreating";
pub const POD_INITIALIZING: &str = "PodInitializing";
pub const CONTAINER_STATUS_UNKNOWN: &str = "ContainerStatusUnknown";
const UNKNOWN_EXIT_CODE: i32 = 137;
const LOST_WHEN_TERMINATED: &str = "The container could not be located when the pod was terminated";
const LOST_WHEN_DELETED: &str = "The container could not be located when the pod was deleted.  The container used to be Running";
const INIT_ASSUMED_DONE: &str = "Unable to get init container status from container runtime and pod has been initialized, treat it as exited normally";

/// What the conversion reads besides the spec containers and their previous statuses.
pub(crate) struct Source<'a> {
    pub pod: &'a Pod,
    /// The runtime's containers of the pod, newest first.
    pub newest_first: Vec<&'a rt::ContainerStatus>,
    pub reasons: &'a ReasonCache,
    pub runtime_name: &'a str,
}

impl<'a> Source<'a> {
    pub fn new(
        pod: &'a Pod,
        runtime: &'a rt::PodStatus,
        reasons: &'a ReasonCache,
        runtime_name: &'a str,
    ) -> Self {
        let mut newest_first: Vec<&rt::ContainerStatus> = runtime.containers.iter().collect();
        newest_first.sort_by_key(|c| std::cmp::Reverse(c.created_at));
        Source {
            pod,
            newest_first,
            reasons,
            runtime_name,
        }
    }

    fn newest(&self, name: &str) -> Option<&'a rt::ContainerStatus> {
        self.newest_first.iter().copied().find(|c| c.name == name)
    }

    fn container_id(&self, id: &str) -> String {
        format!("{}://{}", self.runtime_name, id)
    }

    /// Any app container the runtime knows in a real state (upstream's
    /// `hasAnyRegularContainerCreated`).
    fn any_app_container_created(&self) -> bool {
        self.pod.spec.containers.iter().any(|c| {
            self.newest(&c.name).is_some_and(|s| {
                matches!(
                    s.state,
                    Some(RtState::Created | RtState::Running | RtState::Exited)
                )
            })
        })
    }
}

/// CRI nanoseconds to an API time (seconds).
pub(crate) fn time_of(nanos: i64) -> Time {
    Time::from_unix(nanos.div_euclid(1_000_000_000))
}

fn terminated(s: &ContainerStatus) -> Option<&ContainerStateTerminated> {
    s.state.as_ref()?.terminated.as_ref()
}

fn last_terminated(s: &ContainerStatus) -> Option<&ContainerStateTerminated> {
    s.last_state.as_ref()?.terminated.as_ref()
}

fn is_running(s: &ContainerStatus) -> bool {
    s.state.as_ref().is_some_and(|st| st.running.is_some())
}

fn waiting(reason: Option<&str>, message: Option<&str>) -> ContainerState {
    let w = ContainerStateWaiting {
        reason: reason.map(str::to_string),
        message: message.map(str::to_string),
    };
    ContainerState {
        waiting: Some(w),
        ..Default::default()
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// The spec's mounts as status entries (`RecursiveReadOnlyMounts`): read-only mounts say
/// `Disabled` since the runtimes we drive report no recursive read-only support.
fn mount_statuses(c: &Container) -> Vec<VolumeMountStatus> {
    let status = |m: &crate::api::core::VolumeMount| {
        let ro = m.read_only == Some(true);
        VolumeMountStatus {
            name: m.name.clone(),
            mount_path: m.mount_path.clone(),
            read_only: ro.then_some(true),
            recursive_read_only: ro.then(|| "Disabled".to_string()),
            volume_status: None,
        }
    };
    c.volume_mounts.iter().map(status).collect()
}

fn default_status(
    c: &Container,
    default_state: &ContainerState,
    old: Option<&ContainerStatus>,
) -> ContainerStatus {
    if let Some(old) = old.filter(|o| terminated(o).is_some()) {
        return old.clone();
    }
    ContainerStatus {
        name: c.name.clone(),
        image: c.image.clone().unwrap_or_default(),
        state: Some(default_state.clone()),
        last_state: Some(old.and_then(|o| o.last_state.clone()).unwrap_or_default()),
        restart_count: old.map_or(0, |o| o.restart_count),
        volume_mounts: mount_statuses(c),
        ..Default::default()
    }
}

/// One runtime record as an API status (upstream's `convertContainerStatus`).
fn from_runtime(
    src: &Source,
    cs: &rt::ContainerStatus,
    spec: &Container,
    old: Option<&ContainerStatus>,
) -> ContainerStatus {
    let cid = src.container_id(&cs.id);
    let runtime_restarts = i32::try_from(cs.restart_count).unwrap_or(i32::MAX);
    let mut s = ContainerStatus {
        name: cs.name.clone(),
        restart_count: runtime_restarts,
        image: if cs.image.is_empty() {
            spec.image.clone().unwrap_or_default()
        } else {
            cs.image.clone()
        },
        // Upstream shows the resolved image reference (a repo digest) as imageID.
        image_id: cs.image_ref.clone(),
        container_id: Some(cid.clone()),
        last_state: Some(ContainerState::default()),
        ..Default::default()
    };
    if let Some(old) = old {
        s.volume_mounts = old.volume_mounts.clone();
        s.restart_count = s.restart_count.max(old.restart_count);
        let carried = match terminated(old) {
            Some(t) if old.container_id.as_deref() != Some(&cid) => Some(t.clone()),
            _ => last_terminated(old).cloned(),
        };
        s.last_state = Some(ContainerState {
            terminated: carried,
            ..Default::default()
        });
    }
    let old_running = old.is_some_and(is_running);
    let state = match cs.state.unwrap_or_default() {
        RtState::Running => {
            if let Some(old) =
                old.filter(|o| terminated(o).is_some() && o.restart_count >= runtime_restarts)
            {
                s.restart_count = old.restart_count.saturating_add(1);
            }
            let running = ContainerStateRunning {
                started_at: Some(time_of(cs.started_at)),
            };
            ContainerState {
                running: Some(running),
                ..Default::default()
            }
        }
        RtState::Created => waiting(None, None),
        RtState::Exited => {
            // containerd fills an empty reason the same way; other runtimes may not.
            let reason = non_empty(&cs.reason).unwrap_or_else(|| {
                if cs.exit_code == 0 {
                    "Completed"
                } else {
                    "Error"
                }
                .to_string()
            });
            let t = ContainerStateTerminated {
                exit_code: cs.exit_code,
                reason: Some(reason),
                message: non_empty(&cs.message),
                started_at: Some(time_of(cs.started_at)),
                finished_at: Some(time_of(cs.finished_at)),
                container_id: Some(cid),
                ..Default::default()
            };
            ContainerState {
                terminated: Some(t),
                ..Default::default()
            }
        }
        RtState::Unknown if old_running => {
            s.restart_count = old.map_or(0, |o| o.restart_count).saturating_add(1);
            lost(LOST_WHEN_TERMINATED)
        }
        RtState::Unknown => waiting(None, None),
    };
    if state.running.is_some() {
        // Keep `started` across kubelet restarts (ChangeContainerStatusOnKubeletRestart off).
        s.started = old.and_then(|o| o.started);
    }
    s.state = Some(state);
    // InPlacePodVerticalScaling: without runtime-reported resources the spec's are shown.
    s.resources = Some(spec.resources.clone().unwrap_or_default());
    s.allocated_resources = spec
        .resources
        .as_ref()
        .map(|r| r.requests.clone())
        .unwrap_or_default();
    s
}

fn lost(message: &str) -> ContainerState {
    let t = ContainerStateTerminated {
        exit_code: UNKNOWN_EXIT_CODE,
        reason: Some(CONTAINER_STATUS_UNKNOWN.to_string()),
        message: Some(message.to_string()),
        ..Default::default()
    };
    ContainerState {
        terminated: Some(t),
        ..Default::default()
    }
}

/// Would the next sync start this container (upstream's `ShouldContainerBeRestarted`).
pub(crate) fn should_be_restarted(src: &Source, c: &Container) -> bool {
    if src.pod.metadata.deletion_timestamp.is_some() {
        return false;
    }
    let Some(status) = src.newest(&c.name) else {
        return true;
    };
    match status.state.unwrap_or_default() {
        RtState::Running => false,
        RtState::Unknown | RtState::Created => true,
        RtState::Exited => container_should_restart(c, &src.pod.spec, status.exit_code),
    }
}

/// The statuses of `containers` (the pod's init or app containers).
pub(crate) fn convert(
    src: &Source,
    containers: &[Container],
    previous: &[ContainerStatus],
    is_init: bool,
) -> Vec<ContainerStatus> {
    let old: BTreeMap<&str, &ContainerStatus> =
        previous.iter().map(|s| (s.name.as_str(), s)).collect();
    let has_init = !src.pod.spec.init_containers.is_empty();
    let default_reason = if has_init {
        POD_INITIALIZING
    } else {
        CONTAINER_CREATING
    };
    let default_state = waiting(Some(default_reason), None);

    let mut statuses: BTreeMap<String, ContainerStatus> = BTreeMap::new();
    for c in containers {
        statuses.insert(
            c.name.clone(),
            default_status(c, &default_state, old.get(c.name.as_str()).copied()),
        );
    }

    // Vanished while running: record an unknown termination so the pod does not fall back
    // to Pending as if the container never ran.
    for c in containers.iter().filter(|c| src.newest(&c.name).is_none()) {
        let (Some(prev), Some(s)) = (old.get(c.name.as_str()), statuses.get_mut(&c.name)) else {
            continue;
        };
        let is_default = s
            .state
            .as_ref()
            .and_then(|st| st.waiting.as_ref())
            .and_then(|w| w.reason.as_deref())
            == Some(default_reason);
        if terminated(prev).is_some()
            || !is_running(prev)
            || !is_default
            || last_terminated(s).is_some()
        {
            continue;
        }
        s.last_state = Some(lost(LOST_WHEN_DELETED));
        if src.pod.metadata.deletion_timestamp.is_none() {
            s.restart_count = s.restart_count.saturating_add(1);
        }
    }

    let mut seen: BTreeMap<&str, u8> = BTreeMap::new();
    for cs in &src.newest_first {
        let Some(spec) = containers.iter().find(|c| c.name == cs.name) else {
            continue;
        };
        let count = seen.entry(cs.name.as_str()).or_default();
        if *count >= 2 {
            continue;
        }
        let status = from_runtime(src, cs, spec, old.get(cs.name.as_str()).copied());
        if *count == 0 {
            statuses.insert(cs.name.clone(), status);
        } else if let Some(newest) = statuses.get_mut(&cs.name) {
            newest.last_state = status.state;
        }
        *count += 1;
    }

    for c in containers {
        let Some(s) = statuses.get_mut(&c.name) else {
            continue;
        };
        if is_init {
            let newest = src.newest(&c.name);
            if newest.is_some_and(|n| n.state == Some(RtState::Exited) && n.exit_code == 0) {
                continue;
            }
            let is_waiting = s.state.as_ref().is_some_and(|st| st.waiting.is_some());
            if newest.is_none()
                && !c.is_restartable_init()
                && is_waiting
                && src.any_app_container_created()
            {
                // The record was garbage-collected after the pod initialized: it succeeded.
                let t = ContainerStateTerminated {
                    reason: Some("Completed".to_string()),
                    message: Some(INIT_ASSUMED_DONE.to_string()),
                    ..Default::default()
                };
                s.state = Some(ContainerState {
                    terminated: Some(t),
                    ..Default::default()
                });
                continue;
            }
        }
        if !should_be_restarted(src, c) {
            continue;
        }
        let Some(reason) = src.reasons.get(&c.name) else {
            continue;
        };
        if let Some(state) = s.state.take().filter(|st| st.terminated.is_some()) {
            s.last_state = Some(state);
        }
        s.state = Some(waiting(
            Some(reason.failure.as_str()),
            non_empty(&reason.message).as_deref(),
        ));
    }

    if is_init {
        containers
            .iter()
            .filter_map(|c| statuses.remove(&c.name))
            .collect()
    } else {
        // BTreeMap order is upstream's sort by name.
        statuses.into_values().collect()
    }
}

#[cfg(test)]
#[path = "containers_tests.rs"]
mod tests;
