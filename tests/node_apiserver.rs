//! The Node, its status and its Lease against the real test control plane
//! (`scripts/test-cluster.sh up`; without `KUBECONFIG`: SKIPPED). The node under test has a
//! name of its own and its own kubelet kubeconfig, made with the `rk-cluster` binary of the
//! running instance (or `RK_CLUSTER_BIN`). The runtime is containerd when
//! `CONTAINER_RUNTIME_ENDPOINT` is set, else a fake CRI answering Version, Status and
//! ListImages.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rkubelet::api::MicroTime;
use rkubelet::api::coordination::Lease;
use rkubelet::api::core::{Event, Node, Taint};
use rkubelet::grpc::{self, Channel, Unary};
use rkubelet::kubeclient::{Client, ClientOptions, DeleteOptions, ListOptions, ObjectList, ResourcePath};
use rkubelet::nodestatus::{self, Config, Deps};
use rkubelet::proto::Message;
use rkubelet::{cri, version};

const NODE: &str = "t-nodeapi-1";
const CLUSTER_DIR: &str = "/var/lib/rk-cluster";

fn admin() -> Option<Client> {
    let Some(path) = std::env::var_os("KUBECONFIG").filter(|p| !p.is_empty()) else {
        println!("SKIPPED: KUBECONFIG not set (run scripts/test-cluster.sh up and export its lines)");
        return None;
    };
    Some(Client::from_kubeconfig(&PathBuf::from(path), None, ClientOptions::default()).expect("admin client"))
}

/// The `rk-cluster` binary: `RK_CLUSTER_BIN`, else the one running the test cluster.
fn rk_cluster_bin(dir: &str) -> PathBuf {
    if let Some(bin) = std::env::var_os("RK_CLUSTER_BIN") {
        return PathBuf::from(bin);
    }
    let pid = std::fs::read_to_string(format!("{dir}/rk-cluster.pid"))
        .expect("rk-cluster.pid of the running cluster");
    std::fs::read_link(format!("/proc/{}/exe", pid.trim())).expect("the rk-cluster binary")
}

/// A kubelet kubeconfig for `node` (client certificate `system:node:<node>`).
fn node_kubeconfig(node: &str) -> PathBuf {
    let dir = std::env::var("RK_CLUSTER_DIR").unwrap_or_else(|_| CLUSTER_DIR.to_string());
    let out = std::process::Command::new(rk_cluster_bin(&dir))
        .args(["kubelet-kubeconfig", "--dir", &dir, "--node-name", node])
        .output()
        .expect("rk-cluster kubelet-kubeconfig");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A client with `node`'s kubelet credentials.
fn kubelet_client(node: &str) -> Client {
    Client::from_kubeconfig(&node_kubeconfig(node), None, ClientOptions::default()).expect("node client")
}

/// Upstream's defaults, one InternalIP, and a root dir that exists here.
fn test_config(node: &str, ip: &str) -> Config {
    let mut cfg = Config::new(node, vec![ip.parse().unwrap()]);
    cfg.root_dir = std::env::temp_dir();
    cfg
}

/// Version, Status (ready) and ListImages, as a runtime would answer them.
struct FakeCri;

impl Unary for FakeCri {
    fn unary(
        &self,
        path: &str,
        _request: &[u8],
        _timeout: Option<Duration>,
    ) -> Result<Vec<u8>, grpc::Status> {
        let ready = |t: &str| cri::RuntimeCondition { r#type: t.into(), status: true, ..Default::default() };
        match path.rsplit('/').next().unwrap_or("") {
            "Version" => Ok(cri::VersionResponse {
                version: "0.1.0".into(),
                runtime_name: "fake".into(),
                runtime_version: "1.2.3".into(),
                runtime_api_version: "v1".into(),
            }
            .encode_to_vec()),
            "Status" => Ok(cri::StatusResponse {
                status: Some(cri::RuntimeStatus {
                    conditions: vec![ready("RuntimeReady"), ready("NetworkReady")],
                }),
                ..Default::default()
            }
            .encode_to_vec()),
            "ListImages" => Ok(cri::ListImagesResponse {
                images: vec![cri::Image {
                    id: "sha256:1".into(),
                    repo_tags: vec!["fake/busybox:1".into()],
                    size: 4096,
                    ..Default::default()
                }],
            }
            .encode_to_vec()),
            other => Err(grpc::Status::new(grpc::Code::Unimplemented, format!("fake CRI: {other}"))),
        }
    }
}

fn runtime() -> (cri::Client, &'static str) {
    match std::env::var("CONTAINER_RUNTIME_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => {
            let channel = Channel::new(&endpoint).unwrap_or_else(|e| panic!("{endpoint}: {e}"));
            (cri::Client::new(Arc::new(channel)), "containerd://")
        }
        _ => {
            println!("note: CONTAINER_RUNTIME_ENDPOINT not set; using a fake CRI");
            (cri::Client::new(Arc::new(FakeCri)), "fake://1.2.3")
        }
    }
}

/// Deletes a test's Node, Lease and events however the test ends.
struct Cleanup(Client, &'static str);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let Cleanup(admin, node) = self;
        let _ = admin.delete(&ResourcePath::core("nodes").name(node), &DeleteOptions::default());
        let _ = admin.delete(&lease_path().name(node), &DeleteOptions::default());
        let events = ResourcePath::core("events").namespace("default");
        let options = ListOptions {
            field_selector: Some(format!("involvedObject.name={node}")),
            ..ListOptions::default()
        };
        let old = admin.list::<Event>(&events, &options).map(|l| l.items).unwrap_or_default();
        for event in old {
            let _ = admin.delete(&events.clone().name(event.metadata.name()), &DeleteOptions::default());
        }
    }
}

