use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use super::*;
use crate::gc::PodState;
use crate::kuberuntime::harness::{Harness, pod};
use crate::kuberuntime::{ContainerState as C, SandboxState as S};
use crate::logs::testutil::TempDir;

fn sandbox(id: &str, state: S, created_at: i64) -> SandboxStatus {
    SandboxStatus { id: id.into(), state, created_at, attempt: 0, ips: vec![], host_network: false }
}

fn container(id: &str, name: &str, sandbox: &str, state: C) -> ContainerStatus {
    ContainerStatus {
        id: id.into(),
        name: name.into(),
        sandbox_id: sandbox.into(),
        state: Some(state),
        ..Default::default()
    }
}

/// IDs `evictable` picks, containers then sandboxes.
fn picked(status: &PodStatus, whole: bool) -> (Vec<&str>, Vec<&str>) {
    let e = evictable(status, whole);
    let mut cs: Vec<&str> = e.containers.iter().map(|c| c.id.as_str()).collect();
    cs.sort();
    (cs, e.sandboxes.iter().map(|s| s.id.as_str()).collect())
}

#[test]
fn evictable_selection() {
    // Newest first, as the runtime view keeps them.
    let status = PodStatus {
        uid: "u".into(),
        sandboxes: vec![
            sandbox("sb3", S::Ready, 30),
            sandbox("sb2", S::NotReady, 20),
            sandbox("sb1", S::NotReady, 10),
        ],
        containers: vec![
            container("app-4", "app", "sb3", C::Running),
            container("app-3", "app", "sb3", C::Exited),
            container("app-2", "app", "sb2", C::Exited),
            container("app-1", "app", "sb1", C::Exited),
            container("init-2", "init", "sb3", C::Exited),
            container("init-1", "init", "sb1", C::Created),
        ],
        ..Default::default()
    };
    struct Case {
        what: &'static str,
        whole: bool,
        containers: &'static [&'static str],
        sandboxes: &'static [&'static str],
    }
    let cases = [
        Case {
            what: "a pod that stays keeps its newest dead instance per name; created counts as dead; \
                   an idle old sandbox goes once its containers go",
            whole: false,
            containers: &["app-1", "app-2", "init-1"],
            sandboxes: &["sb2", "sb1"],
        },
        Case {
            what: "a pod that is gone loses every dead container; the ready sandbox with a running one stays",
            whole: true,
            containers: &["app-1", "app-2", "app-3", "init-1", "init-2"],
            sandboxes: &["sb2", "sb1"],
        },
    ];
    for c in cases {
        let (containers, sandboxes) = picked(&status, c.whole);
        assert_eq!((containers.as_slice(), sandboxes.as_slice()), (c.containers, c.sandboxes), "{}", c.what);
    }

    // An old sandbox that still holds the kept dead instance stays.
    let status = PodStatus {
        sandboxes: vec![sandbox("new", S::Ready, 2), sandbox("old", S::NotReady, 1)],
        containers: vec![container("a-1", "a", "old", C::Exited)],
        ..Default::default()
    };
    assert_eq!(picked(&status, false), (vec![], vec![]));
    // The newest sandbox is kept even when not ready, unless the pod is gone.
    let status = PodStatus { sandboxes: vec![sandbox("only", S::NotReady, 1)], ..Default::default() };
    assert_eq!(picked(&status, false), (vec![], vec![]));
    assert_eq!(picked(&status, true), (vec![], vec!["only"]));
}

fn labels(uid: &str, container: Option<&str>) -> BTreeMap<String, String> {
    let mut l = BTreeMap::from([
        (keys::POD_UID.to_string(), uid.to_string()),
        (keys::POD_NAME.to_string(), "web".to_string()),
        (keys::POD_NAMESPACE.to_string(), "default".to_string()),
    ]);
    if let Some(c) = container {
        l.insert(keys::CONTAINER_NAME.to_string(), c.to_string());
    }
    l
}

#[test]
fn lists_group_into_pods_newest_first() {
    let sb = |id: &str, uid: &str, at| cri::PodSandbox {
        id: id.into(),
        created_at: at,
        labels: if uid.is_empty() { BTreeMap::new() } else { labels(uid, None) },
        ..Default::default()
    };
    let ct = |id: &str, uid: &str, sandbox: &str, at| cri::Container {
        id: id.into(),
        pod_sandbox_id: sandbox.into(),
        created_at: at,
        state: cri::ContainerState::EXITED,
        image_ref: format!("sha256:{id}"),
        labels: labels(uid, Some("app")),
        ..Default::default()
    };
    let pods = group(
        &[sb("s1", "u1", 1), sb("s2", "u1", 5), sb("foreign", "", 3)],
        &[ct("c1", "u1", "s1", 2), ct("c2", "u1", "s2", 6), ct("c3", "u2", "gone", 4)],
    );
    assert_eq!(pods.keys().collect::<Vec<_>>(), ["u1", "u2"], "unlabelled objects are not ours");
    let u1 = &pods["u1"];
    assert_eq!((u1.name.as_str(), u1.namespace.as_str()), ("web", "default"));
    assert_eq!(u1.sandboxes.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["s2", "s1"]);
    assert_eq!(u1.containers.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["c2", "c1"]);
    assert_eq!((u1.containers[0].name.as_str(), u1.containers[0].state), ("app", Some(C::Exited)));
    assert!(pods["u2"].sandboxes.is_empty());
}

