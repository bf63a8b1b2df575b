use super::*;
use crate::kubeclient::KubeObject;

fn pod(uid: &str, name: &str, rv: &str) -> Pod {
    let mut p = Pod::default();
    p.metadata.uid = Some(uid.into());
    p.metadata.name = Some(name.into());
    p.metadata.namespace = Some("default".into());
    p.metadata.resource_version = Some(rv.into());
    p
}

fn names(set: &PodSet) -> Vec<String> {
    set.pods()
        .iter()
        .map(|p| format!("{}@{}", p.metadata.name(), p.metadata.resource_version.as_deref().unwrap_or("")))
        .collect()
}

#[test]
fn events_keep_the_whole_set_by_uid() {
    let mut set = PodSet::default();
    set.apply(ReflectorEvent::Snapshot(vec![pod("u2", "b", "1"), pod("u1", "a", "1")]));
    assert_eq!(names(&set), ["a@1", "b@1"]);
    set.apply(ReflectorEvent::Added(pod("u3", "c", "2")));
    set.apply(ReflectorEvent::Modified(pod("u1", "a", "3")));
    set.apply(ReflectorEvent::Deleted(pod("u2", "b", "4")));
    assert_eq!(names(&set), ["a@3", "c@2"]);
    // A pod deleted and recreated under the same name is another UID: both are seen.
    set.apply(ReflectorEvent::Added(pod("u4", "a", "5")));
    assert_eq!(set.pods().len(), 3);
    // A relist replaces everything (pods deleted meanwhile disappear).
    set.apply(ReflectorEvent::Snapshot(vec![pod("u3", "c", "6")]));
    assert_eq!(names(&set), ["c@6"]);
    set.apply(ReflectorEvent::Snapshot(vec![]));
    assert!(set.pods().is_empty());
}

#[test]
fn coalescer_sends_at_once_when_idle_then_paces_bursts() {
    let ms = Duration::from_millis;
    let t0 = Instant::now();
    let mut c = Coalescer::new(ms(100));
    assert_eq!(c.deadline(), None, "nothing pending");
    assert!(!c.due(t0));
    c.changed();
    assert!(c.due(t0), "first change goes at once");
    c.sent(t0);
    assert!(!c.due(t0 + ms(500)), "sent: nothing pending");

    // A burst right after a send waits for the interval, then goes as one.
    c.changed();
    c.changed();
    assert!(!c.due(t0 + ms(10)));
    assert_eq!(c.deadline(), Some(t0 + ms(100)));
    assert!(c.due(t0 + ms(100)));
    c.sent(t0 + ms(100));

    // After a quiet spell longer than the interval, a change goes at once again.
    c.changed();
    assert!(c.due(t0 + ms(350)));
    assert!(c.deadline().is_some_and(|d| d <= t0 + ms(200)));
}

#[test]
fn pods_are_kube_objects() {
    let p = pod("u1", "a", "7");
    assert_eq!(KubeObject::uid(&p), Some("u1"));
    assert_eq!(KubeObject::name(&p), Some("a"));
    assert_eq!(KubeObject::namespace(&p), Some("default"));
    assert_eq!(p.resource_version(), Some("7"));
}
