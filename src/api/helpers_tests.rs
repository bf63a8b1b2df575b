use super::*;
use crate::api::core::{Container, PodStatus};

fn list(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                Quantity::parse(v).unwrap_or_else(|e| panic!("{e}")),
            )
        })
        .collect()
}

fn container(name: &str, requests: &[(&str, &str)], limits: &[(&str, &str)]) -> Container {
    let resources = (!requests.is_empty() || !limits.is_empty()).then(|| ResourceRequirements {
        requests: list(requests),
        limits: list(limits),
        claims: Vec::new(),
    });
    Container {
        name: name.into(),
        resources,
        ..Container::default()
    }
}

fn sidecar(name: &str, requests: &[(&str, &str)]) -> Container {
    Container {
        restart_policy: Some("Always".into()),
        ..container(name, requests, &[])
    }
}

fn pod(init: Vec<Container>, containers: Vec<Container>) -> Pod {
    let mut p = Pod::default();
    p.spec.init_containers = init;
    p.spec.containers = containers;
    p
}

const GUARANTEED: &[(&str, &str)] = &[("cpu", "1"), ("memory", "1Gi")];

#[test]
fn full_name_is_name_underscore_namespace() {
    let mut p = Pod::default();
    p.metadata.name = Some("web".into());
    p.metadata.namespace = Some("kube-system".into());
    assert_eq!(p.full_name(), "web_kube-system");
    assert_eq!(pod_full_name("a", ""), "a_");
}

#[test]
fn container_resources_in_millicores_and_bytes() {
    let c = container(
        "c",
        &[("cpu", "250m"), ("memory", "64Mi")],
        &[("cpu", "1.5"), ("memory", "1G")],
    );
    let r = c.resource_requirements();
    assert_eq!(r.cpu_request_millis(), Some(250));
    assert_eq!(r.cpu_limit_millis(), Some(1500));
    assert_eq!(r.memory_request_bytes(), Some(64 << 20));
    assert_eq!(r.memory_limit_bytes(), Some(1_000_000_000));
    let none = Container::default();
    assert_eq!(none.resource_requirements().cpu_request_millis(), None);
    assert_eq!(bytes_from_milli(1500), 2);
    assert_eq!(bytes_from_milli(2000), 2);
}

#[test]
fn qos_best_effort_burstable_guaranteed() {
    assert_eq!(
        compute_pod_qos(&pod(vec![], vec![container("a", &[], &[])])),
        QosClass::BestEffort
    );
    assert_eq!(compute_pod_qos(&pod(vec![], vec![])), QosClass::BestEffort);
    let g = container("g", GUARANTEED, GUARANTEED);
    assert_eq!(
        compute_pod_qos(&pod(vec![], vec![g.clone()])),
        QosClass::Guaranteed
    );
    // Limits alone: requests default to them upstream (API defaulting), but on an
    // undefaulted object request 0 != limit, so Burstable, as upstream computes it.
    assert_eq!(
        compute_pod_qos(&pod(vec![], vec![container("l", &[], GUARANTEED)])),
        QosClass::Burstable
    );
    // Equal by value, not by spelling.
    let spelled = container("s", &[("cpu", "1000m"), ("memory", "1024Mi")], GUARANTEED);
    assert_eq!(
        compute_pod_qos(&pod(vec![], vec![spelled])),
        QosClass::Guaranteed
    );
    // cpu only: memory request and limit both zero, classes disagree.
    let cpu_only = container("c", &[("cpu", "1")], &[("cpu", "1")]);
    assert_eq!(
        compute_pod_qos(&pod(vec![], vec![cpu_only])),
        QosClass::Burstable
    );
    // Only non-compute resources: still BestEffort.
    let storage = container("e", &[("ephemeral-storage", "1Gi")], &[]);
    assert_eq!(
        compute_pod_qos(&pod(vec![], vec![storage])),
        QosClass::BestEffort
    );
    // A Guaranteed and a BestEffort container make a Burstable pod.
    let mixed = pod(vec![], vec![g.clone(), container("b", &[], &[])]);
    assert_eq!(compute_pod_qos(&mixed), QosClass::Burstable);
}

#[test]
fn qos_counts_init_containers() {
    let g = container("g", GUARANTEED, GUARANTEED);
    let p = pod(vec![container("init", &[], &[])], vec![g.clone()]);
    assert_eq!(compute_pod_qos(&p), QosClass::Burstable);
    let p = pod(vec![container("init", GUARANTEED, GUARANTEED)], vec![g]);
    assert_eq!(compute_pod_qos(&p), QosClass::Guaranteed);
}

