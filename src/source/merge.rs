//! The mux's pure diff: one source's previous pods against the set it sends now.
//!
//! As upstream's `podStorage.merge` (SET case), for each pod of the new set, keyed by UID:
//!
//! ```text
//!  UID not seen before ─────────────────────────────────────────► Add (config.seen = now)
//!  seen, and it differs semantically ──┬─ deletionTimestamp set ─► Delete
//!                                      └─ otherwise ─────────────► Update
//!  seen, same but for its status ────────────────────────────────► Reconcile
//!  seen, identical ──────────────────────────────────────────────► (nothing)
//!  previous UID missing from the new set ────────────────────────► Remove
//! ```
//!
//! "Semantically" means spec, labels, deletionTimestamp, deletionGracePeriodSeconds,
//! ownerReferences or annotations other than the kubelet's own ([`LOCAL_ANNOTATIONS`]).
//! Upstream does not compare ownerReferences; we do, so that an orphaned or adopted API
//! pod's stored copy is current. A pod whose full name (`name_namespace`) repeats within
//! the set is ignored with a warning, as upstream does; pods of different sources are not
//! compared (a mirror pod shares its static pod's name).
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashSet};

use log::warn;

use super::{CONFIG_SEEN_ANNOTATION, CONFIG_SOURCE_ANNOTATION, LOCAL_ANNOTATIONS, Source};
use crate::api::core::Pod;

/// The pods of one source, by UID.
pub type SourcePods = BTreeMap<String, Pod>;

/// The result of one merge, in upstream's delivery order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Changes {
    pub removes: Vec<Pod>,
    pub adds: Vec<Pod>,
    pub updates: Vec<Pod>,
    pub deletes: Vec<Pod>,
    pub reconciles: Vec<Pod>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.removes.is_empty()
            && self.adds.is_empty()
            && self.updates.is_empty()
            && self.deletes.is_empty()
            && self.reconciles.is_empty()
    }
}

/// Diffs `incoming` (the whole new set of `source`) against `previous`, returning the new
/// stored set and the changes. `seen` is the `config.seen` value given to added pods.
pub fn merge(
    previous: &SourcePods,
    incoming: Vec<Pod>,
    source: Source,
    seen: &str,
) -> (SourcePods, Changes) {
    let mut next = SourcePods::new();
    let mut changes = Changes::default();
    let mut names = HashSet::new();
    for (index, mut pod) in incoming.into_iter().enumerate() {
        let uid = pod.metadata.uid().to_string();
        let full_name = pod.full_name();
        if uid.is_empty() {
            warn!("pod {full_name} from source {source} (item {index}) has no UID, ignoring");
            continue;
        }
        if !names.insert(full_name.clone()) {
            warn!(
                "pod {full_name} from source {source} (item {index}) has a duplicate name, ignoring"
            );
            continue;
        }
        if next.contains_key(&uid) {
            warn!(
                "pod {full_name} from source {source} (item {index}) has a duplicate UID {uid}, ignoring"
            );
            continue;
        }
        pod.metadata
            .annotations
            .insert(CONFIG_SOURCE_ANNOTATION.to_string(), source.to_string());
        let stored = match previous.get(&uid) {
            None => {
                pod.metadata
                    .annotations
                    .insert(CONFIG_SEEN_ANNOTATION.to_string(), seen.to_string());
                changes.adds.push(pod.clone());
                pod
            }
            Some(existing) => check_and_update(existing, pod, &mut changes),
        };
        next.insert(uid, stored);
    }
    changes.removes = previous
        .iter()
        .filter(|(uid, _)| !next.contains_key(*uid))
        .map(|(_, pod)| pod.clone())
        .collect();
    (next, changes)
}

/// Classifies a pod seen before, records it in `changes`, and returns what to store.
fn check_and_update(existing: &Pod, mut pod: Pod, changes: &mut Changes) -> Pod {
    if !differ_semantically(existing, &pod) {
        if existing.status == pod.status {
            return existing.clone();
        }
        let mut stored = existing.clone();
        stored.status = pod.status;
        changes.reconciles.push(stored.clone());
        return stored;
    }
    // Keep the kubelet's own annotations (first-seen time, source) from the first version.
    for key in LOCAL_ANNOTATIONS {
        match existing.metadata.annotations.get(key) {
            Some(v) => pod.metadata.annotations.insert(key.to_string(), v.clone()),
            None => pod.metadata.annotations.remove(key),
        };
    }
    if pod.metadata.deletion_timestamp.is_some() {
        changes.deletes.push(pod.clone());
    } else {
        changes.updates.push(pod.clone());
    }
    pod
}

/// Whether a change of `existing` into `new` matters to the pod's workers.
pub fn differ_semantically(existing: &Pod, new: &Pod) -> bool {
    let (a, b) = (&existing.metadata, &new.metadata);
    existing.spec != new.spec
        || a.labels != b.labels
        || a.deletion_timestamp != b.deletion_timestamp
        || a.deletion_grace_period_seconds != b.deletion_grace_period_seconds
        || a.owner_references != b.owner_references
        || !annotations_equal_but_local(&a.annotations, &b.annotations)
}

fn annotations_equal_but_local(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> bool {
    let not_local = |(k, _): &(&String, &String)| !LOCAL_ANNOTATIONS.contains(&k.as_str());
    a.iter().filter(not_local).eq(b.iter().filter(not_local))
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
