use super::*;
use crate::api::core::VolumeMount;
use crate::kuberuntime::ContainerState as RtState;
use crate::status::reason::StartFailure;
use crate::status::testutil::*;

fn convert_of(
    pod: &Pod,
    rt: &rt::PodStatus,
    reasons: &ReasonCache,
    previous: &[ContainerStatus],
    is_init: bool,
) -> Vec<ContainerStatus> {
    let src = Source::new(pod, rt, reasons, "containerd");
    let containers = if is_init {
        &pod.spec.init_containers
    } else {
        &pod.spec.containers
    };
    convert(&src, containers, previous, is_init)
}

fn convert_app(
    pod: &Pod,
    rt: &rt::PodStatus,
    reasons: &ReasonCache,
    prev: &[ContainerStatus],
) -> Vec<ContainerStatus> {
    convert_of(pod, rt, reasons, prev, false)
}

fn convert_init(
    pod: &Pod,
    rt: &rt::PodStatus,
    reasons: &ReasonCache,
    prev: &[ContainerStatus],
) -> Vec<ContainerStatus> {
    convert_of(pod, rt, reasons, prev, true)
}

fn only(
    pod: &Pod,
    rt: &rt::PodStatus,
    reasons: &ReasonCache,
    previous: &[ContainerStatus],
) -> ContainerStatus {
    let mut all = convert_app(pod, rt, reasons, previous);
    assert_eq!(all.len(), 1);
    all.remove(0)
}

#[test]
fn no_runtime_record_is_creating_or_initializing() {
    let none = ReasonCache::new();
    let s = only(&pod(&["app"]), &runtime(vec![]), &none, &[]);
    assert_eq!(waiting_reason(&s), Some(CONTAINER_CREATING));
    assert_eq!(
        (s.image.as_str(), s.image_id.as_str(), s.restart_count),
        ("busybox", "", 0)
    );
    assert_eq!(
        s.last_state,
        Some(ContainerState::default()),
        "lastState is {{}} as upstream writes it"
    );
    assert!(s.container_id.is_none() && !s.ready);

    let p = with_init(pod(&["app"]), "init");
    assert_eq!(
        waiting_reason(&convert_app(&p, &runtime(vec![]), &none, &[])[0]),
        Some(POD_INITIALIZING)
    );
    assert_eq!(
        waiting_reason(&convert_init(&p, &runtime(vec![]), &none, &[])[0]),
        Some(POD_INITIALIZING)
    );
}

#[test]
fn running_container() {
    let rt = runtime(vec![rt_running("app", "c1", 10, 3)]);
    let s = only(&pod(&["app"]), &rt, &ReasonCache::new(), &[]);
    let running = state_of(&s).running.as_ref().expect("running");
    assert_eq!(running.started_at, Some(Time::from_unix(11)));
    assert_eq!(s.container_id.as_deref(), Some("containerd://c1"));
    assert_eq!(
        s.image, "docker.io/library/busybox:latest",
        "the runtime's image, as upstream"
    );
    assert_eq!(
        s.image_id, "docker.io/library/busybox@sha256:abc",
        "imageID is CRI image_ref"
    );
    assert_eq!(
        s.restart_count, 3,
        "restartCount from the restartCount annotation"
    );
    assert_eq!(
        s.resources,
        Some(Default::default()),
        "resources: {{}} for a container without any"
    );
}

#[test]
fn exit_reasons() {
    let table = [
        (0, "Completed", "Completed"),
        (0, "", "Completed"),
        (1, "Error", "Error"),
        (2, "", "Error"),
        (137, "OOMKilled", "OOMKilled"),
        (128, "StartError", "StartError"),
    ];
    for (code, runtime_reason, want) in table {
        let mut rec = rt_exited("app", "c1", 10, code, runtime_reason);
        rec.message = "bye".into();
        let s = only(
            &with_policy(pod(&["app"]), "Never"),
            &runtime(vec![rec]),
            &ReasonCache::new(),
            &[],
        );
        let t = terminated_of(&s);
        assert_eq!(
            (t.exit_code, t.reason.as_deref()),
            (code, Some(want)),
            "exit {code} {runtime_reason:?}"
        );
        assert_eq!(t.message.as_deref(), Some("bye"));
        assert_eq!(
            (t.started_at, t.finished_at),
            (Some(Time::from_unix(11)), Some(Time::from_unix(15)))
        );
        assert_eq!(t.container_id.as_deref(), Some("containerd://c1"));
    }
}

