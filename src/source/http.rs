//! `rk-src-http`: static pods from `staticPodURL` (`--manifest-url`).
//!
//! Every `httpCheckFrequency` the thread GETs the URL with the `staticPodURLHeader`
//! headers. As upstream's `pkg/kubelet/config/http.go`:
//! - the body is one Pod, or a `v1` `PodList` (or `List`) of pods, JSON or YAML; each pod
//!   gets the static pod identity with source `http` ([`super::static_pod`]);
//! - a body identical to the last one is not parsed again and sends nothing new;
//! - a status other than 200, a network error, or a body that does not decode or
//!   validate keeps the previous set (nothing is sent) and is logged once per distinct
//!   error; one bad pod fails the whole list;
//! - an empty 200 body is an empty set (upstream sends it so the source counts as seen),
//!   and is also reported (once).
//!
//! `https://` URLs are verified against the system CA bundle
//! ([`CA_BUNDLE`]). Requests time out after 10 s, as upstream's client does.
#![forbid(unsafe_code)]

use std::fmt;
use std::io;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime};

use crossbeam_channel::{RecvTimeoutError, Sender, bounded};
use log::{debug, info, warn};
use ureq::tls::{PemItem, RootCerts, TlsConfig, TlsProvider};

use super::static_pod::{MAX_MANIFEST_BYTES, ManifestError, Origin, pods_from_body};
use super::{Source, SourceUpdate};
use crate::api::core::Pod;

/// Trusted roots for `https://` manifest URLs.
pub const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// Upstream's client timeout for the manifest URL.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

pub struct HttpConfig {
    /// `staticPodURL`.
    pub url: String,
    /// `staticPodURLHeader`, one `(name, value)` per header line (names may repeat).
    pub headers: Vec<(String, String)>,
    pub node_name: String,
    /// `httpCheckFrequency` (upstream default 20 s).
    pub check_frequency: Duration,
}

pub struct HttpDeps {
    /// The mux's input ([`super::mux::MuxHandle::sender`]).
    pub updates: Sender<SourceUpdate>,
}

/// The running HTTP source. Dropping it detaches the thread (it runs while the mux does).
pub struct HttpSourceHandle {
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

impl HttpSourceHandle {
    /// Stops the thread (after the request in flight, if any) and waits for it.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// Why a poll of the manifest URL gave no new set.
#[derive(Debug)]
pub enum HttpSourceError {
    /// Connecting, TLS, timeout, or reading the body failed.
    Request { url: String, source: ureq::Error },
    /// An answer other than 200 OK.
    Status { url: String, code: u16 },
    /// A 200 with an empty body.
    Empty { url: String },
    /// The body is not a pod or a list of valid static pods.
    Manifest(ManifestError),
}

impl fmt::Display for HttpSourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Request { url, source } => write!(f, "static pod URL {url}: {source}"),
            Self::Status { url, code } => write!(f, "static pod URL {url}: HTTP status {code}"),
            Self::Empty { url } => write!(f, "static pod URL {url}: empty body, no static pods"),
            Self::Manifest(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for HttpSourceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Request { source, .. } => Some(source),
            Self::Manifest(e) => Some(e),
            _ => None,
        }
    }
}

/// Starts `rk-src-http`.
pub fn spawn(cfg: HttpConfig, deps: HttpDeps) -> io::Result<HttpSourceHandle> {
    let (stop, stop_rx) = bounded(1);
    let thread = thread::Builder::new()
        .name("rk-src-http".to_string())
        .spawn(move || {
            info!(
                "http source: polling {} every {:?}",
                cfg.url, cfg.check_frequency
            );
            let mut reader = UrlReader::new(&cfg);
            let mut last_error: Option<String> = None;
            let mut stop_open = true;
            loop {
                let send = match reader.poll() {
                    Ok(new_set) => {
                        if last_error.take().is_some() {
                            info!("static pod URL {}: read pods again", cfg.url);
                        }
                        new_set
                    }
                    Err(e) => {
                        let message = e.to_string();
                        if last_error.as_ref() != Some(&message) {
                            warn!("{message}");
                            last_error = Some(message);
                        }
                        matches!(e, HttpSourceError::Empty { .. }).then(Vec::new)
                    }
                };
                if let Some(pods) = send {
                    debug!("http source: sending {} pods", pods.len());
                    let update = SourceUpdate {
                        source: Source::Http,
                        pods,
                    };
                    if deps.updates.send(update).is_err() {
                        debug!("http source: mux gone, stopping");
                        return;
                    }
                }
                if stop_open {
                    match stop_rx.recv_timeout(cfg.check_frequency) {
                        Ok(()) => return,
                        Err(RecvTimeoutError::Timeout) => {}
                        // The handle was dropped: keep polling.
                        Err(RecvTimeoutError::Disconnected) => stop_open = false,
                    }
                } else {
                    thread::sleep(cfg.check_frequency);
                }
            }
        })?;
    Ok(HttpSourceHandle { stop, thread })
}

