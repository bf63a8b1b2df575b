//! Certificate rotation (`rotateCertificates` for the client certificate, `serverTLSBootstrap`
//! for the serving one): client-go's certificate manager as a thread and a handle.
//!
//! ```text
//!            deadline passed / rotate_now() / SANs no longer covered
//!   ┌─────────┐ ───────────────────────────────────────────────► ┌──────────┐ new key, CSR,
//!   │ waiting │                                                   │ rotating │ wait, store,
//!   └─────────┘ ◄──── issued: next deadline at 70-90% of life ─── └──────────┘ swap -current
//!        ▲                                                            │ failed
//!        └────── retry after 2 s, 4 s, 8 s, 16 s, then every 32 s ◄───┘
//! ```
//! The deadline is upstream's `nextRotationDeadline`: notBefore + (0.7 + 0.2·jitter)·lifetime,
//! with the jitter drawn once per certificate, or now when there is no certificate or it does
//! not cover the wanted subject and SANs. A rotation makes a new ECDSA P-256 key and a CSR
//! (`generateName: csr-`) sent with the current credentials, so the cluster's
//! `selfnodeclient` approver can approve a client renewal. The certificate is read again from
//! `--cert-dir` on every turn, so a pair placed there by hand is seen too.
//!
//! The kubeclient reads its client certificate again when the file's modification time
//! changes, so new connections present the rotated certificate (see `kubeclient::tls`).

use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Receiver, Sender, bounded, select, unbounded};

use super::request::{self, CLIENT_USAGES, CsrRequest, SERVING_USAGES};
use super::store::{FileStore, StoredPair};
use super::{CLIENT_SIGNER, CertError, SERVING_SIGNER, pki_err};
use crate::kubeclient::{Client, PemSource};
use crate::pki::KeyPair;
use crate::pki::csr::{self, CsrTemplate};
use crate::pki::x509::{AltNames, CertInfo, unix_to_system};

/// Which certificate a manager keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertKind {
    /// The client certificate (`kubelet-client-*`, signer kube-apiserver-client-kubelet).
    Client,
    /// The serving certificate (`kubelet-server-*`, signer kubelet-serving).
    Serving,
}

impl CertKind {
    pub fn prefix(self) -> &'static str {
        match self {
            CertKind::Client => super::bootstrap::CLIENT_PREFIX,
            CertKind::Serving => super::serving::SERVER_PREFIX,
        }
    }

    fn signer(self) -> &'static str {
        match self {
            CertKind::Client => CLIENT_SIGNER,
            CertKind::Serving => SERVING_SIGNER,
        }
    }

    fn usages(self) -> &'static [&'static str] {
        match self {
            CertKind::Client => &CLIENT_USAGES,
            CertKind::Serving => &SERVING_USAGES,
        }
    }

    fn thread_name(self) -> &'static str {
        match self {
            CertKind::Client => "rk-cert-rotate",
            CertKind::Serving => "rk-cert-serving",
        }
    }
}

/// What a manager needs to know.
#[derive(Debug, Clone)]
pub struct ManagerConfig {
    pub kind: CertKind,
    pub cert_dir: PathBuf,
    pub node_name: String,
    /// Used until a pair is stored: the kubeconfig's client pair, or tlsCertFile/tlsPrivateKeyFile.
    pub fallback: Option<(PemSource, PemSource)>,
    /// Serving: the node's host names and addresses. Without any, no serving CSR is made (as
    /// upstream, whose template needs an address).
    pub alt_names: AltNames,
    /// How long one CSR may wait for approval (upstream: 15 minutes).
    pub wait: Duration,
}

/// Upstream's deadline: `not_before + (0.7 + 0.2 * jitter) * (not_after - not_before)`, with
/// `jitter` in [0, 1).
pub fn rotation_deadline(not_before: i64, not_after: i64, jitter: f64) -> SystemTime {
    let lifetime = not_after.saturating_sub(not_before).max(0) as f64;
    let offset = lifetime * (0.7 + 0.2 * jitter.clamp(0.0, 1.0));
    unix_to_system(not_before) + Duration::from_secs_f64(offset.max(0.0))
}

