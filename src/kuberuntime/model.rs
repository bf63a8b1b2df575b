//! The runtime's view of a pod, independent of CRI message types.
//!
//! PLEG builds a [`PodStatus`] from CRI (sandboxes, containers and the identity labels and
//! annotations we put on them); `compute_pod_actions` and `status::generate` read it. Times are
//! Unix nanoseconds as CRI reports them (0 = unknown).

/// Identity labels and annotations, as upstream writes them into the runtime.
pub mod keys {
    pub const POD_NAME: &str = "io.kubernetes.pod.name";
    pub const POD_NAMESPACE: &str = "io.kubernetes.pod.namespace";
    pub const POD_UID: &str = "io.kubernetes.pod.uid";
    pub const CONTAINER_NAME: &str = "io.kubernetes.container.name";
    pub const CONTAINER_HASH: &str = "io.kubernetes.container.hash";
    pub const CONTAINER_RESTART_COUNT: &str = "io.kubernetes.container.restartCount";
    pub const TERMINATION_MESSAGE_PATH: &str = "io.kubernetes.container.terminationMessagePath";
    pub const TERMINATION_MESSAGE_POLICY: &str = "io.kubernetes.container.terminationMessagePolicy";
    pub const POD_TERMINATION_GRACE_PERIOD: &str = "io.kubernetes.pod.terminationGracePeriod";
    pub const CONTAINER_PORTS: &str = "io.kubernetes.container.ports";
    pub const CONTAINER_PRESTOP_HANDLER: &str = "io.kubernetes.container.preStopHandler";
    /// The value of `io.kubernetes.container.name` on a sandbox, as upstream labels it.
    pub const POD_INFRA_CONTAINER_NAME: &str = "POD";
}

/// A sandbox's state as CRI reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxState {
    Ready,
    NotReady,
}

/// A container's state as CRI reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContainerState {
    Created,
    Running,
    Exited,
    #[default]
    Unknown,
}

/// One pod sandbox of a pod (a pod may have several: older, stopped ones linger until removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxStatus {
    pub id: String,
    pub state: SandboxState,
    pub created_at: i64,
    /// Incremented each time the sandbox is recreated for the same pod.
    pub attempt: u32,
    /// The pod IPs the runtime's network plugin gave this sandbox (primary first).
    pub ips: Vec<String>,
    /// True when the sandbox uses the host's network namespace.
    pub host_network: bool,
}

/// One container of a pod, current or exited, with identity read back from labels/annotations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerStatus {
    pub id: String,
    pub name: String,
    pub sandbox_id: String,
    pub state: Option<ContainerState>,
    pub created_at: i64,
    pub started_at: i64,
    pub finished_at: i64,
    pub exit_code: i32,
    /// The image as the pod spec named it (CRI `image.image`).
    pub image: String,
    /// The image reference the runtime resolved (CRI `image_ref`), e.g. a digest.
    pub image_ref: String,
    /// The image ID (CRI `image_id`), when the runtime reports it.
    pub image_id: String,
    /// `io.kubernetes.container.hash`: the spec hash the container was created from.
    pub hash: u64,
    /// `io.kubernetes.container.restartCount`.
    pub restart_count: u32,
    pub reason: String,
    pub message: String,
    pub log_path: String,
    /// `io.kubernetes.container.terminationMessagePath` / `...Policy`.
    pub termination_message_path: String,
    pub termination_message_policy: String,
}

/// The runtime's view of one pod: what PLEG caches and workers decide from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PodStatus {
    pub uid: String,
    pub name: String,
    pub namespace: String,
    /// The pod IPs of the newest ready sandbox (primary first).
    pub ips: Vec<String>,
    /// Newest first.
    pub sandboxes: Vec<SandboxStatus>,
    /// Newest first (by creation time).
    pub containers: Vec<ContainerStatus>,
}

impl PodStatus {
    /// The newest status of the container called `name`, if any.
    pub fn container(&self, name: &str) -> Option<&ContainerStatus> {
        self.containers.iter().find(|c| c.name == name)
    }

    /// Every status of the container called `name`, newest first.
    pub fn containers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a ContainerStatus> + 'a {
        self.containers.iter().filter(move |c| c.name == name)
    }

    /// Containers that are running now.
    pub fn running(&self) -> impl Iterator<Item = &ContainerStatus> {
        self.containers.iter().filter(|c| c.state == Some(ContainerState::Running))
    }

    /// The newest sandbox, if any.
    pub fn newest_sandbox(&self) -> Option<&SandboxStatus> {
        self.sandboxes.first()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, id: &str, state: ContainerState) -> ContainerStatus {
        ContainerStatus { id: id.into(), name: name.into(), state: Some(state), ..Default::default() }
    }

    #[test]
    fn newest_first_lookups() {
        let s = PodStatus {
            containers: vec![
                c("app", "3", ContainerState::Running),
                c("init", "2", ContainerState::Exited),
                c("app", "1", ContainerState::Exited),
            ],
            ..Default::default()
        };
        assert_eq!(s.container("app").map(|c| c.id.as_str()), Some("3"));
        assert_eq!(s.containers_named("app").count(), 2);
        assert_eq!(s.running().count(), 1);
        assert!(s.container("nope").is_none());
    }
}
