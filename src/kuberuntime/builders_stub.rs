//! TEMPORARY stand-ins for the config builders (`node`, `sandbox`, `container`, `env`, `hash`,
//! `labels`, `paths`, `hosts`) that another branch is writing. Only what the runtime
//! operations call, with the agreed signatures and just enough behaviour to run a busybox pod
//! on containerd. Deleted when that branch merges; `mod.rs`'s `builders` facade then points
//! at the real modules.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use super::model::keys;
use crate::api::core::{Container, Pod, Service};
use crate::cri;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CgroupDriver {
    #[default]
    Cgroupfs,
    Systemd,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeContext {
    pub node_name: String,
    pub host_ips: Vec<String>,
    pub cluster_dns: Vec<String>,
    pub cluster_domain: String,
    pub resolv_conf: String,
    pub root_dir: PathBuf,
    pub pod_logs_dir: PathBuf,
    pub cgroup_driver: CgroupDriver,
    pub cgroups_per_qos: bool,
    pub cgroup_root: String,
}

impl Default for NodeContext {
    fn default() -> Self {
        NodeContext {
            node_name: String::new(),
            host_ips: Vec::new(),
            cluster_dns: Vec::new(),
            cluster_domain: String::new(),
            resolv_conf: String::new(),
            root_dir: PathBuf::from("/var/lib/kubelet"),
            pod_logs_dir: PathBuf::from("/var/log/pods"),
            cgroup_driver: CgroupDriver::Cgroupfs,
            cgroups_per_qos: true,
            cgroup_root: "/".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    pub message: String,
}

impl BuildError {
    pub fn message(&self) -> String {
        self.message.clone()
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BuildError {}

pub trait EnvSources {
    fn services(&self, namespace: &str) -> Vec<Service>;
}

pub struct NoEnvSources;

impl EnvSources for NoEnvSources {
    fn services(&self, _: &str) -> Vec<Service> {
        Vec::new()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerKind {
    Init,
    App,
    Ephemeral,
}

pub struct ContainerInputs<'a> {
    pub pod: &'a Pod,
    pub container: &'a Container,
    pub kind: ContainerKind,
    pub restart_count: u32,
    pub image_ref: &'a str,
    pub pod_ips: &'a [String],
    pub mounts: Vec<cri::Mount>,
    pub etc_hosts: Option<PathBuf>,
    pub termination_log: Option<PathBuf>,
    pub env: &'a dyn EnvSources,
    pub node: &'a NodeContext,
}

fn identity_labels(pod: &Pod) -> BTreeMap<String, String> {
    let m = &pod.metadata;
    BTreeMap::from([
        (keys::POD_NAME.to_string(), m.name().to_string()),
        (keys::POD_NAMESPACE.to_string(), m.namespace().to_string()),
        (keys::POD_UID.to_string(), m.uid().to_string()),
    ])
}

pub fn sandbox_config(
    pod: &Pod,
    attempt: u32,
    node: &NodeContext,
) -> Result<cri::PodSandboxConfig, BuildError> {
    let m = &pod.metadata;
    let mut labels = m.labels.clone();
    labels.extend(identity_labels(pod));
    labels.insert(keys::CONTAINER_NAME.into(), keys::POD_INFRA_CONTAINER_NAME.into());
    let host_network = pod.spec.host_network.unwrap_or(false);
    let network = if host_network { cri::NamespaceMode::NODE } else { cri::NamespaceMode::POD };
    Ok(cri::PodSandboxConfig {
        metadata: Some(cri::PodSandboxMetadata {
            name: m.name().into(),
            uid: m.uid().into(),
            namespace: m.namespace().into(),
            attempt,
        }),
        hostname: if host_network { String::new() } else { m.name().into() },
        log_directory: pod_log_dir(node, m.namespace(), m.name(), m.uid()).to_string_lossy().into_owned(),
        labels,
        annotations: m.annotations.clone(),
        linux: Some(cri::LinuxPodSandboxConfig {
            security_context: Some(cri::LinuxSandboxSecurityContext {
                namespace_options: Some(cri::NamespaceOption { network, ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
}

pub fn container_config(inputs: &ContainerInputs) -> Result<cri::ContainerConfig, BuildError> {
    let c = inputs.container;
    let mut labels = identity_labels(inputs.pod);
    labels.insert(keys::CONTAINER_NAME.into(), c.name.clone());
    let mut annotations = BTreeMap::from([
        (keys::CONTAINER_HASH.to_string(), format!("{:x}", container_hash(c))),
        (keys::CONTAINER_RESTART_COUNT.to_string(), inputs.restart_count.to_string()),
        (keys::TERMINATION_MESSAGE_PATH.to_string(), c.termination_message_path.clone().unwrap_or_default()),
        (
            keys::TERMINATION_MESSAGE_POLICY.to_string(),
            c.termination_message_policy.clone().unwrap_or_default(),
        ),
    ]);
    if let Some(g) = inputs.pod.spec.termination_grace_period_seconds {
        annotations.insert(keys::POD_TERMINATION_GRACE_PERIOD.into(), g.to_string());
    }
    let mut mounts = inputs.mounts.clone();
    if let Some(hosts) = &inputs.etc_hosts {
        mounts.push(cri::Mount {
            container_path: "/etc/hosts".into(),
            host_path: hosts.to_string_lossy().into_owned(),
            ..Default::default()
        });
    }
    if let (Some(log), Some(path)) = (&inputs.termination_log, &c.termination_message_path) {
        mounts.push(cri::Mount {
            container_path: path.clone(),
            host_path: log.to_string_lossy().into_owned(),
            ..Default::default()
        });
    }
    let envs = c
        .env
        .iter()
        .map(|e| cri::KeyValue {
            key: e.name.clone(),
            value: e.value.clone().unwrap_or_default().into_bytes(),
        })
        .collect();
    Ok(cri::ContainerConfig {
        metadata: Some(cri::ContainerMetadata { name: c.name.clone(), attempt: inputs.restart_count }),
        image: Some(cri::ImageSpec { image: inputs.image_ref.into(), ..Default::default() }),
        command: c.command.clone(),
        args: c.args.clone(),
        working_dir: c.working_dir.clone().unwrap_or_default(),
        envs,
        mounts,
        labels,
        annotations,
        log_path: format!("{}/{}.log", c.name, inputs.restart_count),
        ..Default::default()
    })
}

/// FNV-1a of the container's JSON (the real one follows upstream's HashContainer).
pub fn container_hash(c: &Container) -> u64 {
    let json = serde_json::to_vec(c).unwrap_or_default();
    json.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerIdentity {
    pub pod_name: String,
    pub pod_namespace: String,
    pub pod_uid: String,
    pub container_name: String,
    pub hash: u64,
    pub restart_count: u32,
    pub termination_message_path: String,
    pub termination_message_policy: String,
    pub grace_period: Option<i64>,
}

pub fn read_container_identity(
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> Option<ContainerIdentity> {
    let label = |k: &str| labels.get(k).cloned();
    let ann = |k: &str| annotations.get(k).cloned().unwrap_or_default();
    Some(ContainerIdentity {
        pod_name: label(keys::POD_NAME)?,
        pod_namespace: label(keys::POD_NAMESPACE)?,
        pod_uid: label(keys::POD_UID)?,
        container_name: label(keys::CONTAINER_NAME)?,
        hash: u64::from_str_radix(&ann(keys::CONTAINER_HASH), 16).unwrap_or(0),
        restart_count: ann(keys::CONTAINER_RESTART_COUNT).parse().unwrap_or(0),
        termination_message_path: ann(keys::TERMINATION_MESSAGE_PATH),
        termination_message_policy: ann(keys::TERMINATION_MESSAGE_POLICY),
        grace_period: ann(keys::POD_TERMINATION_GRACE_PERIOD).parse().ok(),
    })
}

pub fn read_sandbox_identity(labels: &BTreeMap<String, String>) -> Option<(String, String, String)> {
    let label = |k: &str| labels.get(k).cloned();
    Some((label(keys::POD_NAME)?, label(keys::POD_NAMESPACE)?, label(keys::POD_UID)?))
}

pub fn pod_dir(node: &NodeContext, uid: &str) -> PathBuf {
    node.root_dir.join("pods").join(uid)
}

pub fn containers_dir(node: &NodeContext, uid: &str, name: &str) -> PathBuf {
    pod_dir(node, uid).join("containers").join(name)
}

pub fn etc_hosts_path(node: &NodeContext, uid: &str) -> PathBuf {
    pod_dir(node, uid).join("etc-hosts")
}

pub fn pod_log_dir(node: &NodeContext, namespace: &str, name: &str, uid: &str) -> PathBuf {
    node.pod_logs_dir.join(format!("{namespace}_{name}_{uid}"))
}

pub fn etc_hosts_content(pod: &Pod, pod_ips: &[String], hostname: &str, domain: &str) -> String {
    let _ = pod;
    let mut out = String::from("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n");
    for ip in pod_ips {
        if domain.is_empty() {
            out.push_str(&format!("{ip}\t{hostname}\n"));
        } else {
            out.push_str(&format!("{ip}\t{hostname}.{domain}\t{hostname}\n"));
        }
    }
    out
}

pub fn needs_managed_etc_hosts(pod: &Pod, container: &Container) -> bool {
    let _ = container;
    !pod.spec.host_network.unwrap_or(false)
}
