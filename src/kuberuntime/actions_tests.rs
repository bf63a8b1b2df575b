//! computePodActions, table-driven: one pod spec and runtime view per case, and the actions
//! upstream computes for them.

use super::*;
use crate::api::Time;
use crate::api::core::{EphemeralContainer, Probe};
use crate::kuberuntime::model::SandboxStatus;

use ContainerState::{Created, Exited, Running, Unknown};

fn container(name: &str, policy: Option<&str>) -> Container {
    Container {
        name: name.into(),
        image: Some("busybox:1.35".into()),
        restart_policy: policy.map(str::to_string),
        ..Default::default()
    }
}

/// A pod with a restart policy, init containers (name, container restartPolicy) and apps.
fn pod(policy: Option<&str>, inits: &[(&str, Option<&str>)], apps: &[&str]) -> Pod {
    let mut p = Pod::default();
    p.metadata.name = Some("web".into());
    p.metadata.namespace = Some("default".into());
    p.metadata.uid = Some("uid-1".into());
    p.spec.restart_policy = policy.map(str::to_string);
    p.spec.init_containers = inits.iter().map(|(n, rp)| container(n, *rp)).collect();
    p.spec.containers = apps.iter().map(|n| container(n, None)).collect();
    p
}

fn sandbox(id: &str, ready: bool, attempt: u32) -> SandboxStatus {
    SandboxStatus {
        id: id.into(),
        state: if ready { SandboxState::Ready } else { SandboxState::NotReady },
        created_at: 0,
        attempt,
        ips: vec!["10.88.0.5".into()],
        host_network: false,
    }
}

/// A container status whose hash matches the spec of `name` in `pod`, in sandbox `s1`.
fn st(pod: &Pod, name: &str, id: &str, state: ContainerState, exit: i32) -> ContainerStatus {
    let spec = pod.spec.init_containers.iter().chain(&pod.spec.containers).find(|c| c.name == name);
    ContainerStatus {
        id: id.into(),
        name: name.into(),
        sandbox_id: "s1".into(),
        state: Some(state),
        exit_code: exit,
        hash: spec.map_or(0, container_hash),
        ..Default::default()
    }
}

fn view(sandboxes: Vec<SandboxStatus>, containers: Vec<ContainerStatus>) -> PodStatus {
    PodStatus { uid: "uid-1".into(), sandboxes, containers, ..Default::default() }
}

fn ready_view(containers: Vec<ContainerStatus>) -> PodStatus {
    view(vec![sandbox("s1", true, 0)], containers)
}

#[derive(Debug, Default, PartialEq)]
struct Want {
    kill_pod: bool,
    create: bool,
    sandbox_id: &'static str,
    attempt: u32,
    init: Vec<usize>,
    start: Vec<usize>,
    /// (container id, message)
    kill: Vec<(&'static str, &'static str)>,
}

fn got(a: &PodActions) -> Want {
    Want {
        kill_pod: a.kill_pod,
        create: a.create_sandbox,
        sandbox_id: Box::leak(a.sandbox_id.clone().into_boxed_str()),
        attempt: a.attempt,
        init: a.init_containers_to_start.clone(),
        start: a.containers_to_start.clone(),
        kill: a
            .containers_to_kill
            .iter()
            .map(|(id, k)| {
                let id: &'static str = Box::leak(id.clone().into_boxed_str());
                let m: &'static str = Box::leak(k.message.clone().into_boxed_str());
                (id, m)
            })
            .collect(),
    }
}

fn keep_running() -> Want {
    Want { sandbox_id: "s1", ..Default::default() }
}

fn check(name: &str, pod: &Pod, status: &PodStatus, verdicts: &dyn Fn(&str) -> ContainerVerdict, want: Want) {
    let a = compute_pod_actions(pod, status, verdicts);
    assert_eq!(got(&a), want, "case {name:?}: {a:#?}");
}

fn live_failed(id: &str) -> ContainerVerdict {
    if id == "c1" {
        ContainerVerdict { liveness: ProbeResult::Failure, ..ContainerVerdict::HEALTHY }
    } else {
        ContainerVerdict::HEALTHY
    }
}

fn startup_failed(id: &str) -> ContainerVerdict {
    if id == "c1" {
        ContainerVerdict { startup: ProbeResult::Failure, ..ContainerVerdict::HEALTHY }
    } else {
        ContainerVerdict::HEALTHY
    }
}

fn not_probed(_: &str) -> ContainerVerdict {
    ContainerVerdict::default()
}

