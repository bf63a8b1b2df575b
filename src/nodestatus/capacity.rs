//! Capacity and allocatable, as upstream's MachineInfo setter and node allocatable compute
//! them:
//!
//! ```text
//! capacity     cpu = usable CPUs, memory = MemTotal, pods = maxPods (or podsPerCore × CPUs,
//!              if smaller), hugepages-<size> = size × pages, ephemeral-storage = size of the
//!              root dir's filesystem (with localStorageCapacityIsolation)
//! allocatable  capacity − (kubeReserved + systemReserved + evictionHard), never below 0;
//!              memory also loses what huge pages hold
//! ```
//! Only keys we compute are written; others already on the Node (extended resources of a
//! device plugin) stay, as upstream does not blindly overwrite capacity.

use std::collections::BTreeMap;

use crate::api::Quantity;
use crate::api::core::NodeStatus;

use super::config::{Reservations, Threshold};
use super::machine::MachineInfo;

const CPU: &str = "cpu";
const MEMORY: &str = "memory";
const PODS: &str = "pods";
const EPHEMERAL_STORAGE: &str = "ephemeral-storage";
const HUGEPAGES_PREFIX: &str = "hugepages-";

/// The inputs besides the machine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits<'a> {
    pub max_pods: i32,
    pub pods_per_core: i32,
    pub local_storage_capacity_isolation: bool,
    pub reservations: &'a Reservations,
}

/// What the host has, by resource name. Without a memory size (no /proc/meminfo) upstream
/// reports cpu and memory as 0, and pods as maxPods.
pub(crate) fn machine_capacity(machine: &MachineInfo, limits: Limits<'_>) -> BTreeMap<String, Quantity> {
    let mut capacity = BTreeMap::new();
    let max_pods = i64::from(limits.max_pods);
    let Some(memory) = machine.memory_bytes else {
        capacity.insert(CPU.to_string(), Quantity::from_milli(0));
        capacity.insert(MEMORY.to_string(), Quantity::from_bytes(0));
        capacity.insert(PODS.to_string(), Quantity::from_decimal(max_pods));
        return capacity;
    };
    let cpus = i64::from(machine.cpus);
    capacity.insert(CPU.to_string(), Quantity::from_milli(cpus.saturating_mul(1000)));
    capacity.insert(MEMORY.to_string(), Quantity::from_bytes(memory));
    for huge in &machine.hugepages {
        capacity.insert(
            hugepage_resource(huge.page_bytes),
            Quantity::from_bytes(huge.page_bytes.saturating_mul(huge.pages)),
        );
    }
    let pods = if limits.pods_per_core > 0 {
        cpus.saturating_mul(i64::from(limits.pods_per_core)).min(max_pods)
    } else {
        max_pods
    };
    capacity.insert(PODS.to_string(), Quantity::from_decimal(pods));
    if limits.local_storage_capacity_isolation
        && let Some(bytes) = machine.root_fs_bytes
    {
        capacity.insert(EPHEMERAL_STORAGE.to_string(), Quantity::from_bytes(bytes));
    }
    capacity
}

/// `hugepages-2Mi`: the page size as a binary quantity.
pub(crate) fn hugepage_resource(page_bytes: i64) -> String {
    format!("{HUGEPAGES_PREFIX}{}", Quantity::from_bytes(page_bytes))
}

/// Whether a resource comes from outside Kubernetes (a device plugin's `vendor.com/gpu`).
fn is_extended(name: &str) -> bool {
    name.contains('/') && !name.starts_with("kubernetes.io/") && !name.starts_with("requests.")
}

/// What is held back per resource: reserved for the system and Kubernetes, plus the hard
/// eviction thresholds of memory and the node filesystem. Only resources the machine has
/// (cpu, memory, huge pages, ephemeral-storage) are reserved from, as upstream's container
/// manager does.
pub(crate) fn reservation(
    machine: &BTreeMap<String, Quantity>,
    reservations: &Reservations,
) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for name in machine.keys().filter(|k| k.as_str() != PODS) {
        let mut total = 0i64;
        for reserved in [&reservations.system_reserved, &reservations.kube_reserved] {
            total = total.saturating_add(reserved.get(name).map(|q| amount(name, q)).unwrap_or(0));
        }
        let threshold = match name.as_str() {
            MEMORY => reservations.memory_available.as_ref(),
            EPHEMERAL_STORAGE => reservations.nodefs_available.as_ref(),
            _ => None,
        };
        if let Some(threshold) = threshold {
            let capacity = machine.get(name).and_then(Quantity::value).unwrap_or(0);
            total = total.saturating_add(threshold_amount(threshold, capacity));
        }
        if total != 0 {
            out.insert(name.clone(), total);
        }
    }
    out
}

/// An eviction threshold in bytes, for a resource of `capacity` bytes.
pub(crate) fn threshold_amount(threshold: &Threshold, capacity: i64) -> i64 {
    match threshold {
        Threshold::Quantity(q) => q.value().unwrap_or(0),
        // Upstream multiplies in float64 a float32 fraction, then truncates.
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        Threshold::Fraction(f) => (capacity as f64 * f64::from(*f)) as i64,
    }
}

/// A value of `name` in its own unit (milli-CPUs for cpu, else whole units).
fn amount(name: &str, q: &Quantity) -> i64 {
    if name == CPU { q.milli_value() } else { q.value() }.unwrap_or(0)
}

/// A value of `name` back as a quantity, in the format upstream keeps for it.
fn quantity(name: &str, value: i64) -> Quantity {
    if name == CPU {
        Quantity::from_milli(value)
    } else if name == MEMORY || name == EPHEMERAL_STORAGE || name.starts_with(HUGEPAGES_PREFIX) {
        Quantity::from_bytes(value)
    } else {
        Quantity::from_decimal(value)
    }
}

/// Writes capacity and allocatable into `status` (upstream's MachineInfo setter, allocatable
/// part).
pub(crate) fn set_capacity(status: &mut NodeStatus, machine: &MachineInfo, limits: Limits<'_>) {
    let computed = machine_capacity(machine, limits);
    let reserved = reservation(&computed, limits.reservations);
    status.capacity.extend(computed);
    let capacity = &status.capacity;
    status.allocatable.retain(|name, _| capacity.contains_key(name) || !is_extended(name));
    for (name, cap) in capacity {
        let value = amount(name, cap).saturating_sub(reserved.get(name).copied().unwrap_or(0)).max(0);
        let q = if reserved.contains_key(name) { quantity(name, value) } else { cap.clone() };
        status.allocatable.insert(name.clone(), q);
    }
    let hugepages: i64 = capacity
        .iter()
        .filter(|(name, _)| name.starts_with(HUGEPAGES_PREFIX))
        .map(|(_, q)| q.value().unwrap_or(0))
        .fold(0, i64::saturating_add);
    if hugepages > 0 {
        let memory = status.allocatable.get(MEMORY).map(|q| amount(MEMORY, q)).unwrap_or(0);
        status
            .allocatable
            .insert(MEMORY.to_string(), quantity(MEMORY, memory.saturating_sub(hugepages).max(0)));
    }
}

/// Allocatable alone, as a Node of this machine reports it (no extended resources).
pub(crate) fn allocatable(machine: &MachineInfo, limits: Limits<'_>) -> BTreeMap<String, Quantity> {
    let mut status = NodeStatus::default();
    set_capacity(&mut status, machine, limits);
    status.allocatable
}

#[cfg(test)]
#[path = "capacity_tests.rs"]
mod tests;
