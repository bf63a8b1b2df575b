//! Making sure a container's image is on the node (upstream's `images.imageManager`):
//! pull policy, pull backoff per (pod, image), registry credentials, and the events upstream
//! records on the way (`Pulling`, `Pulled`, `Failed`, `BackOff`, `ErrImageNeverPull`,
//! `InspectFailed`).
//!
//! ```text
//!  image name ── invalid ──────────────────────────────────────────► InvalidImageName
//!      │ (":latest" added when there is no tag or digest)
//!  policy Always ───────────────────────────────┐
//!  IfNotPresent / Never ── ImageStatus ── present ─► Pulled "already present" ─► image ID
//!      │ absent: Never ─────────────────────────┼───────────────────────► ErrImageNeverPull
//!      ▼                                        ▼
//!  in pull backoff? ── yes ─► BackOff ─────────────────────────────────► ImagePullBackOff
//!      │ no
//!  Pulling ─► PullImage (credentials in turn) ── fails ─► Failed, backoff ─► ErrImagePull
//!      └── succeeds ─► Pulled "Successfully pulled ..." ───────────────► image reference
//! ```

pub mod auth;
mod puller;
pub mod reference;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use puller::{PullError, Pulled};
use puller::{PullJob, Puller};

use super::backoff::{Backoff, Clock};
use crate::api::core::{Container, Pod};
use crate::cri;
use crate::events::{EventType, Recorder, reason};
use crate::status::StartFailure;
use crate::status::reason::go_duration;

/// How images are pulled (the KubeletConfiguration fields of the same names).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageConfig {
    /// `serializeImagePulls` (default true): one pull at a time.
    pub serialize_image_pulls: bool,
    /// `maxParallelImagePulls` (default unset: unbounded) when pulls are not serialized.
    pub max_parallel_image_pulls: Option<u32>,
    /// `registryPullQPS` (default 5; 0 = no limit) and `registryBurst` (default 10).
    pub registry_pull_qps: f64,
    pub registry_burst: u32,
}

impl Default for ImageConfig {
    fn default() -> Self {
        ImageConfig {
            serialize_image_pulls: true,
            max_parallel_image_pulls: None,
            registry_pull_qps: 5.0,
            registry_burst: 10,
        }
    }
}

/// Why the image is not there (yet): the container's waiting reason and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFailure {
    pub failure: StartFailure,
    pub message: String,
    /// When the pull backoff ends (after `ErrImagePull` and `ImagePullBackOff`).
    pub retry_after: Option<Duration>,
}

/// One image to make present, for one container of one pod.
pub struct EnsureImage<'a> {
    pub pod: &'a Pod,
    pub container: &'a Container,
    /// The container's event field path (`spec.containers{app}`).
    pub field_path: &'a str,
    /// Registry credentials of the pod's image pull secrets (see [`auth`]).
    pub credentials: &'a [cri::AuthConfig],
    pub sandbox_config: Option<&'a cri::PodSandboxConfig>,
}

/// The pull policy of a container, defaulted as the API server does when unset: `Always`
/// for `:latest` (or no tag), else `IfNotPresent`.
pub fn pull_policy(container: &Container) -> &str {
    if let Some(p) = container.image_pull_policy.as_deref().filter(|p| !p.is_empty()) {
        return p;
    }
    let image = container.image.as_deref().unwrap_or("");
    match reference::parse_image_name(image) {
        Ok((_, tag, _)) if tag == "latest" => "Always",
        _ => "IfNotPresent",
    }
}

pub struct ImageManager {
    cri: cri::Client,
    recorder: Arc<dyn Recorder>,
    puller: Puller,
    /// Pull backoff by `<pod uid>_<image>`, and the error of the last failed pull.
    backoff: Mutex<Backoff>,
    last_errors: Mutex<HashMap<String, String>>,
}

impl ImageManager {
    /// Starts the puller thread when pulls are serialized.
    pub fn new(
        cri: cri::Client,
        recorder: Arc<dyn Recorder>,
        cfg: &ImageConfig,
        clock: Arc<dyn Clock>,
    ) -> std::io::Result<ImageManager> {
        let puller = Puller::new(
            cri.clone(),
            cfg.serialize_image_pulls,
            cfg.max_parallel_image_pulls,
            cfg.registry_pull_qps,
            cfg.registry_burst,
        )?;
        Ok(ImageManager {
            cri,
            recorder,
            puller,
            backoff: Mutex::new(Backoff::image_pull(clock)),
            last_errors: Mutex::new(HashMap::new()),
        })
    }

    fn event(&self, req: &EnsureImage, kind: EventType, why: &str, message: &str) {
        self.recorder.pod_event(req.pod, req.field_path, kind, why, message);
    }

