//! Garbage collection: dead containers, old sandboxes, log directories of pods that are gone
//! (upstream's container GC, every minute) and unused images (upstream's image GC manager,
//! every five minutes).
//!
//! ```text
//!  rk-syncloop ── PodSnapshot (each housekeeping) ──► rk-gc ── every 1 min ──► container GC ──► Runtime::evict
//!                                                      │    (image refs seen) ──┐                pod log dirs
//!                                                      └─── every 5 min ──► image GC ──► RemoveImage
//! ```
//!
//! What may go is upstream's `ShouldPodContentBeRemoved`: a pod that is deleted and
//! terminated, or one the sync loop does not know once every source delivered its first set
//! ([`PodSnapshot::content_removable`]). Before that, and for pods that stay, only the dead
//! containers beyond the newest per container name and the sandboxes beyond the newest are
//! removed ([`crate::kuberuntime::evictable`]). Objects created after the snapshot was taken
//! are never judged by it (the pod may be newer than the snapshot).
//!
//! | module | what |
//! | --- | --- |
//! | `containers` | one container GC pass |
//! | `images` | image GC: usage records, eviction order, thresholds and ages |
//! | `cri_images` | the image GC's view of CRI: images, images in use, image filesystem |

mod containers;
mod cri_images;
mod images;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender, never, select, tick};

use crate::events::{EventType, Recorder};
use crate::kuberuntime::{Runtime, RuntimeError};

pub use containers::{Collected, collect_containers};
pub use cri_images::CriImages;
pub use images::{FsStats, ImageGc, ImagePolicy, ImageService};

/// Upstream's ContainerGCPeriod.
pub const CONTAINER_GC_PERIOD: Duration = Duration::from_secs(60);
/// Upstream's ImageGCPeriod.
pub const IMAGE_GC_PERIOD: Duration = Duration::from_secs(300);
/// A snapshot older than this (the sync loop stalled) removes no whole pod.
const SNAPSHOT_STALE: Duration = Duration::from_secs(60);

/// Upstream's event reasons (pkg/kubelet/events).
pub mod reason {
    pub const CONTAINER_GC_FAILED: &str = "ContainerGCFailed";
    pub const IMAGE_GC_FAILED: &str = "ImageGCFailed";
    pub const FREE_DISK_SPACE_FAILED: &str = "FreeDiskSpaceFailed";
    pub const INVALID_DISK_CAPACITY: &str = "InvalidDiskCapacity";
}

/// What the sync loop knows of one pod (for upstream's pod state provider).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PodState {
    /// No container of it runs or will run again (its worker terminated or finished).
    pub terminated: bool,
    /// Gone from its source, or marked for deletion.
    pub deleted: bool,
}

/// The pods the sync loop knows, sent at each housekeeping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodSnapshot {
    pub taken_at: SystemTime,
    /// Every configured source delivered its first set (upstream's `sourcesReady`).
    pub sources_ready: bool,
    pub pods: HashMap<String, PodState>,
}

impl PodSnapshot {
    /// Upstream's `ShouldPodContentBeRemoved`: deleted and terminated, or unknown once every
    /// source is ready.
    pub fn content_removable(&self, uid: &str) -> bool {
        self.sources_ready && self.pods.get(uid).is_none_or(|p| p.deleted && p.terminated)
    }

    /// `taken_at` as CRI times (Unix nanoseconds).
    fn taken_at_nanos(&self) -> i64 {
        let d = self.taken_at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
        i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
    }
}

/// The collector's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub container_gc_period: Duration,
    pub image_gc_period: Duration,
    pub images: ImagePolicy,
    /// The node name, for node events.
    pub node_name: String,
    /// Only sandboxes and containers with these labels (empty: all); tests on a shared
    /// runtime use it.
    pub label_selector: BTreeMap<String, String>,
}

impl Config {
    pub fn from_kubelet(k: &crate::config::KubeletConfiguration, node_name: &str) -> Config {
        Config {
            container_gc_period: CONTAINER_GC_PERIOD,
            image_gc_period: IMAGE_GC_PERIOD,
            images: ImagePolicy::from_kubelet(k),
            node_name: node_name.to_string(),
            label_selector: BTreeMap::new(),
        }
    }
}

pub struct Deps {
    pub runtime: Arc<Runtime>,
    pub recorder: Arc<dyn Recorder>,
}

/// Why a collection failed.
#[derive(Debug)]
pub enum GcError {
    /// Listing or inspecting failed (`call` is the CRI method).
    Cri {
        call: &'static str,
        error: crate::cri::CriError,
    },
    /// Removing containers or sandboxes failed.
    Runtime(RuntimeError),
    Io {
        op: &'static str,
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    /// The runtime reported no image filesystem.
    NoImageFs,
    /// The image filesystem reports a capacity of 0.
    InvalidCapacity,
    /// Removing enough unused images did not bring usage below the threshold.
    InsufficientSpace {
        usage_percent: u64,
        capacity: u64,
        freed: u64,
    },
    /// Some images could not be removed; one line per image.
    RemoveImages {
        wanted: String,
        failures: Vec<String>,
    },
}

impl fmt::Display for GcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GcError::Cri { call, error } => write!(f, "{call}: {error}"),
            GcError::Runtime(e) => write!(f, "{e}"),
            GcError::Io { op, path, error } => write!(f, "{op} {}: {error}", path.display()),
            GcError::NoImageFs => f.write_str("the container runtime reports no image filesystem"),
            GcError::InvalidCapacity => f.write_str("invalid capacity 0 on image filesystem"),
            GcError::InsufficientSpace { usage_percent, capacity, freed } => write!(
                f,
                "Insufficient free disk space on the node's image filesystem ({usage_percent}% of {} used). \
                 Failed to free sufficient space by deleting unused images (freed {freed} bytes). \
                 Investigate disk usage, as it could be used by active images, logs, volumes, or other data.",
                images::format_size(*capacity)
            ),
            GcError::RemoveImages { wanted, failures } => {
                write!(
                    f,
                    "wanted to free {wanted}, encountered errors in image deletion: [{}]",
                    failures.join(", ")
                )
            }
        }
    }
}

