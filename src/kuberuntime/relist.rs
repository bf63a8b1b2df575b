//! What PLEG reads from the runtime every second: two list calls grouped into pods by the
//! `io.kubernetes.pod.uid` label (upstream's `GetPods(all)`), and the full status of the pods
//! that changed.
//!
//! Sandboxes and containers without our pod UID label are not ours and are left out.

use std::collections::BTreeMap;

use super::error::RuntimeError;
use super::inspect::{self, container_state, sandbox_state};
use super::model::{PodStatus, keys};
use super::runtime::Runtime;
use crate::cri;

/// One pod as the cheap relist sees it: PLEG's own type.
pub use crate::pleg::RuntimePod as RelistedPod;

/// The CRI side of PLEG; owns a client handle, so it can live on the PLEG thread.
#[derive(Debug, Clone)]
pub struct CriRelister {
    cri: cri::Client,
}

/// The pod an object with these labels belongs to; `None` when it is not ours.
fn entry<'a>(
    pods: &'a mut BTreeMap<String, RelistedPod>,
    labels: &BTreeMap<String, String>,
) -> Option<&'a mut RelistedPod> {
    let uid = labels.get(keys::POD_UID).filter(|u| !u.is_empty())?;
    let p = pods.entry(uid.clone()).or_insert_with(|| RelistedPod { uid: uid.clone(), ..Default::default() });
    if p.name.is_empty() {
        let label = |k: &str| labels.get(k).cloned().unwrap_or_default();
        (p.name, p.namespace) = (label(keys::POD_NAME), label(keys::POD_NAMESPACE));
    }
    Some(p)
}

impl CriRelister {
    pub fn new(cri: cri::Client) -> CriRelister {
        CriRelister { cri }
    }

    /// Every pod with a sandbox or container in the runtime, by UID.
    pub fn relist(&self) -> Result<Vec<RelistedPod>, RuntimeError> {
        let sandboxes = self
            .cri
            .list_pod_sandbox(&cri::ListPodSandboxRequest::default())
            .map_err(|e| RuntimeError::cri("relist", e))?
            .items;
        let containers = self
            .cri
            .list_containers(&cri::ListContainersRequest::default())
            .map_err(|e| RuntimeError::cri("relist", e))?
            .containers;
        let mut pods: BTreeMap<String, RelistedPod> = BTreeMap::new();
        for s in &sandboxes {
            if let Some(p) = entry(&mut pods, &s.labels) {
                p.sandboxes.insert(s.id.clone(), sandbox_state(s.state));
            }
        }
        for c in &containers {
            if let Some(p) = entry(&mut pods, &c.labels) {
                p.containers.insert(c.id.clone(), container_state(c.state));
            }
        }
        Ok(pods.into_values().collect())
    }

    /// The full status of one pod (see [`Runtime::pod_status`]).
    pub fn pod_status(&self, uid: &str) -> Result<PodStatus, RuntimeError> {
        inspect::pod_status(&self.cri, uid)
    }
}

impl crate::pleg::Relister for CriRelister {
    fn relist(&mut self) -> Result<Vec<RelistedPod>, String> {
        CriRelister::relist(self).map_err(|e| e.to_string())
    }

    fn pod_status(&mut self, uid: &str) -> Result<PodStatus, String> {
        CriRelister::pod_status(self, uid).map_err(|e| e.to_string())
    }
}

impl Runtime {
    /// The relister PLEG runs on its own thread.
    pub fn relister(&self) -> CriRelister {
        CriRelister::new(self.cri.clone())
    }
}

#[cfg(test)]
mod tests {
    use crate::kuberuntime::harness::{Harness, pod};
    use crate::kuberuntime::{ContainerState, SandboxState};

    #[test]
    fn relist_groups_by_pod_uid() {
        let mut h = Harness::new("relist");
        h.fake.add_image("busybox:1.35");
        h.sync(&pod("uid-1", &["a", "b"]));
        h.sync(&pod("uid-2", &["a"]));
        let (a1, _) = h.fake.newest("b").expect("b");
        h.fake.exit(&a1, 0);
        // Not ours: no pod UID label.
        let foreign = crate::cri::RunPodSandboxRequest {
            config: Some(Default::default()),
            runtime_handler: String::new(),
        };
        h.fake.client().run_pod_sandbox(&foreign).expect("foreign sandbox");

        let pods = h.runtime.relister().relist().expect("relist");
        assert_eq!(pods.iter().map(|p| p.uid.as_str()).collect::<Vec<_>>(), vec!["uid-1", "uid-2"]);
        let p1 = &pods[0];
        assert_eq!((p1.name.as_str(), p1.namespace.as_str()), ("web", "default"));
        assert_eq!(p1.sandboxes.values().copied().collect::<Vec<_>>(), vec![SandboxState::Ready]);
        let mut states: Vec<ContainerState> = p1.containers.values().copied().collect();
        states.sort_by_key(|s| format!("{s:?}"));
        assert_eq!(states, vec![ContainerState::Exited, ContainerState::Running]);
        let status = h.runtime.relister().pod_status("uid-2").expect("status");
        assert_eq!(status.running().count(), 1);
    }
}
