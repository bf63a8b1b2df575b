//! The node status from what was observed (upstream's `setNodeStatus` and its setters, in
//! their order): addresses, capacity and allocatable, node info, daemon endpoints, images,
//! runtime handlers and features, conditions, declared features. Pure: the caller reads the
//! host and the runtime, and posts the events this returns.
//!
//! [`status_changed`] is upstream's `nodeStatusHasChanged`: any difference but the
//! conditions' heartbeat times.

use std::net::IpAddr;
use std::time::Instant;

use crate::api::Time;
use crate::api::core::{
    ContainerImage, DaemonEndpoint, Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeStatus,
    NodeSwapStatus,
};
use crate::config::FeatureGates;
use crate::cri;

use super::Pressure;
use super::capacity;
use super::conditions::{self, NodeEvent};
use super::config::{Config, go_arch};
use super::machine::MachineInfo;
use super::runtime::RuntimeState;

/// Upstream reports at most this many names per image.
const MAX_NAMES_PER_IMAGE: usize = 5;

/// One round of observations.
pub(crate) struct Observed<'a> {
    pub machine: &'a MachineInfo,
    pub runtime: &'a RuntimeState,
    /// Sorted by [`sort_images`].
    pub images: &'a [cri::Image],
    pub pressure: Pressure,
    /// The PLEG/runtime health check's verdict.
    pub health: Result<(), String>,
    pub now: Time,
    pub instant: Instant,
}

/// What the setters remember between rounds (upstream keeps it on the Kubelet).
#[derive(Debug, Default)]
pub(crate) struct Memory {
    last_unschedulable: bool,
    reboot_reported: bool,
}

/// Fills in `node.status` (and the os/arch labels, which upstream restores if they are
/// missing); returns the events of the transitions seen.
pub(crate) fn set_node_status(
    node: &mut Node,
    cfg: &Config,
    seen: &Observed<'_>,
    memory: &mut Memory,
) -> Vec<NodeEvent> {
    let mut events = Vec::new();
    let name = cfg.node_name.as_str();
    let status = &mut node.status;
    status.addresses = addresses(&cfg.node_ips, &cfg.hostname);

    capacity::set_capacity(status, seen.machine, cfg.capacity_limits());
    let info = status.node_info.get_or_insert_with(Default::default);
    let machine = seen.machine;
    info.machine_id.clone_from(&machine.machine_id);
    info.system_uuid.clone_from(&machine.system_uuid);
    if !info.boot_id.is_empty() && info.boot_id != machine.boot_id && !memory.reboot_reported {
        memory.reboot_reported = true;
        let message = format!("Node {name} has been rebooted, boot id: {}", machine.boot_id);
        events.push(NodeEvent { warning: true, reason: "Rebooted", message });
    }
    info.boot_id.clone_from(&machine.boot_id);
    if machine.swap_bytes != 0 {
        info.swap = Some(NodeSwapStatus { capacity: Some(machine.swap_bytes) });
    }
    info.kernel_version.clone_from(&machine.kernel_version);
    info.os_image.clone_from(&machine.os_image);
    info.container_runtime_version.clone_from(&seen.runtime.version);
    info.kubelet_version = crate::version::KUBERNETES.to_string();
    // DisableNodeKubeProxyVersion is locked on in 1.37: the field is cleared.
    info.kube_proxy_version = String::new();
    info.operating_system = "linux".to_string();
    info.architecture = go_arch().to_string();

    status.daemon_endpoints =
        Some(NodeDaemonEndpoints { kubelet_endpoint: Some(DaemonEndpoint { port: cfg.port }) });
    status.images = node_images(seen.images, cfg.max_images);
    let gates = &cfg.feature_gates;
    if gates.enabled("RecursiveReadOnlyMounts") || gates.enabled("UserNamespacesSupport") {
        status.runtime_handlers.clone_from(&seen.runtime.handlers);
    }
    if gates.enabled("SupplementalGroupsPolicy")
        && let Some(features) = seen.runtime.node_features()
    {
        status.features = Some(features);
    }

    let conds = &mut status.conditions;
    let pressure = seen.pressure;
    conditions::set_pressure(
        conds,
        conditions::MEMORY_PRESSURE,
        pressure.memory,
        seen.now,
        name,
        &mut events,
    );
    conditions::set_pressure(conds, conditions::DISK_PRESSURE, pressure.disk, seen.now, name, &mut events);
    conditions::set_pressure(conds, conditions::PID_PRESSURE, pressure.pid, seen.now, name, &mut events);
    let mut errors = seen.runtime.errors(seen.instant, seen.health.clone());
    let mut required = vec!["cpu", "memory", "pods"];
    if cfg.local_storage_capacity_isolation {
        required.push("ephemeral-storage");
    }
    let missing: Vec<&str> = required.into_iter().filter(|r| !status.capacity.contains_key(*r)).collect();
    if !missing.is_empty() {
        errors.push(format!("missing node capacity for resources: {}", missing.join(", ")));
    }
    conditions::set_ready(&mut status.conditions, &errors, seen.now, name, &mut events);

    let unschedulable = node.spec.unschedulable.unwrap_or(false);
    if unschedulable != memory.last_unschedulable {
        let reason = if unschedulable { "NodeNotSchedulable" } else { "NodeSchedulable" };
        events.push(NodeEvent::status(name, reason));
        memory.last_unschedulable = unschedulable;
    }
    if gates.enabled("NodeDeclaredFeatures") {
        let declared = declared_features(gates, seen.runtime.features.as_ref());
        if !declared.is_empty() {
            node.status.declared_features = declared;
        }
    }
    set_os_arch_labels(node);
    events
}

