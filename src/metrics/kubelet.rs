//! The kubelet's own metrics, with upstream's names, labels, help texts and buckets
//! (`pkg/kubelet/metrics`, `pkg/kubelet/server/metrics`, `pkg/kubelet/prober`), and the
//! small functions the rest of the agent calls to record them.

use std::time::{Duration, Instant, SystemTime};

use super::registry::{Counter, Family, Gauge, Histogram, exponential};
use crate::api::MicroTime;
use crate::api::core::Pod;

/// Prometheus' default buckets.
const DEF_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const POD_START_BUCKETS: &[f64] = &[
    0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 20.0, 30.0, 45.0, 60.0, 120.0, 180.0, 240.0, 300.0, 360.0, 480.0,
    600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0,
];
const RUNTIME_BUCKETS: &[f64] = &exponential::<14>(0.005, 2.5);
const HTTP_LABELS: &[&str] = &["method", "path", "server_type", "long_running"];
const PROBE_LABELS: &[&str] = &["probe_type", "result", "container", "pod", "namespace", "pod_uid"];

pub static NODE_NAME: Gauge = Gauge::gauge("kubelet_node_name", "[ALPHA] The node's name. The count is always 1.", &["node"]);
pub static RUNNING_PODS: Gauge =
    Gauge::gauge("kubelet_running_pods", "[ALPHA] Number of pods that have a running pod sandbox", &[]);
pub static RUNNING_CONTAINERS: Gauge =
    Gauge::gauge("kubelet_running_containers", "[ALPHA] Number of containers currently running", &["container_state"]);
pub static POD_START_DURATION: Histogram = Histogram::new(
    "kubelet_pod_start_duration_seconds",
    "[ALPHA] Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run",
    &[],
    POD_START_BUCKETS,
);
pub static POD_WORKER_DURATION: Histogram = Histogram::new(
    "kubelet_pod_worker_duration_seconds",
    "[ALPHA] Duration in seconds to sync a single pod. Broken down by operation type: create, update, or sync",
    &["operation_type"],
    DEF_BUCKETS,
);
pub static PLEG_RELIST_DURATION: Histogram = Histogram::new(
    "kubelet_pleg_relist_duration_seconds",
    "[ALPHA] Duration in seconds for relisting pods in PLEG.",
    &[],
    DEF_BUCKETS,
);
pub static PLEG_RELIST_INTERVAL: Histogram = Histogram::new(
    "kubelet_pleg_relist_interval_seconds",
    "[ALPHA] Interval in seconds between relisting in PLEG.",
    &[],
    DEF_BUCKETS,
);
pub static RUNTIME_OPERATIONS: Counter = Counter::counter(
    "kubelet_runtime_operations_total",
    "[ALPHA] Cumulative number of runtime operations by operation type.",
    &["operation_type"],
);
pub static RUNTIME_OPERATIONS_DURATION: Histogram = Histogram::new(
    "kubelet_runtime_operations_duration_seconds",
    "[ALPHA] Duration in seconds of runtime operations. Broken down by operation type.",
    &["operation_type"],
    RUNTIME_BUCKETS,
);
pub static RUNTIME_OPERATIONS_ERRORS: Counter = Counter::counter(
    "kubelet_runtime_operations_errors_total",
    "[ALPHA] Cumulative number of runtime operation errors by operation type.",
    &["operation_type"],
);
pub static HTTP_REQUESTS: Counter =
    Counter::counter("kubelet_http_requests_total", "[ALPHA] Number of the http requests received since the server started", HTTP_LABELS);
pub static HTTP_REQUESTS_DURATION: Histogram =
    Histogram::new("kubelet_http_requests_duration_seconds", "[ALPHA] Duration in seconds to serve http requests", HTTP_LABELS, DEF_BUCKETS);
pub static HTTP_INFLIGHT: Gauge = Gauge::gauge("kubelet_http_inflight_requests", "[ALPHA] Number of the inflight http requests", HTTP_LABELS);
pub static PROBE_TOTAL: Counter = Counter::counter(
    "prober_probe_total",
    "[ALPHA] Cumulative number of a liveness, readiness or startup probe for a container by result.",
    PROBE_LABELS,
);
pub static PROBE_DURATION: Histogram = Histogram::new(
    "prober_probe_duration_seconds",
    "[ALPHA] Duration in seconds for a probe response.",
    &["probe_type", "container", "pod", "namespace"],
    DEF_BUCKETS,
);

/// What `/metrics` shows of the kubelet's own families (the process ones are added there).
pub const KUBELET_FAMILIES: &[&dyn Family] = &[
    &HTTP_INFLIGHT,
    &HTTP_REQUESTS_DURATION,
    &HTTP_REQUESTS,
    &NODE_NAME,
    &PLEG_RELIST_DURATION,
    &PLEG_RELIST_INTERVAL,
    &POD_START_DURATION,
    &POD_WORKER_DURATION,
    &RUNNING_CONTAINERS,
    &RUNNING_PODS,
    &RUNTIME_OPERATIONS_DURATION,
    &RUNTIME_OPERATIONS_ERRORS,
    &RUNTIME_OPERATIONS,
];

/// What `/metrics/probes` shows.
pub const PROBE_FAMILIES: &[&dyn Family] = &[&PROBE_DURATION, &PROBE_TOTAL];

/// Upstream's `operation_type` for a CRI RPC name (`RunPodSandbox` → `run_podsandbox`).
pub fn operation_type(rpc: &str) -> String {
    let mut snake = String::with_capacity(rpc.len() + 4);
    for (i, c) in rpc.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            snake.push('_');
        }
        snake.push(c.to_ascii_lowercase());
    }
    let snake = snake.replace("pod_sandbox", "podsandbox");
    match snake.as_str() {
        "update_container_resources" => "update_container".to_string(),
        _ => snake,
    }
}

