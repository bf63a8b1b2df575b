//! What the kubelet sends as a pod's status, given what the API server shows: upstream's
//! `mergePodStatus` and `isPodStatusByKubeletEqual` (`pkg/kubelet/status/status_manager.go`).
//!
//! - Conditions the kubelet does not own ([`owned_by_kubelet`]) are kept from the API's copy;
//!   the kubelet's own come from its status. `DisruptionTarget`, shared with the control
//!   plane, is sent only with the pod's move to a terminal phase, once no container can run.
//! - Resource claim statuses belong to the control plane: kept from the API's copy.
//! - A pod that could still have running containers does not move to a terminal phase yet.
//! - A terminal phase on the API server never goes back (beyond upstream, which guards this
//!   only in its own cache: after a restart the API's phase is the only record).
//! - A terminal pod is never shown Ready.
#![forbid(unsafe_code)]

use crate::api::core::{Pod, PodCondition, PodStatus};
use crate::api::time::Time;

use super::conditions::{
    CONTAINERS_READY, DISRUPTION_TARGET, POD_COMPLETED, POD_FAILED, READY, owned_by_kubelet,
};
use super::phase::is_terminal_phase;

/// A condition type the kubelet replaces in the API's copy, but does not own alone.
fn shared_with_kubelet(type_: &str) -> bool {
    type_ == DISRUPTION_TARGET
}

/// The status to send for `pod` (the API's object), from the API's `old` status and the
/// kubelet's `new` one. `could_have_running_containers`: the pod's worker has not finished
/// terminating it.
pub fn merge_pod_status(
    pod: &Pod,
    old: &PodStatus,
    mut new: PodStatus,
    could_have_running_containers: bool,
    now: Time,
) -> PodStatus {
    let to_terminal = !is_terminal_phase(old.phase.as_deref()) && is_terminal_phase(new.phase.as_deref());
    let mut conditions: Vec<PodCondition> =
        old.conditions.iter().filter(|c| !owned_by_kubelet(&c.type_)).cloned().collect();
    for c in &new.conditions {
        if owned_by_kubelet(&c.type_) {
            conditions.push(c.clone());
        } else if shared_with_kubelet(&c.type_) && to_terminal && !could_have_running_containers {
            let mut c = c.clone();
            c.last_transition_time = match old.conditions.iter().find(|o| o.type_ == c.type_) {
                Some(o) if o.status == c.status => o.last_transition_time,
                _ => Some(now),
            };
            match conditions.iter_mut().find(|o| o.type_ == c.type_) {
                Some(slot) => *slot = c,
                None => conditions.push(c),
            }
        }
    }
    new.conditions = conditions;
    new.resource_claim_statuses = old.resource_claim_statuses.clone();
    new.extended_resource_claim_status = old.extended_resource_claim_status.clone();
    new.node_allocatable_resource_claim_statuses = old.node_allocatable_resource_claim_statuses.clone();

    let regresses = is_terminal_phase(old.phase.as_deref()) && !is_terminal_phase(new.phase.as_deref());
    if (to_terminal && could_have_running_containers) || regresses {
        new.phase = old.phase.clone();
        new.reason = old.reason.clone();
        new.message = old.message.clone();
    }

    if is_terminal_phase(new.phase.as_deref()) && (is_true(&new, READY) || is_true(&new, CONTAINERS_READY)) {
        let reason = match new.phase.as_deref() {
            Some("Failed") => POD_FAILED,
            _ => POD_COMPLETED,
        };
        let generation = pod.metadata.generation.filter(|g| *g != 0);
        for type_ in [CONTAINERS_READY, READY] {
            let not_ready = PodCondition {
                type_: type_.to_string(),
                observed_generation: generation,
                status: "False".to_string(),
                reason: Some(reason.to_string()),
                ..Default::default()
            };
            update_condition(&mut new, not_ready, now);
        }
    }
    new
}

fn is_true(status: &PodStatus, type_: &str) -> bool {
    status.conditions.iter().any(|c| c.type_ == type_ && c.status == "True")
}

/// Upstream's `UpdatePodCondition`: replaces or appends, keeping the transition time while
/// the condition's status stays.
fn update_condition(status: &mut PodStatus, mut condition: PodCondition, now: Time) {
    condition.last_transition_time = Some(now);
    match status.conditions.iter_mut().find(|c| c.type_ == condition.type_) {
        Some(slot) => {
            if slot.status == condition.status {
                condition.last_transition_time = slot.last_transition_time;
            }
            *slot = condition;
        }
        None => status.conditions.push(condition),
    }
}

/// Whether two statuses are the same in everything the kubelet writes (its own and the
/// shared conditions by status, reason and message; every other field but the control
/// plane's resource claim statuses).
pub fn equal_by_kubelet(old: &PodStatus, new: &PodStatus) -> bool {
    let mine = |s: &PodStatus| {
        let mut own: Vec<(String, String, Option<String>, Option<String>)> = s
            .conditions
            .iter()
            .filter(|c| owned_by_kubelet(&c.type_) || shared_with_kubelet(&c.type_))
            .map(|c| (c.type_.clone(), c.status.clone(), c.reason.clone(), c.message.clone()))
            .collect();
        own.sort();
        own.dedup_by(|a, b| a.0 == b.0);
        own
    };
    if mine(old) != mine(new) {
        return false;
    }
    let mut old = old.clone();
    old.conditions = new.conditions.clone();
    old.resource_claim_statuses = new.resource_claim_statuses.clone();
    old.extended_resource_claim_status = new.extended_resource_claim_status.clone();
    old.node_allocatable_resource_claim_statuses = new.node_allocatable_resource_claim_statuses.clone();
    old == *new
}

#[cfg(test)]
#[path = "apimerge_tests.rs"]
mod tests;
