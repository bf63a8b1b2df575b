//! Keys, certification requests and certificates, with a DER codec of our own (no ASN.1
//! crate): what TLS bootstrap, certificate rotation and the self-signed serving certificate
//! need. ring does the cryptography (P-256 keys, ECDSA, digests); rustls-pki-types reads PEM.
//!
//! | module | what |
//! | --- | --- |
//! | [`der`] | DER writer and bounds-checked reader |
//! | [`oid`] | the object identifiers we use |
//! | [`pem`] | PEM and base64 writing; PEM reading through rustls-pki-types |
//! | [`pair`] | a certificate chain and its key from PEM, checked to belong together |
//! | [`key`] | ECDSA P-256 key pairs: generate, PKCS#8/SEC1 PEM, sign |
//! | [`csr`] | PKCS#10 requests: make and read |
//! | [`x509`] | read certificates (validity, names, SANs); Name/SAN encodings |
//! | [`selfsigned`] | sign certificates; the kubelet's self-signed serving pair |
//! | [`files`] | private files written 0600, atomically |
#![forbid(unsafe_code)]

use std::fmt;
use std::io;
use std::path::PathBuf;

pub mod csr;
pub mod der;
pub mod files;
pub mod key;
pub mod oid;
pub mod pair;
pub mod pem;
pub mod selfsigned;
pub mod x509;

pub use key::KeyPair;

/// Why a key, request or certificate could not be made or read.
#[derive(Debug)]
pub enum PkiError {
    /// Bytes that are not the DER structure expected; `what` names the object and its source.
    Der { what: String, source: der::DerError },
    /// Text that is not the PEM expected.
    Pem { what: String, detail: String },
    /// A key we cannot use (wrong type or curve, malformed).
    Key { what: String, detail: String },
    /// The cryptographic library failed (random numbers, signing).
    Crypto { what: &'static str },
    /// A file could not be read or written.
    Io { op: &'static str, path: PathBuf, source: io::Error },
}

impl fmt::Display for PkiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PkiError::Der { what, source } => write!(f, "{what}: {source}"),
            PkiError::Pem { what, detail } => write!(f, "{what}: bad PEM: {detail}"),
            PkiError::Key { what, detail } => write!(f, "{what}: {detail}"),
            PkiError::Crypto { what } => write!(f, "{what}: cryptographic failure"),
            PkiError::Io { op, path, source } => write!(f, "{op} {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for PkiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PkiError::Der { source, .. } => Some(source),
            PkiError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The first certificate of a PEM text, decoded; `what` names the source for errors.
pub fn leaf_of_pem(pem_text: &[u8], what: &str) -> Result<x509::CertInfo, PkiError> {
    let certs = pem::certificates(pem_text, what)?;
    let first = certs.first().map(Vec::as_slice).unwrap_or_default();
    x509::parse_certificate(first)
        .map_err(|source| PkiError::Der { what: format!("certificate in {what}"), source })
}

#[cfg(test)]
pub(crate) mod testutil {
    use std::io::Write;
    use std::path::PathBuf;
    use std::process::{Command, Stdio};

    /// Runs `openssl args` with `stdin`; its stdout and stderr together. None (after a loud
    /// SKIPPED line) when openssl is not installed.
    pub fn openssl(args: &[&str], stdin: &[u8]) -> Option<String> {
        let child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => {
                println!("SKIPPED: openssl {} cannot run here ({e})", args.join(" "));
                return None;
            }
        };
        child.stdin.take().expect("stdin piped").write_all(stdin).expect("write to openssl");
        let out = child.wait_with_output().expect("openssl output");
        let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "openssl {} failed: {text}", args.join(" "));
        Some(text)
    }

    /// A file with `content` in a fresh directory of its own.
    pub fn write_temp(name: &str, content: &str) -> PathBuf {
        let dir = temp_dir(name);
        let path = dir.join(name);
        std::fs::write(&path, content).expect("write temp file");
        path
    }

    /// A fresh, empty directory under the system temp dir.
    pub fn temp_dir(tag: &str) -> PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("rk-pki-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }
}
