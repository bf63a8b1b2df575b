use std::cell::Cell;

use serde_json::json;

use super::*;
use crate::api::bytes::ByteString;
use crate::kuberuntime::testutil::{pod, pod_with};

/// An API server with one ConfigMap `cfg`, one Secret `s` and the `kubernetes` service.
struct Api {
    synced: bool,
    reads: Cell<usize>,
}

impl Api {
    fn new() -> Api {
        Api { synced: true, reads: Cell::new(0) }
    }
}

impl EnvSources for Api {
    fn config_map(&self, namespace: &str, name: &str) -> Result<Option<ConfigMap>, String> {
        self.reads.set(self.reads.get() + 1);
        if name == "broken" {
            return Err("the server is on fire".into());
        }
        Ok((namespace == "prod" && name == "cfg").then(|| {
            serde_json::from_value(json!({"data": {"HOST": "db", "PORT": "5432", "1bad-name": "x"}}))
                .expect("cm")
        }))
    }
    fn secret(&self, namespace: &str, name: &str) -> Result<Option<Secret>, String> {
        Ok((namespace == "prod" && name == "s").then(|| {
            let mut s = Secret::default();
            s.data.insert("PASSWORD".into(), ByteString(b"hunter2".to_vec()));
            s.data.insert("BIN".into(), ByteString(vec![0xff, 0x00]));
            s
        }))
    }
    fn services(&self, namespace: &str) -> Vec<Service> {
        let svc = |ns: &str, name: &str, ip: &str, port: i32| -> Service {
            serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": ns},
                "spec": {"clusterIP": ip, "ports": [{"port": port}]},
            }))
            .expect("svc")
        };
        match namespace {
            "default" => vec![svc("default", "kubernetes", "10.96.0.1", 443)],
            "prod" => vec![svc("prod", "db", "10.0.0.5", 5432)],
            _ => Vec::new(),
        }
    }
    fn services_synced(&self) -> bool {
        self.synced
    }
}

fn env_of(p: &Pod, sources: &dyn EnvSources) -> Result<Vec<(String, String)>, BuildErrorKind> {
    let node =
        NodeContext { host_ips: vec!["192.0.2.2".into(), "2001:db8::2".into()], ..NodeContext::default() };
    let ips = vec!["fd00::7".to_string(), "10.1.2.3".to_string()];
    let env = container_env(p, &p.spec.containers[0], &ips, &node, sources)?;
    Ok(env.into_iter().map(|(k, v)| (k, String::from_utf8_lossy(&v).into_owned())).collect())
}

fn get<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn with_env(env: serde_json::Value) -> Pod {
    pod(json!({"containers": [{"name": "app", "image": "nginx", "env": env}]}))
}

#[test]
fn order_and_override() {
    let p = pod(json!({"containers": [{"name": "app",
        "envFrom": [{"configMapRef": {"name": "cfg"}}, {"prefix": "S_", "secretRef": {"name": "s"}}],
        "env": [
            {"name": "PORT", "value": "6543"},
            {"name": "DB_SERVICE_HOST", "value": "mine"},
            {"name": "URL", "value": "$(HOST):$(PORT) via $(KUBERNETES_SERVICE_HOST) $(LATER) $$(HOST)"},
            {"name": "LATER", "value": "x"},
        ],
    }]}));
    let env = env_of(&p, &Api::new()).expect("ok");
    let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names[..2],
        ["DB_SERVICE_PORT", "DB_PORT"],
        "service links first (DB_SERVICE_HOST is redefined)"
    );
    let tail: Vec<&str> = names.iter().copied().skip_while(|n| *n != "1bad-name").collect();
    assert_eq!(tail, ["1bad-name", "HOST", "PORT", "S_BIN", "S_PASSWORD", "DB_SERVICE_HOST", "URL", "LATER"]);
    assert_eq!(get(&env, "PORT"), Some("6543"), "env overrides envFrom");
    assert_eq!(get(&env, "DB_SERVICE_HOST"), Some("mine"), "env overrides service links");
    assert_eq!(names.iter().filter(|n| **n == "DB_SERVICE_HOST").count(), 1);
    assert_eq!(get(&env, "URL"), Some("db:6543 via 10.96.0.1 $(LATER) $(HOST)"));
    assert_eq!(get(&env, "S_PASSWORD"), Some("hunter2"));
    assert_eq!(get(&env, "KUBERNETES_PORT"), Some("tcp://10.96.0.1:443"));
}

