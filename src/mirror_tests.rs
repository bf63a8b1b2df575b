use std::time::SystemTime;

use super::*;
use crate::api::core::{Container, PodStatus};
use crate::api::time::Time;
use crate::source::Source;
use crate::source::static_pod::{Origin, make_static};

const NODE: &str = "edge-1";

fn static_pod(image: &str) -> Pod {
    let mut pod = Pod::default();
    pod.metadata.name = Some("web".into());
    pod.spec.containers =
        vec![Container { name: "app".into(), image: Some(image.into()), ..Default::default() }];
    let origin =
        Origin { source: Source::File, location: "/etc/kubernetes/manifests/web.yaml", node_name: NODE };
    make_static(pod, &origin, SystemTime::UNIX_EPOCH).expect("static pod")
}

#[test]
fn mirror_pod_is_the_static_pod_owned_by_the_node() {
    let mut s = static_pod("busybox");
    s.status = PodStatus { phase: Some("Running".into()), ..Default::default() };
    s.metadata.resource_version = Some("5".into());
    let m = build_mirror_pod(&s, NODE, "node-uid-1");
    assert_eq!(m.metadata.name.as_deref(), Some("web-edge-1"));
    assert_eq!(m.metadata.namespace.as_deref(), Some("default"));
    assert_eq!(m.metadata.uid, None, "the API server gives it its own");
    assert_eq!(m.metadata.resource_version, None);
    assert_eq!(m.status, PodStatus::default());
    assert_eq!(m.metadata.annotation(CONFIG_MIRROR_ANNOTATION), Some(s.metadata.uid()));
    assert_eq!(m.metadata.annotation(CONFIG_HASH_ANNOTATION), Some(s.metadata.uid()));
    assert_eq!(m.metadata.annotation("kubernetes.io/config.source"), Some("file"));
    assert_eq!(
        m.metadata.owner_references,
        [OwnerReference {
            api_version: "v1".into(),
            kind: "Node".into(),
            name: NODE.into(),
            uid: "node-uid-1".into(),
            controller: Some(true),
            block_owner_deletion: None,
        }]
    );
    assert_eq!(m.spec.node_name.as_deref(), Some(NODE));
    assert_eq!(m.spec, s.spec, "the spec is the static pod's");
    assert!(is_mirror_pod(&m) && is_mirror_of(&m, &s));
    let json = serde_json::to_value(&m).expect("json");
    assert!(
        json["metadata"].get("uid").is_none()
            && json.get("status").is_some_and(|s| s == &serde_json::json!({}))
    );
}

#[test]
fn plans() {
    let s = static_pod("busybox");
    let current = build_mirror_pod(&s, NODE, "n");
    assert_eq!(plan(None, &s), Plan::Create);
    assert_eq!(plan(Some(&current), &s), Plan::Nothing);

    let edited = static_pod("busybox:1.37");
    assert_ne!(static_hash(&edited), static_hash(&s), "an edit changes the hash");
    assert_eq!(plan(Some(&current), &edited), Plan::Recreate("its static pod's manifest changed"));

    let mut deleting = current.clone();
    deleting.metadata.deletion_timestamp = Some(Time::from_unix(10));
    assert_eq!(plan(Some(&deleting), &s), Plan::Recreate("it is being deleted"));

    let mut other_ns = current;
    other_ns.metadata.namespace = Some("kube-system".into());
    assert!(!is_mirror_of(&other_ns, &s));
}
