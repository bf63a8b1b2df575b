//! `rk-mirror`: mirror pods, the API server's read-only copies of static pods (upstream's
//! `pkg/kubelet/pod/mirror_client.go`, `tryReconcileMirrorPods` in `kubelet.go` and the
//! orphan cleanup of `HandlePodCleanups`).
//!
//! ```text
//!  ensure(static pod) ─► known mirror pod (from the API source's sets, via observer())
//!        none ─────────────────────────────────────────► create
//!        other manifest hash, or being deleted ─► delete (grace 0, UID precondition) ─► create
//!        current ──────────────────────────────────────► nothing
//!  delete_orphans(static full names) ─► delete every known mirror pod whose static pod is gone
//! ```
//!
//! A mirror pod is the static pod with the annotation `kubernetes.io/config.mirror` set to
//! the static pod's `kubernetes.io/config.hash`, a controller owner reference to this Node
//! (the NodeRestriction admission plugin insists on it and checks the Node's UID), and no
//! UID, resourceVersion or status of its own. Without the Node's UID (not registered yet, or
//! being deleted) nothing is created, as upstream; the sync loop's next `ensure` tries again.
//! A mirror pod deleted by a user disappears from the API source's set and is created again
//! by the next `ensure`.

use std::collections::{HashMap, HashSet};
use std::io;
use std::thread;

use crossbeam_channel::{Receiver, Sender, bounded, select, unbounded};

use crate::api::core::Pod;
use crate::api::meta::OwnerReference;
use crate::kubeclient::{Client, DeleteOptions, Error, Preconditions, ResourcePath};
use crate::source::{CONFIG_HASH_ANNOTATION, CONFIG_MIRROR_ANNOTATION, is_mirror_pod, is_static_pod};

/// How the manager runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub node_name: String,
}

/// This Node's UID, `None` while it is not registered or is being deleted.
pub type NodeUid = Box<dyn Fn() -> Option<String> + Send>;

/// What the manager talks to.
pub struct Deps {
    /// The kubelet's client.
    pub client: Client,
    pub node_uid: NodeUid,
}

enum Command {
    Ensure(Box<Pod>),
    DeleteOrphans(HashSet<String>),
    Ping(Sender<()>),
    Stop,
}

/// The way to `rk-mirror`; cheap to clone.
#[derive(Clone)]
pub struct MirrorHandle {
    tx: Sender<Command>,
    observed: Sender<Vec<Pod>>,
}

impl MirrorHandle {
    /// Makes the static pod's mirror pod exist and match it (call on every sync of a static
    /// pod, as upstream's `SyncPod` does).
    pub fn ensure(&self, static_pod: &Pod) {
        self.send(Command::Ensure(Box::new(static_pod.clone())));
    }

    /// Deletes the known mirror pods whose static pod (by full name, `name_namespace`) is not
    /// among `static_full_names` (housekeeping; include static pods still terminating).
    pub fn delete_orphans(&self, static_full_names: impl IntoIterator<Item = String>) {
        self.send(Command::DeleteOrphans(static_full_names.into_iter().collect()));
    }

    /// Where the API source sends each of its sets (`ApiSourceDeps::observer`).
    pub fn observer(&self) -> Sender<Vec<Pod>> {
        self.observed.clone()
    }

    /// Answers once everything sent before was handled; false if the thread is gone.
    pub fn ping(&self) -> bool {
        let (reply, answer) = bounded(1);
        self.tx.send(Command::Ping(reply)).is_ok() && answer.recv().is_ok()
    }

    pub fn stop(&self) {
        let _ = self.tx.send(Command::Stop);
    }

    fn send(&self, cmd: Command) {
        if self.tx.send(cmd).is_err() {
            log::error!("mirror pod manager is not running");
        }
    }
}

/// Starts `rk-mirror`.
pub fn spawn(cfg: Config, deps: Deps) -> io::Result<MirrorHandle> {
    let (tx, rx) = unbounded();
    let (observed, sets) = unbounded();
    let mut m = Mirrors { cfg, deps, known: HashMap::new(), refused: HashMap::new() };
    thread::Builder::new().name("rk-mirror".into()).spawn(move || m.run(&rx, &sets))?;
    Ok(MirrorHandle { tx, observed })
}

