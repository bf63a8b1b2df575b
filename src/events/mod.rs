//! Events about pods and the node (`Pulling`, `Started`, `BackOff`, `NodeReady`, ...).
//!
//! Code that notices something worth an event calls a [`Recorder`]; standalone it only logs
//! ([`LogRecorder`]), in API-server mode [`api::ApiRecorder`] posts `core/v1` Events, deduplicated
//! and aggregated as client-go's event correlator does ([`correlate`]) and rate-limited by
//! eventRecordQPS and eventBurst.
//!
//! | module | what |
//! | --- | --- |
//! | [`api`] | `ApiRecorder`: the `rk-events` thread posting and patching Events |
//! | [`correlate`] | aggregation, deduplication (count++), per-object spam filter |
//! | [`lru`] | the bounded caches the correlator keeps its memory in |

pub mod api;
pub mod correlate;
pub mod lru;

use crate::api::core::Pod;

/// Normal or Warning, as the API's `Event.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// Upstream's event reasons for the pod lifecycle (pkg/kubelet/events).
pub mod reason {
    pub const PULLING: &str = "Pulling";
    pub const PULLED: &str = "Pulled";
    pub const FAILED: &str = "Failed";
    pub const INSPECT_FAILED: &str = "InspectFailed";
    pub const ERR_IMAGE_NEVER_PULL: &str = "ErrImageNeverPull";
    pub const BACKOFF: &str = "BackOff";
    pub const CREATED: &str = "Created";
    pub const STARTED: &str = "Started";
    pub const KILLING: &str = "Killing";
    pub const EXCEEDED_GRACE_PERIOD: &str = "ExceededGracePeriod";
    pub const PREEMPTING: &str = "Preempting";
    pub const UNHEALTHY: &str = "Unhealthy";
    pub const PROBE_WARNING: &str = "ProbeWarning";
    pub const FAILED_MOUNT: &str = "FailedMount";
    pub const FAILED_SYNC: &str = "FailedSync";
    pub const FAILED_CREATE_POD_SANDBOX: &str = "FailedCreatePodSandBox";
    pub const FAILED_KILL_POD: &str = "FailedKillPod";
    pub const SANDBOX_CHANGED: &str = "SandboxChanged";
    pub const FAILED_POST_START_HOOK: &str = "FailedPostStartHook";
    pub const FAILED_PRE_STOP_HOOK: &str = "FailedPreStopHook";
    pub const LIFECYCLE_HTTP_FALLBACK: &str = "LifecycleHTTPFallback";
    pub const STARTING: &str = "Starting";
    pub const NODE_READY: &str = "NodeReady";
    pub const NODE_NOT_READY: &str = "NodeNotReady";
    pub const REGISTERED_NODE: &str = "RegisteredNode";
}

/// Where events go. `field_path` names the container (`spec.containers{app}`) or is empty for
/// the pod itself, as upstream's involvedObject.fieldPath.
pub trait Recorder: Send + Sync {
    fn pod_event(&self, pod: &Pod, field_path: &str, kind: EventType, reason: &str, message: &str);

    /// An event about the node (`Starting`, `NodeReady`, `RegisteredNode`). Upstream's node
    /// reference carries the node *name* as its UID: pass `node_name` for `node_uid` to match.
    fn node_event(&self, node_name: &str, node_uid: &str, kind: EventType, reason: &str, message: &str) {
        let _ = node_uid;
        match kind {
            EventType::Normal => log::info!("event node/{node_name}: {reason}: {message}"),
            EventType::Warning => log::warn!("event node/{node_name}: {reason}: {message}"),
        }
    }
}

/// The recorder of a standalone node: events become log lines.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogRecorder;

impl Recorder for LogRecorder {
    fn pod_event(&self, pod: &Pod, field_path: &str, kind: EventType, reason: &str, message: &str) {
        let m = &pod.metadata;
        let ns = m.namespace.as_deref().unwrap_or("");
        let name = m.name.as_deref().unwrap_or("");
        let what = if field_path.is_empty() { String::new() } else { format!(" {field_path}") };
        match kind {
            EventType::Normal => log::info!("event {ns}/{name}{what}: {reason}: {message}"),
            EventType::Warning => log::warn!("event {ns}/{name}{what}: {reason}: {message}"),
        }
    }
}

/// `spec.containers{name}` / `spec.initContainers{name}`, upstream's field path for a container.
pub fn container_field_path(init: bool, name: &str) -> String {
    if init { format!("spec.initContainers{{{name}}}") } else { format!("spec.containers{{{name}}}") }
}
