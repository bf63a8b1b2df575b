//! The Node we register (upstream's `initialNode`), and how an existing Node of the same
//! name is taken over (`tryRegisterWithAPIServer` after AlreadyExists): the
//! controller-managed attach/detach annotation, the default labels and the huge page
//! resources are brought in line; everything else on it stays.

use std::collections::BTreeMap;

use crate::api::core::Node;

use super::config::{Config, go_arch};

/// Set when the attach/detach controller, not the kubelet, attaches volumes to this node.
pub(crate) const CONTROLLER_MANAGED_ATTACH: &str = "volumes.kubernetes.io/controller-managed-attach-detach";

/// The labels the kubelet owns on its Node (upstream's `updateDefaultLabels` list).
const DEFAULT_LABELS: &[&str] = &[
    "kubernetes.io/hostname",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
    "kubernetes.io/os",
    "kubernetes.io/arch",
    "node.kubernetes.io/windows-build",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/arch",
];

/// Metadata and spec of the Node to create; the caller fills in its status.
pub(crate) fn initial_node(cfg: &Config) -> Node {
    let mut node = Node { api_version: Some("v1".into()), kind: Some("Node".into()), ..Node::default() };
    let meta = &mut node.metadata;
    meta.name = Some(cfg.node_name.clone());
    meta.labels = BTreeMap::from([
        ("kubernetes.io/hostname".to_string(), cfg.hostname.clone()),
        ("kubernetes.io/os".to_string(), "linux".to_string()),
        ("kubernetes.io/arch".to_string(), go_arch().to_string()),
        ("beta.kubernetes.io/os".to_string(), "linux".to_string()),
        ("beta.kubernetes.io/arch".to_string(), go_arch().to_string()),
    ]);
    if cfg.controller_attach_detach {
        meta.annotations.insert(CONTROLLER_MANAGED_ATTACH.to_string(), "true".to_string());
    }
    for (key, value) in &cfg.node_labels {
        if let Some(default) = meta.labels.get(key) {
            log::info!("The node label {key}={value} overrides the default {default:?}");
        }
        meta.labels.insert(key.clone(), value.clone());
    }
    node.spec.taints.clone_from(&cfg.register_with_taints);
    node
}

/// Brings an existing Node in line with the one we would have created; true if it changed.
pub(crate) fn reconcile_existing(initial: &Node, existing: &mut Node) -> bool {
    let mut changed = reconcile_attach_detach(initial, existing);
    changed |= reconcile_default_labels(initial, existing);
    changed |= reconcile_default_resources(initial, existing);
    changed |= reconcile_hugepages(initial, existing);
    changed
}

fn reconcile_attach_detach(initial: &Node, existing: &mut Node) -> bool {
    let wanted = initial.metadata.annotations.get(CONTROLLER_MANAGED_ATTACH);
    let annotations = &mut existing.metadata.annotations;
    if annotations.get(CONTROLLER_MANAGED_ATTACH) == wanted {
        return false;
    }
    match wanted {
        Some(value) => {
            log::info!("Controller attach-detach setting changed to true; updating the existing Node");
            annotations.insert(CONTROLLER_MANAGED_ATTACH.to_string(), value.clone());
        }
        None => {
            log::info!("Controller attach-detach setting changed to false; updating the existing Node");
            annotations.remove(CONTROLLER_MANAGED_ATTACH);
        }
    }
    true
}

fn reconcile_default_labels(initial: &Node, existing: &mut Node) -> bool {
    let mut changed = false;
    let labels = &mut existing.metadata.labels;
    for key in DEFAULT_LABELS {
        let Some(wanted) = initial.metadata.labels.get(*key) else { continue };
        if labels.get(*key) != Some(wanted) {
            labels.insert((*key).to_string(), wanted.clone());
            changed = true;
        }
        if labels.get(*key).is_some_and(String::is_empty) {
            labels.remove(*key);
        }
    }
    changed
}

/// An existing Node without capacity or allocatable gets ours.
fn reconcile_default_resources(initial: &Node, existing: &mut Node) -> bool {
    let mut changed = false;
    if existing.status.capacity.is_empty() && !initial.status.capacity.is_empty() {
        existing.status.capacity.clone_from(&initial.status.capacity);
        changed = true;
    }
    if existing.status.allocatable.is_empty() && !initial.status.allocatable.is_empty() {
        existing.status.allocatable.clone_from(&initial.status.allocatable);
        changed = true;
    }
    changed
}

/// Huge page sizes: ours are set, sizes the host no longer has are removed.
fn reconcile_hugepages(initial: &Node, existing: &mut Node) -> bool {
    let is_huge = |name: &String| name.starts_with("hugepages-");
    let mut changed = false;
    for (name, capacity) in initial.status.capacity.iter().filter(|(n, _)| is_huge(n)) {
        let status = &mut existing.status;
        if status.capacity.get(name) != Some(capacity) {
            status.capacity.insert(name.clone(), capacity.clone());
            changed = true;
        }
        let allocatable = initial.status.allocatable.get(name).cloned().unwrap_or_default();
        if status.allocatable.get(name) != Some(&allocatable) {
            status.allocatable.insert(name.clone(), allocatable);
            changed = true;
        }
    }
    let gone: Vec<String> = existing
        .status
        .capacity
        .keys()
        .filter(|n| is_huge(n) && !initial.status.capacity.contains_key(*n))
        .cloned()
        .collect();
    for name in gone {
        log::info!("Removing huge page resource {name}, which is no longer supported");
        existing.status.capacity.remove(&name);
        existing.status.allocatable.remove(&name);
        changed = true;
    }
    changed
}

#[cfg(test)]
#[path = "register_tests.rs"]
mod tests;
