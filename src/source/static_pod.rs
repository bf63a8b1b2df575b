//! Static pods: manifests decoded into pods with the identity upstream's `applyDefaults`
//! (`pkg/kubelet/config/common.go`) gives them.
//!
//! From a decoded manifest:
//! 1. `metadata.name` is required; the API server's defaults are applied ([`defaults`]);
//! 2. the UID, unless the manifest sets one, is derived ([`derive_uid`]) from the canonical
//!    JSON of the defaulted pod, the node name, the source and its location (file path or
//!    URL): stable across restarts, changed by any edit, different per node and per source;
//! 3. the name gets `-<nodename>` (lowercased), the namespace defaults to `default`,
//!    `spec.nodeName` is the node, the annotations `kubernetes.io/config.hash` (= UID),
//!    `config.source` and `config.seen` are set, file pods tolerate every `NoExecute` taint,
//!    and the phase is `Pending`;
//! 4. the pod is validated ([`validate`](super::validate)) and may not reference API objects.
//!
//! Upstream hashes its Go object dump (FNV-128), which cannot be reproduced; ours is the
//! first 16 bytes of a SHA-256, shown as 32 lowercase hex digits as upstream's UIDs are.
#![forbid(unsafe_code)]

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use ring::digest;

use super::validate::{FieldError, api_reference, validate_pod};
use super::{
    CONFIG_HASH_ANNOTATION, CONFIG_SEEN_ANNOTATION, CONFIG_SOURCE_ANNOTATION, Source, defaults,
};
use crate::api::core::{Pod, Toleration};
use crate::api::{DecodeError, List, Time, decode};

/// Manifests (and HTTP bodies) larger than this are refused, as upstream (10 MiB).
pub const MAX_MANIFEST_BYTES: usize = 10 << 20;

/// Where a static pod comes from; all of it goes into the UID.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub source: Source,
    /// The manifest's file path, or the URL.
    pub location: &'a str,
    pub node_name: &'a str,
}

impl Origin<'_> {
    /// How errors name the input: `static pod manifest /etc/kubernetes/manifests/web.yaml`.
    pub fn what(&self) -> String {
        match self.source {
            Source::File => format!("static pod manifest {}", self.location),
            Source::Http => format!("static pod URL {}", self.location),
            Source::Api => format!("pod from {}", self.location),
        }
    }
}

/// Why a manifest yields no pod. Every variant names the input.
#[derive(Debug, Clone, PartialEq)]
pub enum ManifestError {
    /// Not JSON/YAML, or the wrong shape for a Pod.
    Decode(DecodeError),
    /// Not a `v1` `Pod` (or, from a URL, a `v1` `PodList`/`List`).
    Kind {
        what: String,
        api_version: Option<String>,
        kind: Option<String>,
    },
    /// Fails validation.
    Invalid {
        what: String,
        errors: Vec<FieldError>,
    },
    /// Refers to API objects (secrets, configmaps, service accounts, ...).
    ApiReference {
        what: String,
        resource: &'static str,
    },
    /// The pod could not be written as JSON to derive its UID.
    Encode { what: String, message: String },
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Option<String>| {
            v.as_deref()
                .map_or("(none)".to_string(), |v| format!("{v:?}"))
        };
        match self {
            Self::Decode(e) => e.fmt(f),
            Self::Kind {
                what,
                api_version,
                kind,
            } => write!(
                f,
                "{what}: expected apiVersion \"v1\" and kind \"Pod\", found apiVersion {} and kind {}",
                shown(api_version),
                shown(kind)
            ),
            Self::Invalid { what, errors } => {
                let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
                write!(f, "{what}: invalid pod: {}", list.join("; "))
            }
            Self::ApiReference { what, resource } => {
                write!(f, "{what}: static pods may not reference {resource}")
            }
            Self::Encode { what, message } => write!(f, "{what}: cannot encode pod: {message}"),
        }
    }
}

impl std::error::Error for ManifestError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Decode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DecodeError> for ManifestError {
    fn from(e: DecodeError) -> Self {
        ManifestError::Decode(e)
    }
}

/// Decodes one Pod manifest (a file of `staticPodPath`) into a static pod.
pub fn pod_from_manifest(
    bytes: &[u8],
    origin: &Origin,
    seen: SystemTime,
) -> Result<Pod, ManifestError> {
    let pod: Pod = decode(bytes, &origin.what())?;
    if !is_v1(&pod, "Pod") {
        return Err(kind_error(&pod, origin));
    }
    make_static(pod, origin, seen)
}

/// Decodes a body from `staticPodURL`: one Pod, or a `v1` `PodList` or `List` of pods. As
/// upstream, one bad pod fails the whole list.
pub fn pods_from_body(
    bytes: &[u8],
    origin: &Origin,
    seen: SystemTime,
) -> Result<Vec<Pod>, ManifestError> {
    let what = origin.what();
    let pod: Pod = decode(bytes, &what)?;
    if is_v1(&pod, "Pod") {
        return Ok(vec![make_static(pod, origin, seen)?]);
    }
    if !is_v1(&pod, "PodList") && !is_v1(&pod, "List") {
        return Err(kind_error(&pod, origin));
    }
    let list: List<Pod> = decode(bytes, &what)?;
    list.items
        .into_iter()
        .map(|item| {
            // Items of a PodList carry no kind; items of a List must be Pods.
            if item.kind.is_some() && !is_v1(&item, "Pod") {
                return Err(kind_error(&item, origin));
            }
            make_static(item, origin, seen)
        })
        .collect()
}

