use super::*;
use crate::api::core::PodReadinessGate;
use crate::kuberuntime::SandboxState;
use crate::status::testutil::*;

fn ready_status(name: &str, ready: bool) -> ContainerStatus {
    ContainerStatus {
        ready,
        started: Some(ready),
        ..running(name)
    }
}

type Summary<'a> = (&'a str, Option<&'a str>, Option<&'a str>);

fn summary(c: &PodCondition) -> Summary<'_> {
    (c.status.as_str(), c.reason.as_deref(), c.message.as_deref())
}

#[test]
fn ready_to_start_containers_table() {
    let p = pod(&["app"]);
    let mut host = pod(&["app"]);
    host.spec.host_network = Some(true);
    let ready = |ips: Vec<&str>| sandbox("s1", SandboxState::Ready, ips);
    let rt = |sandboxes| crate::kuberuntime::PodStatus {
        sandboxes,
        ..Default::default()
    };
    let mut host_sandbox = ready(vec![]);
    host_sandbox.host_network = true;
    let table = [
        (&p, rt(vec![]), Some("no pod sandbox exists")),
        (&p, rt(vec![ready(vec!["10.0.0.5"])]), None),
        (
            &p,
            rt(vec![sandbox("s1", SandboxState::NotReady, vec![])]),
            Some("pod sandbox is not ready"),
        ),
        (
            &p,
            rt(vec![ready(vec![])]),
            Some("pod sandbox has no IP address"),
        ),
        (
            &p,
            rt(vec![ready(vec!["10.0.0.5"]), ready(vec!["10.0.0.6"])]),
            Some("multiple pod sandboxes are ready and need to be reconciled"),
        ),
        (
            &host,
            rt(vec![ready(vec!["10.0.0.5"])]),
            Some("network namespace mode changed and sandbox needs to be recreated"),
        ),
        (&host, rt(vec![host_sandbox]), None),
    ];
    for (i, (pod, runtime, want)) in table.into_iter().enumerate() {
        let c = ready_to_start_containers(pod, &runtime);
        match want {
            None => assert_eq!(summary(&c), ("True", None, None), "row {i}"),
            Some(msg) => assert_eq!(
                summary(&c),
                ("False", Some(POD_SANDBOX_NOT_READY), Some(msg)),
                "row {i}"
            ),
        }
    }
}

#[test]
fn initialized_table() {
    let p = with_init(pod(&["app"]), "init");
    let plain = pod(&["app"]);
    let side = with_sidecar(pod(&["app"]), "side");
    let none = PodStatus::default();
    let was = PodStatus {
        conditions: vec![condition(INITIALIZED, true, None, None)],
        ..Default::default()
    };
    let done_init = ContainerStatus {
        ready: true,
        ..exited("init", 0)
    };
    let incomplete = "containers with incomplete status: [init]";
    type Row<'a> = (
        &'a str,
        &'a Pod,
        Vec<ContainerStatus>,
        Vec<ContainerStatus>,
        Phase,
        &'a PodStatus,
        Summary<'a>,
    );
    let table: Vec<Row> = vec![
        (
            "no init containers",
            &plain,
            vec![],
            vec![waiting("app")],
            Phase::Pending,
            &none,
            ("True", None, None),
        ),
        (
            "init running",
            &p,
            vec![running("init")],
            vec![waiting("app")],
            Phase::Pending,
            &none,
            ("False", Some(CONTAINERS_NOT_INITIALIZED), Some(incomplete)),
        ),
        (
            "init done",
            &p,
            vec![done_init.clone()],
            vec![waiting("app")],
            Phase::Pending,
            &none,
            ("True", None, None),
        ),
        (
            "init unknown",
            &p,
            vec![],
            vec![waiting("app")],
            Phase::Pending,
            &none,
            (
                "False",
                Some(CONTAINERS_NOT_INITIALIZED),
                Some("containers with unknown status: [init]"),
            ),
        ),
        (
            "app has run",
            &p,
            vec![waiting("init")],
            vec![running("app")],
            Phase::Running,
            &none,
            ("True", None, None),
        ),
        (
            "succeeded",
            &p,
            vec![done_init],
            vec![exited("app", 0)],
            Phase::Succeeded,
            &none,
            ("True", Some(POD_COMPLETED), None),
        ),
        (
            "sidecar started",
            &side,
            vec![running_started("side", true)],
            vec![waiting("app")],
            Phase::Pending,
            &none,
            ("True", None, None),
        ),
        (
            "sidecar not started",
            &side,
            vec![running_started("side", false)],
            vec![waiting("app")],
            Phase::Pending,
            &none,
            (
                "False",
                Some(CONTAINERS_NOT_INITIALIZED),
                Some("containers with incomplete status: [side]"),
            ),
        ),
        (
            "stays initialized",
            &p,
            vec![running("init")],
            vec![waiting("app")],
            Phase::Pending,
            &was,
            ("True", None, None),
        ),
    ];
    for (name, pod, init, app, phase, old, want) in table {
        assert_eq!(
            summary(&initialized(pod, &init, &app, phase, old)),
            want,
            "{name}"
        );
    }
}