fn lease_path() -> ResourcePath {
    ResourcePath::new("coordination.k8s.io/v1", "leases").namespace("kube-node-lease")
}

fn get_node(admin: &Client) -> Option<Node> {
    get_named(admin, NODE)
}

fn get_named(admin: &Client, node: &str) -> Option<Node> {
    admin.get(&ResourcePath::core("nodes").name(node)).ok()
}

/// A clean start for `node`: what an earlier run left is deleted.
fn fresh(admin: &Client, node: &'static str) -> Cleanup {
    drop(Cleanup(admin.clone(), node));
    eventually(Duration::from_secs(30), "old node gone", || get_named(admin, node).is_none().then_some(()));
    Cleanup(admin.clone(), node)
}

fn ready_node(node: &Node) -> bool {
    node.status.conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True")
}

/// Polls `f` every 100 ms until it returns `Some`, for at most `limit`.
fn eventually<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn renew_time(admin: &Client) -> Option<MicroTime> {
    admin.get::<Lease>(&lease_path().name(NODE)).ok().and_then(|l| l.spec.renew_time)
}

#[test]
fn node_registers_reports_and_heartbeats() {
    let Some(admin) = admin() else { return };
    let cleanup = fresh(&admin, NODE);

    let kubelet = kubelet_client(NODE);
    let (cri, runtime_version) = runtime();
    let mut cfg = test_config(NODE, "198.51.100.7");
    cfg.node_labels.insert("rk-test".into(), "node-api".into());
    cfg.register_with_taints =
        vec![Taint { key: "rk-test".into(), effect: "NoSchedule".into(), ..Taint::default() }];
    cfg.update_frequency = Duration::from_secs(1);
    cfg.lease_duration_seconds = 4;
    let started = Instant::now();
    let handle = nodestatus::spawn(cfg, Deps::new(kubelet, cri, Arc::new(|| Ok(())))).expect("spawn");

    // Registered and Ready within seconds.
    let uid = handle.wait_registered(Duration::from_secs(10)).expect("registered within 10 s");
    let node = eventually(Duration::from_secs(10), "node Ready", || get_node(&admin).filter(ready_node));
    println!("registered and Ready after {:?}", started.elapsed());
    assert_eq!(node.metadata.uid.as_deref(), Some(uid.as_str()));
    assert_eq!(handle.node_uid().as_deref(), Some(uid.as_str()));

    // Labels, taints, annotation.
    let label = |k: &str| node.metadata.labels.get(k).map(String::as_str);
    assert_eq!(label("kubernetes.io/hostname"), Some(NODE));
    assert_eq!(label("kubernetes.io/os"), Some("linux"));
    assert_eq!(label("beta.kubernetes.io/os"), Some("linux"));
    assert!(label("kubernetes.io/arch").is_some_and(|a| a == "amd64" || a == "arm64" || a == "arm"));
    assert_eq!(label("rk-test"), Some("node-api"));
    assert_eq!(
        node.metadata.annotation("volumes.kubernetes.io/controller-managed-attach-detach"),
        Some("true")
    );
    assert!(node.spec.taints.iter().any(|t| t.key == "rk-test" && t.effect == "NoSchedule"));

    // Capacity, allocatable, node info, addresses, endpoints, images.
    let status = &node.status;
    for resource in ["cpu", "memory", "pods", "ephemeral-storage"] {
        assert!(status.capacity.contains_key(resource), "capacity {resource}: {:?}", status.capacity);
        assert!(status.allocatable.contains_key(resource), "allocatable {resource}");
    }
    assert_eq!(status.capacity["pods"].to_string(), "110");
    assert!(status.capacity["memory"].value().is_some_and(|m| m > 0));
    let info = status.node_info.clone().unwrap_or_default();
    assert_eq!(info.kubelet_version, version::KUBERNETES);
    assert!(
        info.container_runtime_version.starts_with(runtime_version),
        "{}",
        info.container_runtime_version
    );
    assert_eq!(info.operating_system, "linux");
    assert!(
        !info.boot_id.is_empty() && !info.kernel_version.is_empty() && !info.os_image.is_empty(),
        "{info:?}"
    );
    let addresses: Vec<(&str, &str)> =
        status.addresses.iter().map(|a| (a.type_.as_str(), a.address.as_str())).collect();
    assert_eq!(addresses, [("InternalIP", "198.51.100.7"), ("Hostname", NODE)]);
    let port = status.daemon_endpoints.as_ref().and_then(|d| d.kubelet_endpoint.as_ref()).map(|e| e.port);
    assert_eq!(port, Some(10250));
    assert!(!status.images.is_empty(), "the runtime's images are listed");
    let types: Vec<&str> = status.conditions.iter().map(|c| c.type_.as_str()).collect();
    assert_eq!(types, ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]);

    // The Lease: held by the node, owned by the Node, renewed.
    let lease: Lease =
        eventually(Duration::from_secs(10), "lease", || admin.get(&lease_path().name(NODE)).ok());
    assert_eq!(lease.spec.holder_identity.as_deref(), Some(NODE));
    assert_eq!(lease.spec.lease_duration_seconds, Some(4));
    assert_eq!(
        lease.metadata.owner_references.first().map(|o| (o.kind.as_str(), o.uid.as_str())),
        Some(("Node", uid.as_str()))
    );
    let first = renew_time(&admin).expect("renewTime");
    eventually(Duration::from_secs(10), "lease renewed", || renew_time(&admin).filter(|t| *t > first));

    // Node events, with the Node's UID.
    let selector = format!("involvedObject.name={NODE},involvedObject.uid={uid}");
    let options = ListOptions { field_selector: Some(selector), ..ListOptions::default() };
    let events: ObjectList<Event> = eventually(Duration::from_secs(10), "node events", || {
        let list: ObjectList<Event> =
            admin.list(&ResourcePath::core("events").namespace("default"), &options).ok()?;
        let reasons: Vec<&str> = list.items.iter().filter_map(|e| e.reason.as_deref()).collect();
        (reasons.contains(&"Starting") && reasons.contains(&"NodeHasSufficientMemory")).then_some(list)
    });
    let starting =
        events.items.iter().find(|e| e.reason.as_deref() == Some("Starting")).cloned().unwrap_or_default();
    assert_eq!(starting.message.as_deref(), Some("Starting kubelet."));
    assert_eq!(starting.involved_object.uid.as_deref(), Some(uid.as_str()));
    assert_eq!(starting.source.and_then(|s| s.component).as_deref(), Some("kubelet"));

    // Deleted while running: registered again (beyond upstream), with a new UID.
    admin.delete(&ResourcePath::core("nodes").name(NODE), &DeleteOptions::default()).expect("delete node");
    let again = eventually(Duration::from_secs(20), "re-registered", || {
        get_node(&admin).filter(|n| n.metadata.uid.as_deref() != Some(uid.as_str()) && ready_node(n))
    });
    let new_uid = again.metadata.uid.clone().unwrap_or_default();
    eventually(Duration::from_secs(10), "handle has the new UID", || {
        (handle.node_uid() == Some(new_uid.clone())).then_some(())
    });
    assert_eq!(again.metadata.labels.get("rk-test").map(String::as_str), Some("node-api"));

    // The old Lease goes with the old Node (garbage collector); a new one is owned by the new.
    eventually(Duration::from_secs(30), "lease owned by the new Node", || {
        let lease: Lease = admin.get(&lease_path().name(NODE)).ok()?;
        lease.metadata.owner_references.iter().any(|o| o.uid == new_uid).then_some(())
    });

    // Stopping leaves the Node (and Lease) in place; the cleanup deletes them.
    handle.stop();
    assert!(get_node(&admin).is_some(), "stop leaves the Node");
    drop(cleanup);
}