impl std::error::Error for GcError {}

enum Command {
    Pods(PodSnapshot),
    CollectContainers(Sender<Result<Collected, GcError>>),
}

/// How the sync loop (and tests) talk to `rk-gc`.
#[derive(Clone)]
pub struct GcHandle {
    tx: Sender<Command>,
}

impl GcHandle {
    /// The pods the sync loop knows now; the collector judges by the newest it got.
    pub fn pods(&self, snapshot: PodSnapshot) {
        let _ = self.tx.send(Command::Pods(snapshot));
    }

    /// Runs a container GC pass now and returns what it did (`None` after `timeout`).
    pub fn collect_containers_now(&self, timeout: Duration) -> Option<Result<Collected, GcError>> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.tx.send(Command::CollectContainers(reply)).ok()?;
        rx.recv_timeout(timeout).ok()
    }
}

/// Starts `rk-gc`.
pub fn spawn(cfg: Config, deps: Deps) -> std::io::Result<GcHandle> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let images = ImageGc::new(cfg.images, Instant::now());
    let svc = CriImages::new(deps.runtime.cri().clone());
    let mut gc = Gc { cfg, deps, snapshot: None, images, svc, image_gc_failed: false };
    std::thread::Builder::new().name("rk-gc".into()).spawn(move || gc.run(&rx))?;
    Ok(GcHandle { tx })
}

struct Gc {
    cfg: Config,
    deps: Deps,
    snapshot: Option<PodSnapshot>,
    images: ImageGc,
    svc: CriImages,
    image_gc_failed: bool,
}

impl Gc {
    fn run(&mut self, rx: &Receiver<Command>) {
        let container_tick = tick(self.cfg.container_gc_period);
        let image_tick = if self.cfg.images.enabled() {
            tick(self.cfg.image_gc_period)
        } else {
            log::info!(
                "image garbage collection is off (imageGCHighThresholdPercent 100, imageMaximumGCAge 0)"
            );
            never()
        };
        // Upstream runs both at once at start, then periodically.
        if self.cfg.images.enabled() {
            self.collect_images();
        }
        let _ = self.collect_containers();
        loop {
            select! {
                recv(rx) -> cmd => match cmd {
                    Ok(Command::Pods(s)) => self.snapshot = Some(s),
                    Ok(Command::CollectContainers(reply)) => { let _ = reply.send(self.collect_containers()); }
                    Err(_) => return,
                },
                recv(container_tick) -> _ => { let _ = self.collect_containers(); }
                recv(image_tick) -> _ => self.collect_images(),
            }
        }
    }

    fn node_event(&self, reason: &str, message: &str) {
        let node = &self.cfg.node_name;
        self.deps.recorder.node_event(node, node, EventType::Warning, reason, message);
    }

    fn collect_containers(&mut self) -> Result<Collected, GcError> {
        let now = SystemTime::now();
        let snapshot = self
            .snapshot
            .as_ref()
            .filter(|s| now.duration_since(s.taken_at).unwrap_or_default() < SNAPSHOT_STALE);
        let result = collect_containers(&self.deps.runtime, &self.cfg.label_selector, snapshot);
        match &result {
            Ok(c) => {
                log::debug!("container garbage collection: {c}");
                self.images.note_in_use(&c.image_refs, Instant::now());
            }
            Err(e) => {
                log::error!("container garbage collection failed: {e}");
                self.node_event(reason::CONTAINER_GC_FAILED, &e.to_string());
            }
        }
        result
    }

    fn collect_images(&mut self) {
        match self.images.collect(&self.svc, Instant::now()) {
            Ok(freed) => {
                if self.image_gc_failed {
                    log::info!("image garbage collection succeeded (freed {freed} bytes)");
                }
                self.image_gc_failed = false;
            }
            Err(e) => {
                match &e {
                    GcError::InsufficientSpace { .. } => {
                        self.node_event(reason::FREE_DISK_SPACE_FAILED, &e.to_string())
                    }
                    GcError::InvalidCapacity => {
                        self.node_event(reason::INVALID_DISK_CAPACITY, &e.to_string())
                    }
                    _ => {}
                }
                if self.image_gc_failed {
                    log::error!("image garbage collection failed multiple times in a row: {e}");
                    self.node_event(reason::IMAGE_GC_FAILED, &e.to_string());
                } else {
                    log::error!("image garbage collection failed once: {e}");
                }
                self.image_gc_failed = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_removable_is_upstreams_rule() {
        let pods = HashMap::from([
            ("running".to_string(), PodState { terminated: false, deleted: false }),
            ("finished".to_string(), PodState { terminated: true, deleted: false }),
            ("deleting".to_string(), PodState { terminated: false, deleted: true }),
            ("gone".to_string(), PodState { terminated: true, deleted: true }),
        ]);
        let mut s = PodSnapshot { taken_at: SystemTime::now(), sources_ready: true, pods };
        let removable = |s: &PodSnapshot| {
            ["running", "finished", "deleting", "gone", "unknown"]
                .into_iter()
                .filter(|u| s.content_removable(u))
                .collect::<Vec<_>>()
        };
        assert_eq!(removable(&s), ["gone", "unknown"]);
        s.sources_ready = false;
        assert!(removable(&s).is_empty(), "nothing before every source is ready");
    }
}
