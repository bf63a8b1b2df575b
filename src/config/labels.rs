//! Label keys and values, node labels (`--node-labels`) and taints
//! (`--register-with-taints`, `registerWithTaints`), checked as upstream checks them.

#![forbid(unsafe_code)]

use super::config_types::Taint;
use std::collections::BTreeMap;

/// Labels the kubelet itself may set in the kubernetes.io namespaces.
const KUBELET_LABELS: &[&str] = &[
    "kubernetes.io/hostname",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "beta.kubernetes.io/instance-type",
    "node.kubernetes.io/instance-type",
    "kubernetes.io/os",
    "kubernetes.io/arch",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/arch",
];

/// Label namespaces (and their subdomains) the kubelet may set.
const KUBELET_LABEL_NAMESPACES: &[&str] = &["kubelet.kubernetes.io", "node.kubernetes.io"];

const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, at most 63 characters.
fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// A DNS-1123 subdomain: lowercase labels joined by dots, at most 253 characters.
fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.first().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && b.last().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        })
}

/// A label key or taint key: `[prefix/]name`.
pub fn is_qualified_name(key: &str) -> bool {
    match key.split_once('/') {
        Some((prefix, name)) => is_dns_subdomain(prefix) && is_name_part(name),
        None => is_name_part(key),
    }
}

pub fn is_label_value(value: &str) -> bool {
    value.is_empty() || is_name_part(value)
}

fn namespace(key: &str) -> &str {
    key.split_once('/').map_or("", |(ns, _)| ns)
}

fn is_kubernetes_label(key: &str) -> bool {
    let ns = namespace(key);
    ns == "kubernetes.io" || ns.ends_with(".kubernetes.io") || ns == "k8s.io" || ns.ends_with(".k8s.io")
}

fn is_kubelet_label(key: &str) -> bool {
    let ns = namespace(key);
    KUBELET_LABELS.contains(&key)
        || KUBELET_LABEL_NAMESPACES.iter().any(|allowed| ns == *allowed || ns.ends_with(&format!(".{allowed}")))
}

/// Add `k=v,k2=v2,k3` to `labels` (a key without `=` gets an empty value).
pub fn add_node_labels(labels: &mut BTreeMap<String, String>, text: &str) {
    for item in text.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = item.split_once('=').unwrap_or((item, ""));
        labels.insert(k.trim().to_string(), v.trim().to_string());
    }
}

/// Upstream's checks of `--node-labels`: valid keys and values, and no kubernetes.io label the
/// kubelet may not set. Returns one message per problem.
pub fn check_node_labels(labels: &BTreeMap<String, String>) -> Vec<String> {
    let mut problems = Vec::new();
    for (key, value) in labels {
        if is_kubernetes_label(key) && !is_kubelet_label(key) {
            problems.push(format!(
                "unknown 'kubernetes.io' or 'k8s.io' label {key:?}: allowed are the namespaces {} and the labels {}",
                KUBELET_LABEL_NAMESPACES.join(", "),
                KUBELET_LABELS.join(", ")
            ));
        }
        if !is_qualified_name(key) {
            problems.push(format!("invalid label key {key:?}"));
        }
        if !is_label_value(value) {
            problems.push(format!("invalid value {value:?} of label {key:?}"));
        }
    }
    problems
}

fn parse_taint(spec: &str) -> Result<Taint, String> {
    let invalid = || format!("invalid taint spec: {spec}");
    let (kv, effect) = spec.split_once(':').ok_or_else(invalid)?;
    if effect.contains(':') {
        return Err(invalid());
    }
    if !TAINT_EFFECTS.contains(&effect) {
        return Err(format!("invalid taint effect: {effect}, unsupported taint effect"));
    }
    let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
    if value.contains('=') || !is_label_value(value) || !is_qualified_name(key) {
        return Err(invalid());
    }
    Ok(Taint { key: key.to_string(), value: value.to_string(), effect: effect.to_string(), time_added: None })
}

/// `key=value:Effect,key:Effect`; an empty text means no taints. Each taint needs an effect,
/// and a key may appear once per effect.
pub fn parse_taints(text: &str) -> Result<Vec<Taint>, String> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut taints: Vec<Taint> = Vec::new();
    for spec in text.split(',') {
        let taint = parse_taint(spec)?;
        if taints.iter().any(|t| t.key == taint.key && t.effect == taint.effect) {
            return Err(format!("duplicated taints with the same key and effect: {}:{}", taint.key, taint.effect));
        }
        taints.push(taint);
    }
    Ok(taints)
}

/// Upstream's check of a taint from the config file; `None` when it is valid.
pub fn check_taint(taint: &Taint) -> Option<String> {
    if !is_qualified_name(&taint.key) {
        return Some(format!("invalid taint key {:?}", taint.key));
    }
    if !is_label_value(&taint.value) {
        return Some(format!("invalid taint value {:?}", taint.value));
    }
    if !taint.effect.is_empty() && !TAINT_EFFECTS.contains(&taint.effect.as_str()) {
        return Some(format!("invalid taint effect {:?}", taint.effect));
    }
    if taint.time_added.is_some() {
        return Some("taint.timeAdded must not be set".to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names() {
        assert!(is_qualified_name("app"));
        assert!(is_qualified_name("example.com/my-label_1.x"));
        assert!(!is_qualified_name("Example.com/x"));
        assert!(!is_qualified_name("/x"));
        assert!(!is_qualified_name("a/b/c"));
        assert!(!is_qualified_name("-x"));
        assert!(!is_qualified_name(&"x".repeat(64)));
        assert!(is_label_value(""));
        assert!(!is_label_value("a b"));
    }

    #[test]
    fn node_labels_parse_and_check() {
        let mut labels = BTreeMap::new();
        add_node_labels(&mut labels, "zone=a, role = edge,flag");
        add_node_labels(&mut labels, "node.kubernetes.io/exclude-from-external-load-balancers=true");
        assert_eq!(labels.get("role").map(String::as_str), Some("edge"));
        assert_eq!(labels.get("flag").map(String::as_str), Some(""));
        assert!(check_node_labels(&labels).is_empty());
        labels.insert("node-role.kubernetes.io/master".into(), String::new());
        labels.insert("kubernetes.io/hostname".into(), "ok".into());
        let problems = check_node_labels(&labels);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("node-role.kubernetes.io/master"));
    }

    #[test]
    fn taints() {
        let t = parse_taints("a=b:NoSchedule,c:NoExecute").unwrap_or_default();
        assert_eq!(t.len(), 2);
        assert_eq!((t[1].key.as_str(), t[1].value.as_str(), t[1].effect.as_str()), ("c", "", "NoExecute"));
        assert!(parse_taints("").is_ok_and(|t| t.is_empty()));
        assert!(parse_taints("a=b").is_err(), "an effect is required");
        assert!(parse_taints("a=b:Sometimes").is_err());
        assert!(parse_taints("a:NoSchedule,a=x:NoSchedule").is_err());
        assert!(parse_taints("a=b=c:NoSchedule").is_err());
        assert!(check_taint(&Taint { key: "bad key".into(), ..Taint::default() }).is_some());
    }
}
