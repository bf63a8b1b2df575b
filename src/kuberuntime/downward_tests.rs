use serde_json::json;

use super::*;
use crate::kuberuntime::testutil::pod;

const GI: i64 = 1 << 30;

#[test]
fn downward_api_resources() {
    let n = NodeContext {
        allocatable_cpu_milli: Some(4000),
        allocatable_memory: Some(8 * GI),
        ..NodeContext::default()
    };
    let p = pod(json!({
        "initContainers": [{"name": "init"}],
        "containers": [
            {"name": "app", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}},
            {"name": "side"},
        ],
    }));
    let value = |resource: &str, divisor: Option<&str>, container: Option<&str>| {
        let sel = ResourceFieldSelector {
            container_name: container.map(str::to_string),
            resource: resource.to_string(),
            divisor: divisor.map(|d| Quantity::parse(d).expect("divisor")),
        };
        resource_field_value(&sel, &p, &p.spec.containers[0], &n)
    };
    assert_eq!(value("requests.cpu", None, None).expect("ok"), "1", "250m rounds up to 1 core");
    assert_eq!(value("requests.cpu", Some("1m"), None).expect("ok"), "250");
    assert_eq!(value("limits.memory", Some("1Mi"), None).expect("ok"), "128");
    assert_eq!(value("limits.cpu", Some("1m"), None).expect("ok"), "4000", "no limit: node allocatable");
    assert_eq!(value("limits.memory", Some("1Gi"), Some("side")).expect("ok"), "8");
    assert_eq!(
        value("limits.memory", None, Some("init")).expect("ok"),
        "0",
        "init containers are not defaulted"
    );
    assert_eq!(value("requests.ephemeral-storage", None, None).expect("ok"), "0");
    assert_eq!(
        value("limits.gpu", None, None).expect_err("unsupported").to_string(),
        "unsupported container resource : limits.gpu"
    );
    assert_eq!(
        value("requests.cpu", None, Some("nope")).expect_err("missing").to_string(),
        "container nope not found"
    );
}

#[test]
fn go_quoting() {
    assert_eq!(go_quote("plain"), "\"plain\"");
    assert_eq!(go_quote("tab\there\\ \"q\" \u{1}"), "\"tab\\there\\\\ \\\"q\\\" \\x01\"");
    assert_eq!(go_quote("caf\u{e9} \u{2603}"), "\"caf\u{e9} \u{2603}\"");
}
