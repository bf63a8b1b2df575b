//! Security settings of sandboxes and containers: namespaces, users and groups, privileges,
//! seccomp, AppArmor, SELinux, masked `/proc` paths.
//!
//! A container's settings are the pod's `securityContext` overridden field by field by the
//! container's. The sandbox always runs with seccomp `RuntimeDefault` and is privileged when
//! any container of the pod is. Containers without a seccomp profile run `Unconfined`
//! (`RuntimeDefault` with `seccompDefault`). `runAsNonRoot` is checked against the image's
//! user by [`verify_run_as_non_root`].

use crate::api::core::{Container, Pod, SeccompProfile, SecurityContext};
use crate::cri::{
    Capability, Int64Value, LinuxContainerSecurityContext, LinuxSandboxSecurityContext, NamespaceMode,
    NamespaceOption, ProfileType, SELinuxOption, SecurityProfile, SupplementalGroupsPolicy, UserNamespace,
};

use super::build_error::BuildErrorKind;
use super::dns::pod_desc;
use super::node::NodeContext;

/// Paths masked in every container unless `procMount: Unmasked` (upstream also masks each
/// CPU's `thermal_throttle` directory that exists on the host; we do not look).
pub const DEFAULT_MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths read-only in every container unless `procMount: Unmasked`.
pub const DEFAULT_READONLY_PATHS: &[&str] =
    &["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/// The deprecated per-container AppArmor annotation (still honoured for static pods).
const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// The user an image runs as, from the runtime's image status.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageUser {
    pub uid: Option<i64>,
    pub username: String,
}

impl ImageUser {
    /// As upstream reads an image status: a numeric user, else a name, else root.
    pub fn from_image(uid: Option<i64>, username: &str) -> ImageUser {
        match (uid, username) {
            (Some(uid), _) => ImageUser { uid: Some(uid), username: String::new() },
            (None, "") => ImageUser { uid: Some(0), username: String::new() },
            (None, name) => ImageUser { uid: None, username: name.to_string() },
        }
    }
}

/// The namespaces of the pod: network and IPC are the pod's or the node's, PID is each
/// container's own unless `shareProcessNamespace` (the pod's) or `hostPID` (the node's).
pub fn namespace_options(pod: &Pod) -> Result<NamespaceOption, BuildErrorKind> {
    let spec = &pod.spec;
    if spec.host_users == Some(false) {
        return Err(BuildErrorKind::UserNamespacesUnsupported);
    }
    let node_or_pod =
        |host: Option<bool>| if host == Some(true) { NamespaceMode::NODE } else { NamespaceMode::POD };
    let pid = if spec.host_pid == Some(true) {
        NamespaceMode::NODE
    } else if spec.share_process_namespace == Some(true) {
        NamespaceMode::POD
    } else {
        NamespaceMode::CONTAINER
    };
    Ok(NamespaceOption {
        network: node_or_pod(spec.host_network),
        pid,
        ipc: node_or_pod(spec.host_ipc),
        target_id: String::new(),
        userns_options: Some(UserNamespace { mode: NamespaceMode::NODE, ..Default::default() }),
    })
}

/// The sandbox's `linux.security_context`.
pub fn sandbox_security_context(pod: &Pod) -> Result<LinuxSandboxSecurityContext, BuildErrorKind> {
    let spec = &pod.spec;
    let privileged = spec
        .init_containers
        .iter()
        .chain(&spec.containers)
        .chain(spec.ephemeral_containers.iter().map(|e| &e.common))
        .any(|c| c.security_context.as_ref().and_then(|s| s.privileged) == Some(true));
    let mut sc = LinuxSandboxSecurityContext {
        namespace_options: Some(namespace_options(pod)?),
        privileged,
        seccomp: Some(profile(ProfileType::RUNTIME_DEFAULT, String::new())),
        ..Default::default()
    };
    if let Some(psc) = &spec.security_context {
        sc.run_as_user = psc.run_as_user.map(|value| Int64Value { value });
        sc.run_as_group = psc.run_as_group.map(|value| Int64Value { value });
        sc.supplemental_groups.extend(psc.fs_group);
        sc.supplemental_groups.extend(&psc.supplemental_groups);
        sc.supplemental_groups_policy = groups_policy(psc.supplemental_groups_policy.as_deref())?;
        sc.selinux_options = psc.se_linux_options.as_ref().map(selinux);
    }
    Ok(sc)
}