/// `kubernetes.io/os` and `kubernetes.io/arch` as they must be; true if they were not.
pub(crate) fn set_os_arch_labels(node: &mut Node) -> bool {
    let mut changed = false;
    for (key, value) in [("kubernetes.io/os", "linux"), ("kubernetes.io/arch", go_arch())] {
        if node.metadata.labels.get(key).map(String::as_str) != Some(value) {
            node.metadata.labels.insert(key.to_string(), value.to_string());
            changed = true;
        }
    }
    changed
}

/// InternalIP for each node IP (unspecified ones left out), then the host name.
pub(crate) fn addresses(ips: &[IpAddr], hostname: &str) -> Vec<NodeAddress> {
    let internal = ips.iter().filter(|ip| !ip.is_unspecified()).take(2);
    internal
        .map(|ip| NodeAddress { type_: "InternalIP".into(), address: ip.to_string() })
        .chain(std::iter::once(NodeAddress { type_: "Hostname".into(), address: hostname.to_string() }))
        .collect()
}

/// Biggest first; equal sizes by ID, descending (upstream's `ByImageSize`).
pub(crate) fn sort_images(images: &mut [cri::Image]) {
    images.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| b.id.cmp(&a.id)));
}

/// The first `max` images (-1: all), each with up to five names: digests, then tags.
pub(crate) fn node_images(sorted: &[cri::Image], max: i32) -> Vec<ContainerImage> {
    let take = usize::try_from(max).map_or(sorted.len(), |m| m.min(sorted.len()));
    sorted
        .iter()
        .take(take)
        .map(|image| ContainerImage {
            names: image
                .repo_digests
                .iter()
                .chain(&image.repo_tags)
                .take(MAX_NAMES_PER_IMAGE)
                .cloned()
                .collect(),
            size_bytes: Some(i64::try_from(image.size).unwrap_or(i64::MAX)),
        })
        .collect()
}

/// The features the node declares for scheduling (the registry of upstream's
/// nodedeclaredfeatures, sorted by name): each is on with its gate, two also need the
/// runtime to support them.
pub(crate) fn declared_features(gates: &FeatureGates, runtime: Option<&cri::RuntimeFeatures>) -> Vec<String> {
    let userns_host_network = runtime.is_some_and(|f| f.user_namespaces_host_network);
    let mount_options = runtime.is_some_and(|f| f.mount_options);
    let registry: [(&str, bool); 9] = [
        ("DRANodeAllocatableResources", true),
        ("DRAOptionalNodeOperations", true),
        // Declared, the API server hands WebSockets to the kubelet to translate; undeclared, it
        // translates them to SPDY itself.
        ("ExtendWebSocketsToKubelet", crate::streaming::TRANSLATES_WEBSOCKETS),
        ("InPlacePodLevelResourcesVerticalScaling", true),
        ("InPlacePodVerticalScalingInitContainers", true),
        ("InPlacePodVerticalScalingMemoryBackedVolumes", true),
        ("RestartAllContainersOnContainerExits", true),
        ("UserNamespacesHostNetworkSupport", userns_host_network),
        ("VolumeBindMountOptions", mount_options),
    ];
    registry
        .iter()
        .filter(|(gate, runtime_ok)| *runtime_ok && gates.enabled(gate))
        .map(|(g, _)| g.to_string())
        .collect()
}

/// Whether anything but the conditions' heartbeats differs.
pub(crate) fn status_changed(old: &NodeStatus, new: &NodeStatus) -> bool {
    if conditions_changed(&old.conditions, &new.conditions) {
        return true;
    }
    let strip = |s: &NodeStatus| NodeStatus { conditions: Vec::new(), ..s.clone() };
    strip(old) != strip(new)
}

fn conditions_changed(old: &[NodeCondition], new: &[NodeCondition]) -> bool {
    if old.len() != new.len() {
        return true;
    }
    let normalise = |list: &[NodeCondition]| {
        let mut list: Vec<NodeCondition> =
            list.iter().map(|c| NodeCondition { last_heartbeat_time: None, ..c.clone() }).collect();
        list.sort_by(|a, b| a.type_.cmp(&b.type_));
        list
    };
    normalise(old) != normalise(new)
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
