//! The manager with real worker threads, a fixed pod status and a scripted runner.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::run::{ProbeError, Runner};
use super::{Config, Deps, Outcome, ProbeType, StatusSource, spawn};
use crate::api::Time;
use crate::api::core::{Container, ContainerState, ContainerStateRunning, ContainerStatus, Pod, PodStatus as ApiPodStatus, Probe};

struct Fixed(ApiPodStatus);

impl StatusSource for Fixed {
    fn pod_status(&self, uid: &str) -> Option<ApiPodStatus> {
        (uid == "uid-1").then(|| self.0.clone())
    }
}

/// Liveness fails once `failing` is set; everything else succeeds.
struct Switch(AtomicBool);

impl Runner for Switch {
    fn probe(&self, kind: ProbeType, _: &Pod, _: &ApiPodStatus, _: &Container, _: &str) -> Result<Outcome, ProbeError> {
        let fail = kind == ProbeType::Liveness && self.0.load(Ordering::SeqCst);
        Ok(if fail { Outcome::Failure } else { Outcome::Success })
    }
}

fn fast() -> Probe {
    Probe { period_seconds: Some(1), failure_threshold: Some(1), success_threshold: Some(1), ..Default::default() }
}

#[test]
fn workers_results_updates_and_removal() {
    let now = Time::now().unix_seconds();
    let mut pod = Pod::default();
    pod.metadata.uid = Some("uid-1".into());
    pod.spec.containers.push(Container {
        name: "app".into(),
        liveness_probe: Some(fast()),
        readiness_probe: Some(fast()),
        ..Default::default()
    });
    let status = ApiPodStatus {
        phase: Some("Running".into()),
        container_statuses: vec![ContainerStatus {
            name: "app".into(),
            container_id: Some("containerd://c1".into()),
            state: Some(ContainerState {
                running: Some(ContainerStateRunning { started_at: Some(Time::from_unix(now)) }),
                ..Default::default()
            }),
            started: Some(true),
            ..Default::default()
        }],
        ..Default::default()
    };
    let runner = Arc::new(Switch(AtomicBool::new(false)));
    let (tx, updates) = crossbeam_channel::unbounded();
    let deps = Deps { status: Arc::new(Fixed(status)), runner: runner.clone(), updates: tx };
    // Started long ago: no jitter before the first probe.
    let h = spawn(Config { agent_start: now - 3600 }, deps).unwrap();
    h.add_pod(&pod);
    h.add_pod(&pod);
    assert_eq!(h.worker_count(), 2, "one worker per probe type, added once");

    // Readiness: initial Failure, then Success; each change is an update.
    let first = updates.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!((first.kind, first.outcome), (ProbeType::Readiness, Outcome::Failure));
    let ready = updates.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!((ready.kind, ready.outcome, ready.container_id.as_str()), (ProbeType::Readiness, Outcome::Success, "c1"));
    let r = h.results("uid-1");
    assert_eq!(r.containers["c1"].readiness, Some(Outcome::Success));
    // The liveness worker runs on its own thread: give it a moment.
    let liveness = || h.results("uid-1").containers.get("c1").and_then(|c| c.liveness);
    for _ in 0..50 {
        if liveness().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(liveness(), Some(Outcome::Success), "liveness starts healthy, no update for it");

    runner.0.store(true, Ordering::SeqCst);
    let dead = updates.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!((dead.kind, dead.outcome), (ProbeType::Liveness, Outcome::Failure));
    let v = h.results("uid-1").verdict("c1");
    assert_eq!(v.liveness, crate::kuberuntime::ProbeResult::Failure);

    h.remove_pod("uid-1");
    for _ in 0..50 {
        if h.worker_count() == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(h.worker_count(), 0);
    assert!(h.results("uid-1").containers.is_empty(), "results go with their workers");
}
