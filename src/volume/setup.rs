//! Setting up the volumes of one pod (upstream's per-plugin `SetUp`), run on a worker thread.
//!
//! ```text
//! emptyDir     EmptyDir::setup (dir or tmpfs, fsGroup, ready file)
//! hostPath     hostpath::setup (type checks)
//! configMap ┐  payload first (a missing object or key leaves nothing on disk), then the
//! secret    │  wrapped emptyDir `wrapped_<volume>` (disk for configMap, tmpfs otherwise),
//! downward  │  directories for volumes mounted beneath this one, then the atomic write
//! projected ┘  (fsGroup applied before the new version is published)
//! ```
//!
//! SetUp is idempotent: the same call refreshes content (configMap, secret, downwardAPI,
//! projected) and leaves mounted tmpfs and existing directories alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::api::core::{Pod, ServiceAccountTokenProjection, Volume};
use crate::kuberuntime::{EnvSources, NodeContext};
use crate::volume::atomic::{AtomicWriter, Payload};
use crate::volume::emptydir::{self, EmptyDir, Medium};
use crate::volume::error::{no_plugin, setup_failed};
use crate::volume::hostpath::{self, HostFiles};
use crate::volume::mounts::MountedVolume;
use crate::volume::payload::{self, KeyData, Keyed, ProjectedInputs, TokenFetch};
use crate::volume::spec::{self, Plugin, all_containers};
use crate::volume::token::{TokenCache, TokenClient, random_jitter, request_for};
use crate::volume::ownership;

/// What a setup needs besides the pod.
pub struct SetupContext<'a> {
    pub node: &'a NodeContext,
    pub objects: &'a dyn EnvSources,
    pub tokens: Option<&'a dyn TokenClient>,
    pub host: &'a dyn HostFiles,
    pub noswap: bool,
}

/// What one setup of a pod did.
#[derive(Debug, Default)]
pub struct SetupOutcome {
    pub mounted: BTreeMap<String, MountedVolume>,
    /// Volume → `MountVolume.SetUp failed for volume ...` (the event message).
    pub failed: BTreeMap<String, String>,
    /// Volumes no plugin serves (never retried).
    pub unsupported: BTreeMap<String, String>,
    pub tokens: TokenCache,
}

/// Sets up the pod's needed volumes (with `refresh_only`, just those whose content is
/// rewritten on every sync).
pub fn setup_pod(ctx: &SetupContext, pod: &Pod, tokens: TokenCache, refresh_only: bool) -> SetupOutcome {
    let mut out = SetupOutcome { tokens, ..SetupOutcome::default() };
    for volume in spec::needed_volumes(pod) {
        let plugin = match Plugin::of(&volume.source) {
            Ok(p) => p,
            Err(kind) => {
                out.unsupported.insert(volume.name.clone(), no_plugin(&volume.name, kind));
                continue;
            }
        };
        if refresh_only && !plugin.refreshes() {
            continue;
        }
        if !spec::safe_component(&volume.name) {
            out.failed.insert(volume.name.clone(), setup_failed(&volume.name, "invalid volume name"));
            continue;
        }
        match setup_volume(ctx, pod, volume, plugin, &mut out.tokens) {
            Ok(m) => {
                out.mounted.insert(volume.name.clone(), m);
            }
            Err(e) => {
                log::warn!("pod {}/{}: {}", pod.metadata.namespace(), pod.metadata.name(), setup_failed(&volume.name, &e));
                out.failed.insert(volume.name.clone(), setup_failed(&volume.name, &e));
            }
        }
    }
    out
}

fn setup_volume(ctx: &SetupContext, pod: &Pod, volume: &Volume, plugin: Plugin, tokens: &mut TokenCache) -> Result<MountedVolume, String> {
    let uid = pod.metadata.uid();
    let name = volume.name.as_str();
    let dir = spec::volume_dir(ctx.node, uid, plugin, name);
    let fs_group = pod.spec.security_context.as_ref().and_then(|s| s.fs_group);
    let mounted = |host_path: PathBuf| MountedVolume {
        plugin,
        host_path,
        read_only: plugin.read_only(),
        selinux_relabel: plugin.selinux_relabel(),
    };
    let src = &volume.source;
    let ns = pod.metadata.namespace();
    let payload = match plugin {
        Plugin::HostPath => {
            let host_path = src.host_path.as_ref().map(|h| h.path.clone()).unwrap_or_default();
            hostpath::setup(src.host_path.as_ref().ok_or("no hostPath source")?, ctx.host)?;
            return Ok(mounted(PathBuf::from(host_path)));
        }
        Plugin::EmptyDir => {
            let ed = src.empty_dir.clone().unwrap_or_default();
            let size = emptydir::memory_size(pod, ed.size_limit.as_ref(), ctx.node);
            let medium = Medium::parse(ed.medium.as_deref(), size)?;
            let meta = spec::empty_dir_meta_dir(ctx.node, uid, name);
            EmptyDir { dir: &dir, meta_dir: &meta, medium, fs_group, noswap: ctx.noswap }.setup()?;
            return Ok(mounted(dir));
        }
        Plugin::ConfigMap => {
            let c = src.config_map.as_ref().ok_or("no configMap source")?;
            let optional = c.optional == Some(true);
            let cm = payload::read_config_map(ctx.objects, ns, c.name.as_deref().unwrap_or_default(), optional)?;
            let mode = c.default_mode.unwrap_or(crate::source::defaults::VOLUME_DEFAULT_MODE);
            payload::keyed_payload(Keyed::ConfigMap, &c.items, &KeyData::of_config_map(&cm), mode, optional)?
        }
        Plugin::Secret => {
            let s = src.secret.as_ref().ok_or("no secret source")?;
            let optional = s.optional == Some(true);
            let secret = payload::read_secret(ctx.objects, ns, s.secret_name.as_deref().unwrap_or_default(), optional)?;
            let mode = s.default_mode.unwrap_or(crate::source::defaults::VOLUME_DEFAULT_MODE);
            payload::keyed_payload(Keyed::Secret, &s.items, &KeyData::of_secret(&secret), mode, optional)?
        }
        Plugin::DownwardApi => {
            let d = src.downward_api.as_ref().ok_or("no downwardAPI source")?;
            let mode = d.default_mode.unwrap_or(crate::source::defaults::VOLUME_DEFAULT_MODE);
            payload::downward_payload(&d.items, pod, ctx.node, mode)?
        }
        Plugin::Projected => {
            let p = src.projected.as_ref().ok_or("no projected source")?;
            let mut fetch = Tokens { cache: tokens, client: ctx.tokens, now: SystemTime::now(), jitter: random_jitter() };
            let inputs = ProjectedInputs { objects: ctx.objects, node: ctx.node, tokens: &mut fetch, fs_user: fs_user(pod), fs_group };
            payload::projected_payload(name, p, pod, inputs)?
        }
    };
    write_wrapped(ctx, pod, name, plugin, &dir, &payload, fs_group)?;
    Ok(mounted(dir))
}

