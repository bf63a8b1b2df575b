use std::sync::Mutex;
use std::time::Duration;

use crossbeam_channel::{Receiver, unbounded};

use super::*;

/// A syncer that records calls and can be told to panic or report a terminal phase.
#[derive(Default)]
struct Fake {
    calls: Mutex<Vec<String>>,
    panics_left: Mutex<u32>,
    terminal: AtomicBool,
}

impl PodSyncer for Fake {
    type State = u32;

    fn runtime_status(&self, pod: &Pod, _since: Option<Instant>) -> Option<PodStatus> {
        Some(PodStatus { uid: pod.metadata.uid.clone().unwrap_or_default(), ..Default::default() })
    }

    fn sync_pod(&self, state: &mut u32, _pod: &Pod, _s: &PodStatus, _c: &Cancel) -> SyncOutcome {
        *state += 1;
        if let Ok(mut n) = self.panics_left.lock()
            && *n > 0 {
                *n -= 1;
                drop(n);
                panic!("boom");
            }
        self.push(format!("sync#{state}"));
        if self.terminal.load(Ordering::SeqCst) { SyncOutcome::Terminal } else { SyncOutcome::Requeue(Duration::from_secs(60)) }
    }

    fn terminate_pod(&self, _st: &mut u32, _pod: &Pod, _s: &PodStatus, grace: Option<i64>) -> Result<(), String> {
        self.push(format!("terminate grace={grace:?}"));
        Ok(())
    }

    fn cleanup_pod(&self, _st: &mut u32, _pod: &Pod, _s: &PodStatus) -> Result<(), String> {
        self.push("cleanup".into());
        Ok(())
    }
}

