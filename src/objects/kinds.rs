//! The two kinds the managers cache, and what each needs to know about its kind: REST
//! resource, which names a pod references, immutability.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::DeserializeOwned;

use super::refs;
use crate::api::core::{ConfigMap, Pod, Secret};
use crate::kubeclient::KubeObject;

/// ConfigMap or Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    ConfigMap,
    Secret,
}

impl ObjectKind {
    /// The REST resource (`configmaps`, `secrets`).
    pub fn resource(self) -> &'static str {
        match self {
            ObjectKind::ConfigMap => "configmaps",
            ObjectKind::Secret => "secrets",
        }
    }

    /// The manager thread's name.
    pub(crate) fn thread_name(self) -> &'static str {
        match self {
            ObjectKind::ConfigMap => "rk-configmaps",
            ObjectKind::Secret => "rk-secrets",
        }
    }

    /// Prefix of the per-object reflector names (thread names are cut at 15 bytes).
    pub(crate) fn short(self) -> &'static str {
        match self {
            ObjectKind::ConfigMap => "cm",
            ObjectKind::Secret => "sec",
        }
    }
}

impl fmt::Display for ObjectKind {
    /// As upstream's group-resource in messages: `configmap`, `secret`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::ConfigMap => "configmap",
            ObjectKind::Secret => "secret",
        })
    }
}

/// A kind the managers can cache.
pub trait CachedObject: KubeObject + DeserializeOwned + Clone + Send + 'static {
    const KIND: ObjectKind;
    /// `immutable: true`: it can never change, so nothing needs to watch it once read.
    fn is_immutable(&self) -> bool;
    /// The names of the objects of this kind `pod` references (in its own namespace).
    fn referenced_names(pod: &Pod) -> BTreeSet<String>;
}

impl CachedObject for ConfigMap {
    const KIND: ObjectKind = ObjectKind::ConfigMap;
    fn is_immutable(&self) -> bool {
        self.immutable == Some(true)
    }
    fn referenced_names(pod: &Pod) -> BTreeSet<String> {
        refs::config_map_names(pod)
    }
}

impl CachedObject for Secret {
    const KIND: ObjectKind = ObjectKind::Secret;
    fn is_immutable(&self) -> bool {
        self.immutable == Some(true)
    }
    fn referenced_names(pod: &Pod) -> BTreeSet<String> {
        refs::secret_names(pod)
    }
}