/// The static pod's manifest hash (its UID when the annotation is missing).
pub fn static_hash(static_pod: &Pod) -> &str {
    static_pod.metadata.annotation(CONFIG_HASH_ANNOTATION).unwrap_or(static_pod.metadata.uid())
}

/// Upstream's `IsMirrorPodOf`: same name and namespace, and the static pod's hash.
pub fn is_mirror_of(mirror: &Pod, static_pod: &Pod) -> bool {
    mirror.metadata.name == static_pod.metadata.name
        && mirror.metadata.namespace == static_pod.metadata.namespace
        && mirror.metadata.annotation(CONFIG_MIRROR_ANNOTATION) == Some(static_hash(static_pod))
}

/// The mirror pod to create for `static_pod` on the node `node_name` with UID `node_uid`.
pub fn build_mirror_pod(static_pod: &Pod, node_name: &str, node_uid: &str) -> Pod {
    let mut pod = static_pod.clone();
    let hash = static_hash(static_pod).to_string();
    pod.api_version = Some("v1".into());
    pod.kind = Some("Pod".into());
    let meta = &mut pod.metadata;
    meta.uid = None;
    meta.resource_version = None;
    meta.self_link = None;
    meta.generation = None;
    meta.creation_timestamp = None;
    meta.deletion_timestamp = None;
    meta.deletion_grace_period_seconds = None;
    meta.managed_fields.clear();
    meta.annotations.insert(CONFIG_MIRROR_ANNOTATION.to_string(), hash);
    meta.owner_references = vec![OwnerReference {
        api_version: "v1".into(),
        kind: "Node".into(),
        name: node_name.to_string(),
        uid: node_uid.to_string(),
        controller: Some(true),
        block_owner_deletion: None,
    }];
    pod.spec.node_name = Some(node_name.to_string());
    pod.status = Default::default();
    pod
}

/// What `ensure` does about a static pod, given the mirror pod known for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Nothing,
    Create,
    /// Delete the known mirror pod (why), then create.
    Recreate(&'static str),
}

pub fn plan(known: Option<&Pod>, static_pod: &Pod) -> Plan {
    match known {
        None => Plan::Create,
        Some(m) if m.metadata.deletion_timestamp.is_some() => Plan::Recreate("it is being deleted"),
        Some(m) if !is_mirror_of(m, static_pod) => Plan::Recreate("its static pod's manifest changed"),
        Some(_) => Plan::Nothing,
    }
}

struct Mirrors {
    cfg: Config,
    deps: Deps,
    /// Mirror pods of the API source's newest set (plus those created since), by full name.
    known: HashMap<String, Pod>,
    /// Full name → hash whose creation the API server refused (logged once).
    refused: HashMap<String, String>,
}

impl Mirrors {
    fn run(&mut self, rx: &Receiver<Command>, sets: &Receiver<Vec<Pod>>) {
        loop {
            select! {
                recv(rx) -> cmd => match cmd {
                    Ok(Command::Ensure(pod)) => self.ensure(&pod),
                    Ok(Command::DeleteOrphans(names)) => self.delete_orphans(&names),
                    Ok(Command::Ping(reply)) => { let _ = reply.send(()); }
                    Ok(Command::Stop) | Err(_) => break,
                },
                recv(sets) -> set => if let Ok(pods) = set {
                    self.known = pods.into_iter().filter(is_mirror_pod).map(|p| (p.full_name(), p)).collect();
                },
            }
        }
        log::debug!("mirror pod manager stopped");
    }

    fn ensure(&mut self, static_pod: &Pod) {
        if !is_static_pod(static_pod) {
            return;
        }
        let name = static_pod.full_name();
        match plan(self.known.get(&name), static_pod) {
            Plan::Nothing => {}
            Plan::Create => self.create(static_pod),
            Plan::Recreate(why) => {
                let Some(mirror) = self.known.get(&name).cloned() else { return };
                log::info!("deleting mirror pod {name} (uid {}): {why}", mirror.metadata.uid());
                if self.delete(&mirror) {
                    self.create(static_pod);
                }
            }
        }
    }

