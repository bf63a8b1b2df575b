use super::*;
use crate::api::Time;
use crate::api::core::{Container, PodStatus};
use crate::api::meta::OwnerReference;

const SEEN: &str = "2025-01-02T03:04:05.000000006Z";

fn pod(uid: &str, name: &str) -> Pod {
    let mut p = Pod::default();
    p.metadata.uid = Some(uid.to_string());
    p.metadata.name = Some(name.to_string());
    p.metadata.namespace = Some("default".to_string());
    p.spec.containers = vec![Container {
        name: "c".to_string(),
        image: Some("busybox:1.35".to_string()),
        ..Container::default()
    }];
    p
}

/// Applies `edit` to a copy of `p`.
fn edited(p: &Pod, edit: impl FnOnce(&mut Pod)) -> Pod {
    let mut p = p.clone();
    edit(&mut p);
    p
}

fn uids(pods: &[Pod]) -> Vec<&str> {
    pods.iter().map(|p| p.metadata.uid()).collect()
}

/// Stores `before` as the source's previous set, then merges `after`.
fn run(before: Vec<Pod>, after: Vec<Pod>) -> (SourcePods, Changes) {
    let (previous, _) = merge(&SourcePods::new(), before, Source::Api, "first");
    merge(&previous, after, Source::Api, SEEN)
}

#[test]
fn classifies_each_kind_of_change() {
    let a = pod("a", "a");
    let b = pod("b", "b");
    // (case, before, after, removes, adds, updates, deletes, reconciles)
    type Case = (
        &'static str,
        Vec<Pod>,
        Vec<Pod>,
        [&'static [&'static str]; 5],
    );
    let cases: Vec<Case> = vec![
        (
            "first set",
            vec![],
            vec![a.clone(), b.clone()],
            [&[], &["a", "b"], &[], &[], &[]],
        ),
        (
            "identical set",
            vec![a.clone()],
            vec![a.clone()],
            [&[], &[], &[], &[], &[]],
        ),
        (
            "pod gone",
            vec![a.clone(), b.clone()],
            vec![b.clone()],
            [&["a"], &[], &[], &[], &[]],
        ),
        (
            "empty set",
            vec![a.clone(), b.clone()],
            vec![],
            [&["a", "b"], &[], &[], &[], &[]],
        ),
        (
            "new uid",
            vec![a.clone()],
            vec![a.clone(), b.clone()],
            [&[], &["b"], &[], &[], &[]],
        ),
        (
            "spec changed",
            vec![a.clone()],
            vec![edited(&a, |p| {
                p.spec.containers[0].image = Some("busybox:1.36".into())
            })],
            [&[], &[], &["a"], &[], &[]],
        ),
        (
            "label changed",
            vec![a.clone()],
            vec![edited(&a, |p| {
                p.metadata.labels.insert("k".into(), "v".into());
            })],
            [&[], &[], &["a"], &[], &[]],
        ),
        (
            "annotation changed",
            vec![a.clone()],
            vec![edited(&a, |p| {
                p.metadata.annotations.insert("k".into(), "v".into());
            })],
            [&[], &[], &["a"], &[], &[]],
        ),
        (
            "only config.seen differs",
            vec![a.clone()],
            vec![edited(&a, |p| {
                p.metadata
                    .annotations
                    .insert(CONFIG_SEEN_ANNOTATION.into(), "later".into());
            })],
            [&[], &[], &[], &[], &[]],
        ),
        (
            "owner references changed",
            vec![a.clone()],
            vec![edited(&a, |p| {
                p.metadata.owner_references = vec![OwnerReference::default()]
            })],
            [&[], &[], &["a"], &[], &[]],
        ),
        (
            "grace period changed",
            vec![a.clone()],
            vec![edited(&a, |p| {
                p.metadata.deletion_grace_period_seconds = Some(5)
            })],
            [&[], &[], &["a"], &[], &[]],
        ),
        (
            "deletion timestamp set",
            vec![a.clone()],
            vec![edited(&a, |p| {
                p.metadata.deletion_timestamp = Some(Time::from_unix(100));
                p.metadata.deletion_grace_period_seconds = Some(30);
            })],
            [&[], &[], &[], &["a"], &[]],
        ),
        (
            "only status changed",
            vec![a.clone()],
            vec![edited(&a, |p| p.status.phase = Some("Running".into()))],
            [&[], &[], &[], &[], &["a"]],
        ),
        (
            "spec and status changed is one update",
            vec![a.clone()],
            vec![edited(&a, |p| {
                p.spec.restart_policy = Some("Never".into());
                p.status.phase = Some("Running".into());
            })],
            [&[], &[], &["a"], &[], &[]],
        ),
        (
            "resourceVersion alone is no change",
            vec![a.clone()],
            vec![edited(&a, |p| {
                p.metadata.resource_version = Some("7".into())
            })],
            [&[], &[], &[], &[], &[]],
        ),
        (
            "all at once",
            vec![a.clone(), b.clone(), pod("c", "c")],
            vec![
                edited(&a, |p| p.spec.hostname = Some("h".into())),
                edited(&b, |p| p.status.message = Some("m".into())),
                pod("d", "d"),
            ],
            [&["c"], &["d"], &["a"], &[], &["b"]],
        ),
    ];
    for (name, before, after, [removes, adds, updates, deletes, reconciles]) in cases {
        let (_, ch) = run(before, after);
        assert_eq!(uids(&ch.removes), removes, "{name}: removes");
        assert_eq!(uids(&ch.adds), adds, "{name}: adds");
        assert_eq!(uids(&ch.updates), updates, "{name}: updates");
        assert_eq!(uids(&ch.deletes), deletes, "{name}: deletes");
        assert_eq!(uids(&ch.reconciles), reconciles, "{name}: reconciles");
    }
}

