//! Pod sources and the config mux: where the pods this node should run come from.
//!
//! ```text
//!  rk-src-file ─┐  SourceUpdate{source, pods}          ┌─ ConfigEvent::Update(PodUpdate{op, ..})
//!  rk-src-http ─┼───────────────────────────► rk-mux ──┤
//!  rk-src-api ──┘  full snapshot of one source         └─ ConfigEvent::SourceReady(source)
//! ```
//!
//! Every source sends the *whole* current set of its pods each time ([`SourceUpdate`], SET
//! semantics, as upstream's `PodConfig` receives them). The mux ([`mux`]) remembers each
//! source's pods by UID and turns consecutive sets into incremental [`PodUpdate`]s with an
//! [`Op`], the way upstream's `pkg/kubelet/config/config.go` does.
//!
//! | module | what |
//! | --- | --- |
//! | [`mux`] | the `rk-mux` thread and its pure diff ([`merge`]) |
//! | [`static_pod`] | manifest decoding and static pod identity (UID, name, annotations) |
//! | [`defaults`] | the Pod API defaulting the API server would have applied |
//! | [`validate`] | the checks a static pod must pass |
//! | [`file`](mod@file) | `rk-src-file`: `staticPodPath`, re-read periodically and on inotify events |
//! | [`http`] | `rk-src-http`: `staticPodURL`, polled |
//! | [`apiserver`] | `rk-src-api`: pods bound to this node, listed and watched on the API server |

use std::fmt;

use crate::api::core::Pod;

pub mod apiserver;
pub mod defaults;
pub mod file;
pub mod http;
pub mod merge;
pub mod mux;
pub mod static_pod;
pub mod validate;
mod watch;

/// Which source a pod comes from; the value of its `kubernetes.io/config.source` annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// `staticPodPath` (`--pod-manifest-path`).
    File,
    /// `staticPodURL` (`--manifest-url`).
    Http,
    /// The API server (pods bound to this node).
    Api,
}

impl Source {
    pub const ALL: [Source; 3] = [Source::File, Source::Http, Source::Api];

    /// Upstream's name for the source: `file`, `http` or `api`.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::File => "file",
            Source::Http => "http",
            Source::Api => "api",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|src| src.as_str() == s)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which source the pod came from.
pub const CONFIG_SOURCE_ANNOTATION: &str = "kubernetes.io/config.source";
/// A static pod's UID (the hash of its manifest), also on its mirror pod.
pub const CONFIG_HASH_ANNOTATION: &str = "kubernetes.io/config.hash";
/// When the kubelet first saw the pod (RFC 3339 with nanoseconds).
pub const CONFIG_SEEN_ANNOTATION: &str = "kubernetes.io/config.seen";
/// Marks a mirror pod (the API server's copy of a static pod).
pub const CONFIG_MIRROR_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// The annotations the kubelet itself puts on pods: ignored when comparing two versions of a
/// pod, and kept from the first version when a pod is updated.
pub const LOCAL_ANNOTATIONS: [&str; 3] = [
    CONFIG_SOURCE_ANNOTATION,
    CONFIG_MIRROR_ANNOTATION,
    CONFIG_SEEN_ANNOTATION,
];

/// The source named by a pod's `kubernetes.io/config.source` annotation.
pub fn pod_source(pod: &Pod) -> Option<Source> {
    pod.metadata
        .annotation(CONFIG_SOURCE_ANNOTATION)
        .and_then(Source::parse)
}

/// A static pod: one that did not come from the API server (upstream's `IsStaticPod`).
pub fn is_static_pod(pod: &Pod) -> bool {
    pod_source(pod).is_some_and(|s| s != Source::Api)
}

/// A mirror pod: the API server's read-only copy of a static pod.
pub fn is_mirror_pod(pod: &Pod) -> bool {
    pod.metadata
        .annotations
        .contains_key(CONFIG_MIRROR_ANNOTATION)
}

/// The complete current set of pods of one source (not a delta).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceUpdate {
    pub source: Source,
    pub pods: Vec<Pod>,
}

/// What happened to the pods of a [`PodUpdate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// New pods (a UID the source did not have before).
    Add,
    /// Spec, labels, annotations, owner references or deletion fields changed.
    Update,
    /// Gone from the source: stop them now.
    Remove,
    /// Only the status changed (API pods); the kubelet owns status, so re-check it.
    Reconcile,
    /// Graceful deletion: the API server set `deletionTimestamp`.
    Delete,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Add => "ADD",
            Op::Update => "UPDATE",
            Op::Remove => "REMOVE",
            Op::Reconcile => "RECONCILE",
            Op::Delete => "DELETE",
        })
    }
}

/// One incremental change from the mux: every pod in `pods` had `op` happen to it.
#[derive(Debug, Clone, PartialEq)]
pub struct PodUpdate {
    pub op: Op,
    pub source: Source,
    pub pods: Vec<Pod>,
}

/// What the mux sends to the sync loop.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigEvent {
    Update(PodUpdate),
    /// The source delivered its first complete set (even an empty one): sent once per
    /// source. Housekeeping may remove pods only once every configured source is ready.
    SourceReady(Source),
}
