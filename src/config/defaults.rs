//! Upstream's v1beta1 defaulting, applied to a decoded config file (as a JSON value).
//!
//! The default values live in one place, `KubeletConfiguration::default()`; the field table
//! says when a value in the file counts as unset ([`Rule`]). A handful of defaults depend on
//! other fields or on feature gates: those are the `Rule::Special` fields, set here first.

#![forbid(unsafe_code)]

use super::duration::GoDuration;
use super::feature_gates::FeatureGates;
use super::fields::{self, Kind, Rule};
use super::kubelet_config::{DEFAULT_EVICTION_HARD, KubeletConfiguration};
use serde_json::{Map, Value, json};

/// The defaulted document: every field of the table present (null only for fields that stay
/// unset), ready to deserialize into [`KubeletConfiguration`].
pub fn apply(file: &Value, gates: &FeatureGates) -> Value {
    let mut out = file.as_object().cloned().unwrap_or_default();
    special(&mut out, gates);
    let defaults = crate::api::json::to_value(&KubeletConfiguration::default()).unwrap_or_default();
    fill(&mut out, defaults.as_object(), "");
    Value::Object(out)
}

fn is_unset(v: Option<&Value>) -> bool {
    v.is_none_or(Value::is_null)
}

fn is_zero(kind: Kind, v: &Value) -> bool {
    match kind {
        Kind::Int32 | Kind::Int64 | Kind::UInt32 => v.as_i64() == Some(0),
        Kind::String => v.as_str() == Some(""),
        Kind::Duration | Kind::DurationOrNanos => v.as_str().and_then(|s| GoDuration::parse(s).ok()).is_some_and(GoDuration::is_zero),
        _ => false,
    }
}

fn duration_of(v: Option<&Value>) -> GoDuration {
    v.and_then(Value::as_str).and_then(|s| GoDuration::parse(s).ok()).unwrap_or_default()
}

/// The defaults that depend on other fields or on feature gates.
fn special(out: &mut Map<String, Value>, gates: &FeatureGates) {
    // The report frequency follows an explicitly set update frequency.
    if duration_of(out.get("nodeStatusReportFrequency")).is_zero() {
        let update = duration_of(out.get("nodeStatusUpdateFrequency"));
        let report = if update.is_zero() { GoDuration::from_mins(5) } else { update };
        out.insert("nodeStatusReportFrequency".into(), json!(report.to_string()));
    }
    if is_unset(out.get("serializeImagePulls")) {
        let parallel = out.get("maxParallelImagePulls").and_then(Value::as_i64).unwrap_or(0);
        out.insert("serializeImagePulls".into(), json!(parallel < 2));
    }
    if out.get("podPidsLimit").and_then(Value::as_i64).is_none_or(|n| n < 0) {
        out.insert("podPidsLimit".into(), json!(-1));
    }
    // A file without evictionHard gets the Linux defaults; with mergeDefaultEvictionSettings,
    // the signals it does not name are added.
    let merge = out.get("mergeDefaultEvictionSettings").and_then(Value::as_bool).unwrap_or(false);
    let mut hard = match out.get("evictionHard") {
        Some(Value::Object(m)) if !merge => m.clone(),
        Some(Value::Object(m)) => {
            let mut m = m.clone();
            for (k, v) in DEFAULT_EVICTION_HARD {
                m.entry(k).or_insert_with(|| json!(v));
            }
            m
        }
        _ => DEFAULT_EVICTION_HARD.iter().map(|(k, v)| (k.to_string(), json!(v))).collect(),
    };
    hard.retain(|_, v| !v.is_null());
    out.insert("evictionHard".into(), Value::Object(hard));

    let crash = out.entry("crashLoopBackOff").or_insert_with(|| json!({}));
    if !crash.is_object() {
        *crash = json!({});
    }
    if let Value::Object(crash) = crash
        && is_unset(crash.get("maxContainerRestartPeriod"))
    {
        let max = gates.enabled("KubeletCrashLoopBackOffMax").then(|| json!(GoDuration::from_mins(5).to_string()));
        crash.insert("maxContainerRestartPeriod".into(), max.unwrap_or(Value::Null));
    }
    let policy = out.get("imagePullCredentialsVerificationPolicy").and_then(Value::as_str).unwrap_or_default();
    if policy.is_empty() {
        let default = if gates.enabled("KubeletEnsureSecretPulledImages") { "NeverVerifyPreloadedImages" } else { "" };
        out.insert("imagePullCredentialsVerificationPolicy".into(), json!(default));
    }
}

