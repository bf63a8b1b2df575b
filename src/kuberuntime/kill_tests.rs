//! kill_pod and remove_pod against the in-memory runtime.

use super::*;
use crate::api::core::ExecAction;
use crate::kuberuntime::harness::{Harness, pod};

fn stop_timeouts(h: &Harness) -> Vec<(String, Option<i64>)> {
    let s = h.fake.lock();
    let mut v: Vec<_> = s
        .containers
        .values()
        .map(|c| (c.config.metadata.clone().unwrap_or_default().name, c.stop_timeout))
        .collect();
    v.sort();
    v
}

fn running_pod(h: &mut Harness, p: &Pod) -> PodStatus {
    h.fake.add_image("busybox:1.35");
    h.sync(p);
    h.events.take();
    h.status(p.metadata.uid())
}

#[test]
fn kill_pod_stops_containers_with_the_grace_period_then_the_sandbox() {
    let mut h = Harness::new("kill");
    let p = pod("uid-kill", &["a", "b"]);
    let status = running_pod(&mut h, &p);
    h.runtime.kill_pod(Some(&p), &status, None).expect("killed");
    assert_eq!(stop_timeouts(&h), vec![("a".into(), Some(30)), ("b".into(), Some(30))]);
    let events = h.events.take();
    assert!(events.contains(&("Killing".into(), "Stopping container a".into())), "{events:?}");
    let after = h.status("uid-kill");
    assert_eq!(after.running().count(), 0);
    assert_eq!(after.sandboxes[0].state, crate::kuberuntime::SandboxState::NotReady);
}

#[test]
fn grace_period_sources_and_minimum() {
    let mut p = pod("u", &["a"]);
    let c = p.spec.containers[0].clone();
    assert_eq!(grace_period(&p, &c, KillReason::Unknown), 30);
    p.spec.termination_grace_period_seconds = None;
    assert_eq!(grace_period(&p, &c, KillReason::Unknown), DEFAULT_TERMINATION_GRACE_PERIOD);
    let mut probed = c.clone();
    probed.liveness_probe =
        Some(crate::api::core::Probe { termination_grace_period_seconds: Some(5), ..Default::default() });
    assert_eq!(grace_period(&p, &probed, KillReason::LivenessProbe), 5);
    assert_eq!(grace_period(&p, &probed, KillReason::StartupProbe), DEFAULT_TERMINATION_GRACE_PERIOD);
    p.metadata.deletion_grace_period_seconds = Some(7);
    assert_eq!(grace_period(&p, &probed, KillReason::LivenessProbe), 7);

    let mut h = Harness::new("grace");
    let p = pod("uid-grace", &["a"]);
    let status = running_pod(&mut h, &p);
    h.runtime.kill_pod(Some(&p), &status, Some(0)).expect("killed");
    assert_eq!(stop_timeouts(&h), vec![("a".into(), Some(MINIMUM_GRACE_PERIOD))]);
}

#[test]
fn an_unknown_pod_is_killed_from_its_labels() {
    let mut h = Harness::new("orphan");
    let mut p = pod("uid-orphan", &["a"]);
    p.spec.termination_grace_period_seconds = Some(12);
    let status = running_pod(&mut h, &p);
    h.runtime.kill_pod(None, &status, None).expect("killed");
    assert_eq!(stop_timeouts(&h), vec![("a".into(), Some(12))]);
}

#[test]
fn pre_stop_runs_before_the_stop() {
    let mut h = Harness::new("prestop");
    let mut p = pod("uid-pre", &["a"]);
    p.spec.containers[0].lifecycle = Some(crate::api::core::Lifecycle {
        pre_stop: Some(LifecycleHandler {
            exec: Some(ExecAction { command: vec!["drain".into()] }),
            ..Default::default()
        }),
        ..Default::default()
    });
    let status = running_pod(&mut h, &p);
    h.fake.lock().calls.clear();
    h.runtime.kill_pod(Some(&p), &status, None).expect("killed");
    assert_eq!(h.fake.calls(), vec!["ExecSync", "StopContainer", "StopPodSandbox"]);
}

