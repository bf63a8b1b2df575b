//! Pod admission checks beyond the pod count: the pod's OS, sysctls and AppArmor (upstream's
//! predicate admit handler's OS checks, `sysctl.patternAllowlist` and `appArmorAdmitHandler`).
//! A rejected pod fails with the returned reason and message and never runs.
//!
//! The node's OS is the one we were built for; upstream keeps its node's `kubernetes.io/os`
//! label at `runtime.GOOS`, so comparing with [`std::env::consts::OS`] is the same test.

use std::collections::HashMap;
use std::path::Path;

use crate::api::core::{AppArmorProfile, Container, Pod};

pub const SYSCTL_FORBIDDEN: &str = "SysctlForbidden";
pub const APPARMOR_NOT_ADMITTED: &str = "AppArmor";

/// Sysctls any pod may set: namespaced and isolated (upstream's safe set; all of them are
/// namespaced on the kernels rkubelet supports, 4.15 and later).
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];

/// The kernel namespace a sysctl belongs to; a pod sharing that namespace with the host may
/// not set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Namespace {
    Ipc,
    Net,
    Uts,
    User,
}

impl Namespace {
    fn name(self) -> &'static str {
        match self {
            Namespace::Ipc => "IPC",
            Namespace::Net => "Net",
            Namespace::Uts => "UTS",
            Namespace::User => "User",
        }
    }

    fn of(sysctl: &str) -> Option<Namespace> {
        let exact = match sysctl {
            "kernel.domainname" => Some(Namespace::Uts),
            "kernel.sem" | "kernel.shmall" | "kernel.shmmax" | "kernel.shmmni" | "kernel.shm_rmid_forced"
            | "kernel.shm" | "kernel.msgmax" | "kernel.msgmnb" | "kernel.msgmni" | "kernel.msg" => Some(Namespace::Ipc),
            _ => None,
        };
        exact.or_else(|| {
            [("net.", Namespace::Net), ("fs.mqueue.", Namespace::Ipc), ("user.", Namespace::User)]
                .into_iter()
                .find_map(|(prefix, ns)| sysctl.starts_with(prefix).then_some(ns))
        })
    }
}

/// `net/ipv4/conf/eth0.100/rp_filter` is `net.ipv4.conf.eth0/100.rp_filter`.
fn normalize(name: &str) -> String {
    match name.find(['.', '/']) {
        Some(i) if name.as_bytes()[i] == b'/' => {
            name.chars().map(|c| match c { '.' => '/', '/' => '.', c => c }).collect()
        }
        _ => name.to_string(),
    }
}

/// The sysctls pods may set: the safe set plus `allowedUnsafeSysctls` (names, or prefixes
/// ending in `*`).
#[derive(Debug, Clone, Default)]
pub struct SysctlAllowlist {
    exact: HashMap<String, Namespace>,
    prefixes: Vec<(String, Namespace)>,
}

impl SysctlAllowlist {
    pub fn new(allowed_unsafe: &[String]) -> Result<SysctlAllowlist, String> {
        let mut list = SysctlAllowlist::default();
        for pattern in SAFE_SYSCTLS.iter().map(|s| s.to_string()).chain(allowed_unsafe.iter().cloned()) {
            let name = normalize(&pattern);
            let (name, prefixed) = match name.find('*') {
                Some(i) if i + 1 == name.len() => (name[..i].to_string(), true),
                Some(_) => return Err(format!("allowedUnsafeSysctls: {pattern:?}: a '*' may only end the pattern")),
                None => (name, false),
            };
            let Some(ns) = Namespace::of(&name) else {
                return Err(format!("allowedUnsafeSysctls: the sysctls {name:?} are not known to be namespaced"));
            };
            if prefixed {
                list.prefixes.push((name, ns));
            } else {
                list.exact.insert(name, ns);
            }
        }
        Ok(list)
    }

    fn check(&self, sysctl: &str, host_net: bool, host_ipc: bool, host_users: bool) -> Result<(), String> {
        let sysctl = normalize(sysctl);
        let ns = self
            .exact
            .get(&sysctl)
            .copied()
            .or_else(|| self.prefixes.iter().find(|(p, _)| sysctl.starts_with(p.as_str())).map(|(_, ns)| *ns));
        let Some(ns) = ns else { return Err(format!("{sysctl:?} not allowlisted")) };
        let shared = match ns {
            Namespace::Ipc => host_ipc,
            Namespace::Net => host_net,
            Namespace::User => host_users,
            Namespace::Uts => false,
        };
        if shared {
            return Err(format!("{sysctl:?} not allowed with host {} enabled", ns.name()));
        }
        Ok(())
    }