#[test]
fn containers_ready_and_ready_table() {
    let two = pod(&["a", "b"]);
    let side = with_sidecar(pod(&["a"]), "side");
    let table = [
        (
            "all ready",
            &two,
            vec![],
            vec![ready_status("a", true), ready_status("b", true)],
            Phase::Running,
            ("True", None, None),
        ),
        (
            "unready",
            &two,
            vec![],
            vec![ready_status("a", false), ready_status("b", false)],
            Phase::Running,
            (
                "False",
                Some(CONTAINERS_NOT_READY),
                Some("containers with unready status: [a b]"),
            ),
        ),
        (
            "unknown and unready",
            &two,
            vec![],
            vec![ready_status("b", false)],
            Phase::Pending,
            (
                "False",
                Some(CONTAINERS_NOT_READY),
                Some("containers with unknown status: [a], containers with unready status: [b]"),
            ),
        ),
        (
            "failed",
            &two,
            vec![],
            vec![ready_status("a", true), ready_status("b", true)],
            Phase::Failed,
            ("False", Some(POD_FAILED), None),
        ),
        (
            "succeeded",
            &two,
            vec![],
            vec![exited("a", 0), exited("b", 0)],
            Phase::Succeeded,
            ("False", Some(POD_COMPLETED), None),
        ),
        (
            "sidecar counts",
            &side,
            vec![ready_status("side", false)],
            vec![ready_status("a", true)],
            Phase::Running,
            (
                "False",
                Some(CONTAINERS_NOT_READY),
                Some("containers with unready status: [side]"),
            ),
        ),
    ];
    for (name, pod, init, app, phase, want) in table {
        let containers = containers_ready(pod, &init, &app, phase);
        assert_eq!(summary(&containers), want, "{name}");
        let r = ready(pod, &[], &containers);
        assert_eq!(
            (r.type_.as_str(), summary(&r)),
            (READY, want),
            "{name}: Ready mirrors ContainersReady"
        );
    }
}

#[test]
fn readiness_gates() {
    let mut p = pod(&["a"]);
    for t in ["example.com/lb", "example.com/dns"] {
        p.spec.readiness_gates.push(PodReadinessGate {
            condition_type: t.into(),
        });
    }
    let ok = condition(CONTAINERS_READY, true, None, None);
    let gate = |t: &str, s: &str| PodCondition {
        type_: t.into(),
        status: s.into(),
        ..Default::default()
    };
    let r = ready(&p, &[gate("example.com/lb", "False")], &ok);
    let msg = "the status of pod readiness gate \"example.com/lb\" is not \"True\", but False, \
               corresponding condition of pod readiness gate \"example.com/dns\" does not exist.";
    assert_eq!(
        summary(&r),
        ("False", Some(READINESS_GATES_NOT_READY), Some(msg))
    );
    let r = ready(
        &p,
        &[
            gate("example.com/lb", "True"),
            gate("example.com/dns", "True"),
        ],
        &ok,
    );
    assert_eq!(summary(&r), ("True", None, None));
}

