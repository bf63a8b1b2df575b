//! The downward API: pod fields and container resources as values (for `env` entries with
//! `fieldRef`/`resourceFieldRef`, and for downwardAPI volumes).
//!
//! Fields: `metadata.name`, `.namespace`, `.uid`, `.labels`, `.annotations` (all as sorted
//! `key="value"` lines, or one with `['key']`), `spec.nodeName`, `spec.serviceAccountName`,
//! `status.hostIP(s)`, `status.podIP(s)` (the node's IP family first). Resources:
//! `requests.`/`limits.` `cpu`, `memory`, `ephemeral-storage`, `hugepages-*`, divided by the
//! divisor and rounded up; a container without a limit reports the pod-level limit or the
//! node's allocatable.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::api::core::{Container, ObjectFieldSelector, Pod, ResourceFieldSelector};
use crate::api::helpers::{CPU, EPHEMERAL_STORAGE, HUGEPAGES_PREFIX, MEMORY};
use crate::api::quantity::Quantity;

use super::build_error::BuildErrorKind;
use super::node::NodeContext;
use super::resources::{milli, value};

/// The downward API value of a `fieldRef` (env vars, downwardAPI volumes).
pub fn field_ref_value(
    sel: &ObjectFieldSelector,
    pod: &Pod,
    pod_ips: &[String],
    node: &NodeContext,
) -> Result<String, BuildErrorKind> {
    let version = sel.api_version.as_deref().filter(|v| !v.is_empty()).unwrap_or("v1");
    if version != "v1" {
        return Err(BuildErrorKind::UnsupportedPodVersion { version: version.to_string() });
    }
    let path = sel.field_path.as_str();
    let meta = &pod.metadata;
    if let Some((base, key)) = split_subscript(path) {
        let (map, key_ok) = match base {
            "metadata.annotations" => (&meta.annotations, is_qualified_name(&key.to_lowercase())),
            "metadata.labels" => (&meta.labels, is_qualified_name(key)),
            _ => return Err(BuildErrorKind::FieldLabelNoSubscript { label: path.to_string() }),
        };
        if !key_ok {
            let reason = "a qualified name must be an optional DNS subdomain prefix and '/', then 1-63 \
                          alphanumeric characters, '-', '_' or '.', starting and ending alphanumeric"
                .to_string();
            return Err(BuildErrorKind::InvalidKeySubscript { path: path.to_string(), reason });
        }
        return Ok(map.get(key).cloned().unwrap_or_default());
    }
    let ips = sort_pod_ips(pod_ips, node);
    let host_ip = || node.host_ips.first().cloned().ok_or(BuildErrorKind::NoHostIp);
    Ok(match path {
        "metadata.name" => meta.name().to_string(),
        "metadata.namespace" => meta.namespace().to_string(),
        "metadata.uid" => meta.uid().to_string(),
        "metadata.labels" => format_map(&meta.labels),
        "metadata.annotations" => format_map(&meta.annotations),
        "spec.nodeName" | "spec.host" => pod.spec.node_name.clone().unwrap_or_default(),
        "spec.serviceAccountName" => pod.spec.service_account_name.clone().unwrap_or_default(),
        "status.hostIP" => host_ip()?,
        "status.hostIPs" => {
            host_ip()?;
            node.host_ips.join(",")
        }
        "status.podIP" => ips.first().cloned().unwrap_or_default(),
        "status.podIPs" => ips.join(","),
        "spec.restartPolicy" | "spec.schedulerName" | "status.phase" => {
            return Err(BuildErrorKind::UnsupportedFieldPath { path: path.to_string() });
        }
        _ => return Err(BuildErrorKind::FieldLabelNotSupported { label: path.to_string() }),
    })
}

/// `metadata.labels['key']` → `("metadata.labels", "key")`.
fn split_subscript(path: &str) -> Option<(&str, &str)> {
    let inner = path.strip_suffix("']")?;
    let (base, key) = inner.split_once("['")?;
    (!base.is_empty()).then_some((base, key))
}

/// A label or annotation key: `[prefix/]name`.
fn is_qualified_name(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name.as_bytes().first().is_some_and(u8::is_ascii_alphanumeric)
        && name.as_bytes().last().is_some_and(u8::is_ascii_alphanumeric);
    let prefix_ok = prefix.is_none_or(|p| super::hosts::dns1123_subdomain_errors(p).is_empty());
    name_ok && prefix_ok && !name.contains('/')
}