#[test]
fn sidecars_stop_after_the_app_containers() {
    let mut h = Harness::new("sidecar");
    let mut p = pod("uid-side", &["app"]);
    let mut side = p.spec.containers[0].clone();
    side.name = "side".into();
    side.restart_policy = Some("Always".into());
    p.spec.init_containers = vec![side];
    h.fake.add_image("busybox:1.35");
    h.sync(&p);
    h.sync(&p);
    let status = h.status("uid-side");
    assert_eq!(status.running().count(), 2, "{status:?}");
    h.fake.lock().calls.clear();
    h.runtime.kill_pod(Some(&p), &status, None).expect("killed");
    let stops: Vec<String> = h
        .fake
        .lock()
        .calls
        .iter()
        .filter(|(m, _)| m == "StopContainer")
        .map(|(_, req)| {
            use crate::proto::Message;
            cri::StopContainerRequest::decode(req).expect("request").container_id
        })
        .collect();
    let app = status.container("app").expect("app").id.clone();
    let side = status.container("side").expect("side").id.clone();
    assert_eq!(stops, vec![app, side]);
}

#[test]
fn remove_pod_leaves_nothing() {
    let mut h = Harness::new("remove");
    let p = pod("uid-rm", &["a", "b"]);
    let status = running_pod(&mut h, &p);
    h.runtime.remove_pod(&status).expect("removed");
    let s = h.fake.lock();
    assert!(s.containers.is_empty() && s.sandboxes.is_empty());
    drop(s);
    let node = h.runtime.node();
    assert!(!node.pod_logs_dir.join("default_web_uid-rm").exists());
    assert!(!node.root_dir.join("pods/uid-rm").exists());
}

#[test]
fn sidecars_take_their_turn_in_reverse_order_after_the_app_containers() {
    let mut p = pod("uid-order", &["app"]);
    p.spec.init_containers = ["s1", "s2", "s3"]
        .iter()
        .map(|n| Container { name: (*n).into(), restart_policy: Some("Always".into()), ..Default::default() })
        .collect();
    let order = Ordering::new(&p, &["app", "s1", "s2", "s3"]);
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::scope(|scope| {
        for name in ["s1", "s2", "s3"] {
            let (order, tx) = (&order, tx.clone());
            scope.spawn(move || {
                assert_eq!(order.wait_for_turn(name, 10), 0, "{name} waits far less than a second");
                tx.send(name).expect("send");
                order.terminated(name);
            });
        }
        std::thread::sleep(Duration::from_millis(50));
        tx.send("app").expect("send");
        order.terminated("app");
    });
    let got: Vec<&str> = rx.try_iter().collect();
    assert_eq!(got, ["app", "s3", "s2", "s1"]);
}

#[test]
fn a_sidecars_wait_ends_with_the_grace_period() {
    let mut p = pod("uid-wait", &["app"]);
    p.spec.init_containers =
        vec![Container { name: "side".into(), restart_policy: Some("Always".into()), ..Default::default() }];
    let order = Ordering::new(&p, &["app", "side"]);
    let start = Instant::now();
    assert_eq!(order.wait_for_turn("side", 1), 1, "waited the whole grace period for an app that never stops");
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(order.wait_for_turn("app", 1), 0, "app containers wait for nobody");
    let stopped = Ordering::new(&p, &["side"]);
    assert_eq!(stopped.wait_for_turn("side", 5), 0, "a container that is not running is no prerequisite");
}

#[test]
fn removing_a_container_removes_its_log_symlink() {
    let mut h = Harness::new("logsymlink");
    let p = pod("uid-link", &["app"]);
    let status = running_pod(&mut h, &p);
    let c = status.container("app").expect("app");
    let log = h.root.join("app.log");
    std::fs::write(&log, "x").expect("log");
    let node = h.runtime.node();
    let link = super::super::logsymlink::symlink_path(&node.container_logs_dir, "web", "default", "app", &c.id);
    super::super::logsymlink::create(&log, &link);
    assert!(std::fs::symlink_metadata(&link).is_ok());
    h.runtime.remove_pod(&status).expect("removed");
    assert!(std::fs::symlink_metadata(&link).is_err(), "the symlink went with its container");
}
