use super::*;
use crate::api::core::PodStatus;
use crate::kuberuntime::{ContainerState as RtState, SandboxState};
use crate::status::conditions::{
    CONTAINERS_NOT_READY, INITIALIZED, POD_READY_TO_START_CONTAINERS, POD_SCHEDULED, READY,
};
use crate::status::reason::StartFailure;
use crate::status::testutil::*;

const HOST: [&str; 1] = ["192.0.2.2"];

struct World {
    pod: Pod,
    runtime: rt::PodStatus,
    reasons: ReasonCache,
    probes: ProbeResults,
    host_ips: Vec<String>,
    terminal: bool,
}

impl World {
    fn new(pod: Pod, runtime: rt::PodStatus) -> World {
        World {
            pod,
            runtime,
            reasons: ReasonCache::new(),
            probes: ProbeResults::default(),
            host_ips: HOST.iter().map(|s| s.to_string()).collect(),
            terminal: false,
        }
    }

    fn at(&self, now: i64, previous: Option<&PodStatus>) -> PodStatus {
        generate(&GenerateInput {
            pod: &self.pod,
            runtime: &self.runtime,
            reasons: &self.reasons,
            previous,
            host_ips: &self.host_ips,
            probes: &self.probes,
            pod_is_terminal: self.terminal,
            runtime_name: "containerd",
            agent_start: None,
            now: Time::from_unix(now),
        })
    }
}

fn cond<'a>(s: &'a PodStatus, t: &str) -> &'a crate::api::core::PodCondition {
    s.conditions
        .iter()
        .find(|c| c.type_ == t)
        .unwrap_or_else(|| panic!("no {t} condition"))
}

#[test]
fn fresh_pod_without_sandbox() {
    let w = World::new(pod(&["app"]), rt::PodStatus::default());
    let s = w.at(100, None);
    assert_eq!(s.phase.as_deref(), Some("Pending"));
    assert_eq!(s.qos_class.as_deref(), Some("BestEffort"));
    assert_eq!(s.start_time, Some(Time::from_unix(100)));
    assert_eq!(
        (s.pod_ip.as_deref(), s.host_ip.as_deref()),
        (None, Some("192.0.2.2"))
    );
    assert_eq!(cond(&s, POD_READY_TO_START_CONTAINERS).status, "False");
    assert_eq!(cond(&s, INITIALIZED).status, "True");
    let ready = cond(&s, READY);
    assert_eq!(
        (ready.reason.as_deref(), ready.message.as_deref()),
        (
            Some(CONTAINERS_NOT_READY),
            Some("containers with unready status: [app]")
        )
    );
    assert_eq!(cond(&s, POD_SCHEDULED).status, "True");
    let c = &s.container_statuses[0];
    assert_eq!(
        (waiting_reason(c), c.started, c.ready),
        (Some("ContainerCreating"), Some(false), false)
    );
}

#[test]
fn running_pod() {
    let w = World::new(pod(&["app"]), runtime(vec![rt_running("app", "c1", 10, 0)]));
    let s = w.at(100, None);
    assert_eq!(s.phase.as_deref(), Some("Running"));
    assert_eq!(s.pod_ip.as_deref(), Some("10.0.0.5"));
    assert_eq!(s.pod_ips.len(), 1);
    assert_eq!(s.host_ips.len(), 1);
    for t in [
        POD_READY_TO_START_CONTAINERS,
        INITIALIZED,
        READY,
        "ContainersReady",
        POD_SCHEDULED,
    ] {
        assert_eq!(cond(&s, t).status, "True", "{t}");
        assert_eq!(cond(&s, t).last_transition_time, Some(Time::from_unix(100)));
    }
    let c = &s.container_statuses[0];
    assert_eq!((c.ready, c.started), (true, Some(true)));
    // The status round-trips through JSON with upstream's field names.
    let json = serde_json::to_value(&s).expect("serialize");
    assert_eq!(
        json["containerStatuses"][0]["containerID"],
        "containerd://c1"
    );
    assert_eq!(
        json["containerStatuses"][0]["lastState"],
        serde_json::json!({})
    );
    assert_eq!(json["podIPs"][0]["ip"], "10.0.0.5");
}

