//! Containers: configuration, lifecycle calls, status and listing.

use super::*;

crate::enumeration! {
    pub enum MountPropagation { PRIVATE = 0, HOST_TO_CONTAINER = 1, BIDIRECTIONAL = 2 }

    pub enum ContainerState { CREATED = 0, RUNNING = 1, EXITED = 2, UNKNOWN = 3 }
}

crate::message! {
    /// An environment variable.
    pub struct KeyValue {
        1 => key: string,
        2 => value: bytes,
    }

    pub struct Mount {
        1 => container_path: string,
        2 => host_path: string,
        3 => readonly: bool,
        4 => selinux_relabel: bool,
        5 => propagation: enum(MountPropagation),
        6 => uid_mappings: repeated(message(IDMapping)),
        7 => gid_mappings: repeated(message(IDMapping)),
        8 => recursive_read_only: bool,
        /// An image volume, mounted instead of `host_path`.
        9 => image: message(ImageSpec),
        10 => image_sub_path: string,
        11 => mount_options: repeated(string),
    }

    pub struct Device {
        1 => container_path: string,
        2 => host_path: string,
        /// cgroup device access: any of `r`, `w`, `m`.
        3 => permissions: string,
    }

    /// A Container Device Interface device, by its fully qualified name.
    pub struct CDIDevice {
        1 => name: string,
    }

    /// The container's name in its pod; `attempt` counts restarts.
    pub struct ContainerMetadata {
        1 => name: string,
        2 => attempt: uint32,
    }

    pub struct LinuxContainerConfig {
        1 => resources: message(LinuxContainerResources),
        2 => security_context: message(LinuxContainerSecurityContext),
    }

    pub struct ContainerConfig {
        1 => metadata: message(ContainerMetadata),
        2 => image: message(ImageSpec),
        /// Entrypoint; the image's when empty.
        3 => command: repeated(string),
        4 => args: repeated(string),
        5 => working_dir: string,
        6 => envs: repeated(message(KeyValue)),
        7 => mounts: repeated(message(Mount)),
        8 => devices: repeated(message(Device)),
        9 => labels: map(string, string),
        10 => annotations: map(string, string),
        /// Relative to `PodSandboxConfig::log_directory`.
        11 => log_path: string,
        12 => stdin: bool,
        13 => stdin_once: bool,
        14 => tty: bool,
        15 => linux: message(LinuxContainerConfig),
        17 => cdi_devices: repeated(message(CDIDevice)),
        18 => stop_signal: enum(Signal),
    }

    pub struct CreateContainerRequest {
        1 => pod_sandbox_id: string,
        2 => config: message(ContainerConfig),
        /// The configuration the sandbox was run with.
        3 => sandbox_config: message(PodSandboxConfig),
    }

    pub struct CreateContainerResponse {
        1 => container_id: string,
    }

    pub struct StartContainerRequest {
        1 => container_id: string,
    }

    pub struct StartContainerResponse {}

    pub struct StopContainerRequest {
        1 => container_id: string,
        /// Seconds between the stop signal and SIGKILL; 0 kills at once.
        2 => timeout: int64,
    }

    pub struct StopContainerResponse {}

    pub struct RemoveContainerRequest {
        1 => container_id: string,
    }

    pub struct RemoveContainerResponse {}

    pub struct ContainerStateValue {
        1 => state: enum(ContainerState),
    }

    /// Every field that is set must match.
    pub struct ContainerFilter {
        1 => id: string,
        2 => state: message(ContainerStateValue),
        3 => pod_sandbox_id: string,
        4 => label_selector: map(string, string),
    }

    pub struct ListContainersRequest {
        1 => filter: message(ContainerFilter),
    }

    pub struct Container {
        1 => id: string,
        2 => pod_sandbox_id: string,
        3 => metadata: message(ContainerMetadata),
        4 => image: message(ImageSpec),
        5 => image_ref: string,
        6 => state: enum(ContainerState),
        7 => created_at: int64,
        8 => labels: map(string, string),
        9 => annotations: map(string, string),
        10 => image_id: string,
    }

    pub struct ListContainersResponse {
        1 => containers: repeated(message(Container)),
    }

    pub struct ContainerStatusRequest {
        1 => container_id: string,
        2 => verbose: bool,
    }

    /// Times are nanoseconds since the epoch, 0 when it has not happened.
    pub struct ContainerStatus {
        1 => id: string,
        2 => metadata: message(ContainerMetadata),
        3 => state: enum(ContainerState),
        4 => created_at: int64,
        5 => started_at: int64,
        6 => finished_at: int64,
        7 => exit_code: int32,
        8 => image: message(ImageSpec),
        9 => image_ref: string,
        /// Short reason for the state, e.g. `OOMKilled`, `Completed`, `Error`.
        10 => reason: string,
        11 => message: string,
        12 => labels: map(string, string),
        13 => annotations: map(string, string),
        14 => mounts: repeated(message(Mount)),
        15 => log_path: string,
        16 => resources: message(ContainerResources),
        17 => image_id: string,
        18 => user: message(ContainerUser),
        19 => stop_signal: enum(Signal),
    }

    pub struct ContainerStatusResponse {
        1 => status: message(ContainerStatus),
        /// Debug information, only when asked with `verbose`.
        2 => info: map(string, string),
    }

    pub struct ReopenContainerLogRequest {
        1 => container_id: string,
    }

    pub struct ReopenContainerLogResponse {}
}
