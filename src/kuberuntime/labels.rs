//! Identity in the runtime: the labels and annotations we put on sandboxes and containers,
//! and reading them back (PLEG, adoption after a restart, killing without a spec).
//!
//! | on | labels | annotations |
//! | --- | --- | --- |
//! | sandbox | the pod's labels + pod name, namespace, uid | the pod's annotations |
//! | container | pod name, namespace, uid + container name | hash, restartCount, terminationMessagePath/Policy, pod terminationGracePeriod (and deletionGracePeriod), ports JSON, preStopHandler JSON |

use std::collections::BTreeMap;

use crate::api::core::{Container, ContainerPort, LifecycleHandler, Pod};

use super::hash::{container_hash, hash_label, parse_hash_label};
use super::model::keys;

/// `io.kubernetes.pod.deletionGracePeriod`: the grace period of a pod being deleted, when the
/// container was created.
pub const POD_DELETION_GRACE_PERIOD: &str = "io.kubernetes.pod.deletionGracePeriod";

/// The API default of `terminationMessagePath`.
pub const DEFAULT_TERMINATION_MESSAGE_PATH: &str = "/dev/termination-log";
/// The API default of `terminationMessagePolicy`.
pub const DEFAULT_TERMINATION_MESSAGE_POLICY: &str = "File";

pub type Labels = BTreeMap<String, String>;

/// A container's `terminationMessagePath`, with the API default when unset.
pub fn termination_message_path(c: &Container) -> &str {
    c.termination_message_path.as_deref().unwrap_or(DEFAULT_TERMINATION_MESSAGE_PATH)
}

/// A container's `terminationMessagePolicy`, with the API default when unset.
pub fn termination_message_policy(c: &Container) -> &str {
    c.termination_message_policy.as_deref().unwrap_or(DEFAULT_TERMINATION_MESSAGE_POLICY)
}

/// The sandbox's labels: the pod's own, then the identity keys (which win).
pub fn sandbox_labels(pod: &Pod) -> Labels {
    let mut labels = pod.metadata.labels.clone();
    insert_pod_identity(&mut labels, pod);
    labels
}

/// The sandbox's annotations: the pod's (with `kubernetes.io/config.*` for static pods).
pub fn sandbox_annotations(pod: &Pod) -> Labels {
    pod.metadata.annotations.clone()
}

/// A container's labels: pod identity and the container's name.
pub fn container_labels(pod: &Pod, c: &Container) -> Labels {
    let mut labels = Labels::new();
    insert_pod_identity(&mut labels, pod);
    labels.insert(keys::CONTAINER_NAME.to_string(), c.name.clone());
    labels
}

/// A container's annotations: what a restart or a kill needs without the spec.
pub fn container_annotations(pod: &Pod, c: &Container, restart_count: u32) -> Labels {
    let mut a = Labels::new();
    a.insert(keys::CONTAINER_HASH.to_string(), hash_label(container_hash(c)));
    a.insert(keys::CONTAINER_RESTART_COUNT.to_string(), restart_count.to_string());
    a.insert(keys::TERMINATION_MESSAGE_PATH.to_string(), termination_message_path(c).to_string());
    a.insert(keys::TERMINATION_MESSAGE_POLICY.to_string(), termination_message_policy(c).to_string());
    if let Some(grace) = pod.metadata.deletion_grace_period_seconds {
        a.insert(POD_DELETION_GRACE_PERIOD.to_string(), grace.to_string());
    }
    if let Some(grace) = pod.spec.termination_grace_period_seconds {
        a.insert(keys::POD_TERMINATION_GRACE_PERIOD.to_string(), grace.to_string());
    }
    if let Some(pre_stop) = c.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref())
        && let Ok(json) = serde_json::to_string(pre_stop)
    {
        a.insert(keys::CONTAINER_PRESTOP_HANDLER.to_string(), json);
    }
    if !c.ports.is_empty()
        && let Ok(json) = serde_json::to_string(&c.ports)
    {
        a.insert(keys::CONTAINER_PORTS.to_string(), json);
    }
    a
}

