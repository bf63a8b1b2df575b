//! containerd killed and restarted under a busy typed CRI client: calls fail `Unavailable`
//! while it is down and succeed again once it is back, on the same `Client`.
//!
//! Uses a private containerd with the CRI plugin on (`tests/containerd_support`), never the
//! shared one. Needs root and `containerd` in PATH; prints `SKIPPED` otherwise.

#![allow(clippy::unwrap_used)]

mod containerd_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use containerd_support::{Containerd, Plugins};
use rkubelet::cri::{self, *};
use rkubelet::grpc::Code;

/// One call's outcome: when it ended, and its error code if it failed.
/// When a call began, and how it ended.
type Outcome = (Instant, Result<(), (Code, String)>);

/// Alternates Version and ListPodSandbox until `stop`.
fn caller(client: Client, stop: Arc<AtomicBool>, n: usize) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let mut i = n;
    while !stop.load(Ordering::Relaxed) {
        // When the call began: one begun before the kill may still be answered after it.
        let began = Instant::now();
        let result = if i.is_multiple_of(2) {
            client.version(&VersionRequest::default()).map(|v| assert_eq!(v.runtime_name, "containerd"))
        } else {
            client.list_pod_sandbox(&ListPodSandboxRequest::default()).map(|l| assert!(l.items.is_empty()))
        };
        outcomes.push((began, result.map_err(|e| (e.code(), e.to_string()))));
        i += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    outcomes
}

/// While containerd's CRI plugin initialises, its calls fail with this (gRPC Unknown).
fn initialising(code: Code, message: &str) -> bool {
    code == Code::Unknown && message.contains("not initialized")
}

#[test]
fn cri_client_recovers_after_containerd_restarts() {
    let Some(mut rt) = Containerd::new("cri-restart", Plugins::Cri) else { return };
    rt.start();
    let client = cri::connect(&rt.endpoint(), Duration::from_secs(5))
        .or_else(|_| {
            // The CRI plugin may still be initialising right after the socket appears.
            std::thread::sleep(Duration::from_millis(500));
            cri::connect(&rt.endpoint(), Duration::from_secs(5))
        })
        .unwrap_or_else(|e| panic!("{e}\ncontainerd log:\n{}", rt.log()));

    let stop = Arc::new(AtomicBool::new(false));
    let callers: Vec<_> = (0..4)
        .map(|n| {
            let (client, stop) = (client.clone(), stop.clone());
            std::thread::spawn(move || caller(client, stop, n))
        })
        .collect();

    std::thread::sleep(Duration::from_millis(300));
    rt.kill();
    // After kill() returns the process is gone: calls begun from here cannot be answered.
    let killed = Instant::now();
    std::thread::sleep(Duration::from_millis(700));
    let restarting = Instant::now();
    rt.start();
    let listening = Instant::now();
    println!(
        "containerd down for {:?}; socket back {:?} after the restart began",
        restarting - killed,
        listening - restarting
    );
    // Until every caller has succeeded again, then a little longer.
    let recovered = loop {
        std::thread::sleep(Duration::from_millis(20));
        let ok = client.version(&VersionRequest::default()).is_ok();
        if ok {
            break Instant::now();
        }
        assert!(restarting.elapsed() < Duration::from_secs(20), "no recovery; containerd log:\n{}", rt.log());
    };
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let outcomes: Vec<Outcome> = callers.into_iter().flat_map(|c| c.join().unwrap()).collect();

    let before = outcomes.iter().filter(|(at, r)| *at < killed && r.is_ok()).count();
    let down: Vec<&Outcome> = outcomes.iter().filter(|(at, _)| *at > killed && *at < restarting).collect();
    let after: Vec<&Outcome> = outcomes.iter().filter(|(at, _)| *at > recovered).collect();
    let mut failures = [0usize; 3]; // unavailable, initialising, other
    for (_, r) in &outcomes {
        match r {
            Ok(()) => {}
            Err((Code::Unavailable, _)) => failures[0] += 1,
            Err((code, message)) if initialising(*code, message) => failures[1] += 1,
            Err((code, message)) => {
                failures[2] += 1;
                println!("unexpected failure: {code:?}: {message}");
            }
        }
    }
    println!(
        "{} calls: {before} ok before the kill, {} while down (all failed), {} after recovery; \
         failures: {} Unavailable, {} CRI initialising, {} other; recovered {:?} after the socket was back \
         (the channel waits out its reconnect backoff, at most 1 s)",
        outcomes.len(),
        down.len(),
        after.len(),
        failures[0],
        failures[1],
        failures[2],
        recovered - listening
    );
    assert!(before > 0, "no successful call before the kill");
    assert!(!down.is_empty(), "no call made while containerd was down");
    for (_, r) in &down {
        assert!(matches!(r, Err((Code::Unavailable, _))), "while down: {r:?}");
    }
    assert_eq!(failures[2], 0, "only Unavailable (or CRI initialising) failures expected");
    assert!(
        after.len() >= 4 && after.iter().all(|(_, r)| r.is_ok()),
        "calls after recovery failed: {after:?}"
    );
    // The same client still works for more than the mix above.
    client.status(&StatusRequest { verbose: false }).unwrap();
}
