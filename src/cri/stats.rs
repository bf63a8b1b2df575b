//! Resource usage of containers, pod sandboxes and the image filesystems.
//!
//! Counters are wrapped in `UInt64Value` so that "not reported" differs from 0; timestamps
//! are nanoseconds since the epoch.

use super::*;

crate::message! {
    pub struct UInt64Value {
        1 => value: uint64,
    }

    pub struct FilesystemIdentifier {
        1 => mountpoint: string,
    }

    pub struct FilesystemUsage {
        1 => timestamp: int64,
        2 => fs_id: message(FilesystemIdentifier),
        3 => used_bytes: message(UInt64Value),
        4 => inodes_used: message(UInt64Value),
    }

    pub struct ImageFsInfoResponse {
        1 => image_filesystems: repeated(message(FilesystemUsage)),
        2 => container_filesystems: repeated(message(FilesystemUsage)),
    }

    /// Pressure stall information of one kind (some or full).
    pub struct PsiData {
        /// Total stall time, nanoseconds.
        1 => total: uint64,
        2 => avg10: double,
        3 => avg60: double,
        4 => avg300: double,
    }

    pub struct PsiStats {
        1 => full: message(PsiData),
        2 => some: message(PsiData),
    }

    pub struct CpuUsage {
        1 => timestamp: int64,
        2 => usage_core_nano_seconds: message(UInt64Value),
        3 => usage_nano_cores: message(UInt64Value),
        4 => psi: message(PsiStats),
    }

    pub struct MemoryUsage {
        1 => timestamp: int64,
        2 => working_set_bytes: message(UInt64Value),
        3 => available_bytes: message(UInt64Value),
        4 => usage_bytes: message(UInt64Value),
        5 => rss_bytes: message(UInt64Value),
        6 => page_faults: message(UInt64Value),
        7 => major_page_faults: message(UInt64Value),
        8 => psi: message(PsiStats),
    }

    pub struct SwapUsage {
        1 => timestamp: int64,
        2 => swap_available_bytes: message(UInt64Value),
        3 => swap_usage_bytes: message(UInt64Value),
    }

    pub struct IoUsage {
        1 => timestamp: int64,
        2 => psi: message(PsiStats),
    }

    pub struct NetworkInterfaceUsage {
        1 => name: string,
        2 => rx_bytes: message(UInt64Value),
        3 => rx_errors: message(UInt64Value),
        4 => tx_bytes: message(UInt64Value),
        5 => tx_errors: message(UInt64Value),
    }

    pub struct NetworkUsage {
        1 => timestamp: int64,
        2 => default_interface: message(NetworkInterfaceUsage),
        3 => interfaces: repeated(message(NetworkInterfaceUsage)),
    }

    pub struct ProcessUsage {
        1 => timestamp: int64,
        2 => process_count: message(UInt64Value),
    }

    pub struct ContainerAttributes {
        1 => id: string,
        2 => metadata: message(ContainerMetadata),
        3 => labels: map(string, string),
        4 => annotations: map(string, string),
    }

    pub struct ContainerStats {
        1 => attributes: message(ContainerAttributes),
        2 => cpu: message(CpuUsage),
        3 => memory: message(MemoryUsage),
        4 => writable_layer: message(FilesystemUsage),
        5 => swap: message(SwapUsage),
        6 => io: message(IoUsage),
    }

    pub struct ContainerStatsRequest {
        1 => container_id: string,
    }

    pub struct ContainerStatsResponse {
        1 => stats: message(ContainerStats),
    }

    pub struct ContainerStatsFilter {
        1 => id: string,
        2 => pod_sandbox_id: string,
        3 => label_selector: map(string, string),
    }

    pub struct ListContainerStatsRequest {
        1 => filter: message(ContainerStatsFilter),
    }

    pub struct ListContainerStatsResponse {
        1 => stats: repeated(message(ContainerStats)),
    }

    pub struct PodSandboxAttributes {
        1 => id: string,
        2 => metadata: message(PodSandboxMetadata),
        3 => labels: map(string, string),
        4 => annotations: map(string, string),
    }

    pub struct LinuxPodSandboxStats {
        1 => cpu: message(CpuUsage),
        2 => memory: message(MemoryUsage),
        3 => network: message(NetworkUsage),
        4 => process: message(ProcessUsage),
        5 => containers: repeated(message(ContainerStats)),
        6 => io: message(IoUsage),
    }

    pub struct PodSandboxStats {
        1 => attributes: message(PodSandboxAttributes),
        2 => linux: message(LinuxPodSandboxStats),
    }

    pub struct PodSandboxStatsRequest {
        1 => pod_sandbox_id: string,
    }

    pub struct PodSandboxStatsResponse {
        1 => stats: message(PodSandboxStats),
    }

    pub struct PodSandboxStatsFilter {
        1 => id: string,
        2 => label_selector: map(string, string),
    }

    pub struct ListPodSandboxStatsRequest {
        1 => filter: message(PodSandboxStatsFilter),
    }

    pub struct ListPodSandboxStatsResponse {
        1 => stats: repeated(message(PodSandboxStats)),
    }
}
