//! Events to the API server: [`ApiRecorder`] and its `rk-events` thread, as client-go's
//! `record` package (the broadcaster, `recordToSink`) does it for the kubelet.
//!
//! ```text
//!  pod workers, node status ──pod_event/node_event──► bounded queue (1000) ──► rk-events
//!   (never block: a full queue drops the event            │  correlate (aggregate, dedup, spam filter)
//!    with a log line)                                     │  token bucket (eventRecordQPS/eventBurst)
//!                                                         ▼
//!                               POST /api/v1/namespaces/<ns>/events
//!                               PATCH .../events/<name> {count, lastTimestamp, message} for repeats
//!                                 (404 on the PATCH → POST again)
//! ```
//!
//! Failures: an error status from the server (invalid, forbidden, already exists) abandons
//! the event; a transport failure retries it up to 12 times, 10 s apart (the first wait is
//! randomized), holding the queue meanwhile, as upstream.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use serde_json::Value;

use super::correlate::{Correlated, Correlator, event_name};
use super::{EventType, Recorder};
use crate::api::core::{Event, EventSource, ObjectReference, Pod};
use crate::api::time::Time;
use crate::kubeclient::ratelimit::RateLimiter;
use crate::kubeclient::{self, Client, PatchKind, PatchParams, ResourcePath};

/// client-go's `maxQueuedEvents`.
pub const DEFAULT_QUEUE: usize = 1000;
const MAX_TRIES: u32 = 12;
const RETRY_SLEEP: Duration = Duration::from_secs(10);
const COMPONENT: &str = "kubelet";

/// How the recorder behaves.
#[derive(Debug, Clone)]
pub struct EventsConfig {
    /// `source.host` and `reportingInstance`.
    pub node_name: String,
    /// eventRecordQPS (0: unlimited) and eventBurst.
    pub qps: f32,
    pub burst: u32,
    pub queue: usize,
}

impl EventsConfig {
    pub fn new(node_name: &str, kc: &crate::config::KubeletConfiguration) -> Self {
        EventsConfig {
            node_name: node_name.to_string(),
            // Validation keeps both non-negative; the QPS is small enough for an f32.
            qps: kc.event_record_qps as f32,
            burst: u32::try_from(kc.event_burst).unwrap_or(0),
            queue: DEFAULT_QUEUE,
        }
    }
}

/// Where events are written: the API server, or a fake in tests.
pub trait EventSink: Send {
    fn create(&mut self, event: &Event) -> Result<Event, kubeclient::Error>;
    fn patch(&mut self, event: &Event, patch: &Value) -> Result<Event, kubeclient::Error>;
}

impl EventSink for Client {
    fn create(&mut self, event: &Event) -> Result<Event, kubeclient::Error> {
        let ns = event.metadata.namespace();
        Client::create(self, &ResourcePath::core("events").namespace(ns), event)
    }

    fn patch(&mut self, event: &Event, patch: &Value) -> Result<Event, kubeclient::Error> {
        let path =
            ResourcePath::core("events").namespace(event.metadata.namespace()).name(event.metadata.name());
        Client::patch(self, &path, PatchKind::StrategicMerge, patch, &PatchParams::default())
    }
}

/// The time, for the correlator and the rate limiter; a fake in tests.
pub trait Clock: Send {
    fn wall(&self) -> SystemTime;
    fn now(&self) -> Instant;
    fn sleep(&self, d: Duration);
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn wall(&self) -> SystemTime {
        SystemTime::now()
    }
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

enum Item {
    Event(Box<Event>),
    Flush(Sender<()>),
}

/// Posts events to the API server from the `rk-events` thread. Clones share the queue; the
/// thread ends when the last clone is dropped (after the queue is drained).
#[derive(Clone)]
pub struct ApiRecorder {
    tx: Sender<Item>,
    node_name: String,
    dropped: Arc<AtomicU64>,
}

impl std::fmt::Debug for ApiRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiRecorder").field("node_name", &self.node_name).finish_non_exhaustive()
    }
}

