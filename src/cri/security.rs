//! Security settings: namespaces, user namespaces, users and groups, SELinux, seccomp,
//! AppArmor, capabilities.

crate::enumeration! {
    /// Which namespace a pod or container uses.
    pub enum NamespaceMode {
        /// Shared by all containers of the pod.
        POD = 0,
        /// The container's own.
        CONTAINER = 1,
        /// The host's.
        NODE = 2,
        /// Another container's, named by `NamespaceOption::target_id`.
        TARGET = 3,
    }

    /// Whether the image's `/etc/group` memberships are added to the supplemental groups.
    pub enum SupplementalGroupsPolicy { MERGE = 0, STRICT = 1 }

    /// Kind of a seccomp or AppArmor profile.
    pub enum ProfileType { RUNTIME_DEFAULT = 0, UNCONFINED = 1, LOCALHOST = 2 }
}

crate::message! {
    /// One contiguous range of a user-namespace id mapping.
    pub struct IDMapping {
        1 => host_id: uint32,
        2 => container_id: uint32,
        3 => length: uint32,
    }

    pub struct UserNamespace {
        1 => mode: enum(NamespaceMode),
        2 => uids: repeated(message(IDMapping)),
        3 => gids: repeated(message(IDMapping)),
    }

    pub struct NamespaceOption {
        1 => network: enum(NamespaceMode),
        2 => pid: enum(NamespaceMode),
        3 => ipc: enum(NamespaceMode),
        4 => target_id: string,
        5 => userns_options: message(UserNamespace),
    }

    /// An `int64` whose absence means "not set" (uid 0 is root, not unset).
    pub struct Int64Value {
        1 => value: int64,
    }

    pub struct SELinuxOption {
        1 => user: string,
        2 => role: string,
        3 => r#type: string,
        4 => level: string,
    }

    /// A seccomp or AppArmor profile.
    pub struct SecurityProfile {
        1 => profile_type: enum(ProfileType),
        /// Profile name or path, for `LOCALHOST`.
        2 => localhost_ref: string,
    }

    pub struct LinuxSandboxSecurityContext {
        1 => namespace_options: message(NamespaceOption),
        2 => selinux_options: message(SELinuxOption),
        3 => run_as_user: message(Int64Value),
        4 => readonly_rootfs: bool,
        5 => supplemental_groups: repeated(int64),
        6 => privileged: bool,
        8 => run_as_group: message(Int64Value),
        9 => seccomp: message(SecurityProfile),
        10 => apparmor: message(SecurityProfile),
        11 => supplemental_groups_policy: enum(SupplementalGroupsPolicy),
    }

    /// Capability names without the `CAP_` prefix, or `ALL`.
    pub struct Capability {
        1 => add_capabilities: repeated(string),
        2 => drop_capabilities: repeated(string),
        3 => add_ambient_capabilities: repeated(string),
    }

    pub struct LinuxContainerSecurityContext {
        1 => capabilities: message(Capability),
        2 => privileged: bool,
        3 => namespace_options: message(NamespaceOption),
        4 => selinux_options: message(SELinuxOption),
        5 => run_as_user: message(Int64Value),
        6 => run_as_username: string,
        7 => readonly_rootfs: bool,
        8 => supplemental_groups: repeated(int64),
        11 => no_new_privs: bool,
        12 => run_as_group: message(Int64Value),
        13 => masked_paths: repeated(string),
        14 => readonly_paths: repeated(string),
        15 => seccomp: message(SecurityProfile),
        16 => apparmor: message(SecurityProfile),
        17 => supplemental_groups_policy: enum(SupplementalGroupsPolicy),
    }

    /// The user a container's process actually runs as (reported in its status).
    pub struct LinuxContainerUser {
        1 => uid: int64,
        2 => gid: int64,
        3 => supplemental_groups: repeated(int64),
    }

    pub struct ContainerUser {
        1 => linux: message(LinuxContainerUser),
    }
}