#[test]
fn secret_bytes_are_kept() {
    let p = with_env(json!([{"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "BIN"}}}]));
    let node = NodeContext::default();
    let env = container_env(&p, &p.spec.containers[0], &[], &node, &Api::new()).expect("ok");
    assert_eq!(env.iter().find(|(k, _)| k == "B").map(|(_, v)| v.clone()), Some(vec![0xff, 0x00]));
}

#[test]
fn service_links_disabled_keeps_kubernetes() {
    let p = pod(json!({"enableServiceLinks": false}));
    let env = env_of(&p, &Api::new()).expect("ok");
    assert_eq!(get(&env, "KUBERNETES_SERVICE_HOST"), Some("10.96.0.1"));
    assert_eq!(get(&env, "DB_SERVICE_HOST"), None);
}

#[test]
fn references_and_optional() {
    let ok = with_env(json!([
        {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "HOST"}}},
        {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "NOPE", "optional": true}}},
        {"name": "C", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "K", "optional": true}}},
        {"name": "D", "valueFrom": {"secretKeyRef": {"name": "s", "key": "PASSWORD"}}},
        {"name": "E", "valueFrom": {"secretKeyRef": {"name": "gone", "key": "K", "optional": true}}},
        {"name": "F", "value": ""},
    ]));
    let api = Api::new();
    let env = env_of(&ok, &api).expect("ok");
    assert_eq!((get(&env, "A"), get(&env, "D"), get(&env, "F")), (Some("db"), Some("hunter2"), Some("")));
    assert_eq!((get(&env, "B"), get(&env, "C"), get(&env, "E")), (None, None, None));
    assert_eq!(api.reads.get(), 2, "each ConfigMap read once");

    let err = |env: serde_json::Value| env_of(&with_env(env), &Api::new()).expect_err("error").to_string();
    assert_eq!(
        err(json!([{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "FOO"}}}])),
        "couldn't find key FOO in ConfigMap prod/cfg"
    );
    assert_eq!(
        err(json!([{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "K"}}}])),
        "configmap \"gone\" not found"
    );
    assert_eq!(
        err(json!([{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "K"}}}])),
        "couldn't find key K in Secret prod/s"
    );
    assert_eq!(
        err(json!([{"name": "A", "valueFrom": {"secretKeyRef": {"name": "gone", "key": "K"}}}])),
        "secret \"gone\" not found"
    );
    assert_eq!(
        err(
            json!([{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "broken", "key": "K", "optional": true}}}])
        ),
        "the server is on fire"
    );
    let missing_from =
        pod(json!({"containers": [{"name": "app", "envFrom": [{"secretRef": {"name": "gone"}}]}]}));
    assert_eq!(env_of(&missing_from, &Api::new()).expect_err("e").to_string(), "secret \"gone\" not found");
}

#[test]
fn standalone_has_no_api_objects() {
    let optional = with_env(
        json!([{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "K", "optional": true}}}]),
    );
    assert_eq!(
        env_of(&optional, &NoEnvSources).expect_err("no client").to_string(),
        "couldn't get configMap prod/cfg, no kubeClient defined",
        "upstream refuses even optional references without a client"
    );
    let plain = with_env(json!([{"name": "A", "value": "1"}]));
    assert_eq!(env_of(&plain, &NoEnvSources).expect("ok"), [("A".to_string(), "1".to_string())]);
}

#[test]
fn api_pods_wait_for_services() {
    let api = Api { synced: false, reads: Cell::new(0) };
    let p = pod(json!({}));
    assert_eq!(env_of(&p, &api).expect_err("wait"), BuildErrorKind::ServicesNotSynced);
    let static_pod = pod_with(json!({"annotations": {"kubernetes.io/config.source": "file"}}), json!({}));
    assert!(env_of(&static_pod, &api).is_ok(), "static pods do not wait");
}

#[test]
fn downward_api_fields() {
    let p = pod_with(
        json!({"labels": {"app": "web", "tier": "a\"b"}, "annotations": {"note": "x\ny"}}),
        json!({"nodeName": "edge-1", "serviceAccountName": "sa", "containers": [{"name": "app", "env": [
            {"name": "NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "NS", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}},
            {"name": "UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "NOTE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.annotations['note']"}}},
            {"name": "LABELS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "SA", "valueFrom": {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}},
            {"name": "HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
            {"name": "HOST_IPS", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIPs"}}},
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "POD_IPS", "valueFrom": {"fieldRef": {"fieldPath": "status.podIPs"}}},
        ]}]}),
    );
    let env = env_of(&p, &NoEnvSources).expect("ok");
    let want = [
        ("NAME", "web"),
        ("NS", "prod"),
        ("UID", "u-1"),
        ("APP", "web"),
        ("NOTE", "x\ny"),
        ("LABELS", "app=\"web\"\ntier=\"a\\\"b\""),
        ("NODE", "edge-1"),
        ("SA", "sa"),
        ("HOST_IP", "192.0.2.2"),
        ("HOST_IPS", "192.0.2.2,2001:db8::2"),
        ("POD_IP", "10.1.2.3"),
        ("POD_IPS", "10.1.2.3,fd00::7"),
    ];
    for (name, value) in want {
        assert_eq!(get(&env, name), Some(value), "{name}");
    }
}

#[test]
fn downward_api_errors() {
    let field = |path: &str| {
        let p = with_env(json!([{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": path}}}]));
        env_of(&p, &NoEnvSources).expect_err("error").to_string()
    };
    assert_eq!(field("status.phase"), "unsupported fieldPath: status.phase");
    assert_eq!(field("spec.volumes"), "field label not supported: spec.volumes");
    assert_eq!(field("spec.nodeName['x']"), "field label does not support subscript: spec.nodeName['x']");
    assert!(
        field("metadata.labels['-bad-']").starts_with("invalid key subscript in metadata.labels['-bad-']")
    );
    let v2 = with_env(
        json!([{"name": "X", "valueFrom": {"fieldRef": {"apiVersion": "v2", "fieldPath": "metadata.name"}}}]),
    );
    assert_eq!(env_of(&v2, &NoEnvSources).expect_err("e").to_string(), "unsupported pod version: v2");
    let no_host = with_env(json!([{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}}]));
    let err =
        container_env(&no_host, &no_host.spec.containers[0], &[], &NodeContext::default(), &NoEnvSources);
    assert_eq!(err.expect_err("no host ip"), BuildErrorKind::NoHostIp);
}