/// Not ready at first (the health check fails), then ready: the fast start-up path reports it
/// long before the next regular update.
#[test]
fn readiness_is_reported_at_once() {
    const NAME: &str = "t-nodeapi-2";
    let Some(admin) = admin() else { return };
    let _cleanup = fresh(&admin, NAME);
    let kubelet = kubelet_client(NAME);
    let (cri, _) = runtime();
    let mut cfg = test_config(NAME, "198.51.100.8");
    cfg.update_frequency = Duration::from_secs(30);
    let healthy = Arc::new(AtomicBool::new(false));
    let flag = healthy.clone();
    let health: nodestatus::HealthCheck = Arc::new(move || {
        if flag.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err("PLEG is not healthy: pleg has yet to be successful".into())
        }
    });
    let handle = nodestatus::spawn(cfg, Deps::new(kubelet, cri, health)).expect("spawn");
    handle.wait_registered(Duration::from_secs(10)).expect("registered");
    let node = get_named(&admin, NAME).expect("node");
    let ready = node.status.conditions.iter().find(|c| c.type_ == "Ready").cloned().unwrap_or_default();
    assert_eq!((ready.status.as_str(), ready.reason.as_deref()), ("False", Some("KubeletNotReady")));
    assert_eq!(ready.message.as_deref(), Some("PLEG is not healthy: pleg has yet to be successful"));

    healthy.store(true, Ordering::SeqCst);
    let turned = Instant::now();
    eventually(Duration::from_secs(5), "Ready through the fast path", || {
        get_named(&admin, NAME).filter(ready_node)
    });
    println!("Ready {:?} after the health check passed", turned.elapsed());
    let selector = format!("involvedObject.name={NAME},reason=NodeReady");
    let options = ListOptions { field_selector: Some(selector), ..ListOptions::default() };
    eventually(Duration::from_secs(5), "NodeReady event", || {
        let list: ObjectList<Event> =
            admin.list(&ResourcePath::core("events").namespace("default"), &options).ok()?;
        (!list.items.is_empty()).then_some(())
    });
    handle.stop();
}
