//! A container's environment (upstream's `makeEnvironmentVariables`).
//!
//! Sources, later ones overriding earlier ones of the same name:
//!
//! 1. service links ([`super::service_env`]): the `kubernetes` service always, the pod's
//!    namespace's services with `enableServiceLinks`;
//! 2. `envFrom`: every key of a ConfigMap or Secret, with the optional prefix (keys are not
//!    validated, as upstream since `RelaxedEnvironmentVariableValidation`);
//! 3. `env`: a `value` (with `$(VAR)` expanded against what is defined so far and the
//!    service links), or a `valueFrom`: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`,
//!    `secretKeyRef`. An `optional` reference to a missing object or key is skipped.
//!
//! The result lists service links first, then the rest in the order first defined (upstream's
//! order is Go map order). Values are bytes: Secret data need not be UTF-8.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use crate::api::core::{
    ConfigMap, Container, EnvFromSource, EnvVar, ObjectFieldSelector, Pod, Secret, Service,
};

use super::build_error::BuildErrorKind;
use super::expand::expand;
use super::node::NodeContext;
use super::resources::resource_field_value;
use super::service_env::service_env;

/// The API objects a container's environment may refer to.
pub trait EnvSources {
    /// `Ok(None)` when the ConfigMap does not exist; `Err` with the reason when it could not
    /// be read.
    fn config_map(&self, namespace: &str, name: &str) -> Result<Option<ConfigMap>, String>;
    fn secret(&self, namespace: &str, name: &str) -> Result<Option<Secret>, String>;
    /// The services of a namespace (for service links); empty without an API server.
    fn services(&self, namespace: &str) -> Vec<Service>;
    /// Whether there is an API server at all; without one every ConfigMap or Secret
    /// reference fails, even an optional one (as upstream without a kube client).
    fn has_api_client(&self) -> bool {
        true
    }
    /// Whether the Service list has been read once; API pods wait for it so they do not
    /// start without `KUBERNETES_SERVICE_HOST`.
    fn services_synced(&self) -> bool {
        true
    }
}

/// Standalone: no API objects.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEnvSources;

impl EnvSources for NoEnvSources {
    fn config_map(&self, _: &str, _: &str) -> Result<Option<ConfigMap>, String> {
        Ok(None)
    }
    fn secret(&self, _: &str, _: &str) -> Result<Option<Secret>, String> {
        Ok(None)
    }
    fn services(&self, _: &str) -> Vec<Service> {
        Vec::new()
    }
    fn has_api_client(&self) -> bool {
        false
    }
}

/// One environment variable as it goes to the runtime.
pub type EnvPair = (String, Vec<u8>);

/// Variables in first-defined order; redefining one replaces its value in place.
#[derive(Default)]
struct OrderedEnv {
    order: Vec<String>,
    values: HashMap<String, Vec<u8>>,
}

impl OrderedEnv {
    fn set(&mut self, name: String, value: Vec<u8>) {
        if !self.values.contains_key(&name) {
            self.order.push(name.clone());
        }
        self.values.insert(name, value);
    }

    fn get(&self, name: &str) -> Option<&[u8]> {
        self.values.get(name).map(Vec::as_slice)
    }

    fn into_pairs(mut self) -> impl Iterator<Item = EnvPair> {
        self.order.into_iter().map(move |name| {
            let value = self.values.remove(&name).unwrap_or_default();
            (name, value)
        })
    }
}

/// Fetched ConfigMaps and Secrets, so each is read once per container.
struct Lookups<'a> {
    sources: &'a dyn EnvSources,
    namespace: &'a str,
    config_maps: HashMap<String, Option<ConfigMap>>,
    secrets: HashMap<String, Option<Secret>>,
}

impl Lookups<'_> {
    fn config_map(&mut self, name: &str) -> Result<Option<&ConfigMap>, BuildErrorKind> {
        if !self.config_maps.contains_key(name) {
            if !self.sources.has_api_client() {
                let namespace = self.namespace.to_string();
                return Err(BuildErrorKind::NoApiClient {
                    kind: "configMap",
                    namespace,
                    name: name.to_string(),
                });
            }
            let found = self
                .sources
                .config_map(self.namespace, name)
                .map_err(|message| BuildErrorKind::Lookup { message })?;
            self.config_maps.insert(name.to_string(), found);
        }
        Ok(self.config_maps.get(name).and_then(Option::as_ref))
    }

    fn secret(&mut self, name: &str) -> Result<Option<&Secret>, BuildErrorKind> {
        if !self.secrets.contains_key(name) {
            if !self.sources.has_api_client() {
                let namespace = self.namespace.to_string();
                return Err(BuildErrorKind::NoApiClient {
                    kind: "secret",
                    namespace,
                    name: name.to_string(),
                });
            }
            let found = self
                .sources
                .secret(self.namespace, name)
                .map_err(|message| BuildErrorKind::Lookup { message })?;
            self.secrets.insert(name.to_string(), found);
        }
        Ok(self.secrets.get(name).and_then(Option::as_ref))
    }
}

