//! The Pod API defaulting the API server applies on create (upstream's
//! `pkg/apis/core/v1/defaults.go` and its generated `SetObjectDefaults_Pod`). A static pod
//! never passes through the API server, so the kubelet applies it when reading a manifest,
//! as upstream's decoder does.
//!
//! Done: pod (`restartPolicy`, `dnsPolicy`, `terminationGracePeriodSeconds` (negative → 1),
//! `schedulerName`, `securityContext`, `enableServiceLinks`, `serviceAccount` alias, host
//! ports under `hostNetwork`); containers of every kind (`imagePullPolicy`,
//! `terminationMessagePath`/`Policy`, port `protocol`, requests from limits for init and
//! app containers, env `fieldRef.apiVersion`, `fileKeyRef.optional`, probe timings,
//! `httpGet` path and scheme, gRPC service); volumes (no source → `emptyDir`, `hostPath.type`,
//! configMap/secret/downwardAPI/projected `defaultMode`, projected token expiry, image
//! volume pull policy). Not done: rounding quantities up to milli precision, pod-level
//! resource defaults (deferred past defaulting upstream), defaults inside opaque volume
//! sources (iSCSI, RBD, ScaleIO, AzureDisk), and the alpha H2C probe protocol.
#![forbid(unsafe_code)]

use crate::api::core::{
    Container, DownwardAPIVolumeFile, HTTPGetAction, Lifecycle, ObjectFieldSelector, Pod,
    PodSecurityContext, Probe, ProbeHandler, Volume,
};

pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
pub const TERMINATION_MESSAGE_PATH_DEFAULT: &str = "/dev/termination-log";
/// 0644, the default file mode of configMap, secret, downwardAPI and projected volumes.
pub const VOLUME_DEFAULT_MODE: i32 = 0o644;
/// One hour, the default lifetime of a projected service account token.
pub const TOKEN_DEFAULT_EXPIRATION_SECONDS: i64 = 3600;