/// `key="value"` lines sorted by key, values quoted as Go's `strconv.Quote`.
fn format_map(map: &BTreeMap<String, String>) -> String {
    map.iter().map(|(k, v)| format!("{k}={}", go_quote(v))).collect::<Vec<_>>().join("\n")
}

fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The pod IPs in the node's family order: one of the node's primary family first, then one
/// of the other family (upstream's `sortPodIPs`).
fn sort_pod_ips(pod_ips: &[String], node: &NodeContext) -> Vec<String> {
    let parsed: Vec<IpAddr> = pod_ips.iter().filter_map(|ip| ip.trim().parse().ok()).collect();
    let v6_first = matches!(node.host_ips.first().and_then(|ip| ip.parse().ok()), Some(IpAddr::V6(_)));
    let first = parsed.iter().find(|ip| ip.is_ipv6() == v6_first);
    let second = parsed.iter().find(|ip| ip.is_ipv6() != v6_first);
    first.into_iter().chain(second).map(IpAddr::to_string).collect()
}

/// The downward API value of a `resourceFieldRef` (env vars, downwardAPI volumes): the
/// container's request or limit divided by the divisor, rounded up; a missing limit is the
/// node's allocatable (or the pod-level limit).
pub fn resource_field_value(
    sel: &ResourceFieldSelector,
    pod: &Pod,
    c: &Container,
    node: &NodeContext,
) -> Result<String, BuildErrorKind> {
    // Upstream defaults missing limits on the requesting container and the app containers,
    // not on other init containers.
    let (target, defaulted) = match sel.container_name.as_deref().filter(|n| !n.is_empty()) {
        None => (c, true),
        Some(name) => match pod.spec.containers.iter().find(|x| x.name == name) {
            Some(app) => (app, true),
            None => match pod.spec.init_containers.iter().find(|x| x.name == name) {
                Some(init) => (init, false),
                None => return Err(BuildErrorKind::ContainerNotFound { name: name.to_string() }),
            },
        },
    };
    let divisor = sel.divisor.as_ref().filter(|d| !d.is_zero());
    let (field, name) = sel.resource.split_once('.').unwrap_or((sel.resource.as_str(), ""));
    let own = target.resource_requirements();
    let quantity = match field {
        "requests" => own.request(name).cloned(),
        "limits" => own
            .limit(name)
            .filter(|q| !q.is_zero())
            .cloned()
            .or_else(|| if defaulted { default_limit(pod, name, node) } else { None }),
        _ => None,
    };
    let supported = matches!(name, CPU | MEMORY | EPHEMERAL_STORAGE) || name.starts_with(HUGEPAGES_PREFIX);
    if !supported || !matches!(field, "requests" | "limits") {
        return Err(BuildErrorKind::UnsupportedContainerResource { resource: sel.resource.clone() });
    }
    let quantity = quantity.unwrap_or_default();
    let (amount, per) = if name == CPU {
        (milli(Some(&quantity)), divisor.map_or(1000, |d| milli(Some(d))))
    } else {
        (value(Some(&quantity)), divisor.map_or(1, |d| value(Some(d))))
    };
    let per = i128::from(per.max(1));
    let amount = i128::from(amount);
    Ok((amount / per + i128::from(amount % per > 0)).to_string())
}

/// The limit a container without one is reported to have: the pod-level limit, else the
/// node's allocatable.
fn default_limit(pod: &Pod, name: &str, node: &NodeContext) -> Option<Quantity> {
    let allocatable = match name {
        CPU => node.allocatable_cpu_milli.map(Quantity::from_milli),
        MEMORY => node.allocatable_memory.map(Quantity::from_bytes),
        EPHEMERAL_STORAGE => node.allocatable_ephemeral_storage.map(Quantity::from_bytes),
        _ => None,
    }?;
    let pod_limit = pod.spec.resources.as_ref().and_then(|r| r.limit(name)).filter(|q| !q.is_zero());
    match pod_limit {
        Some(q) if name != EPHEMERAL_STORAGE => Some(q.clone()),
        _ => Some(allocatable),
    }
}

#[cfg(test)]
#[path = "downward_tests.rs"]
mod tests;
