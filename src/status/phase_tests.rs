use super::*;
use crate::api::core::{ContainerRestartRule, ContainerRestartRuleOnExitCodes};
use crate::status::testutil::*;

struct Case {
    name: &'static str,
    pod: Pod,
    init: Vec<ContainerStatus>,
    app: Vec<ContainerStatus>,
    terminal: bool,
    initialized: bool,
    want: Phase,
}

fn case(
    name: &'static str,
    pod: Pod,
    init: Vec<ContainerStatus>,
    app: Vec<ContainerStatus>,
    want: Phase,
) -> Case {
    Case {
        name,
        pod,
        init,
        app,
        terminal: false,
        initialized: false,
        want,
    }
}

fn static_pod(mut pod: Pod) -> Pod {
    pod.metadata
        .annotations
        .insert("kubernetes.io/config.source".into(), "file".into());
    pod
}

fn api_pod(mut pod: Pod) -> Pod {
    pod.metadata
        .annotations
        .insert("kubernetes.io/config.source".into(), "api".into());
    pod
}

#[test]
fn get_phase_table() {
    let one = || pod(&["app"]);
    let two = || pod(&["a", "b"]);
    let with_init = |policy: &str| with_init(with_policy(one(), policy), "init");
    let with_side = || with_sidecar(one(), "side");
    let no_state = ContainerStatus {
        name: "app".into(),
        ..Default::default()
    };
    let mut cases = vec![
        case(
            "running",
            one(),
            vec![],
            vec![running("app")],
            Phase::Running,
        ),
        case("no status yet", one(), vec![], vec![], Phase::Pending),
        case("no state", one(), vec![], vec![no_state], Phase::Pending),
        case(
            "waiting",
            one(),
            vec![],
            vec![waiting("app")],
            Phase::Pending,
        ),
        case(
            "one of two unknown",
            two(),
            vec![],
            vec![running("a")],
            Phase::Pending,
        ),
        case(
            "one running one exited",
            with_policy(two(), "Never"),
            vec![],
            vec![running("a"), exited("b", 1)],
            Phase::Running,
        ),
        // Restart policies with every app container stopped.
        case(
            "Always exit 0",
            with_policy(one(), "Always"),
            vec![],
            vec![exited("app", 0)],
            Phase::Running,
        ),
        case(
            "Always exit 1",
            with_policy(one(), "Always"),
            vec![],
            vec![exited("app", 1)],
            Phase::Running,
        ),
        case(
            "default policy is Always",
            one(),
            vec![],
            vec![exited("app", 0)],
            Phase::Running,
        ),
        case(
            "Always waiting to restart",
            one(),
            vec![],
            vec![waiting_after("app", 1)],
            Phase::Running,
        ),
        case(
            "OnFailure exit 0",
            with_policy(one(), "OnFailure"),
            vec![],
            vec![exited("app", 0)],
            Phase::Succeeded,
        ),
        case(
            "OnFailure exit 1",
            with_policy(one(), "OnFailure"),
            vec![],
            vec![exited("app", 1)],
            Phase::Running,
        ),
        case(
            "Never exit 0",
            with_policy(one(), "Never"),
            vec![],
            vec![exited("app", 0)],
            Phase::Succeeded,
        ),
        case(
            "Never exit 1",
            with_policy(one(), "Never"),
            vec![],
            vec![exited("app", 1)],
            Phase::Failed,
        ),
        case(
            "Never all exit 0",
            with_policy(two(), "Never"),
            vec![],
            vec![exited("a", 0), exited("b", 0)],
            Phase::Succeeded,
        ),
        case(
            "Never one failed",
            with_policy(two(), "Never"),
            vec![],
            vec![exited("a", 0), exited("b", 2)],
            Phase::Failed,
        ),
        // Regular init containers.
        case(
            "init not started",
            with_init("Always"),
            vec![waiting("init")],
            vec![waiting("app")],
            Phase::Pending,
        ),
        case(
            "init running",
            with_init("Always"),
            vec![running("init")],
            vec![waiting("app")],
            Phase::Pending,
        ),
        case(
            "init done app running",
            with_init("Always"),
            vec![exited("init", 0)],
            vec![running("app")],
            Phase::Running,
        ),
        case(
            "init failed Never",
            with_init("Never"),
            vec![exited("init", 1)],
            vec![waiting("app")],
            Phase::Failed,
        ),
        case(
            "init failed Always retries",
            with_init("Always"),
            vec![exited("init", 1)],
            vec![waiting("app")],
            Phase::Pending,
        ),
        case(
            "init waiting after failure OnFailure",
            with_init("OnFailure"),
            vec![waiting_after("init", 1)],
            vec![waiting("app")],
            Phase::Pending,
        ),
        case(
            "init waiting after failure Never",
            with_init("Never"),
            vec![waiting_after("init", 1)],
            vec![waiting("app")],
            Phase::Failed,
        ),
        // Sidecars.
        case(
            "sidecar not started",
            with_side(),
            vec![running_started("side", false)],
            vec![waiting("app")],
            Phase::Pending,
        ),
        case(
            "sidecar started app running",
            with_side(),
            vec![running_started("side", true)],
            vec![running("app")],
            Phase::Running,
        ),
        case(
            "sidecar waiting",
            with_side(),
            vec![waiting("side")],
            vec![],
            Phase::Pending,
        ),
        case(
            "sidecar keeps pod running",
            with_policy(with_side(), "Never"),
            vec![running_started("side", true)],
            vec![exited("app", 0)],
            Phase::Running,
        ),
        case(
            "stopped sidecar ignored",
            with_policy(with_side(), "Never"),
            vec![exited("side", 137)],
            vec![exited("app", 0)],
            Phase::Succeeded,
        ),
    ];
    let mut restarting_sidecar = case(
        "sidecar restarting after init",
        with_side(),
        vec![running_started("side", false)],
        vec![running("app")],
        Phase::Running,
    );
    restarting_sidecar.initialized = true;
    cases.push(restarting_sidecar);
    for (name, pod, code, want) in [
        (
            "terminal api pod exit 0",
            api_pod(one()),
            0,
            Phase::Succeeded,
        ),
        ("terminal api pod exit 1", api_pod(one()), 1, Phase::Failed),
        (
            "terminal static pod keeps policy",
            static_pod(one()),
            0,
            Phase::Running,
        ),
    ] {
        let mut c = case(name, pod, vec![], vec![exited("app", code)], want);
        c.terminal = true;
        cases.push(c);
    }
    for c in cases {
        let got = get_phase(&c.pod, &c.init, &c.app, c.terminal, c.initialized);
        assert_eq!(got, c.want, "{}", c.name);
    }
}