    /// Makes the image of `req.container` present; returns the image reference to create the
    /// container from.
    pub fn ensure_image_exists(&self, req: &EnsureImage) -> Result<String, ImageFailure> {
        let fail = |failure, message: String| ImageFailure { failure, message, retry_after: None };
        let requested = req.container.image.as_deref().unwrap_or("");
        let image = match reference::apply_default_tag(requested) {
            Ok(i) => i,
            Err(e) => {
                let msg = format!("Failed to apply default image tag {requested:?}: {e}");
                self.event(req, EventType::Warning, reason::INSPECT_FAILED, &msg);
                return Err(fail(StartFailure::InvalidImageName, msg));
            }
        };
        let spec = cri::ImageSpec {
            image: image.clone(),
            annotations: req.pod.metadata.annotations.clone(),
            ..Default::default()
        };
        let policy = pull_policy(req.container);
        if policy != "Always" {
            let status =
                self.cri.image_status(&cri::ImageStatusRequest { image: Some(spec.clone()), verbose: false });
            let present = match status {
                Ok(s) => s.image.map(|i| i.id).filter(|id| !id.is_empty()),
                Err(e) => {
                    let msg = format!("Failed to inspect image \"\": {}", super::error::cri_error_text(&e));
                    self.event(req, EventType::Warning, reason::INSPECT_FAILED, &msg);
                    return Err(fail(StartFailure::ImageInspectError, msg));
                }
            };
            if let Some(id) = present {
                let msg = format!(
                    "Container image {requested:?} already present on machine and can be accessed by the pod"
                );
                self.event(req, EventType::Normal, reason::PULLED, &msg);
                return Ok(id);
            }
            if policy == "Never" {
                let msg = format!("Container image {requested:?} is not present with pull policy of Never");
                self.event(req, EventType::Warning, reason::ERR_IMAGE_NEVER_PULL, &msg);
                return Err(fail(StartFailure::ErrImageNeverPull, msg));
            }
        }
        self.pull(req, requested, spec)
    }

    fn pull(&self, req: &EnsureImage, requested: &str, spec: cri::ImageSpec) -> Result<String, ImageFailure> {
        let key = format!("{}_{requested}", req.pod.metadata.uid());
        {
            let backoff = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
            if backoff.in_backoff_since_update(&key, backoff.now()) {
                let mut msg = format!("Back-off pulling image {requested:?}");
                self.event(req, EventType::Normal, reason::BACKOFF, &msg);
                if let Some(prev) = self.last_errors.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
                    msg = format!("{msg}: {prev}");
                }
                let retry_after = Some(backoff.remaining_since_update(&key));
                return Err(ImageFailure {
                    failure: StartFailure::ImagePullBackOff,
                    message: msg,
                    retry_after,
                });
            }
        }
        self.last_errors.lock().unwrap_or_else(|e| e.into_inner()).remove(&key);
        self.event(req, EventType::Normal, reason::PULLING, &format!("Pulling image {requested:?}"));
        let repository = reference::parse_image_name(&spec.image).map(|(r, _, _)| r).unwrap_or_default();
        let job = PullJob {
            credentials: auth::matching(req.credentials, &repository),
            image: spec,
            sandbox_config: req.sandbox_config.cloned(),
        };
        let started = std::time::Instant::now();
        match self.puller.pull(job) {
            Ok(pulled) => {
                let ms =
                    |d: Duration| Duration::from_millis(u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
                let msg = format!(
                    "Successfully pulled image {requested:?} in {} ({} including waiting). Image size: {} bytes.",
                    go_duration(ms(pulled.took)),
                    go_duration(ms(started.elapsed())),
                    pulled.size
                );
                self.event(req, EventType::Normal, reason::PULLED, &msg);
                self.backoff.lock().unwrap_or_else(|e| e.into_inner()).gc();
                Ok(pulled.image_ref)
            }
            Err(e) => {
                let text = e.text();
                let msg = format!("Failed to pull image {requested:?}: {text}");
                self.event(req, EventType::Warning, reason::FAILED, &msg);
                let mut backoff = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
                let now = backoff.now();
                backoff.next(&key, now);
                // The next attempt is worth making when this backoff ends.
                let retry_after = Some(backoff.get(&key));
                drop(backoff);
                let last = format!("{}: {text}", StartFailure::ErrImagePull);
                self.last_errors.lock().unwrap_or_else(|e| e.into_inner()).insert(key, last);
                Err(ImageFailure { failure: StartFailure::ErrImagePull, message: text, retry_after })
            }
        }
    }
}

#[cfg(test)]
mod tests;
