//! A container's config (upstream's `generateContainerConfig`).
//!
//! ```text
//! metadata        name, attempt = restart count
//! image           image = the resolved reference, user_specified_image = spec image
//! command, args   with $(VAR) expanded against the final environment
//! envs            env.rs (service links, envFrom, env)
//! mounts          resolved volume mounts, then /etc/hosts, then the termination-log file
//! labels          identity                  annotations   hash, restart count, ... (labels.rs)
//! log_path        <name>/<restart>.log
//! linux           resources (resources.rs), security_context (security.rs)
//! ```
//!
//! The pod's cgroup parent is the sandbox's; containers carry none. Files the config refers
//! to (the etc-hosts and termination-log files, the log directory) are made by the caller.

use std::path::PathBuf;

use crate::api::core::{Container, Pod};
use crate::cri::{ContainerConfig, ContainerMetadata, ImageSpec, KeyValue, LinuxContainerConfig, Mount};

use super::build_error::{BuildError, BuildErrorKind};
use super::env::{EnvSources, container_env};
use super::expand::expand_str;
use super::hosts::ETC_HOSTS;
use super::labels::{container_annotations, container_labels, termination_message_path};
use super::node::NodeContext;
use super::paths::container_log_path;
use super::resources::container_resources;
use super::security::{ImageUser, container_security_context, verify_run_as_non_root};

/// Which list of the pod spec a container comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    Init,
    App,
    Ephemeral,
}

/// Everything a container config is built from.
pub struct ContainerInputs<'a> {
    pub pod: &'a Pod,
    /// For an ephemeral container, its `Container` part.
    pub container: &'a Container,
    pub kind: ContainerKind,
    pub restart_count: u32,
    /// The image to create from, as the image manager resolved it.
    pub image_ref: &'a str,
    pub pod_ips: &'a [String],
    /// Volume mounts already resolved to host paths (the volume manager's).
    pub mounts: Vec<Mount>,
    /// Host path of the pod's managed etc-hosts file, mounted at `/etc/hosts` when set
    /// (unless the container mounts a volume there itself).
    pub etc_hosts: Option<PathBuf>,
    /// Host file to mount at the container's `terminationMessagePath` (made by the caller).
    pub termination_log: Option<PathBuf>,
    pub env: &'a dyn EnvSources,
    pub node: &'a NodeContext,
    /// The image's user from the runtime's image status (see [`ImageUser::from_image`]):
    /// the user the container runs as when the spec names none, and what `runAsNonRoot` is
    /// checked against. `None`: not known; the runtime applies the image's user and only
    /// `runAsUser` is checked.
    pub image_user: Option<ImageUser>,
    /// For an ephemeral container: the runtime ID of its `targetContainerName`, whose PID
    /// namespace it joins.
    pub target_container_id: Option<String>,
}

/// The config to create the container with.
pub fn container_config(inputs: &ContainerInputs) -> Result<ContainerConfig, BuildError> {
    build(inputs).map_err(|kind| BuildError::new(inputs.pod, Some(&inputs.container.name), kind))
}

fn build(inputs: &ContainerInputs) -> Result<ContainerConfig, BuildErrorKind> {
    let (pod, c, node) = (inputs.pod, inputs.container, inputs.node);
    let envs = container_env(pod, c, inputs.pod_ips, node, inputs.env)?;
    verify_run_as_non_root(pod, c, inputs.image_user.as_ref())?;

    let lookup = |name: &str| envs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_slice());
    let command = c.command.iter().map(|s| expand_str(s, lookup)).collect();
    let args = c.args.iter().map(|s| expand_str(s, lookup)).collect();

    let target = match inputs.kind {
        ContainerKind::Ephemeral => inputs.target_container_id.as_deref(),
        ContainerKind::Init | ContainerKind::App => None,
    };
    let linux = LinuxContainerConfig {
        resources: Some(container_resources(pod, c, node)),
        security_context: Some(container_security_context(pod, c, inputs.image_user.as_ref(), target, node)?),
    };
    Ok(ContainerConfig {
        metadata: Some(ContainerMetadata { name: c.name.clone(), attempt: inputs.restart_count }),
        image: Some(ImageSpec {
            image: inputs.image_ref.to_string(),
            user_specified_image: c.image.clone().unwrap_or_default(),
            ..Default::default()
        }),
        command,
        args,
        working_dir: c.working_dir.clone().unwrap_or_default(),
        envs: envs.into_iter().map(|(key, value)| KeyValue { key, value }).collect(),
        mounts: mounts(inputs),
        labels: container_labels(pod, c),
        annotations: container_annotations(pod, c, inputs.restart_count),
        log_path: container_log_path(&c.name, inputs.restart_count),
        stdin: c.stdin == Some(true),
        stdin_once: c.stdin_once == Some(true),
        tty: c.tty == Some(true),
        linux: Some(linux),
        ..Default::default()
    })
}

/// The given mounts, then the managed `/etc/hosts`, then the termination-log file.
fn mounts(inputs: &ContainerInputs) -> Vec<Mount> {
    let c = inputs.container;
    let relabel = inputs.node.selinux_enabled;
    let mut mounts = inputs.mounts.clone();
    let own_hosts = c.volume_mounts.iter().any(|m| m.mount_path == ETC_HOSTS);
    if let Some(hosts) = inputs.etc_hosts.as_ref().filter(|_| !own_hosts) {
        mounts.push(Mount {
            container_path: ETC_HOSTS.to_string(),
            host_path: hosts.to_string_lossy().into_owned(),
            selinux_relabel: relabel,
            ..Default::default()
        });
    }
    let message_path = termination_message_path(c);
    if let Some(log) = inputs.termination_log.as_ref().filter(|_| !message_path.is_empty()) {
        mounts.push(Mount {
            container_path: message_path.to_string(),
            host_path: log.to_string_lossy().into_owned(),
            selinux_relabel: relabel,
            ..Default::default()
        });
    }
    mounts
}

#[cfg(test)]
#[path = "container_tests.rs"]
mod tests;
