//! The manager thread end to end, on disk-backed volumes in a scratch root.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::json;

use super::*;
use crate::api::core::{ConfigMap, Secret, Service};
use crate::events::EventType;
use crate::objects::ObjectKind;
use crate::volume::testutil::{Scratch, pod};

#[derive(Default)]
struct Objects(Mutex<BTreeMap<String, String>>);

impl EnvSources for Objects {
    fn config_map(&self, _: &str, name: &str) -> Result<Option<ConfigMap>, String> {
        let value = self.0.lock().expect("lock").get(name).cloned();
        Ok(value.map(|v| serde_json::from_value(json!({"data": {"key": v}})).expect("cm")))
    }
    fn secret(&self, _: &str, _: &str) -> Result<Option<Secret>, String> {
        Ok(None)
    }
    fn services(&self, _: &str) -> Vec<Service> {
        Vec::new()
    }
}

#[derive(Default)]
struct Events(Mutex<Vec<String>>);

impl Recorder for Events {
    fn pod_event(&self, _: &Pod, _: &str, kind: EventType, reason: &str, message: &str) {
        self.0.lock().expect("lock").push(format!("{} {reason} {message}", kind.as_str()));
    }
}

struct Fixture {
    _root: Scratch,
    node: NodeContext,
    objects: Arc<Objects>,
    events: Arc<Events>,
    notes: Sender<ObjectChanged>,
    handle: VolumeHandle,
}

fn fixture(timeout: Duration) -> Fixture {
    let root = Scratch::new("mgr");
    let node = NodeContext { root_dir: root.path().to_path_buf(), ..NodeContext::default() };
    let objects = Arc::new(Objects::default());
    let events = Arc::new(Events::default());
    let (notes, changes) = crossbeam_channel::unbounded();
    let cfg = Config { mount_timeout: timeout, ..Config::new(node.clone(), Duration::from_secs(3600)) };
    let deps = Deps { objects: objects.clone(), tokens: None, changes: Some(changes), recorder: events.clone() };
    let handle = spawn(cfg, deps).expect("spawn");
    Fixture { _root: root, node, objects, events, notes, handle }
}

fn config_pod() -> Pod {
    pod(
        json!([{"name": "cfg", "configMap": {"name": "cm"}}, {"name": "scratch", "emptyDir": {}}]),
        json!([{"name": "cfg", "mountPath": "/cfg"}, {"name": "scratch", "mountPath": "/scratch"}]),
    )
}

fn never() -> bool {
    false
}

#[test]
fn ensure_waits_for_a_missing_config_map_and_times_out_like_upstream() {
    // Long enough for a retry even on a loaded machine: the backoff starts well under a second.
    let f = fixture(Duration::from_secs(4));
    let e = f.handle.ensure(&config_pod(), &never).expect_err("no config map");
    assert_eq!(
        e.to_string(),
        "unmounted volumes=[cfg], unattached volumes=[], failed to process volumes=[]: context deadline exceeded"
    );
    let events = f.events.0.lock().expect("lock").clone();
    assert!(events.len() >= 2, "retried with backoff: {events:?}");
    assert_eq!(events[0], "Warning FailedMount MountVolume.SetUp failed for volume \"cfg\" : configmap \"cm\" not found");

    f.objects.0.lock().expect("lock").insert("cm".into(), "v1".into());
    let pv = f.handle.ensure(&config_pod(), &never).expect("mounted once the config map exists");
    assert_eq!(pv.volumes.keys().collect::<Vec<_>>(), ["cfg", "scratch"]);
    assert_eq!(std::fs::read_to_string(pv.volumes["cfg"].host_path.join("key")).expect("key"), "v1");
}

