//! The thread behind one pod: see the state diagram in the module above.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::mailbox::{UpdateKind, Work};
use super::{Cancel, PANIC_RETRY, Phase, PodSyncer, Report, SyncOutcome};
use crate::api::core::Pod;

/// How long a failed stop or cleanup waits before it is tried again.
const STEP_RETRY: Duration = Duration::from_secs(2);
/// How long to wait when no fresh runtime status could be had.
const STATUS_RETRY: Duration = Duration::from_secs(1);

pub(super) fn spawn<S: PodSyncer>(
    syncer: Arc<S>,
    first: Work,
    cancel: Cancel,
    reports: Sender<Report>,
) -> std::io::Result<Sender<Work>> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let name = format!("rk-pod-{}", first.pod.metadata.name.as_deref().unwrap_or("unnamed"));
    let uid = first.uid().to_string();
    let phase = if first.kind == UpdateKind::Sync { Phase::Syncing } else { Phase::Terminating };
    let worker = Worker {
        syncer,
        state: S::State::default(),
        rx,
        reports,
        cancel,
        uid,
        phase,
        pod: first.pod.clone(),
        grace: None,
        remove: false,
        last_action: None,
    };
    std::thread::Builder::new().name(name).spawn(move || worker.run(first))?;
    Ok(tx)
}

struct Worker<S: PodSyncer> {
    syncer: Arc<S>,
    state: S::State,
    rx: Receiver<Work>,
    reports: Sender<Report>,
    cancel: Cancel,
    uid: String,
    phase: Phase,
    pod: Arc<Pod>,
    grace: Option<i64>,
    remove: bool,
    /// When our last action ended: the next decision needs a runtime status read after it.
    last_action: Option<Instant>,
}

/// What the loop does after a step.
enum Next {
    /// Go on at once (the phase changed).
    Continue,
    /// Wait for the next update.
    Wait,
    /// Wait for an update, or retry after this long.
    RetryAfter(Duration),
    /// The worker is done.
    Exit,
}

impl<S: PodSyncer> Worker<S> {
    fn run(mut self, first: Work) {
        self.absorb(first);
        loop {
            while let Ok(w) = self.rx.try_recv() {
                self.absorb(w);
            }
            let next = match self.phase {
                Phase::Syncing => self.syncing(),
                Phase::Terminating => self.terminating(),
                Phase::Terminated => self.terminated(),
            };
            let received = match next {
                Next::Continue => continue,
                Next::Exit => return,
                Next::Wait => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Next::RetryAfter(d) => self.rx.recv_timeout(d),
            };
            match received {
                Ok(w) => self.absorb(w),
                Err(RecvTimeoutError::Timeout) => {}
                // The sync loop is gone: the agent is shutting down; leave the pod as it is.
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }

    fn absorb(&mut self, w: Work) {
        self.pod = w.pod;
        match w.kind {
            UpdateKind::Sync => {}
            UpdateKind::Kill { grace } => {
                self.grace = match (self.grace, grace) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                self.begin_terminating();
            }
            UpdateKind::Remove => {
                self.remove = true;
                self.begin_terminating();
            }
        }
    }

    fn begin_terminating(&mut self) {
        self.cancel.set();
        if self.phase == Phase::Syncing {
            self.phase = Phase::Terminating;
        }
    }

    fn report(&self, r: Report) {
        // A closed report channel means the agent is stopping; nothing to tell.
        let _ = self.reports.send(r);
    }

    fn syncing(&mut self) -> Next {
        let Some(status) = self.syncer.runtime_status(&self.pod, self.last_action) else {
            return Next::RetryAfter(STATUS_RETRY);
        };
        let (syncer, pod, cancel) = (&self.syncer, &self.pod, &self.cancel);
        let state = &mut self.state;
        let outcome = catch_unwind(AssertUnwindSafe(|| syncer.sync_pod(state, pod, &status, cancel)));
        self.last_action = Some(Instant::now());
        match outcome {
            Ok(SyncOutcome::Requeue(after)) => {
                self.report(Report::Synced { uid: self.uid.clone(), after });
                Next::Wait
            }
            Ok(SyncOutcome::Terminal) => {
                self.phase = Phase::Terminating;
                Next::Continue
            }
            Err(panic) => {
                self.after_panic("sync", panic);
                self.report(Report::Synced { uid: self.uid.clone(), after: PANIC_RETRY });
                Next::Wait
            }
        }
    }

    fn terminating(&mut self) -> Next {
        let Some(status) = self.syncer.runtime_status(&self.pod, self.last_action) else {
            return Next::RetryAfter(STATUS_RETRY);
        };
        let (syncer, pod, grace) = (&self.syncer, &self.pod, self.grace);
        let state = &mut self.state;
        let result = catch_unwind(AssertUnwindSafe(|| syncer.terminate_pod(state, pod, &status, grace)));
        self.last_action = Some(Instant::now());
        match result {
            Ok(Ok(())) => {
                self.phase = Phase::Terminated;
                self.report(Report::Terminated { uid: self.uid.clone() });
                Next::Continue
            }
            Ok(Err(e)) => {
                log::warn!("stopping pod {} failed, will retry: {e}", self.describe());
                Next::RetryAfter(STEP_RETRY)
            }
            Err(panic) => {
                self.after_panic("terminate", panic);
                Next::RetryAfter(PANIC_RETRY)
            }
        }
    }

    fn terminated(&mut self) -> Next {
        if !self.remove {
            return Next::Wait;
        }
        let Some(status) = self.syncer.runtime_status(&self.pod, self.last_action) else {
            return Next::RetryAfter(STATUS_RETRY);
        };
        let (syncer, pod) = (&self.syncer, &self.pod);
        let state = &mut self.state;
        let result = catch_unwind(AssertUnwindSafe(|| syncer.cleanup_pod(state, pod, &status)));
        self.last_action = Some(Instant::now());
        match result {
            Ok(Ok(())) => {
                self.report(Report::Finished { uid: self.uid.clone() });
                Next::Exit
            }
            Ok(Err(e)) => {
                log::warn!("cleaning up pod {} failed, will retry: {e}", self.describe());
                Next::RetryAfter(STEP_RETRY)
            }
            Err(panic) => {
                self.after_panic("cleanup", panic);
                Next::RetryAfter(PANIC_RETRY)
            }
        }
    }

    fn after_panic(&mut self, step: &str, panic: Box<dyn std::any::Any + Send>) {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        log::error!(
            "pod worker for {} panicked during {step}: {what}; retrying in {}s",
            self.describe(),
            PANIC_RETRY.as_secs()
        );
        // What the panic left half-done is not trusted: start this pod's memory afresh.
        self.state = S::State::default();
    }

    fn describe(&self) -> String {
        let m = &self.pod.metadata;
        format!("{}/{} ({})", m.namespace.as_deref().unwrap_or(""), m.name.as_deref().unwrap_or(""), self.uid)
    }
}