/// Fetches the manifest URL and turns new bodies into pods.
pub struct UrlReader {
    url: String,
    headers: Vec<(String, String)>,
    node_name: String,
    agent: ureq::Agent,
    last_body: Option<Vec<u8>>,
    /// Why `last_body` gave no pods, if it did not.
    last_body_error: Option<ManifestError>,
}

impl UrlReader {
    pub fn new(cfg: &HttpConfig) -> UrlReader {
        UrlReader {
            url: cfg.url.clone(),
            headers: cfg.headers.clone(),
            node_name: cfg.node_name.clone(),
            agent: agent(&cfg.url),
            last_body: None,
            last_body_error: None,
        }
    }

    /// One GET: `Ok(Some(pods))` when the body changed into a valid set, `Ok(None)` when it
    /// is the last valid body again. A body that failed before fails again with the same
    /// error (not re-parsed); an empty body is [`HttpSourceError::Empty`] every time, as
    /// upstream sends its empty set on every poll.
    pub fn poll(&mut self) -> Result<Option<Vec<Pod>>, HttpSourceError> {
        let url = self.url.clone();
        let request_error = |source| HttpSourceError::Request {
            url: url.clone(),
            source,
        };
        let mut request = self.agent.get(&self.url);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let mut response = request.call().map_err(request_error)?;
        let limit = u64::try_from(MAX_MANIFEST_BYTES).unwrap_or(u64::MAX);
        let body = response
            .body_mut()
            .with_config()
            .limit(limit)
            .read_to_vec()
            .map_err(request_error)?;
        let code = response.status().as_u16();
        if code != 200 {
            return Err(HttpSourceError::Status { url, code });
        }
        if body.is_empty() {
            self.last_body = Some(body);
            self.last_body_error = None;
            return Err(HttpSourceError::Empty { url });
        }
        if self.last_body.as_ref() == Some(&body) {
            // Not parsed again: the same answer as last time, without new pods.
            return match &self.last_body_error {
                Some(e) => Err(HttpSourceError::Manifest(e.clone())),
                None => Ok(None),
            };
        }
        let origin = Origin {
            source: Source::Http,
            location: &self.url,
            node_name: &self.node_name,
        };
        let result = pods_from_body(&body, &origin, SystemTime::now());
        self.last_body = Some(body);
        self.last_body_error = result.as_ref().err().cloned();
        result.map(Some).map_err(HttpSourceError::Manifest)
    }
}

/// A ureq agent that reports every status as a response (we check it), with upstream's
/// timeout and, for `https://`, the system's trusted roots.
fn agent(url: &str) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(REQUEST_TIMEOUT))
        .http_status_as_error(false)
        .user_agent(crate::version::user_agent());
    if url.starts_with("https://") {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .root_certs(RootCerts::Specific(Arc::new(system_roots())))
            .unversioned_rustls_crypto_provider(provider)
            .build();
        config = config.tls_config(tls);
    }
    config.build().new_agent()
}

fn system_roots() -> Vec<ureq::tls::Certificate<'static>> {
    let pem = match std::fs::read(CA_BUNDLE) {
        Ok(pem) => pem,
        Err(e) => {
            warn!("http source: cannot read {CA_BUNDLE}: {e}; https:// will fail");
            return Vec::new();
        }
    };
    ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(cert)) => Some(cert),
            _ => None,
        })
        .collect()
}
