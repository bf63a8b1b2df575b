//! cgroup resources of containers and pod sandboxes, and updating them in place.

crate::message! {
    pub struct HugepageLimit {
        /// e.g. `2MB`, `1GB`.
        1 => page_size: string,
        2 => limit: uint64,
    }

    /// cgroup settings; 0 and "" leave a setting as it is.
    pub struct LinuxContainerResources {
        1 => cpu_period: int64,
        2 => cpu_quota: int64,
        3 => cpu_shares: int64,
        4 => memory_limit_in_bytes: int64,
        5 => oom_score_adj: int64,
        6 => cpuset_cpus: string,
        7 => cpuset_mems: string,
        8 => hugepage_limits: repeated(message(HugepageLimit)),
        /// Raw cgroup v2 files and their values.
        9 => unified: map(string, string),
        10 => memory_swap_limit_in_bytes: int64,
    }

    pub struct ContainerResources {
        1 => linux: message(LinuxContainerResources),
    }

    pub struct UpdateContainerResourcesRequest {
        1 => container_id: string,
        2 => linux: message(LinuxContainerResources),
        4 => annotations: map(string, string),
    }

    pub struct UpdateContainerResourcesResponse {}

    pub struct UpdatePodSandboxResourcesRequest {
        1 => pod_sandbox_id: string,
        2 => overhead: message(LinuxContainerResources),
        3 => resources: message(LinuxContainerResources),
    }

    pub struct UpdatePodSandboxResourcesResponse {}
}