    /// `Some((reason, message))` when the pod sets a sysctl it may not.
    pub fn admit(&self, pod: &Pod) -> Option<(String, String)> {
        let sc = pod.spec.security_context.as_ref()?;
        let spec = &pod.spec;
        let host_users = spec.host_users.unwrap_or(true);
        sc.sysctls.iter().find_map(|s| {
            self.check(&s.name, spec.host_network == Some(true), spec.host_ipc == Some(true), host_users)
                .err()
                .map(|e| (SYSCTL_FORBIDDEN.to_string(), format!("forbidden sysctl: {e}")))
        })
    }
}

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// Whether the kernel enforces AppArmor (what runc checks).
pub fn apparmor_enabled() -> bool {
    Path::new("/sys/kernel/security/apparmor").exists()
        && std::fs::read("/sys/module/apparmor/parameters/enabled").is_ok_and(|b| b.starts_with(b"Y"))
}

/// `Some((reason, message))` when a pending pod asks for AppArmor and the host cannot
/// enforce it, or names an empty localhost profile.
pub fn admit_apparmor(pod: &Pod, host_enabled: bool) -> Option<(String, String)> {
    if pod.status.phase.as_deref().is_some_and(|p| p != "Pending") {
        return None;
    }
    let confined = |p: &AppArmorProfile| p.type_ != "Unconfined";
    let pod_profile = pod.spec.security_context.as_ref().and_then(|sc| sc.app_armor_profile.as_ref());
    let containers = || all_containers(pod);
    let required = pod_profile.is_some_and(confined)
        || containers().any(|c| container_profile(c).is_some_and(confined))
        || pod
            .metadata
            .annotations
            .iter()
            .any(|(k, v)| k.starts_with(APPARMOR_ANNOTATION_PREFIX) && v != "unconfined");
    if !required {
        return None;
    }
    let reject = |why: String| Some((APPARMOR_NOT_ADMITTED.to_string(), format!("Cannot enforce AppArmor: {why}")));
    if !host_enabled {
        return reject("AppArmor is not enabled on the host".into());
    }
    for c in containers() {
        let from_annotation = pod.metadata.annotations.get(&format!("{APPARMOR_ANNOTATION_PREFIX}{}", c.name));
        let empty_localhost = match (container_profile(c), from_annotation) {
            (Some(p), _) => p.type_ == "Localhost" && p.localhost_profile.as_deref().is_none_or(|n| n.trim().is_empty()),
            (None, Some(v)) => v.strip_prefix("localhost/").is_some_and(|n| n.trim().is_empty()),
            (None, None) => pod_profile
                .is_some_and(|p| p.type_ == "Localhost" && p.localhost_profile.as_deref().is_none_or(|n| n.trim().is_empty())),
        };
        if empty_localhost {
            return reject(format!("invalid empty AppArmor profile name for container {:?}", c.name));
        }
    }
    None
}

fn container_profile(c: &Container) -> Option<&AppArmorProfile> {
    c.security_context.as_ref().and_then(|sc| sc.app_armor_profile.as_ref())
}

fn all_containers(pod: &Pod) -> impl Iterator<Item = &Container> {
    pod.spec.init_containers.iter().chain(pod.spec.containers.iter())
}

/// Rejected: the pod's `kubernetes.io/os` label names another OS.
pub const POD_OS_SELECTOR_MISMATCH: &str = "PodOSSelectorNodeLabelDoesNotMatch";
/// Rejected: the pod's `spec.os.name` names another OS.
pub const POD_OS_NOT_SUPPORTED: &str = "PodOSNotSupported";

const OS_LABEL: &str = "kubernetes.io/os";

/// `Some((reason, message))` when the pod cannot run on a node of OS `node_os`.
pub fn check_os(pod: &Pod, node_os: &str) -> Option<(String, String)> {
    // Upstream looks at the pod's own labels here (not its node selector): same test.
    if pod.metadata.labels.get(OS_LABEL).is_some_and(|os| os != node_os) {
        return Some((
            POD_OS_SELECTOR_MISMATCH.into(),
            "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label".into(),
        ));
    }
    if pod.spec.os.as_ref().is_some_and(|os| os.name != node_os) {
        return Some((POD_OS_NOT_SUPPORTED.into(), "Failed to admit pod as the OS field doesn't match node OS".into()));
    }
    None
}

#[cfg(test)]
#[path = "admission_tests.rs"]
mod tests;