/// The environment of container `c` of `pod`.
pub fn container_env(
    pod: &Pod,
    c: &Container,
    pod_ips: &[String],
    node: &NodeContext,
    sources: &dyn EnvSources,
) -> Result<Vec<EnvPair>, BuildErrorKind> {
    let namespace = pod.metadata.namespace();
    if !is_static(pod) && !sources.services_synced() {
        return Err(BuildErrorKind::ServicesNotSynced);
    }
    let links = pod.spec.enable_service_links.unwrap_or(true);
    let masters = sources.services("default");
    let own = match namespace {
        "default" => masters.clone(),
        ns if links => sources.services(ns),
        _ => Vec::new(),
    };
    let mut services = OrderedEnv::default();
    for (name, value) in service_env(&own, links, namespace, &masters) {
        services.set(name, value.into_bytes());
    }
    let mut b = Builder {
        pod,
        c,
        pod_ips,
        node,
        services,
        lookups: Lookups { sources, namespace, config_maps: HashMap::new(), secrets: HashMap::new() },
        env: OrderedEnv::default(),
    };
    for from in &c.env_from {
        b.add_env_from(from)?;
    }
    for var in &c.env {
        if let Some(value) = b.var_value(var)? {
            b.env.set(var.name.clone(), value);
        }
    }
    let Builder { services, env, .. } = b;
    let shadowed = |name: &String| env.values.contains_key(name);
    let mut out: Vec<EnvPair> = services.into_pairs().filter(|(k, _)| !shadowed(k)).collect();
    out.extend(env.into_pairs());
    Ok(out)
}

/// One container's environment under construction.
struct Builder<'a> {
    pod: &'a Pod,
    c: &'a Container,
    pod_ips: &'a [String],
    node: &'a NodeContext,
    services: OrderedEnv,
    lookups: Lookups<'a>,
    env: OrderedEnv,
}

impl Builder<'_> {
    fn add_env_from(&mut self, from: &EnvFromSource) -> Result<(), BuildErrorKind> {
        let prefix = from.prefix.as_deref().unwrap_or_default();
        if let Some(r) = &from.config_map_ref {
            let name = r.name.as_deref().unwrap_or_default();
            match self.lookups.config_map(name)? {
                Some(cm) => {
                    for (k, v) in &cm.data {
                        self.env.set(format!("{prefix}{k}"), v.clone().into_bytes());
                    }
                }
                None if r.optional == Some(true) => {}
                None => return Err(BuildErrorKind::ConfigMapNotFound { name: name.to_string() }),
            }
        } else if let Some(r) = &from.secret_ref {
            let name = r.name.as_deref().unwrap_or_default();
            match self.lookups.secret(name)? {
                Some(s) => {
                    for (k, v) in &s.data {
                        self.env.set(format!("{prefix}{k}"), v.0.clone());
                    }
                }
                None if r.optional == Some(true) => {}
                None => return Err(BuildErrorKind::SecretNotFound { name: name.to_string() }),
            }
        }
        Ok(())
    }

    /// The value of one `env` entry; `None` to skip it (an optional reference that is missing).
    fn var_value(&mut self, var: &EnvVar) -> Result<Option<Vec<u8>>, BuildErrorKind> {
        if let Some(value) = var.value.as_deref().filter(|v| !v.is_empty()) {
            let (env, services) = (&self.env, &self.services);
            let lookup = |name: &str| env.get(name).or_else(|| services.get(name));
            return Ok(Some(expand(value, lookup)));
        }
        let Some(from) = &var.value_from else { return Ok(Some(Vec::new())) };
        if let Some(field) = &from.field_ref {
            return field_ref_value(field, self.pod, self.pod_ips, self.node).map(|v| Some(v.into_bytes()));
        }
        if let Some(resource) = &from.resource_field_ref {
            return resource_field_value(resource, self.pod, self.c, self.node).map(|v| Some(v.into_bytes()));
        }
        let namespace = self.lookups.namespace.to_string();
        if let Some(r) = &from.config_map_key_ref {
            let optional = r.optional == Some(true);
            let name = r.name.as_deref().unwrap_or_default();
            let Some(cm) = self.lookups.config_map(name)? else {
                return if optional {
                    Ok(None)
                } else {
                    Err(BuildErrorKind::ConfigMapNotFound { name: name.to_string() })
                };
            };
            return match cm.data.get(&r.key) {
                Some(v) => Ok(Some(v.clone().into_bytes())),
                None if optional => Ok(None),
                None => Err(BuildErrorKind::ConfigMapKeyNotFound {
                    key: r.key.clone(),
                    namespace,
                    name: name.to_string(),
                }),
            };
        }
        if let Some(r) = &from.secret_key_ref {
            let optional = r.optional == Some(true);
            let name = r.name.as_deref().unwrap_or_default();
            let Some(secret) = self.lookups.secret(name)? else {
                return if optional {
                    Ok(None)
                } else {
                    Err(BuildErrorKind::SecretNotFound { name: name.to_string() })
                };
            };
            return match secret.data.get(&r.key) {
                Some(v) => Ok(Some(v.0.clone())),
                None if optional => Ok(None),
                None => Err(BuildErrorKind::SecretKeyNotFound {
                    key: r.key.clone(),
                    namespace,
                    name: name.to_string(),
                }),
            };
        }
        if let Some(r) = &from.file_key_ref {
            // Needs the volume manager's mounted volumes.
            return Err(BuildErrorKind::FileKeyRefVolume { volume: r.volume_name.clone() });
        }
        Ok(Some(Vec::new()))
    }
}

/// A pod from a file or URL (not the API server).
fn is_static(pod: &Pod) -> bool {
    pod.metadata.annotation("kubernetes.io/config.source").is_some_and(|s| s != "api")
}

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

#[cfg(test)]
#[path = "env_tests.rs"]
mod tests;
