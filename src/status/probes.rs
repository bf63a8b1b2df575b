//! `ready` and `started` of each container status from probe results, as upstream's prober
//! manager `UpdatePodStatus` sets them.
//!
//! - started: only a running container; the startup probe's result if there is one; else
//!   true when the previous status said started; else false while a startup probe is
//!   configured, true without one.
//! - ready (app containers and sidecars, once started): running and the readiness probe
//!   succeeded, or running without a readiness probe. A container that was already running
//!   before rkubelet started (10 s grace) and has no readiness result yet keeps the pod's
//!   readiness: ready unless it has a readiness probe and the pod's Ready condition in the
//!   API object is not True.
//! - ready (regular init containers): exited with code 0.

use std::collections::BTreeMap;

use crate::api::core::{Container, ContainerStatus, Pod};
use crate::api::time::Time;

/// The latest probe results of one pod's containers, by container name. A missing entry means
/// no result yet. The prober must drop a container's entries when a new instance of it starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeResults {
    pub readiness: BTreeMap<String, bool>,
    pub startup: BTreeMap<String, bool>,
}

/// How long before the agent's start a container must have started to count as adopted.
const RESTART_GRACE_SECS: i64 = 10;

fn running_since(s: &ContainerStatus) -> Option<Option<Time>> {
    s.state.as_ref()?.running.as_ref().map(|r| r.started_at)
}

fn is_started(s: &ContainerStatus, spec: Option<&Container>, probes: &ProbeResults) -> bool {
    if running_since(s).is_none() {
        return false;
    }
    if let Some(&result) = probes.startup.get(&s.name) {
        return result;
    }
    if s.started == Some(true) {
        return true;
    }
    spec.is_none_or(|c| c.startup_probe.is_none())
}

