//! Why a container could not be started: the reason cache a pod worker keeps.
//!
//! A sync step that fails to start a container records a [`StartFailure`] and a message under
//! the container's name; a later successful start clears it (upstream's `ReasonCache.Update`
//! over `StartContainer` sync results). [`generate`](super::generate()) shows the entry as the
//! container's `state.waiting.reason`/`message` while the container is due to be (re)started.
//! Upstream keeps one LRU cache for all pods keyed by (pod UID, container name); each of our
//! pod workers owns one pod, so the cache is per pod and keyed by container name alone.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::api::core::Pod;

/// A start failure reason, spelled as upstream's error strings (they become
/// `state.waiting.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StartFailure {
    /// The container is in restart back-off (`CrashLoopBackOff`).
    CrashLoopBackOff,
    /// Pulling the image failed (`ErrImagePull`).
    ErrImagePull,
    /// Image pulls are in back-off (`ImagePullBackOff`).
    ImagePullBackOff,
    /// `imagePullPolicy: Never` and the image is absent (`ErrImageNeverPull`).
    ErrImageNeverPull,
    /// The image name cannot be parsed (`InvalidImageName`).
    InvalidImageName,
    /// Inspecting the image failed (`ImageInspectError`).
    ImageInspectError,
    /// The container config could not be generated: missing ConfigMap/Secret key, runAsNonRoot
    /// violated, ... (`CreateContainerConfigError`).
    CreateContainerConfigError,
    /// CreateContainer failed (`CreateContainerError`).
    CreateContainerError,
    /// StartContainer failed (`RunContainerError`).
    RunContainerError,
    /// The pre-create hook failed (`PreCreateHookError`).
    PreCreateHookError,
    /// The pre-start hook failed (`PreStartHookError`).
    PreStartHookError,
    /// The postStart handler failed (`PostStartHookError`).
    PostStartHookError,
}

impl StartFailure {
    pub const ALL: [StartFailure; 12] = [
        StartFailure::CrashLoopBackOff,
        StartFailure::ErrImagePull,
        StartFailure::ImagePullBackOff,
        StartFailure::ErrImageNeverPull,
        StartFailure::InvalidImageName,
        StartFailure::ImageInspectError,
        StartFailure::CreateContainerConfigError,
        StartFailure::CreateContainerError,
        StartFailure::RunContainerError,
        StartFailure::PreCreateHookError,
        StartFailure::PreStartHookError,
        StartFailure::PostStartHookError,
    ];

    /// The reason string, exactly as upstream writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            StartFailure::CrashLoopBackOff => "CrashLoopBackOff",
            StartFailure::ErrImagePull => "ErrImagePull",
            StartFailure::ImagePullBackOff => "ImagePullBackOff",
            StartFailure::ErrImageNeverPull => "ErrImageNeverPull",
            StartFailure::InvalidImageName => "InvalidImageName",
            StartFailure::ImageInspectError => "ImageInspectError",
            StartFailure::CreateContainerConfigError => "CreateContainerConfigError",
            StartFailure::CreateContainerError => "CreateContainerError",
            StartFailure::RunContainerError => "RunContainerError",
            StartFailure::PreCreateHookError => "PreCreateHookError",
            StartFailure::PreStartHookError => "PreStartHookError",
            StartFailure::PostStartHookError => "PostStartHookError",
        }
    }

    pub fn parse(s: &str) -> Option<StartFailure> {
        StartFailure::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

impl fmt::Display for StartFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One cached failure: the reason and the human-readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub failure: StartFailure,
    pub message: String,
}

/// Container name to the last start failure of that container, for one pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReasonCache {
    entries: BTreeMap<String, Reason>,
}

impl ReasonCache {
    pub fn new() -> ReasonCache {
        ReasonCache::default()
    }

    /// Records that starting `container` failed (replaces an older entry).
    pub fn set(&mut self, container: &str, failure: StartFailure, message: impl Into<String>) {
        let reason = Reason {
            failure,
            message: message.into(),
        };
        self.entries.insert(container.to_string(), reason);
    }

    /// Forgets the failure of `container` (it started).
    pub fn clear(&mut self, container: &str) {
        self.entries.remove(container);
    }

    pub fn get(&self, container: &str) -> Option<&Reason> {
        self.entries.get(container)
    }

    /// Applies the outcome of one start attempt, as upstream's `Update` does per
    /// `StartContainer` result: a failure is recorded, a success clears the entry.
    pub fn record(&mut self, container: &str, outcome: Result<(), (StartFailure, String)>) {
        match outcome {
            Ok(()) => self.clear(container),
            Err((failure, message)) => self.set(container, failure, message),
        }
    }

