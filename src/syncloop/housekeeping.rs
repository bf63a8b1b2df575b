//! Housekeeping: stop and clean up what runs on the node but no source wants.
//!
//! Only once every configured source delivered its first set (upstream's `sourcesReady`):
//! after a restart with the API server down, no API pod may be killed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::SyncLoop;
use crate::api::core::Pod;
use crate::gc::{PodSnapshot, PodState};
use crate::podworker::{Phase, PodSyncer, UpdateKind, Work};

/// How long housekeeping waits for PLEG's snapshot before skipping a round.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(1);

impl<S: PodSyncer> SyncLoop<S> {
    pub(super) fn housekeeping(&mut self) {
        self.report_to_gc();
        if !self.sources_ready() {
            return;
        }
        if let Some(api) = &self.api {
            // A removed static pod keeps its mirror pod until its containers have stopped.
            let mut statics: Vec<String> =
                self.pods.pods().filter(|p| crate::source::is_static_pod(p)).map(|p| super::full_name(p)).collect();
            statics.extend(self.statics.owned_names().map(String::from));
            api.mirror.delete_orphans(statics);
        }
        // Sandboxes and containers of pods nobody knows (deleted while we were down).
        let Some(runtime) = self.pleg.snapshot(SNAPSHOT_TIMEOUT) else {
            log::debug!("housekeeping: PLEG busy, skipping this round");
            return;
        };
        let runtime_uids: Vec<String> = runtime.iter().map(|rp| rp.uid.clone()).collect();
        for rp in runtime {
            if rp.uid.is_empty() || self.pods.contains(&rp.uid) || self.workers.phase(&rp.uid).is_some() {
                continue;
            }
            if rp.sandboxes.is_empty() && rp.containers.is_empty() {
                continue;
            }
            log::info!("removing orphaned pod {}/{} ({}) from the runtime", rp.namespace, rp.name, rp.uid);
            let pod = Arc::new(placeholder(&rp.uid, &rp.name, &rp.namespace));
            self.workers.update(Work::new(pod, UpdateKind::Remove));
        }
        // Directories (and volumes) of pods that neither a source, a worker nor the runtime
        // knows any more.
        if let Some(volumes) = &self.volumes {
            let mut known: HashSet<String> = self.pods.pods().map(|p| p.metadata.uid().to_string()).collect();
            known.extend(self.workers.known().map(String::from));
            known.extend(runtime_uids);
            volumes.cleanup_orphans(known);
        }
    }
}

impl<S: PodSyncer> SyncLoop<S> {
    /// Tells the garbage collector which pods exist (upstream's pod state provider).
    fn report_to_gc(&self) {
        let Some(gc) = &self.gc else { return };
        let active = |uid: &str| matches!(self.workers.phase(uid), Some(Phase::Syncing | Phase::Terminating));
        let mut pods: HashMap<String, PodState> = self
            .pods
            .pods()
            .map(|p| {
                let uid = p.metadata.uid.clone().unwrap_or_default();
                let state =
                    PodState { terminated: !active(&uid), deleted: p.metadata.deletion_timestamp.is_some() };
                (uid, state)
            })
            .collect();
        for uid in self.workers.known() {
            // A worker whose pod left the configuration: deleted, terminated once it says so.
            pods.entry(uid.to_string()).or_insert(PodState { terminated: !active(uid), deleted: true });
        }
        gc.pods(PodSnapshot { taken_at: SystemTime::now(), sources_ready: self.sources_ready(), pods });
    }
}

/// A pod object for a pod we only know from the runtime: enough identity to stop it.
fn placeholder(uid: &str, name: &str, namespace: &str) -> Pod {
    let mut p = Pod::default();
    p.metadata.uid = Some(uid.to_string());
    p.metadata.name = Some(name.to_string());
    p.metadata.namespace = Some(namespace.to_string());
    p
}
