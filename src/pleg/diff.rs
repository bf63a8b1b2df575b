//! Comparing two relists: which containers started, died or went away.

use std::collections::{BTreeMap, HashMap};

use crate::kuberuntime::{ContainerState, SandboxState};

/// What a cheap relist knows of one pod: its sandboxes' and containers' states by ID.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimePod {
    pub uid: String,
    pub name: String,
    pub namespace: String,
    pub sandboxes: BTreeMap<String, SandboxState>,
    pub containers: BTreeMap<String, ContainerState>,
}

/// A lifecycle event of one pod, as upstream's PLEG names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    ContainerStarted,
    ContainerDied,
    ContainerRemoved,
    ContainerChanged,
    /// Something about the pod changed that is not one container's state (its sandbox).
    PodSync,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlegEvent {
    pub uid: String,
    pub kind: EventKind,
    /// The container (or sandbox) the event is about.
    pub id: String,
}

/// The events that turn relist `old` into relist `new`, pod by pod.
pub fn events(old: &HashMap<String, RuntimePod>, new: &HashMap<String, RuntimePod>) -> Vec<PlegEvent> {
    let empty = RuntimePod::default();
    let mut out = Vec::new();
    let uids = old.keys().chain(new.keys().filter(|u| !old.contains_key(*u)));
    for uid in uids {
        let o = old.get(uid).unwrap_or(&empty);
        let n = new.get(uid).unwrap_or(&empty);
        pod_events(uid, o, n, &mut out);
    }
    out
}

fn pod_events(uid: &str, old: &RuntimePod, new: &RuntimePod, out: &mut Vec<PlegEvent>) {
    let mut push = |kind, id: &str| out.push(PlegEvent { uid: uid.to_string(), kind, id: id.to_string() });
    for (id, state) in &new.containers {
        let before = old.containers.get(id);
        if before == Some(state) {
            continue;
        }
        match state {
            ContainerState::Running => push(EventKind::ContainerStarted, id),
            ContainerState::Exited => push(EventKind::ContainerDied, id),
            ContainerState::Created | ContainerState::Unknown => push(EventKind::ContainerChanged, id),
        }
    }
    for (id, state) in &old.containers {
        if new.containers.contains_key(id) {
            continue;
        }
        if *state != ContainerState::Exited {
            push(EventKind::ContainerDied, id);
        }
        push(EventKind::ContainerRemoved, id);
    }
    let sandbox_ids = new.sandboxes.keys().chain(old.sandboxes.keys());
    for id in sandbox_ids {
        if old.sandboxes.get(id) != new.sandboxes.get(id) {
            push(EventKind::PodSync, id);
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(containers: &[(&str, ContainerState)], sandboxes: &[(&str, SandboxState)]) -> RuntimePod {
        RuntimePod {
            uid: "u".into(),
            containers: containers.iter().map(|(i, s)| (i.to_string(), *s)).collect(),
            sandboxes: sandboxes.iter().map(|(i, s)| (i.to_string(), *s)).collect(),
            ..Default::default()
        }
    }

    fn kinds(old: Option<RuntimePod>, new: Option<RuntimePod>) -> Vec<(EventKind, String)> {
        let o: HashMap<_, _> = old.into_iter().map(|p| (p.uid.clone(), p)).collect();
        let n: HashMap<_, _> = new.into_iter().map(|p| (p.uid.clone(), p)).collect();
        events(&o, &n).into_iter().map(|e| (e.kind, e.id)).collect()
    }

    use ContainerState::*;
    use EventKind::*;

    #[test]
    fn table() {
        let ready = [("s", SandboxState::Ready)];
        type Case<'a> = (Option<RuntimePod>, Option<RuntimePod>, Vec<(EventKind, &'a str)>);
        let cases: Vec<Case> = vec![
            (None, Some(pod(&[("c", Running)], &ready)), vec![(ContainerStarted, "c"), (PodSync, "s")]),
            (Some(pod(&[("c", Running)], &ready)), Some(pod(&[("c", Running)], &ready)), vec![]),
            (Some(pod(&[("c", Running)], &ready)), Some(pod(&[("c", Exited)], &ready)), vec![(ContainerDied, "c")]),
            (Some(pod(&[("c", Exited)], &ready)), Some(pod(&[], &ready)), vec![(ContainerRemoved, "c")]),
            (Some(pod(&[("c", Running)], &ready)), Some(pod(&[], &ready)), vec![(ContainerDied, "c"), (ContainerRemoved, "c")]),
            (Some(pod(&[("c", Created)], &ready)), Some(pod(&[("c", Running)], &ready)), vec![(ContainerStarted, "c")]),
            (None, Some(pod(&[("c", Created)], &[])), vec![(ContainerChanged, "c")]),
            (
                Some(pod(&[], &ready)),
                Some(pod(&[], &[("s", SandboxState::NotReady)])),
                vec![(PodSync, "s")],
            ),
            (Some(pod(&[], &ready)), None, vec![(PodSync, "s")]),
        ];
        for (i, (old, new, want)) in cases.into_iter().enumerate() {
            let want: Vec<_> = want.into_iter().map(|(k, id)| (k, id.to_string())).collect();
            assert_eq!(kinds(old, new), want, "case {i}");
        }
    }
}