fn insert_pod_identity(labels: &mut Labels, pod: &Pod) {
    labels.insert(keys::POD_NAME.to_string(), pod.metadata.name().to_string());
    labels.insert(keys::POD_NAMESPACE.to_string(), pod.metadata.namespace().to_string());
    labels.insert(keys::POD_UID.to_string(), pod.metadata.uid().to_string());
}

/// Who a container is, read back from its labels and annotations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerIdentity {
    pub pod_name: String,
    pub pod_namespace: String,
    pub pod_uid: String,
    pub container_name: String,
    /// 0 when missing or malformed (as upstream).
    pub hash: u64,
    /// 0 when missing or malformed.
    pub restart_count: u32,
    pub termination_message_path: String,
    pub termination_message_policy: String,
    /// The pod's `terminationGracePeriodSeconds` when the container was created.
    pub grace_period: Option<i64>,
    /// The pod's `deletionGracePeriodSeconds` when the container was created.
    pub deletion_grace_period: Option<i64>,
    pub ports: Vec<ContainerPort>,
    pub pre_stop: Option<LifecycleHandler>,
}

/// The identity of a container we created; `None` for containers without our pod UID and
/// container name labels (not ours).
pub fn read_container_identity(labels: &Labels, annotations: &Labels) -> Option<ContainerIdentity> {
    let uid = labels.get(keys::POD_UID).filter(|v| !v.is_empty())?;
    let name = labels.get(keys::CONTAINER_NAME).filter(|v| !v.is_empty())?;
    let text = |key: &str| annotations.get(key).cloned().unwrap_or_default();
    let int = |key: &str| annotations.get(key).and_then(|v| v.parse::<i64>().ok());
    Some(ContainerIdentity {
        pod_name: labels.get(keys::POD_NAME).cloned().unwrap_or_default(),
        pod_namespace: labels.get(keys::POD_NAMESPACE).cloned().unwrap_or_default(),
        pod_uid: uid.clone(),
        container_name: name.clone(),
        hash: annotations.get(keys::CONTAINER_HASH).and_then(|v| parse_hash_label(v)).unwrap_or(0),
        restart_count: annotations
            .get(keys::CONTAINER_RESTART_COUNT)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        termination_message_path: text(keys::TERMINATION_MESSAGE_PATH),
        termination_message_policy: text(keys::TERMINATION_MESSAGE_POLICY),
        grace_period: int(keys::POD_TERMINATION_GRACE_PERIOD),
        deletion_grace_period: int(POD_DELETION_GRACE_PERIOD),
        ports: annotations
            .get(keys::CONTAINER_PORTS)
            .and_then(|v| crate::api::json::decode(v.as_bytes()).ok())
            .unwrap_or_default(),
        pre_stop: annotations.get(keys::CONTAINER_PRESTOP_HANDLER).and_then(|v| crate::api::json::decode(v.as_bytes()).ok()),
    })
}