fn snapshot(ready: bool, pods: &[(&str, PodState)]) -> PodSnapshot {
    PodSnapshot {
        taken_at: SystemTime::UNIX_EPOCH + Duration::from_secs(100),
        sources_ready: ready,
        pods: pods.iter().map(|(u, s)| (u.to_string(), *s)).collect::<HashMap<_, _>>(),
    }
}

#[test]
fn judge_needs_a_ready_snapshot_and_nothing_newer() {
    let secs = |s: i64| s * 1_000_000_000;
    let mut pods = BTreeMap::new();
    let mut old = PodStatus { uid: "old".into(), ..Default::default() };
    old.sandboxes.push(sandbox("s", S::NotReady, secs(50)));
    let mut new = PodStatus { uid: "new".into(), ..Default::default() };
    new.containers.push(container("c", "app", "s", C::Exited));
    new.containers[0].created_at = secs(101);
    pods.insert("old".to_string(), old);
    pods.insert("new".to_string(), new);
    let alive = PodState { terminated: false, deleted: false };
    let s = snapshot(true, &[("kept", alive)]);
    let judge = Judge { snapshot: Some(&s), pods: &pods };
    assert!(judge.removable("old"));
    assert!(!judge.removable("new"), "created after the snapshot: maybe a pod it does not know yet");
    assert!(!judge.removable("kept"));
    assert!(judge.removable("only-logs"));
    let s = snapshot(false, &[]);
    assert!(!Judge { snapshot: Some(&s), pods: &pods }.removable("old"));
    assert!(!Judge { snapshot: None, pods: &pods }.removable("old"));
}

#[test]
fn log_dirs_of_removable_pods_go() {
    let dir = TempDir::new("gc-logdirs");
    for name in ["default_web_kept", "default_web_gone", "gone-old-style"] {
        std::fs::create_dir_all(dir.path().join(name).join("app")).expect("dir");
    }
    let alive = PodState { terminated: false, deleted: false };
    let mut s = snapshot(true, &[("kept", alive)]);
    s.taken_at = SystemTime::now() + Duration::from_secs(1);
    let pods = BTreeMap::new();
    let judge = Judge { snapshot: Some(&s), pods: &pods };
    assert_eq!(remove_log_dirs(dir.path(), &judge).expect("gc"), 2);
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["default_web_kept"]);

    // A directory newer than the snapshot stays: its pod may be newer too.
    std::fs::create_dir(dir.path().join("default_web_fresh")).expect("dir");
    s.taken_at = SystemTime::now() - Duration::from_secs(5);
    let judge = Judge { snapshot: Some(&s), pods: &pods };
    assert_eq!(remove_log_dirs(dir.path(), &judge).expect("gc"), 0);
}

#[test]
fn a_pass_over_the_runtime() {
    let mut h = Harness::new("gc-pass");
    h.fake.add_image("busybox:1.35");
    let mut p = pod("uid-gc", &["app"]);
    p.spec.restart_policy = Some("Always".into());
    h.sync(&p);
    // Three dead instances: crash, restart at once, crash, wait out the backoff, restart, crash.
    for _ in 0..3 {
        let (id, _) = h.fake.newest("app").expect("app");
        h.fake.exit(&id, 1);
        h.advance(Duration::from_secs(301));
        h.sync(&p);
    }
    let (id, _) = h.fake.newest("app").expect("app");
    h.fake.exit(&id, 1);
    let other = pod("uid-other", &["x"]);
    h.sync(&other);
    let (x, _) = h.fake.newest("x").expect("x");
    h.fake.exit(&x, 0);
    assert_eq!(h.status("uid-gc").containers.len(), 4);

    let alive = PodState { terminated: false, deleted: false };
    let s = PodSnapshot {
        taken_at: SystemTime::now(),
        ..snapshot(true, &[("uid-gc", alive), ("uid-other", alive)])
    };
    let selector = BTreeMap::new();
    let c = collect_containers(&h.runtime, &selector, Some(&s)).expect("gc");
    assert_eq!((c.containers, c.sandboxes), (3, 0));
    assert!(!c.image_refs.is_empty());
    let left = h.status("uid-gc");
    assert_eq!(left.containers.iter().map(|c| c.restart_count).collect::<Vec<_>>(), [3], "the newest stays");

    // uid-other is gone from the configuration and terminated: its dead container goes;
    // its sandbox still runs, so it stays until stopped.
    let gone = PodState { terminated: true, deleted: true };
    let s = PodSnapshot {
        taken_at: SystemTime::now(),
        ..snapshot(true, &[("uid-gc", alive), ("uid-other", gone)])
    };
    let c = collect_containers(&h.runtime, &selector, Some(&s)).expect("gc");
    assert_eq!((c.containers, c.sandboxes), (1, 0));
    let sb = h.status("uid-other").sandboxes[0].id.clone();
    h.fake.client().stop_pod_sandbox(&cri::StopPodSandboxRequest { pod_sandbox_id: sb }).expect("stop");
    let c = collect_containers(&h.runtime, &selector, Some(&s)).expect("gc");
    assert_eq!((c.containers, c.sandboxes), (0, 1));
    assert!(h.status("uid-other").sandboxes.is_empty());
    assert_eq!(h.status("uid-gc").containers.len(), 1);
}