#[test]
fn change_notes_refresh_content_and_teardown_removes() {
    let f = fixture(Duration::from_secs(10));
    f.objects.0.lock().expect("lock").insert("cm".into(), "v1".into());
    let pv = f.handle.ensure(&config_pod(), &never).expect("mounted");
    let key = pv.volumes["cfg"].host_path.join("key");
    f.objects.0.lock().expect("lock").insert("cm".into(), "v2".into());
    f.notes.send(ObjectChanged { kind: ObjectKind::ConfigMap, namespace: "prod".into(), name: "cm".into() }).expect("note");
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string(&key).ok().as_deref() != Some("v2") {
        assert!(Instant::now() < deadline, "refreshed after the change note");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A note for another namespace changes nothing.
    f.objects.0.lock().expect("lock").insert("cm".into(), "v3".into());
    f.notes.send(ObjectChanged { kind: ObjectKind::ConfigMap, namespace: "other".into(), name: "cm".into() }).expect("note");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(std::fs::read_to_string(&key).expect("key"), "v2");

    f.handle.teardown("u-1").expect("teardown");
    assert!(!pv.volumes["cfg"].host_path.exists() && !pv.volumes["scratch"].host_path.exists());
    assert!(!crate::kuberuntime::paths::volumes_dir(&f.node, "u-1").exists());
    f.handle.teardown("u-1").expect("twice is fine");
}

#[test]
fn a_new_pod_object_rewrites_downward_files() {
    let f = fixture(Duration::from_secs(10));
    if !crate::volume::testutil::can_mount() {
        return;
    }
    let mut p = pod(
        json!([{"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}}]),
        json!([{"name": "info", "mountPath": "/info"}]),
    );
    let pv = f.handle.ensure(&p, &never).expect("mounted");
    let labels = pv.volumes["info"].host_path.join("labels");
    assert_eq!(std::fs::read_to_string(&labels).expect("labels"), "app=\"web\"");
    p.metadata.labels.insert("tier".into(), "x".into());
    f.handle.ensure(&p, &never).expect("still mounted");
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::fs::read_to_string(&labels).expect("labels") != "app=\"web\"\ntier=\"x\"" {
        assert!(Instant::now() < deadline, "labels rewritten");
        std::thread::sleep(Duration::from_millis(20));
    }
    f.handle.teardown("u-1").expect("teardown");
    assert!(mount::MountTable::read().expect("table").mounts_under(&f.node.root_dir).is_empty());
}

#[test]
fn unsupported_volumes_fail_at_once_and_cancel_stops_waiting() {
    let f = fixture(Duration::from_secs(30));
    let p = pod(json!([{"name": "data", "nfs": {"server": "s", "path": "/"}}]), json!([{"name": "data", "mountPath": "/d"}]));
    let e = f.handle.ensure(&p, &never).expect_err("no plugin");
    assert!(matches!(e, VolumeError::Process { .. }), "{e}");
    let started = Instant::now();
    let e = f.handle.ensure(&config_pod(), &|| started.elapsed() > Duration::from_millis(200)).expect_err("cancelled");
    assert_eq!(e, VolumeError::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(5));
    let none = pod(json!([{"name": "unused", "emptyDir": {}}]), json!([]));
    assert!(f.handle.ensure(&none, &never).expect("nothing to mount").volumes.is_empty());
}

#[test]
fn orphans_are_cleaned_up_known_pods_kept() {
    let f = fixture(Duration::from_secs(10));
    f.objects.0.lock().expect("lock").insert("cm".into(), "v1".into());
    f.handle.ensure(&config_pod(), &never).expect("mounted");
    let orphan = crate::kuberuntime::paths::volumes_dir(&f.node, "orphan").join("kubernetes.io~empty-dir/x");
    std::fs::create_dir_all(&orphan).expect("orphan");
    // u-1 is not in `known`, but the manager knows it: kept.
    f.handle.cleanup_orphans(HashSet::new());
    let pods = f.node.root_dir.join("pods");
    let deadline = Instant::now() + Duration::from_secs(5);
    while pods.join("orphan").exists() {
        assert!(Instant::now() < deadline, "orphan removed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(pods.join("u-1/volumes/kubernetes.io~configmap/cfg/key").exists());
}
