//! What configMap, secret, downwardAPI and projected volumes contain: the files to hand to
//! the atomic writer (upstream's `MakePayload` and `CollectData`).
//!
//! - Without `items`, every key becomes a file named after it with `defaultMode`; with
//!   `items`, only the listed keys, at their `path`, with their `mode` or `defaultMode`.
//! - A missing object is an error unless `optional` (then it counts as empty); a listed key
//!   that is missing is an error unless `optional` (then it is skipped).
//! - Owners: the `defaultUser`/`user` fields belong to the `AtomicWriteVolumeUserFields`
//!   gate (alpha, off), so only service-account tokens get one: the pod's single `runAsUser`.

use std::collections::BTreeMap;

use crate::api::core::{ConfigMap, DownwardAPIVolumeFile, KeyToPath, Pod, Secret, ServiceAccountTokenProjection};
use crate::kuberuntime::{EnvSources, NodeContext, downward};
use crate::volume::atomic::{FileProjection, Payload};

/// The message for a configMap or secret volume on a node without an API server.
pub const STANDALONE: &str = "not supported due to running kubelet in standalone mode";

/// Keys and values of a ConfigMap or Secret, the way payloads read them.
pub struct KeyData<'a>(BTreeMap<&'a str, &'a [u8]>);

impl<'a> KeyData<'a> {
    pub fn of_config_map(cm: &'a ConfigMap) -> KeyData<'a> {
        let text = cm.data.iter().map(|(k, v)| (k.as_str(), v.as_bytes()));
        KeyData(text.chain(cm.binary_data.iter().map(|(k, v)| (k.as_str(), v.as_bytes()))).collect())
    }

    pub fn of_secret(s: &'a Secret) -> KeyData<'a> {
        KeyData(s.data.iter().map(|(k, v)| (k.as_str(), v.as_bytes())).collect())
    }
}

/// Which kind of object a payload reads, for upstream's error words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyed {
    ConfigMap,
    Secret,
}

/// The files of a configMap or secret source.
pub fn keyed_payload(
    kind: Keyed,
    items: &[KeyToPath],
    data: &KeyData,
    default_mode: i32,
    optional: bool,
) -> Result<Payload, String> {
    let file = |bytes: &[u8], mode: i32| FileProjection { data: bytes.to_vec(), mode: mode_bits(mode), fs_user: None };
    if items.is_empty() {
        return Ok(data.0.iter().map(|(k, v)| (k.to_string(), file(v, default_mode))).collect());
    }
    let mut payload = Payload::new();
    for item in items {
        match data.0.get(item.key.as_str()) {
            Some(v) => {
                payload.insert(item.path.clone(), file(v, item.mode.unwrap_or(default_mode)));
            }
            None if optional => {}
            None => {
                return Err(match kind {
                    Keyed::ConfigMap => format!("configmap references non-existent config key: {}", item.key),
                    Keyed::Secret => format!("references non-existent secret key: {}", item.key),
                });
            }
        }
    }
    Ok(payload)
}

/// API modes are `int32`s; only the permission bits mean anything on a file.
pub fn mode_bits(mode: i32) -> u32 {
    u32::try_from(mode).unwrap_or(0) & 0o777
}

/// The ConfigMap a volume reads; `Ok(None)` when it is missing and `optional`.
pub fn read_config_map(objects: &dyn EnvSources, ns: &str, name: &str, optional: bool) -> Result<ConfigMap, String> {
    if !objects.has_api_client() {
        return Err(STANDALONE.into());
    }
    match objects.config_map(ns, name)? {
        Some(cm) => Ok(cm),
        None if optional => Ok(ConfigMap::default()),
        None => Err(format!("configmap {name:?} not found")),
    }
}

/// The Secret a volume reads; empty when it is missing and `optional`.
pub fn read_secret(objects: &dyn EnvSources, ns: &str, name: &str, optional: bool) -> Result<Secret, String> {
    if !objects.has_api_client() {
        return Err(STANDALONE.into());
    }
    match objects.secret(ns, name)? {
        Some(s) => Ok(s),
        None if optional => Ok(Secret::default()),
        None => Err(format!("secret {name:?} not found")),
    }
}

/// The files of a downwardAPI source; every item's error is collected, as upstream does.
pub fn downward_payload(
    items: &[DownwardAPIVolumeFile],
    pod: &Pod,
    node: &NodeContext,
    default_mode: i32,
) -> Result<Payload, String> {
    let mut errors = Vec::new();
    let mut payload = Payload::new();
    for item in items {
        let mut data = Vec::new();
        if let Some(sel) = &item.field_ref {
            match field_value(&sel.field_path, pod, node) {
                Ok(v) => data = v.into_bytes(),
                Err(e) => errors.push(e),
            }
        } else if let Some(sel) = &item.resource_field_ref {
            let name = sel.container_name.as_deref().unwrap_or_default();
            let found = pod.spec.containers.iter().chain(&pod.spec.init_containers).find(|c| c.name == name);
            match found {
                None => errors.push(format!("container {name} not found")),
                Some(c) => match downward::resource_field_value(sel, pod, c, node) {
                    Ok(v) => data = v.into_bytes(),
                    Err(e) => errors.push(e.to_string()),
                },
            }
        }
        let path: Vec<&str> = item.path.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
        let file = FileProjection { data, mode: mode_bits(item.mode.unwrap_or(default_mode)), fs_user: None };
        payload.insert(path.join("/"), file);
    }
    aggregate(errors).map(|()| payload)
}

/// The pod fields a downwardAPI volume may show (upstream's `ExtractFieldPathAsString`):
/// metadata only; status and spec fields are for env vars.
fn field_value(path: &str, pod: &Pod, node: &NodeContext) -> Result<String, String> {
    let base = path.split_once("['").map_or(path, |(b, _)| b);
    let supported = matches!(
        base,
        "metadata.annotations" | "metadata.labels" | "metadata.name" | "metadata.namespace" | "metadata.uid"
    );
    if !supported {
        if path.ends_with("']") && !base.is_empty() {
            return Err(format!("fieldPath {path:?} does not support subscript"));
        }
        return Err(format!("unsupported fieldPath: {path}"));
    }
    let sel = crate::api::core::ObjectFieldSelector { field_path: path.to_string(), ..Default::default() };
    downward::field_ref_value(&sel, pod, &[], node).map_err(|e| e.to_string())
}

/// Upstream's error aggregate: one error as itself, several as `[a, b]`.
pub fn aggregate(errors: Vec<String>) -> Result<(), String> {
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.into_iter().next().unwrap_or_default()),
        _ => Err(format!("[{}]", errors.join(", "))),
    }
}

