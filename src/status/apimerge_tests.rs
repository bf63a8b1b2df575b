use super::*;
use crate::api::core::PodResourceClaimStatus;
use crate::status::testutil::pod;

const NOW: i64 = 1_700_000_000;

fn cond(type_: &str, status: &str) -> PodCondition {
    PodCondition {
        type_: type_.into(),
        status: status.into(),
        last_transition_time: Some(Time::from_unix(100)),
        ..Default::default()
    }
}

fn status(phase: &str, conditions: Vec<PodCondition>) -> PodStatus {
    PodStatus { phase: Some(phase.into()), conditions, ..Default::default() }
}

fn merge(old: &PodStatus, new: PodStatus, could_run: bool) -> PodStatus {
    merge_pod_status(&pod(&["app"]), old, new, could_run, Time::from_unix(NOW))
}

fn types(s: &PodStatus) -> Vec<(&str, &str)> {
    s.conditions.iter().map(|c| (c.type_.as_str(), c.status.as_str())).collect()
}

#[test]
fn foreign_conditions_and_claims_come_from_the_api() {
    let mut old = status("Pending", vec![cond("example.com/Gate", "True"), cond("Ready", "False")]);
    old.resource_claim_statuses =
        vec![PodResourceClaimStatus { name: "gpu".into(), resource_claim_name: Some("gpu-x".into()) }];
    // A foreign condition in the kubelet's copy is stale: the API's wins.
    let new = status("Running", vec![cond("example.com/Gate", "False"), cond("Ready", "True")]);
    let out = merge(&old, new, true);
    assert_eq!(types(&out), [("example.com/Gate", "True"), ("Ready", "True")]);
    assert_eq!(out.resource_claim_statuses, old.resource_claim_statuses);
    assert_eq!(out.phase.as_deref(), Some("Running"));
}

#[test]
fn a_terminal_phase_on_the_api_never_goes_back() {
    let mut old = status("Succeeded", vec![]);
    old.reason = Some("Done".into());
    let out = merge(&old, status("Running", vec![]), false);
    assert_eq!(out.phase.as_deref(), Some("Succeeded"));
    assert_eq!(out.reason.as_deref(), Some("Done"));
}

#[test]
fn terminal_phase_waits_until_nothing_can_run() {
    let old = status("Running", vec![]);
    let new = status("Failed", vec![]);
    assert_eq!(merge(&old, new.clone(), true).phase.as_deref(), Some("Running"));
    assert_eq!(merge(&old, new, false).phase.as_deref(), Some("Failed"));
}

#[test]
fn terminal_pods_are_not_ready() {
    let old = status("Running", vec![cond("Ready", "True"), cond("ContainersReady", "True")]);
    let new = status("Succeeded", vec![cond("Ready", "True"), cond("ContainersReady", "True")]);
    let out = merge(&old, new, false);
    for c in &out.conditions {
        assert_eq!(c.status, "False", "{c:?}");
        assert_eq!(c.reason.as_deref(), Some("PodCompleted"));
        assert_eq!(c.last_transition_time, Some(Time::from_unix(NOW)), "status changed: new time");
    }
}

#[test]
fn disruption_target_goes_with_the_terminal_phase() {
    let old = status("Running", vec![]);
    let new = status("Failed", vec![cond("DisruptionTarget", "True")]);
    let early = merge(&old, new.clone(), true);
    assert!(early.conditions.is_empty(), "not while containers may run: {early:?}");
    let out = merge(&old, new, false);
    assert_eq!(types(&out), [("DisruptionTarget", "True")]);
    assert_eq!(out.conditions[0].last_transition_time, Some(Time::from_unix(NOW)));
}

#[test]
fn equality_by_what_the_kubelet_owns() {
    let ours = status("Running", vec![cond("Ready", "True")]);
    let mut api = status("Running", vec![cond("example.com/Gate", "True"), cond("Ready", "True")]);
    api.conditions[1].last_transition_time = Some(Time::from_unix(5));
    assert!(equal_by_kubelet(&api, &ours), "foreign conditions and times do not count");
    api.conditions[1].status = "False".into();
    assert!(!equal_by_kubelet(&api, &ours));
    let other_phase = status("Pending", vec![cond("Ready", "True")]);
    assert!(!equal_by_kubelet(&other_phase, &ours));
}
