//! Why a pod's volumes are not ready, or could not be torn down.

use std::fmt;

/// What [`super::VolumeHandle::ensure`] and [`super::VolumeHandle::teardown`] report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeError {
    /// Not every volume was set up within the wait (upstream's `WaitForAttachAndMount`
    /// timeout; the per-volume reasons went out as `FailedMount` events).
    Timeout { unmounted: Vec<String>, unattached: Vec<String>, not_processed: Vec<String> },
    /// Volumes no plugin can serve; waiting would not help.
    Process { errors: Vec<String> },
    /// A pod UID or volume name that is not a safe path component.
    InvalidPod { uid: String, reason: String },
    /// Tearing down a volume failed (retried by the caller).
    Teardown { uid: String, detail: String },
    /// The caller asked to stop waiting (the pod is being killed).
    Cancelled,
    /// The volume manager thread is gone (a bug).
    Stopped,
}

/// Go's `%v` of a string slice: `[a b]`.
fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

impl fmt::Display for VolumeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VolumeError::Timeout { unmounted, unattached, not_processed } => write!(
                f,
                "unmounted volumes={}, unattached volumes={}, failed to process volumes={}: context deadline exceeded",
                go_list(unmounted),
                go_list(unattached),
                go_list(not_processed)
            ),
            VolumeError::Process { errors } => f.write_str(&errors.join("; ")),
            VolumeError::InvalidPod { uid, reason } => write!(f, "pod {uid:?}: {reason}"),
            VolumeError::Teardown { uid, detail } => write!(f, "tearing down the volumes of pod {uid}: {detail}"),
            VolumeError::Cancelled => f.write_str("stopped waiting for volumes: the pod is being stopped"),
            VolumeError::Stopped => f.write_str("the volume manager is not running"),
        }
    }
}

impl std::error::Error for VolumeError {}

/// The per-volume SetUp failure as upstream words its `FailedMount` event.
pub fn setup_failed(volume: &str, detail: &str) -> String {
    format!("MountVolume.SetUp failed for volume {volume:?} : {detail}")
}

/// A volume whose type rkubelet has no plugin for.
pub fn no_plugin(volume: &str, kind: &str) -> String {
    format!("failed to get Plugin from volumeSpec for volume {volume:?} err=no volume plugin matched (rkubelet does not implement {kind} volumes)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_words() {
        let e = VolumeError::Timeout { unmounted: vec!["a".into(), "b".into()], unattached: vec![], not_processed: vec![] };
        assert_eq!(
            e.to_string(),
            "unmounted volumes=[a b], unattached volumes=[], failed to process volumes=[]: context deadline exceeded"
        );
        assert_eq!(setup_failed("x", "configmap \"y\" not found"), "MountVolume.SetUp failed for volume \"x\" : configmap \"y\" not found");
        assert!(no_plugin("data", "nfs").starts_with("failed to get Plugin from volumeSpec for volume \"data\" err=no volume plugin matched"));
    }
}