/// What a projected volume's token sources need from the token manager.
pub trait TokenFetch {
    /// The token for this source of this pod (cached or freshly requested).
    fn token(&mut self, pod: &Pod, source: &ServiceAccountTokenProjection) -> Result<String, String>;
}

/// Everything a projected volume needs besides the pod.
pub struct ProjectedInputs<'a> {
    pub objects: &'a dyn EnvSources,
    pub node: &'a NodeContext,
    pub tokens: &'a mut dyn TokenFetch,
    /// The pod's single `runAsUser` (upstream's `FsUserFrom`): owner of token files.
    pub fs_user: Option<u32>,
    pub fs_group: Option<i64>,
}

/// The files of a projected volume: each source in turn, later ones overwriting earlier
/// paths; every source's error is collected.
pub fn projected_payload(
    volume: &str,
    source: &crate::api::core::ProjectedVolumeSource,
    pod: &Pod,
    inputs: ProjectedInputs,
) -> Result<Payload, String> {
    let default_mode = source.default_mode.unwrap_or(crate::source::defaults::VOLUME_DEFAULT_MODE);
    if !inputs.objects.has_api_client() {
        return Err(format!("cannot setup projected volume {volume} because kube client is not configured"));
    }
    let ns = pod.metadata.namespace();
    let mut errors = Vec::new();
    let mut payload = Payload::new();
    for p in &source.sources {
        let part = if let Some(s) = &p.secret {
            let optional = s.optional == Some(true);
            let name = s.name.as_deref().unwrap_or_default();
            read_secret(inputs.objects, ns, name, optional)
                .and_then(|secret| keyed_payload(Keyed::Secret, &s.items, &KeyData::of_secret(&secret), default_mode, optional))
        } else if let Some(c) = &p.config_map {
            let optional = c.optional == Some(true);
            let name = c.name.as_deref().unwrap_or_default();
            read_config_map(inputs.objects, ns, name, optional).and_then(|cm| {
                keyed_payload(Keyed::ConfigMap, &c.items, &KeyData::of_config_map(&cm), default_mode, optional)
            })
        } else if let Some(d) = &p.downward_api {
            downward_payload(&d.items, pod, inputs.node, default_mode)
        } else if let Some(t) = &p.service_account_token {
            // With an owner or fsGroup the token starts at 0600 (fsGroup then adds 0040).
            let owned = inputs.fs_user.is_some() || inputs.fs_group.is_some();
            let mode = if owned { 0o600 } else { mode_bits(default_mode) };
            inputs.tokens.token(pod, t).map(|token| {
                let file = FileProjection { data: token.into_bytes(), mode, fs_user: inputs.fs_user };
                Payload::from([(t.path.clone(), file)])
            })
        } else if p.cluster_trust_bundle.is_some() {
            Err("clusterTrustBundle projections are not supported by rkubelet".to_string())
        } else if p.pod_certificate.is_some() {
            Err("podCertificate projections are not supported by rkubelet".to_string())
        } else {
            Ok(Payload::new())
        };
        match part {
            Ok(files) => payload.extend(files),
            Err(e) => errors.push(e),
        }
    }
    aggregate(errors).map(|()| payload)
}

#[cfg(test)]
#[path = "payload_tests.rs"]
mod tests;
