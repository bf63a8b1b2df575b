//! Pod sandboxes: configuration, lifecycle calls, status and listing.

use super::*;

crate::enumeration! {
    pub enum Protocol { TCP = 0, UDP = 1, SCTP = 2 }

    pub enum PodSandboxState { READY = 0, NOT_READY = 1 }
}

crate::message! {
    /// The pod a sandbox belongs to; `attempt` counts sandboxes made for the same pod.
    pub struct PodSandboxMetadata {
        1 => name: string,
        2 => uid: string,
        3 => namespace: string,
        4 => attempt: uint32,
    }

    pub struct DNSConfig {
        1 => servers: repeated(string),
        2 => searches: repeated(string),
        3 => options: repeated(string),
    }

    pub struct PortMapping {
        1 => protocol: enum(Protocol),
        2 => container_port: int32,
        3 => host_port: int32,
        4 => host_ip: string,
    }

    pub struct LinuxPodSandboxConfig {
        1 => cgroup_parent: string,
        2 => security_context: message(LinuxSandboxSecurityContext),
        3 => sysctls: map(string, string),
        4 => overhead: message(LinuxContainerResources),
        5 => resources: message(LinuxContainerResources),
    }

    pub struct PodSandboxConfig {
        1 => metadata: message(PodSandboxMetadata),
        2 => hostname: string,
        3 => log_directory: string,
        4 => dns_config: message(DNSConfig),
        5 => port_mappings: repeated(message(PortMapping)),
        /// Identity of the sandbox; the runtime can filter on them.
        6 => labels: map(string, string),
        /// Opaque to the runtime, kept for us.
        7 => annotations: map(string, string),
        8 => linux: message(LinuxPodSandboxConfig),
    }

    pub struct RunPodSandboxRequest {
        1 => config: message(PodSandboxConfig),
        /// RuntimeClass handler; empty for the default.
        2 => runtime_handler: string,
    }

    pub struct RunPodSandboxResponse {
        1 => pod_sandbox_id: string,
    }

    pub struct StopPodSandboxRequest {
        1 => pod_sandbox_id: string,
    }

    pub struct StopPodSandboxResponse {}

    pub struct RemovePodSandboxRequest {
        1 => pod_sandbox_id: string,
    }

    pub struct RemovePodSandboxResponse {}

    pub struct PodSandboxStatusRequest {
        1 => pod_sandbox_id: string,
        2 => verbose: bool,
    }

    pub struct PodIP {
        1 => ip: string,
    }

    pub struct PodSandboxNetworkStatus {
        1 => ip: string,
        2 => additional_ips: repeated(message(PodIP)),
    }

    pub struct Namespace {
        2 => options: message(NamespaceOption),
    }

    pub struct LinuxPodSandboxStatus {
        1 => namespaces: message(Namespace),
    }

    pub struct PodSandboxStatus {
        1 => id: string,
        2 => metadata: message(PodSandboxMetadata),
        3 => state: enum(PodSandboxState),
        /// Nanoseconds since the epoch.
        4 => created_at: int64,
        5 => network: message(PodSandboxNetworkStatus),
        6 => linux: message(LinuxPodSandboxStatus),
        7 => labels: map(string, string),
        8 => annotations: map(string, string),
        9 => runtime_handler: string,
    }

    pub struct PodSandboxStatusResponse {
        1 => status: message(PodSandboxStatus),
        /// Debug information, only when asked with `verbose`.
        2 => info: map(string, string),
        3 => containers_statuses: repeated(message(ContainerStatus)),
        4 => timestamp: int64,
    }

    pub struct PodSandboxStateValue {
        1 => state: enum(PodSandboxState),
    }

    /// Every field that is set must match.
    pub struct PodSandboxFilter {
        1 => id: string,
        2 => state: message(PodSandboxStateValue),
        3 => label_selector: map(string, string),
    }

    pub struct ListPodSandboxRequest {
        1 => filter: message(PodSandboxFilter),
    }

    pub struct PodSandbox {
        1 => id: string,
        2 => metadata: message(PodSandboxMetadata),
        3 => state: enum(PodSandboxState),
        4 => created_at: int64,
        5 => labels: map(string, string),
        6 => annotations: map(string, string),
        7 => runtime_handler: string,
    }

    pub struct ListPodSandboxResponse {
        1 => items: repeated(message(PodSandbox)),
    }
}