/// Whether `cert` has the wanted CN and at least the wanted organizations and SANs (extra
/// ones are fine, as upstream's `certSatisfiesTemplate`).
pub fn satisfies_template(cert: &CertInfo, template: &CsrTemplate) -> bool {
    cert.subject.common_name == template.subject.common_name
        && template.subject.organizations.iter().all(|o| cert.subject.organizations.contains(o))
        && template.alt_names.dns_names.iter().all(|d| cert.alt_names.dns_names.contains(d))
        && template.alt_names.ips.iter().all(|ip| cert.alt_names.ips.contains(ip))
}

/// When to rotate next: now without a certificate, or when it does not satisfy the template;
/// else the jittered deadline.
pub fn next_rotation(
    current: Option<&CertInfo>,
    template: &CsrTemplate,
    now: SystemTime,
    jitter: f64,
) -> SystemTime {
    match current {
        Some(cert) if satisfies_template(cert, template) => {
            rotation_deadline(cert.not_before, cert.not_after, jitter)
        }
        _ => now,
    }
}

/// Backoff after `failures` failed rotations in a row: 2 s doubling, at most 32 s.
pub fn retry_delay(failures: u32) -> Duration {
    Duration::from_secs(2u64.saturating_mul(1 << failures.saturating_sub(1).min(4)).min(32))
}

/// A uniform number in [0, 1).
fn random_unit() -> f64 {
    (crate::kubeclient::random_u64() >> 11) as f64 / (1u64 << 53) as f64
}

enum Command {
    RotateNow(Sender<Result<PathBuf, CertError>>),
    SetAltNames(AltNames),
}

/// The handle of a running manager. Dropping it stops the thread (without waiting).
pub struct CertManagerHandle {
    commands: Sender<Command>,
    stop: Sender<()>,
    thread: Option<JoinHandle<()>>,
    store: FileStore,
}

/// Starts a manager for `cfg.kind` that requests certificates with `client`.
pub fn spawn(cfg: ManagerConfig, client: Client) -> Result<CertManagerHandle, CertError> {
    let store = FileStore::new(cfg.kind.prefix(), &cfg.cert_dir, cfg.fallback.clone())?;
    let (commands, command_rx) = unbounded();
    let (stop, stop_rx) = bounded(1);
    let name = cfg.kind.thread_name();
    let mut worker =
        Worker { cfg, client, store: store.clone(), jitter: random_unit(), failures: 0, retry_at: None };
    let thread = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(move || worker.run(&command_rx, &stop_rx))
        .map_err(|e| CertError::Store {
            path: PathBuf::from(name),
            detail: format!("starting the thread: {e}"),
        })?;
    Ok(CertManagerHandle { commands, stop, thread: Some(thread), store })
}

impl CertManagerHandle {
    /// Rotates now and waits for the outcome; the new file.
    pub fn rotate_now(&self) -> Result<PathBuf, CertError> {
        let (reply, outcome) = bounded(1);
        self.commands.send(Command::RotateNow(reply)).map_err(|_| CertError::Stopped)?;
        outcome.recv().unwrap_or(Err(CertError::Stopped))
    }

    /// New SANs for the serving certificate (the node's addresses changed); a certificate
    /// that does not cover them is replaced at once.
    pub fn set_alt_names(&self, alt_names: AltNames) {
        let _ = self.commands.send(Command::SetAltNames(alt_names));
    }

    /// `<cert-dir>/<prefix>-current.pem`: certificate and key, once a pair is stored.
    pub fn current_path(&self) -> PathBuf {
        self.store.current_path()
    }

    /// The pair in use now (the stored one, else the fallback), if any.
    pub fn current(&self) -> Result<Option<StoredPair>, CertError> {
        self.store.current()
    }

    /// Stops the thread and waits for it (a CSR wait in progress ends within a second; an
    /// API call in flight ends at its timeout).
    pub fn stop(mut self) {
        let _ = self.stop.try_send(());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            log::error!("the certificate manager thread panicked");
        }
    }
}

impl Drop for CertManagerHandle {
    fn drop(&mut self) {
        let _ = self.stop.try_send(());
    }
}

struct Worker {
    cfg: ManagerConfig,
    client: Client,
    store: FileStore,
    jitter: f64,
    failures: u32,
    retry_at: Option<SystemTime>,
}

/// The longest sleep between two looks at the store.
const MAX_SLEEP: Duration = Duration::from_secs(3600);