#[test]
fn build_orders_carries_and_stamps() {
    let mut p = pod(&["app"]);
    p.metadata.generation = Some(3);
    p.spec.readiness_gates.push(PodReadinessGate {
        condition_type: "example.com/lb".into(),
    });
    let external = PodCondition {
        type_: "example.com/lb".into(),
        status: "True".into(),
        ..Default::default()
    };
    let stale = PodCondition {
        type_: READY.into(),
        status: "True".into(),
        ..Default::default()
    };
    p.status.conditions = vec![external.clone(), stale];
    let t0 = Some(Time::from_unix(50));
    let old = PodStatus {
        conditions: vec![
            PodCondition {
                type_: POD_SCHEDULED.into(),
                status: "True".into(),
                last_transition_time: t0,
                ..Default::default()
            },
            PodCondition {
                type_: READY.into(),
                status: "False".into(),
                last_transition_time: t0,
                ..Default::default()
            },
            PodCondition {
                type_: DISRUPTION_TARGET.into(),
                status: "True".into(),
                last_transition_time: t0,
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let app = vec![ready_status("app", true)];
    let rt = runtime(vec![]);
    let now = Time::from_unix(100);
    let inputs = Inputs {
        pod: &p,
        runtime: &rt,
        old: &old,
        init: &[],
        app: &app,
        phase: Phase::Running,
        now,
    };
    let got = build(&inputs);
    let types: Vec<&str> = got.iter().map(|c| c.type_.as_str()).collect();
    assert_eq!(
        types,
        [
            "example.com/lb",
            DISRUPTION_TARGET,
            POD_READY_TO_START_CONTAINERS,
            INITIALIZED,
            READY,
            CONTAINERS_READY,
            POD_SCHEDULED
        ]
    );
    assert_eq!(
        got[0], external,
        "conditions of other owners are kept as they are"
    );
    let by = |t: &str| got.iter().find(|c| c.type_ == t).expect(t);
    assert_eq!(by(READY).status, "True", "the readiness gate is satisfied");
    assert_eq!(
        by(POD_SCHEDULED).last_transition_time,
        t0,
        "unchanged status keeps its time"
    );
    assert_eq!(by(DISRUPTION_TARGET).last_transition_time, t0);
    assert_eq!(
        by(READY).last_transition_time,
        Some(now),
        "False -> True is a transition"
    );
    assert_eq!(
        by(INITIALIZED).last_transition_time,
        Some(now),
        "new condition"
    );
    assert_eq!(by(READY).observed_generation, Some(3));
    assert_eq!(
        by("example.com/lb").last_transition_time,
        None,
        "not the kubelet's to stamp"
    );
}

#[test]
fn container_readiness_between_syncs() {
    let p = pod(&["app", "side"]);
    let with_id = |name: &str, id: &str, ready: bool| ContainerStatus {
        container_id: Some(format!("containerd://{id}")),
        ..ready_status(name, ready)
    };
    let t0 = Time::from_unix(100);
    let mut status = PodStatus {
        phase: Some("Running".into()),
        container_statuses: vec![with_id("app", "a1", true), with_id("side", "s1", true)],
        conditions: vec![
            PodCondition { type_: READY.into(), status: "True".into(), last_transition_time: Some(t0), ..Default::default() },
            PodCondition { type_: CONTAINERS_READY.into(), status: "True".into(), last_transition_time: Some(t0), ..Default::default() },
        ],
        ..Default::default()
    };
    let t1 = Time::from_unix(200);
    assert!(!set_container_readiness(&p, &mut status, "a1", true, t1), "unchanged");
    assert!(!set_container_readiness(&p, &mut status, "other", false, t1), "unknown container");
    assert!(set_container_readiness(&p, &mut status, "a1", false, t1));
    assert!(!status.container_statuses[0].ready);
    let ready = status.conditions.iter().find(|c| c.type_ == READY).expect("Ready");
    assert_eq!(summary(ready), ("False", Some(CONTAINERS_NOT_READY), Some("containers with unready status: [app]")));
    assert_eq!(ready.last_transition_time, Some(t1));
    assert_eq!(status.conditions.len(), 2, "replaced in place");
    assert!(set_container_readiness(&p, &mut status, "a1", true, Time::from_unix(300)));
    let ready = status.conditions.iter().find(|c| c.type_ == READY).expect("Ready");
    assert_eq!((ready.status.as_str(), ready.last_transition_time), ("True", Some(Time::from_unix(300))));
}