impl ApiRecorder {
    /// Starts `rk-events`. Give it a client of its own if events must not share the
    /// kubeAPIQPS budget (upstream uses a separate client for events).
    pub fn spawn(client: Client, config: EventsConfig) -> std::io::Result<ApiRecorder> {
        ApiRecorder::spawn_with(Box::new(client), Box::new(SystemClock), config)
    }

    pub fn spawn_with(
        sink: Box<dyn EventSink>,
        clock: Box<dyn Clock>,
        config: EventsConfig,
    ) -> std::io::Result<Self> {
        let (tx, rx) = crossbeam_channel::bounded(config.queue.max(1));
        let mut poster = Poster::new(sink, clock, config.qps, config.burst);
        std::thread::Builder::new().name("rk-events".into()).spawn(move || poster.run(&rx))?;
        Ok(ApiRecorder { tx, node_name: config.node_name, dropped: Arc::new(AtomicU64::new(0)) })
    }

    /// Waits until everything queued before this call was handled; false on timeout.
    pub fn flush(&self, timeout: Duration) -> bool {
        let (done_tx, done_rx) = crossbeam_channel::bounded(1);
        self.tx.send_timeout(Item::Flush(done_tx), timeout).is_ok() && done_rx.recv_timeout(timeout).is_ok()
    }

    /// Events dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn enqueue(&self, event: Event) {
        match self.tx.try_send(Item::Event(Box::new(event))) {
            Ok(()) => {}
            Err(TrySendError::Full(Item::Event(e))) => {
                let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if n == 1 || n.is_multiple_of(100) {
                    log::error!(
                        "event queue full, dropping event {:?} for {}/{} ({n} dropped so far)",
                        e.reason.as_deref().unwrap_or(""),
                        e.involved_object.namespace.as_deref().unwrap_or(""),
                        e.involved_object.name.as_deref().unwrap_or("")
                    );
                }
            }
            Err(_) => log::error!("event recorder thread is gone; event dropped"),
        }
    }

    fn make(&self, object: ObjectReference, kind: EventType, reason: &str, message: &str) -> Event {
        // Upstream logs every event at verbosity 3.
        let (ns, name) = (object.namespace.as_deref().unwrap_or(""), object.name.as_deref().unwrap_or(""));
        log::debug!("event {ns}/{name}: {} {reason}: {message}", kind.as_str());
        make_event(object, &self.node_name, kind, reason, message, SystemTime::now())
    }
}

impl Recorder for ApiRecorder {
    fn pod_event(&self, pod: &Pod, field_path: &str, kind: EventType, reason: &str, message: &str) {
        self.enqueue(self.make(pod_reference(pod, field_path), kind, reason, message));
    }

    fn node_event(&self, node_name: &str, node_uid: &str, kind: EventType, reason: &str, message: &str) {
        let node = ObjectReference {
            kind: Some("Node".into()),
            name: Some(node_name.to_string()),
            uid: Some(node_uid.to_string()),
            ..ObjectReference::default()
        };
        self.enqueue(self.make(node, kind, reason, message));
    }
}

/// The reference client-go's `GetReference` makes for a pod (plus the container's field path).
pub fn pod_reference(pod: &Pod, field_path: &str) -> ObjectReference {
    let m = &pod.metadata;
    ObjectReference {
        kind: Some("Pod".into()),
        api_version: Some("v1".into()),
        namespace: m.namespace.clone(),
        name: m.name.clone(),
        uid: m.uid.clone(),
        resource_version: m.resource_version.clone(),
        field_path: Some(field_path.to_string()).filter(|f| !f.is_empty()),
    }
}

