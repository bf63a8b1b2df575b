//! One container GC pass (upstream's `containerGC.GarbageCollect` with `MinAge` 0,
//! `MaxPerPodContainer` 1, `MaxContainers` -1):
//!
//! ```text
//!  ListPodSandbox + ListContainers ─► pods by UID label ─► per pod: whole pod removable?
//!        │                                                   ├─ yes: every dead container, every idle sandbox
//!        │                                                   └─ no:  dead beyond the newest per name, idle sandboxes beyond the newest
//!        └─► image refs of every container (for the image GC's usage record)
//!  <podLogsDir>/<ns>_<name>_<uid> of removable pods ─► removed
//!  /var/log/containers/*.log pointing nowhere, of containers not running ─► removed
//! ```
//! Sandboxes and containers without our pod UID label are not ours and stay (upstream would
//! collect unlabelled dead containers too).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

use super::{GcError, PodSnapshot};
use crate::cri;
use crate::kuberuntime::logsymlink;
use crate::kuberuntime::model::keys;
use crate::kuberuntime::paths::pod_uid_from_log_dir;
use crate::kuberuntime::{
    ContainerState, ContainerStatus, PodStatus, Runtime, SandboxStatus, container_state, evictable, sandbox_state,
};

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    pub containers: usize,
    pub sandboxes: usize,
    pub log_dirs: usize,
    /// Image references of every container in the runtime (any state).
    pub image_refs: HashSet<String>,
}

impl fmt::Display for Collected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "removed {} containers, {} sandboxes, {} pod log directories",
            self.containers, self.sandboxes, self.log_dirs
        )
    }
}

/// Runs one pass. Without a (fresh) snapshot no whole pod is removed.
pub fn collect_containers(
    runtime: &Runtime,
    selector: &BTreeMap<String, String>,
    snapshot: Option<&PodSnapshot>,
) -> Result<Collected, GcError> {
    let cri = runtime.cri();
    let filter = cri::PodSandboxFilter { label_selector: selector.clone(), ..Default::default() };
    let sandboxes = cri
        .list_pod_sandbox(&cri::ListPodSandboxRequest { filter: Some(filter) })
        .map_err(|error| GcError::Cri { call: "ListPodSandbox", error })?
        .items;
    let filter = cri::ContainerFilter { label_selector: selector.clone(), ..Default::default() };
    let containers = cri
        .list_containers(&cri::ListContainersRequest { filter: Some(filter) })
        .map_err(|error| GcError::Cri { call: "ListContainers", error })?
        .containers;
    let mut out = Collected { image_refs: image_refs(&containers), ..Default::default() };
    let pods = group(&sandboxes, &containers);
    let judge = Judge { snapshot, pods: &pods };
    let mut first_error = None;
    for (uid, status) in &pods {
        let whole = judge.removable(uid);
        let what = evictable(status, whole);
        if what.containers.is_empty() && what.sandboxes.is_empty() {
            continue;
        }
        (out.containers, out.sandboxes) =
            (out.containers + what.containers.len(), out.sandboxes + what.sandboxes.len());
        let desc = format!("{}_{}({uid})", status.name, status.namespace);
        if let Err(e) = runtime.evict(&desc, &what) {
            first_error.get_or_insert(GcError::Runtime(e));
        }
    }
    if snapshot.is_some_and(|s| s.sources_ready) {
        match remove_log_dirs(&runtime.node().pod_logs_dir, &judge) {
            Ok(n) => out.log_dirs = n,
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    // Symlinks whose log went with its pod's log directory, or with a runtime that lost the
    // container (a running container's log may be mid-rotation: its link stays).
    let alive = |id: &str| containers.iter().any(|c| c.id.starts_with(id) && container_state(c.state) != ContainerState::Exited);
    let links = logsymlink::remove_dangling(&runtime.node().container_logs_dir, &alive);
    if links > 0 {
        log::debug!("removed {links} dangling container log symlinks");
    }
    first_error.map_or(Ok(out), Err)
}

/// Every reference by which containers name their images.
fn image_refs(containers: &[cri::Container]) -> HashSet<String> {
    let mut refs = HashSet::new();
    for c in containers {
        let spec = c.image.as_ref().map(|i| i.image.clone()).unwrap_or_default();
        refs.extend([c.image_ref.clone(), c.image_id.clone(), spec].into_iter().filter(|r| !r.is_empty()));
    }
    refs
}

/// The pod an object with these labels belongs to; `None` when it is not ours.
fn pod_of<'a>(
    pods: &'a mut BTreeMap<String, PodStatus>,
    labels: &BTreeMap<String, String>,
) -> Option<&'a mut PodStatus> {
    let uid = labels.get(keys::POD_UID).filter(|u| !u.is_empty())?;
    let p = pods.entry(uid.clone()).or_insert_with(|| PodStatus { uid: uid.clone(), ..Default::default() });
    if p.name.is_empty() {
        let label = |k: &str| labels.get(k).cloned().unwrap_or_default();
        (p.name, p.namespace) = (label(keys::POD_NAME), label(keys::POD_NAMESPACE));
    }
    Some(p)
}