#[test]
fn sandbox_cases() {
    let always = pod(None, &[], &["a", "b"]);
    let never = pod(Some("Never"), &[], &["a", "b"]);
    let on_failure = pod(Some("OnFailure"), &[], &["a", "b"]);
    let with_init = pod(None, &[("i1", None), ("i2", None)], &["a"]);
    let mut host_net = pod(None, &[], &["a"]);
    host_net.spec.host_network = Some(true);

    let cases: Vec<(&str, &Pod, PodStatus, Want)> = vec![
        (
            "new pod: create the first sandbox, start every app container",
            &always,
            view(vec![], vec![]),
            Want { kill_pod: true, create: true, start: vec![0, 1], ..Default::default() },
        ),
        (
            "new pod with init containers starts the first one only",
            &with_init,
            view(vec![], vec![]),
            Want { kill_pod: true, create: true, init: vec![0], ..Default::default() },
        ),
        (
            "dead sandbox, Always: recreate with the next attempt, restart everything",
            &always,
            view(vec![sandbox("s1", false, 2)], vec![st(&always, "a", "c1", Exited, 0)]),
            Want {
                kill_pod: true,
                create: true,
                sandbox_id: "s1",
                attempt: 3,
                start: vec![0, 1],
                ..Default::default()
            },
        ),
        (
            "dead sandbox, Never, containers ran: only kill, no new sandbox",
            &never,
            view(vec![sandbox("s1", false, 0)], vec![st(&never, "a", "c1", Exited, 1)]),
            Want { kill_pod: true, sandbox_id: "s1", attempt: 1, ..Default::default() },
        ),
        (
            "dead sandbox, Never, no container ever created: retry the sandbox",
            &never,
            view(vec![sandbox("s1", false, 0)], vec![]),
            Want {
                kill_pod: true,
                create: true,
                sandbox_id: "s1",
                attempt: 1,
                start: vec![0, 1],
                ..Default::default()
            },
        ),
        (
            "dead sandbox, OnFailure: the succeeded container is not run again",
            &on_failure,
            view(
                vec![sandbox("s1", false, 0)],
                vec![st(&on_failure, "a", "c1", Exited, 0), st(&on_failure, "b", "c2", Exited, 1)],
            ),
            Want {
                kill_pod: true,
                create: true,
                sandbox_id: "s1",
                attempt: 1,
                start: vec![1],
                ..Default::default()
            },
        ),
        (
            "dead sandbox, OnFailure, all succeeded: no new sandbox",
            &on_failure,
            view(
                vec![sandbox("s1", false, 0)],
                vec![st(&on_failure, "a", "c1", Exited, 0), st(&on_failure, "b", "c2", Exited, 0)],
            ),
            Want { kill_pod: true, sandbox_id: "s1", attempt: 1, ..Default::default() },
        ),
        (
            "dead sandbox with init containers restarts from the first init container",
            &with_init,
            view(vec![sandbox("s1", false, 0)], vec![st(&with_init, "a", "c1", Exited, 1)]),
            Want {
                kill_pod: true,
                create: true,
                sandbox_id: "s1",
                attempt: 1,
                init: vec![0],
                ..Default::default()
            },
        ),
        (
            "ready sandbox without an IP is recreated",
            &always,
            view(vec![SandboxStatus { ips: vec![], ..sandbox("s1", true, 0) }], vec![]),
            Want {
                kill_pod: true,
                create: true,
                sandbox_id: "s1",
                attempt: 1,
                start: vec![0, 1],
                ..Default::default()
            },
        ),
        (
            "two ready sandboxes are reconciled into a new one",
            &always,
            view(vec![sandbox("s2", true, 1), sandbox("s1", true, 0)], vec![]),
            Want {
                kill_pod: true,
                create: true,
                sandbox_id: "s2",
                attempt: 2,
                start: vec![0, 1],
                ..Default::default()
            },
        ),
        (
            "network mode changed: a new sandbox, but not a 'changed' one",
            &host_net,
            view(vec![sandbox("s1", true, 0)], vec![st(&host_net, "a", "c1", Running, 0)]),
            Want { kill_pod: true, create: true, attempt: 1, start: vec![0], ..Default::default() },
        ),
        (
            "host network pods need no IP",
            &host_net,
            view(
                vec![SandboxStatus { ips: vec![], host_network: true, ..sandbox("s1", true, 0) }],
                vec![st(&host_net, "a", "c1", Running, 0)],
            ),
            keep_running(),
        ),
    ];
    for (name, p, status, want) in cases {
        check(name, p, &status, &all_healthy, want);
    }
}