/// A new event about `object`, as client-go's `makeEvent`: in the object's namespace
/// (`default` for cluster-scoped objects), count 1, first and last timestamp now.
pub fn make_event(
    object: ObjectReference,
    node_name: &str,
    kind: EventType,
    reason: &str,
    message: &str,
    now: SystemTime,
) -> Event {
    let stamp = Time::from(now);
    let mut event = Event {
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        type_: Some(kind.as_str().to_string()),
        source: Some(EventSource { component: Some(COMPONENT.into()), host: Some(node_name.to_string()) }),
        first_timestamp: Some(stamp),
        last_timestamp: Some(stamp),
        count: Some(1),
        reporting_component: Some(COMPONENT.into()),
        reporting_instance: Some(node_name.to_string()),
        ..Event::default()
    };
    let namespace = object.namespace.clone().filter(|ns| !ns.is_empty()).unwrap_or_else(|| "default".into());
    event.metadata.name = Some(event_name(object.name.as_deref().unwrap_or(""), now));
    event.metadata.namespace = Some(namespace);
    event.involved_object = object;
    event
}

/// The `rk-events` thread's state.
pub(crate) struct Poster {
    sink: Box<dyn EventSink>,
    clock: Box<dyn Clock>,
    correlator: Correlator,
    limiter: RateLimiter,
}

impl Poster {
    pub(crate) fn new(sink: Box<dyn EventSink>, clock: Box<dyn Clock>, qps: f32, burst: u32) -> Self {
        Poster { sink, clock, correlator: Correlator::default(), limiter: RateLimiter::new(qps, burst) }
    }

    fn run(&mut self, rx: &Receiver<Item>) {
        for item in rx {
            match item {
                Item::Event(event) => self.record(*event),
                Item::Flush(done) => drop(done.send(())),
            }
        }
        log::debug!("event recorder: all recorders dropped; stopping");
    }

    pub(crate) fn record(&mut self, event: Event) {
        let label = event_label(&event);
        let (event, patch) = match self.correlator.correlate(event, self.clock.wall()) {
            Correlated::Skip => {
                log::debug!("event {label} dropped by the spam filter");
                return;
            }
            Correlated::Create(event) => (event, None),
            Correlated::Patch { event, patch } => (event, Some(patch)),
        };
        for tries in 1..=MAX_TRIES {
            if self.attempt(&event, patch.as_ref()) {
                return;
            }
            if tries == MAX_TRIES {
                log::error!("unable to write event {label} (retry limit exceeded)");
                return;
            }
            // The first wait is random, so nodes do not retry in step after an outage.
            let delay = if tries == 1 {
                RETRY_SLEEP.mul_f64((crate::kubeclient::random_u64() % 1000) as f64 / 1000.0)
            } else {
                RETRY_SLEEP
            };
            self.clock.sleep(delay);
        }
    }

    /// One try; true when the event is written or abandoned, false to retry.
    fn attempt(&mut self, event: &Event, patch: Option<&Value>) -> bool {
        let mut result = None;
        if let Some(patch) = patch {
            self.pace();
            result = Some(self.sink.patch(event, patch));
        }
        let patched_away = matches!(&result, Some(Err(e)) if e.is_not_found());
        if patch.is_none() || patched_away {
            let mut fresh = event.clone();
            fresh.metadata.resource_version = None;
            self.pace();
            result = Some(self.sink.create(&fresh));
        }
        let Some(result) = result else { return true };
        match result {
            Ok(stored) => {
                self.correlator.update_state(&stored);
                true
            }
            Err(e @ kubeclient::Error::Api { .. }) if e.is_already_exists() => {
                log::debug!("server rejected event {} (will not retry): {e}", event_label(event));
                true
            }
            Err(e @ (kubeclient::Error::Api { .. } | kubeclient::Error::InvalidRequest { .. })) => {
                log::error!("server rejected event {} (will not retry): {e}", event_label(event));
                true
            }
            Err(e) => {
                log::warn!("unable to write event {} (may retry after sleeping): {e}", event_label(event));
                false
            }
        }
    }

    fn pace(&self) {
        let wait = self.limiter.reserve_at(self.clock.now());
        if !wait.is_zero() {
            self.clock.sleep(wait);
        }
    }
}

fn event_label(e: &Event) -> String {
    format!(
        "{}/{} {}",
        e.involved_object.namespace.as_deref().unwrap_or(""),
        e.involved_object.name.as_deref().unwrap_or(""),
        e.reason.as_deref().unwrap_or("")
    )
}

#[cfg(test)]
#[path = "api_tests.rs"]
mod tests;