#[test]
fn second_newest_record_is_last_state() {
    let rt = runtime(vec![
        rt_running("app", "c3", 30, 2),
        rt_exited("app", "c2", 20, 1, "Error"),
        rt_exited("app", "c1", 10, 7, "Error"),
    ]);
    let s = only(&pod(&["app"]), &rt, &ReasonCache::new(), &[]);
    assert!(state_of(&s).running.is_some());
    let last = last_term(&s).expect("last state");
    assert_eq!(
        (last.exit_code, last.container_id.as_deref()),
        (1, Some("containerd://c2"))
    );
    assert_eq!(s.restart_count, 2);
}

#[test]
fn crash_loop_from_reason_cache() {
    let mut reasons = ReasonCache::new();
    let msg = "back-off 10s restarting failed container=app pod=web_default(uid-1)";
    reasons.set("app", StartFailure::CrashLoopBackOff, msg);
    let rt = runtime(vec![
        rt_exited("app", "c2", 20, 1, "Error"),
        rt_exited("app", "c1", 10, 1, "Error"),
    ]);
    let s = only(&pod(&["app"]), &rt, &reasons, &[]);
    let w = state_of(&s).waiting.as_ref().expect("waiting");
    assert_eq!(
        (w.reason.as_deref(), w.message.as_deref()),
        (Some("CrashLoopBackOff"), Some(msg))
    );
    let last = last_term(&s).expect("the exited instance moves to lastState");
    assert_eq!(last.container_id.as_deref(), Some("containerd://c2"));
}

#[test]
fn reason_cache_only_for_containers_due_to_start() {
    let mut reasons = ReasonCache::new();
    reasons.set("app", StartFailure::ErrImagePull, "");
    let p = pod(&["app"]);
    let s = only(&p, &runtime(vec![]), &reasons, &[]);
    assert_eq!(waiting_reason(&s), Some("ErrImagePull"));
    assert_eq!(
        state_of(&s)
            .waiting
            .as_ref()
            .and_then(|w| w.message.clone()),
        None,
        "empty message omitted"
    );
    // Running: not due to start.
    let s = only(
        &p,
        &runtime(vec![rt_running("app", "c1", 10, 0)]),
        &reasons,
        &[],
    );
    assert!(state_of(&s).running.is_some());
    // Never policy, exited: will not start again.
    let never = with_policy(pod(&["app"]), "Never");
    let s = only(
        &never,
        &runtime(vec![rt_exited("app", "c1", 10, 1, "Error")]),
        &reasons,
        &[],
    );
    assert_eq!(terminated_of(&s).exit_code, 1);
}

#[test]
fn vanished_running_container_gets_unknown_last_state() {
    let previous = vec![ContainerStatus {
        restart_count: 2,
        ..running("app")
    }];
    let mut p = pod(&["app"]);
    let s = only(&p, &runtime(vec![]), &ReasonCache::new(), &previous);
    assert_eq!(waiting_reason(&s), Some(CONTAINER_CREATING));
    let last = last_term(&s).expect("unknown termination");
    assert_eq!(
        (last.exit_code, last.reason.as_deref()),
        (137, Some(CONTAINER_STATUS_UNKNOWN))
    );
    assert_eq!(s.restart_count, 3);
    p.metadata.deletion_timestamp = Some(Time::from_unix(5));
    assert_eq!(
        only(&p, &runtime(vec![]), &ReasonCache::new(), &previous).restart_count,
        2
    );
}

