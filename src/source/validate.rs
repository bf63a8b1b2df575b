//! The checks a static pod must pass before the kubelet runs it: the part of upstream's
//! `ValidatePodCreate` that rkubelet relies on, and upstream's rule that a static pod may
//! not reference API objects (`HasAPIObjectReference`): the kubelet could not resolve them
//! without an API server, and a mirror pod could not be created for it.
//!
//! Errors name the field as upstream does (`spec.containers[0].image: Required value`).
#![forbid(unsafe_code)]

use std::collections::HashSet;
use std::fmt;

use crate::api::core::{Container, Pod, VolumeSource};

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path: `metadata.name`, `spec.containers[1].ports[0].containerPort`.
    pub field: String,
    pub reason: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const DNS_POLICIES: &[&str] = &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
const MESSAGE_POLICIES: &[&str] = &["File", "FallbackToLogsOnError"];
const PROTOCOLS: &[&str] = &["TCP", "UDP", "SCTP"];
const HOST_PATH_TYPES: &[&str] = &[
    "",
    "DirectoryOrCreate",
    "Directory",
    "FileOrCreate",
    "File",
    "Socket",
    "CharDevice",
    "BlockDevice",
];

#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn add(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            reason: reason.into(),
        });
    }

    fn required(&mut self, field: impl Into<String>) {
        self.add(field, "Required value");
    }

    fn one_of(&mut self, field: impl Into<String>, value: Option<&str>, allowed: &[&str]) {
        if let Some(value) = value.filter(|v| !allowed.contains(v)) {
            let list: Vec<String> = allowed.iter().map(|a| format!("{a:?}")).collect();
            let reason = format!(
                "Unsupported value: {value:?}: supported values: {}",
                list.join(", ")
            );
            self.add(field, reason);
        }
    }
}

/// Validates a defaulted static pod; empty when it is fine.
pub fn validate_pod(pod: &Pod) -> Vec<FieldError> {
    let mut errs = Errors::default();
    let meta = &pod.metadata;
    match meta.name.as_deref() {
        None | Some("") => errs.required("metadata.name"),
        Some(name) if !is_dns1123_subdomain(name) => {
            errs.add("metadata.name", subdomain_reason(name))
        }
        Some(_) => {}
    }
    let namespace = meta.namespace();
    if !is_dns1123_label(namespace) {
        errs.add("metadata.namespace", label_reason(namespace));
    }
    for (key, value) in &meta.labels {
        check_qualified_name(&mut errs, "metadata.labels", key);
        if !is_label_value(value) {
            errs.add(
                "metadata.labels",
                format!("Invalid value: {value:?}: a label value must be at most 63 characters of alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric"),
            );
        }
    }
    for key in meta.annotations.keys() {
        check_qualified_name(&mut errs, "metadata.annotations", key);
    }
    validate_spec(&mut errs, pod);
    errs.0
}

fn validate_spec(errs: &mut Errors, pod: &Pod) {
    let spec = &pod.spec;
    if spec.containers.is_empty() {
        errs.required("spec.containers");
    }
    errs.one_of(
        "spec.restartPolicy",
        spec.restart_policy.as_deref(),
        RESTART_POLICIES,
    );
    errs.one_of("spec.dnsPolicy", spec.dns_policy.as_deref(), DNS_POLICIES);
    if spec.dns_policy.as_deref() == Some("None") && spec.dns_config.is_none() {
        errs.add(
            "spec.dnsConfig",
            "Required value: must provide `dnsConfig` when `dnsPolicy` is None",
        );
    }
    if spec.termination_grace_period_seconds.is_some_and(|s| s < 0) {
        errs.add(
            "spec.terminationGracePeriodSeconds",
            "must be greater than or equal to 0",
        );
    }
    if spec.active_deadline_seconds.is_some_and(|s| s <= 0) {
        errs.add("spec.activeDeadlineSeconds", "must be greater than 0");
    }

    let mut volumes = HashSet::new();
    for (i, volume) in spec.volumes.iter().enumerate() {
        let field = format!("spec.volumes[{i}]");
        if volume.name.is_empty() {
            errs.required(format!("{field}.name"));
        } else if !is_dns1123_label(&volume.name) {
            errs.add(format!("{field}.name"), label_reason(&volume.name));
        } else if !volumes.insert(volume.name.as_str()) {
            errs.add(
                format!("{field}.name"),
                format!("Duplicate value: {:?}", volume.name),
            );
        }
        validate_volume_source(errs, &field, &volume.source);
    }

    let host_network = spec.host_network == Some(true);
    let mut names = HashSet::new();
    let lists = [
        ("initContainers", &spec.init_containers),
        ("containers", &spec.containers),
    ];
    for (list, containers) in lists {
        for (i, c) in containers.iter().enumerate() {
            let field = format!("spec.{list}[{i}]");
            validate_container(errs, &field, c, &volumes, host_network);
            if !c.name.is_empty() && !names.insert(c.name.as_str()) {
                errs.add(
                    format!("{field}.name"),
                    format!("Duplicate value: {:?}", c.name),
                );
            }
        }
    }
}

