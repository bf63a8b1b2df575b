use std::sync::{Arc, Mutex};

use super::*;
use crate::api::meta::ObjectMeta;

/// A clock that only moves when slept on, and remembers the sleeps.
#[derive(Clone)]
struct FakeClock(Arc<Mutex<(Instant, SystemTime, Vec<Duration>)>>);

impl FakeClock {
    fn new() -> Self {
        FakeClock(Arc::new(Mutex::new((Instant::now(), SystemTime::UNIX_EPOCH, Vec::new()))))
    }
    fn sleeps(&self) -> Vec<Duration> {
        self.0.lock().expect("clock").2.clone()
    }
}

impl Clock for FakeClock {
    fn wall(&self) -> SystemTime {
        self.0.lock().expect("clock").1
    }
    fn now(&self) -> Instant {
        self.0.lock().expect("clock").0
    }
    fn sleep(&self, d: Duration) {
        let mut g = self.0.lock().expect("clock");
        g.0 += d;
        g.1 += d;
        g.2.push(d);
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Call {
    Create { name: String, count: i32 },
    Patch { name: String, patch: Value },
}

/// Answers with a scripted result per call (default: success), recording the calls.
#[derive(Clone, Default)]
struct FakeSink {
    calls: Arc<Mutex<Vec<Call>>>,
    failures: Arc<Mutex<Vec<kubeclient::Error>>>,
}

impl FakeSink {
    fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("calls").clone()
    }
    fn fail_next(&self, e: kubeclient::Error) {
        self.failures.lock().expect("failures").push(e);
    }
    fn answer(&self, event: &Event) -> Result<Event, kubeclient::Error> {
        if let Some(e) = self.failures.lock().expect("failures").pop() {
            return Err(e);
        }
        let mut stored = event.clone();
        let n = self.calls.lock().expect("calls").len();
        stored.metadata.resource_version = Some(n.to_string());
        Ok(stored)
    }
}

impl EventSink for FakeSink {
    fn create(&mut self, event: &Event) -> Result<Event, kubeclient::Error> {
        let name = event.metadata.name().to_string();
        self.calls.lock().expect("calls").push(Call::Create { name, count: event.count.unwrap_or(0) });
        self.answer(event)
    }
    fn patch(&mut self, event: &Event, patch: &Value) -> Result<Event, kubeclient::Error> {
        let name = event.metadata.name().to_string();
        self.calls.lock().expect("calls").push(Call::Patch { name, patch: patch.clone() });
        self.answer(event)
    }
}

fn pod(name: &str) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some("ns".into()),
            uid: Some(format!("uid-{name}")),
            resource_version: Some("12".into()),
            ..ObjectMeta::default()
        },
        ..Pod::default()
    }
}

fn pod_event(name: &str, reason: &str) -> Event {
    make_event(pod_reference(&pod(name), ""), "node-1", EventType::Normal, reason, "msg", SystemTime::now())
}

fn api_error(code: u16, reason: &str) -> kubeclient::Error {
    kubeclient::Error::Api {
        method: "POST",
        path: "/api/v1/namespaces/ns/events".into(),
        code,
        reason: reason.into(),
        message: String::new(),
        retry_after_seconds: None,
    }
}

#[test]
fn pod_and_node_events_carry_upstreams_fields() {
    let e = make_event(
        pod_reference(&pod("web"), "spec.containers{app}"),
        "node-1",
        EventType::Warning,
        "BackOff",
        "Back-off restarting",
        SystemTime::UNIX_EPOCH + Duration::from_secs(100),
    );
    let v = serde_json::to_value(&e).expect("json");
    assert_eq!(v["metadata"]["namespace"], "ns");
    assert!(v["metadata"]["name"].as_str().is_some_and(|n| n.starts_with("web.")));
    assert_eq!(
        v["involvedObject"],
        serde_json::json!({"kind": "Pod", "namespace": "ns", "name": "web", "uid": "uid-web",
            "apiVersion": "v1", "resourceVersion": "12", "fieldPath": "spec.containers{app}"})
    );
    assert_eq!(v["source"], serde_json::json!({"component": "kubelet", "host": "node-1"}));
    assert_eq!(
        (v["type"].as_str(), v["reason"].as_str(), v["count"].as_i64()),
        (Some("Warning"), Some("BackOff"), Some(1))
    );
    assert_eq!(v["firstTimestamp"], "1970-01-01T00:01:40Z");
    assert_eq!(v["lastTimestamp"], v["firstTimestamp"]);
    assert_eq!(
        (v["reportingComponent"].as_str(), v["reportingInstance"].as_str()),
        (Some("kubelet"), Some("node-1"))
    );

    let node = ObjectReference {
        kind: Some("Node".into()),
        name: Some("node-1".into()),
        uid: Some("node-1".into()),
        ..ObjectReference::default()
    };
    let n = make_event(node, "node-1", EventType::Normal, "NodeReady", "ready", SystemTime::now());
    assert_eq!(
        n.metadata.namespace.as_deref(),
        Some("default"),
        "cluster-scoped objects' events go to default"
    );
    assert_eq!(n.involved_object.namespace, None);
}

