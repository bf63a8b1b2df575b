//! API-server mode pods against the real test control plane: the API pod source (including a
//! cut connection and a restart), status PATCHes, deletion of terminated pods, and mirror pods.
//! Needs `KUBECONFIG` (admin) and the cluster's `rk-cluster` binary (found through `KUBECTL`
//! or `RK_CLUSTER_BIN`); without them: SKIPPED.
//!
//! One test, in steps: they share one Node (`t-podsapi-1`) and its kubelet credentials.

mod apimode_support;

use std::time::{Duration, Instant, SystemTime};

use apimode_support::{Cluster, Proxy, client_via, server_host, wait_for};
use crossbeam_channel::{Receiver, unbounded};
use rkubelet::api::core::{
    Container, ContainerState, ContainerStateRunning, ContainerStatus, Pod, PodCondition, PodStatus,
};
use rkubelet::api::time::Time;
use rkubelet::kubeclient::{Client, ClientOptions, PatchKind, PatchParams, ResourcePath};
use rkubelet::mirror::{self, MirrorHandle};
use rkubelet::source::apiserver::{self, ApiSourceConfig, ApiSourceDeps, ApiSourceHandle};
use rkubelet::source::static_pod::{Origin, make_static};
use rkubelet::source::{CONFIG_MIRROR_ANNOTATION, Source, SourceUpdate};
use rkubelet::status::{self, apisync::ApiSyncer};
use serde_json::{Value, json};

const NODE: &str = "t-podsapi-1";
const NS: &str = "default";
const PODS: [&str; 3] = ["t-podsapi-a", "t-podsapi-b", "t-podsapi-c"];
const STATIC: &str = "t-podsapi-s";

/// Deletes what the test made, even when it fails.
struct Cleanup<'a>(&'a Cluster);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for name in PODS.into_iter().chain([format!("{STATIC}-{NODE}").as_str()]) {
            self.0.force_delete_pod(NS, name);
        }
        self.0.delete_node(NODE);
    }
}

/// The API source's sets as they arrive, and the newest one.
struct Sets {
    rx: Receiver<SourceUpdate>,
    last: Vec<Pod>,
}

impl Sets {
    fn wait(&mut self, what: &str, check: impl Fn(&[Pod]) -> bool) -> Vec<Pod> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let update =
                self.rx.recv_timeout(left).unwrap_or_else(|_| panic!("no set with {what} within 30 s"));
            assert_eq!(update.source, Source::Api);
            self.last = update.pods;
            if check(&self.last) {
                return self.last.clone();
            }
        }
    }
}

fn find<'a>(pods: &'a [Pod], name: &str) -> Option<&'a Pod> {
    pods.iter().find(|p| p.metadata.name() == name)
}

fn start_source(client: &Client, observer: &MirrorHandle) -> (ApiSourceHandle, Sets) {
    let (tx, rx) = unbounded();
    let deps = ApiSourceDeps {
        client: client.clone(),
        updates: tx,
        node_synced: None,
        observer: Some(observer.observer()),
    };
    let handle = apiserver::spawn(ApiSourceConfig::new(NODE), deps).expect("spawn API source");
    (handle, Sets { rx, last: Vec::new() })
}

fn apply_pod(cluster: &Cluster, name: &str) {
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": {"test": "t-podsapi"}},
        "spec": {"nodeName": NODE, "containers": [{"name": "app", "image": "busybox"}]}});
    cluster.kubectl(&["apply", "-f", "-"], Some(&pod.to_string()));
}

