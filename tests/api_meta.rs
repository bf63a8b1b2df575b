//! meta/v1 pieces that the API client builds or parses: watch events, Status, DeleteOptions,
//! lists, and the REST names of each kind.

use rkubelet::api::core::{Node, Pod};
use rkubelet::api::meta::{DeleteOptions, Preconditions, TypedWatchEvent, WatchEventError};
use rkubelet::api::{
    self, List, Resource, Status, WatchEvent, authentication, certificates, coordination,
};
use serde_json::json;

fn watch_event(line: &str) -> WatchEvent {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

#[test]
fn watch_events_decode_by_type() {
    let added = watch_event(
        r#"{"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"7"}}}"#,
    );
    match added.typed::<Pod>() {
        Ok(TypedWatchEvent::Added(p)) => {
            assert_eq!(p.metadata.resource_version.as_deref(), Some("7"))
        }
        other => panic!("{other:?}"),
    }
    let bookmark = watch_event(
        r#"{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"12"}}}"#,
    );
    assert!(matches!(
        bookmark.typed::<Pod>(),
        Ok(TypedWatchEvent::Bookmark(_))
    ));
    let deleted = watch_event(r#"{"type":"DELETED","object":{"metadata":{"name":"a"}}}"#);
    assert!(matches!(
        deleted.typed::<Pod>(),
        Ok(TypedWatchEvent::Deleted(_))
    ));
    let modified = watch_event(r#"{"type":"MODIFIED","object":{"metadata":{"name":"a"}}}"#);
    assert!(matches!(
        modified.typed::<Pod>(),
        Ok(TypedWatchEvent::Modified(_))
    ));

    let gone = watch_event(
        r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
        "message":"too old resource version: 1 (5)","reason":"Expired","code":410}}"#,
    );
    match gone.typed::<Pod>() {
        Ok(TypedWatchEvent::Error(status)) => {
            assert_eq!(status.code, Some(410));
            assert_eq!(status.reason.as_deref(), Some("Expired"));
        }
        other => panic!("{other:?}"),
    }
    let odd = watch_event(r#"{"type":"RENAMED","object":{}}"#);
    assert!(matches!(odd.typed::<Pod>(), Err(WatchEventError::UnknownType(t)) if t == "RENAMED"));
    let bad = watch_event(r#"{"type":"ADDED","object":{"metadata":{"name":5}}}"#);
    let err = bad
        .typed::<Pod>()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with("watch event ADDED: object does not decode"),
        "{err}"
    );
}

#[test]
fn status_with_details_round_trips() {
    let original = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {"resourceVersion": "3"},
        "status": "Failure", "message": "pods \"a\" is forbidden", "reason": "Forbidden",
        "details": {"name": "a", "group": "", "kind": "pods", "uid": "u",
            "causes": [{"reason": "FieldValueInvalid", "message": "bad", "field": "spec.nodeName"}],
            "retryAfterSeconds": 2},
        "code": 403
    });
    let status: Status = serde_json::from_value(original.clone()).unwrap_or_default();
    assert_eq!(status.details.as_ref().map(|d| d.causes.len()), Some(1));
    assert_eq!(serde_json::to_value(&status).ok(), Some(original));
}

#[test]
fn delete_options_with_uid_precondition() {
    let options = DeleteOptions {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions {
            uid: Some("1234".into()),
            resource_version: None,
        }),
        ..DeleteOptions::default()
    };
    let value = serde_json::to_value(&options).unwrap_or_default();
    assert_eq!(
        value,
        json!({"gracePeriodSeconds": 0, "preconditions": {"uid": "1234"}})
    );
}

#[test]
fn lists_always_write_items_and_accept_missing_ones() {
    let empty: List<Pod> = api::decode(
        br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9"}}"#,
        "list",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(empty.items.is_empty());
    assert_eq!(empty.metadata.resource_version.as_deref(), Some("9"));
    let written = serde_json::to_value(&empty).unwrap_or_default();
    assert_eq!(written["items"], json!([]));
    let cont: List<Node> = api::decode(
        br#"{"metadata":{"continue":"tok","remainingItemCount":4},"items":[{}]}"#,
        "list",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(cont.metadata.continue_.as_deref(), Some("tok"));
    assert_eq!(cont.metadata.remaining_item_count, Some(4));
    assert_eq!(cont.items.len(), 1);
}

#[test]
fn minimal_objects_write_only_what_is_set() {
    let mut pod = Pod::default();
    pod.metadata.name = Some("a".into());
    let value = serde_json::to_value(&pod).unwrap_or_default();
    assert_eq!(
        value,
        json!({"metadata": {"name": "a"}, "spec": {}, "status": {}})
    );
}

#[test]
fn resource_names_for_rest_paths() {
    assert_eq!(
        (Pod::API_VERSION, Pod::KIND, Pod::PLURAL, Pod::NAMESPACED),
        ("v1", "Pod", "pods", true)
    );
    assert_eq!(
        (Node::GROUP, Node::PLURAL, Node::NAMESPACED),
        ("", "nodes", false)
    );
    assert_eq!(coordination::Lease::API_VERSION, "coordination.k8s.io/v1");
    assert_eq!(
        certificates::CertificateSigningRequest::PLURAL,
        "certificatesigningrequests"
    );
    assert_eq!(
        authentication::TokenReview::API_VERSION,
        "authentication.k8s.io/v1"
    );
    let mut pod = Pod::default();
    pod.metadata_mut().uid = Some("u".into());
    assert_eq!(pod.metadata().uid(), "u");
}