/// One CRI call: counted, timed, and its failure counted.
pub fn runtime_operation(rpc: &str, took: Duration, failed: bool) {
    let op = operation_type(rpc);
    RUNTIME_OPERATIONS.inc(&[&op]);
    RUNTIME_OPERATIONS_DURATION.observe(&[&op], took.as_secs_f64());
    if failed {
        RUNTIME_OPERATIONS_ERRORS.inc(&[&op]);
    }
}

/// One PLEG relist that started at `started`; `previous` is when the one before started.
pub fn pleg_relist(started: Instant, previous: Option<Instant>) {
    if let Some(p) = previous {
        PLEG_RELIST_INTERVAL.observe(&[], started.saturating_duration_since(p).as_secs_f64());
    }
    PLEG_RELIST_DURATION.observe(&[], started.elapsed().as_secs_f64());
}

/// Pods with a ready sandbox, and containers by state (`created`, `running`, `exited`,
/// `unknown`), from one relist.
pub fn running(pods_with_ready_sandbox: usize, containers_by_state: &[(&str, usize)]) {
    RUNNING_PODS.set(&[], pods_with_ready_sandbox as f64);
    for state in ["created", "running", "exited", "unknown"] {
        let n = containers_by_state.iter().filter(|(s, _)| *s == state).map(|(_, n)| *n).sum::<usize>();
        RUNNING_CONTAINERS.set(&[state], n as f64);
    }
}

/// [`running`] from one PLEG relist.
pub fn running_from_relist<'a>(pods: impl Iterator<Item = &'a crate::pleg::RuntimePod>) {
    use crate::kuberuntime::{ContainerState, SandboxState};
    let mut ready = 0;
    let mut states = [("created", 0), ("running", 0), ("exited", 0), ("unknown", 0)];
    for pod in pods {
        ready += usize::from(pod.sandboxes.values().any(|s| *s == SandboxState::Ready));
        for state in pod.containers.values() {
            let i = match state {
                ContainerState::Created => 0,
                ContainerState::Running => 1,
                ContainerState::Exited => 2,
                ContainerState::Unknown => 3,
            };
            if let Some((_, n)) = states.get_mut(i) {
                *n += 1;
            }
        }
    }
    running(ready, &states);
}

/// One pod worker step (`create`, `update`, `sync`, `kill`, `terminated`).
pub fn pod_worker(operation: &str, took: Duration) {
    POD_WORKER_DURATION.observe(&[operation], took.as_secs_f64());
}

/// A pod's status went from Pending (or none) to Running: how long since the kubelet first
/// saw it (its `kubernetes.io/config.seen` annotation).
pub fn pod_started(pod: &Pod, previous_phase: Option<&str>, phase: Option<&str>) {
    if phase != Some("Running") || !matches!(previous_phase, None | Some("Pending")) {
        return;
    }
    let Some(seen) = pod.metadata.annotations.get("kubernetes.io/config.seen") else { return };
    let Ok(seen) = MicroTime::parse(seen) else { return };
    if let Ok(d) = SystemTime::now().duration_since(SystemTime::from(seen)) {
        POD_START_DURATION.observe(&[], d.as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_types_are_upstreams() {
        let cases = [
            ("RunPodSandbox", "run_podsandbox"),
            ("PodSandboxStatus", "podsandbox_status"),
            ("ListPodSandbox", "list_podsandbox"),
            ("ListPodSandboxStats", "list_podsandbox_stats"),
            ("UpdateContainerResources", "update_container"),
            ("ImageFsInfo", "image_fs_info"),
            ("ExecSync", "exec_sync"),
            ("Version", "version"),
            ("ListContainers", "list_containers"),
        ];
        for (rpc, op) in cases {
            assert_eq!(operation_type(rpc), op);
        }
    }

    #[test]
    fn runtime_operations_are_counted_and_timed() {
        // The registry is global and other tests make CRI calls at the same time: compare
        // growth, not absolute values.
        let op = ["reopen_container_log"];
        let before = (
            RUNTIME_OPERATIONS.get(&op).unwrap_or(0.0),
            RUNTIME_OPERATIONS_ERRORS.get(&op).unwrap_or(0.0),
            RUNTIME_OPERATIONS_DURATION.count(&op),
        );
        runtime_operation("ReopenContainerLog", Duration::from_millis(3), false);
        runtime_operation("ReopenContainerLog", Duration::from_millis(3), true);
        assert!(RUNTIME_OPERATIONS.get(&op).unwrap_or(0.0) >= before.0 + 2.0);
        assert!(RUNTIME_OPERATIONS_ERRORS.get(&op).unwrap_or(0.0) >= before.1 + 1.0);
        assert!(RUNTIME_OPERATIONS_DURATION.count(&op) >= before.2 + 2);
    }

    #[test]
    fn pod_start_is_observed_once_running() {
        let mut pod = Pod::default();
        let seen = MicroTime::from(SystemTime::now() - Duration::from_secs(3)).to_string();
        pod.metadata.annotations.insert("kubernetes.io/config.seen".into(), seen);
        let before = POD_START_DURATION.count(&[]);
        pod_started(&pod, Some("Running"), Some("Running"));
        pod_started(&pod, Some("Pending"), Some("Pending"));
        assert_eq!(POD_START_DURATION.count(&[]), before);
        pod_started(&pod, Some("Pending"), Some("Running"));
        assert_eq!(POD_START_DURATION.count(&[]), before + 1);
    }
}
