//! Small pure functions over API objects that many modules need: the pod's full name,
//! container and pod resource totals, and the pod QoS class.
//!
//! Pod totals follow upstream's spec-based computation (component-helpers `PodRequests` /
//! `PodLimits` without status resources or DRA claims): app containers and sidecars (init
//! containers with `restartPolicy: Always`) add up, each ordinary init container runs with
//! the sidecars started before it, the pod needs the larger of the two, pod-level
//! `resources` replace the aggregate for cpu, memory and hugepages, and `overhead` is added.
//! Totals are in milli-units (millicores for cpu, thousandths of a byte for memory), so
//! every resource fits one map; [`bytes_from_milli`] converts back.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use super::core::{Container, Pod, PodSpec, ResourceRequirements};
use super::quantity::Quantity;

pub const CPU: &str = "cpu";
pub const MEMORY: &str = "memory";
pub const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
pub const PODS: &str = "pods";
pub const HUGEPAGES_PREFIX: &str = "hugepages-";

/// Upstream's pod full name, `<name>_<namespace>`: the key of many kubelet maps and of log
/// lines.
pub fn pod_full_name(name: &str, namespace: &str) -> String {
    format!("{name}_{namespace}")
}

impl Pod {
    /// `<name>_<namespace>`, as [`pod_full_name`].
    pub fn full_name(&self) -> String {
        pod_full_name(self.metadata.name(), self.metadata.namespace())
    }
}

static NO_RESOURCES: ResourceRequirements = ResourceRequirements {
    limits: BTreeMap::new(),
    requests: BTreeMap::new(),
    claims: Vec::new(),
};

impl Container {
    /// The container's resources, or empty ones when unset.
    pub fn resource_requirements(&self) -> &ResourceRequirements {
        self.resources.as_ref().unwrap_or(&NO_RESOURCES)
    }

    /// A sidecar: an init container that keeps running (`restartPolicy: Always`).
    pub fn is_restartable_init(&self) -> bool {
        self.restart_policy.as_deref() == Some("Always")
    }
}

impl ResourceRequirements {
    pub fn request(&self, name: &str) -> Option<&Quantity> {
        self.requests.get(name)
    }

    pub fn limit(&self, name: &str) -> Option<&Quantity> {
        self.limits.get(name)
    }

    /// CPU request in millicores (`None` if unset or beyond `i64`).
    pub fn cpu_request_millis(&self) -> Option<i64> {
        self.request(CPU).and_then(Quantity::milli_value)
    }

    /// CPU limit in millicores.
    pub fn cpu_limit_millis(&self) -> Option<i64> {
        self.limit(CPU).and_then(Quantity::milli_value)
    }

    /// Memory request in bytes.
    pub fn memory_request_bytes(&self) -> Option<i64> {
        self.request(MEMORY).and_then(Quantity::value)
    }

    /// Memory limit in bytes.
    pub fn memory_limit_bytes(&self) -> Option<i64> {
        self.limit(MEMORY).and_then(Quantity::value)
    }
}

/// Resource name to amount in milli-units.
pub type MilliTotals = BTreeMap<String, i64>;

/// Whole units (bytes for memory) from a milli-unit total, rounded up.
pub fn bytes_from_milli(milli: i64) -> i64 {
    milli.div_euclid(1000) + i64::from(milli.rem_euclid(1000) != 0)
}

fn add_list(total: &mut MilliTotals, list: &BTreeMap<String, Quantity>) {
    for (name, q) in list {
        let v = q.milli_value().unwrap_or(i64::MAX);
        let slot = total.entry(name.clone()).or_insert(0);
        *slot = slot.saturating_add(v);
    }
}

fn max_into(total: &mut MilliTotals, other: &MilliTotals) {
    for (name, &v) in other {
        let slot = total.entry(name.clone()).or_insert(v);
        *slot = (*slot).max(v);
    }
}

fn is_pod_level_resource(name: &str) -> bool {
    name == CPU || name == MEMORY || name.starts_with(HUGEPAGES_PREFIX)
}

/// Sums app containers and sidecars, then takes the max with the init-container peaks.
fn aggregate(
    spec: &PodSpec,
    pick: fn(&ResourceRequirements) -> &BTreeMap<String, Quantity>,
) -> MilliTotals {
    let mut total = MilliTotals::new();
    for c in &spec.containers {
        add_list(&mut total, pick(c.resource_requirements()));
    }
    let mut sidecars = MilliTotals::new();
    let mut init_peak = MilliTotals::new();
    for c in &spec.init_containers {
        let own = pick(c.resource_requirements());
        let in_use = if c.is_restartable_init() {
            add_list(&mut total, own);
            add_list(&mut sidecars, own);
            sidecars.clone()
        } else {
            let mut with_sidecars = sidecars.clone();
            add_list(&mut with_sidecars, own);
            with_sidecars
        };
        max_into(&mut init_peak, &in_use);
    }
    max_into(&mut total, &init_peak);
    total
}

