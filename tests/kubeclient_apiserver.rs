//! The client against the real test control plane. `scripts/test-cluster.sh up` prints the
//! `KUBECONFIG=` line this test needs (without it: SKIPPED), and the optional
//! `KUBELET_KUBECONFIG=` (403 for a node) and `BOOTSTRAP_KUBECONFIG=` (bootstrap token) ones.
//!
//! One test, in steps, so that the steps share one namespace and one reflector.

mod kubeclient_support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, unbounded};
use rkubelet::kubeclient::kubeconfig::Kubeconfig;
use rkubelet::kubeclient::reflector;
use rkubelet::kubeclient::{
    Client, ClientOptions, DeleteOptions, ListOptions, ObjectList, PatchKind, PatchParams, Preconditions,
    ReflectorConfig, ReflectorEvent, ResourcePath, WatchOptions,
};
use serde_json::json;

use kubeclient_support::{ConfigMap, Meta};

fn kubeconfig() -> Option<PathBuf> {
    match std::env::var_os("KUBECONFIG") {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => {
            println!("SKIPPED: KUBECONFIG not set (run scripts/test-cluster.sh up and export its KUBECONFIG= line)");
            None
        }
    }
}

/// The next event about `name` (snapshots and other objects are skipped).
fn next_about(rx: &Receiver<ReflectorEvent<ConfigMap>>, name: &str) -> ReflectorEvent<ConfigMap> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let ev = rx.recv_timeout(left).unwrap_or_else(|_| panic!("no event about {name} within 20 s"));
        let about = match &ev {
            ReflectorEvent::Added(c) | ReflectorEvent::Modified(c) | ReflectorEvent::Deleted(c) => &c.metadata.name,
            ReflectorEvent::Snapshot(_) => continue,
        };
        if about == name {
            return ev;
        }
    }
}