/// Applies the API server's defaults to `pod` in place.
pub fn apply(pod: &mut Pod) {
    let spec = &mut pod.spec;
    if spec.termination_grace_period_seconds.is_some_and(|s| s < 0) {
        spec.termination_grace_period_seconds = Some(1);
    }
    let host_network = spec.host_network == Some(true);
    for c in spec
        .init_containers
        .iter_mut()
        .chain(spec.containers.iter_mut())
    {
        default_requests_from_limits(c);
        if host_network {
            for port in &mut c.ports {
                if port.host_port.unwrap_or(0) == 0 {
                    port.host_port = Some(port.container_port);
                }
            }
        }
    }
    spec.enable_service_links.get_or_insert(true);

    // PodSpec: the deprecated `serviceAccount` mirrors `serviceAccountName`.
    if spec
        .service_account_name
        .as_deref()
        .unwrap_or("")
        .is_empty()
    {
        spec.service_account_name = spec.service_account.take();
    }
    spec.service_account = spec.service_account_name.clone();
    set_if_empty(&mut spec.dns_policy, "ClusterFirst");
    set_if_empty(&mut spec.restart_policy, "Always");
    spec.security_context
        .get_or_insert_with(PodSecurityContext::default);
    spec.termination_grace_period_seconds
        .get_or_insert(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
    set_if_empty(&mut spec.scheduler_name, DEFAULT_SCHEDULER_NAME);

    spec.volumes.iter_mut().for_each(default_volume);
    let ephemeral = spec.ephemeral_containers.iter_mut().map(|e| &mut e.common);
    for c in spec
        .init_containers
        .iter_mut()
        .chain(spec.containers.iter_mut())
        .chain(ephemeral)
    {
        default_container(c);
    }
}

/// Whether an image reference names the `latest` tag, explicitly or by having neither tag
/// nor digest: such images default to `imagePullPolicy: Always`.
pub fn is_latest(image: &str) -> bool {
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    // The tag follows the last ':' after the last '/' (a registry's port comes before it).
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.rsplit_once(':') {
        Some((_, tag)) => tag == "latest",
        None => digest.is_none(),
    }
}

fn set_if_empty(field: &mut Option<String>, value: &str) {
    if field.as_deref().unwrap_or("").is_empty() {
        *field = Some(value.to_string());
    }
}

fn default_requests_from_limits(c: &mut Container) {
    let Some(resources) = c.resources.as_mut() else {
        return;
    };
    for (name, limit) in &resources.limits {
        resources
            .requests
            .entry(name.clone())
            .or_insert_with(|| limit.clone());
    }
}

fn default_container(c: &mut Container) {
    if c.image_pull_policy.as_deref().unwrap_or("").is_empty() {
        let latest = is_latest(c.image.as_deref().unwrap_or(""));
        c.image_pull_policy = Some(if latest { "Always" } else { "IfNotPresent" }.to_string());
    }
    set_if_empty(
        &mut c.termination_message_path,
        TERMINATION_MESSAGE_PATH_DEFAULT,
    );
    set_if_empty(&mut c.termination_message_policy, "File");
    for port in &mut c.ports {
        set_if_empty(&mut port.protocol, "TCP");
    }
    for env in &mut c.env {
        let Some(from) = env.value_from.as_mut() else {
            continue;
        };
        if let Some(field) = from.field_ref.as_mut() {
            default_field_selector(field);
        }
        if let Some(file) = from.file_key_ref.as_mut() {
            file.optional.get_or_insert(false);
        }
    }
    for probe in [
        &mut c.liveness_probe,
        &mut c.readiness_probe,
        &mut c.startup_probe,
    ]
    .into_iter()
    .flatten()
    {
        default_probe(probe);
    }
    if let Some(Lifecycle {
        post_start,
        pre_stop,
        ..
    }) = c.lifecycle.as_mut()
    {
        for hook in [post_start, pre_stop].into_iter().flatten() {
            if let Some(get) = hook.http_get.as_mut() {
                default_http_get(get);
            }
        }
    }
}

fn default_probe(p: &mut Probe) {
    for (field, default) in [
        (&mut p.timeout_seconds, 1),
        (&mut p.period_seconds, 10),
        (&mut p.success_threshold, 1),
        (&mut p.failure_threshold, 3),
    ] {
        if field.unwrap_or(0) == 0 {
            *field = Some(default);
        }
    }
    let ProbeHandler { http_get, grpc, .. } = &mut p.handler;
    if let Some(get) = http_get.as_mut() {
        default_http_get(get);
    }
    if let Some(grpc) = grpc.as_mut() {
        grpc.service.get_or_insert_with(String::new);
    }
}

fn default_http_get(get: &mut HTTPGetAction) {
    set_if_empty(&mut get.path, "/");
    set_if_empty(&mut get.scheme, "HTTP");
}

fn default_field_selector(field: &mut ObjectFieldSelector) {
    set_if_empty(&mut field.api_version, "v1");
}

fn default_volume(v: &mut Volume) {
    let src = &mut v.source;
    if *src == Default::default() {
        src.empty_dir = Some(Default::default());
    }
    if let Some(image) = src.image.as_mut()
        && image.pull_policy.as_deref().unwrap_or("").is_empty()
    {
        let latest = is_latest(image.reference.as_deref().unwrap_or(""));
        image.pull_policy = Some(if latest { "Always" } else { "IfNotPresent" }.to_string());
    }
    if let Some(host_path) = src.host_path.as_mut() {
        host_path.type_.get_or_insert_with(String::new);
    }
    if let Some(secret) = src.secret.as_mut() {
        secret.default_mode.get_or_insert(VOLUME_DEFAULT_MODE);
    }
    if let Some(config_map) = src.config_map.as_mut() {
        config_map.default_mode.get_or_insert(VOLUME_DEFAULT_MODE);
    }
    if let Some(downward) = src.downward_api.as_mut() {
        downward.default_mode.get_or_insert(VOLUME_DEFAULT_MODE);
        default_downward_items(&mut downward.items);
    }
    if let Some(projected) = src.projected.as_mut() {
        projected.default_mode.get_or_insert(VOLUME_DEFAULT_MODE);
        for source in &mut projected.sources {
            if let Some(downward) = source.downward_api.as_mut() {
                default_downward_items(&mut downward.items);
            }
            if let Some(token) = source.service_account_token.as_mut() {
                token
                    .expiration_seconds
                    .get_or_insert(TOKEN_DEFAULT_EXPIRATION_SECONDS);
            }
        }
    }
}

fn default_downward_items(items: &mut [DownwardAPIVolumeFile]) {
    let fields = items.iter_mut().filter_map(|i| i.field_ref.as_mut());
    fields.for_each(default_field_selector);
}

#[cfg(test)]
#[path = "defaults_tests.rs"]
mod tests;
