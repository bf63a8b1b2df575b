use super::*;

const T0: i64 = 1_700_000_000;

fn at(offset: i64) -> Time {
    Time::from_unix(T0 + offset)
}

fn reasons(events: &[NodeEvent]) -> Vec<&str> {
    events.iter().map(|e| e.reason).collect()
}

fn all(
    conditions: &mut Vec<NodeCondition>,
    pressure: [bool; 3],
    errors: &[String],
    now: Time,
) -> Vec<NodeEvent> {
    let mut events = Vec::new();
    set_pressure(conditions, MEMORY_PRESSURE, pressure[0], now, "n1", &mut events);
    set_pressure(conditions, DISK_PRESSURE, pressure[1], now, "n1", &mut events);
    set_pressure(conditions, PID_PRESSURE, pressure[2], now, "n1", &mut events);
    set_ready(conditions, errors, now, "n1", &mut events);
    events
}

#[test]
fn first_computation_creates_all_four_in_upstream_order() {
    let mut conditions = Vec::new();
    let events = all(&mut conditions, [false; 3], &[], at(0));
    let types: Vec<&str> = conditions.iter().map(|c| c.type_.as_str()).collect();
    assert_eq!(types, ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]);
    assert_eq!(
        reasons(&events),
        ["NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID"]
    );
    assert_eq!(events[0].message, "Node n1 status is now: NodeHasSufficientMemory");
    assert!(!events[0].warning);
    let ready = &conditions[3];
    assert_eq!((ready.status.as_str(), ready.reason.as_deref()), ("True", Some("KubeletReady")));
    assert_eq!(ready.message.as_deref(), Some("kubelet is posting ready status"));
    let disk = &conditions[1];
    assert_eq!(
        (disk.reason.as_deref(), disk.message.as_deref()),
        (Some("KubeletHasNoDiskPressure"), Some("kubelet has no disk pressure"))
    );
    assert!(
        conditions
            .iter()
            .all(|c| c.last_heartbeat_time == Some(at(0)) && c.last_transition_time == Some(at(0)))
    );
}

#[test]
fn steady_state_moves_only_the_heartbeat() {
    let mut conditions = Vec::new();
    all(&mut conditions, [false; 3], &[], at(0));
    let events = all(&mut conditions, [false; 3], &[], at(10));
    assert!(events.is_empty());
    assert!(
        conditions
            .iter()
            .all(|c| c.last_heartbeat_time == Some(at(10)) && c.last_transition_time == Some(at(0)))
    );
}

#[test]
fn pressure_transitions_record_events_and_times() {
    let mut conditions = Vec::new();
    all(&mut conditions, [false; 3], &[], at(0));
    let events = all(&mut conditions, [true, false, true], &[], at(20));
    assert_eq!(reasons(&events), ["NodeHasInsufficientMemory", "NodeHasInsufficientPID"]);
    assert_eq!(conditions[0].status, "True");
    assert_eq!(conditions[0].reason.as_deref(), Some("KubeletHasInsufficientMemory"));
    assert_eq!(conditions[0].last_transition_time, Some(at(20)));
    assert_eq!(conditions[1].last_transition_time, Some(at(0)));
    let events = all(&mut conditions, [false; 3], &[], at(30));
    assert_eq!(reasons(&events), ["NodeHasSufficientMemory", "NodeHasSufficientPID"]);
}

#[test]
fn ready_transitions_both_ways() {
    let mut conditions = Vec::new();
    let down = vec!["container runtime is down".to_string()];
    let events = all(&mut conditions, [false; 3], &down, at(0));
    assert!(!reasons(&events).contains(&"NodeNotReady"), "a new condition is no transition");
    assert_eq!(ready_status(&conditions), Some("False"));
    assert_eq!(conditions[3].reason.as_deref(), Some("KubeletNotReady"));
    assert_eq!(conditions[3].message.as_deref(), Some("container runtime is down"));

    let events = all(&mut conditions, [false; 3], &[], at(5));
    assert_eq!(reasons(&events), ["NodeReady"]);
    assert_eq!(conditions[3].last_transition_time, Some(at(5)));

    let events = all(&mut conditions, [false; 3], &down, at(9));
    assert_eq!(reasons(&events), ["NodeNotReady"]);
    assert_eq!(events[0].message, "Node n1 status is now: NodeNotReady");
}

#[test]
fn ready_message_aggregates_as_upstream() {
    assert_eq!(aggregate(&[]), None);
    let one = ["a".to_string()];
    assert_eq!(aggregate(&one).as_deref(), Some("a"));
    let two = ["a".to_string(), "b".to_string(), "a".to_string()];
    assert_eq!(aggregate(&two).as_deref(), Some("[a, b]"));
    let same = ["a".to_string(), "a".to_string()];
    assert_eq!(aggregate(&same).as_deref(), Some("a"));
}

#[test]
fn an_existing_unknown_condition_transitions() {
    // The node controller marks conditions Unknown when the kubelet stops posting.
    let mut conditions = Vec::new();
    all(&mut conditions, [false; 3], &[], at(0));
    for c in &mut conditions {
        c.status = "Unknown".into();
    }
    let events = all(&mut conditions, [false; 3], &[], at(60));
    assert_eq!(
        reasons(&events),
        ["NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID", "NodeReady"]
    );
}