/// Give every field below `parent` its default where the file leaves it unset.
fn fill(out: &mut Map<String, Value>, defaults: Option<&Map<String, Value>>, parent: &str) {
    for field in fields::children(parent) {
        let key = fields::leaf_name(field.path);
        let default = defaults.and_then(|d| d.get(key)).cloned().unwrap_or(Value::Null);
        let current = out.get(key);
        let replace = match field.rule {
            Rule::Special => false,
            Rule::Plain => is_unset(current),
            Rule::ZeroMeansDefault => current.is_none_or(|v| v.is_null() || is_zero(field.kind, v)),
        };
        if replace {
            out.insert(key.to_string(), default.clone());
        }
        match (field.kind, out.get_mut(key)) {
            (Kind::Object, Some(Value::Object(inner))) => fill(inner, default.as_object(), field.path),
            // Go leaves null item fields at their zero value; serde fills missing ones.
            (Kind::ObjectList, Some(Value::Array(items))) => {
                for item in items.iter_mut().filter_map(Value::as_object_mut) {
                    item.retain(|_, v| !v.is_null());
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn defaulted(file: Value) -> KubeletConfiguration {
        defaulted_with(file, &FeatureGates::default())
    }

    fn defaulted_with(file: Value, gates: &FeatureGates) -> KubeletConfiguration {
        let v = apply(&file, gates);
        match serde_json::from_value(v) {
            Ok(kc) => kc,
            Err(e) => panic!("defaulted config does not decode: {e}"),
        }
    }

    #[test]
    fn an_empty_file_gets_the_struct_defaults() {
        let kc = defaulted(json!({"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration"}));
        assert_eq!(kc, KubeletConfiguration::default());
    }

    #[test]
    fn zero_means_default_only_for_go_value_fields() {
        let kc = defaulted(json!({"port": 0, "syncFrequency": "0s", "healthzPort": 0, "readOnlyPort": 0, "maxPods": 0, "address": ""}));
        assert_eq!(kc.port, 10250);
        assert_eq!(kc.sync_frequency, GoDuration::from_mins(1));
        assert_eq!(kc.max_pods, 110);
        assert_eq!(kc.address, "0.0.0.0");
        assert_eq!(kc.healthz_port, 0, "healthzPort is a pointer upstream: 0 turns it off");
        assert_eq!(kc.read_only_port, 0);
    }

    #[test]
    fn nested_objects_are_defaulted_field_by_field() {
        let kc = defaulted(json!({"authentication": {"webhook": {"enabled": false}}, "authorization": null}));
        assert!(!kc.authentication.webhook.enabled);
        assert_eq!(kc.authentication.webhook.cache_ttl, GoDuration::from_mins(2));
        assert!(!kc.authentication.anonymous.enabled);
        assert_eq!(kc.authorization.mode, "Webhook");
    }

    #[test]
    fn special_defaults() {
        let kc = defaulted(json!({"nodeStatusUpdateFrequency": "20s"}));
        assert_eq!(kc.node_status_report_frequency, GoDuration::from_secs(20));
        let kc = defaulted(json!({"maxParallelImagePulls": 3}));
        assert!(!kc.serialize_image_pulls);
        let kc = defaulted(json!({"podPidsLimit": -5}));
        assert_eq!(kc.pod_pids_limit, -1);
        let kc = defaulted(json!({"evictionHard": {"memory.available": "200Mi"}}));
        assert_eq!(kc.eviction_hard.len(), 1);
        let kc = defaulted(json!({"evictionHard": {"memory.available": "200Mi"}, "mergeDefaultEvictionSettings": true}));
        assert_eq!(kc.eviction_hard.len(), 5);
        assert_eq!(kc.eviction_hard["memory.available"], "200Mi");
        let kc = defaulted(json!({"evictionHard": {}}));
        assert!(kc.eviction_hard.is_empty(), "an explicit empty map stays empty");
        let kc = defaulted(json!({"enforceNodeAllocatable": []}));
        assert!(kc.enforce_node_allocatable.is_empty());
    }

    #[test]
    fn gate_dependent_defaults() {
        let set = BTreeMap::from([("KubeletCrashLoopBackOffMax".to_string(), false), ("KubeletEnsureSecretPulledImages".to_string(), false)]);
        let gates = FeatureGates::new(&set).map(|(g, _)| g).unwrap_or_default();
        let kc = defaulted_with(json!({}), &gates);
        assert_eq!(kc.crash_loop_back_off.max_container_restart_period, None);
        assert_eq!(kc.image_pull_credentials_verification_policy, "");
    }

    #[test]
    fn list_items_tolerate_nulls() {
        let kc = defaulted(json!({"registerWithTaints": [{"key": "a", "value": null, "effect": "NoSchedule"}]}));
        assert_eq!(kc.register_with_taints[0].value, "");
    }
}