fn is_v1(pod: &Pod, kind: &str) -> bool {
    pod.api_version.as_deref() == Some("v1") && pod.kind.as_deref() == Some(kind)
}

fn kind_error(pod: &Pod, origin: &Origin) -> ManifestError {
    ManifestError::Kind {
        what: origin.what(),
        api_version: pod.api_version.clone(),
        kind: pod.kind.clone(),
    }
}

/// Gives a decoded pod its static pod identity, defaults and checks (steps 1-4 above).
pub fn make_static(mut pod: Pod, origin: &Origin, seen: SystemTime) -> Result<Pod, ManifestError> {
    let Some(name) = pod.metadata.name.clone().filter(|n| !n.is_empty()) else {
        let errors = vec![FieldError {
            field: "metadata.name".into(),
            reason: "Required value: name is needed for the pod".into(),
        }];
        return Err(ManifestError::Invalid {
            what: origin.what(),
            errors,
        });
    };
    pod.api_version = Some("v1".to_string());
    pod.kind = Some("Pod".to_string());
    defaults::apply(&mut pod);

    if pod.metadata.uid().is_empty() {
        let canonical = serde_json::to_vec(&pod).map_err(|e| ManifestError::Encode {
            what: origin.what(),
            message: e.to_string(),
        })?;
        pod.metadata.uid = Some(derive_uid(&canonical, origin));
    }
    let uid = pod.metadata.uid().to_string();
    let meta = &mut pod.metadata;
    meta.name = Some(static_pod_name(&name, origin.node_name));
    if meta.namespace().is_empty() {
        meta.namespace = Some("default".to_string());
    }
    let annotations = &mut meta.annotations;
    annotations.insert(CONFIG_HASH_ANNOTATION.to_string(), uid);
    annotations.insert(
        CONFIG_SOURCE_ANNOTATION.to_string(),
        origin.source.to_string(),
    );
    annotations.insert(CONFIG_SEEN_ANNOTATION.to_string(), rfc3339_nano(seen));
    pod.spec.node_name = Some(origin.node_name.to_string());
    if origin.source == Source::File {
        // Static pods stay on their node whatever its taints say.
        add_or_update_toleration(
            &mut pod.spec.tolerations,
            Toleration {
                operator: Some("Exists".to_string()),
                effect: Some("NoExecute".to_string()),
                ..Toleration::default()
            },
        );
    }
    pod.status.phase = Some("Pending".to_string());

    let errors = validate_pod(&pod);
    if !errors.is_empty() {
        return Err(ManifestError::Invalid {
            what: origin.what(),
            errors,
        });
    }
    if let Some(resource) = api_reference(&pod) {
        return Err(ManifestError::ApiReference {
            what: origin.what(),
            resource,
        });
    }
    Ok(pod)
}

/// `<name>-<nodename>`, the node name lowercased, so static pods of different nodes differ.
pub fn static_pod_name(name: &str, node_name: &str) -> String {
    format!("{name}-{}", node_name.to_lowercase())
}

/// The UID of a static pod: SHA-256 over a version tag, the node name, the source, its
/// location and the pod's canonical JSON, each length-prefixed so that no two different
/// inputs run together; the first 16 bytes as lowercase hex.
pub fn derive_uid(canonical_pod: &[u8], origin: &Origin) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for part in [
        b"rkubelet static pod uid v1".as_slice(),
        origin.node_name.as_bytes(),
        origin.source.as_str().as_bytes(),
        origin.location.as_bytes(),
        canonical_pod,
    ] {
        let len = u64::try_from(part.len()).unwrap_or(u64::MAX);
        ctx.update(&len.to_le_bytes());
        ctx.update(part);
    }
    let sum = ctx.finish();
    sum.as_ref()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Adds `toleration` unless an equal one is there; replaces one with the same key,
/// operator, value and effect (upstream's `AddOrUpdateTolerationInPod`).
fn add_or_update_toleration(tolerations: &mut Vec<Toleration>, toleration: Toleration) {
    let same = |t: &Toleration| {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        s(&t.key) == s(&toleration.key)
            && s(&t.operator) == s(&toleration.operator)
            && s(&t.value) == s(&toleration.value)
            && s(&t.effect) == s(&toleration.effect)
    };
    match tolerations.iter_mut().find(|t| same(t)) {
        Some(existing) => *existing = toleration,
        None => tolerations.push(toleration),
    }
}

/// RFC 3339 in UTC with nanoseconds, as the `config.seen` annotation is written
/// (`2025-01-02T03:04:05.123456789Z`).
pub fn rfc3339_nano(t: SystemTime) -> String {
    let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        // Before 1970: only a clock gone badly wrong; second precision will do.
        Err(_) => (Time::from(t).unix_seconds(), 0),
    };
    let whole = Time::from_unix(secs).to_string();
    let date_time = whole.strip_suffix('Z').unwrap_or(&whole);
    format!("{date_time}.{nanos:09}Z")
}

#[cfg(test)]
#[path = "static_pod_tests.rs"]
mod tests;
