//! API-server mode: the managers that exist only when rkubelet has a kubeconfig.
//!
//! Built in two steps around the runtime: [`Clients::connect`] before it (the runtime's events
//! go to the API server), [`ApiMode::start`] after PLEG exists (the Node's Ready condition
//! reads PLEG's health).

use std::sync::Arc;

use super::wiring::StartError;
use crate::config::Config;
use crate::events::Recorder;
use crate::events::api::{ApiRecorder, EventsConfig};
use crate::kubeclient::{Client, ClientOptions, RestConfig};
use crate::mirror::{self, MirrorHandle};
use crate::node::NodeIdentity;
use crate::nodestatus::{self, NodeHandle};
use crate::objects::{ApiObjects, ObjectsConfig};
use crate::source::SourceUpdate;
use crate::source::apiserver::{self, ApiSourceConfig, ApiSourceDeps, ApiSourceHandle};
use crate::{cri, pleg};

/// The API clients: one for everything, one for events (as upstream, so that a burst of
/// events never eats the kubeAPIQPS budget of status updates).
pub struct Clients {
    pub client: Client,
    pub recorder: Arc<ApiRecorder>,
}

impl Clients {
    /// `rest`: from `--kubeconfig`, after TLS bootstrap (see `super::certs`).
    pub fn connect(config: &Config, rest: &RestConfig, node: &NodeIdentity) -> Result<Clients, StartError> {
        let k = &config.kubelet;
        let options = ClientOptions { qps: k.kube_api_qps as f32, burst: u32::try_from(k.kube_api_burst).unwrap_or(100), ..ClientOptions::default() };
        let load = |opts: ClientOptions| {
            Client::new(rest, opts).map_err(|e| StartError::Api(format!("API client for {}: {e}", rest.server)))
        };
        let client = load(options.clone())?;
        let events_client = load(options)?;
        let recorder = ApiRecorder::spawn(events_client, EventsConfig::new(&node.name, k))
            .map_err(|error| StartError::Thread { what: "events", error })?;
        Ok(Clients { client, recorder: Arc::new(recorder) })
    }
}

/// The running API-mode managers.
pub struct ApiMode {
    pub node: NodeHandle,
    pub mirror: MirrorHandle,
    pub objects: Arc<ApiObjects>,
    source: Option<ApiSourceHandle>,
}

impl ApiMode {
    pub fn start(
        config: &Config,
        clients: &Clients,
        identity: &NodeIdentity,
        cri: cri::Client,
        pleg: pleg::PlegHandle,
    ) -> Result<ApiMode, StartError> {
        let client = clients.client.clone();
        let cfg = nodestatus::Config::from_kubelet(config, &identity.name, identity.ips.clone())
            .map_err(|e| StartError::Api(e.to_string()))?;
        let health: nodestatus::HealthCheck = Arc::new(move || {
            if pleg.healthy(super::wiring::PLEG_THRESHOLD) {
                Ok(())
            } else {
                Err(format!(
                    "PLEG is not healthy: pleg has not relisted within {}",
                    crate::config::GoDuration::from_secs(i64::try_from(super::wiring::PLEG_THRESHOLD.as_secs()).unwrap_or(i64::MAX))
                ))
            }
        });
        let node = nodestatus::spawn(cfg, nodestatus::Deps::new(client.clone(), cri, health))
            .map_err(|e| StartError::Api(e.to_string()))?;
        let uid = node.uid_source();
        let mirror = mirror::spawn(
            mirror::Config { node_name: identity.name.clone() },
            mirror::Deps { client: client.clone(), node_uid: Box::new(uid) },
        )
        .map_err(|error| StartError::Thread { what: "mirror pods", error })?;
        let objects_cfg = ObjectsConfig::from_kubelet_config(&config.kubelet).map_err(|e| StartError::Api(e.to_string()))?;
        let objects = ApiObjects::spawn(&client, &objects_cfg).map_err(|error| StartError::Thread { what: "objects", error })?;
        Ok(ApiMode { node, mirror, objects: Arc::new(objects), source: None })
    }

    /// Start the API pod source; it waits for the Node to be registered, as upstream waits for
    /// the node informer before it lists pods.
    pub fn start_source(&mut self, clients: &Clients, node_name: &str, updates: crossbeam_channel::Sender<SourceUpdate>) -> Result<(), StartError> {
        let registered = self.node.uid_source();
        let deps = ApiSourceDeps {
            client: clients.client.clone(),
            updates,
            node_synced: Some(Box::new(move || registered().is_some())),
            observer: Some(self.mirror.observer()),
        };
        let source = apiserver::spawn(ApiSourceConfig::new(node_name), deps)
            .map_err(|error| StartError::Thread { what: "API pod source", error })?;
        self.source = Some(source);
        Ok(())
    }

    pub fn recorder(clients: &Clients) -> Arc<dyn Recorder> {
        clients.recorder.clone()
    }
}
