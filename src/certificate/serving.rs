//! The serving certificate of the kubelet's HTTPS port, chosen as upstream does
//! (`NewMainKubelet`, `InitializeTLS`):
//!
//! 1. `serverTLSBootstrap`: a `kubernetes.io/kubelet-serving` certificate from a CSR
//!    (`CN=system:node:<node>, O=system:nodes`, the node's names and addresses as SANs),
//!    kept in `kubelet-server-current.pem` and renewed by a manager thread. Until the first
//!    one is issued, `tlsCertFile`/`tlsPrivateKeyFile` serve if given; otherwise there is no
//!    certificate yet (upstream's handshakes fail with "no serving certificate available").
//!    Nothing in a stock cluster approves these CSRs: an operator or a controller must.
//! 2. `tlsCertFile` and `tlsPrivateKeyFile`.
//! 3. Otherwise a self-signed pair `<cert-dir>/kubelet.crt` + `kubelet.key` for the host
//!    name, made once and reused while both files are readable (upstream does not look at
//!    their expiry either).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::manager::{self, CertKind, CertManagerHandle, ManagerConfig};
use super::store::check_pair;
use super::{CertError, pki_err};
use crate::kubeclient::{Client, PemSource};
use crate::pki::x509::AltNames;
use crate::pki::{files, selfsigned};

/// The prefix of serving certificate files in `--cert-dir`.
pub const SERVER_PREFIX: &str = "kubelet-server";
pub const SELF_SIGNED_CERT: &str = "kubelet.crt";
pub const SELF_SIGNED_KEY: &str = "kubelet.key";

/// What decides the serving certificate.
#[derive(Debug, Clone)]
pub struct ServingConfig {
    /// `tlsCertFile` / `tlsPrivateKeyFile` (empty in the config: None).
    pub tls_cert_file: Option<PathBuf>,
    pub tls_private_key_file: Option<PathBuf>,
    pub server_tls_bootstrap: bool,
    pub cert_dir: PathBuf,
    pub node_name: String,
    /// The host name (`--hostname-override` or the lowercased system one): the self-signed
    /// certificate's name.
    pub hostname: String,
    /// The node's host names and IP addresses, for the serving CSR.
    pub alt_names: AltNames,
    /// How long one serving CSR may wait for approval (upstream: 15 minutes).
    pub wait: Duration,
}

impl ServingConfig {
    /// From the KubeletConfiguration (`tlsCertFile`, `tlsPrivateKeyFile`, `serverTLSBootstrap`)
    /// and `--cert-dir`; upstream's 15 minutes per CSR.
    pub fn from_kubelet_config(
        kc: &crate::config::KubeletConfiguration,
        cert_dir: &Path,
        node_name: &str,
        hostname: &str,
        alt_names: AltNames,
    ) -> Self {
        let path = |s: &str| (!s.is_empty()).then(|| PathBuf::from(s));
        ServingConfig {
            tls_cert_file: path(&kc.tls_cert_file),
            tls_private_key_file: path(&kc.tls_private_key_file),
            server_tls_bootstrap: kc.server_tls_bootstrap,
            cert_dir: cert_dir.to_path_buf(),
            node_name: node_name.to_string(),
            hostname: hostname.to_string(),
            alt_names,
            wait: Duration::from_secs(15 * 60),
        }
    }
}

/// The serving certificate in use.
pub enum ServingCert {
    /// Fixed files: `tlsCertFile`/`tlsPrivateKeyFile`, or the self-signed pair.
    Files { cert: PathBuf, key: PathBuf, self_signed: bool },
    /// From CSRs, renewed by `manager`. The pair in use is `manager.current()`; the
    /// `kubelet-server-current.pem` file holds certificate and key once one is issued.
    Bootstrap { manager: CertManagerHandle },
}

impl ServingCert {
    /// The certificate and key files to load now, if there are any yet. Files may be
    /// replaced while running (rotation): a server should load them again when their
    /// modification time changes, as the kubeclient does.
    pub fn paths(&self) -> Option<(PathBuf, PathBuf)> {
        match self {
            ServingCert::Files { cert, key, .. } => Some((cert.clone(), key.clone())),
            ServingCert::Bootstrap { manager } => match manager.current().ok().flatten() {
                Some(pair) => match (pair.cert, pair.key) {
                    (PemSource::File(cert), PemSource::File(key)) => Some((cert, key)),
                    _ => None,
                },
                None => None,
            },
        }
    }
}

impl std::fmt::Debug for ServingCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServingCert::Files { cert, self_signed, .. } => {
                write!(f, "ServingCert::Files({}, self_signed: {self_signed})", cert.display())
            }
            ServingCert::Bootstrap { manager } => {
                write!(f, "ServingCert::Bootstrap({})", manager.current_path().display())
            }
        }
    }
}

