use serde_json::json;

use super::*;
use crate::api::core::PodOS;

fn pod(v: serde_json::Value) -> Pod {
    serde_json::from_value(v).expect("pod")
}

fn with_sysctls(names: &[&str], host_network: bool) -> Pod {
    let sysctls: Vec<_> = names.iter().map(|n| json!({"name": n, "value": "1"})).collect();
    pod(json!({
        "metadata": {"name": "p", "uid": "u"},
        "spec": {"hostNetwork": host_network, "securityContext": {"sysctls": sysctls}, "containers": [{"name": "c", "image": "i"}]}
    }))
}

#[test]
fn safe_sysctls_pass_and_unsafe_ones_are_forbidden() {
    let list = SysctlAllowlist::new(&[]).expect("list");
    assert_eq!(list.admit(&with_sysctls(&["kernel.shm_rmid_forced", "net.ipv4.tcp_syncookies"], false)), None);
    let (reason, message) = list.admit(&with_sysctls(&["kernel.msgmax"], false)).expect("rejected");
    assert_eq!(reason, "SysctlForbidden");
    assert_eq!(message, r#"forbidden sysctl: "kernel.msgmax" not allowlisted"#);
    // Slash-separated names are the same sysctls.
    assert_eq!(list.admit(&with_sysctls(&["net/ipv4/tcp_syncookies"], false)), None);
}

#[test]
fn allowed_unsafe_sysctls_and_prefixes() {
    let list = SysctlAllowlist::new(&["kernel.msg*".into(), "net.core.somaxconn".into()]).expect("list");
    assert_eq!(list.admit(&with_sysctls(&["kernel.msgmax", "net.core.somaxconn"], false)), None);
    let (_, message) = list.admit(&with_sysctls(&["net.core.somaxconn"], true)).expect("host network");
    assert_eq!(message, r#"forbidden sysctl: "net.core.somaxconn" not allowed with host Net enabled"#);
}

#[test]
fn bad_allowlist_patterns_are_refused() {
    assert!(SysctlAllowlist::new(&["kernel.panic".into()]).err().is_some_and(|e| e.contains("not known to be namespaced")));
    assert!(SysctlAllowlist::new(&["net.*.x".into()]).is_err());
}

#[test]
fn apparmor_needs_a_host_that_enforces_it() {
    let field = pod(json!({
        "metadata": {"name": "p", "uid": "u"},
        "spec": {"containers": [{"name": "c", "image": "i", "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}}]}
    }));
    let (reason, message) = admit_apparmor(&field, false).expect("rejected");
    assert_eq!(reason, "AppArmor");
    assert_eq!(message, "Cannot enforce AppArmor: AppArmor is not enabled on the host");
    assert_eq!(admit_apparmor(&field, true), None);

    let annotation = pod(json!({
        "metadata": {"name": "p", "uid": "u", "annotations": {"container.apparmor.security.beta.kubernetes.io/c": "localhost/"}},
        "spec": {"containers": [{"name": "c", "image": "i"}]}
    }));
    assert!(admit_apparmor(&annotation, false).is_some());
    let (_, message) = admit_apparmor(&annotation, true).expect("empty localhost profile");
    assert!(message.contains("invalid empty AppArmor profile name"), "{message}");

    let unconfined = pod(json!({
        "metadata": {"name": "p", "uid": "u", "annotations": {"container.apparmor.security.beta.kubernetes.io/c": "unconfined"}},
        "spec": {"containers": [{"name": "c", "image": "i"}]}
    }));
    assert_eq!(admit_apparmor(&unconfined, false), None);

    let mut running = field.clone();
    running.status.phase = Some("Running".into());
    assert_eq!(admit_apparmor(&running, false), None, "only pending pods are checked");
}

fn os_pod(os: Option<&str>, label: Option<&str>) -> Pod {
    let mut p = Pod::default();
    p.spec.os = os.map(|n| PodOS { name: n.into() });
    if let Some(l) = label {
        p.metadata.labels.insert(OS_LABEL.into(), l.into());
    }
    p
}

#[test]
fn a_pod_without_os_is_admitted() {
    assert_eq!(check_os(&os_pod(None, None), "linux"), None);
}

#[test]
fn a_pod_for_this_os_is_admitted() {
    assert_eq!(check_os(&os_pod(Some("linux"), Some("linux")), "linux"), None);
}

#[test]
fn a_pod_for_another_os_is_rejected_as_not_supported() {
    let (reason, message) = check_os(&os_pod(Some("windows"), None), "linux").expect("rejected");
    assert_eq!(reason, "PodOSNotSupported");
    assert_eq!(message, "Failed to admit pod as the OS field doesn't match node OS");
}

#[test]
fn the_os_label_is_checked_first() {
    let (reason, _) = check_os(&os_pod(Some("windows"), Some("windows")), "linux").expect("rejected");
    assert_eq!(reason, "PodOSSelectorNodeLabelDoesNotMatch");
}
