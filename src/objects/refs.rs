//! Which Secrets and ConfigMaps a pod references (upstream's `VisitPodSecretNames` and
//! `VisitPodConfigmapNames`): exactly these the Node authorizer lets this node read.
//!
//! | where | Secret | ConfigMap |
//! | --- | --- | --- |
//! | `spec.imagePullSecrets[].name` | ✓ | |
//! | every container (init, regular, ephemeral): `envFrom[].secretRef/configMapRef` | ✓ | ✓ |
//! | every container: `env[].valueFrom.secretKeyRef/configMapKeyRef` | ✓ | ✓ |
//! | volumes: `secret.secretName` / `configMap.name` | ✓ | ✓ |
//! | volumes: `projected.sources[].secret/configMap` | ✓ | ✓ |
//! | volumes: `azureFile.secretName`; `cephfs`, `cinder`, `flexVolume`, `rbd`, `scaleIO`, `iscsi`, `storageos` `.secretRef.name`; `csi.nodePublishSecretRef.name` | ✓ | |
//!
//! Empty names are skipped. Transitive references (pod → PVC → PV → secret) are not followed,
//! as upstream.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::api::core::{Container, EnvFromSource, EnvVarSource, Pod, VolumeSource};

/// The Secrets `pod` references.
pub fn secret_names(pod: &Pod) -> BTreeSet<String> {
    let mut names = Names::default();
    for reference in &pod.spec.image_pull_secrets {
        names.add(reference.name.as_deref());
    }
    names.add_container_refs(
        pod,
        |f| f.secret_ref.as_ref()?.name.as_deref(),
        |v| v.secret_key_ref.as_ref()?.name.as_deref(),
    );
    for source in pod.spec.volumes.iter().map(|v| &v.source) {
        names.add(source.secret.as_ref().and_then(|s| s.secret_name.as_deref()));
        for projection in source.projected.iter().flat_map(|p| &p.sources) {
            names.add(projection.secret.as_ref().and_then(|s| s.name.as_deref()));
        }
        for name in opaque_secret_names(source) {
            names.add(Some(name));
        }
    }
    names.0
}

/// The ConfigMaps `pod` references.
pub fn config_map_names(pod: &Pod) -> BTreeSet<String> {
    let mut names = Names::default();
    names.add_container_refs(
        pod,
        |f| f.config_map_ref.as_ref()?.name.as_deref(),
        |v| v.config_map_key_ref.as_ref()?.name.as_deref(),
    );
    for source in pod.spec.volumes.iter().map(|v| &v.source) {
        names.add(source.config_map.as_ref().and_then(|s| s.name.as_deref()));
        for projection in source.projected.iter().flat_map(|p| &p.sources) {
            names.add(projection.config_map.as_ref().and_then(|s| s.name.as_deref()));
        }
    }
    names.0
}

#[derive(Default)]
struct Names(BTreeSet<String>);

impl Names {
    fn add(&mut self, name: Option<&str>) {
        if let Some(n) = name.filter(|n| !n.is_empty()) {
            self.0.insert(n.to_string());
        }
    }

    /// The `envFrom` and `env[].valueFrom` references of every container.
    fn add_container_refs(
        &mut self,
        pod: &Pod,
        env_from: impl Fn(&EnvFromSource) -> Option<&str>,
        value_from: impl Fn(&EnvVarSource) -> Option<&str>,
    ) {
        for c in containers(pod) {
            for from in &c.env_from {
                self.add(env_from(from));
            }
            for var in &c.env {
                self.add(var.value_from.as_ref().and_then(&value_from));
            }
        }
    }
}

/// Init, regular and ephemeral containers (upstream's `AllContainers`).
fn containers(pod: &Pod) -> impl Iterator<Item = &Container> {
    let spec = &pod.spec;
    spec.init_containers
        .iter()
        .chain(&spec.containers)
        .chain(spec.ephemeral_containers.iter().map(|e| &e.common))
}

