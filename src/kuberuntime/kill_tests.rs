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