/// Chooses (and if needed makes) the serving certificate. `client` is needed for
/// `serverTLSBootstrap`; without one (standalone mode) the files are used as if it were off.
pub fn serving_cert(cfg: &ServingConfig, client: Option<&Client>) -> Result<ServingCert, CertError> {
    let given = match (&cfg.tls_cert_file, &cfg.tls_private_key_file) {
        (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        (None, None) => None,
        _ => {
            return Err(CertError::BadCertificate {
                step: "choosing the serving certificate",
                detail: "tlsCertFile and tlsPrivateKeyFile must be given together".into(),
            });
        }
    };
    if cfg.server_tls_bootstrap {
        if let Some(client) = client {
            let manager_cfg = ManagerConfig {
                kind: CertKind::Serving,
                cert_dir: cfg.cert_dir.clone(),
                node_name: cfg.node_name.clone(),
                fallback: given.clone().map(|(c, k)| (PemSource::File(c), PemSource::File(k))),
                alt_names: cfg.alt_names.clone(),
                wait: cfg.wait,
            };
            return Ok(ServingCert::Bootstrap { manager: manager::spawn(manager_cfg, client.clone())? });
        }
        log::warn!("serverTLSBootstrap needs an API server; using the serving certificate files");
    }
    if let Some((cert, key)) = given {
        let cert_pem = files::read(&cert).map_err(pki_err("reading tlsCertFile"))?;
        let key_pem = files::read(&key).map_err(pki_err("reading tlsPrivateKeyFile"))?;
        check_pair(&cert_pem, &key_pem, &cert.display().to_string())?;
        return Ok(ServingCert::Files { cert, key, self_signed: false });
    }
    let (cert, key) = ensure_self_signed(&cfg.cert_dir, &cfg.hostname, SystemTime::now())?;
    Ok(ServingCert::Files { cert, key, self_signed: true })
}

/// `<cert_dir>/kubelet.crt` and `kubelet.key`: reused if both can be read, else made for
/// `host` at `now`.
pub fn ensure_self_signed(
    cert_dir: &Path,
    host: &str,
    now: SystemTime,
) -> Result<(PathBuf, PathBuf), CertError> {
    let cert = cert_dir.join(SELF_SIGNED_CERT);
    let key = cert_dir.join(SELF_SIGNED_KEY);
    if std::fs::File::open(&cert).is_ok() && std::fs::File::open(&key).is_ok() {
        return Ok((cert, key));
    }
    let unix = now.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let made = selfsigned::generate(host, &AltNames::default(), unix)
        .map_err(pki_err("making the self-signed serving certificate"))?;
    // The key first: a crash in between leaves no certificate, so the next start makes both.
    files::write_private(&key, made.key.to_pem().as_bytes()).map_err(pki_err("writing kubelet.key"))?;
    files::write_atomic(&cert, made.cert_pem.as_bytes(), 0o644).map_err(pki_err("writing kubelet.crt"))?;
    log::info!("made a self-signed serving certificate {} for {host}", cert.display());
    Ok((cert, key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::testutil::temp_dir;

    fn config(dir: &Path) -> ServingConfig {
        ServingConfig {
            tls_cert_file: None,
            tls_private_key_file: None,
            server_tls_bootstrap: false,
            cert_dir: dir.to_path_buf(),
            node_name: "edge-1".into(),
            hostname: "edge-1".into(),
            alt_names: AltNames::default(),
            wait: Duration::from_secs(1),
        }
    }

    #[test]
    fn self_signed_pair_is_made_once_and_reused() {
        let dir = temp_dir("serving");
        let first = serving_cert(&config(&dir), None).expect("self-signed");
        let (cert, key) = first.paths().expect("paths");
        assert_eq!((cert.clone(), key.clone()), (dir.join("kubelet.crt"), dir.join("kubelet.key")));
        assert!(matches!(first, ServingCert::Files { self_signed: true, .. }));
        let text = std::fs::read(&cert).expect("cert");
        let leaf =
            check_pair(&text, &std::fs::read(&key).expect("key"), "kubelet.crt").expect("pair matches");
        assert!(leaf.subject.common_name.as_deref().is_some_and(|cn| cn.starts_with("edge-1@")));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).expect("key").permissions().mode() & 0o777, 0o600);

        let again = serving_cert(&config(&dir), None).expect("reused");
        assert_eq!(again.paths(), Some((cert.clone(), key)));
        assert_eq!(std::fs::read(&cert).expect("cert"), text, "not made again");
    }

    #[test]
    fn given_files_are_checked_and_win_over_self_signed() {
        let dir = temp_dir("serving-given");
        let (cert, key) =
            ensure_self_signed(&dir.join("elsewhere"), "10.0.0.1", SystemTime::now()).expect("pair");
        let mut cfg = config(&dir);
        cfg.tls_cert_file = Some(cert.clone());
        cfg.tls_private_key_file = Some(key.clone());
        let chosen = serving_cert(&cfg, None).expect("given files");
        assert!(matches!(chosen, ServingCert::Files { self_signed: false, .. }));
        assert!(!dir.join("kubelet.crt").exists());

        // One without the other is an error.
        let mut half = config(&dir);
        half.tls_cert_file = Some(cert.clone());
        assert!(serving_cert(&half, None).is_err());

        // A key that is not the certificate's is refused, naming the file.
        let (_, other_key) = ensure_self_signed(&dir.join("other"), "x", SystemTime::now()).expect("pair");
        cfg.tls_private_key_file = Some(other_key);
        let e = serving_cert(&cfg, None).expect_err("mismatch");
        assert!(e.to_string().contains(&cert.display().to_string()), "{e}");
    }
}
