//! sync_pod against the in-memory runtime: what gets created, started, killed, recorded.

use std::time::Duration;

use crate::api::core::{ExecAction, Lifecycle, LifecycleHandler};
use crate::grpc::Code;
use crate::kuberuntime::harness::{Harness, pod};
use crate::kuberuntime::hash::container_hash;
use crate::kuberuntime::{ContainerState, SandboxState};
use crate::status::StartFailure;

fn failure(h: &Harness, name: &str) -> Option<StartFailure> {
    h.reasons.get(name).map(|r| r.failure)
}

#[test]
fn a_new_pod_gets_a_sandbox_and_its_containers() {
    let mut h = Harness::new("new");
    h.fake.add_image("busybox:1.35");
    let p = pod("uid-new", &["a", "b"]);
    let r = h.sync(&p);
    assert!(r.changed && r.error.is_none() && r.requeue_after.is_none(), "{r:?}");

    let s = h.status("uid-new");
    assert_eq!((s.name.as_str(), s.namespace.as_str()), ("web", "default"));
    assert_eq!(s.sandboxes.len(), 1);
    assert_eq!(s.sandboxes[0].state, SandboxState::Ready);
    assert_eq!(s.ips.len(), 1, "{s:?}");
    let a = s.container("a").expect("a exists");
    assert_eq!(a.state, Some(ContainerState::Running));
    assert_eq!((a.restart_count, a.hash), (0, container_hash(&p.spec.containers[0])));
    assert_eq!(a.termination_message_path, "/dev/termination-log");
    assert!(a.log_path.ends_with("default_web_uid-new/a/0.log"), "{}", a.log_path);
    assert_eq!(s.running().count(), 2);

    let reasons = h.events.reasons();
    assert_eq!(reasons, vec!["Pulled", "Created", "Started", "Pulled", "Created", "Started"]);
    assert!(h.reasons.is_empty());
    // The pod's directories and files on the host.
    let node = h.runtime.node();
    assert!(node.root_dir.join("pods/uid-new/volumes").is_dir());
    assert!(node.root_dir.join("pods/uid-new/etc-hosts").is_file());
    assert!(node.pod_logs_dir.join("default_web_uid-new").is_dir());
    let termination_files =
        std::fs::read_dir(node.root_dir.join("pods/uid-new/containers/a")).expect("dir").count();
    assert_eq!(termination_files, 1);

    // Nothing to do the second time.
    let r = h.sync(&p);
    assert!(!r.changed && r.error.is_none(), "{r:?}");
    assert!(h.events.take().is_empty());
}

#[test]
fn a_crashing_container_restarts_with_growing_backoff() {
    let mut h = Harness::new("crash");
    h.fake.add_image("busybox:1.35");
    let p = pod("uid-crash", &["a"]);
    h.sync(&p);
    let mut expected_delay = None;
    for round in 1..=4u32 {
        let (id, _) = h.fake.newest("a").expect("a");
        h.advance(Duration::from_secs(1));
        h.fake.exit(&id, 1);
        let r = h.sync(&p);
        if let Some(delay) = expected_delay {
            // In backoff: not restarted, the reason says so, and the next sync is due when it ends.
            assert_eq!(failure(&h, "a"), Some(StartFailure::CrashLoopBackOff), "round {round}");
            let message = &h.reasons.get("a").expect("reason").message;
            assert!(
                message.starts_with(&format!("back-off {}s restarting failed container=a", delay)),
                "{message}"
            );
            assert_eq!(r.requeue_after, Some(Duration::from_secs(delay)));
            assert!(r.error.as_deref().is_some_and(|e| e.contains("CrashLoopBackOff")), "{r:?}");
            assert!(h.events.reasons().contains(&"BackOff".to_string()));
            // The runtime's clock runs a few ms ahead of the kubelet's: wait a second more.
            h.advance(Duration::from_secs(delay + 1));
            h.sync(&p);
        }
        assert!(h.reasons.get("a").is_none(), "round {round}: started, reason cleared");
        let a = h.status("uid-crash");
        let a = a.container("a").expect("a");
        assert_eq!((a.state, a.restart_count), (Some(ContainerState::Running), round));
        expected_delay = Some(10 * 2u64.pow(round - 1));
    }
}

