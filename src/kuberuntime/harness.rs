//! Test harness: a [`Runtime`] over the in-memory [`FakeRuntime`], an event recorder that
//! remembers, and the per-pod memory a pod worker keeps.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::backoff::{Backoff, CRASH_LOOP_MAX, FakeClock};
use super::env::NoEnvSources;
use super::fake_runtime::FakeRuntime;
use super::node::NodeContext;
use super::{PodStatus, Runtime, SyncContext, SyncResult, all_healthy, never_cancel, no_mounts};
use crate::api::core::{Container, Pod};
use crate::events::{EventType, Recorder};
use crate::status::ReasonCache;

/// Records events as `(reason, message)`.
#[derive(Default)]
pub struct Events(pub Mutex<Vec<(String, String)>>);

impl Recorder for Events {
    fn pod_event(&self, _: &Pod, _: &str, _: EventType, why: &str, message: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push((why.into(), message.into()));
    }
}

impl Events {
    /// The events so far, forgetting them.
    pub fn take(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The reasons of the events so far, forgetting them.
    pub fn reasons(&self) -> Vec<String> {
        self.take().into_iter().map(|(r, _)| r).collect()
    }
}

/// A `Runtime` over a `FakeRuntime`, with a pod worker's per-pod memory and a scratch root
/// directory (removed on drop).
pub struct Harness {
    pub fake: Arc<FakeRuntime>,
    pub events: Arc<Events>,
    pub clock: Arc<FakeClock>,
    pub runtime: Runtime,
    pub backoff: Backoff,
    pub reasons: ReasonCache,
    pub root: PathBuf,
}

impl Harness {
    pub fn new(tag: &str) -> Harness {
        let fake = FakeRuntime::new();
        let start = fake.lock().clock;
        let clock =
            Arc::new(FakeClock::new(std::time::UNIX_EPOCH + Duration::from_nanos(start.unsigned_abs())));
        let root = std::env::temp_dir().join(format!("rk-kr-{tag}-{}", std::process::id()));
        let node = NodeContext {
            node_name: "node1".into(),
            root_dir: root.join("kubelet"),
            pod_logs_dir: root.join("pods-logs"),
            container_logs_dir: root.join("containers-logs"),
            ..Default::default()
        };
        let events = Arc::new(Events::default());
        let runtime =
            Runtime::with_clock(fake.client(), node, Default::default(), events.clone(), clock.clone())
                .expect("runtime");
        let backoff = Backoff::crash_loop(CRASH_LOOP_MAX, clock.clone());
        Harness { fake, events, clock, runtime, backoff, reasons: Default::default(), root }
    }

    pub fn status(&self, uid: &str) -> PodStatus {
        self.runtime.pod_status(uid).expect("pod status")
    }

    /// Reads the pod's status and syncs it once, as a pod worker would.
    pub fn sync(&mut self, pod: &Pod) -> SyncResult {
        let status = self.status(pod.metadata.uid());
        let mut ctx = SyncContext {
            backoff: &mut self.backoff,
            reasons: &mut self.reasons,
            mounts: &no_mounts,
            env: &NoEnvSources,
            pull_secrets: &[],
            verdicts: &all_healthy,
            cancel: &never_cancel,
        };
        self.runtime.sync_pod(pod, &status, &mut ctx)
    }

    /// Moves both the runtime's and the kubelet's clocks on.
    pub fn advance(&self, by: Duration) {
        self.fake.advance(by);
        self.clock.advance(by);
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A pod `web` in `default` with uid `uid` running busybox app containers `apps`.
pub fn pod(uid: &str, apps: &[&str]) -> Pod {
    let mut p = Pod::default();
    p.metadata.name = Some("web".into());
    p.metadata.namespace = Some("default".into());
    p.metadata.uid = Some(uid.into());
    p.spec.termination_grace_period_seconds = Some(30);
    p.spec.containers = apps
        .iter()
        .map(|n| Container {
            name: (*n).into(),
            image: Some("busybox:1.35".into()),
            image_pull_policy: Some("IfNotPresent".into()),
            termination_message_path: Some("/dev/termination-log".into()),
            termination_message_policy: Some("File".into()),
            ..Default::default()
        })
        .collect();
    p
}
