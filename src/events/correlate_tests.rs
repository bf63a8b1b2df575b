use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::*;
use crate::api::core::{EventSource, ObjectReference};

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

fn event(pod: &str, reason: &str, message: &str, now: SystemTime) -> Event {
    let mut e = Event {
        involved_object: ObjectReference {
            kind: Some("Pod".into()),
            namespace: Some("ns".into()),
            name: Some(pod.into()),
            uid: Some(format!("uid-{pod}")),
            api_version: Some("v1".into()),
            ..ObjectReference::default()
        },
        reason: Some(reason.into()),
        message: Some(message.into()),
        type_: Some("Normal".into()),
        source: Some(EventSource { component: Some("kubelet".into()), host: Some("n1".into()) }),
        count: Some(1),
        first_timestamp: Some(Time::from(now)),
        last_timestamp: Some(Time::from(now)),
        ..Event::default()
    };
    e.metadata.name = Some(event_name(pod, now));
    e.metadata.namespace = Some("ns".into());
    e
}

fn created(c: Correlated) -> Event {
    match c {
        Correlated::Create(e) => e,
        other => panic!("expected a create, got {other:?}"),
    }
}

fn patched(c: Correlated) -> (Event, Value) {
    match c {
        Correlated::Patch { event, patch } => (event, patch),
        other => panic!("expected a patch, got {other:?}"),
    }
}

#[test]
fn a_repeat_patches_count_and_last_timestamp_of_the_first() {
    let mut c = Correlator::default();
    let first = created(c.correlate(event("p", "Pulled", "pulled x", at(0)), at(0)));
    assert_eq!(first.count, Some(1));
    let (second, patch) = patched(c.correlate(event("p", "Pulled", "pulled x", at(30)), at(30)));
    assert_eq!(second.metadata.name, first.metadata.name, "the repeat reuses the first event's name");
    assert_eq!(second.count, Some(2));
    assert_eq!(second.first_timestamp, first.first_timestamp);
    assert_eq!(second.last_timestamp, Some(Time::from(at(30))));
    assert_eq!(patch, json!({"count": 2, "lastTimestamp": Time::from(at(30)), "message": "pulled x"}));
    // A third, an hour later: dedup has no time limit.
    let (third, patch) = patched(c.correlate(event("p", "Pulled", "pulled x", at(3600)), at(3600)));
    assert_eq!(third.count, Some(3));
    assert_eq!(patch["count"], 3);
}

#[test]
fn the_servers_answer_names_the_object_to_patch() {
    let mut c = Correlator::default();
    let mut stored = created(c.correlate(event("p", "Started", "started", at(0)), at(0)));
    stored.metadata.name = Some("p.server".into());
    stored.metadata.resource_version = Some("77".into());
    c.update_state(&stored);
    let (next, _) = patched(c.correlate(event("p", "Started", "started", at(5)), at(5)));
    assert_eq!(next.metadata.name.as_deref(), Some("p.server"));
    assert_eq!(next.metadata.resource_version.as_deref(), Some("77"));
}

#[test]
fn different_message_field_path_or_object_is_a_new_event() {
    let mut c = Correlator::default();
    created(c.correlate(event("p", "Pulled", "a", at(0)), at(0)));
    created(c.correlate(event("p", "Pulled", "b", at(1)), at(1)));
    created(c.correlate(event("q", "Pulled", "a", at(2)), at(2)));
    let mut other_container = event("p", "Pulled", "a", at(3));
    other_container.involved_object.field_path = Some("spec.containers{c2}".into());
    created(c.correlate(other_container, at(3)));
}

#[test]
fn ten_distinct_messages_for_one_reason_are_combined() {
    let mut c = Correlator::default();
    for i in 0..9 {
        let e = created(c.correlate(event("p", "Failed", &format!("m{i}"), at(i)), at(i)));
        assert_eq!(e.message.as_deref(), Some(format!("m{i}").as_str()));
    }
    let combined = created(c.correlate(event("p", "Failed", "m9", at(9)), at(9)));
    assert_eq!(combined.message.as_deref(), Some("(combined from similar events): m9"));
    assert_eq!(combined.count, Some(1));
    assert!(combined.metadata.name.as_deref().is_some_and(|n| n.starts_with("p.")));
    // Every further distinct message patches the combined event.
    let (more, patch) = patched(c.correlate(event("p", "Failed", "m10", at(10)), at(10)));
    assert_eq!(more.metadata.name, combined.metadata.name);
    assert_eq!(more.count, Some(2));
    assert_eq!(patch["message"], "(combined from similar events): m10");
    // After ten quiet minutes the aggregation starts over.
    let fresh = created(c.correlate(event("p", "Failed", "m11", at(10 + 601)), at(10 + 601)));
    assert_eq!(fresh.message.as_deref(), Some("m11"));
}

#[test]
fn spam_filter_allows_25_per_object_then_one_per_five_minutes() {
    let mut c = Correlator::default();
    // Distinct reasons, so neither dedup nor aggregation kicks in.
    let accepted = (0..30)
        .filter(|i| c.correlate(event("p", &format!("R{i}"), "m", at(0)), at(0)) != Correlated::Skip)
        .count();
    assert_eq!(accepted, 25);
    // Another object has a bucket of its own.
    assert_ne!(c.correlate(event("q", "R0", "m", at(0)), at(0)), Correlated::Skip);
    // 299 s later there is no token yet; at 300 s there is one.
    assert_eq!(c.correlate(event("p", "X1", "m", at(299)), at(299)), Correlated::Skip);
    assert_ne!(c.correlate(event("p", "X2", "m", at(300)), at(300)), Correlated::Skip);
    assert_eq!(c.correlate(event("p", "X3", "m", at(300)), at(300)), Correlated::Skip);
}

#[test]
fn event_names_are_object_dot_hex_nanos_or_a_uuid() {
    let now = UNIX_EPOCH + Duration::from_nanos(0x1234_5678_9abc);
    assert_eq!(event_name("web-0", now), "web-0.123456789abc");
    let long = "a".repeat(250);
    let name = event_name(&long, now);
    assert_eq!(name.len(), 36, "{name}");
    assert_eq!(name.as_bytes()[14], b'4', "version 4: {name}");
    assert!(matches!(name.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "variant: {name}");
    assert!(!is_dns_subdomain("Upper.case"));
    assert!(!is_dns_subdomain("-lead"));
    assert!(is_dns_subdomain("node-1.17f0"));
}