#[test]
fn init_containers_run_one_after_another() {
    let mut h = Harness::new("init");
    h.fake.add_image("busybox:1.35");
    let mut p = pod("uid-init", &["app"]);
    let mut init = p.spec.containers[0].clone();
    init.name = "i1".into();
    p.spec.init_containers = vec![init.clone(), {
        init.name = "i2".into();
        init
    }];
    h.sync(&p);
    let started = |h: &Harness| -> Vec<String> {
        let s = h.status("uid-init");
        let mut names: Vec<String> = s.containers.iter().map(|c| c.name.clone()).collect();
        names.sort();
        names
    };
    assert_eq!(started(&h), vec!["i1"]);
    h.sync(&p);
    assert_eq!(started(&h), vec!["i1"], "i1 still runs: nothing new");
    h.fake.exit(&h.fake.newest("i1").expect("i1").0, 0);
    h.sync(&p);
    assert_eq!(started(&h), vec!["i1", "i2"]);
    h.fake.exit(&h.fake.newest("i2").expect("i2").0, 0);
    h.sync(&p);
    assert_eq!(started(&h), vec!["app", "i1", "i2"]);
}

#[test]
fn image_failures_become_waiting_reasons() {
    let mut h = Harness::new("image");
    let p = pod("uid-img", &["a"]);
    let r = h.sync(&p);
    assert_eq!(failure(&h, "a"), Some(StartFailure::ErrImagePull));
    assert!(
        r.error
            .as_deref()
            .is_some_and(|e| e.starts_with("failed to \"StartContainer\" for \"a\" with ErrImagePull"))
    );
    assert!(h.events.take().contains(&("Failed".into(), "Error: ErrImagePull".into())));
    let r = h.sync(&p);
    assert_eq!(failure(&h, "a"), Some(StartFailure::ImagePullBackOff));
    assert_eq!(r.requeue_after, Some(Duration::from_secs(10)));
    // Once the image can be pulled and the backoff is over, the container starts.
    h.fake.lock().registry.insert("busybox:1.35".into(), "sha256:bb".into());
    h.advance(Duration::from_secs(10));
    h.sync(&p);
    assert!(h.reasons.is_empty());
    assert_eq!(h.status("uid-img").running().count(), 1);
}

#[test]
fn runtime_failures_are_reported_per_step() {
    let mut h = Harness::new("fail");
    h.fake.add_image("busybox:1.35");
    let p = pod("uid-fail", &["a"]);
    h.fake.fail("RunPodSandbox", Code::Unknown, "cni is down");
    let r = h.sync(&p);
    let e = r.error.expect("sandbox error");
    assert!(
        e.starts_with(
            "failed to \"CreatePodSandbox\" for \"web_default(uid-fail)\" with CreatePodSandboxError"
        ),
        "{e}"
    );
    assert!(e.contains("cni is down"), "{e}");
    assert_eq!(
        h.events.take(),
        vec![(
            "FailedCreatePodSandBox".into(),
            "Failed to create pod sandbox: rpc error: code = Unknown desc = cni is down".into()
        )]
    );
    h.fake.heal("RunPodSandbox");

    h.fake.fail("CreateContainer", Code::Unknown, "no space left");
    h.sync(&p);
    assert_eq!(
        h.reasons.get("a").map(|r| (r.failure, r.message.as_str())),
        Some((StartFailure::CreateContainerError, "no space left"))
    );
    h.fake.heal("CreateContainer");

    h.fake.fail("StartContainer", Code::Unknown, "exec format error");
    h.sync(&p);
    assert_eq!(failure(&h, "a"), Some(StartFailure::RunContainerError));
    h.fake.heal("StartContainer");
}

#[test]
fn a_failing_post_start_hook_kills_the_container() {
    let mut h = Harness::new("poststart");
    h.fake.add_image("busybox:1.35");
    let mut p = pod("uid-hook", &["a"]);
    p.spec.containers[0].lifecycle = Some(Lifecycle {
        post_start: Some(LifecycleHandler {
            exec: Some(ExecAction { command: vec!["false".into()] }),
            ..Default::default()
        }),
        ..Default::default()
    });
    h.fake.lock().exec_exit.insert("false".into(), 1);
    h.sync(&p);
    assert_eq!(failure(&h, "a"), Some(StartFailure::PostStartHookError));
    let events = h.events.take();
    assert!(events.contains(&("FailedPostStartHook".into(), "PostStartHook failed".into())), "{events:?}");
    assert!(events.contains(&("Killing".into(), "FailedPostStartHook".into())), "{events:?}");
    let (_, c) = h.fake.newest("a").expect("a");
    assert_eq!(c.stop_timeout, Some(30));
}

