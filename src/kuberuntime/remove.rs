//! Removing what a pod left in the runtime: everything once the pod is gone
//! ([`Runtime::remove_pod`]), or the dead containers and sandboxes nobody will look at again
//! (upstream's container GC for one pod, [`evictable`] and [`Runtime::evict`]).

use std::collections::BTreeMap;
use std::fs;
use std::io;

use super::error::RuntimeError;
use super::logsymlink;
use super::model::{ContainerState, ContainerStatus, PodStatus, SandboxState, SandboxStatus};
use super::paths::{etc_hosts_path, plugins_dir, pod_containers_dir, pod_dir, pod_log_dir, volumes_dir};
use super::runtime::Runtime;
use crate::api::core::Pod;
use crate::cri;
use crate::status::reason::pod_desc;

/// Upstream's default `MaxPerPodContainer`: dead instances kept per container name.
pub const MAX_PER_POD_CONTAINER: usize = 1;

fn ignore_not_found(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

impl Runtime {
    /// Removes one container (stopped or not; NotFound counts as done) and its legacy log
    /// symlink (as upstream's removeContainerLog), named from the pod and container names
    /// the caller already has (the same values the container's identity labels hold).
    pub(crate) fn remove_container(&self, pod_name: &str, pod_namespace: &str, c: &ContainerStatus) -> Result<(), RuntimeError> {
        let id = c.id.as_str();
        let link = logsymlink::symlink_path(&self.node.container_logs_dir, pod_name, pod_namespace, &c.name, id);
        if let Err(e) = logsymlink::remove(&link) {
            log::warn!("cannot remove the log symlink of container {id}: {e}");
        }
        match self.cri.remove_container(&cri::RemoveContainerRequest { container_id: id.to_string() }) {
            Err(e) if !e.is_not_found() => Err(RuntimeError::cri(format!("container {id}"), e)),
            _ => Ok(()),
        }
    }

    /// Stops (if needed) and removes one sandbox.
    fn remove_sandbox(&self, id: &str, ready: bool) -> Result<(), RuntimeError> {
        let what = || format!("sandbox {id}");
        if ready {
            match self.cri.stop_pod_sandbox(&cri::StopPodSandboxRequest { pod_sandbox_id: id.to_string() }) {
                Err(e) if !e.is_not_found() => return Err(RuntimeError::cri(what(), e)),
                _ => {}
            }
        }
        match self.cri.remove_pod_sandbox(&cri::RemovePodSandboxRequest { pod_sandbox_id: id.to_string() }) {
            Err(e) if !e.is_not_found() => Err(RuntimeError::cri(what(), e)),
            _ => Ok(()),
        }
    }

    /// Removes every container and sandbox of a pod that is gone, then its logs and the
    /// files rkubelet made for it (volume directories are left to the volume manager; the pod
    /// directory goes only when nothing else is in it).
    pub fn remove_pod(&self, status: &PodStatus) -> Result<(), RuntimeError> {
        for c in &status.containers {
            if c.state == Some(ContainerState::Running) {
                let req = cri::StopContainerRequest { container_id: c.id.clone(), timeout: 0 };
                match self.cri.stop_container(&req) {
                    Err(e) if !e.is_not_found() => {
                        return Err(RuntimeError::cri(format!("container {}", c.id), e));
                    }
                    _ => {}
                }
            }
            self.remove_container(&status.name, &status.namespace, c)?;
        }
        for s in &status.sandboxes {
            self.remove_sandbox(&s.id, s.state == SandboxState::Ready)?;
        }
        if status.uid.is_empty() {
            return Ok(());
        }
        if !status.name.is_empty() {
            let logs = pod_log_dir(&self.node, &status.namespace, &status.name, &status.uid);
            ignore_not_found(fs::remove_dir_all(&logs)).map_err(|e| RuntimeError::io("remove", logs, e))?;
        }
        let etc_hosts = etc_hosts_path(&self.node, &status.uid);
        ignore_not_found(fs::remove_file(&etc_hosts))
            .map_err(|e| RuntimeError::io("remove", etc_hosts, e))?;
        let uid = &status.uid;
        let containers = pod_containers_dir(&self.node, uid);
        ignore_not_found(fs::remove_dir_all(&containers))
            .map_err(|e| RuntimeError::io("remove", containers, e))?;
        // Only empty directories: a mounted volume keeps the pod directory.
        let dirs = [volumes_dir(&self.node, uid), plugins_dir(&self.node, uid), pod_dir(&self.node, uid)];
        for d in dirs {
            if let Err(e) = ignore_not_found(fs::remove_dir(&d)) {
                log::debug!("keeping {}: {e}", d.display());
            }
        }
        Ok(())
    }

    /// Removes the dead containers of a running pod beyond the newest one per container name,
    /// and its older sandboxes that are neither ready nor hold containers (upstream's GC with
    /// `maxPerPodContainer` 1 and `minAge` 0, for one pod).
    pub fn cleanup_dead_containers(&self, pod: &Pod, status: &PodStatus) -> Result<(), RuntimeError> {
        self.evict(&pod_desc(pod), &evictable(status, false))
    }

    /// Removes what [`evictable`] chose; `pod` names the pod in log lines. A failure does not
    /// stop the others (as upstream's GC); the first one is returned.
    pub fn evict(&self, pod: &str, what: &Evictable<'_>) -> Result<(), RuntimeError> {
        let mut first = None;
        for c in &what.containers {
            log::debug!("removing dead container {} ({}) of pod {pod}", c.name, c.id);
            if let Err(e) = self.remove_container(what.pod_name, what.pod_namespace, c) {
                log::warn!("cannot remove dead container {} of pod {pod}: {e}", c.name);
                first.get_or_insert(e);
            }
        }
        for s in &what.sandboxes {
            log::debug!("removing old sandbox {} of pod {pod}", s.id);
            if let Err(e) = self.remove_sandbox(&s.id, false) {
                log::warn!("cannot remove sandbox {} of pod {pod}: {e}", s.id);
                first.get_or_insert(e);
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// The dead containers and sandboxes of one pod that garbage collection removes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Evictable<'a> {
    pub pod_name: &'a str,
    pub pod_namespace: &'a str,
    pub containers: Vec<&'a ContainerStatus>,
    pub sandboxes: Vec<&'a SandboxStatus>,
}

/// What upstream's container GC removes of one pod (`minAge` 0). For a pod that still
/// exists: the dead containers beyond the newest [`MAX_PER_POD_CONTAINER`] per container
/// name, and the sandboxes beyond the newest that are not ready and hold no container that
/// stays. For a pod whose content may go (`whole_pod`: deleted and terminated, or unknown
/// once every source is ready): every dead container and every sandbox that is not ready
/// and holds no running container. Running containers and ready sandboxes are never chosen.
pub fn evictable(status: &PodStatus, whole_pod: bool) -> Evictable<'_> {
    let keep = if whole_pod { 0 } else { MAX_PER_POD_CONTAINER };
    let mut by_name: BTreeMap<&str, Vec<&ContainerStatus>> = BTreeMap::new();
    for c in status.containers.iter().filter(|c| c.state != Some(ContainerState::Running)) {
        by_name.entry(c.name.as_str()).or_default().push(c);
    }
    // `status.containers` is newest first.
    let containers: Vec<&ContainerStatus> =
        by_name.values().flat_map(|dead| dead.iter().skip(keep).copied()).collect();
    let in_use = |sandbox: &str| {
        status.containers.iter().any(|c| c.sandbox_id == sandbox && !containers.iter().any(|r| r.id == c.id))
    };
    let sandboxes = status
        .sandboxes
        .iter()
        .skip(usize::from(!whole_pod))
        .filter(|s| s.state != SandboxState::Ready && !in_use(&s.id))
        .collect();
    Evictable { pod_name: &status.name, pod_namespace: &status.namespace, containers, sandboxes }
}
