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
    fn sync(&mut self, pod: &Pod, status: &PodStatus, _finished: bool) -> SyncOutcome {
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

/// Reports (uid, phase, finished) of every sync and answers with `outcomes` in turn
/// (Synced once they run out).
struct Scripted {
    tx: Sender<(String, Option<String>, bool)>,
    outcomes: Vec<SyncOutcome>,
}

impl Syncer for Scripted {
    fn sync(&mut self, pod: &Pod, status: &PodStatus, finished: bool) -> SyncOutcome {
        let _ = self.tx.send((
            pod.metadata.uid().to_string(),
            status.phase.clone(),
            finished,
        ));
        if self.outcomes.is_empty() {
            SyncOutcome::Synced
        } else {
            self.outcomes.remove(0)
        }
    }
}

fn scripted(
    outcomes: Vec<SyncOutcome>,
    period: Duration,
) -> (Handle, Receiver<(String, Option<String>, bool)>) {
    let (tx, rx) = unbounded();
    let deps = Deps {
        syncer: Some(Box::new(Scripted { tx, outcomes })),
    };
    (
        spawn(
            Config {
                sync_period: period,
            },
            deps,
        )
        .expect("spawn"),
        rx,
    )
}

#[test]
fn mark_terminated_makes_the_status_final_and_finished() {
    let (h, rx) = scripted(vec![], Duration::from_secs(60));
    let p = named("web", "default", "u1");
    h.set(
        &p,
        PodStatus {
            container_statuses: vec![running("app")],
            ..phase("Running")
        },
    );
    let (_, _, finished) = rx.recv_timeout(Duration::from_secs(5)).expect("first sync");
    assert!(!finished);
    let mut deleting = p.clone();
    deleting.metadata.deletion_timestamp = Some(crate::api::time::Time::from_unix(1));
    h.mark_terminated(&deleting);
    let (uid, phase, finished) = rx.recv_timeout(Duration::from_secs(5)).expect("final sync");
    assert_eq!(
        (uid.as_str(), phase.as_deref(), finished),
        ("u1", Some("Failed"), true)
    );
    let stored = h.get("u1").expect("kept");
    let state = stored.container_statuses[0]
        .state
        .as_ref()
        .and_then(|s| s.terminated.as_ref());
    assert_eq!(state.map(|t| t.exit_code), Some(137));
    // Finished stays; a deleting pod is offered on every set, even unchanged.
    h.set(&deleting, stored);
    let (_, _, finished) = rx.recv_timeout(Duration::from_secs(5)).expect("forced");
    assert!(finished, "finished stays");
    h.stop();
}

#[test]
fn mark_terminated_without_a_status_starts_from_the_pods() {
    let (h, rx) = scripted(vec![], Duration::from_secs(60));
    let mut p = named("web", "default", "u9");
    p.status = phase("Pending");
    h.mark_terminated(&p);
    let got = rx.recv_timeout(Duration::from_secs(5)).expect("sync");
    assert_eq!(got, ("u9".to_string(), Some("Failed".to_string()), true));
    h.stop();
}

#[test]
fn forget_drops_the_status() {
    let (h, rx) = scripted(vec![SyncOutcome::Forget], Duration::from_secs(60));
    h.set(&named("web", "default", "u1"), phase("Running"));
    rx.recv_timeout(Duration::from_secs(5)).expect("sync");
    h.ping().expect("alive");
    assert_eq!(h.get("u1"), None);
    h.stop();
}

#[test]
fn reconcile_writes_again_when_the_api_differs() {
    let (h, rx) = scripted(vec![], Duration::from_millis(30));
    let p = named("web", "default", "u1");
    h.set(&p, phase("Running"));
    rx.recv_timeout(Duration::from_secs(5)).expect("first sync");
    // The API shows what we wrote: nothing to do.
    let mut api = p.clone();
    api.status = phase("Running");
    h.reconcile(&api);
    assert!(
        rx.recv_timeout(Duration::from_millis(200)).is_err(),
        "equal: no sync"
    );
    // Someone else changed it: written again on the tick.
    api.status = phase("Pending");
    h.reconcile(&api);
    let again = rx.recv_timeout(Duration::from_secs(5)).expect("reconciled");
    assert_eq!(again.1.as_deref(), Some("Running"));
    // A mirror pod's copy counts for its static pod (by the mirror annotation).
    let mut mirror = named("web", "default", "mirror-uid");
    mirror
        .metadata
        .annotations
        .insert(crate::source::CONFIG_MIRROR_ANNOTATION.into(), "u1".into());
    mirror.status = phase("Pending");
    h.reconcile(&mirror);
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)).expect("mirror").0,
        "u1"
    );
    h.stop();
}

#[test]
fn a_rejected_pod_is_written_failed_and_finished_with_its_reason() {
    // The sync loop's admission: set Failed with the reason, then mark terminated at once.
    let (h, rx) = scripted(vec![], Duration::from_secs(60));
    let p = named("wrong-os", "default", "u7");
    let rejected = PodStatus {
        reason: Some("PodOSNotSupported".into()),
        message: Some("Failed to admit pod as the OS field doesn't match node OS".into()),
        ..phase("Failed")
    };
    h.set(&p, rejected);
    h.mark_terminated(&p);
    let mut last = rx.recv_timeout(Duration::from_secs(5)).expect("sync");
    while let Ok(next) = rx.recv_timeout(Duration::from_millis(200)) {
        last = next;
    }
    assert_eq!(last, ("u7".to_string(), Some("Failed".to_string()), true));
    let stored = h.get("u7").expect("kept");
    assert_eq!(stored.reason.as_deref(), Some("PodOSNotSupported"));
    h.stop();
}
