//! [`Runtime`]: the runtime operations a pod worker calls (upstream's
//! `kubeGenericRuntimeManager`): read a pod's status, sync it towards its spec, kill it,
//! remove it. One `Runtime` serves every pod worker (`Arc<Runtime>`); per-pod memory
//! (restart backoff, reason cache) belongs to the worker and comes in a [`SyncContext`].
//!
//! | operation | file |
//! | --- | --- |
//! | [`Runtime::pod_status`] | `inspect.rs` |
//! | [`Runtime::sync_pod`] | `sync.rs` (+ `start.rs` per container) |
//! | [`Runtime::kill_pod`] | `kill.rs` (+ `hooks.rs` for preStop) |
//! | [`Runtime::remove_pod`], [`Runtime::cleanup_dead_containers`] | `remove.rs` |

use std::sync::Arc;
use std::time::Duration;

use super::actions::ContainerVerdict;
use super::backoff::{Backoff, Clock, SystemClock};
use super::env::EnvSources;
use super::error::RuntimeError;
use super::image::{ImageConfig, ImageManager};
use super::inspect;
use super::model::PodStatus;
use super::node::NodeContext;
use crate::api::core::Container;
use crate::cri;
use crate::events::Recorder;
use crate::status::ReasonCache;

/// The CRI API version the kubelet announces in `Version`.
const KUBE_RUNTIME_API_VERSION: &str = "0.1.0";

/// Settings of the runtime operations (KubeletConfiguration fields).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuntimeConfig {
    pub images: ImageConfig,
}

impl RuntimeConfig {
    /// The settings from a KubeletConfiguration.
    pub fn from_kubelet(k: &crate::config::KubeletConfiguration) -> RuntimeConfig {
        RuntimeConfig {
            images: ImageConfig {
                serialize_image_pulls: k.serialize_image_pulls,
                max_parallel_image_pulls: k.max_parallel_image_pulls.and_then(|n| u32::try_from(n).ok()),
                registry_pull_qps: f64::from(k.registry_pull_qps.max(0)),
                registry_burst: u32::try_from(k.registry_burst).unwrap_or(10),
            },
        }
    }
}

/// What one sync needs besides the pod and its runtime view: the worker's per-pod memory
/// and the seams to volumes, env sources, credentials, probes and cancellation.
pub struct SyncContext<'a> {
    /// Restart backoff of the pod's containers (see [`Backoff::crash_loop`]).
    pub backoff: &'a mut Backoff,
    /// Start failures, shown as waiting reasons in the pod status.
    pub reasons: &'a mut ReasonCache,
    /// The volume mounts of a container, given the pod's IPs (its `subPathExpr` may use
    /// them through the environment); an error fails the container with
    /// `CreateContainerConfigError` ([`no_mounts`] when there are no volumes).
    pub mounts: &'a MountsFn<'a>,
    pub env: &'a dyn EnvSources,
    /// Registry credentials from the pod's image pull secrets (see `image::auth`).
    pub pull_secrets: &'a [cri::AuthConfig],
    /// Liveness/startup verdicts by container ID ([`super::actions::all_healthy`] without a prober).
    pub verdicts: &'a dyn Fn(&str) -> ContainerVerdict,
    /// True when the sync should stop between steps (a kill or removal arrived).
    pub cancel: &'a dyn Fn() -> bool,
}

/// A container's volume mounts, given the pod IPs (see [`SyncContext::mounts`]).
pub type MountsFn<'a> = dyn Fn(&Container, &[String]) -> Result<Vec<cri::Mount>, String> + 'a;

/// For callers without volumes.
pub fn no_mounts(_: &Container, _: &[String]) -> Result<Vec<cri::Mount>, String> {
    Ok(Vec::new())
}

/// For callers that never cancel.
pub fn never_cancel() -> bool {
    false
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncResult {
    /// Sync again after this long: when the earliest restart or pull backoff ends.
    pub requeue_after: Option<Duration>,
    /// Something was started, created, killed or removed.
    pub changed: bool,
    /// The first failure, in upstream's words (the start failures are also in the reason
    /// cache).
    pub error: Option<String>,
}

impl SyncResult {
    pub(crate) fn requeue(&mut self, after: Duration) {
        self.requeue_after = Some(self.requeue_after.map_or(after, |d| d.min(after)));
    }

    pub(crate) fn fail(&mut self, message: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(message.into());
        }
    }
}