#[test]
fn against_the_real_api_server() {
    let Some(path) = kubeconfig() else { return };
    let client = Client::from_kubeconfig(&path, None, ClientOptions::default()).expect("client from KUBECONFIG");

    // The server answers, and lists namespaces.
    let version: serde_json::Value = serde_json::from_slice(&client.raw("/version").expect("version")).expect("json");
    assert!(version["gitVersion"].as_str().is_some_and(|v| v.starts_with("v1.")), "{version}");
    let namespaces: ObjectList<serde_json::Value> =
        client.list(&ResourcePath::core("namespaces"), &ListOptions::default()).expect("list namespaces");
    let names: Vec<&str> = namespaces.items.iter().filter_map(|n| n["metadata"]["name"].as_str()).collect();
    assert!(names.contains(&"default") && names.contains(&"kube-system"), "{names:?}");
    assert!(!namespaces.metadata.resource_version.is_empty());

    // A namespace of our own.
    let ns = format!("rk-kubeclient-{}", std::process::id());
    let _: serde_json::Value = client
        .create(
            &ResourcePath::core("namespaces"),
            &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )
        .expect("create namespace");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| steps(&client, &ns)));
    let gone = client.delete(&ResourcePath::core("namespaces").name(&ns), &DeleteOptions::default());
    if let Err(e) = gone {
        println!("cleanup: deleting namespace {ns}: {e}");
    }
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn steps(client: &Client, ns: &str) {
    let cms = ResourcePath::core("configmaps").namespace(ns);
    let (tx, rx) = unbounded::<ReflectorEvent<ConfigMap>>();
    let handle = reflector::spawn(client.clone(), ReflectorConfig::new("cm-e2e", cms.clone()), tx).expect("reflector");
    match rx.recv_timeout(Duration::from_secs(20)).expect("snapshot") {
        ReflectorEvent::Snapshot(items) => assert!(items.iter().all(|c| c.metadata.name != "cm1")),
        other => panic!("first event is not a snapshot: {other:?}"),
    }

    // Create → ADDED.
    let cm = ConfigMap {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        metadata: Meta { name: "cm1".into(), ..Default::default() },
        data: BTreeMap::from([("a".to_string(), "1".to_string())]),
    };
    let created = client.create(&cms, &cm).expect("create");
    let uid = created.metadata.uid.clone().expect("uid");
    match next_about(&rx, "cm1") {
        ReflectorEvent::Added(c) => assert_eq!(c.data.get("a").map(String::as_str), Some("1")),
        other => panic!("expected ADDED, got {other:?}"),
    }

    // Merge patch → MODIFIED.
    let one = cms.clone().name("cm1");
    let patched: ConfigMap = client
        .patch(&one, PatchKind::Merge, &json!({"data": {"b": "2"}}), &PatchParams::default())
        .expect("merge patch");
    assert_eq!(patched.data.len(), 2);
    match next_about(&rx, "cm1") {
        ReflectorEvent::Modified(c) => assert_eq!(c.data.get("b").map(String::as_str), Some("2")),
        other => panic!("expected MODIFIED, got {other:?}"),
    }

    // Strategic merge, JSON patch and server-side apply.
    let _: ConfigMap = client
        .patch(&one, PatchKind::StrategicMerge, &json!({"data": {"c": "3"}}), &PatchParams::default())
        .expect("strategic merge patch");
    let _: ConfigMap = client
        .patch(&one, PatchKind::Json, &json!([{"op": "remove", "path": "/data/a"}]), &PatchParams::default())
        .expect("json patch");
    let applied: ConfigMap = client
        .patch(
            &one,
            PatchKind::Apply,
            &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm1"}, "data": {"d": "4"}}),
            &PatchParams { field_manager: Some("rkubelet-test".into()), force: true },
        )
        .expect("apply patch");
    assert_eq!(applied.data.get("d").map(String::as_str), Some("4"));
    assert!(!applied.data.contains_key("a"));

    // A stale update is a conflict.
    let mut stale = created.clone();
    stale.data.insert("e".into(), "5".into());
    let e = client.update(&one, &stale).expect_err("stale resourceVersion");
    assert!(e.is_conflict(), "{e}");

    // A delete with a wrong uid precondition is refused; with the right one → DELETED.
    let wrong = DeleteOptions {
        preconditions: Some(Preconditions {
            uid: Some("00000000-0000-0000-0000-000000000000".into()),
            resource_version: None,
        }),
        ..Default::default()
    };
    let e = client.delete(&one, &wrong).expect_err("uid precondition");
    assert!(e.is_conflict(), "{e}");
    let right = DeleteOptions {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions { uid: Some(uid), resource_version: None }),
        propagation_policy: None,
    };
    client.delete(&one, &right).expect("delete");
    loop {
        match next_about(&rx, "cm1") {
            ReflectorEvent::Deleted(_) => break,
            ReflectorEvent::Modified(_) => continue, // the patches above
            other => panic!("expected DELETED, got {other:?}"),
        }
    }

    // 404 is not-found.
    let e = client.get::<ConfigMap>(&one).expect_err("deleted");
    assert!(e.is_not_found(), "{e}");

    let started = Instant::now();
    handle.stop();
    assert!(started.elapsed() < Duration::from_secs(3), "stopping the reflector took {:?}", started.elapsed());

    // Wrong credentials: 401. Same server and CA, a token nobody issued.
    let path = std::env::var_os("KUBECONFIG").map(PathBuf::from).expect("KUBECONFIG");
    let mut rest = Kubeconfig::load(&path).expect("load").rest_config(None).expect("rest");
    rest.client_certificate = None;
    rest.client_key = None;
    rest.token = Some("not-a-real-token".into());
    rest.token_file = None;
    let anonymous = Client::new(&rest, ClientOptions::default()).expect("client");
    let e = anonymous.get::<ConfigMap>(&one).expect_err("bad token");
    assert!(e.is_unauthorized(), "{e}");

    // A host name instead of the IP: found through our resolver (/etc/hosts), checked
    // against the certificate's DNS SANs; and tls-server-name with the IP.
    let mut by_name = Kubeconfig::load(&path).expect("load").rest_config(None).expect("rest");
    if let Some(port) = by_name.server.strip_prefix("https://127.0.0.1:").map(str::to_string) {
        by_name.server = format!("https://localhost:{port}");
        let c = Client::new(&by_name, ClientOptions::default()).expect("client");
        c.raw("/version").expect("https://localhost");
        by_name.server = format!("https://127.0.0.1:{port}");
        by_name.tls_server_name = Some("kubernetes.default.svc".into());
        let c = Client::new(&by_name, ClientOptions::default()).expect("client");
        c.raw("/version").expect("tls-server-name");
    } else {
        println!("SKIPPED (host name step): the server is not https://127.0.0.1:<port>");
    }

    // A short watch that the server ends: the iterator ends cleanly.
    let opts = WatchOptions { timeout_seconds: Some(1), allow_watch_bookmarks: true, ..Default::default() };
    let started = Instant::now();
    for event in client.watch::<ConfigMap>(&cms, &opts).expect("watch") {
        event.expect("event");
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(5), "watch took {took:?}");

    // A bootstrap token (the `token` of the bootstrap kubeconfig) is accepted: CSRs may be
    // listed with it (system:node-bootstrapper), which anonymous requests may not.
    if let Some(bootstrap) = std::env::var_os("BOOTSTRAP_KUBECONFIG").filter(|p| !p.is_empty()) {
        let c = Client::from_kubeconfig(std::path::Path::new(&bootstrap), None, ClientOptions::default())
            .expect("bootstrap client");
        let csrs = ResourcePath::new("certificates.k8s.io/v1", "certificatesigningrequests");
        c.list::<serde_json::Value>(&csrs, &ListOptions::default()).expect("list CSRs with the bootstrap token");
    } else {
        println!("SKIPPED (bootstrap token step): BOOTSTRAP_KUBECONFIG not set");
    }

    // A node's identity may not list every secret: 403 (only with the kubelet kubeconfig).
    if let Some(kubelet) = std::env::var_os("KUBELET_KUBECONFIG").filter(|p| !p.is_empty()) {
        let node = Client::from_kubeconfig(std::path::Path::new(&kubelet), None, ClientOptions::default())
            .expect("kubelet client");
        let e = node
            .list::<serde_json::Value>(&ResourcePath::core("secrets"), &ListOptions::default())
            .expect_err("node listing secrets");
        assert!(e.is_forbidden(), "{e}");
    } else {
        println!("SKIPPED (403 step): KUBELET_KUBECONFIG not set");
    }
}
