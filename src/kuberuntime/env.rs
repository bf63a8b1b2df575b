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

use crate::api::core::{ConfigMap, Container, EnvFromSource, EnvVar, Pod, Secret, Service};

use super::build_error::BuildErrorKind;
use super::downward::{field_ref_value, resource_field_value};
use super::expand::expand;
use super::node::NodeContext;
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

/// The two kinds of object an environment can draw keys from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Source {
    ConfigMap,
    Secret,
}

impl Source {
    fn not_found(self, name: &str) -> BuildErrorKind {
        let name = name.to_string();
        match self {
            Source::ConfigMap => BuildErrorKind::ConfigMapNotFound { name },
            Source::Secret => BuildErrorKind::SecretNotFound { name },
        }
    }

    fn key_not_found(self, key: &str, namespace: &str, name: &str) -> BuildErrorKind {
        let (key, namespace, name) = (key.to_string(), namespace.to_string(), name.to_string());
        match self {
            Source::ConfigMap => BuildErrorKind::ConfigMapKeyNotFound { key, namespace, name },
            Source::Secret => BuildErrorKind::SecretKeyNotFound { key, namespace, name },
        }
    }
}

/// The data of a ConfigMap (`data`) or Secret (`data`, decoded) by key.
type Data = BTreeMap<String, Vec<u8>>;

/// Fetched ConfigMaps and Secrets, so each is read once per container.
struct Lookups<'a> {
    sources: &'a dyn EnvSources,
    namespace: &'a str,
    cache: HashMap<(Source, String), Option<Data>>,
}

impl Lookups<'_> {
    /// The object's data; `None` when it does not exist.
    fn data(&mut self, source: Source, name: &str) -> Result<Option<&Data>, BuildErrorKind> {
        let key = (source, name.to_string());
        if !self.cache.contains_key(&key) {
            if !self.sources.has_api_client() {
                let kind = if source == Source::ConfigMap { "configMap" } else { "secret" };
                let (namespace, name) = (self.namespace.to_string(), name.to_string());
                return Err(BuildErrorKind::NoApiClient { kind, namespace, name });
            }
            let lookup_error = |message| BuildErrorKind::Lookup { message };
            let data = match source {
                Source::ConfigMap => self
                    .sources
                    .config_map(self.namespace, name)
                    .map_err(lookup_error)?
                    .map(|cm| cm.data.into_iter().map(|(k, v)| (k, v.into_bytes())).collect()),
                Source::Secret => self
                    .sources
                    .secret(self.namespace, name)
                    .map_err(lookup_error)?
                    .map(|s| s.data.into_iter().map(|(k, v)| (k, v.0)).collect()),
            };
            self.cache.insert(key.clone(), data);
        }
        Ok(self.cache.get(&key).and_then(Option::as_ref))
    }

    /// One key of an object; `None` to skip it (optional and missing).
    fn key(
        &mut self,
        source: Source,
        name: &str,
        key: &str,
        optional: bool,
    ) -> Result<Option<Vec<u8>>, BuildErrorKind> {
        let namespace = self.namespace;
        match self.data(source, name)? {
            None if optional => Ok(None),
            None => Err(source.not_found(name)),
            Some(data) => match data.get(key) {
                Some(value) => Ok(Some(value.clone())),
                None if optional => Ok(None),
                None => Err(source.key_not_found(key, namespace, name)),
            },
        }
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
        lookups: Lookups { sources, namespace, cache: HashMap::new() },
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
        let (source, name, optional) = match (&from.config_map_ref, &from.secret_ref) {
            (Some(r), _) => (Source::ConfigMap, &r.name, r.optional),
            (None, Some(r)) => (Source::Secret, &r.name, r.optional),
            (None, None) => return Ok(()),
        };
        let name = name.as_deref().unwrap_or_default();
        let prefix = from.prefix.as_deref().unwrap_or_default();
        match self.lookups.data(source, name)? {
            Some(data) => {
                for (k, v) in data {
                    self.env.set(format!("{prefix}{k}"), v.clone());
                }
                Ok(())
            }
            None if optional == Some(true) => Ok(()),
            None => Err(source.not_found(name)),
        }
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
        if let Some(r) = &from.config_map_key_ref {
            let name = r.name.as_deref().unwrap_or_default();
            return self.lookups.key(Source::ConfigMap, name, &r.key, r.optional == Some(true));
        }
        if let Some(r) = &from.secret_key_ref {
            let name = r.name.as_deref().unwrap_or_default();
            return self.lookups.key(Source::Secret, name, &r.key, r.optional == Some(true));
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

#[cfg(test)]
#[path = "env_tests.rs"]
mod tests;
