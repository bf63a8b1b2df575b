use super::*;
use crate::api::Quantity;
use crate::api::core::Taint;

fn config() -> Config {
    let mut cfg = Config::new("n1", Vec::new());
    cfg.hostname = "host-1".into();
    cfg.node_labels = BTreeMap::from([
        ("role".to_string(), "edge".to_string()),
        ("kubernetes.io/hostname".to_string(), "alias".to_string()),
    ]);
    cfg.register_with_taints = vec![Taint {
        key: "k".into(),
        value: Some("v".into()),
        effect: "NoSchedule".into(),
        time_added: None,
    }];
    cfg
}

#[test]
fn the_initial_node() {
    let node = initial_node(&config());
    assert_eq!(node.metadata.name.as_deref(), Some("n1"));
    let labels: Vec<(&str, &str)> =
        node.metadata.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let arch = go_arch();
    assert_eq!(
        labels,
        [
            ("beta.kubernetes.io/arch", arch),
            ("beta.kubernetes.io/os", "linux"),
            ("kubernetes.io/arch", arch),
            ("kubernetes.io/hostname", "alias"),
            ("kubernetes.io/os", "linux"),
            ("role", "edge"),
        ],
        "--node-labels win over the defaults"
    );
    assert_eq!(node.metadata.annotation(CONTROLLER_MANAGED_ATTACH), Some("true"));
    assert_eq!(node.spec.taints.len(), 1);
    let mut cfg = config();
    cfg.controller_attach_detach = false;
    assert!(initial_node(&cfg).metadata.annotations.is_empty());
}

#[test]
fn an_existing_node_is_taken_over() {
    let mut initial = initial_node(&config());
    initial.status.capacity.insert("cpu".into(), Quantity::from_decimal(2));
    initial.status.capacity.insert("hugepages-2Mi".into(), Quantity::from_decimal(0));
    initial.status.allocatable.insert("hugepages-2Mi".into(), Quantity::from_decimal(0));
    let mut existing = Node::default();
    existing.metadata.labels.insert("kubernetes.io/hostname".into(), "old".into());
    existing.metadata.labels.insert("custom".into(), "kept".into());
    existing.status.capacity.insert("hugepages-1Gi".into(), Quantity::from_decimal(0));
    existing.status.allocatable.insert("hugepages-1Gi".into(), Quantity::from_decimal(0));
    assert!(reconcile_existing(&initial, &mut existing));
    let labels = &existing.metadata.labels;
    assert_eq!(labels.get("kubernetes.io/hostname").map(String::as_str), Some("alias"));
    assert_eq!(labels.get("custom").map(String::as_str), Some("kept"));
    assert!(!labels.contains_key("role"), "--node-labels are not forced onto an existing Node, as upstream");
    assert_eq!(existing.metadata.annotation(CONTROLLER_MANAGED_ATTACH), Some("true"));
    assert!(existing.status.capacity.contains_key("hugepages-2Mi"));
    assert!(!existing.status.capacity.contains_key("hugepages-1Gi"), "a size the host lost goes");
    assert!(!existing.status.allocatable.contains_key("hugepages-1Gi"));
    assert!(
        !existing.status.capacity.contains_key("cpu"),
        "capacity was not empty: left for the status update"
    );
    assert!(!reconcile_existing(&initial, &mut existing), "a second pass finds nothing to do");
}

#[test]
fn empty_capacity_is_filled_and_the_annotation_removed() {
    let mut cfg = config();
    cfg.controller_attach_detach = false;
    let mut initial = initial_node(&cfg);
    initial.status.capacity.insert("cpu".into(), Quantity::from_decimal(2));
    let mut existing = Node::default();
    existing.metadata.annotations.insert(CONTROLLER_MANAGED_ATTACH.into(), "true".into());
    assert!(reconcile_existing(&initial, &mut existing));
    assert!(existing.metadata.annotations.is_empty());
    assert_eq!(existing.status.capacity.get("cpu"), Some(&Quantity::from_decimal(2)));
}