#[test]
fn added_pods_get_source_and_seen() {
    let (stored, ch) = run(vec![], vec![pod("a", "a")]);
    let ann = &ch.adds[0].metadata.annotations;
    assert_eq!(ann[CONFIG_SOURCE_ANNOTATION], "api");
    assert_eq!(ann[CONFIG_SEEN_ANNOTATION], SEEN);
    assert_eq!(stored["a"], ch.adds[0]);
}

#[test]
fn update_keeps_first_seen_and_stores_new_spec() {
    let a = pod("a", "a");
    let changed = edited(&a, |p| {
        p.spec.hostname = Some("h".into());
        p.metadata
            .annotations
            .insert(CONFIG_SEEN_ANNOTATION.into(), "other".into());
    });
    let (stored, ch) = run(vec![a], vec![changed]);
    assert_eq!(
        ch.updates[0].metadata.annotation(CONFIG_SEEN_ANNOTATION),
        Some("first")
    );
    assert_eq!(stored["a"].spec.hostname.as_deref(), Some("h"));
    assert_eq!(stored["a"], ch.updates[0]);
}

#[test]
fn reconcile_stores_new_status_only() {
    let a = pod("a", "a");
    let running = edited(&a, |p| {
        p.status = PodStatus {
            phase: Some("Running".into()),
            ..PodStatus::default()
        };
        p.metadata.resource_version = Some("9".into());
    });
    let (stored, ch) = run(vec![a], vec![running]);
    assert_eq!(stored["a"].status.phase.as_deref(), Some("Running"));
    assert_eq!(stored["a"].metadata.resource_version, None);
    assert_eq!(ch.reconciles[0], stored["a"]);
}

#[test]
fn duplicate_full_name_later_one_ignored() {
    let first = pod("a", "same");
    let second = pod("b", "same");
    let (stored, ch) = run(vec![], vec![first, second]);
    assert_eq!(uids(&ch.adds), ["a"]);
    assert_eq!(stored.keys().collect::<Vec<_>>(), ["a"]);
}

#[test]
fn same_name_other_namespace_is_no_duplicate() {
    let other = edited(&pod("b", "same"), |p| {
        p.metadata.namespace = Some("kube-system".into())
    });
    let (_, ch) = run(vec![], vec![pod("a", "same"), other]);
    assert_eq!(uids(&ch.adds), ["a", "b"]);
}

#[test]
fn pods_without_uid_or_repeated_uid_are_ignored() {
    let no_uid = edited(&pod("", "x"), |p| p.metadata.uid = None);
    let (stored, ch) = run(vec![], vec![no_uid, pod("a", "a"), pod("a", "a2")]);
    assert_eq!(uids(&ch.adds), ["a"]);
    assert_eq!(stored.len(), 1);
}

#[test]
fn differ_semantically_ignores_local_annotations_only() {
    let a = pod("a", "a");
    for key in LOCAL_ANNOTATIONS {
        let b = edited(&a, |p| {
            p.metadata.annotations.insert(key.into(), "x".into());
        });
        assert!(!differ_semantically(&a, &b), "{key}");
    }
    let b = edited(&a, |p| {
        p.metadata
            .annotations
            .insert(super::super::CONFIG_HASH_ANNOTATION.into(), "x".into());
    });
    assert!(differ_semantically(&a, &b));
}