impl Fake {
    fn push(&self, s: String) {
        if let Ok(mut c) = self.calls.lock() {
            c.push(s);
        }
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

fn pod(uid: &str) -> Arc<Pod> {
    let mut p = Pod::default();
    p.metadata.uid = Some(uid.into());
    p.metadata.name = Some("p".into());
    Arc::new(p)
}

fn expect(rx: &Receiver<Report>, want: Report) {
    let got = rx.recv_timeout(Duration::from_secs(5));
    assert_eq!(got.ok(), Some(want));
}

#[test]
fn sync_kill_remove_walks_the_lifecycle() {
    let fake = Arc::new(Fake::default());
    let (tx, rx) = unbounded();
    let mut w = PodWorkers::new(fake.clone(), tx);
    w.update(Work::new(pod("a"), UpdateKind::Sync));
    expect(&rx, Report::Synced { uid: "a".into(), after: Duration::from_secs(60) });
    assert_eq!(w.phase("a"), Some(Phase::Syncing));
    w.update(Work::new(pod("a"), UpdateKind::Kill { grace: Some(3) }));
    assert_eq!(w.phase("a"), Some(Phase::Terminating));
    let r = rx.recv_timeout(Duration::from_secs(5)).ok();
    assert_eq!(r, Some(Report::Terminated { uid: "a".into() }));
    if let Some(r) = r {
        w.observe(&r);
    }
    assert_eq!(w.phase("a"), Some(Phase::Terminated));
    // A plain sync after termination does not restart the pod.
    w.update(Work::new(pod("a"), UpdateKind::Sync));
    w.update(Work::new(pod("a"), UpdateKind::Remove));
    let r = rx.recv_timeout(Duration::from_secs(5)).ok();
    assert_eq!(r, Some(Report::Finished { uid: "a".into() }));
    if let Some(r) = r {
        assert!(w.observe(&r));
    }
    assert!(w.is_empty());
    assert_eq!(fake.calls(), vec!["sync#1", "terminate grace=Some(3)", "cleanup"]);
}

#[test]
fn a_panicking_sync_is_caught_and_retried() {
    let fake = Arc::new(Fake::default());
    if let Ok(mut n) = fake.panics_left.lock() {
        *n = 1;
    }
    let (tx, rx) = unbounded();
    let mut w = PodWorkers::new(fake.clone(), tx);
    w.update(Work::new(pod("b"), UpdateKind::Sync));
    expect(&rx, Report::Synced { uid: "b".into(), after: PANIC_RETRY });
    // The retry (the sync loop's requeue) runs with fresh state and succeeds.
    w.update(Work::new(pod("b"), UpdateKind::Sync));
    expect(&rx, Report::Synced { uid: "b".into(), after: Duration::from_secs(60) });
    assert_eq!(fake.calls(), vec!["sync#1"]);
}

#[test]
fn terminal_phase_stops_the_pod_and_it_stays_stopped() {
    let fake = Arc::new(Fake::default());
    fake.terminal.store(true, Ordering::SeqCst);
    let (tx, rx) = unbounded();
    let mut w = PodWorkers::new(fake.clone(), tx);
    w.update(Work::new(pod("c"), UpdateKind::Sync));
    expect(&rx, Report::Terminated { uid: "c".into() });
    w.update(Work::new(pod("c"), UpdateKind::Sync));
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(fake.calls(), vec!["sync#1", "terminate grace=None"]);
}

#[test]
fn remove_of_an_unknown_pod_cleans_up_without_syncing() {
    let fake = Arc::new(Fake::default());
    let (tx, rx) = unbounded();
    let mut w = PodWorkers::new(fake.clone(), tx);
    w.update(Work::new(pod("d"), UpdateKind::Remove));
    expect(&rx, Report::Terminated { uid: "d".into() });
    expect(&rx, Report::Finished { uid: "d".into() });
    assert_eq!(fake.calls(), vec!["terminate grace=None", "cleanup"]);
}

/// A syncer whose first sync blocks until released, so updates pile up in the mailbox.
struct Slow {
    gate: Receiver<()>,
    seen: Mutex<Vec<(Option<i64>, String)>>,
}

impl PodSyncer for Slow {
    type State = ();
    fn runtime_status(&self, _pod: &Pod, _since: Option<Instant>) -> Option<PodStatus> {
        Some(PodStatus::default())
    }
    fn sync_pod(&self, _st: &mut (), pod: &Pod, _s: &PodStatus, _c: &Cancel) -> SyncOutcome {
        let _ = self.gate.recv_timeout(Duration::from_secs(5));
        if let Ok(mut s) = self.seen.lock() {
            s.push((pod.metadata.generation, "sync".into()));
        }
        SyncOutcome::Requeue(Duration::from_secs(60))
    }
    fn terminate_pod(&self, _st: &mut (), pod: &Pod, _s: &PodStatus, grace: Option<i64>) -> Result<(), String> {
        if let Ok(mut s) = self.seen.lock() {
            s.push((pod.metadata.generation, format!("terminate {grace:?}")));
        }
        Ok(())
    }
    fn cleanup_pod(&self, _st: &mut (), _pod: &Pod, _s: &PodStatus) -> Result<(), String> {
        Ok(())
    }
}

#[test]
fn a_burst_of_updates_is_coalesced_and_kill_is_sticky() {
    let (gate_tx, gate) = unbounded();
    let slow = Arc::new(Slow { gate, seen: Mutex::new(Vec::new()) });
    let (tx, rx) = unbounded();
    let mut w = PodWorkers::new(slow.clone(), tx);
    let gen_pod = |g: i64| {
        let mut p = (*pod("e")).clone();
        p.metadata.generation = Some(g);
        Arc::new(p)
    };
    w.update(Work::new(gen_pod(1), UpdateKind::Sync));
    std::thread::sleep(Duration::from_millis(50));
    // While the first sync blocks: two syncs, two kills, and a later sync.
    w.update(Work::new(gen_pod(2), UpdateKind::Sync));
    w.update(Work::new(gen_pod(3), UpdateKind::Kill { grace: Some(30) }));
    w.update(Work::new(gen_pod(4), UpdateKind::Kill { grace: Some(2) }));
    w.update(Work::new(gen_pod(5), UpdateKind::Sync));
    let _ = gate_tx.send(());
    expect(&rx, Report::Synced { uid: "e".into(), after: Duration::from_secs(60) });
    expect(&rx, Report::Terminated { uid: "e".into() });
    let seen = slow.seen.lock().map(|s| s.clone()).unwrap_or_default();
    assert_eq!(seen, vec![(Some(1), "sync".to_string()), (Some(5), "terminate Some(2)".to_string())]);
}
