//! One static pod per full name at a time (upstream's `allowStaticPodStart`).
//!
//! Editing a manifest gives the pod a new UID under the same name and namespace. The new pod
//! may start only once the old one's containers have stopped (within its grace period), and
//! the old one's mirror pod stays in the API server until then. While a name has an owner,
//! a newer pod of that name waits here.

use std::collections::HashMap;
use std::sync::Arc;

use crate::api::core::Pod;

#[derive(Default)]
pub struct StaticStarts {
    /// Full name -> the UID that runs (or is stopping) under it.
    owners: HashMap<String, String>,
    /// Full name -> the newest pod waiting for that name.
    waiting: HashMap<String, Arc<Pod>>,
}

impl StaticStarts {
    /// May `pod` (full name `name`) start now? It may when the name is free, already its own,
    /// or owned by a pod that is no longer running (`running` says which UIDs still run or
    /// stop). When it may, it becomes the owner; when not, it waits (replacing an older waiter).
    pub fn try_start(&mut self, name: &str, pod: &Arc<Pod>, running: impl Fn(&str) -> bool) -> bool {
        let uid = pod.metadata.uid();
        match self.owners.get(name) {
            Some(owner) if owner != uid && running(owner) => {
                self.waiting.insert(name.to_string(), pod.clone());
                false
            }
            _ => {
                self.owners.insert(name.to_string(), uid.to_string());
                if self.waiting.get(name).is_some_and(|w| w.metadata.uid() == uid) {
                    self.waiting.remove(name);
                }
                true
            }
        }
    }

    /// `uid` stopped running: its name is free. Returns the pod waiting for that name.
    pub fn stopped(&mut self, uid: &str) -> Option<Arc<Pod>> {
        let name = self.owners.iter().find(|(_, o)| o.as_str() == uid).map(|(n, _)| n.clone())?;
        self.owners.remove(&name);
        self.waiting.remove(&name)
    }

    /// A pod left the configuration: it waits no more.
    pub fn forget_waiting(&mut self, uid: &str) {
        self.waiting.retain(|_, p| p.metadata.uid() != uid);
    }

    /// Names whose pod runs or stops: their mirror pods must stay.
    pub fn owned_names(&self) -> impl Iterator<Item = &str> {
        self.owners.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(uid: &str) -> Arc<Pod> {
        let mut p = Pod::default();
        p.metadata.uid = Some(uid.into());
        Arc::new(p)
    }

    #[test]
    fn a_new_uid_waits_for_the_old_one_to_stop() {
        let mut s = StaticStarts::default();
        assert!(s.try_start("web_default", &pod("a"), |_| true));
        assert!(s.try_start("web_default", &pod("a"), |_| true), "the owner syncs again");
        assert!(!s.try_start("web_default", &pod("b"), |_| true), "a is still running");
        assert!(!s.try_start("web_default", &pod("c"), |_| true), "c replaces b as the waiter");
        assert_eq!(s.owned_names().collect::<Vec<_>>(), ["web_default"]);
        let next = s.stopped("a").expect("c waits");
        assert_eq!(next.metadata.uid(), "c");
        assert!(s.try_start("web_default", &next, |_| true));
        assert!(s.stopped("a").is_none());
    }

    #[test]
    fn an_owner_that_no_longer_runs_does_not_block() {
        let mut s = StaticStarts::default();
        assert!(s.try_start("web_default", &pod("a"), |_| true));
        assert!(s.try_start("web_default", &pod("b"), |uid| uid != "a"));
        assert!(s.stopped("b").is_none());
        assert_eq!(s.owned_names().count(), 0);
    }

    #[test]
    fn a_removed_waiter_is_not_started() {
        let mut s = StaticStarts::default();
        assert!(s.try_start("web_default", &pod("a"), |_| true));
        assert!(!s.try_start("web_default", &pod("b"), |_| true));
        s.forget_waiting("b");
        assert!(s.stopped("a").is_none());
    }
}
