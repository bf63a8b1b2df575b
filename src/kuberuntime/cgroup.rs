//! Pod cgroup names: the QoS tier parents and each pod's own cgroup, for both drivers.
//!
//! A cgroup is named by components, then written in the driver's form:
//!
//! | components | cgroupfs | systemd |
//! | --- | --- | --- |
//! | `kubepods` | `/kubepods` | `/kubepods.slice` |
//! | `kubepods burstable` | `/kubepods/burstable` | `/kubepods.slice/kubepods-burstable.slice` |
//! | `kubepods besteffort pod<uid>` | `/kubepods/besteffort/pod<uid>` | `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid_with_underscores>.slice` |
//!
//! Guaranteed pods sit directly under `kubepods`. The systemd form is the slice expanded to
//! its full path, as upstream passes it to the runtime (containerd uses the last element).
//! `cgroupRoot` is prepended; without `cgroupsPerQOS` there are no pod cgroups and the
//! sandbox's `cgroup_parent` is empty.

use crate::api::core::Pod;
use crate::api::helpers::{QosClass, pod_qos};

use super::node::{CgroupDriver, NodeContext};

/// The cgroup under which all pods live (`kubepods`).
const PODS_ROOT: &str = "kubepods";
/// A pod cgroup is `pod<uid>`.
const POD_PREFIX: &str = "pod";

/// The `cgroup_parent` of a pod's sandbox and containers.
pub fn pod_cgroup_parent(pod: &Pod, node: &NodeContext) -> String {
    if !node.cgroups_per_qos {
        return String::new();
    }
    let mut name = qos_components(pod_qos(pod), node);
    name.push(format!("{POD_PREFIX}{}", pod.metadata.uid()));
    render(&name, node.cgroup_driver)
}

/// The parent cgroup of a QoS tier (`kubepods` itself for Guaranteed), for the cgroup manager.
pub fn qos_cgroup(qos: QosClass, node: &NodeContext) -> String {
    render(&qos_components(qos, node), node.cgroup_driver)
}

/// The cgroup of all pods: `<cgroupRoot>/kubepods` (or the root without `cgroupsPerQOS`).
pub fn pods_cgroup(node: &NodeContext) -> String {
    render(&pods_components(node), node.cgroup_driver)
}

fn pods_components(node: &NodeContext) -> Vec<String> {
    let mut name: Vec<String> =
        node.cgroup_root.split('/').filter(|c| !c.is_empty()).map(str::to_string).collect();
    if node.cgroups_per_qos {
        name.push(PODS_ROOT.to_string());
    }
    name
}

fn qos_components(qos: QosClass, node: &NodeContext) -> Vec<String> {
    let mut name = pods_components(node);
    match qos {
        QosClass::Guaranteed => {}
        QosClass::Burstable => name.push("burstable".to_string()),
        QosClass::BestEffort => name.push("besteffort".to_string()),
    }
    name
}

fn render(components: &[String], driver: CgroupDriver) -> String {
    match driver {
        CgroupDriver::Cgroupfs => format!("/{}", components.join("/")),
        CgroupDriver::Systemd => systemd_path(components),
    }
}

/// `a-b-c.slice` expanded to `/a.slice/a-b.slice/a-b-c.slice`, with `-` inside a component
/// escaped to `_` (so pod UIDs keep their shape as `_`).
fn systemd_path(components: &[String]) -> String {
    if components.is_empty() {
        return "/".to_string();
    }
    let mut path = String::new();
    let mut prefix = String::new();
    for component in components {
        let escaped = component.replace('-', "_");
        path.push('/');
        path.push_str(&prefix);
        path.push_str(&escaped);
        path.push_str(".slice");
        prefix.push_str(&escaped);
        prefix.push('-');
    }
    path
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(resources: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "1234-abcd"},
            "spec": {"containers": [{"name": "c", "image": "busybox", "resources": resources}]},
        }))
        .expect("pod")
    }

    fn guaranteed() -> Pod {
        pod(json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}))
    }

    fn burstable() -> Pod {
        pod(json!({"requests": {"cpu": "100m"}}))
    }

    fn besteffort() -> Pod {
        pod(json!({}))
    }

    #[test]
    fn cgroupfs_layout() {
        let node = NodeContext::default();
        assert_eq!(pod_cgroup_parent(&guaranteed(), &node), "/kubepods/pod1234-abcd");
        assert_eq!(pod_cgroup_parent(&burstable(), &node), "/kubepods/burstable/pod1234-abcd");
        assert_eq!(pod_cgroup_parent(&besteffort(), &node), "/kubepods/besteffort/pod1234-abcd");
        assert_eq!(qos_cgroup(QosClass::Guaranteed, &node), "/kubepods");
        assert_eq!(qos_cgroup(QosClass::BestEffort, &node), "/kubepods/besteffort");
        assert_eq!(pods_cgroup(&node), "/kubepods");
    }

    #[test]
    fn systemd_layout() {
        let node = NodeContext { cgroup_driver: CgroupDriver::Systemd, ..NodeContext::default() };
        assert_eq!(pod_cgroup_parent(&guaranteed(), &node), "/kubepods.slice/kubepods-pod1234_abcd.slice");
        assert_eq!(
            pod_cgroup_parent(&burstable(), &node),
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_abcd.slice"
        );
        assert_eq!(
            pod_cgroup_parent(&besteffort(), &node),
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234_abcd.slice"
        );
        assert_eq!(qos_cgroup(QosClass::Burstable, &node), "/kubepods.slice/kubepods-burstable.slice");
        assert_eq!(pods_cgroup(&node), "/kubepods.slice");
    }

    #[test]
    fn cgroup_root_and_no_qos_cgroups() {
        let node = NodeContext { cgroup_root: "/edge".into(), ..NodeContext::default() };
        assert_eq!(pod_cgroup_parent(&burstable(), &node), "/edge/kubepods/burstable/pod1234-abcd");
        let systemd = NodeContext { cgroup_driver: CgroupDriver::Systemd, ..node.clone() };
        assert_eq!(qos_cgroup(QosClass::Guaranteed, &systemd), "/edge.slice/edge-kubepods.slice");
        let flat = NodeContext { cgroups_per_qos: false, ..NodeContext::default() };
        assert_eq!(pod_cgroup_parent(&guaranteed(), &flat), "");
        assert_eq!(pods_cgroup(&flat), "/");
        let flat_systemd = NodeContext { cgroup_driver: CgroupDriver::Systemd, ..flat };
        assert_eq!(pods_cgroup(&flat_systemd), "/");
    }

    #[test]
    fn status_qos_class_wins() {
        let mut p = guaranteed();
        p.status.qos_class = Some("BestEffort".into());
        assert_eq!(pod_cgroup_parent(&p, &NodeContext::default()), "/kubepods/besteffort/pod1234-abcd");
    }
}
