//! A pod's sandbox config (upstream's `generatePodSandboxConfig`).
//!
//! ```text
//! metadata        name, namespace, uid, attempt
//! labels          pod labels + identity          annotations   pod annotations
//! hostname        pod network only: hostname, or the FQDN with setHostnameAsFQDN
//! log_directory   <podLogsDir>/<ns>_<name>_<uid>
//! dns_config      see dns.rs
//! port_mappings   every container port (the runtime maps those with a hostPort)
//! linux           cgroup_parent (cgroup.rs), sysctls, security_context (security.rs),
//!                 resources (pod totals) and overhead (resources.rs)
//! ```

use std::collections::HashSet;

use crate::api::core::Pod;
use crate::cri::{LinuxPodSandboxConfig, PodSandboxConfig, PodSandboxMetadata, PortMapping, Protocol};

use super::build_error::{BuildError, BuildErrorKind};
use super::cgroup::pod_cgroup_parent;
use super::dns::pod_dns_config;
use super::hosts::{kernel_hostname, pod_hostname_and_domain};
use super::labels::{sandbox_annotations, sandbox_labels};
use super::node::NodeContext;
use super::paths::pod_log_dir;
use super::resources::{overhead_resources, sandbox_resources};
use super::security::sandbox_security_context;

/// The config to run `pod`'s sandbox with; `attempt` counts the sandboxes made for the pod.
/// DNS warnings (upstream's `DNSConfigForming` events) are logged.
pub fn sandbox_config(pod: &Pod, attempt: u32, node: &NodeContext) -> Result<PodSandboxConfig, BuildError> {
    build(pod, attempt, node).map_err(|kind| BuildError::new(pod, None, kind))
}

fn build(pod: &Pod, attempt: u32, node: &NodeContext) -> Result<PodSandboxConfig, BuildErrorKind> {
    let meta = &pod.metadata;
    let dns = pod_dns_config(pod, node)?;
    for warning in &dns.warnings {
        log::debug!("pod {}/{}: {warning}", meta.namespace(), meta.name());
    }
    let hostname = if pod.spec.host_network == Some(true) {
        String::new()
    } else {
        let (hostname, domain) = pod_hostname_and_domain(pod, &node.cluster_domain)?;
        kernel_hostname(pod, &hostname, domain.as_deref())?
    };
    let sysctls = pod
        .spec
        .security_context
        .iter()
        .flat_map(|sc| &sc.sysctls)
        .map(|s| (s.name.clone(), s.value.clone()))
        .collect();
    let linux = LinuxPodSandboxConfig {
        cgroup_parent: pod_cgroup_parent(pod, node),
        security_context: Some(sandbox_security_context(pod)?),
        sysctls,
        overhead: Some(overhead_resources(pod, node)),
        resources: Some(sandbox_resources(pod, node)),
    };
    Ok(PodSandboxConfig {
        metadata: Some(PodSandboxMetadata {
            name: meta.name().to_string(),
            uid: meta.uid().to_string(),
            namespace: meta.namespace().to_string(),
            attempt,
        }),
        hostname,
        log_directory: pod_log_dir(node, meta.namespace(), meta.name(), meta.uid())
            .to_string_lossy()
            .into_owned(),
        dns_config: Some(dns.config),
        port_mappings: port_mappings(pod),
        labels: sandbox_labels(pod),
        annotations: sandbox_annotations(pod),
        linux: Some(linux),
    })
}

/// Every port of the app containers, as upstream's `MakePortMappings`: a port repeated under
/// the same name (or, unnamed, the same family, protocol, host IP and ports) in one
/// container is taken once.
pub fn port_mappings(pod: &Pod) -> Vec<PortMapping> {
    let mut mappings = Vec::new();
    for c in &pod.spec.containers {
        let mut seen = HashSet::new();
        for p in &c.ports {
            let host_ip = p.host_ip.clone().unwrap_or_default();
            let protocol = p.protocol.as_deref().unwrap_or_default();
            let host_port = p.host_port.unwrap_or(0);
            let key = match p.name.as_deref().filter(|n| !n.is_empty()) {
                Some(name) => name.to_string(),
                None => {
                    let family = match host_ip.as_str() {
                        "" => "any",
                        ip if ip.contains(':') => "v6",
                        _ => "v4",
                    };
                    format!("{family}-{protocol}-{host_ip}:{}:{host_port}", p.container_port)
                }
            };
            if !seen.insert(key) {
                log::info!(
                    "port name conflicted, it is defined more than once: container {} port {}",
                    c.name,
                    p.container_port
                );
                continue;
            }
            mappings.push(PortMapping {
                protocol: match protocol {
                    "UDP" => Protocol::UDP,
                    "SCTP" => Protocol::SCTP,
                    _ => Protocol::TCP,
                },
                container_port: p.container_port,
                host_port,
                host_ip,
            });
        }
    }
    mappings
}

#[cfg(test)]
#[path = "sandbox_tests.rs"]
mod tests;