#[test]
fn app_container_cases() {
    let always = pod(None, &[], &["a"]);
    let never = pod(Some("Never"), &[], &["a"]);
    let on_failure = pod(Some("OnFailure"), &[], &["a"]);
    let two = pod(None, &[], &["a", "b"]);
    let mut changed = always.clone();
    changed.spec.containers[0].image = Some("busybox:1.36".into());
    let mut deleted = always.clone();
    deleted.metadata.deletion_timestamp = Some(Time::from_unix(1));
    let mut per_container = pod(None, &[], &["a"]);
    per_container.spec.containers[0].restart_policy = Some("OnFailure".into());
    let mut with_ephemeral = always.clone();
    with_ephemeral.spec.ephemeral_containers =
        vec![EphemeralContainer { common: container("debug", None), target_container_name: None }];

    type Case<'a> = (&'a str, &'a Pod, PodStatus, &'a dyn Fn(&str) -> ContainerVerdict, Want);
    let cases: Vec<Case> = vec![
        (
            "running and unchanged: keep",
            &always,
            ready_view(vec![st(&always, "a", "c1", Running, 0)]),
            &all_healthy,
            keep_running(),
        ),
        (
            "exited 1 under Always: restart",
            &always,
            ready_view(vec![st(&always, "a", "c1", Exited, 1)]),
            &all_healthy,
            Want { sandbox_id: "s1", start: vec![0], ..Default::default() },
        ),
        (
            "exited 0 under Always: restart too",
            &always,
            ready_view(vec![st(&always, "a", "c1", Exited, 0)]),
            &all_healthy,
            Want { sandbox_id: "s1", start: vec![0], ..Default::default() },
        ),
        (
            "exited 0 under OnFailure: done, the pod is killed",
            &on_failure,
            ready_view(vec![st(&on_failure, "a", "c1", Exited, 0)]),
            &all_healthy,
            Want { kill_pod: true, sandbox_id: "s1", ..Default::default() },
        ),
        (
            "exited 1 under OnFailure: restart",
            &on_failure,
            ready_view(vec![st(&on_failure, "a", "c1", Exited, 1)]),
            &all_healthy,
            Want { sandbox_id: "s1", start: vec![0], ..Default::default() },
        ),
        (
            "exited 1 under Never: left exited, pod killed",
            &never,
            ready_view(vec![st(&never, "a", "c1", Exited, 1)]),
            &all_healthy,
            Want { kill_pod: true, sandbox_id: "s1", ..Default::default() },
        ),
        (
            "container-level OnFailure overrides the pod's Always",
            &per_container,
            ready_view(vec![st(&per_container, "a", "c1", Exited, 0)]),
            &all_healthy,
            Want { kill_pod: true, sandbox_id: "s1", ..Default::default() },
        ),
        (
            "one running, one only created: start the created one again",
            &two,
            ready_view(vec![st(&two, "a", "c1", Running, 0), st(&two, "b", "c2", Created, 0)]),
            &all_healthy,
            Want { sandbox_id: "s1", start: vec![1], ..Default::default() },
        ),
        (
            "spec changed: kill and start again, whatever the policy",
            &changed,
            ready_view(vec![st(&always, "a", "c1", Running, 0)]),
            &all_healthy,
            Want {
                sandbox_id: "s1",
                start: vec![0],
                kill: vec![("c1", "Container a definition changed, will be restarted")],
                ..Default::default()
            },
        ),
        (
            "liveness failed under Always: kill and restart",
            &always,
            ready_view(vec![st(&always, "a", "c1", Running, 0)]),
            &live_failed,
            Want {
                sandbox_id: "s1",
                start: vec![0],
                kill: vec![("c1", "Container a failed liveness probe, will be restarted")],
                ..Default::default()
            },
        ),
        (
            "liveness failed under Never: kill only, nothing left, pod killed",
            &never,
            ready_view(vec![st(&never, "a", "c1", Running, 0)]),
            &live_failed,
            Want {
                kill_pod: true,
                sandbox_id: "s1",
                kill: vec![("c1", "Container a failed liveness probe")],
                ..Default::default()
            },
        ),
        (
            "startup failed: kill and restart",
            &always,
            ready_view(vec![st(&always, "a", "c1", Running, 0)]),
            &startup_failed,
            Want {
                sandbox_id: "s1",
                start: vec![0],
                kill: vec![("c1", "Container a failed startup probe, will be restarted")],
                ..Default::default()
            },
        ),
        (
            "probes not run yet: keep",
            &always,
            ready_view(vec![st(&always, "a", "c1", Running, 0)]),
            &not_probed,
            keep_running(),
        ),
        (
            "unknown state: kill before starting again",
            &always,
            ready_view(vec![st(&always, "a", "c1", Unknown, 0)]),
            &all_healthy,
            Want {
                sandbox_id: "s1",
                start: vec![0],
                kill: vec![("c1", "Container is in \"unknown\" state, try killing it before restart")],
                ..Default::default()
            },
        ),
        (
            "being deleted: nothing restarts",
            &deleted,
            ready_view(vec![st(&deleted, "a", "c1", Exited, 1)]),
            &all_healthy,
            Want { kill_pod: true, sandbox_id: "s1", ..Default::default() },
        ),
        (
            "only the newest instance counts",
            &on_failure,
            ready_view(vec![st(&on_failure, "a", "c2", Exited, 0), st(&on_failure, "a", "c1", Exited, 1)]),
            &all_healthy,
            Want { kill_pod: true, sandbox_id: "s1", ..Default::default() },
        ),
    ];
    for (name, p, status, verdicts, want) in cases {
        check(name, p, &status, verdicts, want);
    }

    let a = compute_pod_actions(
        &with_ephemeral,
        &ready_view(vec![st(&always, "a", "c1", Running, 0)]),
        &all_healthy,
    );
    assert_eq!(a.ephemeral_containers_to_start, vec![0]);
}

