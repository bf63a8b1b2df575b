//! A container's volume mounts as CRI mounts (upstream's `makeMounts`, without the managed
//! `/etc/hosts` and termination-log mounts, which the container builder adds).
//!
//! Per `volumeMounts` entry: the volume's host path (or, with `subPath`/`subPathExpr`, the
//! safe bind mount of the sub path, see [`super::subpath`]), `readOnly` (forced for volumes
//! that are always read-only), SELinux relabeling for kubelet-managed volumes, mount
//! propagation, and recursive read-only where asked for and the runtime can.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::api::core::{Container, VolumeMount};
use crate::cri::{Mount, MountPropagation};
use crate::kuberuntime::env::EnvPair;
use crate::kuberuntime::expand::expand_str;
use crate::volume::spec::Plugin;
use crate::volume::subpath::{self, Subpath};

/// One set-up volume of a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountedVolume {
    pub plugin: Plugin,
    /// What containers mount: the volume directory, or the host path of a hostPath volume.
    pub host_path: PathBuf,
    /// Containers always mount it read-only.
    pub read_only: bool,
    pub selinux_relabel: bool,
}

/// The set-up volumes of one pod, by volume name: what [`super::VolumeHandle::ensure`] gives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodVolumes {
    pub pod_dir: PathBuf,
    pub volumes: BTreeMap<String, MountedVolume>,
    /// The runtime supports recursive read-only mounts.
    pub supports_rro: bool,
}

impl PodVolumes {
    /// The CRI mounts of `container`. `env` gives its environment, needed only for
    /// `subPathExpr`. Errors are upstream's (the container then fails with
    /// `CreateContainerConfigError`).
    pub fn container_mounts(
        &self,
        container: &Container,
        env: &dyn Fn() -> Result<Vec<EnvPair>, String>,
    ) -> Result<Vec<Mount>, String> {
        let needs_env = container.volume_mounts.iter().any(|m| m.sub_path_expr.as_deref().is_some_and(|e| !e.is_empty()));
        let envs = if needs_env { env()? } else { Vec::new() };
        let mut mounts = Vec::with_capacity(container.volume_mounts.len());
        for (index, m) in container.volume_mounts.iter().enumerate() {
            let Some(vol) = self.volumes.get(&m.name) else {
                return Err(format!("cannot find volume {:?} to mount into container {:?}", m.name, container.name));
            };
            let sub_path = match m.sub_path_expr.as_deref().filter(|e| !e.is_empty()) {
                Some(expr) => expand_sub_path_expr(expr, &envs)?,
                None => m.sub_path.clone().unwrap_or_default(),
            };
            let host_path = if sub_path.is_empty() {
                vol.host_path.clone()
            } else {
                self.sub_path_mount(index, m, &container.name, vol, &sub_path)?
            };
            let container_path = if m.mount_path.starts_with('/') { m.mount_path.clone() } else { format!("/{}", m.mount_path) };
            let rro = resolve_recursive_read_only(m, self.supports_rro)?;
            mounts.push(Mount {
                container_path: clean(&container_path),
                host_path: host_path.to_string_lossy().into_owned(),
                readonly: m.read_only == Some(true) || vol.read_only,
                selinux_relabel: vol.selinux_relabel,
                propagation: propagation(m.mount_propagation.as_deref())?,
                recursive_read_only: rro,
                ..Default::default()
            });
        }
        Ok(mounts)
    }

    fn sub_path_mount(&self, index: usize, m: &VolumeMount, container: &str, vol: &MountedVolume, sub_path: &str) -> Result<PathBuf, String> {
        if sub_path.starts_with('/') {
            return Err(format!("error SubPath `{sub_path}` must not be an absolute path"));
        }
        if sub_path.split('/').any(|p| p == "..") {
            return Err(format!("unable to provision SubPath `{sub_path}`: must not contain '..'"));
        }
        let volume_path = vol.host_path.as_path();
        let path = volume_path.join(sub_path);
        if std::fs::symlink_metadata(&path).is_err() {
            // Made now, with the volume root's mode, so that it gets fsGroup-friendly bits
            // rather than whatever the runtime would create.
            let perm = std::fs::metadata(volume_path).map_err(|e| format!("stat {}: {e}", volume_path.display()))?.mode() & 0o7777;
            if let Err(e) = subpath::safe_make_dir(sub_path, volume_path, perm)
                && e.kind() != std::io::ErrorKind::AlreadyExists
            {
                log::error!("creating subPath {sub_path} of volume {} for container {container}: {e}", m.name);
                return Err(format!("failed to create subPath directory for volumeMount {:?} of container {container:?}", m.name));
            }
        }
        let sp = Subpath { index, path, volume_name: &m.name, volume_path, pod_dir: &self.pod_dir, container_name: container };
        subpath::prepare(&sp).map_err(|e| {
            // The details may tell about the host's filesystem: logged, not shown.
            log::error!("preparing subPath {sub_path} of volume {} for container {container}: {e}", m.name);
            format!("failed to prepare subPath for volumeMount {:?} of container {container:?}", m.name)
        })
    }
}

/// `subPathExpr` with `$(VAR)` from the container's environment; a variable that is unset
/// or empty is an error (upstream's `ExpandContainerVolumeMounts`).
fn expand_sub_path_expr(expr: &str, envs: &[EnvPair]) -> Result<String, String> {
    let missing = RefCell::new(BTreeSet::new());
    let expanded = expand_str(expr, |name| {
        let value = envs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_slice());
        if value.is_none_or(<[u8]>::is_empty) {
            missing.borrow_mut().insert(name.to_string());
        }
        value
    });
    let missing = missing.into_inner();
    if !missing.is_empty() {
        return Err(format!("missing value for {}", missing.into_iter().collect::<Vec<_>>().join(", ")));
    }
    Ok(expanded)
}

/// `mountPropagation` as CRI's (upstream's `translateMountPropagation`).
fn propagation(mode: Option<&str>) -> Result<MountPropagation, String> {
    match mode {
        None | Some("None") => Ok(MountPropagation::PRIVATE),
        Some("HostToContainer") => Ok(MountPropagation::HOST_TO_CONTAINER),
        Some("Bidirectional") => Ok(MountPropagation::BIDIRECTIONAL),
        Some(other) => Err(format!("invalid MountPropagation mode: {other:?}")),
    }
}

/// `recursiveReadOnly` (upstream's `resolveRecursiveReadOnly`).
fn resolve_recursive_read_only(m: &VolumeMount, runtime_supports: bool) -> Result<bool, String> {
    let mode = match m.recursive_read_only.as_deref() {
        None | Some("Disabled") => return Ok(false),
        Some(mode) => mode,
    };
    if m.read_only != Some(true) {
        return Err(format!("volume {:?} requested recursive read-only mode, but it is not read-only", m.name));
    }
    if let Some(p) = m.mount_propagation.as_deref().filter(|p| *p != "None") {
        return Err(format!("volume {:?} requested recursive read-only mode, but it is not compatible with propagation {p:?}", m.name));
    }
    match mode {
        "IfPossible" => Ok(runtime_supports),
        "Enabled" if runtime_supports => Ok(true),
        "Enabled" => Err(format!("volume {:?} requested recursive read-only mode, but it is not supported by the runtime", m.name)),
        other => Err(format!("unknown recursive read-only mode {other:?}")),
    }
}

/// A lexically cleaned absolute path (`/a//b/./c/` → `/a/b/c`).
fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in Path::new(path).components() {
        match p {
            std::path::Component::Normal(s) => parts.push(s.to_str().unwrap_or_default()),
            std::path::Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
#[path = "mounts_tests.rs"]
mod tests;