/// The runtime operations over one CRI runtime.
pub struct Runtime {
    pub(crate) cri: cri::Client,
    pub(crate) node: NodeContext,
    pub(crate) recorder: Arc<dyn Recorder>,
    pub(crate) images: ImageManager,
    runtime_name: String,
    runtime_version: String,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("runtime", &self.runtime_name)
            .field("version", &self.runtime_version)
            .field("node", &self.node.node_name)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Asks the runtime for its name and version (also checking it answers) and starts the
    /// image puller.
    pub fn new(
        cri: cri::Client,
        node: NodeContext,
        cfg: RuntimeConfig,
        recorder: Arc<dyn Recorder>,
    ) -> Result<Runtime, RuntimeError> {
        Runtime::with_clock(cri, node, cfg, recorder, Arc::new(SystemClock))
    }

    /// As [`Runtime::new`], with the clock of the image pull backoff (tests).
    pub fn with_clock(
        cri: cri::Client,
        node: NodeContext,
        cfg: RuntimeConfig,
        recorder: Arc<dyn Recorder>,
        clock: Arc<dyn Clock>,
    ) -> Result<Runtime, RuntimeError> {
        let req = cri::VersionRequest { version: KUBE_RUNTIME_API_VERSION.into() };
        let v = cri.version(&req).map_err(|e| RuntimeError::cri("runtime", e))?;
        log::info!(
            "container runtime {} {} (CRI {})",
            v.runtime_name,
            v.runtime_version,
            v.runtime_api_version
        );
        let images = ImageManager::new(cri.clone(), recorder.clone(), &cfg.images, clock)
            .map_err(|error| RuntimeError::Spawn { name: "rk-image-puller", error })?;
        Ok(Runtime {
            cri,
            node,
            recorder,
            images,
            runtime_name: v.runtime_name,
            runtime_version: v.runtime_version,
        })
    }

    /// The runtime's name (`containerd`): the scheme of container IDs in the API status
    /// (`containerd://<id>`).
    pub fn runtime_name(&self) -> &str {
        &self.runtime_name
    }

    pub fn runtime_version(&self) -> &str {
        &self.runtime_version
    }

    pub fn node(&self) -> &NodeContext {
        &self.node
    }

    pub fn cri(&self) -> &cri::Client {
        &self.cri
    }

    /// Everything the runtime knows of pod `uid`: sandboxes and containers, newest first.
    pub fn pod_status(&self, uid: &str) -> Result<PodStatus, RuntimeError> {
        inspect::pod_status(&self.cri, uid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_runtime_serves_every_pod_worker() {
        fn shared<T: Send + Sync>() {}
        shared::<Runtime>();
        shared::<super::super::CriRelister>();
        let mut r = SyncResult::default();
        r.requeue(Duration::from_secs(20));
        r.requeue(Duration::from_secs(10));
        r.requeue(Duration::from_secs(30));
        r.fail("first");
        r.fail("second");
        assert_eq!((r.requeue_after, r.error.as_deref()), (Some(Duration::from_secs(10)), Some("first")));
    }

    #[test]
    fn new_asks_the_runtime_for_its_name() {
        let fake = super::super::fake_runtime::FakeRuntime::new();
        let rt = Runtime::new(
            fake.client(),
            NodeContext::default(),
            RuntimeConfig::default(),
            Arc::new(crate::events::LogRecorder),
        )
        .expect("runtime");
        assert_eq!((rt.runtime_name(), rt.runtime_version()), ("fake", "1.0"));
        fake.fail("Version", crate::grpc::Code::Unavailable, "down");
        let e = Runtime::new(
            fake.client(),
            NodeContext::default(),
            RuntimeConfig::default(),
            Arc::new(crate::events::LogRecorder),
        )
        .expect_err("runtime down");
        assert_eq!(e.to_string(), "runtime: CRI Version: rpc error: code = Unavailable desc = down");
    }
}