fn validate_volume_source(errs: &mut Errors, field: &str, source: &VolumeSource) {
    // Count the sources set: every source is an optional object, so its JSON key is present
    // exactly when it is set.
    let count = match crate::api::json::to_value(source) {
        Ok(serde_json::Value::Object(map)) => map.len(),
        _ => 1,
    };
    if count == 0 {
        errs.add(field, "Required value: must specify a volume type");
    } else if count > 1 {
        errs.add(field, "Forbidden: may not specify more than 1 volume type");
    }
    if let Some(host_path) = &source.host_path {
        if host_path.path.is_empty() {
            errs.required(format!("{field}.hostPath.path"));
        }
        errs.one_of(
            format!("{field}.hostPath.type"),
            host_path.type_.as_deref(),
            HOST_PATH_TYPES,
        );
    }
}

fn validate_container(
    errs: &mut Errors,
    field: &str,
    c: &Container,
    volumes: &HashSet<&str>,
    host_network: bool,
) {
    if c.name.is_empty() {
        errs.required(format!("{field}.name"));
    } else if !is_dns1123_label(&c.name) {
        errs.add(format!("{field}.name"), label_reason(&c.name));
    }
    match c.image.as_deref() {
        None | Some("") => errs.required(format!("{field}.image")),
        Some(image) if image.trim() != image => errs.add(
            format!("{field}.image"),
            "Invalid value: must not have leading or trailing whitespace",
        ),
        Some(_) => {}
    }
    errs.one_of(
        format!("{field}.imagePullPolicy"),
        c.image_pull_policy.as_deref(),
        PULL_POLICIES,
    );
    errs.one_of(
        format!("{field}.restartPolicy"),
        c.restart_policy.as_deref(),
        RESTART_POLICIES,
    );
    errs.one_of(
        format!("{field}.terminationMessagePolicy"),
        c.termination_message_policy.as_deref(),
        MESSAGE_POLICIES,
    );
    for (j, port) in c.ports.iter().enumerate() {
        let pf = format!("{field}.ports[{j}]");
        if !(1..=65535).contains(&port.container_port) {
            errs.add(
                format!("{pf}.containerPort"),
                "must be between 1 and 65535, inclusive",
            );
        }
        let host_port = port.host_port.unwrap_or(0);
        if !(0..=65535).contains(&host_port) {
            errs.add(
                format!("{pf}.hostPort"),
                "must be between 1 and 65535, inclusive",
            );
        }
        if host_network && host_port != port.container_port {
            errs.add(
                format!("{pf}.hostPort"),
                "must match `containerPort` when `hostNetwork` is true",
            );
        }
        errs.one_of(
            format!("{pf}.protocol"),
            port.protocol.as_deref(),
            PROTOCOLS,
        );
    }
    let mut paths = HashSet::new();
    for (j, mount) in c.volume_mounts.iter().enumerate() {
        let mf = format!("{field}.volumeMounts[{j}]");
        if mount.name.is_empty() {
            errs.required(format!("{mf}.name"));
        } else if !volumes.contains(mount.name.as_str()) {
            errs.add(format!("{mf}.name"), format!("Not found: {:?}", mount.name));
        }
        if mount.mount_path.is_empty() {
            errs.required(format!("{mf}.mountPath"));
        } else if !paths.insert(mount.mount_path.as_str()) {
            errs.add(format!("{mf}.mountPath"), "must be unique");
        }
    }
}