/// The wrapped emptyDir, nested mount points, then the atomic write; a first setup that
/// fails part-way is torn down again, as upstream does.
fn write_wrapped(
    ctx: &SetupContext,
    pod: &Pod,
    name: &str,
    plugin: Plugin,
    dir: &Path,
    payload: &Payload,
    fs_group: Option<i64>,
) -> Result<(), String> {
    let meta = spec::empty_dir_meta_dir(ctx.node, pod.metadata.uid(), &format!("wrapped_{name}"));
    let fresh = !meta.join("ready").is_file();
    let medium = if plugin.wrapper_on_tmpfs() { Medium::Memory(emptydir::memory_size(pod, None, ctx.node)) } else { Medium::Disk };
    EmptyDir { dir, meta_dir: &meta, medium, fs_group, noswap: ctx.noswap }.setup()?;
    let written = nested_mount_points(name, pod)
        .and_then(|nested| {
            nested.iter().try_for_each(|n| {
                std::fs::create_dir_all(dir.join(n)).map_err(|e| format!("unable to create nested volume mountpoints: {e}"))
            })
        })
        .and_then(|()| {
            let writer = AtomicWriter::new(dir).map_err(|e| e.to_string())?;
            let perms = || ownership::set_volume_ownership(dir, fs_group, None, true);
            writer.write(payload, Some(&perms)).map_err(|e| e.to_string())
        });
    if written.is_err()
        && fresh
        && let Err(e) = emptydir::teardown(dir, &meta)
    {
        log::error!("error tearing down volume {name} after a failed setup: {e}");
    }
    written
}

/// Mount points of other volumes beneath where this one is mounted (relative to it), to
/// create inside it (upstream's `getNestedMountpoints`).
pub fn nested_mount_points(name: &str, pod: &Pod) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for c in all_containers(pod) {
        let mut all: Vec<String> = c.volume_mounts.iter().map(|m| clean(&m.mount_path)).collect();
        all.sort();
        for mine in c.volume_mounts.iter().filter(|m| m.name == name).map(|m| clean(&m.mount_path)) {
            if mine.starts_with("../") {
                return Err(format!("invalid container mount point {mine}"));
            }
            let prefix = format!("{mine}/");
            let mut seen: Vec<String> = Vec::new();
            for mp in all.iter().filter(|mp| mp.starts_with(&prefix)) {
                if seen.iter().any(|s| mp.starts_with(s.as_str())) {
                    continue;
                }
                seen.push(format!("{mp}/"));
                out.push(mp[prefix.len()..].to_string());
            }
        }
    }
    Ok(out)
}

/// Go's `filepath.Clean` for mount paths.
fn clean(path: &str) -> String {
    let abs = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if abs => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if abs { format!("/{joined}") } else if joined.is_empty() { ".".into() } else { joined }
}

/// The pod's single `runAsUser`, when every container runs as the same one (upstream's
/// `FsUserFrom`).
pub fn fs_user(pod: &Pod) -> Option<u32> {
    let pod_user = pod.spec.security_context.as_ref().and_then(|s| s.run_as_user);
    let mut user = None;
    for c in all_containers(pod) {
        let effective = c.security_context.as_ref().and_then(|s| s.run_as_user).or(pod_user)?;
        match user {
            Some(u) if u != effective => return None,
            _ => user = Some(effective),
        }
    }
    user.and_then(|u| u32::try_from(u).ok())
}

/// The token manager as the projected payload asks it.
struct Tokens<'a> {
    cache: &'a mut TokenCache,
    client: Option<&'a dyn TokenClient>,
    now: SystemTime,
    jitter: Duration,
}

impl TokenFetch for Tokens<'_> {
    fn token(&mut self, pod: &Pod, source: &ServiceAccountTokenProjection) -> Result<String, String> {
        let sa = pod.spec.service_account_name.as_deref().unwrap_or_default();
        let request = request_for(pod, source);
        self.cache.get(self.client, pod.metadata.namespace(), sa, &request, self.now, self.jitter)
    }
}

/// `<root>/pods/<uid>`.
#[cfg(test)]
#[path = "setup_tests.rs"]
mod tests;
