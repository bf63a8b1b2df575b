//! The worker's state machine with a scripted runner and a hand-driven clock.
#![allow(clippy::unwrap_used)]

use std::cell::RefCell;
use std::sync::Mutex;

use super::run::{ProbeError, Runner};
use super::worker::{ResultOp, Worker};
use super::{Outcome, ProbeType};
use crate::api::Time;
use crate::api::core::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStatus, Pod,
    PodStatus as ApiPodStatus, Probe,
};

/// Answers from a script; counts calls.
#[derive(Default)]
struct Script {
    answers: Mutex<Vec<Outcome>>,
    calls: Mutex<usize>,
}

impl Script {
    fn push(&self, o: Outcome) {
        self.answers.lock().unwrap().push(o);
    }
    fn calls(&self) -> usize {
        *self.calls.lock().unwrap()
    }
}

impl Runner for Script {
    fn probe(&self, _: ProbeType, _: &Pod, _: &ApiPodStatus, _: &Container, _: &str) -> Result<Outcome, ProbeError> {
        *self.calls.lock().unwrap() += 1;
        let mut a = self.answers.lock().unwrap();
        if a.is_empty() { Ok(Outcome::Success) } else { Ok(a.remove(0)) }
    }
}

const START: i64 = 1_000;

fn probe(initial_delay: i32, success: i32, failure: i32) -> Probe {
    Probe {
        initial_delay_seconds: Some(initial_delay),
        period_seconds: Some(1),
        success_threshold: Some(success),
        failure_threshold: Some(failure),
        ..Default::default()
    }
}

fn pod(c: Container) -> Pod {
    let mut p = Pod::default();
    p.metadata.uid = Some("uid-1".into());
    p.spec.containers.push(c);
    p
}

fn status(id: &str, started_at: Option<i64>, started: bool) -> ApiPodStatus {
    let state = match started_at {
        Some(at) => ContainerState {
            running: Some(ContainerStateRunning { started_at: Some(Time::from_unix(at)) }),
            ..Default::default()
        },
        None => ContainerState {
            terminated: Some(ContainerStateTerminated { exit_code: 1, ..Default::default() }),
            ..Default::default()
        },
    };
    ApiPodStatus {
        phase: Some("Running".into()),
        container_statuses: vec![ContainerStatus {
            name: "app".into(),
            container_id: Some(format!("containerd://{id}")),
            state: Some(state),
            started: Some(started),
            ..Default::default()
        }],
        ..Default::default()
    }
}

struct Run {
    w: Worker,
    runner: Script,
    ops: RefCell<Vec<ResultOp>>,
}

impl Run {
    fn new(kind: ProbeType, c: Container) -> Run {
        let w = Worker::new(&pod(c.clone()), &c, kind, START).expect("probe set");
        Run { w, runner: Script::default(), ops: RefCell::default() }
    }
    fn step(&mut self, s: &ApiPodStatus, now: i64) -> (bool, Vec<ResultOp>) {
        let mut ops = self.ops.borrow_mut();
        let keep = self.w.step(Some(s), now, &self.runner, &mut ops);
        (keep, ops.drain(..).collect())
    }
}

fn set(id: &str, o: Outcome) -> ResultOp {
    ResultOp::Set(id.into(), o)
}

#[test]
fn liveness_failure_threshold_then_hold_until_new_container() {
    let c = Container { name: "app".into(), liveness_probe: Some(probe(0, 1, 3)), ..Default::default() };
    let mut r = Run::new(ProbeType::Liveness, c);
    let s = status("a", Some(START + 5), true);
    for _ in 0..3 {
        r.runner.push(Outcome::Failure);
    }
    // The first step seeds the initial result (Success) and probes.
    assert_eq!(r.step(&s, START + 6), (true, vec![set("a", Outcome::Success)]));
    assert_eq!(r.step(&s, START + 7), (true, vec![]), "2 failures < threshold 3");
    assert_eq!(r.step(&s, START + 8), (true, vec![set("a", Outcome::Failure)]));
    assert_eq!(r.runner.calls(), 3);
    // On hold: no probing of the instance being killed.
    assert_eq!(r.step(&s, START + 9), (true, vec![]));
    assert_eq!(r.runner.calls(), 3);
    // A new instance: the old result goes, the initial one comes, probing resumes.
    let s2 = status("b", Some(START + 10), true);
    let (keep, ops) = r.step(&s2, START + 11);
    assert!(keep);
    assert_eq!(ops, vec![ResultOp::Remove("a".into()), set("b", Outcome::Success), set("b", Outcome::Success)]);
    assert_eq!(r.runner.calls(), 4);
}