#[test]
fn init_container_cases() {
    let two_inits = pod(None, &[("i1", None), ("i2", None)], &["a"]);
    let never_inits = pod(Some("Never"), &[("i1", None), ("i2", None)], &["a"]);
    let mut own_policy = pod(Some("Never"), &[("i1", Some("OnFailure"))], &["a"]);
    own_policy.spec.init_containers[0].restart_policy = Some("OnFailure".into());
    let sidecar = pod(None, &[("side", Some("Always")), ("i2", None)], &["a"]);
    let sidecar_last = pod(Some("Never"), &[("side", Some("Always"))], &["a"]);
    let mut probed_sidecar = sidecar.clone();
    probed_sidecar.spec.init_containers[0].startup_probe = Some(Probe::default());
    let mut changed_sidecar = sidecar.clone();
    changed_sidecar.spec.init_containers[0].image = Some("busybox:1.36".into());

    type Case<'a> = (&'a str, &'a Pod, PodStatus, &'a dyn Fn(&str) -> ContainerVerdict, Want);
    let p = &two_inits;
    let cases: Vec<Case> = vec![
        (
            "sandbox ready, nothing ran: the first init container",
            p,
            ready_view(vec![]),
            &all_healthy,
            Want { sandbox_id: "s1", init: vec![0], ..Default::default() },
        ),
        (
            "first init container running: wait",
            p,
            ready_view(vec![st(p, "i1", "c1", Running, 0)]),
            &all_healthy,
            keep_running(),
        ),
        (
            "first done: the second",
            p,
            ready_view(vec![st(p, "i1", "c1", Exited, 0)]),
            &all_healthy,
            Want { sandbox_id: "s1", init: vec![1], ..Default::default() },
        ),
        (
            "all done: the app containers",
            p,
            ready_view(vec![st(p, "i2", "c2", Exited, 0), st(p, "i1", "c1", Exited, 0)]),
            &all_healthy,
            Want { sandbox_id: "s1", start: vec![0], ..Default::default() },
        ),
        (
            "failed under Always: run it again",
            p,
            ready_view(vec![st(p, "i1", "c1", Exited, 2)]),
            &all_healthy,
            Want { sandbox_id: "s1", init: vec![0], ..Default::default() },
        ),
        (
            "failed under Never: the pod is done",
            &never_inits,
            ready_view(vec![st(&never_inits, "i1", "c1", Exited, 2)]),
            &all_healthy,
            Want { kill_pod: true, sandbox_id: "s1", ..Default::default() },
        ),
        (
            "OOM-killed counts as failed even with exit 0",
            &never_inits,
            ready_view(vec![ContainerStatus {
                reason: "OOMKilled".into(),
                ..st(&never_inits, "i1", "c1", Exited, 0)
            }]),
            &all_healthy,
            Want { kill_pod: true, sandbox_id: "s1", ..Default::default() },
        ),
        (
            "container-level OnFailure restarts an init container of a Never pod",
            &own_policy,
            ready_view(vec![st(&own_policy, "i1", "c1", Exited, 1)]),
            &all_healthy,
            Want { sandbox_id: "s1", init: vec![0], ..Default::default() },
        ),
        (
            "init statuses garbage-collected but an app container ran here: initialized",
            p,
            ready_view(vec![st(p, "a", "c3", Running, 0)]),
            &all_healthy,
            keep_running(),
        ),
        (
            "an app container from an older sandbox does not count",
            p,
            view(
                vec![sandbox("s2", true, 1), sandbox("s1", false, 0)],
                vec![
                    ContainerStatus { sandbox_id: "s2".into(), ..st(p, "i1", "c4", Running, 0) },
                    st(p, "a", "c3", Exited, 0),
                ],
            ),
            &all_healthy,
            Want { sandbox_id: "s2", attempt: 1, ..Default::default() },
        ),
        (
            "init container in unknown state: kill and run again",
            p,
            ready_view(vec![st(p, "i1", "c1", Unknown, 0)]),
            &all_healthy,
            Want {
                sandbox_id: "s1",
                init: vec![0],
                kill: vec![("c1", "Init container is in \"unknown\" state, try killing it before restart")],
                ..Default::default()
            },
        ),
        (
            "sidecar started: the next init container",
            &sidecar,
            ready_view(vec![st(&sidecar, "side", "c1", Running, 0)]),
            &all_healthy,
            Want { sandbox_id: "s1", init: vec![1], ..Default::default() },
        ),
        (
            "sidecar running, init done: the app containers",
            &sidecar,
            ready_view(vec![st(&sidecar, "i2", "c2", Exited, 0), st(&sidecar, "side", "c1", Running, 0)]),
            &all_healthy,
            Want { sandbox_id: "s1", start: vec![0], ..Default::default() },
        ),
        (
            "sidecar exited after init: restarted next to the apps",
            &sidecar,
            ready_view(vec![
                st(&sidecar, "a", "c3", Running, 0),
                st(&sidecar, "i2", "c2", Exited, 0),
                st(&sidecar, "side", "c1", Exited, 1),
            ]),
            &all_healthy,
            Want { sandbox_id: "s1", init: vec![0], ..Default::default() },
        ),
        (
            "sidecar with a startup probe not run yet: wait",
            &probed_sidecar,
            ready_view(vec![st(&probed_sidecar, "side", "c1", Running, 0)]),
            &not_probed,
            keep_running(),
        ),
        (
            "sidecar startup probe failed: kill and restart it",
            &probed_sidecar,
            ready_view(vec![st(&probed_sidecar, "side", "c1", Running, 0)]),
            &startup_failed,
            Want {
                sandbox_id: "s1",
                init: vec![0],
                kill: vec![("c1", "Init container side failed startup probe")],
                ..Default::default()
            },
        ),
        (
            "sidecar spec changed: restart it (and start the next one)",
            &changed_sidecar,
            ready_view(vec![st(&sidecar, "side", "c1", Running, 0)]),
            &all_healthy,
            Want {
                sandbox_id: "s1",
                init: vec![0, 1],
                kill: vec![("c1", "Init container side definition changed")],
                ..Default::default()
            },
        ),
        (
            "apps done under Never with a sidecar running: the sidecar does not keep the pod",
            &sidecar_last,
            ready_view(vec![
                st(&sidecar_last, "a", "c2", Exited, 0),
                st(&sidecar_last, "side", "c1", Running, 0),
            ]),
            &all_healthy,
            Want { kill_pod: true, sandbox_id: "s1", ..Default::default() },
        ),
    ];
    for (name, p, status, verdicts, want) in cases {
        check(name, p, &status, verdicts, want);
    }
}

#[test]
fn restart_decision_follows_policy_and_deletion() {
    let p = pod(Some("OnFailure"), &[], &["a"]);
    let c = &p.spec.containers[0];
    assert!(should_container_be_restarted(c, &p, &ready_view(vec![])));
    assert!(should_container_be_restarted(c, &p, &ready_view(vec![st(&p, "a", "c1", Exited, 3)])));
    assert!(!should_container_be_restarted(c, &p, &ready_view(vec![st(&p, "a", "c1", Exited, 0)])));
    assert!(!should_container_be_restarted(c, &p, &ready_view(vec![st(&p, "a", "c1", Running, 0)])));
    assert!(should_container_be_restarted(c, &p, &ready_view(vec![st(&p, "a", "c1", Created, 0)])));
}