fn pod_ready_in_api(pod: &Pod) -> bool {
    pod.status
        .conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

fn is_ready(
    pod: &Pod,
    s: &ContainerStatus,
    spec: &Container,
    probes: &ProbeResults,
    agent_start: Option<Time>,
) -> bool {
    let Some(started_at) = running_since(s) else {
        return false;
    };
    let result = probes.readiness.get(&s.name).copied();
    if result == Some(true) {
        return true;
    }
    let has_probe = spec.readiness_probe.is_some();
    let mut ready = !has_probe;
    let adopted = match (started_at, agent_start) {
        (Some(at), Some(start)) => at.unix_seconds() < start.unix_seconds() - RESTART_GRACE_SECS,
        _ => false,
    };
    if adopted {
        if !ready && result.is_none() {
            ready = true;
        }
        if has_probe && !pod_ready_in_api(pod) {
            ready = false;
        }
    }
    ready
}

/// Sets `started` and `ready` on the statuses in place.
pub(crate) fn apply(
    pod: &Pod,
    init: &mut [ContainerStatus],
    app: &mut [ContainerStatus],
    probes: &ProbeResults,
    agent_start: Option<Time>,
) {
    for s in app.iter_mut() {
        let spec = pod.spec.containers.iter().find(|c| c.name == s.name);
        let started = is_started(s, spec, probes);
        s.started = Some(started);
        if started {
            s.ready = match spec {
                Some(spec) => is_ready(pod, s, spec, probes, agent_start),
                None => running_since(s).is_some(),
            };
        }
    }
    for (i, s) in init.iter_mut().enumerate() {
        // Upstream pairs init statuses with the spec by index.
        let spec = pod.spec.init_containers.get(i).filter(|c| c.name == s.name);
        let started = is_started(s, spec, probes);
        s.started = Some(started);
        let Some(spec) = spec else { continue };
        if !spec.is_restartable_init() {
            let done = s
                .state
                .as_ref()
                .and_then(|st| st.terminated.as_ref())
                .is_some_and(|t| t.exit_code == 0);
            if done {
                s.ready = true;
            }
            continue;
        }
        if started {
            s.ready = is_ready(pod, s, spec, probes, agent_start);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::core::{
        ContainerState, ContainerStateRunning, ContainerStateTerminated, PodCondition, Probe,
    };

    fn running(name: &str, at: i64) -> ContainerStatus {
        let state = ContainerState {
            running: Some(ContainerStateRunning {
                started_at: Some(Time::from_unix(at)),
            }),
            ..Default::default()
        };
        ContainerStatus {
            name: name.into(),
            state: Some(state),
            ..Default::default()
        }
    }

    fn exited(name: &str, code: i32) -> ContainerStatus {
        let t = ContainerStateTerminated {
            exit_code: code,
            ..Default::default()
        };
        let state = ContainerState {
            terminated: Some(t),
            ..Default::default()
        };
        ContainerStatus {
            name: name.into(),
            state: Some(state),
            ..Default::default()
        }
    }

    fn container(name: &str, readiness: bool, startup: bool) -> Container {
        Container {
            name: name.into(),
            readiness_probe: readiness.then(Probe::default),
            startup_probe: startup.then(Probe::default),
            ..Default::default()
        }
    }

    fn pod_with(c: Container) -> Pod {
        let mut pod = Pod::default();
        pod.spec.containers.push(c);
        pod
    }

    fn one(
        pod: &Pod,
        s: ContainerStatus,
        probes: &ProbeResults,
        agent_start: Option<Time>,
    ) -> ContainerStatus {
        let mut app = vec![s];
        apply(pod, &mut [], &mut app, probes, agent_start);
        app.remove(0)
    }

    #[test]
    fn table() {
        // (readiness probe, startup probe, readiness result, startup result, previously started,
        //  running, want started, want ready)
        type Row = (
            bool,
            bool,
            Option<bool>,
            Option<bool>,
            bool,
            bool,
            bool,
            bool,
        );
        let rows: [Row; 9] = [
            (false, false, None, None, false, true, true, true),
            (false, false, None, None, false, false, false, false),
            (true, false, None, None, false, true, true, false),
            (true, false, Some(true), None, false, true, true, true),
            (true, false, Some(false), None, false, true, true, false),
            (false, true, None, None, false, true, false, false),
            (false, true, None, Some(true), false, true, true, true),
            (false, true, None, None, true, true, true, true),
            (false, true, None, Some(false), true, true, false, false),
        ];
        for (i, (rp, sp, rr, sr, prev, run, want_started, want_ready)) in
            rows.into_iter().enumerate()
        {
            let pod = pod_with(container("app", rp, sp));
            let mut probes = ProbeResults::default();
            if let Some(r) = rr {
                probes.readiness.insert("app".into(), r);
            }
            if let Some(r) = sr {
                probes.startup.insert("app".into(), r);
            }
            let mut s = if run {
                running("app", 100)
            } else {
                exited("app", 0)
            };
            s.started = prev.then_some(true);
            let got = one(&pod, s, &probes, None);
            assert_eq!(got.started, Some(want_started), "row {i} started");
            assert_eq!(got.ready, want_ready, "row {i} ready");
        }
    }

    #[test]
    fn adopted_container_keeps_pod_readiness_until_probed() {
        let start = Some(Time::from_unix(1000));
        let mut pod = pod_with(container("app", true, false));
        let probes = ProbeResults::default();
        assert!(
            !one(&pod, running("app", 900), &probes, start).ready,
            "pod not Ready in API"
        );
        pod.status.conditions.push(PodCondition {
            type_: "Ready".into(),
            status: "True".into(),
            ..Default::default()
        });
        assert!(
            one(&pod, running("app", 900), &probes, start).ready,
            "pod Ready in API"
        );
        assert!(
            !one(&pod, running("app", 995), &probes, start).ready,
            "started within the grace"
        );
    }

    #[test]
    fn init_containers() {
        let mut pod = Pod::default();
        pod.spec
            .init_containers
            .push(container("init", false, false));
        let mut side = container("side", true, false);
        side.restart_policy = Some("Always".into());
        pod.spec.init_containers.push(side);
        let mut init = vec![exited("init", 0), running("side", 5)];
        let mut probes = ProbeResults::default();
        apply(&pod, &mut init, &mut [], &probes, None);
        assert!(init[0].ready);
        assert_eq!(init[0].started, Some(false));
        assert_eq!(init[1].started, Some(true));
        assert!(!init[1].ready, "sidecar readiness probe has not succeeded");
        probes.readiness.insert("side".into(), true);
        apply(&pod, &mut init, &mut [], &probes, None);
        assert!(init[1].ready);
        let mut failed = vec![exited("init", 1)];
        apply(&pod, &mut failed, &mut [], &probes, None);
        assert!(!failed[0].ready);
    }
}
