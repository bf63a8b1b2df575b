use std::time::Instant;

use super::*;
use crate::status::testutil::{exited, pod, running, with_policy};

fn named(name: &str, namespace: &str, uid: &str) -> Pod {
    let mut p = pod(&["app"]);
    p.metadata.name = Some(name.into());
    p.metadata.namespace = Some(namespace.into());
    p.metadata.uid = Some(uid.into());
    p
}

fn phase(p: &str) -> PodStatus {
    PodStatus {
        phase: Some(p.into()),
        ..Default::default()
    }
}

fn standalone() -> Handle {
    spawn(Config::default(), Deps::default()).expect("spawn rk-status")
}

#[test]
fn set_get_remove_snapshot() {
    let h = standalone();
    assert_eq!(h.get("u1"), None);
    h.set(&named("b", "default", "u1"), phase("Running"));
    h.set(&named("a", "kube-system", "u2"), phase("Pending"));
    h.set(&named("a", "default", "u3"), phase("Pending"));
    assert_eq!(h.get("u1"), Some(phase("Running")));
    let names: Vec<(String, String)> = h
        .snapshot()
        .into_iter()
        .map(|(p, _)| {
            (
                p.metadata.namespace().to_string(),
                p.metadata.name().to_string(),
            )
        })
        .collect();
    let want = [("default", "a"), ("default", "b"), ("kube-system", "a")]
        .map(|(n, m)| (n.to_string(), m.to_string()));
    assert_eq!(names, want);
    let pods = h.pods();
    assert_eq!(
        pods[1].status,
        phase("Running"),
        "/pods shows the stored status"
    );
    h.remove("u1");
    assert_eq!(h.get("u1"), None);
    assert_eq!(h.snapshot().len(), 2);
    h.stop();
}

#[test]
fn terminal_phase_is_kept() {
    let h = standalone();
    let p = named("job", "default", "u1");
    let done = PodStatus {
        reason: Some("Completed".into()),
        ..phase("Succeeded")
    };
    h.set(&p, done.clone());
    h.set(&p, phase("Running"));
    assert_eq!(h.get("u1"), Some(done));
    h.set(&p, phase("Failed"));
    assert_eq!(
        h.get("u1").and_then(|s| s.phase),
        Some("Failed".into()),
        "terminal to terminal is allowed"
    );
    h.stop();
}

#[test]
fn container_may_not_leave_terminated_for_good() {
    let h = standalone();
    let mut p = with_policy(named("job", "default", "u1"), "Never");
    let finished = PodStatus {
        container_statuses: vec![exited("app", 0)],
        ..phase("Running")
    };
    h.set(&p, finished.clone());
    h.set(
        &p,
        PodStatus {
            container_statuses: vec![running("app")],
            ..phase("Running")
        },
    );
    assert_eq!(h.get("u1"), Some(finished.clone()), "update refused");
    // OnFailure may restart a failed container.
    p.spec.restart_policy = Some("OnFailure".into());
    let failed = PodStatus {
        container_statuses: vec![exited("app", 1)],
        ..phase("Running")
    };
    h.set(&p, failed);
    let again = PodStatus {
        container_statuses: vec![running("app")],
        ..phase("Running")
    };
    h.set(&p, again.clone());
    assert_eq!(h.get("u1"), Some(again));
    h.stop();
}

/// Reports every sync; returns Retry for the first `fail_first` calls.
struct Recorder {
    tx: Sender<(String, Option<String>)>,
    fail_first: usize,
}

impl Syncer for Recorder {
    fn sync(&mut self, pod: &Pod, status: &PodStatus) -> SyncOutcome {
        let _ = self
            .tx
            .send((pod.metadata.uid().to_string(), status.phase.clone()));
        if self.fail_first > 0 {
            self.fail_first -= 1;
            return SyncOutcome::Retry;
        }
        SyncOutcome::Synced
    }
}

#[test]
fn syncer_gets_changed_statuses_and_retries() {
    let (tx, rx) = unbounded();
    let deps = Deps {
        syncer: Some(Box::new(Recorder { tx, fail_first: 1 })),
    };
    let h = spawn(
        Config {
            sync_period: Duration::from_millis(20),
        },
        deps,
    )
    .expect("spawn");
    let p = named("web", "default", "u1");
    h.set(&p, phase("Pending"));
    h.ping().expect("alive");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    while seen.len() < 2 && Instant::now() < deadline {
        if let Ok(call) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push(call);
        }
    }
    let pending = ("u1".to_string(), Some("Pending".to_string()));
    assert_eq!(
        seen,
        [pending.clone(), pending],
        "a Retry is offered again on the next tick"
    );
    // An unchanged status is not synced again; a changed one is.
    h.set(&p, phase("Pending"));
    h.set(&p, phase("Running"));
    h.ping().expect("alive");
    let next = rx.recv_timeout(Duration::from_secs(5)).expect("synced");
    assert_eq!(next, ("u1".to_string(), Some("Running".to_string())));
    assert!(
        rx.recv_timeout(Duration::from_millis(100)).is_err(),
        "nothing else to sync"
    );
    h.stop();
}

#[test]
fn ping_fails_once_stopped() {
    let h = standalone();
    assert!(h.ping().is_ok());
    h.stop();
    let deadline = Instant::now() + Duration::from_secs(5);
    while h.ping().is_ok() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert!(matches!(
        h.ping(),
        Err(StatusError::Stopped { request: "ping" })
    ));
    assert_eq!(h.get("u1"), None);
}
