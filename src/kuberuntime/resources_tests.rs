use serde_json::json;

use super::*;
use crate::kuberuntime::testutil::{pod, pod_with};

const GI: i64 = 1 << 30;

fn node() -> NodeContext {
    NodeContext { memory_capacity: 8 * GI, ..NodeContext::default() }
}

fn one(resources: serde_json::Value) -> Pod {
    pod(json!({"containers": [{"name": "app", "image": "nginx", "resources": resources}]}))
}

fn app(p: &Pod) -> &Container {
    &p.spec.containers[0]
}

#[test]
fn shares_and_quota() {
    assert_eq!(milli_cpu_to_shares(0), 2);
    assert_eq!(milli_cpu_to_shares(1), 2);
    assert_eq!(milli_cpu_to_shares(100), 102);
    assert_eq!(milli_cpu_to_shares(1000), 1024);
    assert_eq!(milli_cpu_to_shares(1_000_000), MAX_SHARES);
    assert_eq!(milli_cpu_to_quota(0, 100_000), 0);
    assert_eq!(milli_cpu_to_quota(5, 100_000), 1000, "at least 1 ms");
    assert_eq!(milli_cpu_to_quota(250, 100_000), 25_000);
    assert_eq!(milli_cpu_to_quota(1500, 50_000), 75_000);
}

