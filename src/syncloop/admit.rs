//! Admission checks that need nothing but the pod: upstream's predicate admit handler's OS
//! checks (`pkg/kubelet/lifecycle/predicate.go`). The node's OS is the one we were built for;
//! upstream keeps its node's `kubernetes.io/os` label at `runtime.GOOS`, so comparing with
//! [`std::env::consts::OS`] is the same test.

use crate::api::core::Pod;

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
mod tests {
    use super::*;
    use crate::api::core::PodOS;

    fn pod(os: Option<&str>, label: Option<&str>) -> Pod {
        let mut p = Pod::default();
        p.spec.os = os.map(|n| PodOS { name: n.into() });
        if let Some(l) = label {
            p.metadata.labels.insert(OS_LABEL.into(), l.into());
        }
        p
    }

    #[test]
    fn a_pod_without_os_is_admitted() {
        assert_eq!(check_os(&pod(None, None), "linux"), None);
    }

    #[test]
    fn a_pod_for_this_os_is_admitted() {
        assert_eq!(check_os(&pod(Some("linux"), Some("linux")), "linux"), None);
    }

    #[test]
    fn a_pod_for_another_os_is_rejected_as_not_supported() {
        let (reason, message) = check_os(&pod(Some("windows"), None), "linux").expect("rejected");
        assert_eq!(reason, "PodOSNotSupported");
        assert_eq!(message, "Failed to admit pod as the OS field doesn't match node OS");
    }

    #[test]
    fn the_os_label_is_checked_first() {
        let (reason, _) = check_os(&pod(Some("windows"), Some("windows")), "linux").expect("rejected");
        assert_eq!(reason, "PodOSSelectorNodeLabelDoesNotMatch");
    }
}
