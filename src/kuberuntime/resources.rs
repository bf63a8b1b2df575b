//! cgroup resources from requests and limits: containers, the sandbox, the pod cgroup, and
//! the OOM score.
//!
//! - cpu shares from the cpu request (the limit when there is no request): `milli × 1024 /
//!   1000`, at least 2, at most 262144;
//! - cpu quota from the cpu limit: `milli × period / 1000`, at least 1000 µs, when
//!   `cpuCFSQuota` (period `cpuCFSQuotaPeriod`, 100 ms);
//! - memory limit in bytes from the memory limit (0 = unlimited);
//! - `oom_score_adj`: Guaranteed -997, BestEffort 1000, Burstable `1000 - 1000 × request /
//!   capacity` clamped to 3..=999 (sidecars no higher than the smallest app container);
//! - on cgroup v2: `memory.oom.group=1` unless `singleProcessOOMKill`, and the MemoryQoS
//!   settings (`memory.min`/`memory.low` `0`, or the request with `TieredReservation`;
//!   `memory.high` from `memoryThrottlingFactor`).
//!
//! Pod-level `resources` stand in for a container's missing cpu/memory limits. Not done:
//! hugepage limits (upstream lists the host's page sizes), exclusive CPUs (no CPU manager),
//! `LimitedSwap`.

use std::collections::BTreeMap;

use crate::api::core::{Container, Pod, ResourceRequirements};
use crate::api::helpers::{self, CPU, HUGEPAGES_PREFIX, MEMORY, QosClass};
use crate::api::quantity::Quantity;
use crate::cri::LinuxContainerResources;

use super::node::NodeContext;

pub const MIN_SHARES: i64 = 2;
pub const MAX_SHARES: i64 = 262_144;
const SHARES_PER_CPU: i64 = 1024;
const MIN_QUOTA_PERIOD: i64 = 1000;
const GUARANTEED_OOM_SCORE_ADJ: i64 = -997;
const BESTEFFORT_OOM_SCORE_ADJ: i64 = 1000;
/// `system-node-critical`, the priority class whose pods are never OOM-killed first.
const SYSTEM_NODE_CRITICAL: &str = "system-node-critical";
const SYSTEM_CRITICAL_PRIORITY: i32 = 2_000_000_000;
/// The page size `memory.high` is rounded down to (upstream asks the OS; 4 KiB on our targets).
const PAGE_SIZE: i64 = 4096;

/// cpu shares for a cpu request in millicores.
pub fn milli_cpu_to_shares(milli: i64) -> i64 {
    if milli == 0 {
        return MIN_SHARES;
    }
    (milli.saturating_mul(SHARES_PER_CPU) / 1000).clamp(MIN_SHARES, MAX_SHARES)
}

/// The CFS quota (µs per `period`) for a cpu limit in millicores; 0 for no limit.
pub fn milli_cpu_to_quota(milli: i64, period: i64) -> i64 {
    if milli == 0 {
        return 0;
    }
    (milli.saturating_mul(period) / 1000).max(MIN_QUOTA_PERIOD)
}

/// Upstream's `calculateLinuxResources`: shares from the request (else the limit), quota
/// and memory from the limits.
fn linux_resources(
    cpu_request: Option<i64>,
    cpu_limit: i64,
    memory_limit: i64,
    node: &NodeContext,
) -> LinuxContainerResources {
    let mut r = LinuxContainerResources {
        cpu_shares: milli_cpu_to_shares(cpu_request.unwrap_or(cpu_limit)),
        memory_limit_in_bytes: memory_limit.max(0),
        ..Default::default()
    };
    if node.cpu_cfs_quota {
        r.cpu_period = node.cpu_cfs_quota_period_us;
        r.cpu_quota = milli_cpu_to_quota(cpu_limit, r.cpu_period);
    }
    if node.cgroup_v2 && !node.single_process_oom_kill() {
        r.unified.insert("memory.oom.group".into(), "1".into());
    }
    r
}

fn pod_level(pod: &Pod) -> Option<&ResourceRequirements> {
    let supported = |name: &String| name == CPU || name == MEMORY || name.starts_with(HUGEPAGES_PREFIX);
    pod.spec.resources.as_ref().filter(|r| r.requests.keys().chain(r.limits.keys()).any(supported))
}

pub(super) fn milli(q: Option<&Quantity>) -> i64 {
    q.and_then(Quantity::milli_value).unwrap_or(0)
}

pub(super) fn value(q: Option<&Quantity>) -> i64 {
    q.and_then(Quantity::value).unwrap_or(0)
}

/// A container's cpu limit (millicores) and memory limit (bytes), taking the pod-level
/// limit where the container has none.
fn container_limits(pod: &Pod, c: &Container) -> (i64, i64) {
    let own = c.resource_requirements();
    let mut cpu = milli(own.limit(CPU));
    let mut memory = value(own.limit(MEMORY));
    if let Some(pod_level) = pod_level(pod) {
        if cpu == 0 {
            cpu = milli(pod_level.limit(CPU));
        }
        if memory == 0 {
            memory = value(pod_level.limit(MEMORY));
        }
    }
    (cpu, memory)
}

