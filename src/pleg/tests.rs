use std::collections::BTreeMap;
use std::sync::Mutex;

use super::*;
use crate::kuberuntime::{ContainerState, ContainerStatus, SandboxState};

/// A runtime whose contents the test sets.
#[derive(Clone, Default)]
struct Fake(Arc<Mutex<Vec<RuntimePod>>>);

impl Fake {
    fn set(&self, pods: Vec<RuntimePod>) {
        if let Ok(mut p) = self.0.lock() {
            *p = pods;
        }
    }
}

impl Relister for Fake {
    fn relist(&mut self) -> Result<Vec<RuntimePod>, String> {
        self.0.lock().map(|p| p.clone()).map_err(|e| e.to_string())
    }
    fn pod_status(&mut self, uid: &str) -> Result<PodStatus, String> {
        let pods = self.0.lock().map_err(|e| e.to_string())?;
        let Some(p) = pods.iter().find(|p| p.uid == uid) else {
            return Ok(PodStatus { uid: uid.into(), ..Default::default() });
        };
        Ok(PodStatus {
            uid: uid.into(),
            containers: p
                .containers
                .iter()
                .map(|(id, st)| ContainerStatus { id: id.clone(), name: "c".into(), state: Some(*st), ..Default::default() })
                .collect(),
            ..Default::default()
        })
    }
}

fn rp(uid: &str, c: &[(&str, ContainerState)]) -> RuntimePod {
    RuntimePod {
        uid: uid.into(),
        containers: c.iter().map(|(i, s)| (i.to_string(), *s)).collect(),
        sandboxes: BTreeMap::from([(format!("sb-{uid}"), SandboxState::Ready)]),
        ..Default::default()
    }
}

const T: Duration = Duration::from_secs(5);

#[test]
fn events_flow_and_waiters_get_fresh_status() {
    let fake = Fake::default();
    fake.set(vec![rp("a", &[("c1", ContainerState::Running)])]);
    let (etx, erx) = crossbeam_channel::unbounded();
    let h = spawn(Config { relist_period: Duration::from_millis(50) }, fake.clone(), etx).ok();
    let Some(h) = h else { panic!("spawn failed") };
    let first = erx.recv_timeout(T).ok().map(|e| e.kind);
    assert_eq!(first, Some(EventKind::ContainerStarted));
    let s = h.newer_than("a", None, T);
    assert_eq!(s.map(|s| s.containers.len()), Some(1));

    // A waiter for a status newer than "now" is answered only after the container died.
    let since = Instant::now();
    fake.set(vec![rp("a", &[("c1", ContainerState::Exited)])]);
    let s = h.newer_than("a", Some(since), T);
    assert_eq!(s.and_then(|s| s.containers.first().and_then(|c| c.state)), Some(ContainerState::Exited));
    let died = erx.iter().find(|e| e.kind == EventKind::ContainerDied);
    assert_eq!(died.map(|e| e.id), Some("c1".into()));
    assert!(h.healthy(Duration::from_secs(60)));

    // Gone from the runtime: removed events, and the snapshot forgets it.
    fake.set(vec![]);
    let removed = erx.iter().find(|e| e.kind == EventKind::ContainerRemoved);
    assert!(removed.is_some());
    let snap = h.snapshot(T).unwrap_or_default();
    assert!(snap.iter().all(|s| s.uid != "a"), "{snap:?}");
}

#[test]
fn refresh_answers_without_waiting_for_a_tick() {
    let fake = Fake::default();
    fake.set(vec![rp("b", &[("c1", ContainerState::Created)])]);
    let (etx, _erx) = crossbeam_channel::unbounded();
    let Ok(h) = spawn(Config { relist_period: Duration::from_secs(3600) }, fake.clone(), etx) else {
        panic!("spawn failed")
    };
    assert!(h.newer_than("b", None, T).is_some());
    let since = Instant::now();
    fake.set(vec![rp("b", &[("c1", ContainerState::Running)])]);
    h.refresh("b");
    let s = h.newer_than("b", Some(since), Duration::from_secs(2));
    assert_eq!(s.and_then(|s| s.containers.first().and_then(|c| c.state)), Some(ContainerState::Running));
}