impl Worker {
    fn template(&self) -> CsrTemplate {
        let alt_names = match self.cfg.kind {
            CertKind::Client => AltNames::default(),
            CertKind::Serving => self.cfg.alt_names.clone(),
        };
        CsrTemplate { subject: csr::node_subject(&self.cfg.node_name), alt_names }
    }

    /// When the next rotation is due, or None when none can be made (serving without SANs).
    fn due(&self, now: SystemTime) -> Option<SystemTime> {
        if self.cfg.kind == CertKind::Serving && self.cfg.alt_names.is_empty() {
            return None;
        }
        let current = match self.store.current() {
            Ok(pair) => pair.map(|p| p.leaf),
            Err(e) => {
                log::warn!("reading the current {} certificate: {e}", self.cfg.kind.prefix());
                None
            }
        };
        let due = next_rotation(current.as_ref(), &self.template(), now, self.jitter);
        Some(self.retry_at.map_or(due, |retry| retry.max(due)))
    }

    fn run(&mut self, commands: &Receiver<Command>, stop: &Receiver<()>) {
        log::info!("{} certificate rotation is on", self.cfg.kind.prefix());
        loop {
            let now = SystemTime::now();
            let due = self.due(now);
            let sleep = due.map_or(MAX_SLEEP, |d| d.duration_since(now).unwrap_or_default().min(MAX_SLEEP));
            if let Some(due) = due.filter(|_| sleep > Duration::ZERO) {
                log::debug!(
                    "next {} rotation at {}",
                    self.cfg.kind.prefix(),
                    crate::api::time::Time::from(due)
                );
            }
            select! {
                recv(stop) -> _ => return,
                recv(commands) -> command => match command {
                    Ok(Command::RotateNow(reply)) => {
                        let outcome = self.rotate(stop);
                        let stopped = matches!(outcome, Err(CertError::Stopped));
                        self.record(&outcome);
                        let _ = reply.send(outcome);
                        if stopped {
                            return;
                        }
                    }
                    Ok(Command::SetAltNames(alt_names)) => self.cfg.alt_names = alt_names,
                    Err(_) => return,
                },
                default(sleep) => {
                    if due.is_some_and(|d| d <= SystemTime::now()) {
                        let outcome = self.rotate(stop);
                        if matches!(outcome, Err(CertError::Stopped)) {
                            return;
                        }
                        self.record(&outcome);
                    }
                }
            }
        }
    }

    fn record(&mut self, outcome: &Result<PathBuf, CertError>) {
        match outcome {
            Ok(path) => {
                log::info!("rotated the {} certificate: {}", self.cfg.kind.prefix(), path.display());
                self.failures = 0;
                self.retry_at = None;
                self.jitter = random_unit();
            }
            Err(e) => {
                self.failures = self.failures.saturating_add(1);
                let delay = retry_delay(self.failures);
                log::warn!(
                    "rotating the {} certificate: {e}; retrying in {}s",
                    self.cfg.kind.prefix(),
                    delay.as_secs()
                );
                self.retry_at = Some(SystemTime::now() + delay);
            }
        }
    }

    /// One rotation: new key, CSR, wait, store. The new file.
    fn rotate(&self, stop: &Receiver<()>) -> Result<PathBuf, CertError> {
        let template = self.template();
        if self.cfg.kind == CertKind::Serving && template.alt_names.is_empty() {
            return Err(CertError::BadCertificate {
                step: "requesting a serving certificate",
                detail: "the node has no addresses to put in it yet".into(),
            });
        }
        let key = KeyPair::generate().map_err(pki_err("making a key"))?;
        let req = CsrRequest {
            name: None,
            signer_name: self.cfg.kind.signer(),
            usages: self.cfg.kind.usages().iter().map(|u| u.to_string()).collect(),
            request_der: csr::create(&template, &key)
                .map_err(pki_err("making the certificate signing request"))?,
        };
        let (name, uid) = request::create(&self.client, &req)?;
        log::info!(
            "{} certificate signing request {name} created; waiting for it to be issued",
            self.cfg.kind.prefix()
        );
        let cert = request::wait_for_certificate(&self.client, &name, &uid, self.cfg.wait, Some(stop))?;
        self.store.update(&cert, key.to_pem().as_bytes(), SystemTime::now())
    }
}

#[cfg(test)]
#[path = "manager_tests.rs"]
mod tests;