#[test]
fn repeats_are_patched_and_a_vanished_event_is_created_again() {
    let sink = FakeSink::default();
    let mut poster = Poster::new(Box::new(sink.clone()), Box::new(FakeClock::new()), 50.0, 100);
    let first = pod_event("web", "Pulled");
    let name = first.metadata.name().to_string();
    poster.record(first);
    poster.record(pod_event("web", "Pulled"));
    sink.fail_next(api_error(404, "NotFound"));
    poster.record(pod_event("web", "Pulled"));
    let calls = sink.calls();
    assert_eq!(calls.len(), 4, "{calls:?}");
    assert_eq!(calls[0], Call::Create { name: name.clone(), count: 1 });
    assert!(
        matches!(&calls[1], Call::Patch { name: n, patch } if *n == name && patch["count"] == 2),
        "{calls:?}"
    );
    assert!(matches!(&calls[2], Call::Patch { patch, .. } if patch["count"] == 3), "{calls:?}");
    assert_eq!(calls[3], Call::Create { name, count: 3 }, "a 404 on the patch posts the event again");
}

#[test]
fn transport_errors_are_retried_and_api_errors_abandoned() {
    let sink = FakeSink::default();
    let clock = FakeClock::new();
    let mut poster = Poster::new(Box::new(sink.clone()), Box::new(clock.clone()), 0.0, 0);
    let transport =
        || kubeclient::Error::Transport { method: "POST", path: "/e".into(), detail: "refused".into() };
    sink.fail_next(transport());
    sink.fail_next(transport());
    poster.record(pod_event("a", "Started"));
    assert_eq!(sink.calls().len(), 3, "two failures, then success");
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 2);
    assert!(sleeps[0] <= RETRY_SLEEP && sleeps[1] == RETRY_SLEEP, "{sleeps:?}");

    sink.fail_next(api_error(422, "Invalid"));
    poster.record(pod_event("b", "Started"));
    assert_eq!(sink.calls().len(), 4, "an error status is not retried");
    assert_eq!(clock.sleeps().len(), 2);
}

#[test]
fn posting_is_paced_by_event_qps_and_burst() {
    let sink = FakeSink::default();
    let clock = FakeClock::new();
    let mut poster = Poster::new(Box::new(sink.clone()), Box::new(clock.clone()), 50.0, 100);
    // 150 different pods: no dedup, no spam filter; only the token bucket.
    for i in 0..150 {
        poster.record(pod_event(&format!("p{i}"), "Created"));
        if i == 99 {
            assert!(clock.sleeps().is_empty(), "the burst of 100 goes out at once");
        }
    }
    assert_eq!(sink.calls().len(), 150);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 50, "every event past the burst waits");
    let total: Duration = sleeps.iter().sum();
    assert!(total >= Duration::from_millis(990) && total <= Duration::from_millis(1010), "{total:?}");
}

/// A sink that blocks until released, to fill the queue.
struct BlockingSink(Receiver<()>);

impl EventSink for BlockingSink {
    fn create(&mut self, event: &Event) -> Result<Event, kubeclient::Error> {
        let _ = self.0.recv();
        Ok(event.clone())
    }
    fn patch(&mut self, event: &Event, _: &Value) -> Result<Event, kubeclient::Error> {
        self.create(event)
    }
}

#[test]
fn a_full_queue_drops_instead_of_blocking() {
    let (release, gate) = crossbeam_channel::unbounded();
    let config = EventsConfig { node_name: "n".into(), qps: 0.0, burst: 0, queue: 2 };
    let recorder =
        ApiRecorder::spawn_with(Box::new(BlockingSink(gate)), Box::new(SystemClock), config).expect("spawn");
    let started = Instant::now();
    for i in 0..20 {
        recorder.pod_event(&pod(&format!("p{i}")), "", EventType::Normal, "Created", "m");
    }
    assert!(started.elapsed() < Duration::from_secs(1), "recording never blocks");
    assert!(recorder.dropped() >= 17, "at most 1 in flight + 2 queued: {}", recorder.dropped());
    for _ in 0..20 {
        release.send(()).expect("release");
    }
    assert!(recorder.flush(Duration::from_secs(5)));
}
