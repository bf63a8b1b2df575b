//! The kubelet's certificates: TLS bootstrap of the client certificate, its rotation, and the
//! serving certificate (given files, a `kubernetes.io/kubelet-serving` CSR, or self-signed).
//! Upstream: `pkg/kubelet/certificate/bootstrap`, `pkg/kubelet/certificate/kubelet.go`,
//! client-go `util/certificate` (manager, file store, `csr`), `cmd/kubelet/app/server.go`.
//!
//! | module | what |
//! | --- | --- |
//! | [`bootstrap`] | `--bootstrap-kubeconfig`: a client certificate from a bootstrap token, and the kubeconfig |
//! | [`request`] | CertificateSigningRequest calls: create (or reuse), wait for approval and issue |
//! | [`store`] | `<prefix>-<time>.pem` files and the `<prefix>-current.pem` symlink in `--cert-dir` |
//! | [`manager`] | the rotation thread (`rk-cert-rotate` / `rk-cert-serving`) and its deadline |
//! | [`serving`] | which serving certificate to use; the self-signed `kubelet.crt`/`kubelet.key` |
//!
//! Files in `--cert-dir` (default `/var/lib/kubelet/pki`), as upstream lays them out:
//! ```text
//! kubelet-client-2026-11-23-20-09-33.pem   certificate(s) + key, 0600 (one per issue)
//! kubelet-client-current.pem -> /abs/path/kubelet-client-<newest>.pem
//! kubelet-client.key.tmp                   the bootstrap key while its CSR is pending
//! kubelet-server-<time>.pem, kubelet-server-current.pem   (serverTLSBootstrap)
//! kubelet.crt (leaf + CA), kubelet.key     the self-signed serving pair
//! ```
//! Times in file names are UTC (upstream uses local time; the names only need to differ).

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::kubeclient::{self, ConfigError};
use crate::pki::PkiError;

pub mod bootstrap;
pub mod manager;
pub mod request;
pub mod serving;
pub mod store;
#[cfg(test)]
mod testutil;

pub use bootstrap::{BootstrapConfig, bootstrap, client_rest_config};
pub use manager::{CertKind, CertManagerHandle, ManagerConfig, spawn};
pub use serving::{ServingCert, ServingConfig, serving_cert};

/// `spec.signerName` of client certificates for kubelets.
pub const CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
/// `spec.signerName` of kubelet serving certificates.
pub const SERVING_SIGNER: &str = "kubernetes.io/kubelet-serving";

/// A failure of bootstrap, rotation or the serving certificate; `step` says what was being done.
#[derive(Debug)]
pub enum CertError {
    /// Making or reading keys, requests, certificates or their files.
    Pki { step: &'static str, source: PkiError },
    /// A kubeconfig that cannot be used.
    Kubeconfig { step: &'static str, source: ConfigError },
    /// An API call failed.
    Api { step: &'static str, source: kubeclient::Error },
    /// The CSR was denied, or the signer failed it.
    Denied { csr: String, condition: String, reason: String, message: String },
    /// The CSR went away or was replaced while we waited.
    Vanished { csr: String, detail: &'static str },
    /// No certificate within the deadline.
    Timeout { csr: String, waited: Duration },
    /// A CSR of the same name exists but is not ours (another key, subject or usages).
    Incompatible { csr: String, detail: String },
    /// The certificate directory holds something we will not overwrite.
    Store { path: PathBuf, detail: String },
    /// The issued certificate does not belong with our key, or is not what we asked for.
    BadCertificate { step: &'static str, detail: String },
    /// The manager was stopped while the call was in flight.
    Stopped,
}

impl fmt::Display for CertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertError::Pki { step, source } => write!(f, "{step}: {source}"),
            CertError::Kubeconfig { step, source } => write!(f, "{step}: {source}"),
            CertError::Api { step, source } => write!(f, "{step}: {source}"),
            CertError::Denied { csr, condition, reason, message } => {
                write!(
                    f,
                    "certificate signing request {csr} {condition}: reason {reason:?}, message {message:?}"
                )
            }
            CertError::Vanished { csr, detail } => write!(f, "certificate signing request {csr} {detail}"),
            CertError::Timeout { csr, waited } => {
                write!(
                    f,
                    "certificate signing request {csr}: no certificate issued within {}s",
                    waited.as_secs()
                )
            }
            CertError::Incompatible { csr, detail } => {
                write!(f, "certificate signing request {csr} exists and is not compatible: {detail}")
            }
            CertError::Store { path, detail } => write!(f, "certificate store {}: {detail}", path.display()),
            CertError::BadCertificate { step, detail } => write!(f, "{step}: {detail}"),
            CertError::Stopped => f.write_str("the certificate manager was stopped"),
        }
    }
}

impl std::error::Error for CertError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CertError::Pki { source, .. } => Some(source),
            CertError::Kubeconfig { source, .. } => Some(source),
            CertError::Api { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// `map_err` helpers that attach the step.
pub(crate) fn pki_err(step: &'static str) -> impl FnOnce(PkiError) -> CertError {
    move |source| CertError::Pki { step, source }
}

pub(crate) fn api_err(step: &'static str) -> impl FnOnce(kubeclient::Error) -> CertError {
    move |source| CertError::Api { step, source }
}

pub(crate) fn config_err(step: &'static str) -> impl FnOnce(ConfigError) -> CertError {
    move |source| CertError::Kubeconfig { step, source }
}
