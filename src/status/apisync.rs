//! API mode's [`Syncer`]: writes each changed status to `pods/<name>/status` and deletes
//! terminated pods being deleted, as upstream's status manager `syncPod` does.
//!
//! ```text
//!  GET pod ──404──► API pod: gone (Synced)   static pod: no mirror pod yet (Retry)
//!     │ other UID ► API pod: deleted and recreated (Forget)
//!     │           static pod: the mirror pod is of another manifest version (Retry)
//!     ▼
//!  merge (apimerge) ──► patch (patch) ──empty──► nothing sent
//!     │                    │ PATCH pods/<name>/status (strategic merge, UID precondition)
//!     ▼                    ▼
//!  deletionTimestamp, not a mirror pod, terminal phase on the API, finished, resources
//!  reclaimed? ──► DELETE gracePeriodSeconds=0, UID precondition ──► Forget
//! ```
//!
//! A static pod's status goes to its mirror pod (same namespace and name), the precondition
//! being the mirror pod's UID. Mirror pods are never deleted here (the mirror manager owns
//! them). The client's kubeAPIQPS/kubeAPIBurst limit bounds the calls.

use crate::api::core::Pod;
use crate::api::core::PodStatus;
use crate::api::time::Time;
use crate::kubeclient::{Client, DeleteOptions, PatchKind, PatchParams, Preconditions, ResourcePath};
use crate::source::{CONFIG_HASH_ANNOTATION, CONFIG_MIRROR_ANNOTATION, is_mirror_pod, is_static_pod};

use super::apimerge::merge_pod_status;
use super::manager::{SyncOutcome, Syncer};
use super::patch::status_patch;
use super::phase::is_terminal_phase;

/// Whether everything the pod held on the node (volumes, ...) is released, so that the pod
/// may go from the API (upstream's `podResourcesAreReclaimed`).
pub type ReclaimCheck = Box<dyn Fn(&Pod) -> bool + Send>;

/// Writes statuses through `client` (the kubelet's credentials).
pub struct ApiSyncer {
    client: Client,
    reclaimed: ReclaimCheck,
}

impl ApiSyncer {
    /// A syncer for which every pod's resources count as reclaimed once it is finished.
    pub fn new(client: Client) -> ApiSyncer {
        ApiSyncer { client, reclaimed: Box::new(|_| true) }
    }

    /// Hook for the volume manager: a finished pod is deleted only once `check` says so.
    pub fn with_reclaim_check(mut self, check: ReclaimCheck) -> ApiSyncer {
        self.reclaimed = check;
        self
    }

    fn pod_path(pod: &Pod) -> ResourcePath {
        ResourcePath::core("pods").namespace(pod.metadata.namespace()).name(pod.metadata.name())
    }

    /// The API's copy to write to, or what to tell the manager instead.
    fn target(&self, pod: &Pod, name: &str) -> Result<Pod, SyncOutcome> {
        let is_static = is_static_pod(pod);
        let api: Pod = match self.client.get(&Self::pod_path(pod)) {
            Ok(api) => api,
            Err(e) if e.is_not_found() && is_static => {
                log::debug!("static pod {name} has no mirror pod yet; status not written");
                return Err(SyncOutcome::Retry);
            }
            Err(e) if e.is_not_found() => {
                log::debug!("pod {name} does not exist on the API server; status not written");
                return Err(SyncOutcome::Synced);
            }
            Err(e) => {
                log::warn!("getting pod {name} to write its status: {e}");
                return Err(SyncOutcome::Retry);
            }
        };
        if is_static {
            let hash = pod.metadata.annotation(CONFIG_HASH_ANNOTATION).unwrap_or(pod.metadata.uid());
            if api.metadata.annotation(CONFIG_MIRROR_ANNOTATION) != Some(hash) {
                log::debug!(
                    "static pod {name}: the API's pod is not its current mirror pod; status not written"
                );
                return Err(SyncOutcome::Retry);
            }
        } else if api.metadata.uid() != pod.metadata.uid() {
            log::info!(
                "pod {name} was deleted and then recreated (uid {} now {}); skipping its status update",
                pod.metadata.uid(),
                api.metadata.uid()
            );
            return Err(SyncOutcome::Forget);
        }
        Ok(api)
    }

    /// Upstream's `canBeDeleted`: being deleted, not a mirror pod, terminal on the API
    /// server, and the worker finished with it.
    fn can_be_deleted(&self, api: &Pod, finished: bool) -> bool {
        api.metadata.deletion_timestamp.is_some()
            && !is_mirror_pod(api)
            && is_terminal_phase(api.status.phase.as_deref())
            && finished
    }

    fn delete(&self, api: &Pod, name: &str) -> SyncOutcome {
        let opts = DeleteOptions {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions { uid: api.metadata.uid.clone(), resource_version: None }),
            propagation_policy: None,
        };
        match self.client.delete(&Self::pod_path(api), &opts) {
            Ok(()) => {
                log::info!("pod {name} fully terminated and removed from the API server");
                SyncOutcome::Forget
            }
            // Gone already, or replaced by a pod of the same name (the precondition failed).
            Err(e) if e.is_not_found() || e.is_conflict() => SyncOutcome::Forget,
            Err(e) => {
                log::warn!("deleting terminated pod {name}: {e}");
                SyncOutcome::Retry
            }
        }
    }
}

impl Syncer for ApiSyncer {
    fn sync(&mut self, pod: &Pod, status: &PodStatus, finished: bool) -> SyncOutcome {
        let name = format!("{}/{}", pod.metadata.namespace(), pod.metadata.name());
        let api = match self.target(pod, &name) {
            Ok(api) => api,
            Err(outcome) => return outcome,
        };
        let merged = merge_pod_status(&api, &api.status, status.clone(), !finished, Time::now());
        let patch = match status_patch(api.metadata.uid(), &api.status, &merged) {
            Ok(patch) => patch,
            Err(e) => {
                log::error!("encoding the status patch of pod {name}: {e}");
                return SyncOutcome::Retry;
            }
        };
        let api = match patch {
            None => {
                log::trace!("status of pod {name} is up to date");
                api
            }
            Some(patch) => {
                log::trace!("patching status of pod {name}: {patch}");
                let path = Self::pod_path(&api).subresource("status");
                match self.client.patch::<Pod>(
                    &path,
                    PatchKind::StrategicMerge,
                    &patch,
                    &PatchParams::default(),
                ) {
                    Ok(updated) => {
                        log::debug!("status of pod {name} updated (phase {:?})", updated.status.phase);
                        updated
                    }
                    Err(e) if e.is_not_found() => return SyncOutcome::Synced,
                    Err(e) => {
                        log::warn!("updating status of pod {name}: {e}");
                        return SyncOutcome::Retry;
                    }
                }
            }
        };
        if self.can_be_deleted(&api, finished) {
            if !(self.reclaimed)(&api) {
                // Offered again on the next tick, as upstream's periodic `needsUpdate`.
                log::debug!("pod {name} is terminated; waiting for its resources to be reclaimed");
                return SyncOutcome::Retry;
            }
            return self.delete(&api, &name);
        }
        SyncOutcome::Synced
    }
}
