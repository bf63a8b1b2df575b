//! Client certificates against `authentication.x509.clientCAFile`: the chain must lead to
//! the CA and allow client authentication; then the common name is the user, the
//! organizations its groups (upstream's `CommonNameUserConversion`, with the UID attribute
//! and the `credential-id` extra). The CA file is read again when it changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;

use super::User;
use super::der;
use crate::server::tls::{TlsError, load_roots};

pub const CREDENTIAL_ID_KEY: &str = "authentication.kubernetes.io/credential-id";

pub struct X509Authenticator {
    ca_file: PathBuf,
    verifier: Mutex<(Option<SystemTime>, Arc<dyn ClientCertVerifier>)>,
}

fn build_verifier(ca_file: &Path) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let roots = load_roots(ca_file)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| TlsError::ClientCa { path: ca_file.to_path_buf(), detail: e.to_string() })
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl X509Authenticator {
    pub fn new(ca_file: &Path) -> Result<X509Authenticator, TlsError> {
        let stamp = mtime(ca_file);
        let verifier = build_verifier(ca_file)?;
        Ok(X509Authenticator { ca_file: ca_file.to_path_buf(), verifier: Mutex::new((stamp, verifier)) })
    }

    fn current(&self) -> Arc<dyn ClientCertVerifier> {
        let mut v = self.verifier.lock().unwrap_or_else(|e| e.into_inner());
        let stamp = mtime(&self.ca_file);
        if stamp != v.0 {
            match build_verifier(&self.ca_file) {
                Ok(new) => {
                    log::info!("client CA file {} reloaded", self.ca_file.display());
                    *v = (stamp, new);
                }
                Err(e) => log::warn!("keeping the previous client CAs: {e}"),
            }
        }
        v.1.clone()
    }

    /// `Ok(None)` without a certificate (or without a common name); `Err` when the
    /// certificate does not verify.
    pub fn authenticate(&self, chain: &[CertificateDer<'static>]) -> Result<Option<User>, String> {
        let Some((leaf, intermediates)) = chain.split_first() else { return Ok(None) };
        let subject = der::subject(leaf).map_err(|e| format!("malformed certificate: {e}"))?;
        let verifier = self.current();
        if let Err(e) = verifier.verify_client_cert(leaf, intermediates, UnixTime::now()) {
            return Err(format!("verifying certificate CN={:?} failed: {e}", subject.common_name));
        }
        if subject.common_name.is_empty() {
            return Ok(None);
        }
        let uid = match subject.uids.as_slice() {
            [] => String::new(),
            [uid] if uid.is_empty() => return Err("UID cannot be an empty string".into()),
            [uid] => uid.clone(),
            many => return Err(format!("expected 1 UID, but found multiple: {many:?}")),
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, leaf);
        let extra = BTreeMap::from([(CREDENTIAL_ID_KEY.to_string(), vec![format!("X509SHA256={}", hex(digest.as_ref()))])]);
        Ok(Some(User { name: subject.common_name, uid, groups: subject.organizations, extra }))
    }
}