    /// Drops entries of containers no longer in the pod's spec.
    pub fn retain_containers(&mut self, pod: &Pod) {
        let spec = &pod.spec;
        self.entries.retain(|name, _| {
            spec.init_containers
                .iter()
                .chain(&spec.containers)
                .any(|c| &c.name == name)
        });
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Upstream's pod description in messages: `<name>_<namespace>(<uid>)`.
pub fn pod_desc(pod: &Pod) -> String {
    let meta = &pod.metadata;
    format!("{}_{}({})", meta.name(), meta.namespace(), meta.uid())
}

/// The `CrashLoopBackOff` message upstream writes:
/// `back-off 10s restarting failed container=app pod=web_default(1234-...)`.
pub fn crash_loop_message(backoff: Duration, container: &str, pod: &Pod) -> String {
    format!(
        "back-off {} restarting failed container={} pod={}",
        go_duration(backoff),
        container,
        pod_desc(pod)
    )
}

/// A duration as Go's `time.Duration.String` writes it (`10s`, `1m20s`, `5m0s`, `1h0m0s`,
/// `1.5s`, `250ms`), the form upstream's messages carry.
pub fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".to_string();
    }
    if nanos < 1_000_000_000 {
        // Below a second Go picks the largest unit that keeps a non-zero integer part.
        let (unit, scale) = if nanos < 1_000 {
            ("ns", 1)
        } else if nanos < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{}{unit}", fraction(nanos, scale));
    }
    let secs = d.as_secs();
    let (hours, minutes, seconds) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let sub = u128::from(d.subsec_nanos());
    let secs_part = fraction(u128::from(seconds) * 1_000_000_000 + sub, 1_000_000_000);
    match (hours, minutes) {
        (0, 0) => format!("{secs_part}s"),
        (0, m) => format!("{m}m{secs_part}s"),
        (h, m) => format!("{h}h{m}m{secs_part}s"),
    }
}

/// `value / scale` with the remainder as decimal digits, trailing zeros trimmed.
fn fraction(value: u128, scale: u128) -> String {
    let whole = value / scale;
    let rest = value % scale;
    if rest == 0 {
        return whole.to_string();
    }
    let width = scale.ilog10() as usize;
    let digits = format!("{rest:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ObjectMeta;
    use crate::api::core::Container;

    #[test]
    fn reason_strings_are_upstreams() {
        let table = [
            (StartFailure::CrashLoopBackOff, "CrashLoopBackOff"),
            (StartFailure::ErrImagePull, "ErrImagePull"),
            (StartFailure::ImagePullBackOff, "ImagePullBackOff"),
            (StartFailure::ErrImageNeverPull, "ErrImageNeverPull"),
            (StartFailure::InvalidImageName, "InvalidImageName"),
            (StartFailure::ImageInspectError, "ImageInspectError"),
            (
                StartFailure::CreateContainerConfigError,
                "CreateContainerConfigError",
            ),
            (StartFailure::CreateContainerError, "CreateContainerError"),
            (StartFailure::RunContainerError, "RunContainerError"),
            (StartFailure::PreCreateHookError, "PreCreateHookError"),
            (StartFailure::PreStartHookError, "PreStartHookError"),
            (StartFailure::PostStartHookError, "PostStartHookError"),
        ];
        assert_eq!(table.len(), StartFailure::ALL.len());
        for (failure, text) in table {
            assert_eq!(failure.to_string(), text);
            assert_eq!(StartFailure::parse(text), Some(failure));
        }
        assert_eq!(StartFailure::parse("Completed"), None);
    }

    #[test]
    fn cache_set_record_and_clear() {
        let mut cache = ReasonCache::new();
        cache.set("app", StartFailure::ErrImagePull, "pull failed");
        assert_eq!(
            cache.get("app").map(|r| r.failure),
            Some(StartFailure::ErrImagePull)
        );
        cache.record(
            "app",
            Err((StartFailure::ImagePullBackOff, "Back-off".into())),
        );
        assert_eq!(
            cache.get("app").map(|r| r.message.as_str()),
            Some("Back-off")
        );
        cache.record(
            "side",
            Err((StartFailure::RunContainerError, "boom".into())),
        );
        cache.record("app", Ok(()));
        assert!(cache.get("app").is_none());
        assert_eq!(cache.len(), 1);
        cache.clear("side");
        assert!(cache.is_empty());
    }

    #[test]
    fn retain_drops_removed_containers() {
        let mut cache = ReasonCache::new();
        cache.set("gone", StartFailure::CreateContainerError, "");
        cache.set("init", StartFailure::RunContainerError, "");
        let mut pod = Pod::default();
        pod.spec.init_containers.push(Container {
            name: "init".into(),
            ..Default::default()
        });
        cache.retain_containers(&pod);
        assert!(cache.get("gone").is_none());
        assert!(cache.get("init").is_some());
    }

    #[test]
    fn go_durations() {
        let table = [
            (Duration::ZERO, "0s"),
            (Duration::from_secs(10), "10s"),
            (Duration::from_secs(80), "1m20s"),
            (Duration::from_secs(160), "2m40s"),
            (Duration::from_secs(300), "5m0s"),
            (Duration::from_secs(3600), "1h0m0s"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_micros(1500), "1.5ms"),
            (Duration::from_nanos(42), "42ns"),
        ];
        for (d, want) in table {
            assert_eq!(go_duration(d), want, "{d:?}");
        }
    }

    #[test]
    fn crash_loop_message_matches_upstream_format() {
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some("web-node1".into()),
                namespace: Some("default".into()),
                uid: Some("1234".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            crash_loop_message(Duration::from_secs(20), "app", &pod),
            "back-off 20s restarting failed container=app pod=web-node1_default(1234)"
        );
    }
}