#[test]
fn runtime_unknown_state_after_running_is_terminated() {
    let previous = vec![ContainerStatus {
        restart_count: 4,
        ..running("app")
    }];
    let rec = rt_container("app", "c1", 10, RtState::Unknown);
    let s = only(
        &pod(&["app"]),
        &runtime(vec![rec.clone()]),
        &ReasonCache::new(),
        &previous,
    );
    let t = terminated_of(&s);
    assert_eq!(
        (t.exit_code, t.reason.as_deref()),
        (137, Some(CONTAINER_STATUS_UNKNOWN))
    );
    assert_eq!(s.restart_count, 5);
    // Without a running predecessor an unknown state is an empty waiting.
    let s = only(
        &pod(&["app"]),
        &runtime(vec![rec]),
        &ReasonCache::new(),
        &[],
    );
    assert_eq!(state_of(&s).waiting, Some(Default::default()));
}

#[test]
fn previous_terminated_status_is_kept_without_record() {
    let previous = vec![ContainerStatus {
        restart_count: 1,
        ..exited("app", 3)
    }];
    let s = only(
        &with_policy(pod(&["app"]), "Never"),
        &runtime(vec![]),
        &ReasonCache::new(),
        &previous,
    );
    assert_eq!(s, previous[0]);
}

#[test]
fn previous_termination_carried_when_the_record_is_gone() {
    let mut old = exited("app", 1);
    old.container_id = Some("containerd://c1".into());
    old.restart_count = 4;
    let rt = runtime(vec![rt_running("app", "c2", 20, 1)]);
    let s = only(&pod(&["app"]), &rt, &ReasonCache::new(), &[old]);
    assert_eq!(last_term(&s).map(|t| t.exit_code), Some(1));
    assert_eq!(
        s.restart_count, 5,
        "the old count wins and the restart is counted"
    );
}

#[test]
fn started_is_kept_for_running_containers() {
    let previous = vec![running_started("app", true)];
    let s = only(
        &pod(&["app"]),
        &runtime(vec![rt_running("app", "c1", 10, 0)]),
        &ReasonCache::new(),
        &previous,
    );
    assert_eq!(s.started, Some(true));
}

#[test]
fn init_containers() {
    let p = with_init(with_init(pod(&["app"]), "first"), "second");
    let mut reasons = ReasonCache::new();
    reasons.set("first", StartFailure::RunContainerError, "boom");
    let rt = runtime(vec![
        rt_exited("first", "i1", 10, 0, "Completed"),
        rt_running("second", "i2", 20, 0),
    ]);
    let init = convert_init(&p, &rt, &reasons, &[]);
    let names: Vec<&str> = init.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["first", "second"], "spec order");
    assert_eq!(
        terminated_of(&init[0]).reason.as_deref(),
        Some("Completed"),
        "exit 0 is never overridden"
    );
    // Records garbage-collected after the app container was created: assumed done.
    let rt = runtime(vec![rt_running("app", "a1", 30, 0)]);
    let init = convert_init(&p, &rt, &ReasonCache::new(), &[]);
    for s in &init {
        assert_eq!(
            (
                terminated_of(s).exit_code,
                terminated_of(s).reason.as_deref()
            ),
            (0, Some("Completed"))
        );
    }
}

#[test]
fn app_statuses_sorted_by_name_with_mounts() {
    let mut p = pod(&["zeta", "alpha"]);
    p.spec.containers[0].volume_mounts.push(VolumeMount {
        name: "data".into(),
        mount_path: "/data".into(),
        read_only: Some(true),
        ..Default::default()
    });
    let all = convert_app(&p, &runtime(vec![]), &ReasonCache::new(), &[]);
    let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["alpha", "zeta"]);
    let mount = &all[1].volume_mounts[0];
    assert_eq!(
        (mount.read_only, mount.recursive_read_only.as_deref()),
        (Some(true), Some("Disabled"))
    );
}