/// A container's `linux.resources`.
pub fn container_resources(pod: &Pod, c: &Container, node: &NodeContext) -> LinuxContainerResources {
    let own = c.resource_requirements();
    let (cpu_limit, memory_limit) = container_limits(pod, c);
    let cpu_request = own.cpu_request_millis();
    let mut r = linux_resources(Some(cpu_request.unwrap_or(cpu_limit)), cpu_limit, memory_limit, node);
    r.oom_score_adj = oom_score_adj(pod, c, node.memory_capacity);
    if node.swap_controller {
        // NoSwap, the default swap behaviour.
        if node.cgroup_v2 {
            r.unified.insert("memory.swap.max".into(), "0".into());
        } else {
            r.memory_swap_limit_in_bytes = r.memory_limit_in_bytes;
        }
    }
    if node.enforce_memory_qos() {
        memory_qos(pod, c, node, &mut r.unified);
    } else if node.cgroup_v2 {
        r.unified.insert("memory.high".into(), "max".into());
    }
    r
}

/// `memory.min`/`memory.low`/`memory.high` for a container (MemoryQoS on cgroup v2).
fn memory_qos(pod: &Pod, c: &Container, node: &NodeContext, unified: &mut BTreeMap<String, String>) {
    let own = c.resource_requirements();
    let request = own.memory_request_bytes().unwrap_or(0);
    let limit = own.memory_limit_bytes().unwrap_or(0);
    if request != 0 && node.tiered_memory_reservation {
        let key = if helpers::pod_qos(pod) == QosClass::Guaranteed { "memory.min" } else { "memory.low" };
        unified.insert(key.into(), request.to_string());
    } else {
        unified.insert("memory.min".into(), "0".into());
        unified.insert("memory.low".into(), "0".into());
    }
    let pod_limits_memory = pod_level(pod).is_some_and(|p| value(p.limit(MEMORY)) != 0);
    let skip_high = limit == 0 && pod_limits_memory;
    let Some(factor) = node.memory_throttling_factor else { return };
    if skip_high || (request == limit && request != 0) {
        return;
    }
    let ceiling = if limit != 0 { limit } else { node.allocatable_memory.unwrap_or(0) };
    if ceiling <= 0 {
        return;
    }
    // Floating point as upstream, then whole pages.
    let raw = request as f64 + (ceiling as f64 - request as f64) * factor;
    let high = (raw / PAGE_SIZE as f64).floor() as i64 * PAGE_SIZE;
    if high != 0 && high > request {
        unified.insert("memory.high".into(), high.to_string());
    }
}

/// A pod without its overhead, for totals that exclude it.
fn without_overhead(pod: &Pod) -> Pod {
    let mut p = pod.clone();
    p.spec.overhead.clear();
    p
}

/// The sandbox's `linux.resources`: the pod's totals without overhead.
pub fn sandbox_resources(pod: &Pod, node: &NodeContext) -> LinuxContainerResources {
    let bare = without_overhead(pod);
    let requests = helpers::pod_requests(&bare);
    let limits = helpers::pod_limits(&bare);
    let cpu_limit = limits.get(CPU).copied().unwrap_or(0);
    let memory_limit = helpers::bytes_from_milli(limits.get(MEMORY).copied().unwrap_or(0));
    linux_resources(requests.get(CPU).copied(), cpu_limit, memory_limit, node)
}

/// The sandbox's `linux.overhead`: the pod's `overhead` as if requests were limits.
pub fn overhead_resources(pod: &Pod, node: &NodeContext) -> LinuxContainerResources {
    if pod.spec.overhead.is_empty() {
        return LinuxContainerResources::default();
    }
    let cpu = milli(pod.spec.overhead.get(CPU));
    let memory = value(pod.spec.overhead.get(MEMORY));
    linux_resources(Some(cpu), cpu, memory, node)
}

/// What the pod cgroup gets (upstream's `ResourceConfigForPod`); `None` leaves a setting alone.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodResourceConfig {
    pub cpu_shares: Option<i64>,
    /// -1 when `cpuCFSQuota` is off.
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<i64>,
    pub memory: Option<i64>,
    /// Page size in bytes → limit in bytes.
    pub hugepage_limits: BTreeMap<i64, i64>,
    pub unified: BTreeMap<String, String>,
}