/// What API objects the pod refers to, as upstream's message names them; `None` if it
/// refers to none.
pub fn api_reference(pod: &Pod) -> Option<&'static str> {
    let spec = &pod.spec;
    if spec
        .service_account_name
        .as_deref()
        .is_some_and(|s| !s.is_empty())
    {
        return Some("serviceaccounts");
    }
    let containers = spec
        .init_containers
        .iter()
        .chain(&spec.containers)
        .chain(spec.ephemeral_containers.iter().map(|e| &e.common));
    let named = |n: &Option<String>| n.as_deref().is_some_and(|n| !n.is_empty());
    let (mut secrets, mut config_maps) = (false, false);
    for c in containers {
        for from in &c.env_from {
            secrets |= from.secret_ref.as_ref().is_some_and(|r| named(&r.name));
            config_maps |= from.config_map_ref.as_ref().is_some_and(|r| named(&r.name));
        }
        for env in c.env.iter().filter_map(|e| e.value_from.as_ref()) {
            secrets |= env.secret_key_ref.as_ref().is_some_and(|r| named(&r.name));
            config_maps |= env
                .config_map_key_ref
                .as_ref()
                .is_some_and(|r| named(&r.name));
        }
    }
    if secrets {
        return Some("secrets");
    }
    if config_maps {
        return Some("configmaps");
    }
    if !spec.resource_claims.is_empty() {
        return Some("resourceclaims");
    }
    spec.volumes
        .iter()
        .find_map(|v| volume_reference(&v.source))
}

fn volume_reference(v: &VolumeSource) -> Option<&'static str> {
    if v.config_map.is_some() {
        return Some("configmaps (via configmap volumes)");
    }
    if v.secret.is_some() {
        return Some("secrets (via secret volumes)");
    }
    if v.csi.is_some() {
        return Some("csidrivers (via CSI volumes)");
    }
    if v.glusterfs.is_some() {
        return Some("endpoints (via glusterFS volumes)");
    }
    if v.persistent_volume_claim.is_some() {
        return Some("persistentvolumeclaims");
    }
    if v.ephemeral.is_some() {
        return Some("persistentvolumeclaims (via ephemeral volumes)");
    }
    if v.azure_file.is_some() {
        return Some("secrets (via azureFile volumes)");
    }
    let projected = v.projected.iter().flat_map(|p| &p.sources);
    projected.into_iter().find_map(|s| {
        if s.config_map.is_some() {
            Some("configmaps (via projected volumes)")
        } else if s.secret.is_some() {
            Some("secrets (via projected volumes)")
        } else if s.service_account_token.is_some() {
            Some("serviceaccounts (via projected volumes)")
        } else if s.cluster_trust_bundle.is_some() {
            Some("clustertrustbundles")
        } else if s.pod_certificate.is_some() {
            Some("podcertificates")
        } else {
            None
        }
    })
}

fn label_reason(value: &str) -> String {
    format!(
        "Invalid value: {value:?}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (at most 63 characters)"
    )
}

fn subdomain_reason(value: &str) -> String {
    format!(
        "Invalid value: {value:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (at most 253 characters)"
    )
}

fn check_qualified_name(errs: &mut Errors, field: &str, key: &str) {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| !p.is_empty() && is_dns1123_subdomain(p));
    if !prefix_ok || name.is_empty() || !is_label_value(name) {
        errs.add(
            field,
            format!("Invalid value: {key:?}: a qualified name is an optional DNS subdomain prefix and '/', then at most 63 alphanumerics, '-', '_' or '.', starting and ending with an alphanumeric"),
        );
    }
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub fn is_dns1123_label(s: &str) -> bool {
    s.len() <= 63 && label_shape(s, |b| b.is_ascii_lowercase() || b.is_ascii_digit(), b"-")
}

/// Dot-separated labels, at most 253 characters in all.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    let lower_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    s.len() <= 253
        && s.split('.')
            .all(|part| label_shape(part, lower_alnum, b"-"))
}

/// A label value (or the name part of a qualified name when not empty): at most 63
/// alphanumerics, `-`, `_`, `.`, starting and ending with an alphanumeric; may be empty.
pub fn is_label_value(s: &str) -> bool {
    s.is_empty() || (s.len() <= 63 && label_shape(s, |b| b.is_ascii_alphanumeric(), b"-_."))
}

/// Non-empty, made of `alnum` bytes and `inner` bytes, starting and ending with `alnum`.
fn label_shape(s: &str, alnum: impl Fn(u8) -> bool, inner: &[u8]) -> bool {
    let bytes = s.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) => {
            alnum(first) && alnum(last) && bytes.iter().all(|&b| alnum(b) || inner.contains(&b))
        }
        _ => false,
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
