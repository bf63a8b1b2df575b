//! Pods for the builders' unit tests.

use serde_json::{Value, json};

use crate::api::core::Pod;

/// Pod `web` in `prod` (uid `u-1`) with one container `app` (image `nginx`); `spec` and
/// `metadata` entries given here replace or add to those.
pub fn pod_with(metadata: Value, spec: Value) -> Pod {
    let mut v = json!({
        "metadata": {"name": "web", "namespace": "prod", "uid": "u-1"},
        "spec": {"containers": [{"name": "app", "image": "nginx"}]},
    });
    for (key, extra) in [("metadata", metadata), ("spec", spec)] {
        if let (Some(dst), Some(src)) = (v[key].as_object_mut(), extra.as_object()) {
            dst.extend(src.clone());
        }
    }
    serde_json::from_value(v).expect("test pod")
}

/// [`pod_with`] changing only the spec.
pub fn pod(spec: Value) -> Pod {
    pod_with(json!({}), spec)
}

pub fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}