/// The pod cgroup's settings.
pub fn pod_resource_config(pod: &Pod, node: &NodeContext) -> PodResourceConfig {
    let requests = helpers::pod_requests(pod);
    let limits = helpers::pod_limits(pod);
    let containers = || pod.spec.init_containers.iter().chain(&pod.spec.containers);
    let pod_limit = |name| pod_level(pod).is_some_and(|p| milli(p.limit(name)) != 0);
    let cpu_declared =
        containers().all(|c| milli(c.resource_requirements().limit(CPU)) != 0) || pod_limit(CPU);
    let memory_declared =
        containers().all(|c| milli(c.resource_requirements().limit(MEMORY)) != 0) || pod_limit(MEMORY);

    let shares = milli_cpu_to_shares(requests.get(CPU).copied().unwrap_or(0));
    let period = node.cpu_cfs_quota_period_us;
    let quota = if node.cpu_cfs_quota {
        milli_cpu_to_quota(limits.get(CPU).copied().unwrap_or(0), period)
    } else {
        -1
    };
    let memory = helpers::bytes_from_milli(limits.get(MEMORY).copied().unwrap_or(0));

    let mut config = PodResourceConfig { cpu_shares: Some(shares), ..Default::default() };
    let qos = helpers::pod_qos(pod);
    match qos {
        QosClass::Guaranteed => {
            (config.cpu_quota, config.cpu_period, config.memory) = (Some(quota), Some(period), Some(memory));
        }
        QosClass::Burstable => {
            if cpu_declared {
                (config.cpu_quota, config.cpu_period) = (Some(quota), Some(period));
            }
            if memory_declared {
                config.memory = Some(memory);
            }
        }
        QosClass::BestEffort => config.cpu_shares = Some(MIN_SHARES),
    }
    for (name, &total) in &requests {
        let Some(size) = name.strip_prefix(HUGEPAGES_PREFIX) else { continue };
        if let Some(page) = Quantity::parse(size).ok().and_then(|q| q.value()) {
            *config.hugepage_limits.entry(page).or_insert(0) += helpers::bytes_from_milli(total);
        }
    }
    let memory_request = helpers::bytes_from_milli(requests.get(MEMORY).copied().unwrap_or(0));
    if node.enforce_memory_qos() && node.tiered_memory_reservation && memory_request > 0 {
        let key = if qos == QosClass::Guaranteed { "memory.min" } else { "memory.low" };
        config.unified.insert(key.into(), memory_request.to_string());
    }
    config
}

/// The node-critical pods: static, mirror or system-critical priority, in the
/// `system-node-critical` class.
fn is_node_critical(pod: &Pod) -> bool {
    let annotations = &pod.metadata.annotations;
    let is_static = annotations.get("kubernetes.io/config.source").is_some_and(|s| s != "api");
    let critical = is_static
        || annotations.contains_key("kubernetes.io/config.mirror")
        || pod.spec.priority.is_some_and(|p| p >= SYSTEM_CRITICAL_PRIORITY);
    critical && pod.spec.priority_class_name.as_deref() == Some(SYSTEM_NODE_CRITICAL)
}

/// A container's `oom_score_adj` (upstream's QoS policy).
pub fn oom_score_adj(pod: &Pod, c: &Container, memory_capacity: i64) -> i64 {
    if is_node_critical(pod) {
        return GUARANTEED_OOM_SCORE_ADJ;
    }
    match helpers::pod_qos(pod) {
        QosClass::Guaranteed => return GUARANTEED_OOM_SCORE_ADJ,
        QosClass::BestEffort => return BESTEFFORT_OOM_SCORE_ADJ,
        QosClass::Burstable => {}
    }
    let request = |c: &Container| i128::from(c.resource_requirements().memory_request_bytes().unwrap_or(0));
    // The pod-level memory request not given to any container, shared out equally.
    let pod_request = pod.spec.resources.as_ref().and_then(|r| r.request(MEMORY)).and_then(Quantity::value);
    let spare = match pod_request {
        Some(pod_request) if pod_request > 0 => {
            let mut bare = without_overhead(pod);
            bare.spec.resources = None;
            let given =
                helpers::bytes_from_milli(helpers::pod_requests(&bare).get(MEMORY).copied().unwrap_or(0));
            let count = pod.spec.containers.len() + pod.spec.init_containers.len();
            i128::from((pod_request - given).max(0)) / i128::try_from(count.max(1)).unwrap_or(1)
        }
        _ => 0,
    };
    // Unknown capacity: as if nothing were requested (upstream always knows it).
    let capacity = i128::from(memory_capacity);
    let score = |req: i128| if capacity > 0 { 1000 - 1000 * req / capacity } else { 1000 };
    let mut adj = score(request(c) + spare);
    let is_sidecar = c.is_restartable_init() && pod.spec.init_containers.iter().any(|i| i.name == c.name);
    if is_sidecar && let Some(smallest) = pod.spec.containers.iter().map(request).min() {
        adj = adj.min(score(smallest + spare));
    }
    let adj = i64::try_from(adj).unwrap_or(i64::MIN);
    if adj < 1000 + GUARANTEED_OOM_SCORE_ADJ {
        1000 + GUARANTEED_OOM_SCORE_ADJ
    } else if adj == BESTEFFORT_OOM_SCORE_ADJ {
        BESTEFFORT_OOM_SCORE_ADJ - 1
    } else {
        adj
    }
}

#[cfg(test)]
#[path = "resources_tests.rs"]
mod tests;