/// The runtime's pods as the lists show them, by UID, newest first (no status calls).
pub(crate) fn group(
    sandboxes: &[cri::PodSandbox],
    containers: &[cri::Container],
) -> BTreeMap<String, PodStatus> {
    let mut pods: BTreeMap<String, PodStatus> = BTreeMap::new();
    for s in sandboxes {
        if let Some(p) = pod_of(&mut pods, &s.labels) {
            p.sandboxes.push(SandboxStatus {
                id: s.id.clone(),
                state: sandbox_state(s.state),
                created_at: s.created_at,
                attempt: s.metadata.as_ref().map_or(0, |m| m.attempt),
                ips: Vec::new(),
                host_network: false,
            });
        }
    }
    for c in containers {
        let name = c
            .labels
            .get(keys::CONTAINER_NAME)
            .cloned()
            .or_else(|| c.metadata.as_ref().map(|m| m.name.clone()));
        if let Some(p) = pod_of(&mut pods, &c.labels) {
            p.containers.push(ContainerStatus {
                id: c.id.clone(),
                name: name.unwrap_or_default(),
                sandbox_id: c.pod_sandbox_id.clone(),
                state: Some(container_state(c.state)),
                created_at: c.created_at,
                image_ref: c.image_ref.clone(),
                ..Default::default()
            });
        }
    }
    for p in pods.values_mut() {
        p.sandboxes.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
        p.containers.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
    }
    pods
}

/// Decides which pods' content may go.
pub(crate) struct Judge<'a> {
    pub snapshot: Option<&'a PodSnapshot>,
    pub pods: &'a BTreeMap<String, PodStatus>,
}

impl Judge<'_> {
    /// The snapshot says the pod's content may go, and nothing of the pod is newer than the
    /// snapshot (a pod added since is not in it).
    pub(crate) fn removable(&self, uid: &str) -> bool {
        let Some(s) = self.snapshot else { return false };
        if !s.content_removable(uid) {
            return false;
        }
        let taken = s.taken_at_nanos();
        self.pods.get(uid).is_none_or(|p| {
            p.sandboxes.iter().all(|x| x.created_at <= taken)
                && p.containers.iter().all(|x| x.created_at <= taken)
        })
    }
}

/// Removes `<dir>/<ns>_<name>_<uid>` of every removable pod not changed since the snapshot.
fn remove_log_dirs(dir: &Path, judge: &Judge<'_>) -> Result<usize, GcError> {
    let io = |op: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |error| GcError::Io { op, path, error }
    };
    let taken = judge.snapshot.map(|s| s.taken_at);
    let mut removed = 0;
    for entry in std::fs::read_dir(dir).map_err(io("read", dir))? {
        let entry = entry.map_err(io("read", dir))?;
        let name = entry.file_name();
        let uid = pod_uid_from_log_dir(&name.to_string_lossy()).to_string();
        let changed = entry.metadata().and_then(|m| m.modified()).ok();
        if !judge.removable(&uid) || changed.zip(taken).is_some_and(|(c, t)| c > t) {
            continue;
        }
        log::debug!("removing the logs of pod {uid}: {}", entry.path().display());
        match std::fs::remove_dir_all(entry.path()) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => log::warn!("cannot remove pod log directory {}: {e}", entry.path().display()),
        }
    }
    Ok(removed)
}

#[cfg(test)]
#[path = "containers_tests.rs"]
mod tests;