#[test]
fn container_cgroup_settings() {
    let p = one(
        json!({"requests": {"cpu": "250m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "128Mi"}}),
    );
    let r = container_resources(&p, app(&p), &node());
    assert_eq!((r.cpu_shares, r.cpu_quota, r.cpu_period), (256, 50_000, 100_000));
    assert_eq!(r.memory_limit_in_bytes, 128 << 20);
    assert!(r.unified.is_empty(), "cgroup v1");
    assert!(r.hugepage_limits.is_empty());

    let limit_only = one(json!({"limits": {"cpu": "2"}}));
    let r = container_resources(&limit_only, app(&limit_only), &node());
    assert_eq!(
        (r.cpu_shares, r.cpu_quota, r.memory_limit_in_bytes),
        (2048, 200_000, 0),
        "request defaults to limit"
    );

    let none = one(json!({}));
    let r = container_resources(&none, app(&none), &node());
    assert_eq!((r.cpu_shares, r.cpu_quota, r.oom_score_adj), (2, 0, 1000));

    let no_quota = NodeContext { cpu_cfs_quota: false, ..node() };
    let r = container_resources(&p, app(&p), &no_quota);
    assert_eq!((r.cpu_quota, r.cpu_period), (0, 0));
}

#[test]
fn pod_level_limits_fill_in() {
    let p = pod(json!({
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
        "containers": [{"name": "app", "resources": {"requests": {"cpu": "100m"}}}],
    }));
    let r = container_resources(&p, app(&p), &node());
    assert_eq!((r.cpu_shares, r.cpu_quota, r.memory_limit_in_bytes), (102, 100_000, GI));
}

#[test]
fn oom_score_adj_policy() {
    let g = one(json!({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}));
    assert_eq!(oom_score_adj(&g, app(&g), 8 * GI), -997);
    let be = one(json!({}));
    assert_eq!(oom_score_adj(&be, app(&be), 8 * GI), 1000);
    let b = one(json!({"requests": {"memory": "2Gi"}}));
    assert_eq!(oom_score_adj(&b, app(&b), 8 * GI), 750, "1000 - 1000 × 2/8");
    let small = one(json!({"requests": {"cpu": "100m"}}));
    assert_eq!(oom_score_adj(&small, app(&small), 8 * GI), 999, "never equal to BestEffort");
    let big = one(json!({"requests": {"memory": "16Gi"}}));
    assert_eq!(oom_score_adj(&big, app(&big), 8 * GI), 3, "never below Guaranteed + 1000");
    let critical = pod_with(
        json!({"annotations": {"kubernetes.io/config.source": "file"}}),
        json!({"priorityClassName": "system-node-critical"}),
    );
    assert_eq!(oom_score_adj(&critical, app(&critical), 8 * GI), -997);
}

#[test]
fn sidecar_oom_score_follows_smallest_app_container() {
    let p = pod(json!({
        "initContainers": [{"name": "proxy", "restartPolicy": "Always", "resources": {"requests": {"memory": "1Gi"}}}],
        "containers": [
            {"name": "a", "resources": {"requests": {"memory": "2Gi"}}},
            {"name": "b", "resources": {"requests": {"memory": "4Gi"}}},
        ],
    }));
    let sidecar = &p.spec.init_containers[0];
    assert_eq!(oom_score_adj(&p, sidecar, 8 * GI), 750, "min(875, 750)");
    assert_eq!(oom_score_adj(&p, &p.spec.containers[1], 8 * GI), 500);
}

#[test]
fn pod_level_memory_request_is_shared_for_oom() {
    let p = pod(json!({
        "resources": {"requests": {"memory": "4Gi"}},
        "containers": [
            {"name": "a", "resources": {"requests": {"memory": "1Gi"}}},
            {"name": "b"},
        ],
    }));
    // 3Gi unassigned, 1.5Gi each: a = 1000 - 1000 × 2.5/8 = 688 (integer division).
    assert_eq!(oom_score_adj(&p, &p.spec.containers[0], 8 * GI), 688);
}

#[test]
fn cgroup_v2_settings() {
    let v2 = NodeContext { cgroup_v2: true, ..node() };
    let p = one(json!({"requests": {"memory": "64Mi"}, "limits": {"memory": "128Mi"}}));
    let r = container_resources(&p, app(&p), &v2);
    let keys: Vec<&str> = r.unified.keys().map(String::as_str).collect();
    assert_eq!(keys, ["memory.low", "memory.min", "memory.oom.group"]);
    assert_eq!((r.unified["memory.min"].as_str(), r.unified["memory.oom.group"].as_str()), ("0", "1"));

    let throttled = NodeContext { memory_throttling_factor: Some(0.9), ..v2.clone() };
    let r = container_resources(&p, app(&p), &throttled);
    // 64Mi + 0.9 × 64Mi = 121.6Mi, rounded down to pages.
    assert_eq!(r.unified["memory.high"], "127504384");

    let tiered = NodeContext { tiered_memory_reservation: true, ..v2.clone() };
    let r = container_resources(&p, app(&p), &tiered);
    assert_eq!(r.unified.get("memory.low").map(String::as_str), Some("67108864"));
    assert!(!r.unified.contains_key("memory.min"));

    let no_qos = NodeContext { memory_qos: false, single_process_oom_kill: Some(true), ..v2 };
    let r = container_resources(&p, app(&p), &no_qos);
    assert_eq!(r.unified.len(), 1);
    assert_eq!(r.unified["memory.high"], "max");
}

#[test]
fn swap_off_when_accounted() {
    let p = one(json!({"limits": {"memory": "128Mi"}}));
    let v1 = NodeContext { swap_controller: true, ..node() };
    assert_eq!(container_resources(&p, app(&p), &v1).memory_swap_limit_in_bytes, 128 << 20);
    let v2 = NodeContext { swap_controller: true, cgroup_v2: true, ..node() };
    assert_eq!(container_resources(&p, app(&p), &v2).unified["memory.swap.max"], "0");
}

#[test]
fn sandbox_and_overhead() {
    let p = pod(json!({
        "overhead": {"cpu": "100m", "memory": "32Mi"},
        "containers": [
            {"name": "a", "resources": {"requests": {"cpu": "200m"}, "limits": {"cpu": "500m", "memory": "64Mi"}}},
            {"name": "b", "resources": {"requests": {"cpu": "300m"}, "limits": {"cpu": "500m", "memory": "64Mi"}}},
        ],
    }));
    let s = sandbox_resources(&p, &node());
    assert_eq!(
        (s.cpu_shares, s.cpu_quota, s.memory_limit_in_bytes),
        (512, 100_000, 128 << 20),
        "without overhead"
    );
    let o = overhead_resources(&p, &node());
    assert_eq!((o.cpu_shares, o.cpu_quota, o.memory_limit_in_bytes), (102, 10_000, 32 << 20));
    assert_eq!(overhead_resources(&one(json!({})), &node()), LinuxContainerResources::default());
}

#[test]
fn pod_cgroup_config() {
    let g = one(json!({"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}));
    let c = pod_resource_config(&g, &node());
    assert_eq!(
        (c.cpu_shares, c.cpu_quota, c.cpu_period, c.memory),
        (Some(1024), Some(100_000), Some(100_000), Some(GI))
    );
    let b = pod(json!({"containers": [
        {"name": "a", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "200m"}}},
        {"name": "b", "resources": {"limits": {"memory": "64Mi"}}},
    ]}));
    let c = pod_resource_config(&b, &node());
    assert_eq!(c.cpu_shares, Some(102));
    assert_eq!((c.cpu_quota, c.memory), (None, None), "not every container declares the limits");
    let be = pod_resource_config(&one(json!({})), &NodeContext { cpu_cfs_quota: false, ..node() });
    assert_eq!((be.cpu_shares, be.cpu_quota, be.memory), (Some(2), None, None));
    let huge = one(
        json!({"requests": {"hugepages-2Mi": "4Mi", "memory": "1Gi", "cpu": "1"}, "limits": {"hugepages-2Mi": "4Mi", "memory": "1Gi", "cpu": "1"}}),
    );
    assert_eq!(pod_resource_config(&huge, &node()).hugepage_limits.get(&(2 << 20)), Some(&(4 << 20)));
}