    fn create(&mut self, static_pod: &Pod) {
        let name = static_pod.full_name();
        let Some(node_uid) = (self.deps.node_uid)() else {
            log::info!("no mirror pod for static pod {name}: node {} is not registered", self.cfg.node_name);
            return;
        };
        let mirror = build_mirror_pod(static_pod, &self.cfg.node_name, &node_uid);
        let path = ResourcePath::core("pods").namespace(static_pod.metadata.namespace());
        log::info!("creating a mirror pod for static pod {name}");
        match self.deps.client.create(&path, &mirror) {
            Ok(created) => {
                self.refused.remove(&name);
                self.known.insert(name, created);
            }
            Err(e) if e.is_already_exists() => self.adopt_existing(static_pod),
            Err(e) if e.is_forbidden() => self.log_refusal(&name, static_hash(static_pod), &e),
            Err(e) => log::error!("creating mirror pod {name}: {e}"),
        }
    }

    /// A pod of that name exists: keep it if it is the current mirror pod, delete it if it is
    /// a stale one (created again on the next `ensure`).
    fn adopt_existing(&mut self, static_pod: &Pod) {
        let name = static_pod.full_name();
        let path = ResourcePath::core("pods")
            .namespace(static_pod.metadata.namespace())
            .name(static_pod.metadata.name());
        match self.deps.client.get::<Pod>(&path) {
            Ok(p) if plan(Some(&p), static_pod) == Plan::Nothing => {
                self.known.insert(name, p);
            }
            Ok(p) if is_mirror_pod(&p) => {
                log::info!("deleting stale mirror pod {name} (uid {})", p.metadata.uid());
                self.delete(&p);
            }
            Ok(_) => log::error!(
                "cannot create mirror pod {name}: a pod of that name that is no mirror pod exists"
            ),
            Err(e) => log::warn!("reading existing pod {name}: {e}"),
        }
    }

    fn log_refusal(&mut self, name: &str, hash: &str, e: &Error) {
        let first = self.refused.get(name).is_none_or(|h| h != hash);
        if first {
            log::error!(
                "creating mirror pod {name}: refused by the API server: {e} (the NodeRestriction admission \
                 plugin admits only mirror pods bound to this node, owned by its Node, that reference no \
                 other API objects such as Secrets, ConfigMaps, service accounts or claims)"
            );
            self.refused.insert(name.to_string(), hash.to_string());
        } else {
            log::debug!("creating mirror pod {name}: still refused: {e}");
        }
    }

    fn delete_orphans(&mut self, statics: &HashSet<String>) {
        let orphans: Vec<Pod> =
            self.known.iter().filter(|(name, _)| !statics.contains(*name)).map(|(_, p)| p.clone()).collect();
        for mirror in orphans {
            log::info!("deleting orphaned mirror pod {}", mirror.full_name());
            self.delete(&mirror);
        }
    }

    /// Deletes one incarnation (UID precondition) at once; true when it is gone.
    fn delete(&mut self, mirror: &Pod) -> bool {
        let name = mirror.full_name();
        let path =
            ResourcePath::core("pods").namespace(mirror.metadata.namespace()).name(mirror.metadata.name());
        let opts = DeleteOptions {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions { uid: mirror.metadata.uid.clone(), resource_version: None }),
            propagation_policy: None,
        };
        let (gone, stale) = match self.deps.client.delete(&path, &opts) {
            Ok(()) => (true, true),
            Err(e) if e.is_not_found() => (true, true),
            // Another pod holds the name now: not ours to delete.
            Err(e) if e.is_conflict() => (false, true),
            Err(e) => {
                log::error!("deleting mirror pod {name}: {e}");
                (false, false)
            }
        };
        if stale {
            self.known.remove(&name);
        }
        gone
    }
}

#[cfg(test)]
#[path = "mirror_tests.rs"]
mod tests;
