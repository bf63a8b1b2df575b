//! Expected patches were produced by upstream's `strategicpatch.CreateTwoWayMergePatch`
//! (apimachinery v0.37.2) on the same statuses, less Go's zero values (`lastProbeTime: null`,
//! `lastState: {}`) that our types do not write.

use serde_json::{Value, json};

use super::*;

fn status(v: Value) -> PodStatus {
    serde_json::from_value(v).expect("status")
}

fn patch(old: Value, new: Value) -> Option<Value> {
    status_patch("u-1", &status(old), &status(new)).expect("patch")
}

#[test]
fn unchanged_status_gives_no_patch() {
    let s = json!({"phase": "Running", "conditions": [{"type": "A", "status": "True"}]});
    assert_eq!(patch(s.clone(), s), None);
}

#[test]
fn scalars_conditions_and_container_statuses() {
    let old = json!({"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"},
        {"type": "example.com/Gate", "status": "True"}]});
    let new = json!({"phase": "Running",
        "conditions": [
            {"type": "example.com/Gate", "status": "True"},
            {"type": "Ready", "status": "True", "lastTransitionTime": "2024-01-01T00:00:05Z"},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-01-01T00:00:00Z"}],
        "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "image": "busybox",
            "imageID": "", "state": {"running": {"startedAt": "2024-01-01T00:00:03Z"}}}]});
    let want = json!({"metadata": {"uid": "u-1"}, "status": {
        "$setElementOrder/conditions": [{"type": "example.com/Gate"}, {"type": "Ready"}, {"type": "PodScheduled"}],
        "conditions": [{"lastTransitionTime": "2024-01-01T00:00:05Z", "status": "True", "type": "Ready"}],
        "containerStatuses": [{"image": "busybox", "imageID": "", "name": "app", "ready": true,
            "restartCount": 0, "state": {"running": {"startedAt": "2024-01-01T00:00:03Z"}}}],
        "phase": "Running"}});
    assert_eq!(patch(old, new), Some(want));
}

#[test]
fn deletions_and_keyed_ip_lists() {
    let old = json!({"phase": "Running", "message": "m",
        "conditions": [{"type": "A", "status": "True"}, {"type": "B", "status": "False"}, {"type": "C", "status": "True"}],
        "podIPs": [{"ip": "10.0.0.1"}]});
    let new = json!({"phase": "Running",
        "conditions": [{"type": "C", "status": "True"}, {"type": "A", "status": "True"}],
        "podIPs": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}]});
    let want = json!({"metadata": {"uid": "u-1"}, "status": {
        "$setElementOrder/conditions": [{"type": "C"}, {"type": "A"}],
        "$setElementOrder/podIPs": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}],
        "conditions": [{"$patch": "delete", "type": "B"}],
        "message": null,
        "podIPs": [{"ip": "fd00::1"}]}});
    assert_eq!(patch(old, new), Some(want));
}

#[test]
fn lists_added_whole_reordered_and_maps_merged() {
    let added = patch(
        json!({"phase": "Running"}),
        json!({"phase": "Running", "conditions": [{"type": "A", "status": "True"}], "podIPs": [{"ip": "10.0.0.1"}]}),
    );
    let want = json!({"metadata": {"uid": "u-1"}, "status": {
        "conditions": [{"status": "True", "type": "A"}], "podIPs": [{"ip": "10.0.0.1"}]}});
    assert_eq!(added, Some(want), "a list new to the status is sent whole, without an order list");

    let moved = patch(
        json!({"conditions": [{"type": "A", "status": "True"}, {"type": "B", "status": "True"}]}),
        json!({"conditions": [{"type": "B", "status": "True"}, {"type": "A", "status": "True"}]}),
    );
    let want = json!({"metadata": {"uid": "u-1"}, "status": {
        "$setElementOrder/conditions": [{"type": "B"}, {"type": "A"}]}});
    assert_eq!(moved, Some(want), "only the order changed");

    let resources = patch(
        json!({"allocatedResources": {"cpu": "1", "memory": "1Gi"}}),
        json!({"allocatedResources": {"cpu": "2"}}),
    );
    let want =
        json!({"metadata": {"uid": "u-1"}, "status": {"allocatedResources": {"cpu": "2", "memory": null}}});
    assert_eq!(resources, Some(want));
}

#[test]
fn container_statuses_are_replaced_whole() {
    let old = json!({"containerStatuses": [
        {"name": "a", "ready": true, "restartCount": 0, "image": "x", "imageID": ""},
        {"name": "b", "ready": true, "restartCount": 0, "image": "x", "imageID": ""}]});
    let new = json!({"containerStatuses": [
        {"name": "a", "ready": true, "restartCount": 0, "image": "x", "imageID": ""},
        {"name": "b", "ready": false, "restartCount": 1, "image": "x", "imageID": ""}]});
    let got = patch(old, new.clone()).expect("patch");
    assert_eq!(got["status"]["containerStatuses"], new["containerStatuses"]);
    assert!(got["status"].get("$setElementOrder/containerStatuses").is_none());
}