/// The pod's settings overridden by the container's (upstream's
/// `DetermineEffectiveSecurityContext`).
pub fn effective_security_context(pod: &Pod, c: &Container) -> SecurityContext {
    let mut sc = match &pod.spec.security_context {
        Some(p) => SecurityContext {
            se_linux_options: p.se_linux_options.clone(),
            windows_options: p.windows_options.clone(),
            run_as_user: p.run_as_user,
            run_as_group: p.run_as_group,
            run_as_non_root: p.run_as_non_root,
            ..Default::default()
        },
        None => SecurityContext::default(),
    };
    let Some(own) = &c.security_context else { return sc };
    macro_rules! take {
        ($($field:ident),*) => { $( if own.$field.is_some() { sc.$field = own.$field.clone(); } )* };
    }
    take!(
        se_linux_options,
        windows_options,
        capabilities,
        privileged,
        run_as_user,
        run_as_group,
        run_as_non_root,
        read_only_root_filesystem,
        allow_privilege_escalation,
        proc_mount
    );
    sc
}

/// A container's `linux.security_context`. `target_id` is the container whose PID namespace
/// an ephemeral container joins.
pub fn container_security_context(
    pod: &Pod,
    c: &Container,
    image_user: Option<&ImageUser>,
    target_id: Option<&str>,
    node: &NodeContext,
) -> Result<LinuxContainerSecurityContext, BuildErrorKind> {
    let eff = effective_security_context(pod, c);
    let mut sc = LinuxContainerSecurityContext {
        capabilities: eff.capabilities.as_ref().map(|caps| Capability {
            add_capabilities: caps.add.clone(),
            drop_capabilities: caps.drop.clone(),
            ..Default::default()
        }),
        selinux_options: eff.se_linux_options.as_ref().map(selinux),
        run_as_user: eff.run_as_user.map(|value| Int64Value { value }),
        run_as_group: eff.run_as_group.map(|value| Int64Value { value }),
        privileged: eff.privileged == Some(true),
        readonly_rootfs: eff.read_only_root_filesystem == Some(true),
        no_new_privs: eff.allow_privilege_escalation == Some(false),
        seccomp: Some(seccomp_profile(pod, c, node)?),
        apparmor: apparmor_profile(pod, c)?,
        ..Default::default()
    };
    if sc.run_as_user.is_none()
        && let Some(user) = image_user
    {
        sc.run_as_user = user.uid.map(|value| Int64Value { value });
        sc.run_as_username = user.username.clone();
    }
    let mut ns = namespace_options(pod)?;
    if let Some(target) = target_id
        && ns.pid == NamespaceMode::CONTAINER
    {
        ns.pid = NamespaceMode::TARGET;
        ns.target_id = target.to_string();
    }
    sc.namespace_options = Some(ns);
    if let Some(psc) = &pod.spec.security_context {
        sc.supplemental_groups.extend(psc.fs_group);
        sc.supplemental_groups.extend(&psc.supplemental_groups);
        sc.supplemental_groups_policy = groups_policy(psc.supplemental_groups_policy.as_deref())?;
    }
    if eff.proc_mount.as_deref() != Some("Unmasked") {
        sc.masked_paths = DEFAULT_MASKED_PATHS.iter().map(|p| p.to_string()).collect();
        sc.readonly_paths = DEFAULT_READONLY_PATHS.iter().map(|p| p.to_string()).collect();
    }
    Ok(sc)
}

/// Refuses a container that must not run as root but would (upstream's
/// `verifyRunAsNonRoot`). Without image information only `runAsUser` is checked.
pub fn verify_run_as_non_root(
    pod: &Pod,
    c: &Container,
    image_user: Option<&ImageUser>,
) -> Result<(), BuildErrorKind> {
    let eff = effective_security_context(pod, c);
    if eff.run_as_non_root != Some(true) {
        return Ok(());
    }
    let (pod, container) = (pod_desc(pod), c.name.clone());
    if let Some(uid) = eff.run_as_user {
        return if uid == 0 { Err(BuildErrorKind::RunAsUserRoot { pod, container }) } else { Ok(()) };
    }
    match image_user {
        Some(ImageUser { uid: None, username }) if !username.is_empty() => {
            Err(BuildErrorKind::ImageNonNumericUser { username: username.clone(), pod, container })
        }
        Some(ImageUser { uid: Some(0), .. }) => Err(BuildErrorKind::ImageRunsAsRoot { pod, container }),
        Some(ImageUser { uid: Some(uid), .. }) if !(0..=i64::from(i32::MAX)).contains(uid) => {
            Err(BuildErrorKind::ImageInvalidUid { uid: *uid, pod, container })
        }
        _ => Ok(()),
    }
}

