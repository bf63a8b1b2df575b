//! Posting node events as upstream's event recorder writes them: a `core/v1` Event in
//! `default` (a Node has no namespace), about `{apiVersion: v1, kind: Node, name}` plus the
//! Node's UID once known, from source `kubelet` on this host, named `<node>.<hex nanos>`.
//! Deliberately small (no aggregation, no rate limit): node events are a few per transition;
//! the pod event recorder will take them over.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::api::Time;
use crate::api::core::{Event, EventSource, ObjectReference};
use crate::kubeclient::{Client, ResourcePath};

use super::conditions::NodeEvent;

const COMPONENT: &str = "kubelet";

/// The Event object for `event` about node `node`.
pub(crate) fn node_event(node: &str, uid: Option<&str>, event: &NodeEvent, now: SystemTime) -> Event {
    let nanos = now.duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let time = Time::from(now);
    let mut object = Event {
        api_version: Some("v1".into()),
        kind: Some("Event".into()),
        involved_object: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Node".into()),
            name: Some(node.to_string()),
            uid: uid.filter(|u| !u.is_empty()).map(str::to_string),
            ..ObjectReference::default()
        },
        reason: Some(event.reason.to_string()),
        message: Some(event.message.clone()),
        source: Some(EventSource { component: Some(COMPONENT.into()), host: Some(node.to_string()) }),
        first_timestamp: Some(time),
        last_timestamp: Some(time),
        count: Some(1),
        type_: Some(if event.warning { "Warning" } else { "Normal" }.into()),
        reporting_component: Some(COMPONENT.into()),
        reporting_instance: Some(node.to_string()),
        ..Event::default()
    };
    object.metadata.name = Some(format!("{node}.{nanos:x}"));
    object.metadata.namespace = Some("default".into());
    object
}

/// Posts the events; failures are logged, never retried (as upstream drops them).
pub(crate) fn post(client: &Client, node: &str, uid: Option<&str>, events: &[NodeEvent]) {
    let path = ResourcePath::core("events").namespace("default");
    for event in events {
        log::debug!("Recording event for node {node}: {}", event.reason);
        let object = node_event(node, uid, event, SystemTime::now());
        if let Err(e) = client.create(&path, &object) {
            log::warn!("Unable to record event {} for node {node}: {e}", event.reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn event_shape() {
        let at = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        let ev = NodeEvent::status("n1", "NodeReady");
        let value = serde_json::to_value(node_event("n1", Some("u-1"), &ev, at)).unwrap_or_default();
        let expected = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "n1.17979cfe3d85cd15", "namespace": "default"},
            "involvedObject": {"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "u-1"},
            "reason": "NodeReady",
            "message": "Node n1 status is now: NodeReady",
            "source": {"component": "kubelet", "host": "n1"},
            "firstTimestamp": "2023-11-14T22:13:20Z",
            "lastTimestamp": "2023-11-14T22:13:20Z",
            "count": 1,
            "type": "Normal",
            "reportingComponent": "kubelet",
            "reportingInstance": "n1",
        });
        assert_eq!(value, expected);
        let anonymous = node_event("n1", None, &ev, at);
        assert_eq!(anonymous.involved_object.uid, None, "before the Node exists there is no UID");
    }
}