#[test]
fn transition_times_and_start_time_are_kept() {
    let mut w = World::new(pod(&["app"]), runtime(vec![rt_running("app", "c1", 10, 0)]));
    let first = w.at(100, None);
    let second = w.at(200, Some(&first));
    assert_eq!(second.start_time, Some(Time::from_unix(100)));
    assert_eq!(
        cond(&second, READY).last_transition_time,
        Some(Time::from_unix(100))
    );
    // The container dies: Ready flips and gets a new time; PodScheduled keeps its own.
    w.runtime = runtime(vec![rt_exited("app", "c1", 10, 1, "Error")]);
    let third = w.at(300, Some(&second));
    assert_eq!(cond(&third, READY).status, "False");
    assert_eq!(
        cond(&third, READY).last_transition_time,
        Some(Time::from_unix(300))
    );
    assert_eq!(
        cond(&third, POD_SCHEDULED).last_transition_time,
        Some(Time::from_unix(100))
    );
    assert_eq!(third.start_time, Some(Time::from_unix(100)));
}

#[test]
fn terminal_phase_never_regresses() {
    let w = World::new(pod(&["app"]), runtime(vec![rt_running("app", "c1", 10, 0)]));
    let previous = PodStatus {
        phase: Some("Succeeded".into()),
        reason: Some("Done".into()),
        ..Default::default()
    };
    let s = w.at(100, Some(&previous));
    assert_eq!(
        (s.phase.as_deref(), s.reason.as_deref()),
        (Some("Succeeded"), Some("Done"))
    );
    // The API object's terminal phase wins too.
    let mut api = World::new(pod(&["app"]), runtime(vec![rt_running("app", "c1", 10, 0)]));
    api.pod.status.phase = Some("Failed".into());
    assert_eq!(
        api.at(100, Some(&PodStatus::default())).phase.as_deref(),
        Some("Failed")
    );
}

#[test]
fn restart_policy_outcomes() {
    let never = World::new(
        with_policy(pod(&["app"]), "Never"),
        runtime(vec![rt_exited("app", "c1", 10, 0, "Completed")]),
    );
    let s = never.at(100, None);
    assert_eq!(s.phase.as_deref(), Some("Succeeded"));
    assert_eq!(cond(&s, READY).reason.as_deref(), Some("PodCompleted"));

    let mut looping = World::new(
        pod(&["app"]),
        runtime(vec![rt_exited("app", "c2", 20, 1, "Error")]),
    );
    looping.reasons.set(
        "app",
        StartFailure::CrashLoopBackOff,
        "back-off 10s restarting failed container=app pod=web_default(uid-1)",
    );
    let s = looping.at(100, None);
    assert_eq!(
        s.phase.as_deref(),
        Some("Running"),
        "a restarting container keeps the pod Running"
    );
    assert_eq!(
        waiting_reason(&s.container_statuses[0]),
        Some("CrashLoopBackOff")
    );

    let mut terminal = World::new(
        pod(&["app"]),
        runtime(vec![rt_exited("app", "c1", 10, 0, "Completed")]),
    );
    terminal
        .pod
        .metadata
        .annotations
        .insert("kubernetes.io/config.source".into(), "api".into());
    terminal.terminal = true;
    assert_eq!(terminal.at(100, None).phase.as_deref(), Some("Succeeded"));
}

#[test]
fn active_deadline() {
    let mut w = World::new(pod(&["app"]), runtime(vec![rt_running("app", "c1", 10, 0)]));
    w.pod.spec.active_deadline_seconds = Some(30);
    let first = w.at(100, None);
    assert_eq!(first.phase.as_deref(), Some("Running"));
    let late = w.at(130, Some(&first));
    assert_eq!(
        (late.phase.as_deref(), late.reason.as_deref()),
        (Some("Failed"), Some(DEADLINE_EXCEEDED))
    );
    assert_eq!(
        late.message.as_deref(),
        Some("Pod was active on the node longer than the specified deadline")
    );
}