/// Secret names inside the storage-backend sources rkubelet keeps as opaque JSON.
fn opaque_secret_names(source: &VolumeSource) -> impl Iterator<Item = &str> {
    fn name_at<'a>(v: &'a Option<Value>, pointer: &str) -> Option<&'a str> {
        v.as_ref()?.pointer(pointer)?.as_str()
    }
    [
        name_at(&source.azure_file, "/secretName"),
        name_at(&source.cephfs, "/secretRef/name"),
        name_at(&source.cinder, "/secretRef/name"),
        name_at(&source.flex_volume, "/secretRef/name"),
        name_at(&source.rbd, "/secretRef/name"),
        name_at(&source.scale_io, "/secretRef/name"),
        name_at(&source.iscsi, "/secretRef/name"),
        name_at(&source.storageos, "/secretRef/name"),
        name_at(&source.csi, "/nodePublishSecretRef/name"),
    ]
    .into_iter()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).expect("pod")
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    /// A pod that references a Secret and a ConfigMap from every place it can.
    fn everything() -> Pod {
        let env = |prefix: &str| {
            serde_json::json!({
                "envFrom": [{"secretRef": {"name": format!("{prefix}-sec-from")}},
                            {"configMapRef": {"name": format!("{prefix}-cm-from")}},
                            {"prefix": "X_"}],
                "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": format!("{prefix}-sec-key"), "key": "k"}}},
                        {"name": "B", "valueFrom": {"configMapKeyRef": {"name": format!("{prefix}-cm-key"), "key": "k"}}},
                        {"name": "C", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                        {"name": "D", "value": "plain"}]
            })
        };
        let container = |name: &str| {
            let mut c = env(name);
            c["name"] = name.into();
            c
        };
        pod(serde_json::json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u1"},
            "spec": {
                "imagePullSecrets": [{"name": "pull"}, {"name": ""}],
                "initContainers": [container("init")],
                "containers": [container("app")],
                "ephemeralContainers": [container("debug")],
                "volumes": [
                    {"name": "v1", "secret": {"secretName": "vol-sec"}},
                    {"name": "v2", "configMap": {"name": "vol-cm"}},
                    {"name": "v3", "projected": {"sources": [
                        {"secret": {"name": "proj-sec"}}, {"configMap": {"name": "proj-cm"}},
                        {"downwardAPI": {"items": []}}, {"serviceAccountToken": {"path": "token"}}]}},
                    {"name": "v4", "azureFile": {"secretName": "azure", "shareName": "s"}},
                    {"name": "v5", "cephfs": {"monitors": ["m"], "secretRef": {"name": "ceph"}}},
                    {"name": "v6", "cinder": {"volumeID": "x", "secretRef": {"name": "cinder"}}},
                    {"name": "v7", "flexVolume": {"driver": "d", "secretRef": {"name": "flex"}}},
                    {"name": "v8", "rbd": {"monitors": ["m"], "image": "i", "secretRef": {"name": "rbd"}}},
                    {"name": "v9", "scaleIO": {"gateway": "g", "system": "s", "secretRef": {"name": "scaleio"}}},
                    {"name": "v10", "iscsi": {"targetPortal": "t", "iqn": "i", "lun": 0, "secretRef": {"name": "iscsi"}}},
                    {"name": "v11", "storageos": {"volumeName": "v", "secretRef": {"name": "storageos"}}},
                    {"name": "v12", "csi": {"driver": "d", "nodePublishSecretRef": {"name": "csi"}}},
                    {"name": "v13", "emptyDir": {}},
                    {"name": "v14", "cephfs": {"monitors": ["m"]}}
                ]
            }
        }))
    }

    #[test]
    fn every_secret_reference_is_found() {
        let mut want = set(&[
            "pull",
            "vol-sec",
            "proj-sec",
            "azure",
            "ceph",
            "cinder",
            "flex",
            "rbd",
            "scaleio",
            "iscsi",
            "storageos",
            "csi",
        ]);
        for c in ["init", "app", "debug"] {
            want.insert(format!("{c}-sec-from"));
            want.insert(format!("{c}-sec-key"));
        }
        assert_eq!(secret_names(&everything()), want);
    }

    #[test]
    fn every_config_map_reference_is_found() {
        let mut want = set(&["vol-cm", "proj-cm"]);
        for c in ["init", "app", "debug"] {
            want.insert(format!("{c}-cm-from"));
            want.insert(format!("{c}-cm-key"));
        }
        assert_eq!(config_map_names(&everything()), want);
    }

    #[test]
    fn the_service_account_volume_references_kube_root_ca() {
        let p = pod(
            serde_json::json!({"spec": {"volumes": [{"name": "kube-api-access-x", "projected": {"sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}]}}
            ]}}]}}),
        );
        assert_eq!(config_map_names(&p), set(&["kube-root-ca.crt"]));
        assert!(secret_names(&p).is_empty());
    }

    #[test]
    fn a_pod_without_references_has_none() {
        let p = pod(serde_json::json!({"spec": {"containers": [{"name": "c", "image": "i"}]}}));
        assert!(secret_names(&p).is_empty() && config_map_names(&p).is_empty());
    }
}
