//! CRI messages as JSON for `-o json`: a stable shape for scripts, close to crictl's.
//!
//! Field names are the proto JSON names (`podSandboxId`, `createdAt`); enums are the proto
//! enum names (`SANDBOX_READY`, `CONTAINER_RUNNING`; a number the build does not name stays a
//! number); times are integers (nanoseconds since the epoch), unlike crictl's strings; an
//! absent message is `null`. Keys come out sorted (serde_json's map), so output is stable.
//! The `info` maps of verbose calls hold JSON documents from the runtime: they are embedded
//! as JSON when they parse, as strings otherwise.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::cri::*;

fn labels(map: &BTreeMap<String, String>) -> Value {
    Value::Object(map.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

fn enum_name(prefix: &str, name: Option<&str>, number: i32) -> Value {
    match name {
        Some(name) => Value::String(format!("{prefix}{name}")),
        None => Value::from(number),
    }
}

/// Upstream's names: `SANDBOX_READY`, `SANDBOX_NOTREADY` (no underscore in NOTREADY).
pub fn sandbox_state(state: PodSandboxState) -> Value {
    let name = state.name().map(|n| if n == "NOT_READY" { "NOTREADY" } else { n });
    enum_name("SANDBOX_", name, state.0)
}

pub fn container_state(state: ContainerState) -> Value {
    enum_name("CONTAINER_", state.name(), state.0)
}

fn sandbox_metadata(m: Option<&PodSandboxMetadata>) -> Value {
    m.map_or(
        Value::Null,
        |m| json!({"name": m.name, "uid": m.uid, "namespace": m.namespace, "attempt": m.attempt}),
    )
}

fn container_metadata(m: Option<&ContainerMetadata>) -> Value {
    m.map_or(Value::Null, |m| json!({"name": m.name, "attempt": m.attempt}))
}

fn image_name(spec: Option<&ImageSpec>) -> &str {
    spec.map_or("", |s| s.image.as_str())
}

/// One item of `pods -o json`.
pub fn sandbox(p: &PodSandbox) -> Value {
    json!({
        "id": p.id,
        "metadata": sandbox_metadata(p.metadata.as_ref()),
        "state": sandbox_state(p.state),
        "createdAt": p.created_at,
        "labels": labels(&p.labels),
        "annotations": labels(&p.annotations),
        "runtimeHandler": p.runtime_handler,
    })
}

/// One item of `ps -o json`; `image` is the image the container was created from, as a
/// string (crictl nests it as `{"image": ...}`).
pub fn container(c: &Container) -> Value {
    json!({
        "id": c.id,
        "podSandboxId": c.pod_sandbox_id,
        "metadata": container_metadata(c.metadata.as_ref()),
        "image": image_name(c.image.as_ref()),
        "imageRef": c.image_ref,
        "state": container_state(c.state),
        "createdAt": c.created_at,
        "labels": labels(&c.labels),
        "annotations": labels(&c.annotations),
    })
}

/// One item of `images -o json`.
pub fn image(i: &Image) -> Value {
    json!({
        "id": i.id,
        "repoTags": i.repo_tags,
        "repoDigests": i.repo_digests,
        "size": i.size,
        "uid": i.uid.as_ref().map(|u| u.value),
        "username": i.username,
        "pinned": i.pinned,
    })
}

/// `{"items": [...]}`, the list shape of every `-o json` listing.
pub fn items(values: Vec<Value>) -> Value {
    json!({ "items": values })
}

pub fn version(v: &VersionResponse) -> Value {
    json!({
        "version": v.version,
        "runtimeName": v.runtime_name,
        "runtimeVersion": v.runtime_version,
        "runtimeApiVersion": v.runtime_api_version,
    })
}

/// A verbose `info` map: each value parsed as JSON when it is JSON.
fn info(map: &BTreeMap<String, String>) -> Map<String, Value> {
    map.iter()
        .map(|(k, v)| (k.clone(), crate::api::json::decode(v.as_bytes()).unwrap_or_else(|_| Value::String(v.clone()))))
        .collect()
}

fn namespace_mode(mode: NamespaceMode) -> Value {
    enum_name("", mode.name(), mode.0)
}

fn sandbox_status(s: &PodSandboxStatus) -> Value {
    let network = s.network.as_ref().map_or(Value::Null, |n| {
        json!({"ip": n.ip, "additionalIps": n.additional_ips.iter().map(|ip| json!({"ip": ip.ip})).collect::<Vec<_>>()})
    });
    let options = s.linux.as_ref().and_then(|l| l.namespaces.as_ref()).and_then(|n| n.options.as_ref());
    let namespaces = options.map_or(Value::Null, |o| {
        json!({"network": namespace_mode(o.network), "pid": namespace_mode(o.pid), "ipc": namespace_mode(o.ipc), "targetId": o.target_id})
    });
    json!({
        "id": s.id,
        "metadata": sandbox_metadata(s.metadata.as_ref()),
        "state": sandbox_state(s.state),
        "createdAt": s.created_at,
        "network": network,
        "linux": {"namespaces": {"options": namespaces}},
        "labels": labels(&s.labels),
        "annotations": labels(&s.annotations),
        "runtimeHandler": s.runtime_handler,
    })
}

/// `inspectp -o json`: `{"status": {...}, "info": {...}}`.
pub fn sandbox_status_response(r: &PodSandboxStatusResponse) -> Value {
    json!({
        "status": r.status.as_ref().map_or(Value::Null, sandbox_status),
        "info": info(&r.info),
    })
}

fn mount(m: &Mount) -> Value {
    json!({
        "containerPath": m.container_path,
        "hostPath": m.host_path,
        "readonly": m.readonly,
        "propagation": enum_name("PROPAGATION_", m.propagation.name(), m.propagation.0),
    })
}

fn container_status(s: &ContainerStatus) -> Value {
    json!({
        "id": s.id,
        "metadata": container_metadata(s.metadata.as_ref()),
        "state": container_state(s.state),
        "createdAt": s.created_at,
        "startedAt": s.started_at,
        "finishedAt": s.finished_at,
        "exitCode": s.exit_code,
        "image": image_name(s.image.as_ref()),
        "imageRef": s.image_ref,
        "reason": s.reason,
        "message": s.message,
        "labels": labels(&s.labels),
        "annotations": labels(&s.annotations),
        "mounts": s.mounts.iter().map(mount).collect::<Vec<_>>(),
        "logPath": s.log_path,
    })
}

/// `inspect -o json`: `{"status": {...}, "info": {...}}`.
pub fn container_status_response(r: &ContainerStatusResponse) -> Value {
    json!({
        "status": r.status.as_ref().map_or(Value::Null, container_status),
        "info": info(&r.info),
    })
}

/// `info`: the conditions under `status`, then the runtime's own info entries at the top
/// level (as crictl prints them: `config`, `cniconfig`, ...).
pub fn runtime_status(r: &StatusResponse) -> Value {
    let conditions: Vec<Value> = r
        .status
        .iter()
        .flat_map(|s| &s.conditions)
        .map(|c| json!({"type": c.r#type, "status": c.status, "reason": c.reason, "message": c.message}))
        .collect();
    let handlers: Vec<Value> = r
        .runtime_handlers
        .iter()
        .map(|h| {
            let f = h.features.clone().unwrap_or_default();
            json!({"name": h.name, "features": {"recursiveReadOnlyMounts": f.recursive_read_only_mounts, "userNamespaces": f.user_namespaces}})
        })
        .collect();
    let mut top = info(&r.info);
    top.insert("status".to_string(), json!({ "conditions": conditions }));
    top.insert("runtimeHandlers".to_string(), Value::Array(handlers));
    Value::Object(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn sandbox_shape() {
        let p = PodSandbox {
            id: "p1".into(),
            metadata: Some(PodSandboxMetadata {
                name: "web-node1".into(),
                uid: "u1".into(),
                namespace: "default".into(),
                attempt: 2,
            }),
            state: PodSandboxState::NOT_READY,
            created_at: 1_700_000_000_123_456_789,
            labels: map(&[("io.kubernetes.pod.name", "web-node1")]),
            annotations: map(&[("a", "b")]),
            runtime_handler: String::new(),
        };
        let want = json!({
            "id": "p1",
            "metadata": {"name": "web-node1", "uid": "u1", "namespace": "default", "attempt": 2},
            "state": "SANDBOX_NOTREADY",
            "createdAt": 1_700_000_000_123_456_789_i64,
            "labels": {"io.kubernetes.pod.name": "web-node1"},
            "annotations": {"a": "b"},
            "runtimeHandler": "",
        });
        assert_eq!(sandbox(&p), want);
        let ready = PodSandbox { state: PodSandboxState::READY, metadata: None, ..p };
        assert_eq!(sandbox(&ready)["state"], "SANDBOX_READY");
        assert_eq!(sandbox(&ready)["metadata"], Value::Null);
        assert_eq!(sandbox(&PodSandbox { state: PodSandboxState(7), ..ready })["state"], 7);
    }

    #[test]
    fn container_shape() {
        let c = Container {
            id: "c1".into(),
            pod_sandbox_id: "p1".into(),
            metadata: Some(ContainerMetadata { name: "app".into(), attempt: 1 }),
            image: Some(ImageSpec { image: "docker.io/library/busybox:1.35".into(), ..Default::default() }),
            image_ref: "sha256:abc".into(),
            state: ContainerState::RUNNING,
            created_at: 5,
            labels: map(&[("k", "v")]),
            annotations: BTreeMap::new(),
            image_id: String::new(),
        };
        let want = json!({
            "id": "c1", "podSandboxId": "p1", "metadata": {"name": "app", "attempt": 1},
            "image": "docker.io/library/busybox:1.35", "imageRef": "sha256:abc",
            "state": "CONTAINER_RUNNING", "createdAt": 5, "labels": {"k": "v"}, "annotations": {},
        });
        assert_eq!(container(&c), want);
        for (state, name) in [
            (ContainerState::CREATED, "CONTAINER_CREATED"),
            (ContainerState::EXITED, "CONTAINER_EXITED"),
            (ContainerState::UNKNOWN, "CONTAINER_UNKNOWN"),
        ] {
            assert_eq!(container_state(state), name);
        }
        assert_eq!(items(vec![container(&c)])["items"][0]["id"], "c1");
    }

    #[test]
    fn info_values_are_embedded_when_json() {
        let r = ContainerStatusResponse {
            status: None,
            info: map(&[("info", r#"{"pid": 42, "sandboxID": "p1"}"#), ("note", "not json")]),
        };
        let v = container_status_response(&r);
        assert_eq!(v["info"]["info"]["pid"], 42);
        assert_eq!(v["info"]["note"], "not json");
        assert_eq!(v["status"], Value::Null);
    }

    #[test]
    fn runtime_status_puts_conditions_under_status() {
        let r = StatusResponse {
            status: Some(RuntimeStatus {
                conditions: vec![RuntimeCondition {
                    r#type: "RuntimeReady".into(),
                    status: true,
                    ..Default::default()
                }],
            }),
            info: map(&[("config", r#"{"sandboxImage": "pause"}"#)]),
            ..Default::default()
        };
        let v = runtime_status(&r);
        assert_eq!(v["status"]["conditions"][0]["type"], "RuntimeReady");
        assert_eq!(v["status"]["conditions"][0]["status"], true);
        assert_eq!(v["config"]["sandboxImage"], "pause");
    }
}
