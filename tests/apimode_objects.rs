//! The Secret/ConfigMap managers, the Service cache and the event recorder against the real
//! test control plane (`scripts/test-cluster.sh up`). Its facts come from the environment or
//! `$RK_CLUSTER_DIR/env` (default `/var/lib/rk-cluster/env`); without them, or with the
//! cluster down: SKIPPED.
//!
//! It acts as a node of its own (`t-objs-<pid>`): a Node object and a kubelet kubeconfig for
//! it, and a pod bound to it that references a Secret and ConfigMaps, so the Node authorizer
//! lets that node read exactly those. Everything is deleted at the end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rkubelet::api::core::{ConfigMap, Pod};
use rkubelet::events::api::{ApiRecorder, EventsConfig};
use rkubelet::events::{EventType, Recorder};
use rkubelet::kubeclient::{Client, ClientOptions, DeleteOptions, ResourcePath};
use rkubelet::objects::{ApiObjects, ObjectChanged, ObjectKind, ObjectManager, ObjectsConfig, Strategy};
use serde_json::{Value, json};

struct Cluster {
    admin: Client,
    kubectl: PathBuf,
    /// The rk-cluster binary (it makes kubeconfigs for other node names).
    rk_cluster: PathBuf,
    dir: PathBuf,
}

fn cluster() -> Option<Cluster> {
    let dir = std::env::var("RK_CLUSTER_DIR").unwrap_or_else(|_| "/var/lib/rk-cluster".into());
    let mut facts: BTreeMap<String, String> = std::fs::read_to_string(Path::new(&dir).join("env"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    for key in ["KUBECONFIG", "KUBECTL"] {
        if let Some(v) = std::env::var_os(key).filter(|v| !v.is_empty()) {
            facts.insert(key.into(), v.to_string_lossy().into_owned());
        }
    }
    let (Some(kubeconfig), Some(kubectl)) = (facts.get("KUBECONFIG"), facts.get("KUBECTL")) else {
        println!("SKIPPED: no test cluster (run scripts/test-cluster.sh up)");
        return None;
    };
    let admin =
        Client::from_kubeconfig(Path::new(kubeconfig), None, ClientOptions::default()).expect("admin client");
    if admin.raw("/readyz").is_err() {
        println!("SKIPPED: the test cluster in {kubeconfig} does not answer (scripts/test-cluster.sh up)");
        return None;
    }
    // The kubectl wrapper is `exec "<rk-cluster>" kubectl ...`.
    let wrapper = std::fs::read_to_string(kubectl).expect("read the kubectl wrapper");
    let rk_cluster = wrapper
        .lines()
        .find_map(|l| l.strip_prefix("exec \"")?.split('"').next().map(PathBuf::from))
        .expect("rk-cluster binary in the kubectl wrapper");
    let dir = Path::new(kubeconfig).parent().expect("cluster dir").to_path_buf();
    Some(Cluster { admin, kubectl: kubectl.into(), rk_cluster, dir })
}

impl Cluster {
    fn kubectl(&self, args: &[&str]) -> String {
        let out = Command::new(&self.kubectl).args(args).output().expect("run kubectl");
        assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn node_client(&self, node: &str) -> (Client, PathBuf) {
        let out = Command::new(&self.rk_cluster)
            .args(["kubelet-kubeconfig", "--dir"])
            .arg(&self.dir)
            .args(["--node-name", node])
            .output()
            .expect("rk-cluster kubelet-kubeconfig");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        (Client::from_kubeconfig(&path, None, ClientOptions::default()).expect("node client"), path)
    }

    fn create(&self, resource: &str, ns: Option<&str>, object: Value) {
        let mut path = ResourcePath::core(resource);
        if let Some(ns) = ns {
            path = path.namespace(ns);
        }
        let _: Value = self.admin.create(&path, &object).unwrap_or_else(|e| panic!("create {resource}: {e}"));
    }
}

fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn managers_services_and_events_against_the_real_api_server() {
    let Some(c) = cluster() else { return };
    let node = format!("t-objs-{}", std::process::id());
    let ns = node.clone();
    c.create("nodes", None, json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}}));
    c.create("namespaces", None, json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
    let (node_client, kubeconfig) = c.node_client(&node);
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| steps(&c, &node_client, &node, &ns)));
    for (what, path) in [
        ("namespace", ResourcePath::core("namespaces").name(&ns)),
        ("node", ResourcePath::core("nodes").name(&node)),
    ] {
        if let Err(e) = c.admin.delete(&path, &DeleteOptions::default()) {
            println!("cleanup: deleting {what} {node}: {e}");
        }
    }
    let _ = c.kubectl(&[
        "delete",
        "events",
        "-n",
        "default",
        "--field-selector",
        &format!("involvedObject.name={node}"),
    ]);
    let _ = std::fs::remove_file(kubeconfig);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn steps(c: &Cluster, node_client: &Client, node: &str, ns: &str) {
    c.create("configmaps", Some(ns), json!({"metadata": {"name": "cm1"}, "data": {"k": "v1"}}));
    c.create("configmaps", Some(ns), json!({"metadata": {"name": "unreferenced"}, "data": {"k": "x"}}));
    c.create("secrets", Some(ns), json!({"metadata": {"name": "s1"}, "stringData": {"password": "hunter2"}}));
    c.create("services", Some(ns), json!({"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}));
    let pod_spec = json!({
        "metadata": {"name": "p1"},
        "spec": {"nodeName": node, "automountServiceAccountToken": false, "containers": [{
            "name": "c", "image": "busybox",
            "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm1", "key": "k"}}},
                    {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "cm-later", "key": "k", "optional": true}}}],
            "envFrom": [{"secretRef": {"name": "s1"}}]}]}
    });
    // The namespace's default ServiceAccount comes from the controller manager, a moment later.
    let pods = ResourcePath::core("pods").namespace(ns);
    let pod_spec: Pod = serde_json::from_value(pod_spec).expect("pod");
    let pod: Pod = eventually("the pod to be created", || c.admin.create(&pods, &pod_spec).ok());

    let objects = ApiObjects::spawn(node_client, &ObjectsConfig::default()).expect("spawn managers");
    let err = objects.config_map(ns, "cm1").expect_err("nothing registered yet");
    assert!(err.contains("not registered"), "{err}");

    objects.register_pod(&pod);
    let cm = objects.config_map(ns, "cm1").expect("read cm1").expect("cm1 exists");
    assert_eq!(cm.data.get("k").map(String::as_str), Some("v1"));
    let secret = objects.secret(ns, "s1").expect("read s1").expect("s1 exists");
    assert_eq!(secret.data.get("password").map(|b| b.0.as_slice()), Some(&b"hunter2"[..]));
    assert_eq!(objects.config_map(ns, "cm-later").expect("a missing referenced object"), None);
    assert!(objects.config_map(ns, "unreferenced").is_err(), "not referenced: not readable");

    // Changes reach subscribers, and reads see them.
    let (tx, changes) = crossbeam_channel::unbounded();
    objects.subscribe(tx);
    c.kubectl(&["patch", "configmap", "cm1", "-n", ns, "-p", r#"{"data":{"k":"v2"}}"#]);
    let note = changes.recv_timeout(Duration::from_secs(30)).expect("a change note for cm1");
    assert_eq!(note, ObjectChanged { kind: ObjectKind::ConfigMap, namespace: ns.into(), name: "cm1".into() });
    let cm = objects.config_map(ns, "cm1").expect("read").expect("exists");
    assert_eq!(cm.data.get("k").map(String::as_str), Some("v2"));
    c.create("configmaps", Some(ns), json!({"metadata": {"name": "cm-later"}, "data": {"k": "late"}}));
    let note = changes.recv_timeout(Duration::from_secs(30)).expect("a note for the created cm-later");
    assert_eq!(note.name, "cm-later");
    assert!(objects.config_map(ns, "cm-later").expect("read").is_some());

    other_strategies(node_client, &pod, ns);

    // Services of the namespace, and `kubernetes` from default.
    assert!(objects.services_synced());
    let names = eventually("the Service web", || {
        let names: Vec<String> = objects
            .services(ns)
            .iter()
            .map(|s| format!("{}/{}", s.metadata.namespace(), s.metadata.name()))
            .collect();
        names.contains(&format!("{ns}/web")).then_some(names)
    });
    assert!(names.contains(&"default/kubernetes".to_string()), "{names:?}");

    objects.unregister_pod(&pod);
    assert!(objects.config_map(ns, "cm1").is_err(), "released with its last pod");

    events(c, node_client, &pod, node, ns);
}

/// Cache (TTL) and Get strategies read the same objects.
fn other_strategies(node_client: &Client, pod: &Pod, ns: &str) {
    for strategy in [Strategy::Cache, Strategy::Get] {
        let config = ObjectsConfig { strategy, ..ObjectsConfig::default() };
        let manager = ObjectManager::<ConfigMap>::spawn(node_client.clone(), &config).expect("spawn");
        manager.register_pod(pod);
        let cm = manager.get(ns, "cm1").expect("read").expect("exists");
        assert_eq!(cm.data.get("k").map(String::as_str), Some("v2"), "{strategy:?}");
        // Cache: not registered; Get: the Node authorizer refuses it.
        let refused = manager.get(ns, "unreferenced").expect_err("an unreferenced object");
        println!("{strategy:?}: unreferenced: {refused}");
    }
}

fn events(c: &Cluster, node_client: &Client, pod: &Pod, node: &str, ns: &str) {
    let config = EventsConfig { node_name: node.into(), qps: 50.0, burst: 100, queue: 1000 };
    let recorder = ApiRecorder::spawn(node_client.clone(), config).expect("spawn recorder");
    let find = |namespace: &str, reason: &str| -> Option<Value> {
        let list: Value =
            serde_json::from_str(&c.kubectl(&["get", "events", "-n", namespace, "-o", "json"])).ok()?;
        list["items"].as_array()?.iter().find(|e| e["reason"] == reason).cloned()
    };

    recorder.pod_event(pod, "spec.containers{c}", EventType::Normal, "RkTest", "hello from rkubelet");
    assert!(recorder.flush(Duration::from_secs(30)));
    let first = eventually("the event", || find(ns, "RkTest"));
    assert_eq!(first["count"], 1);
    assert_eq!(first["involvedObject"]["uid"], pod.metadata.uid());
    assert_eq!(first["involvedObject"]["fieldPath"], "spec.containers{c}");
    assert_eq!(first["source"], json!({"component": "kubelet", "host": node}));
    assert_eq!(first["reportingInstance"], node);

    recorder.pod_event(pod, "spec.containers{c}", EventType::Normal, "RkTest", "hello from rkubelet");
    assert!(recorder.flush(Duration::from_secs(30)));
    let again = eventually("the count to go up", || find(ns, "RkTest").filter(|e| e["count"] == 2));
    assert_eq!(again["metadata"]["name"], first["metadata"]["name"], "the same Event object, patched");

    recorder.node_event(node, node, EventType::Normal, "RkNodeTest", "node says hi");
    assert!(recorder.flush(Duration::from_secs(30)));
    let n = eventually("the node event", || {
        find("default", "RkNodeTest").filter(|e| e["involvedObject"]["name"] == node)
    });
    assert_eq!(n["involvedObject"]["kind"], "Node");
    assert_eq!(n["involvedObject"]["uid"], node);
}
