//! Starting the volume manager in the agent: one call from the wiring.

use std::sync::Arc;
use std::time::Duration;

use super::{Config, Deps, TokenClient, VolumeHandle};
use crate::events::Recorder;
use crate::kubeclient::Client;
use crate::kuberuntime::{NoEnvSources, NodeContext};
use crate::objects::ApiObjects;

/// The API server's objects, in API-server mode.
pub struct Api {
    pub objects: Arc<ApiObjects>,
    pub client: Client,
}

/// Starts the volume manager: with `api`, configMap/secret volumes read the watched objects
/// (and are refreshed on their change notes) and tokens come from TokenRequest; without,
/// those sources fail as upstream's do on a standalone kubelet.
pub fn start(node: &NodeContext, sync_frequency: Duration, recorder: Arc<dyn Recorder>, api: Option<Api>) -> std::io::Result<VolumeHandle> {
    // At start, before any volume is mounted below it (upstream's setupDataDirs): binding the
    // root directory onto itself later would hide the mounts already made under it, which
    // then could never be unmounted by path.
    if let Err(e) = super::mount::make_rshared(&node.root_dir) {
        log::error!("cannot make {} a shared mount: mount propagation will not work: {e}", node.root_dir.display());
    }
    let cfg = Config::new(node.clone(), sync_frequency);
    let deps = match api {
        None => Deps { objects: Arc::new(NoEnvSources), tokens: None, changes: None, recorder },
        Some(api) => {
            let (tx, rx) = crossbeam_channel::unbounded();
            api.objects.subscribe(tx);
            let tokens: Arc<dyn TokenClient> = Arc::new(api.client);
            Deps { objects: api.objects, tokens: Some(tokens), changes: Some(rx), recorder }
        }
    };
    super::spawn(cfg, deps)
}