/// `(name, namespace, uid)` of the pod a sandbox belongs to; `None` when it is not ours.
pub fn read_sandbox_identity(labels: &Labels) -> Option<(String, String, String)> {
    let uid = labels.get(keys::POD_UID).filter(|v| !v.is_empty())?;
    let name = labels.get(keys::POD_NAME).cloned().unwrap_or_default();
    let namespace = labels.get(keys::POD_NAMESPACE).cloned().unwrap_or_default();
    Some((name, namespace, uid.clone()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod() -> Pod {
        serde_json::from_value(json!({
            "metadata": {
                "name": "web", "namespace": "prod", "uid": "u-1",
                "labels": {"app": "web", "io.kubernetes.pod.name": "spoof"},
                "annotations": {"kubernetes.io/config.source": "file"},
                "deletionGracePeriodSeconds": 5,
            },
            "spec": {
                "terminationGracePeriodSeconds": 30,
                "containers": [{
                    "name": "app", "image": "nginx",
                    "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
                    "lifecycle": {"preStop": {"exec": {"command": ["sleep", "1"]}}},
                }],
            },
        }))
        .expect("pod")
    }

    #[test]
    fn sandbox_labels_carry_pod_labels_and_identity() {
        let p = pod();
        let l = sandbox_labels(&p);
        assert_eq!(l["app"], "web");
        assert_eq!(l[keys::POD_NAME], "web", "identity wins over a pod label of the same key");
        assert_eq!(l[keys::POD_NAMESPACE], "prod");
        assert_eq!(l[keys::POD_UID], "u-1");
        assert_eq!(sandbox_annotations(&p)["kubernetes.io/config.source"], "file");
        assert_eq!(read_sandbox_identity(&l), Some(("web".into(), "prod".into(), "u-1".into())));
        assert_eq!(read_sandbox_identity(&Labels::new()), None);
    }

    #[test]
    fn container_annotations_as_upstream() {
        let p = pod();
        let c = &p.spec.containers[0];
        let l = container_labels(&p, c);
        assert_eq!(l.len(), 4);
        assert_eq!(l[keys::CONTAINER_NAME], "app");
        let a = container_annotations(&p, c, 3);
        assert_eq!(a[keys::CONTAINER_HASH], hash_label(container_hash(c)));
        assert_eq!(a[keys::CONTAINER_RESTART_COUNT], "3");
        assert_eq!(a[keys::TERMINATION_MESSAGE_PATH], "/dev/termination-log");
        assert_eq!(a[keys::TERMINATION_MESSAGE_POLICY], "File");
        assert_eq!(a[keys::POD_TERMINATION_GRACE_PERIOD], "30");
        assert_eq!(a[POD_DELETION_GRACE_PERIOD], "5");
        assert_eq!(a[keys::CONTAINER_PORTS], r#"[{"name":"http","containerPort":80,"protocol":"TCP"}]"#);
        assert_eq!(a[keys::CONTAINER_PRESTOP_HANDLER], r#"{"exec":{"command":["sleep","1"]}}"#);
    }

    #[test]
    fn identity_round_trip() {
        let p = pod();
        let c = &p.spec.containers[0];
        let id = read_container_identity(&container_labels(&p, c), &container_annotations(&p, c, 7))
            .expect("ours");
        assert_eq!(
            (id.pod_name.as_str(), id.pod_namespace.as_str(), id.pod_uid.as_str()),
            ("web", "prod", "u-1")
        );
        assert_eq!(id.container_name, "app");
        assert_eq!(id.hash, container_hash(c));
        assert_eq!(id.restart_count, 7);
        assert_eq!(id.grace_period, Some(30));
        assert_eq!(id.deletion_grace_period, Some(5));
        assert_eq!(id.ports, c.ports);
        assert_eq!(id.pre_stop, c.lifecycle.as_ref().and_then(|l| l.pre_stop.clone()));
    }

    #[test]
    fn malformed_annotations_fall_back_to_zero() {
        let mut labels = Labels::new();
        labels.insert(keys::POD_UID.into(), "u".into());
        labels.insert(keys::CONTAINER_NAME.into(), "c".into());
        let mut ann = Labels::new();
        ann.insert(keys::CONTAINER_HASH.into(), "not-hex".into());
        ann.insert(keys::CONTAINER_RESTART_COUNT.into(), "-1".into());
        ann.insert(keys::CONTAINER_PORTS.into(), "{".into());
        let id = read_container_identity(&labels, &ann).expect("ours");
        assert_eq!((id.hash, id.restart_count, id.grace_period), (0, 0, None));
        assert!(id.ports.is_empty());
        labels.remove(keys::CONTAINER_NAME);
        assert_eq!(read_container_identity(&labels, &ann), None, "a sandbox or someone else's");
    }
}