#[test]
fn qos_pod_level_resources_decide_alone() {
    let mut p = pod(vec![], vec![container("b", &[], &[])]);
    p.spec.resources = Some(ResourceRequirements {
        requests: list(GUARANTEED),
        limits: list(GUARANTEED),
        claims: vec![],
    });
    assert_eq!(compute_pod_qos(&p), QosClass::Guaranteed);
    p.spec.resources = Some(ResourceRequirements {
        limits: list(GUARANTEED),
        ..ResourceRequirements::default()
    });
    assert_eq!(compute_pod_qos(&p), QosClass::Burstable);
}

#[test]
fn qos_recorded_in_status_wins() {
    let mut p = pod(vec![], vec![container("a", &[], &[])]);
    p.status = PodStatus {
        qos_class: Some("Guaranteed".into()),
        ..PodStatus::default()
    };
    assert_eq!(pod_qos(&p), QosClass::Guaranteed);
    assert_eq!(compute_pod_qos(&p), QosClass::BestEffort);
    assert_eq!(
        QosClass::parse(QosClass::Burstable.as_str()),
        Some(QosClass::Burstable)
    );
}

fn totals(pairs: &[(&str, i64)]) -> MilliTotals {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn pod_requests_sum_apps_and_take_init_peaks() {
    let p = pod(
        vec![
            container("i1", &[("cpu", "2"), ("memory", "100")], &[]),
            container("i2", &[("cpu", "500m")], &[]),
        ],
        vec![
            container("a", &[("cpu", "250m"), ("memory", "300")], &[]),
            container("b", &[("cpu", "250m")], &[]),
        ],
    );
    // cpu: max(0.5 apps, 2 init) = 2; memory: max(300, 100) = 300.
    assert_eq!(
        pod_requests(&p),
        totals(&[("cpu", 2000), ("memory", 300_000)])
    );
}

#[test]
fn pod_requests_with_sidecars() {
    // Sidecar s1 (1 cpu) starts, then init i (2 cpu) runs beside it: peak 3; then the app
    // (1 cpu) runs beside the sidecar: 2. The pod needs 3.
    let p = pod(
        vec![
            sidecar("s1", &[("cpu", "1")]),
            container("i", &[("cpu", "2")], &[]),
        ],
        vec![container("a", &[("cpu", "1")], &[])],
    );
    assert_eq!(pod_requests(&p), totals(&[("cpu", 3000)]));
    // A sidecar after the init container only adds to the steady state.
    let p = pod(
        vec![
            container("i", &[("cpu", "2")], &[]),
            sidecar("s1", &[("cpu", "1")]),
        ],
        vec![container("a", &[("cpu", "1")], &[])],
    );
    assert_eq!(pod_requests(&p), totals(&[("cpu", 2000)]));
}

#[test]
fn pod_requests_pod_level_and_overhead() {
    let mut p = pod(
        vec![],
        vec![container(
            "a",
            &[("cpu", "1"), ("ephemeral-storage", "1Gi")],
            &[],
        )],
    );
    p.spec.resources = Some(ResourceRequirements {
        requests: list(&[("cpu", "3")]),
        ..ResourceRequirements::default()
    });
    p.spec.overhead = list(&[("cpu", "100m"), ("memory", "10")]);
    assert_eq!(
        pod_requests(&p),
        totals(&[
            ("cpu", 3100),
            ("ephemeral-storage", (1 << 30) * 1000),
            ("memory", 10_000)
        ])
    );
}

#[test]
fn pod_limits_add_overhead_only_where_limited() {
    let mut p = pod(
        vec![],
        vec![
            container("a", &[], &[("cpu", "1")]),
            container("b", &[], &[("cpu", "500m")]),
        ],
    );
    p.spec.overhead = list(&[("cpu", "100m"), ("memory", "10")]);
    assert_eq!(pod_limits(&p), totals(&[("cpu", 1600)]));
    p.spec.resources = Some(ResourceRequirements {
        limits: list(&[("memory", "1Gi")]),
        ..ResourceRequirements::default()
    });
    assert_eq!(
        pod_limits(&p),
        totals(&[("cpu", 1600), ("memory", (1 << 30) * 1000 + 10_000)])
    );
}
