//! The pods the node should run, as the sources say; owned by the sync loop.

use std::collections::HashMap;
use std::sync::Arc;

use crate::api::core::Pod;
use crate::source::is_mirror_pod;

/// Desired pods by UID, and mirror pods (the API server's copies of static pods) by full name.
#[derive(Default)]
pub struct PodManager {
    pods: HashMap<String, Arc<Pod>>,
    mirrors: HashMap<String, Arc<Pod>>,
}

/// `name_namespace`, upstream's pod full name.
pub fn full_name(pod: &Pod) -> String {
    format!("{}_{}", pod.metadata.name.as_deref().unwrap_or(""), pod.metadata.namespace.as_deref().unwrap_or(""))
}

pub fn uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or_default()
}

impl PodManager {
    /// Add or replace a pod; returns the stored handle. Mirror pods are kept apart: they are
    /// never run, only compared with their static pod.
    pub fn upsert(&mut self, pod: Pod) -> Option<Arc<Pod>> {
        let pod = Arc::new(pod);
        if is_mirror_pod(&pod) {
            self.mirrors.insert(full_name(&pod), pod);
            return None;
        }
        self.pods.insert(uid(&pod).to_string(), pod.clone());
        Some(pod)
    }

    /// Forget a pod; returns what was stored (None for mirror pods and unknown pods).
    pub fn remove(&mut self, pod: &Pod) -> Option<Arc<Pod>> {
        if is_mirror_pod(pod) {
            self.mirrors.remove(&full_name(pod));
            return None;
        }
        self.pods.remove(uid(pod))
    }

    pub fn get(&self, uid: &str) -> Option<&Arc<Pod>> {
        self.pods.get(uid)
    }

    pub fn contains(&self, uid: &str) -> bool {
        self.pods.contains_key(uid)
    }

    pub fn pods(&self) -> impl Iterator<Item = &Arc<Pod>> {
        self.pods.values()
    }

    /// The mirror pod of a static pod, by the static pod's full name.
    pub fn mirror_of(&self, pod: &Pod) -> Option<&Arc<Pod>> {
        self.mirrors.get(&full_name(pod))
    }

    /// The static pod with this full name (a mirror pod's), if it is known.
    pub fn static_named(&self, name: &str) -> Option<&Arc<Pod>> {
        self.pods.values().find(|p| crate::source::is_static_pod(p) && full_name(p) == name)
    }

    pub fn len(&self) -> usize {
        self.pods.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pods.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(uid: &str, name: &str, mirror: bool) -> Pod {
        let mut p = Pod::default();
        p.metadata.uid = Some(uid.into());
        p.metadata.name = Some(name.into());
        p.metadata.namespace = Some("default".into());
        if mirror {
            p.metadata.annotations.insert(crate::source::CONFIG_MIRROR_ANNOTATION.into(), "h".into());
        }
        p
    }

    #[test]
    fn mirrors_are_kept_apart() {
        let mut m = PodManager::default();
        assert!(m.upsert(pod("a", "web-n1", false)).is_some());
        assert!(m.upsert(pod("m", "web-n1", true)).is_none());
        assert_eq!(m.len(), 1);
        let static_pod = pod("a", "web-n1", false);
        assert_eq!(m.mirror_of(&static_pod).and_then(|p| p.metadata.uid.clone()), Some("m".into()));
        assert!(m.remove(&pod("m", "web-n1", true)).is_none());
        assert!(m.mirror_of(&static_pod).is_none());
        assert!(m.remove(&static_pod).is_some());
        assert!(m.is_empty());
    }
}