#[test]
fn success_threshold_and_flapping_reset_the_run() {
    let c = Container { name: "app".into(), readiness_probe: Some(probe(0, 2, 2)), ..Default::default() };
    let mut r = Run::new(ProbeType::Readiness, c);
    let s = status("a", Some(START), true);
    for o in [Outcome::Success, Outcome::Failure, Outcome::Success, Outcome::Success, Outcome::Failure, Outcome::Failure] {
        r.runner.push(o);
    }
    assert_eq!(r.step(&s, START + 1).1, vec![set("a", Outcome::Failure)], "initial readiness is Failure");
    assert_eq!(r.step(&s, START + 2).1, vec![], "one failure after a success");
    assert_eq!(r.step(&s, START + 3).1, vec![], "one success");
    assert_eq!(r.step(&s, START + 4).1, vec![set("a", Outcome::Success)], "two successes");
    assert_eq!(r.step(&s, START + 5).1, vec![]);
    assert_eq!(r.step(&s, START + 6).1, vec![set("a", Outcome::Failure)]);
    // Readiness is never put on hold.
    r.step(&s, START + 7);
    assert_eq!(r.runner.calls(), 7);
}

#[test]
fn initial_delay_is_counted_from_the_container_start() {
    let c = Container { name: "app".into(), liveness_probe: Some(probe(10, 1, 1)), ..Default::default() };
    let mut r = Run::new(ProbeType::Liveness, c);
    let s = status("a", Some(START + 100), true);
    r.step(&s, START + 105);
    r.step(&s, START + 109);
    assert_eq!(r.runner.calls(), 0, "within initialDelaySeconds");
    r.step(&s, START + 110);
    assert_eq!(r.runner.calls(), 1);
}

#[test]
fn startup_gates_liveness_and_stops_once_decided() {
    let mut c = Container { name: "app".into(), liveness_probe: Some(probe(0, 1, 1)), ..Default::default() };
    c.startup_probe = Some(probe(0, 1, 2));
    let mut live = Run::new(ProbeType::Liveness, c.clone());
    let mut startup = Run::new(ProbeType::Startup, c);
    let not_started = status("a", Some(START), false);
    live.step(&not_started, START + 1);
    assert_eq!(live.runner.calls(), 0, "liveness waits for the startup probe");
    startup.runner.push(Outcome::Failure);
    assert_eq!(startup.step(&not_started, START + 1).1, vec![set("a", Outcome::Unknown)]);
    assert_eq!(startup.step(&not_started, START + 2).1, vec![set("a", Outcome::Success)]);
    startup.step(&not_started, START + 3);
    assert_eq!(startup.runner.calls(), 2, "decided: on hold");
    let started = status("a", Some(START), true);
    live.step(&started, START + 4);
    assert_eq!(live.runner.calls(), 1);
}

#[test]
fn not_running_fails_and_stops_when_never_restarted() {
    let c = Container { name: "app".into(), readiness_probe: Some(probe(0, 1, 1)), ..Default::default() };
    let mut r = Run::new(ProbeType::Readiness, c.clone());
    let dead = status("a", None, false);
    let (keep, ops) = r.step(&dead, START);
    assert!(keep, "restartPolicy Always: it comes back");
    assert_eq!(ops.last(), Some(&set("a", Outcome::Failure)));
    let mut never = Run::new(ProbeType::Readiness, c);
    never.w = {
        let mut p = pod(Container { name: "app".into(), readiness_probe: Some(probe(0, 1, 1)), ..Default::default() });
        p.spec.restart_policy = Some("Never".into());
        Worker::new(&p, &p.spec.containers[0], ProbeType::Readiness, START).unwrap()
    };
    assert!(!never.step(&dead, START).0, "restartPolicy Never: the worker ends");
}

#[test]
fn terminal_pod_and_deletion_end_the_worker() {
    let c = Container { name: "app".into(), liveness_probe: Some(probe(0, 1, 1)), ..Default::default() };
    let mut r = Run::new(ProbeType::Liveness, c.clone());
    let mut done = status("a", Some(START), true);
    done.phase = Some("Succeeded".into());
    assert!(!r.step(&done, START).0);
    let mut p = pod(c.clone());
    p.metadata.deletion_timestamp = Some(Time::from_unix(START));
    let mut w = Worker::new(&p, &c, ProbeType::Liveness, START).unwrap();
    let mut ops = Vec::new();
    let keep = w.step(Some(&status("a", Some(START), true)), START, &Script::default(), &mut ops);
    assert!(!keep);
    assert_eq!(ops.last(), Some(&set("a", Outcome::Success)), "a deleting pod is not restarted");
}

#[test]
fn adopted_container_gets_no_initial_result() {
    let c = Container { name: "app".into(), readiness_probe: Some(probe(0, 1, 1)), ..Default::default() };
    let mut r = Run::new(ProbeType::Readiness, c);
    r.runner.push(Outcome::Failure);
    // Started well before the agent: the pod keeps its readiness until the first verdict.
    let (_, ops) = r.step(&status("a", Some(START - 60), true), START + 1);
    assert_eq!(ops, vec![set("a", Outcome::Failure)], "only the probe's own verdict");
}

#[test]
fn no_status_or_no_container_waits() {
    let c = Container { name: "app".into(), liveness_probe: Some(probe(0, 1, 1)), ..Default::default() };
    let mut r = Run::new(ProbeType::Liveness, c);
    let mut ops = Vec::new();
    assert!(r.w.step(None, START, &r.runner, &mut ops));
    let empty = ApiPodStatus { phase: Some("Pending".into()), ..Default::default() };
    assert!(r.w.step(Some(&empty), START, &r.runner, &mut ops));
    assert!(ops.is_empty());
    assert_eq!(r.runner.calls(), 0);
}