#[test]
fn pod_ips() {
    // Sandbox gone after the pod exited: the last IPs stay.
    let mut w = World::new(
        with_policy(pod(&["app"]), "Never"),
        runtime(vec![rt_exited("app", "c1", 10, 0, "")]),
    );
    let before = w.at(100, None);
    w.runtime.ips.clear();
    w.runtime.sandboxes = vec![sandbox(SANDBOX, SandboxState::NotReady, vec![])];
    assert_eq!(w.at(200, Some(&before)).pod_ip.as_deref(), Some("10.0.0.5"));

    // Host network: the node's IPs, dual stack.
    let mut host = World::new(pod(&["app"]), runtime(vec![rt_running("app", "c1", 10, 0)]));
    host.pod.spec.host_network = Some(true);
    host.runtime.ips.clear();
    host.runtime.sandboxes[0].host_network = true;
    host.host_ips = vec!["192.0.2.2".into(), "2001:db8::2".into()];
    let s = host.at(100, None);
    let ips: Vec<&str> = s.pod_ips.iter().map(|p| p.ip.as_str()).collect();
    assert_eq!(ips, ["192.0.2.2", "2001:db8::2"]);
    assert_eq!(s.host_ips.len(), 2);

    let runtime_ips: Vec<String> = ["2001:DB8::0:5", "10.0.0.5", "10.0.0.6"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        sort_pod_ips(&runtime_ips, &["192.0.2.2".into()]),
        ["10.0.0.5", "2001:db8::5"]
    );
    assert_eq!(
        sort_pod_ips(&runtime_ips, &["2001:db8::2".into()]),
        ["2001:db8::5", "10.0.0.5"]
    );
}

#[test]
fn observed_generation_and_message_truncation() {
    let long = "x".repeat(20_000);
    let mut rec = rt_exited("b", "c1", 10, 1, "Error");
    rec.message = long;
    let mut w = World::new(
        with_policy(pod(&["a", "b"]), "Never"),
        runtime(vec![rec, rt_container("a", "c0", 5, RtState::Created)]),
    );
    w.pod.metadata.generation = Some(4);
    let s = w.at(100, None);
    assert_eq!(s.observed_generation, Some(4));
    assert_eq!(cond(&s, READY).observed_generation, Some(4));
    let msg = terminated_of(&s.container_statuses[1])
        .message
        .as_deref()
        .unwrap_or_default();
    assert_eq!(msg.len(), 12 * 1024 / 2);
    let newer = PodStatus {
        observed_generation: Some(9),
        ..Default::default()
    };
    assert_eq!(
        w.at(100, Some(&newer)).observed_generation,
        Some(9),
        "never goes backwards"
    );
    let mut multibyte = "é".repeat(10);
    truncate_at_char(&mut multibyte, 5);
    assert_eq!(multibyte, "éé");
}

#[test]
fn ephemeral_containers_get_statuses_but_no_say_in_phase_or_readiness() {
    let mut p = pod(&["app"]);
    let debug = |name: &str| crate::api::core::EphemeralContainer { common: container(name), target_container_name: None };
    p.spec.ephemeral_containers = vec![debug("debugger"), debug("another")];
    let w = World::new(p, runtime(vec![rt_running("app", "c1", 10, 0), rt_exited("debugger", "d1", 20, 1, "Error")]));
    let s = w.at(100, None);
    assert_eq!(s.phase.as_deref(), Some("Running"), "an exited ephemeral container does not end the pod");
    assert_eq!(cond(&s, READY).status, "True");
    let names: Vec<&str> = s.ephemeral_container_statuses.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["another", "debugger"], "sorted by name, as upstream");
    assert_eq!(waiting_reason(&s.ephemeral_container_statuses[0]), Some("ContainerCreating"));
    let t = terminated_of(&s.ephemeral_container_statuses[1]);
    assert_eq!((t.exit_code, t.container_id.as_deref()), (1, Some("containerd://d1")));
    assert_eq!(s.container_statuses.len(), 1);
    let json = serde_json::to_value(&s).expect("serialize");
    assert_eq!(json["ephemeralContainerStatuses"][1]["name"], "debugger");
}
