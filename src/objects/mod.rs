//! API objects the pods of this node use: the Secret and ConfigMap managers (upstream's
//! `pkg/kubelet/secret`, `pkg/kubelet/configmap` and `pkg/kubelet/util/manager`) and the
//! Service cache for service-link variables; [`ApiObjects`] holds all three and answers the
//! container environment builder.
//!
//! | module | what |
//! | --- | --- |
//! | [`refs`] | which Secrets/ConfigMaps a pod references |
//! | [`registry`] | reference counting by pod |
//! | [`manager`] | [`ObjectManager`]: the handle, for every strategy |
//! | [`watch`] | strategy `Watch` (default): one single-object watch per referenced object |
//! | [`ttl`] | strategy `Cache`: GET when the cached copy is older than the TTL |
//! | [`services`] | every Service (one reflector), for service links |
//! | [`kinds`] | the cached kinds |
//!
//! Strategy `Get` (configMapAndSecretChangeDetectionStrategy) has no state: every read is a GET.
//!
//! Threads, and why: the Node authorizer allows a node `get`, `list` and `watch` of a Secret or
//! ConfigMap only by name (a list or watch must carry `metadata.name=<name>`) and only while a
//! pod bound to the node references it, so the watch strategy needs one watch per object, as
//! upstream. Upstream multiplexes them as HTTP/2 streams of one connection; our client speaks
//! HTTP/1.1 with blocking reads, so each watched object costs one reflector thread (mostly
//! idle, a small stack) and one TLS connection. Per *distinct* object, not per reference:
//! 110 pods in 5 namespaces that each mount their namespace's `kube-root-ca.crt` and one
//! shared Secret make 10 watches. Immutable objects and objects not read for `max_idle`
//! (5 × syncFrequency) are not watched. Where that is still too many, strategy `Cache` has
//! no per-object threads at all.

pub mod kinds;
pub mod manager;
pub mod refs;
pub mod registry;
pub mod services;
pub mod ttl;
pub mod watch;

use std::fmt;
use std::time::Duration;

use crossbeam_channel::Sender;

pub use kinds::{CachedObject, ObjectKind};
pub use manager::ObjectManager;
pub use registry::Key;
pub use services::ServiceCache;

use crate::api::core::{ConfigMap, Node, Pod, Secret, Service};
use crate::kubeclient::Client;

/// A cached Secret or ConfigMap changed (created, updated or deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectChanged {
    pub kind: ObjectKind,
    pub namespace: String,
    pub name: String,
}

/// `configMapAndSecretChangeDetectionStrategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Watch,
    Cache,
    Get,
}

impl Strategy {
    pub fn parse(value: &str) -> Option<Strategy> {
        match value {
            "Watch" => Some(Strategy::Watch),
            "Cache" => Some(Strategy::Cache),
            "Get" => Some(Strategy::Get),
            _ => None,
        }
    }
}

/// How the managers behave.
#[derive(Debug, Clone)]
pub struct ObjectsConfig {
    pub strategy: Strategy,
    /// How long a read waits for the first sync of a freshly registered object (Watch) or
    /// for the first list of Services.
    pub sync_wait: Duration,
    /// Watch: stop watching an object nobody read for this long (5 × syncFrequency, at least
    /// a minute).
    pub max_idle: Duration,
    /// Cache: the TTL unless the node's annotation says otherwise.
    pub ttl: Duration,
}

/// A freshly referenced object is usually listed within milliseconds; the margin covers the
/// Node authorizer learning of a just-bound pod (a refused list is retried after ~1 s).
pub const DEFAULT_SYNC_WAIT: Duration = Duration::from_secs(5);
const MIN_IDLE: Duration = Duration::from_secs(60);
const DEFAULT_TTL: Duration = Duration::from_secs(60);

impl Default for ObjectsConfig {
    fn default() -> Self {
        ObjectsConfig {
            strategy: Strategy::Watch,
            sync_wait: DEFAULT_SYNC_WAIT,
            max_idle: 5 * MIN_IDLE,
            ttl: DEFAULT_TTL,
        }
    }
}

impl ObjectsConfig {
    pub fn from_kubelet_config(kc: &crate::config::KubeletConfiguration) -> Result<Self, ObjectError> {
        let value = &kc.config_map_and_secret_change_detection_strategy;
        let strategy =
            Strategy::parse(value).ok_or_else(|| ObjectError::UnknownStrategy { value: value.clone() })?;
        let resync = kc.sync_frequency.to_std().unwrap_or(MIN_IDLE);
        Ok(ObjectsConfig { strategy, max_idle: (resync * 5).max(MIN_IDLE), ..ObjectsConfig::default() })
    }
}