fn running_status() -> PodStatus {
    let ready = |t: &str| PodCondition { type_: t.into(), status: "True".into(), ..Default::default() };
    PodStatus {
        phase: Some("Running".into()),
        conditions: vec![
            ready("Initialized"),
            ready("Ready"),
            ready("ContainersReady"),
            ready("PodScheduled"),
        ],
        start_time: Some(Time::now()),
        container_statuses: vec![ContainerStatus {
            name: "app".into(),
            ready: true,
            image: "docker.io/library/busybox:latest".into(),
            image_id: "docker.io/library/busybox@sha256:0000".into(),
            container_id: Some("containerd://abc".into()),
            started: Some(true),
            state: Some(ContainerState {
                running: Some(ContainerStateRunning { started_at: Some(Time::now()) }),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn static_pod(image: &str) -> Pod {
    let mut pod = Pod::default();
    pod.metadata.name = Some(STATIC.into());
    pod.spec.containers =
        vec![Container { name: "app".into(), image: Some(image.into()), ..Default::default() }];
    let origin =
        Origin { source: Source::File, location: "/etc/kubernetes/manifests/t.yaml", node_name: NODE };
    make_static(pod, &origin, SystemTime::now()).expect("static pod")
}

#[test]
fn api_mode_pods_against_the_real_api_server() {
    let Some(cluster) = Cluster::from_env() else { return };
    rkubelet::logging::init(std::env::var("RK_TEST_V").ok().and_then(|v| v.parse().ok()).unwrap_or(0));
    let _cleanup = Cleanup(&cluster);
    for name in PODS {
        cluster.force_delete_pod(NS, name);
    }
    let node_uid = cluster.create_node(NODE);
    let kubeconfig = cluster.kubelet_kubeconfig(NODE);
    let kubelet =
        Client::from_kubeconfig(&kubeconfig, None, ClientOptions::default()).expect("kubelet client");
    let proxy = Proxy::start(server_host(cluster.admin.server()).1);
    let proxied = client_via(&kubeconfig, &proxy);
    let uid = node_uid.clone();
    let mirrors = mirror::spawn(
        mirror::Config { node_name: NODE.into() },
        mirror::Deps { client: kubelet.clone(), node_uid: Box::new(move || Some(uid.clone())) },
    )
    .expect("spawn mirror manager");

    // The source delivers a first set, then pods bound to the node as they come and go.
    let (source, mut sets) = start_source(&proxied, &mirrors);
    sets.wait("a first set", |_| true);
    apply_pod(&cluster, PODS[0]);
    sets.wait("pod a", |pods| find(pods, PODS[0]).is_some());

    // The connection dies and stays dead for a while; nothing is lost once it is back.
    proxy.set_down(true);
    proxy.cut();
    apply_pod(&cluster, PODS[1]);
    cluster.force_delete_pod(NS, PODS[0]);
    std::thread::sleep(Duration::from_secs(2));
    proxy.set_down(false);
    sets.wait("b and not a, after the reconnect", |pods| {
        find(pods, PODS[1]).is_some() && find(pods, PODS[0]).is_none()
    });

    // A restarted source starts from a fresh list that has what changed meanwhile.
    source.stop();
    apply_pod(&cluster, PODS[2]);
    let (source, mut sets) = start_source(&proxied, &mirrors);
    let first = sets.wait("the restarted source's set", |_| true);
    assert!(find(&first, PODS[1]).is_some() && find(&first, PODS[2]).is_some(), "{:?}", names(&first));

    // Status: PATCHed through the status manager; a condition someone else owns is kept.
    let gate = json!({"status": {"conditions": [{"type": "example.com/Gate", "status": "True"}]}});
    let path = ResourcePath::core("pods").namespace(NS).name(PODS[1]).subresource("status");
    let _: Value =
        cluster.admin.patch(&path, PatchKind::StrategicMerge, &gate, &PatchParams::default()).expect("gate");
    let statuses = status::spawn(
        status::Config { sync_period: Duration::from_secs(1) },
        status::Deps { syncer: Some(Box::new(ApiSyncer::new(kubelet.clone()))) },
    )
    .expect("spawn status manager");
    let b = find(&first, PODS[1]).expect("b").clone();
    statuses.set(&b, running_status());
    wait_for("b's status on the API server", || {
        let got: Value =
            serde_json::from_str(&cluster.kubectl(&["get", "pod", PODS[1], "-n", NS, "-o", "json"], None))
                .expect("kubectl json");
        let s = &got["status"];
        let gate_kept =
            s["conditions"].as_array().is_some_and(|c| c.iter().any(|c| c["type"] == "example.com/Gate"));
        s["phase"] == "Running"
            && s["containerStatuses"][0]["name"] == "app"
            && s["containerStatuses"][0]["state"]["running"].is_object()
            && gate_kept
    });

    // Deletion: graceful delete, the worker terminates it, the status manager removes it.
    cluster.kubectl(&["delete", "pod", PODS[1], "-n", NS, "--wait=false"], None);
    let pods = sets.wait("b being deleted", |pods| {
        find(pods, PODS[1]).is_some_and(|p| p.metadata.deletion_timestamp.is_some())
    });
    statuses.mark_terminated(find(&pods, PODS[1]).expect("b"));
    wait_for("b deleted from the API", || cluster.pod(NS, PODS[1]).is_none());
    sets.wait("b gone from the set", |pods| find(pods, PODS[1]).is_none());

    // Mirror pods: created with the annotation and the Node owner; status goes to them.
    let mirror_name = format!("{STATIC}-{NODE}");
    let s1 = static_pod("busybox");
    mirrors.ensure(&s1);
    let pods = sets.wait("the mirror pod", |pods| find(pods, &mirror_name).is_some());
    let m1 = find(&pods, &mirror_name).expect("mirror").clone();
    assert_eq!(m1.metadata.annotation(CONFIG_MIRROR_ANNOTATION), Some(s1.metadata.uid()));
    let owner = m1.metadata.owner_references.first().expect("owner reference");
    assert_eq!(
        (owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
        ("Node", NODE, node_uid.as_str())
    );
    assert_eq!(owner.controller, Some(true));
    statuses.set(&s1, running_status());
    wait_for("the mirror pod's status", || {
        cluster.pod(NS, &mirror_name).is_some_and(|p| p["status"]["containerStatuses"][0]["name"] == "app")
    });

    // A changed manifest: the mirror pod is replaced by one with the new hash.
    let s2 = static_pod("busybox:1.37");
    assert_ne!(s1.metadata.uid(), s2.metadata.uid());
    let replaced = |p: &Value, old_uid: &str| {
        p["metadata"]["annotations"][CONFIG_MIRROR_ANNOTATION] == s2.metadata.uid()
            && p["metadata"]["uid"] != old_uid
            && p["metadata"]["deletionTimestamp"].is_null()
    };
    wait_for("the mirror pod of the new manifest", || {
        mirrors.ensure(&s2);
        cluster.pod(NS, &mirror_name).is_some_and(|p| replaced(&p, m1.metadata.uid()))
    });

    // A user deletes it: the next syncs of the static pod create it again.
    let m2 = cluster.pod(NS, &mirror_name).expect("mirror 2");
    let m2_uid = m2["metadata"]["uid"].as_str().expect("uid").to_string();
    cluster.kubectl(&["delete", "pod", &mirror_name, "-n", NS, "--wait=false"], None);
    wait_for("the mirror pod recreated after a user deleted it", || {
        mirrors.ensure(&s2);
        cluster.pod(NS, &mirror_name).is_some_and(|p| replaced(&p, &m2_uid))
    });

    // Its static pod gone: the mirror pod is an orphan and is deleted.
    sets.wait("the recreated mirror pod in the set", |pods| {
        find(pods, &mirror_name)
            .is_some_and(|p| p.metadata.uid() != m2_uid && p.metadata.deletion_timestamp.is_none())
    });
    wait_for("the orphaned mirror pod deleted", || {
        mirrors.delete_orphans(Vec::new());
        cluster.pod(NS, &mirror_name).is_none()
    });

    source.stop();
    statuses.stop();
    mirrors.stop();
}

fn names(pods: &[Pod]) -> Vec<&str> {
    pods.iter().map(|p| p.metadata.name()).collect()
}
