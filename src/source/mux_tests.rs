use std::time::Duration;

use super::*;
use crate::api::core::Pod;

fn pod(uid: &str) -> Pod {
    let mut p = Pod::default();
    p.metadata.uid = Some(uid.to_string());
    p.metadata.name = Some(format!("pod-{uid}"));
    p.metadata.namespace = Some("default".to_string());
    p
}

fn set(source: Source, pods: Vec<Pod>) -> SourceUpdate {
    SourceUpdate { source, pods }
}

/// `(op or "READY", uids)` per event, for compact comparisons.
fn summary(events: &[ConfigEvent]) -> Vec<(String, Vec<String>)> {
    events
        .iter()
        .map(|e| match e {
            ConfigEvent::SourceReady(s) => (format!("READY {s}"), vec![]),
            ConfigEvent::Update(u) => (
                format!("{} {}", u.op, u.source),
                u.pods
                    .iter()
                    .map(|p| p.metadata.uid().to_string())
                    .collect(),
            ),
        })
        .collect()
}

fn s(op: &str, uids: &[&str]) -> (String, Vec<String>) {
    (op.to_string(), uids.iter().map(|u| u.to_string()).collect())
}

#[test]
fn empty_first_set_only_marks_ready() {
    let mut mux = MuxState::default();
    let events = mux.apply(set(Source::File, vec![]), "t");
    assert_eq!(summary(&events), [s("READY file", &[])]);
    assert!(mux.seen_all(&[Source::File]));
    assert!(!mux.seen_all(&[Source::File, Source::Http]));
    assert!(mux.apply(set(Source::File, vec![]), "t").is_empty());
}

#[test]
fn ready_follows_the_first_adds_once() {
    let mut mux = MuxState::default();
    let events = mux.apply(set(Source::Http, vec![pod("a")]), "t");
    assert_eq!(
        summary(&events),
        [s("ADD http", &["a"]), s("READY http", &[])]
    );
    let events = mux.apply(set(Source::Http, vec![pod("a"), pod("b")]), "t");
    assert_eq!(summary(&events), [s("ADD http", &["b"])]);
}

#[test]
fn events_come_in_upstream_order() {
    let mut mux = MuxState::default();
    mux.apply(
        set(Source::Api, vec![pod("a"), pod("b"), pod("c"), pod("d")]),
        "t",
    );
    let mut changed = pod("b");
    changed.spec.hostname = Some("x".into());
    let mut deleting = pod("c");
    deleting.metadata.deletion_timestamp = Some(crate::api::Time::from_unix(1));
    let mut status = pod("d");
    status.status.phase = Some("Running".into());
    let events = mux.apply(
        set(Source::Api, vec![changed, deleting, status, pod("e")]),
        "t",
    );
    assert_eq!(
        summary(&events),
        [
            s("REMOVE api", &["a"]),
            s("ADD api", &["e"]),
            s("UPDATE api", &["b"]),
            s("DELETE api", &["c"]),
            s("RECONCILE api", &["d"]),
        ]
    );
}

#[test]
fn sources_are_kept_apart() {
    let mut mux = MuxState::default();
    mux.apply(set(Source::File, vec![pod("a")]), "t");
    // The same full name from another source is not a duplicate (mirror pods share names).
    let events = mux.apply(set(Source::Api, vec![pod("m")]), "t");
    assert_eq!(
        summary(&events),
        [s("ADD api", &["m"]), s("READY api", &[])]
    );
    // Emptying one source removes only its pods.
    let events = mux.apply(set(Source::Api, vec![]), "t");
    assert_eq!(summary(&events), [s("REMOVE api", &["m"])]);
    assert_eq!(mux.pods(Source::File).map(|p| p.len()), Some(1));
}

#[test]
fn thread_forwards_events_and_stops_when_sources_are_gone() {
    let (tx, rx) = crossbeam_channel::unbounded();
    let mux = spawn(MuxDeps { events: tx }).expect("spawn rk-mux");
    let source = mux.sender();
    source
        .send(set(Source::File, vec![pod("a")]))
        .expect("send");
    let wait = Duration::from_secs(5);
    let first = rx.recv_timeout(wait).expect("ADD event");
    let second = rx.recv_timeout(wait).expect("READY event");
    assert_eq!(
        summary(&[first.clone(), second]),
        [s("ADD file", &["a"]), s("READY file", &[])]
    );
    let ConfigEvent::Update(update) = first else {
        panic!("not an update: {first:?}");
    };
    let seen = update.pods[0]
        .metadata
        .annotation(crate::source::CONFIG_SEEN_ANNOTATION);
    assert!(
        seen.is_some_and(|t| t.ends_with('Z') && t.len() == 30),
        "{seen:?}"
    );
    drop(source);
    mux.join();
    assert!(
        rx.recv_timeout(wait).is_err(),
        "mux thread should have ended"
    );
}
