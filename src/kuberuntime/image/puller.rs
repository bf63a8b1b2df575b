//! Who runs `PullImage`: one `rk-image-puller` thread taking requests in turn
//! (`serializeImagePulls: true`, upstream's default), or the pod workers themselves, at most
//! `maxParallelImagePulls` at once. Both go through the registry QPS limit
//! (`registryPullQPS`/`registryBurst`).
//!
//! ```text
//!  worker ─ PullJob ─► [queue, 10 deep] ─► rk-image-puller ─ PullImage ─► runtime
//!    ▲                                            │
//!    └──────────────── reply channel ─────────────┘
//! ```

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::cri::{self, CriError};

/// Upstream queues at most this many serialized pull requests; callers beyond wait.
const SERIAL_QUEUE: usize = 10;

/// Why a pull failed.
#[derive(Debug, Clone, PartialEq)]
pub enum PullError {
    /// Every credential (or the anonymous pull) failed; one error per attempt.
    Runtime(Vec<CriError>),
    /// The registry QPS limit refused the pull.
    Throttled,
    /// The puller thread is gone (the runtime is shutting down).
    Stopped,
}

impl PullError {
    /// The error text upstream shows (Go's error string of the same failure).
    pub fn text(&self) -> String {
        match self {
            PullError::Runtime(errors) => {
                let texts: Vec<String> =
                    errors.iter().map(crate::kuberuntime::error::cri_error_text).collect();
                match texts.as_slice() {
                    [one] => one.clone(),
                    many => format!("[{}]", many.join(", ")),
                }
            }
            PullError::Throttled => "pull QPS exceeded".into(),
            PullError::Stopped => "image puller stopped".into(),
        }
    }
}

/// A successful pull: the image reference and how long the pull itself took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    pub image_ref: String,
    pub took: Duration,
    pub size: u64,
}

/// One pull: the image, the credentials to try in turn (none: anonymous), the sandbox config.
pub struct PullJob {
    pub image: cri::ImageSpec,
    pub credentials: Vec<cri::AuthConfig>,
    pub sandbox_config: Option<cri::PodSandboxConfig>,
}

struct Request {
    job: PullJob,
    reply: Sender<Result<Pulled, PullError>>,
}

/// A token bucket: `qps` tokens a second, at most `burst` saved; `qps == 0` means no limit.
struct TokenBucket {
    qps: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(qps: f64, burst: u32) -> TokenBucket {
        let burst = f64::from(burst.max(1));
        TokenBucket { qps, burst, tokens: burst, last: Instant::now() }
    }

    fn try_accept(&mut self) -> bool {
        if self.qps <= 0.0 {
            return true;
        }
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.last).as_secs_f64() * self.qps).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

enum Mode {
    Serial(Sender<Request>),
    /// A bounded channel used as a semaphore: sending takes a slot, receiving frees one.
    Parallel(Option<(Sender<()>, Receiver<()>)>),
}

pub struct Puller {
    cri: cri::Client,
    mode: Mode,
    limiter: Mutex<TokenBucket>,
}

impl Puller {
    /// Starts the `rk-image-puller` thread when `serialize`; otherwise pulls run on the
    /// caller's thread, at most `max_parallel` at once (`None`: unbounded).
    pub fn new(
        cri: cri::Client,
        serialize: bool,
        max_parallel: Option<u32>,
        qps: f64,
        burst: u32,
    ) -> std::io::Result<Puller> {
        let limiter = Mutex::new(TokenBucket::new(qps, burst));
        let mode = if serialize {
            let (tx, rx) = crossbeam_channel::bounded::<Request>(SERIAL_QUEUE);
            let worker = cri.clone();
            std::thread::Builder::new().name("rk-image-puller".into()).spawn(move || {
                for req in rx {
                    let _ = req.reply.send(pull(&worker, &req.job));
                }
            })?;
            Mode::Serial(tx)
        } else {
            let slots = max_parallel.filter(|n| *n > 0).and_then(|n| usize::try_from(n).ok());
            Mode::Parallel(slots.map(crossbeam_channel::bounded))
        };
        Ok(Puller { cri, mode, limiter })
    }

    /// Pulls `job`, waiting for the puller thread or a free slot.
    pub fn pull(&self, job: PullJob) -> Result<Pulled, PullError> {
        if !self.limiter.lock().unwrap_or_else(|e| e.into_inner()).try_accept() {
            return Err(PullError::Throttled);
        }
        match &self.mode {
            Mode::Serial(tx) => {
                let (reply, rx) = crossbeam_channel::bounded(1);
                tx.send(Request { job, reply }).map_err(|_| PullError::Stopped)?;
                rx.recv().map_err(|_| PullError::Stopped)?
            }
            Mode::Parallel(None) => pull(&self.cri, &job),
            Mode::Parallel(Some((take, give))) => {
                take.send(()).map_err(|_| PullError::Stopped)?;
                let result = pull(&self.cri, &job);
                let _ = give.recv();
                result
            }
        }
    }
}

/// Tries the credentials in turn (anonymous when there are none), as upstream's PullImage.
fn pull(cri: &cri::Client, job: &PullJob) -> Result<Pulled, PullError> {
    let started = Instant::now();
    let attempts: Vec<Option<&cri::AuthConfig>> =
        if job.credentials.is_empty() { vec![None] } else { job.credentials.iter().map(Some).collect() };
    let mut errors = Vec::new();
    for auth in attempts {
        let req = cri::PullImageRequest {
            image: Some(job.image.clone()),
            auth: auth.cloned(),
            sandbox_config: job.sandbox_config.clone(),
        };
        match cri.pull_image(&req) {
            Ok(resp) => {
                let took = started.elapsed();
                // The size is best effort, as upstream's.
                let status = cri.image_status(&cri::ImageStatusRequest {
                    image: Some(job.image.clone()),
                    verbose: false,
                });
                let size = status.ok().and_then(|s| s.image).map_or(0, |i| i.size);
                return Ok(Pulled { image_ref: resp.image_ref, took, size });
            }
            Err(e) => errors.push(e),
        }
    }
    Err(PullError::Runtime(errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_allows_the_burst_then_refuses() {
        let mut b = TokenBucket::new(0.001, 2);
        assert!(b.try_accept());
        assert!(b.try_accept());
        assert!(!b.try_accept());
        let mut unlimited = TokenBucket::new(0.0, 0);
        assert!((0..100).all(|_| unlimited.try_accept()));
    }

    #[test]
    fn error_texts_are_gos() {
        use crate::grpc::{Code, Status};
        let e = |m: &str| CriError::Rpc { method: "PullImage", status: Status::new(Code::NotFound, m) };
        assert_eq!(PullError::Runtime(vec![e("a")]).text(), "rpc error: code = NotFound desc = a");
        assert_eq!(
            PullError::Runtime(vec![e("a"), e("b")]).text(),
            "[rpc error: code = NotFound desc = a, rpc error: code = NotFound desc = b]"
        );
        assert_eq!(PullError::Throttled.text(), "pull QPS exceeded");
    }
}