/// The TTL a node asks for with its `node.alpha.kubernetes.io/ttl` annotation (seconds).
pub fn ttl_from_node(node: &Node) -> Option<Duration> {
    let value = node.metadata.annotation("node.alpha.kubernetes.io/ttl")?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Why an object could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectError {
    /// No registered pod references it (the Node authorizer would refuse it anyway).
    NotRegistered { kind: ObjectKind, key: Key },
    /// Its watch did not list it within the wait.
    NotSynced { kind: ObjectKind, key: Key, waited: Duration },
    /// The API server refused or could not be reached.
    Api { kind: ObjectKind, key: Key, detail: String },
    /// The manager thread is gone (a bug: it lives as long as its handles).
    Stopped { kind: ObjectKind },
    /// configMapAndSecretChangeDetectionStrategy is not Watch, Cache or Get.
    UnknownStrategy { value: String },
}

impl fmt::Display for ObjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectError::NotRegistered { kind, key } => {
                write!(f, "{kind} {:?}/{:?} not registered", key.namespace, key.name)
            }
            ObjectError::NotSynced { kind, key, waited } => {
                write!(f, "failed to sync {kind} cache: {key} not listed within {waited:?}")
            }
            ObjectError::Api { kind, key, detail } => write!(f, "reading {kind} {key}: {detail}"),
            ObjectError::Stopped { kind } => write!(f, "the {kind} manager is not running"),
            ObjectError::UnknownStrategy { value } => {
                write!(f, "unknown configmap and secret manager mode: {value:?} (want Watch, Cache or Get)")
            }
        }
    }
}

impl std::error::Error for ObjectError {}

/// The Secret and ConfigMap managers and the Service cache: what a container's environment
/// (and, later, configMap/secret volumes) reads from the API server.
#[derive(Debug, Clone)]
pub struct ApiObjects {
    pub secrets: ObjectManager<Secret>,
    pub config_maps: ObjectManager<ConfigMap>,
    pub services: ServiceCache,
}

impl ApiObjects {
    /// Starts `rk-secrets`, `rk-configmaps` (not for the Get strategy) and `rk-services`.
    pub fn spawn(client: &Client, config: &ObjectsConfig) -> std::io::Result<ApiObjects> {
        Ok(ApiObjects {
            secrets: ObjectManager::spawn(client.clone(), config)?,
            config_maps: ObjectManager::spawn(client.clone(), config)?,
            services: ServiceCache::spawn(client.clone(), config.sync_wait)?,
        })
    }

    /// Call for every pod added or updated (before its worker builds containers).
    pub fn register_pod(&self, pod: &Pod) {
        self.secrets.register_pod(pod);
        self.config_maps.register_pod(pod);
    }

    /// Call once a pod is gone from the node.
    pub fn unregister_pod(&self, pod: &Pod) {
        self.secrets.unregister_pod(pod);
        self.config_maps.unregister_pod(pod);
    }

    /// Change notes of both kinds go to `tx`.
    pub fn subscribe(&self, tx: Sender<ObjectChanged>) {
        self.secrets.subscribe(tx.clone());
        self.config_maps.subscribe(tx);
    }

    /// Cache strategy: the node's TTL annotation (see [`ttl_from_node`]).
    pub fn set_ttl(&self, ttl: Option<Duration>) {
        self.secrets.set_ttl(ttl);
        self.config_maps.set_ttl(ttl);
    }

    // The three `EnvSources` methods (kuberuntime::env), with its exact signatures.

    /// `Ok(None)` when the ConfigMap does not exist.
    pub fn config_map(&self, namespace: &str, name: &str) -> Result<Option<ConfigMap>, String> {
        self.config_maps.get(namespace, name).map_err(|e| e.to_string())
    }

    /// `Ok(None)` when the Secret does not exist.
    pub fn secret(&self, namespace: &str, name: &str) -> Result<Option<Secret>, String> {
        self.secrets.get(namespace, name).map_err(|e| e.to_string())
    }

    /// The Services of `namespace`, plus `default/kubernetes` (see [`ServiceCache::services`]).
    pub fn services(&self, namespace: &str) -> Vec<Service> {
        self.services.services(namespace)
    }

    /// Whether the Services were listed once (waits up to the sync wait for it).
    pub fn services_synced(&self) -> bool {
        self.services.wait_synced()
    }
}

impl crate::kuberuntime::EnvSources for ApiObjects {
    fn config_map(&self, namespace: &str, name: &str) -> Result<Option<ConfigMap>, String> {
        ApiObjects::config_map(self, namespace, name)
    }
    fn secret(&self, namespace: &str, name: &str) -> Result<Option<Secret>, String> {
        ApiObjects::secret(self, namespace, name)
    }
    fn services(&self, namespace: &str) -> Vec<Service> {
        ApiObjects::services(self, namespace)
    }
    fn services_synced(&self) -> bool {
        ApiObjects::services_synced(self)
    }
}
