//! The volume manager and the volume plugins that need no storage backend: emptyDir,
//! hostPath, configMap, secret, downwardAPI and projected (configMap, secret, downwardAPI,
//! serviceAccountToken), as upstream's `pkg/kubelet/volumemanager` and `pkg/volume/*`.
//!
//! A pod worker calls [`VolumeHandle::ensure`] before it creates the sandbox: it blocks until
//! every volume the pod's containers use is set up (upstream waits 2 min 3 s, then the sync
//! fails with a `FailedMount` event), and returns [`PodVolumes`], from which
//! [`PodVolumes::container_mounts`] makes each container's CRI mounts. While the pod runs,
//! configMap, secret, downwardAPI and projected contents are rewritten atomically every
//! syncFrequency, at once when a watched Secret or ConfigMap changes, and before
//! service-account tokens age. [`VolumeHandle::teardown`] unmounts after the pod's containers
//! are gone; [`VolumeHandle::cleanup_orphans`] (housekeeping) removes the directories of pods
//! that no longer exist. A restarted agent recognises what is mounted (setup is idempotent)
//! and remounts nothing.
//!
//! | module | what |
//! | --- | --- |
//! | [`manager`] | the `rk-volumes` thread and its `rk-volume-op-<n>` workers |
//! | [`spec`] | which volumes a pod needs, plugins, paths |
//! | [`setup`] | SetUp of each plugin |
//! | [`emptydir`], [`hostpath`] | emptyDir (disk, tmpfs), hostPath type checks |
//! | [`payload`], [`atomic`] | configMap/secret/downwardAPI/projected files; the atomic writer |
//! | [`token`] | service-account tokens (TokenRequest, refresh at 80% or 24 h) |
//! | [`ownership`] | fsGroup |
//! | [`mounts`], [`subpath`] | container mounts; safe subPath bind mounts |
//! | [`teardown`], [`mount`] | unmount and cleanup; the mount table and mount calls |
//! | [`wire`] | starting it in the agent |

pub mod atomic;
pub mod emptydir;
pub mod error;
pub mod hostpath;
mod manager;
pub mod mount;
pub mod mounts;
pub mod ownership;
pub mod payload;
pub mod setup;
pub mod spec;
pub mod subpath;
pub mod teardown;
pub mod token;
pub mod wire;

#[cfg(test)]
mod testutil;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

pub use error::VolumeError;
pub use mounts::{MountedVolume, PodVolumes};
pub use token::TokenClient;

use crate::api::core::Pod;
use crate::events::Recorder;
use crate::kuberuntime::{EnvSources, NodeContext};
use crate::objects::ObjectChanged;
use manager::Command;

/// Upstream's `podAttachAndMountTimeout`.
pub const MOUNT_TIMEOUT: Duration = Duration::from_secs(123);
/// How often a waiting pod worker looks at its cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(300);

/// How the volume manager behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Root directory, node allocatable memory (tmpfs sizes), node IPs (downward API).
    pub node: NodeContext,
    /// How often configMap, secret, downwardAPI and projected volumes are rewritten
    /// (syncFrequency).
    pub refresh_period: Duration,
    /// How long [`VolumeHandle::ensure`] waits.
    pub mount_timeout: Duration,
    /// Worker threads for setups and teardowns.
    pub workers: usize,
    /// Mount tmpfs volumes with `noswap`.
    pub noswap: bool,
    /// The runtime supports recursive read-only mounts.
    pub supports_rro: bool,
}

impl Config {
    pub fn new(node: NodeContext, refresh_period: Duration) -> Config {
        Config {
            node,
            refresh_period,
            mount_timeout: MOUNT_TIMEOUT,
            workers: 4,
            noswap: mount::tmpfs_noswap_supported(),
            supports_rro: false,
        }
    }
}

/// What the volume manager uses.
#[derive(Clone)]
pub struct Deps {
    /// Secrets and ConfigMaps (API mode: the watch-based managers; standalone: none, and
    /// configMap/secret/projected volumes fail as upstream's do without an API server).
    pub objects: Arc<dyn EnvSources + Send + Sync>,
    /// TokenRequest; `None` standalone.
    pub tokens: Option<Arc<dyn TokenClient>>,
    /// Change notes of cached Secrets and ConfigMaps.
    pub changes: Option<Receiver<ObjectChanged>>,
    pub recorder: Arc<dyn Recorder>,
}

/// The handle of the volume manager. Clones share the thread.
#[derive(Clone)]
pub struct VolumeHandle {
    tx: Sender<Command>,
    timeout: Duration,
}

/// Starts `rk-volumes` and its workers.
pub fn spawn(cfg: Config, mut deps: Deps) -> std::io::Result<VolumeHandle> {
    let changes = deps.changes.take();
    let timeout = cfg.mount_timeout;
    let (m, done) = manager::start(cfg, deps)?;
    let (tx, rx) = crossbeam_channel::unbounded();
    std::thread::Builder::new().name("rk-volumes".into()).spawn(move || m.run(&rx, &done, changes))?;
    Ok(VolumeHandle { tx, timeout })
}

impl VolumeHandle {
    /// Blocks until every volume `pod`'s containers use is set up; gives up when `cancel`
    /// says so or at the mount timeout.
    pub fn ensure(&self, pod: &Pod, cancel: &dyn Fn() -> bool) -> Result<PodVolumes, VolumeError> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        let deadline = Instant::now() + self.timeout;
        let cmd = Command::Ensure { pod: Arc::new(pod.clone()), reply, deadline };
        self.tx.send(cmd).map_err(|_| VolumeError::Stopped)?;
        // The manager answers by the deadline; the margin only guards against a stuck one.
        let give_up = deadline + Duration::from_secs(10);
        loop {
            match answer.recv_timeout(CANCEL_POLL) {
                Ok(result) => return result,
                Err(RecvTimeoutError::Disconnected) => return Err(VolumeError::Stopped),
                Err(RecvTimeoutError::Timeout) if cancel() => return Err(VolumeError::Cancelled),
                Err(RecvTimeoutError::Timeout) if Instant::now() > give_up => return Err(VolumeError::Stopped),
                Err(RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// Unmounts and removes the volumes of pod `uid` (call once its containers are gone).
    pub fn teardown(&self, uid: &str) -> Result<(), VolumeError> {
        if !spec::safe_component(uid) {
            return Err(VolumeError::InvalidPod { uid: uid.into(), reason: "not a usable pod UID".into() });
        }
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.tx.send(Command::Teardown { uid: uid.into(), reply }).map_err(|_| VolumeError::Stopped)?;
        answer.recv_timeout(self.timeout).unwrap_or_else(|_| {
            Err(VolumeError::Teardown { uid: uid.into(), detail: format!("not done within {:?}", self.timeout) })
        })
    }

    /// Housekeeping: remove the directories (volumes first) of pods on disk that are not in
    /// `known` (the desired pods, the pods with workers and the pods the runtime has).
    /// Never blocks.
    pub fn cleanup_orphans(&self, known: HashSet<String>) {
        if self.tx.send(Command::CleanupOrphans { known }).is_err() {
            log::error!("the volume manager thread is gone");
        }
    }
}

#[cfg(test)]
#[path = "manager_tests.rs"]
mod manager_tests;