#[test]
fn a_changed_spec_replaces_the_container() {
    let mut h = Harness::new("change");
    h.fake.add_image("busybox:1.35");
    h.fake.add_image("busybox:1.36");
    let mut p = pod("uid-chg", &["a"]);
    h.sync(&p);
    let (old, _) = h.fake.newest("a").expect("a");
    h.events.take();
    p.spec.containers[0].image = Some("busybox:1.36".into());
    h.sync(&p);
    let events = h.events.take();
    assert!(
        events.contains(&("Killing".into(), "Container a definition changed, will be restarted".into())),
        "{events:?}"
    );
    let s = h.status("uid-chg");
    assert_eq!(s.containers.len(), 2);
    let new = s.container("a").expect("a");
    assert_ne!(new.id, old);
    assert_eq!((new.state, new.restart_count), (Some(ContainerState::Running), 1));
    assert_eq!(s.containers[1].state, Some(ContainerState::Exited));
}

#[test]
fn a_dead_sandbox_is_replaced() {
    let mut h = Harness::new("sandbox");
    h.fake.add_image("busybox:1.35");
    let p = pod("uid-sb", &["a"]);
    h.sync(&p);
    let first = h.status("uid-sb").sandboxes[0].id.clone();
    h.fake
        .client()
        .stop_pod_sandbox(&crate::cri::StopPodSandboxRequest { pod_sandbox_id: first.clone() })
        .expect("stop");
    h.events.take();
    h.sync(&p);
    assert_eq!(
        h.events.take().first(),
        Some(&("SandboxChanged".into(), "Pod sandbox changed, it will be killed and re-created.".into()))
    );
    let s = h.status("uid-sb");
    assert_eq!(s.sandboxes.len(), 2);
    assert_eq!((s.sandboxes[0].state, s.sandboxes[0].attempt), (SandboxState::Ready, 1));
    let a = s.container("a").expect("a");
    assert_eq!((a.state, a.sandbox_id.as_str()), (Some(ContainerState::Running), s.sandboxes[0].id.as_str()));

    // GC keeps the newest dead instance, and drops the old sandbox once it holds nothing.
    h.runtime.cleanup_dead_containers(&p, &s).expect("cleanup");
    let after = h.status("uid-sb");
    assert_eq!(after.containers.len(), 2);
    assert_eq!(after.sandboxes.len(), 2, "the old sandbox still holds the dead container");
}

#[test]
fn a_cancelled_sync_stops_before_starting() {
    let mut h = Harness::new("cancel");
    h.fake.add_image("busybox:1.35");
    let p = pod("uid-cancel", &["a"]);
    let status = h.status("uid-cancel");
    let mut ctx = crate::kuberuntime::SyncContext {
        backoff: &mut h.backoff,
        reasons: &mut h.reasons,
        mounts: &crate::kuberuntime::no_mounts,
        env: &crate::kuberuntime::NoEnvSources,
        pull_secrets: &[],
        verdicts: &crate::kuberuntime::all_healthy,
        cancel: &|| true,
    };
    let r = h.runtime.sync_pod(&p, &status, &mut ctx);
    assert!(!r.changed);
    assert_eq!(h.fake.count("RunPodSandbox"), 0);
}

#[test]
fn exited_containers_carry_their_termination_message() {
    let mut h = Harness::new("term");
    h.fake.add_image("busybox:1.35");
    let p = pod("uid-term", &["a"]);
    h.sync(&p);
    let (id, c) = h.fake.newest("a").expect("a");
    let mount = c.config.mounts.iter().find(|m| m.container_path == "/dev/termination-log").expect("mounted");
    std::fs::write(&mount.host_path, "bye now").expect("write");
    h.fake.exit(&id, 3);
    let s = h.status("uid-term");
    let a = s.container("a").expect("a");
    assert_eq!((a.exit_code, a.reason.as_str(), a.message.as_str()), (3, "Error", "bye now"));
}

#[test]
fn ephemeral_containers_join_their_target_and_never_restart() {
    let mut h = Harness::new("ephemeral");
    h.fake.add_image("busybox:1.35");
    let mut p = pod("uid-eph", &["a"]);
    h.sync(&p);
    let target = h.fake.newest("a").expect("a").0;
    let mut debug = p.spec.containers[0].clone();
    debug.name = "debug".into();
    p.spec.ephemeral_containers =
        vec![crate::api::core::EphemeralContainer { common: debug, target_container_name: Some("a".into()) }];
    h.sync(&p);
    let (id, c) = h.fake.newest("debug").expect("debug started");
    let ns = c
        .config
        .linux
        .and_then(|l| l.security_context)
        .and_then(|s| s.namespace_options)
        .expect("namespaces");
    assert_eq!((ns.pid, ns.target_id.as_str()), (crate::cri::NamespaceMode::TARGET, target.as_str()));
    h.fake.exit(&id, 0);
    h.sync(&p);
    assert_eq!(h.fake.count("CreateContainer"), 2, "not started again");
}