/// Replaces the aggregate with pod-level values for the resources they cover.
fn apply_pod_level(total: &mut MilliTotals, pod_level: &BTreeMap<String, Quantity>) {
    for (name, q) in pod_level.iter().filter(|(n, _)| is_pod_level_resource(n)) {
        total.insert(name.clone(), q.milli_value().unwrap_or(i64::MAX));
    }
}

/// What the pod requests from the node, for admission and cgroup shares.
pub fn pod_requests(pod: &Pod) -> MilliTotals {
    let spec = &pod.spec;
    let mut total = aggregate(spec, |r| &r.requests);
    if let Some(pod_level) = &spec.resources
        && pod_level.requests.keys().any(|n| is_pod_level_resource(n))
    {
        apply_pod_level(&mut total, &pod_level.requests);
    }
    add_list(&mut total, &spec.overhead);
    total
}

/// The pod's limits, for the pod cgroup. Overhead is added only to resources that have a
/// non-zero limit; a resource absent from the map is unlimited.
pub fn pod_limits(pod: &Pod) -> MilliTotals {
    let spec = &pod.spec;
    let mut total = aggregate(spec, |r| &r.limits);
    if let Some(pod_level) = &spec.resources {
        let any_set = pod_level
            .requests
            .keys()
            .chain(pod_level.limits.keys())
            .any(|n| is_pod_level_resource(n));
        if any_set {
            apply_pod_level(&mut total, &pod_level.limits);
        }
    }
    for (name, q) in &spec.overhead {
        if let Some(slot) = total.get_mut(name).filter(|v| **v != 0) {
            *slot = slot.saturating_add(q.milli_value().unwrap_or(i64::MAX));
        }
    }
    total
}

/// A pod's Quality of Service class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QosClass {
    Guaranteed,
    Burstable,
    BestEffort,
}

impl QosClass {
    /// The API spelling, as in `status.qosClass`.
    pub fn as_str(self) -> &'static str {
        match self {
            QosClass::Guaranteed => "Guaranteed",
            QosClass::Burstable => "Burstable",
            QosClass::BestEffort => "BestEffort",
        }
    }

    pub fn parse(s: &str) -> Option<QosClass> {
        match s {
            "Guaranteed" => Some(QosClass::Guaranteed),
            "Burstable" => Some(QosClass::Burstable),
            "BestEffort" => Some(QosClass::BestEffort),
            _ => None,
        }
    }
}

/// The class recorded in `status.qosClass`, or computed from the spec when absent (as
/// upstream's `GetPodQOS`: the class never changes once set, even after a resize).
pub fn pod_qos(pod: &Pod) -> QosClass {
    pod.status
        .qos_class
        .as_deref()
        .and_then(QosClass::parse)
        .unwrap_or_else(|| compute_pod_qos(pod))
}

/// The class from the spec (upstream's `ComputePodQOS`, `PodLevelResources` on): pod-level
/// resources decide alone when present; otherwise every init and app container must be
/// Guaranteed for the pod to be, or all BestEffort for the pod to be; anything else is
/// Burstable.
pub fn compute_pod_qos(pod: &Pod) -> QosClass {
    if let Some(pod_level) = &pod.spec.resources {
        return resources_qos(pod_level);
    }
    let mut classes = pod
        .spec
        .init_containers
        .iter()
        .chain(&pod.spec.containers)
        .map(|c| resources_qos(c.resource_requirements()));
    let Some(first) = classes.next() else {
        return QosClass::BestEffort;
    };
    if classes.all(|c| c == first) {
        first
    } else {
        QosClass::Burstable
    }
}

/// The class of one set of requirements; only cpu and memory count.
fn resources_qos(r: &ResourceRequirements) -> QosClass {
    if r.requests.is_empty() && r.limits.is_empty() {
        return QosClass::BestEffort;
    }
    let zero = Quantity::default();
    let mut class = None;
    for name in [CPU, MEMORY] {
        let request = r.request(name).unwrap_or(&zero);
        let limit = r.limit(name).unwrap_or(&zero);
        if request != limit {
            return QosClass::Burstable;
        }
        let this = if request.is_zero() {
            QosClass::BestEffort
        } else {
            QosClass::Guaranteed
        };
        match class {
            None => class = Some(this),
            Some(c) if c != this => return QosClass::Burstable,
            Some(_) => {}
        }
    }
    class.unwrap_or(QosClass::BestEffort)
}

#[cfg(test)]
#[path = "helpers_tests.rs"]
mod tests;