fn profile(profile_type: ProfileType, localhost_ref: String) -> SecurityProfile {
    SecurityProfile { profile_type, localhost_ref }
}

/// The container's seccomp profile: its own, else the pod's, else the node default.
fn seccomp_profile(pod: &Pod, c: &Container, node: &NodeContext) -> Result<SecurityProfile, BuildErrorKind> {
    let field = c
        .security_context
        .as_ref()
        .and_then(|s| s.seccomp_profile.as_ref())
        .or_else(|| pod.spec.security_context.as_ref().and_then(|s| s.seccomp_profile.as_ref()));
    let fallback = if node.seccomp_default { ProfileType::RUNTIME_DEFAULT } else { ProfileType::UNCONFINED };
    let Some(SeccompProfile { type_, localhost_profile }) = field else {
        return Ok(profile(fallback, String::new()));
    };
    Ok(match type_.as_str() {
        "RuntimeDefault" => profile(ProfileType::RUNTIME_DEFAULT, String::new()),
        "Localhost" => {
            let name = localhost_profile.as_deref().filter(|p| !p.is_empty());
            let name = name.ok_or(BuildErrorKind::SeccompLocalhostMissing)?;
            let path = node.seccomp_profile_root().join(name);
            profile(ProfileType::LOCALHOST, path.to_string_lossy().into_owned())
        }
        _ => profile(ProfileType::UNCONFINED, String::new()),
    })
}

/// The container's AppArmor profile: its own, else the deprecated annotation, else the pod's.
fn apparmor_profile(pod: &Pod, c: &Container) -> Result<Option<SecurityProfile>, BuildErrorKind> {
    let own = c.security_context.as_ref().and_then(|s| s.app_armor_profile.as_ref());
    let pod_level = || pod.spec.security_context.as_ref().and_then(|s| s.app_armor_profile.as_ref());
    let (kind, name) = if let Some(p) = own {
        (p.type_.clone(), p.localhost_profile.clone())
    } else if let Some(value) = pod.metadata.annotation(&format!("{APPARMOR_ANNOTATION_PREFIX}{}", c.name)) {
        match value {
            "runtime/default" => ("RuntimeDefault".to_string(), None),
            "unconfined" => ("Unconfined".to_string(), None),
            v => match v.strip_prefix("localhost/") {
                Some(name) => ("Localhost".to_string(), Some(name.to_string())),
                None => return Ok(None), // an invalid annotation is ignored
            },
        }
    } else if let Some(p) = pod_level() {
        (p.type_.clone(), p.localhost_profile.clone())
    } else {
        return Ok(None);
    };
    match kind.as_str() {
        "RuntimeDefault" => Ok(Some(profile(ProfileType::RUNTIME_DEFAULT, String::new()))),
        "Unconfined" => Ok(Some(profile(ProfileType::UNCONFINED, String::new()))),
        "Localhost" => {
            let name = name.ok_or(BuildErrorKind::AppArmorLocalhostMissing)?;
            Ok(Some(profile(ProfileType::LOCALHOST, name)))
        }
        other => Err(BuildErrorKind::AppArmorUnknownType { profile_type: other.to_string() }),
    }
}

fn groups_policy(policy: Option<&str>) -> Result<SupplementalGroupsPolicy, BuildErrorKind> {
    match policy {
        None | Some("Merge") => Ok(SupplementalGroupsPolicy::MERGE),
        Some("Strict") => Ok(SupplementalGroupsPolicy::STRICT),
        Some(other) => Err(BuildErrorKind::SupplementalGroupsPolicy { value: other.to_string() }),
    }
}

fn selinux(o: &crate::api::core::SELinuxOptions) -> SELinuxOption {
    SELinuxOption {
        user: o.user.clone().unwrap_or_default(),
        role: o.role.clone().unwrap_or_default(),
        r#type: o.type_.clone().unwrap_or_default(),
        level: o.level.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
#[path = "security_tests.rs"]
mod tests;
