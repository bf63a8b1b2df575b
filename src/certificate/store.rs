//! The certificate store of client-go's `util/certificate` (`NewFileStore`): a pair is one PEM
//! file `<prefix>-<time>.pem` (certificates, then the key) and `<prefix>-current.pem` is a
//! symlink to the newest. An update writes the new file, points `<prefix>-updated.pem` at it
//! and renames that over `-current`: readers see the old pair or the new one, never neither.
//! A crash between the two leaves `-updated`, which the next start renames into place.
//!
//! Until a pair has been stored, the store falls back to a given cert/key pair (the
//! kubeconfig's client certificate, or `tlsCertFile`/`tlsPrivateKeyFile`).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rustls::pki_types::pem::SectionKind;

use super::{CertError, pki_err};
use crate::api::time::Time;
use crate::kubeclient::PemSource;
use crate::pki::{self, files, pair, pem, x509::CertInfo};

/// A certificate chain and key that belong together, and where they came from.
#[derive(Debug, Clone)]
pub struct StoredPair {
    pub cert: PemSource,
    pub key: PemSource,
    /// The first certificate of the chain.
    pub leaf: CertInfo,
}

/// A store in `dir` for pairs named `<prefix>-...pem`.
#[derive(Debug, Clone)]
pub struct FileStore {
    prefix: &'static str,
    dir: PathBuf,
    fallback: Option<(PemSource, PemSource)>,
}

fn store_err(path: &Path, detail: impl std::fmt::Display) -> CertError {
    CertError::Store { path: path.to_path_buf(), detail: detail.to_string() }
}

/// Whether `path` exists as a symlink; an error if it exists as anything else.
fn is_symlink(path: &Path) -> Result<bool, CertError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Ok(true),
        Ok(_) => Err(store_err(path, "expected a symlink, found a file")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(store_err(path, e)),
    }
}

/// Checks that `cert_pem` and `key_pem` go together (rustls' check: the key's public key is
/// the leaf's, for RSA, ECDSA and Ed25519 keys alike) and reads the leaf.
pub fn check_pair(cert_pem: &[u8], key_pem: &[u8], what: &str) -> Result<CertInfo, CertError> {
    let bad = |detail: String| CertError::BadCertificate { step: "checking the certificate and key", detail };
    let leaf = pki::leaf_of_pem(cert_pem, what).map_err(pki_err("reading the certificate"))?;
    let provider = rustls::crypto::ring::default_provider();
    pair::certified_key(cert_pem, key_pem, &provider).map_err(|e| bad(format!("{what}: {e}")))?;
    Ok(leaf)
}

/// `2006-01-02-15-04-05` in UTC, the time part of a pair's file name.
pub fn file_time(now: SystemTime) -> String {
    Time::from(now).to_string().trim_end_matches('Z').replace(['T', ':'], "-")
}

/// The first private key block of `key_pem`, re-encoded under its own label (a key file may
/// hold certificates too).
fn key_block(key_pem: &[u8], what: &str) -> Result<String, CertError> {
    let blocks = pem::blocks(key_pem, what).map_err(pki_err("reading the key"))?;
    for (kind, der) in blocks {
        let label = match kind {
            SectionKind::PrivateKey => "PRIVATE KEY",
            SectionKind::EcPrivateKey => "EC PRIVATE KEY",
            SectionKind::RsaPrivateKey => "RSA PRIVATE KEY",
            _ => continue,
        };
        return Ok(pem::encode(label, &der));
    }
    Err(CertError::BadCertificate {
        step: "storing the certificate",
        detail: format!("{what}: no private key block"),
    })
}

impl FileStore {
    /// A store; finishes an update a crash interrupted.
    pub fn new(
        prefix: &'static str,
        dir: &Path,
        fallback: Option<(PemSource, PemSource)>,
    ) -> Result<Self, CertError> {
        // Absolute, as the -current symlink's target and the kubeconfig that names it are.
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let store = FileStore { prefix, dir, fallback };
        let current = store.current_path();
        if !current.exists() && is_symlink(&store.path("updated"))? {
            fs::rename(store.path("updated"), &current).map_err(|e| store_err(&current, e))?;
        }
        Ok(store)
    }

    fn path(&self, qualifier: &str) -> PathBuf {
        self.dir.join(format!("{}-{qualifier}.pem", self.prefix))
    }

    /// `<dir>/<prefix>-current.pem`.
    pub fn current_path(&self) -> PathBuf {
        self.path("current")
    }

    /// The current pair: the `-current` file if there is one, else the fallback, else None.
    pub fn current(&self) -> Result<Option<StoredPair>, CertError> {
        let current = self.current_path();
        if current.exists() {
            let text = files::read(&current).map_err(pki_err("reading the current certificate"))?;
            let leaf = check_pair(&text, &text, &current.display().to_string())?;
            let source = PemSource::File(current);
            return Ok(Some(StoredPair { cert: source.clone(), key: source, leaf }));
        }
        let Some((cert, key)) = &self.fallback else { return Ok(None) };
        if let (PemSource::File(c), PemSource::File(k)) = (cert, key)
            && (!c.exists() || !k.exists())
        {
            return Ok(None);
        }
        let read = |s: &PemSource| s.read().map_err(super::config_err("reading the fallback certificate"));
        let leaf = check_pair(&read(cert)?, &read(key)?, &cert.to_string())?;
        Ok(Some(StoredPair { cert: cert.clone(), key: key.clone(), leaf }))
    }

    /// Stores a new pair: `cert_pem` (as the signer issued it: one or more certificates) and
    /// the key, checked to belong together, then makes it current. Returns the new file.
    pub fn update(&self, cert_pem: &[u8], key_pem: &[u8], now: SystemTime) -> Result<PathBuf, CertError> {
        let what = format!("new {} certificate", self.prefix);
        check_pair(cert_pem, key_pem, &what)?;
        let mut content = String::new();
        for der in pem::certificates(cert_pem, &what).map_err(pki_err("reading the issued certificate"))? {
            content.push_str(&pem::encode(pem::CERTIFICATE, &der));
        }
        content.push_str(&key_block(key_pem, &what)?);
        let file = self.path(&file_time(now));
        files::write_private(&file, content.as_bytes()).map_err(pki_err("writing the certificate file"))?;
        self.make_current(&file)?;
        Ok(file)
    }

    fn make_current(&self, file: &Path) -> Result<(), CertError> {
        let current = self.current_path();
        is_symlink(&current)?;
        let updated = self.path("updated");
        if is_symlink(&updated)? {
            fs::remove_file(&updated).map_err(|e| store_err(&updated, e))?;
        }
        let target = std::path::absolute(file).map_err(|e| store_err(file, e))?;
        std::os::unix::fs::symlink(&target, &updated).map_err(|e| store_err(&updated, e))?;
        fs::rename(&updated, &current).map_err(|e| store_err(&current, e))
    }
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
