//! The runtime itself: version, status and conditions, configuration.

crate::enumeration! {
    pub enum CgroupDriver { SYSTEMD = 0, CGROUPFS = 1 }
}

crate::message! {
    pub struct VersionRequest {
        /// The CRI version the caller speaks.
        1 => version: string,
    }

    pub struct VersionResponse {
        1 => version: string,
        2 => runtime_name: string,
        3 => runtime_version: string,
        4 => runtime_api_version: string,
    }

    pub struct StatusRequest {
        1 => verbose: bool,
    }

    /// `RuntimeReady` or `NetworkReady`, and whether it holds.
    pub struct RuntimeCondition {
        1 => r#type: string,
        2 => status: bool,
        3 => reason: string,
        4 => message: string,
    }

    pub struct RuntimeStatus {
        1 => conditions: repeated(message(RuntimeCondition)),
    }

    pub struct RuntimeHandlerFeatures {
        1 => recursive_read_only_mounts: bool,
        2 => user_namespaces: bool,
    }

    /// A runtime handler (RuntimeClass); the default one has an empty name.
    pub struct RuntimeHandler {
        1 => name: string,
        2 => features: message(RuntimeHandlerFeatures),
    }

    pub struct RuntimeFeatures {
        1 => supplemental_groups_policy: bool,
        2 => user_namespaces_host_network: bool,
        3 => mount_options: bool,
    }

    pub struct StatusResponse {
        1 => status: message(RuntimeStatus),
        2 => info: map(string, string),
        3 => runtime_handlers: repeated(message(RuntimeHandler)),
        4 => features: message(RuntimeFeatures),
    }

    pub struct NetworkConfig {
        1 => pod_cidr: string,
    }

    pub struct RuntimeConfig {
        1 => network_config: message(NetworkConfig),
    }

    pub struct UpdateRuntimeConfigRequest {
        1 => runtime_config: message(RuntimeConfig),
    }

    pub struct UpdateRuntimeConfigResponse {}

    pub struct LinuxRuntimeConfiguration {
        1 => cgroup_driver: enum(CgroupDriver),
    }

    pub struct RuntimeConfigRequest {}

    pub struct RuntimeConfigResponse {
        1 => linux: message(LinuxRuntimeConfiguration),
    }
}
