use serde_json::json;

use super::*;
use crate::api::core::{ProjectedVolumeSource, Service};
use crate::volume::testutil::pod;

/// Objects served from memory, as the managers would.
#[derive(Default)]
struct FakeObjects {
    config_maps: BTreeMap<String, ConfigMap>,
    secrets: BTreeMap<String, Secret>,
    standalone: bool,
}

impl EnvSources for FakeObjects {
    fn config_map(&self, _: &str, name: &str) -> Result<Option<ConfigMap>, String> {
        Ok(self.config_maps.get(name).cloned())
    }
    fn secret(&self, _: &str, name: &str) -> Result<Option<Secret>, String> {
        Ok(self.secrets.get(name).cloned())
    }
    fn services(&self, _: &str) -> Vec<Service> {
        Vec::new()
    }
    fn has_api_client(&self) -> bool {
        !self.standalone
    }
}

fn objects() -> FakeObjects {
    let cm: ConfigMap =
        serde_json::from_value(json!({"data": {"a": "1", "b": "2"}, "binaryData": {"bin": "AAE="}})).expect("cm");
    let secret: Secret = serde_json::from_value(json!({"data": {"user": "YWRtaW4=", "pass": "cHc="}})).expect("secret");
    FakeObjects {
        config_maps: BTreeMap::from([("cm".to_string(), cm)]),
        secrets: BTreeMap::from([("s".to_string(), secret)]),
        standalone: false,
    }
}

fn items(v: serde_json::Value) -> Vec<KeyToPath> {
    serde_json::from_value(v).expect("items")
}

fn summary(p: &Payload) -> Vec<(String, String, u32)> {
    p.iter().map(|(k, f)| (k.clone(), String::from_utf8_lossy(&f.data).into_owned(), f.mode)).collect()
}

#[test]
fn every_key_without_items() {
    let o = objects();
    let cm = read_config_map(&o, "prod", "cm", false).expect("cm");
    let p = keyed_payload(Keyed::ConfigMap, &[], &KeyData::of_config_map(&cm), 0o644, false).expect("payload");
    assert_eq!(
        summary(&p),
        [("a".into(), "1".into(), 0o644), ("b".into(), "2".into(), 0o644), ("bin".into(), "\0\u{1}".into(), 0o644)]
    );
}

#[test]
fn items_choose_keys_paths_and_modes() {
    let o = objects();
    let secret = read_secret(&o, "prod", "s", false).expect("secret");
    let its = items(json!([{"key": "user", "path": "creds/user"}, {"key": "pass", "path": "pw", "mode": 0o400}]));
    let p = keyed_payload(Keyed::Secret, &its, &KeyData::of_secret(&secret), 0o640, false).expect("payload");
    assert_eq!(summary(&p), [("creds/user".into(), "admin".into(), 0o640), ("pw".into(), "pw".into(), 0o400)]);
}

