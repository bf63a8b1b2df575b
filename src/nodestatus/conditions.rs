//! Node conditions (upstream's condition setters): MemoryPressure, DiskPressure and
//! PIDPressure from the eviction manager's flags, Ready from the runtime's health.
//!
//! Every computation stamps `lastHeartbeatTime` with `now`; whether that reaches the API
//! server is the caller's decision (a status that did not change is only sent every
//! nodeStatusReportFrequency). `lastTransitionTime` moves only when the status does, and each
//! transition yields the event upstream records (`Node <name> status is now: <reason>`).
//!
//! ```text
//!   pressure:  (absent: Unknown) ──flag off──► False ◄──flag off── True ◄──flag on── ...
//!   Ready:     (absent) ─► True | False, appended last; later transitions record
//!              NodeReady / NodeNotReady
//! ```

use crate::api::Time;
use crate::api::core::NodeCondition;

pub(crate) const READY: &str = "Ready";
pub(crate) const TRUE: &str = "True";
const FALSE: &str = "False";
const UNKNOWN: &str = "Unknown";

/// An event about the node, for the caller to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeEvent {
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
}

impl NodeEvent {
    /// Upstream's `recordNodeStatusEvent`: a Normal event whose message names the reason.
    pub fn status(node: &str, reason: &'static str) -> NodeEvent {
        NodeEvent { warning: false, reason, message: format!("Node {node} status is now: {reason}") }
    }
}

/// One of the three pressure conditions, and its wording either way.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PressureKind {
    type_: &'static str,
    /// (reason, message, event) under pressure.
    on: (&'static str, &'static str, &'static str),
    /// (reason, message, event) without.
    off: (&'static str, &'static str, &'static str),
}

pub(crate) const MEMORY_PRESSURE: PressureKind = PressureKind {
    type_: "MemoryPressure",
    on: (
        "KubeletHasInsufficientMemory",
        "kubelet has insufficient memory available",
        "NodeHasInsufficientMemory",
    ),
    off: ("KubeletHasSufficientMemory", "kubelet has sufficient memory available", "NodeHasSufficientMemory"),
};

pub(crate) const DISK_PRESSURE: PressureKind = PressureKind {
    type_: "DiskPressure",
    on: ("KubeletHasDiskPressure", "kubelet has disk pressure", "NodeHasDiskPressure"),
    off: ("KubeletHasNoDiskPressure", "kubelet has no disk pressure", "NodeHasNoDiskPressure"),
};

pub(crate) const PID_PRESSURE: PressureKind = PressureKind {
    type_: "PIDPressure",
    on: ("KubeletHasInsufficientPID", "kubelet has insufficient PID available", "NodeHasInsufficientPID"),
    off: ("KubeletHasSufficientPID", "kubelet has sufficient PID available", "NodeHasSufficientPID"),
};

/// Updates (or appends) one pressure condition.
pub(crate) fn set_pressure(
    conditions: &mut Vec<NodeCondition>,
    kind: PressureKind,
    under_pressure: bool,
    now: Time,
    node: &str,
    events: &mut Vec<NodeEvent>,
) {
    let index = match conditions.iter().position(|c| c.type_ == kind.type_) {
        Some(i) => i,
        None => {
            conditions.push(NodeCondition {
                type_: kind.type_.to_string(),
                status: UNKNOWN.to_string(),
                ..NodeCondition::default()
            });
            conditions.len() - 1
        }
    };
    let Some(condition) = conditions.get_mut(index) else { return };
    condition.last_heartbeat_time = Some(now);
    let (status, (reason, message, event)) = if under_pressure { (TRUE, kind.on) } else { (FALSE, kind.off) };
    if condition.status != status {
        condition.status = status.to_string();
        condition.reason = Some(reason.to_string());
        condition.message = Some(message.to_string());
        condition.last_transition_time = Some(now);
        events.push(NodeEvent::status(node, event));
    }
}

/// Upstream's aggregate error text: duplicates dropped, one error as is, several as `[a, b]`.
pub(crate) fn aggregate(errors: &[String]) -> Option<String> {
    let mut seen: Vec<&str> = Vec::new();
    for e in errors {
        if !seen.contains(&e.as_str()) {
            seen.push(e);
        }
    }
    match seen.as_slice() {
        [] => None,
        [one] => Some((*one).to_string()),
        many => Some(format!("[{}]", many.join(", "))),
    }
}

/// Updates (or appends, last) the Ready condition: True unless `errors` says why not.
pub(crate) fn set_ready(
    conditions: &mut Vec<NodeCondition>,
    errors: &[String],
    now: Time,
    node: &str,
    events: &mut Vec<NodeEvent>,
) {
    let mut ready = match aggregate(errors) {
        None => NodeCondition {
            type_: READY.to_string(),
            status: TRUE.to_string(),
            reason: Some("KubeletReady".to_string()),
            message: Some("kubelet is posting ready status".to_string()),
            last_heartbeat_time: Some(now),
            last_transition_time: Some(now),
        },
        Some(message) => NodeCondition {
            type_: READY.to_string(),
            status: FALSE.to_string(),
            reason: Some("KubeletNotReady".to_string()),
            message: Some(message),
            last_heartbeat_time: Some(now),
            last_transition_time: Some(now),
        },
    };
    let Some(existing) = conditions.iter_mut().find(|c| c.type_ == READY) else {
        conditions.push(ready);
        return;
    };
    let transition = existing.status != ready.status;
    if !transition {
        ready.last_transition_time = existing.last_transition_time;
    }
    *existing = ready;
    if transition {
        if existing.status == TRUE {
            events.push(NodeEvent::status(node, crate::events::reason::NODE_READY));
        } else {
            log::info!("Node {node} became not ready: {}", existing.message.as_deref().unwrap_or(""));
            events.push(NodeEvent::status(node, crate::events::reason::NODE_NOT_READY));
        }
    }
}

/// The Ready condition's status, if there is one.
pub(crate) fn ready_status(conditions: &[NodeCondition]) -> Option<&str> {
    conditions.iter().find(|c| c.type_ == READY).map(|c| c.status.as_str())
}

#[cfg(test)]
#[path = "conditions_tests.rs"]
mod tests;