#[test]
fn container_level_restart_policy_and_rules() {
    let mut pod = with_policy(pod(&["app"]), "Always");
    pod.spec.containers[0].restart_policy = Some("Never".into());
    assert_eq!(
        get_phase(&pod, &[], &[exited("app", 1)], false, true),
        Phase::Failed
    );
    pod.spec.containers[0]
        .restart_policy_rules
        .push(ContainerRestartRule {
            action: "Restart".into(),
            exit_codes: Some(ContainerRestartRuleOnExitCodes {
                operator: "In".into(),
                values: vec![42],
            }),
        });
    assert_eq!(
        get_phase(&pod, &[], &[exited("app", 42)], false, true),
        Phase::Running
    );
    assert_eq!(
        get_phase(&pod, &[], &[exited("app", 1)], false, true),
        Phase::Failed
    );
}

#[test]
fn should_restart_table() {
    let spec_with = |policy: Option<&str>| PodSpec {
        restart_policy: policy.map(String::from),
        ..Default::default()
    };
    let plain = container("c");
    let mut not_in = container("c");
    not_in.restart_policy = Some("Never".into());
    not_in.restart_policy_rules.push(ContainerRestartRule {
        action: "Restart".into(),
        exit_codes: Some(ContainerRestartRuleOnExitCodes {
            operator: "NotIn".into(),
            values: vec![0],
        }),
    });
    let table = [
        (&plain, None, 0, true),
        (&plain, Some("Always"), 0, true),
        (&plain, Some("OnFailure"), 0, false),
        (&plain, Some("OnFailure"), 3, true),
        (&plain, Some("Never"), 3, false),
        (&not_in, Some("Always"), 0, false),
        (&not_in, Some("Always"), 9, true),
    ];
    for (i, (c, policy, code, want)) in table.into_iter().enumerate() {
        assert_eq!(
            container_should_restart(c, &spec_with(policy), code),
            want,
            "row {i}"
        );
    }
}

#[test]
fn phase_strings_and_static_pods() {
    for p in [
        Phase::Pending,
        Phase::Running,
        Phase::Succeeded,
        Phase::Failed,
        Phase::Unknown,
    ] {
        assert_eq!(Phase::parse(p.as_str()), Some(p));
    }
    assert!(is_terminal_phase(Some("Failed")) && is_terminal_phase(Some("Succeeded")));
    assert!(!is_terminal_phase(Some("Running")) && !is_terminal_phase(None));
    assert!(is_static_pod(&static_pod(pod(&[]))));
    assert!(!is_static_pod(&api_pod(pod(&[]))));
    assert!(
        !is_static_pod(&pod(&[])),
        "no source annotation is not static, as upstream"
    );
}