#[test]
fn missing_keys_and_objects() {
    let o = objects();
    let cm = read_config_map(&o, "prod", "cm", false).expect("cm");
    let data = KeyData::of_config_map(&cm);
    let its = items(json!([{"key": "nope", "path": "x"}, {"key": "a", "path": "a"}]));
    let e = keyed_payload(Keyed::ConfigMap, &its, &data, 0o644, false).expect_err("missing key");
    assert_eq!(e, "configmap references non-existent config key: nope");
    let p = keyed_payload(Keyed::ConfigMap, &its, &data, 0o644, true).expect("optional skips the key");
    assert_eq!(p.keys().collect::<Vec<_>>(), ["a"]);
    let secret = read_secret(&o, "prod", "s", false).expect("secret");
    let e = keyed_payload(Keyed::Secret, &its, &KeyData::of_secret(&secret), 0o644, false).expect_err("missing");
    assert_eq!(e, "references non-existent secret key: nope");

    assert_eq!(read_config_map(&o, "prod", "y", false).expect_err("missing"), r#"configmap "y" not found"#);
    assert_eq!(read_secret(&o, "prod", "y", false).expect_err("missing"), r#"secret "y" not found"#);
    assert!(read_secret(&o, "prod", "y", true).expect("optional").data.is_empty());
    let standalone = FakeObjects { standalone: true, ..objects() };
    assert_eq!(read_config_map(&standalone, "prod", "cm", true).expect_err("standalone"), STANDALONE);
}

#[test]
fn downward_files() {
    let mut p = pod(json!([]), json!([]));
    p.metadata.labels.insert("tier".into(), "front\"end".into());
    p.metadata.annotations.insert("build".into(), "42".into());
    p.spec.containers[0].resources = serde_json::from_value(json!({"limits": {"memory": "64Mi"}})).expect("res");
    let its: Vec<DownwardAPIVolumeFile> = serde_json::from_value(json!([
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
        {"path": "./dir/name", "fieldRef": {"fieldPath": "metadata.name"}, "mode": 0o600},
        {"path": "build", "fieldRef": {"fieldPath": "metadata.annotations['build']"}},
        {"path": "mem", "resourceFieldRef": {"containerName": "app", "resource": "limits.memory", "divisor": "1Mi"}},
    ]))
    .expect("items");
    let payload = downward_payload(&its, &p, &NodeContext::default(), 0o644).expect("payload");
    assert_eq!(
        summary(&payload),
        [
            ("build".into(), "42".into(), 0o644),
            ("dir/name".into(), "web".into(), 0o600),
            ("labels".into(), "app=\"web\"\ntier=\"front\\\"end\"".into(), 0o644),
            ("mem".into(), "64".into(), 0o644),
        ]
    );
    let bad: Vec<DownwardAPIVolumeFile> = serde_json::from_value(json!([
        {"path": "ip", "fieldRef": {"fieldPath": "status.podIP"}},
        {"path": "x", "resourceFieldRef": {"containerName": "nope", "resource": "limits.cpu"}},
    ]))
    .expect("items");
    let e = downward_payload(&bad, &p, &NodeContext::default(), 0o644).expect_err("bad items");
    assert_eq!(e, "[unsupported fieldPath: status.podIP, container nope not found]");
}

struct FixedToken(Vec<String>);

impl TokenFetch for FixedToken {
    fn token(&mut self, _: &Pod, source: &ServiceAccountTokenProjection) -> Result<String, String> {
        self.0.push(source.audience.clone().unwrap_or_default());
        Ok("tok".into())
    }
}

fn projected() -> ProjectedVolumeSource {
    serde_json::from_value(json!({
        "defaultMode": 0o644,
        "sources": [
            {"serviceAccountToken": {"path": "token", "expirationSeconds": 3607}},
            {"configMap": {"name": "cm", "items": [{"key": "a", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
        ],
    }))
    .expect("projected")
}

#[test]
fn projected_combines_sources() {
    let o = objects();
    let p = pod(json!([]), json!([]));
    let node = NodeContext::default();
    let mut tokens = FixedToken(Vec::new());
    let inputs = ProjectedInputs { objects: &o, node: &node, tokens: &mut tokens, fs_user: None, fs_group: None };
    let payload = projected_payload("kube-api-access", &projected(), &p, inputs).expect("payload");
    assert_eq!(
        summary(&payload),
        [("ca.crt".into(), "1".into(), 0o644), ("namespace".into(), "prod".into(), 0o644), ("token".into(), "tok".into(), 0o644)]
    );
    // An owner or fsGroup makes the token 0600 (fsGroup adds group read later).
    let inputs = ProjectedInputs { objects: &o, node: &node, tokens: &mut tokens, fs_user: None, fs_group: Some(2000) };
    let payload = projected_payload("v", &projected(), &p, inputs).expect("payload");
    assert_eq!(payload["token"].mode, 0o600);
    let inputs = ProjectedInputs { objects: &o, node: &node, tokens: &mut tokens, fs_user: Some(1000), fs_group: None };
    let payload = projected_payload("v", &projected(), &p, inputs).expect("payload");
    assert_eq!((payload["token"].mode, payload["token"].fs_user), (0o600, Some(1000)));
    assert_eq!(payload["ca.crt"].fs_user, None);
}

#[test]
fn projected_errors() {
    let p = pod(json!([]), json!([]));
    let node = NodeContext::default();
    let mut tokens = FixedToken(Vec::new());
    let standalone = FakeObjects { standalone: true, ..objects() };
    let inputs = ProjectedInputs { objects: &standalone, node: &node, tokens: &mut tokens, fs_user: None, fs_group: None };
    let e = projected_payload("kube-api-access-x", &projected(), &p, inputs).expect_err("no client");
    assert_eq!(e, "cannot setup projected volume kube-api-access-x because kube client is not configured");
    let o = FakeObjects::default();
    let mut src = projected();
    src.sources.push(serde_json::from_value(json!({"clusterTrustBundle": {"signerName": "x", "path": "b"}})).expect("ctb"));
    let inputs = ProjectedInputs { objects: &o, node: &node, tokens: &mut tokens, fs_user: None, fs_group: None };
    let e = projected_payload("v", &src, &p, inputs).expect_err("errors");
    assert_eq!(e, r#"[configmap "cm" not found, clusterTrustBundle projections are not supported by rkubelet]"#);
}
