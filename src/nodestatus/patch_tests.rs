use super::*;
use crate::api::Quantity;
use crate::api::Time;
use crate::api::core::{ContainerImage, NodeAddress, NodeCondition, Taint};

fn condition(t: &str, status: &str, heartbeat: i64) -> NodeCondition {
    NodeCondition {
        type_: t.into(),
        status: status.into(),
        last_heartbeat_time: Some(Time::from_unix(heartbeat)),
        last_transition_time: Some(Time::from_unix(0)),
        reason: Some(format!("{t}{status}")),
        message: None,
    }
}

fn address(t: &str, a: &str) -> NodeAddress {
    NodeAddress { type_: t.into(), address: a.into() }
}

fn base() -> Node {
    let mut node = Node::default();
    node.metadata.name = Some("n1".into());
    node.metadata.resource_version = Some("7".into());
    node.metadata.labels.insert("kubernetes.io/hostname".into(), "n1".into());
    node.status.conditions = vec![condition("MemoryPressure", "False", 0), condition("Ready", "False", 0)];
    node.status.capacity.insert("cpu".into(), Quantity::from_decimal(2));
    node.status.addresses = vec![address("InternalIP", "192.0.2.2"), address("Hostname", "n1")];
    node
}

fn patch(old: &Node, new: &Node) -> Value {
    node_status_patch(old, new).ok().flatten().unwrap_or(Value::Null)
}

#[test]
fn nothing_to_send() {
    assert!(matches!(node_status_patch(&base(), &base()), Ok(None)));
}

#[test]
fn the_spec_is_never_patched() {
    let mut new = base();
    new.spec.taints.push(Taint { key: "k".into(), effect: "NoSchedule".into(), ..Taint::default() });
    new.spec.unschedulable = Some(true);
    assert!(matches!(node_status_patch(&base(), &new), Ok(None)));
}

#[test]
fn conditions_merge_by_type() {
    let mut new = base();
    new.status.conditions = vec![condition("MemoryPressure", "False", 10), condition("Ready", "True", 10)];
    let expected = json!({"status": {
        "$setElementOrder/conditions": [{"type": "MemoryPressure"}, {"type": "Ready"}],
        "conditions": [
            {"type": "MemoryPressure", "lastHeartbeatTime": "1970-01-01T00:00:10Z"},
            {"type": "Ready", "status": "True", "reason": "ReadyTrue", "lastHeartbeatTime": "1970-01-01T00:00:10Z"},
        ],
    }});
    assert_eq!(patch(&base(), &new), expected);
}

#[test]
fn removed_conditions_are_deleted_by_key() {
    let mut new = base();
    new.status.conditions.remove(0);
    let expected = json!({"status": {
        "$setElementOrder/conditions": [{"type": "Ready"}],
        "conditions": [{"$patch": "delete", "type": "MemoryPressure"}],
    }});
    assert_eq!(patch(&base(), &new), expected);
}

#[test]
fn maps_diff_key_by_key() {
    let mut new = base();
    new.status.capacity.insert("pods".into(), Quantity::from_decimal(110));
    new.status.capacity.remove("cpu");
    new.metadata.labels.insert("kubernetes.io/os".into(), "linux".into());
    let expected = json!({
        "metadata": {"labels": {"kubernetes.io/os": "linux"}},
        "status": {"capacity": {"cpu": null, "pods": "110"}},
    });
    assert_eq!(patch(&base(), &new), expected);
}

#[test]
fn changed_addresses_replace_the_whole_list() {
    let mut new = base();
    new.status.addresses = vec![address("InternalIP", "192.0.2.3"), address("Hostname", "n1")];
    let expected = json!({"status": {"addresses": [
        {"type": "InternalIP", "address": "192.0.2.3"},
        {"type": "Hostname", "address": "n1"},
        {"$patch": "replace"},
    ]}});
    assert_eq!(patch(&base(), &new), expected);
}

#[test]
fn first_addresses_are_sent_plainly() {
    let mut old = base();
    old.status.addresses.clear();
    let expected = json!({"status": {"addresses": [
        {"type": "InternalIP", "address": "192.0.2.2"},
        {"type": "Hostname", "address": "n1"},
    ]}});
    assert_eq!(patch(&old, &base()), expected);
}

#[test]
fn other_lists_are_replaced_whole() {
    let mut old = base();
    old.status.images = vec![ContainerImage { names: vec!["a".into()], size_bytes: Some(1) }];
    let mut new = base();
    new.status.images =
        vec![ContainerImage { names: vec!["b".into()], size_bytes: Some(2) }, old.status.images[0].clone()];
    let expected = json!({"status": {"images": [
        {"names": ["b"], "sizeBytes": 2},
        {"names": ["a"], "sizeBytes": 1},
    ]}});
    assert_eq!(patch(&old, &new), expected);
}

#[test]
fn reordering_alone_sends_the_order() {
    let mut new = base();
    new.status.conditions.reverse();
    let expected =
        json!({"status": {"$setElementOrder/conditions": [{"type": "Ready"}, {"type": "MemoryPressure"}]}});
    assert_eq!(patch(&base(), &new), expected);
}
