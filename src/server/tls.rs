//! TLS for the kubelet API port: the serving certificate, `tlsMinVersion`,
//! `tlsCipherSuites`, and client certificates.
//!
//! - The serving certificate and key are files, read again when either changes (a rotated
//!   or renewed certificate is used by the next handshake), as upstream's
//!   `ReloadKubeletServerCertificateFile` does. `certificate::serving_cert` says which files.
//! - With `authentication.x509.clientCAFile`, a client certificate is requested but not
//!   required, and not judged during the handshake (only the proof of key possession is):
//!   like Go's `RequestClientCert`, a certificate from an unknown CA reaches the
//!   authenticator, which answers 401. The CA's subjects are hinted to clients.
//! - Cipher suite names are Go's. TLS 1.3 suites are not configurable (as in Go); a TLS 1.2
//!   suite Go knows but rustls lacks (CBC, RSA key exchange, RC4, 3DES) is skipped with a
//!   warning rather than refusing to start, so CIS-style lists still work; a name Go does
//!   not know is an error, as upstream.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme, SupportedCipherSuite};

use crate::pki::pair::{self, PairError};


#[derive(Debug)]
pub enum TlsError {
    UnknownCipherSuite(String),
    UnknownVersion(String),
    Certificate { path: PathBuf, detail: String },
    ClientCa { path: PathBuf, detail: String },
    Setup(String),
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsError::UnknownCipherSuite(name) => write!(f, "Cipher suite {name} not supported or doesn't exist"),
            TlsError::UnknownVersion(v) => write!(f, "unknown tls version {v:?}"),
            TlsError::Certificate { path, detail } => write!(f, "serving certificate {}: {detail}", path.display()),
            TlsError::ClientCa { path, detail } => write!(f, "unable to load client CA file {}: {detail}", path.display()),
            TlsError::Setup(e) => write!(f, "TLS setup: {e}"),
        }
    }
}

impl std::error::Error for TlsError {}

/// Where the serving certificate and key are (one file may hold both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServingCert {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// What the TLS listener is built from.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    pub serving: ServingCert,
    /// `tlsMinVersion`: "", VersionTLS10..VersionTLS13.
    pub min_version: String,
    /// `tlsCipherSuites`, Go's names.
    pub cipher_suites: Vec<String>,
    pub client_ca_file: Option<PathBuf>,
}

/// The suite rustls implements for one of Go's names: `Err` for unknown names, `Ok(None)`
/// for names Go knows that rustls does not implement.
fn cipher_suite(name: &str) -> Result<Option<SupportedCipherSuite>, TlsError> {
    use ring::cipher_suite as cs;
    Ok(Some(match name {
        "TLS_AES_128_GCM_SHA256" => cs::TLS13_AES_128_GCM_SHA256,
        "TLS_AES_256_GCM_SHA384" => cs::TLS13_AES_256_GCM_SHA384,
        "TLS_CHACHA20_POLY1305_SHA256" => cs::TLS13_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" => cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" => cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" => cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" => cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" | "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305" => {
            cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        }
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" | "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305" => {
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
        }
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
        | "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"
        | "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
        | "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"
        | "TLS_RSA_WITH_RC4_128_SHA"
        | "TLS_RSA_WITH_3DES_EDE_CBC_SHA"
        | "TLS_RSA_WITH_AES_128_CBC_SHA"
        | "TLS_RSA_WITH_AES_256_CBC_SHA"
        | "TLS_RSA_WITH_AES_128_CBC_SHA256"
        | "TLS_RSA_WITH_AES_128_GCM_SHA256"
        | "TLS_RSA_WITH_AES_256_GCM_SHA384"
        | "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"
        | "TLS_ECDHE_RSA_WITH_RC4_128_SHA"
        | "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"
        | "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"
        | "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" => return Ok(None),
        _ => return Err(TlsError::UnknownCipherSuite(name.to_string())),
    }))
}

/// Protocol versions, cipher suites, and warnings for the settings that were ignored.
type Protocols = (Vec<&'static rustls::SupportedProtocolVersion>, Vec<SupportedCipherSuite>, Vec<String>);

/// The protocol versions and suites the settings allow; warnings for what is ignored.
fn protocols(s: &TlsSettings) -> Result<Protocols, TlsError> {
    let mut warnings = Vec::new();
    let only13 = match s.min_version.as_str() {
        "" | "VersionTLS12" => false,
        "VersionTLS13" => true,
        "VersionTLS10" | "VersionTLS11" => {
            warnings.push(format!("tlsMinVersion {}: TLS below 1.2 is not supported; 1.2 is the minimum", s.min_version));
            false
        }
        other => return Err(TlsError::UnknownVersion(other.to_string())),
    };
    let all = ring::default_provider().cipher_suites;
    let mut suites: Vec<SupportedCipherSuite> = all.iter().copied().filter(|c| c.tls13().is_some()).collect();
    if s.cipher_suites.is_empty() {
        suites = all;
    } else {
        for name in &s.cipher_suites {
            match cipher_suite(name)? {
                Some(c) if c.tls13().is_none() && !suites.contains(&c) => suites.push(c),
                Some(_) => {}
                None => warnings.push(format!("cipher suite {name} is not implemented by rkubelet's TLS stack: skipped")),
            }
        }
        if only13 {
            warnings.push("TLS 1.3 cipher suites are not configurable, ignoring tlsCipherSuites".into());
        }
    }
    let has12 = suites.iter().any(|c| c.tls13().is_none());
    let versions = if only13 || !has12 {
        vec![&rustls::version::TLS13]
    } else {
        vec![&rustls::version::TLS13, &rustls::version::TLS12]
    };
    Ok((versions, suites, warnings))
}

/// Builds the listener's configuration; also returns the warnings to log.
pub fn server_config(s: &TlsSettings) -> Result<(Arc<ServerConfig>, Vec<String>), TlsError> {
    let (versions, suites, warnings) = protocols(s)?;
    let provider = Arc::new(CryptoProvider { cipher_suites: suites, ..ring::default_provider() });
    let resolver = Arc::new(ReloadingCert::load(s.serving.clone(), provider.clone())?);
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| TlsError::Setup(e.to_string()))?;
    let builder = match &s.client_ca_file {
        Some(path) => {
            let roots = load_roots(path)?;
            let webpki = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| TlsError::ClientCa { path: path.clone(), detail: e.to_string() })?;
            builder.with_client_cert_verifier(Arc::new(RequestClientCert(webpki)))
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), warnings))
}

/// The CA certificates of a PEM bundle.
pub fn load_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let err = |detail: String| TlsError::ClientCa { path: path.to_path_buf(), detail };
    let pem = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.map_err(|e| err(e.to_string()))?).map_err(|e| err(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(err("no CERTIFICATE block".into()));
    }
    Ok(roots)
}

/// Requests a client certificate and checks the handshake signature, but leaves judging
/// the certificate to the authenticator (Go's `RequestClientCert`).
#[derive(Debug)]
struct RequestClientCert(Arc<dyn ClientCertVerifier>);

impl ClientCertVerifier for RequestClientCert {
    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.0.root_hint_subjects()
    }

    fn verify_client_cert(&self, _: &CertificateDer<'_>, _: &[CertificateDer<'_>], _: UnixTime) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

type Stamp = (Option<SystemTime>, Option<SystemTime>);

/// The serving certificate, read again when its files change.
#[derive(Debug)]
struct ReloadingCert {
    files: ServingCert,
    provider: Arc<CryptoProvider>,
    current: Mutex<(Stamp, Arc<CertifiedKey>)>,
}

impl ReloadingCert {
    fn load(files: ServingCert, provider: Arc<CryptoProvider>) -> Result<ReloadingCert, TlsError> {
        let stamp = (mtime(&files.cert), mtime(&files.key));
        let key = read_pair(&files, &provider)?;
        Ok(ReloadingCert { files, provider, current: Mutex::new((stamp, key)) })
    }
}

fn read_pair(files: &ServingCert, provider: &CryptoProvider) -> Result<Arc<CertifiedKey>, TlsError> {
    let err = |path: &Path, detail: String| TlsError::Certificate { path: path.to_path_buf(), detail };
    let cert_pem = std::fs::read(&files.cert).map_err(|e| err(&files.cert, e.to_string()))?;
    let key_pem = std::fs::read(&files.key).map_err(|e| err(&files.key, e.to_string()))?;
    match pair::certified_key(&cert_pem, &key_pem, provider) {
        Ok(certified) => Ok(Arc::new(certified)),
        Err(PairError::Certificate(detail)) => Err(err(&files.cert, detail)),
        Err(PairError::Key(detail)) => Err(err(&files.key, detail)),
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let stamp = (mtime(&self.files.cert), mtime(&self.files.key));
        if stamp != current.0 {
            match read_pair(&self.files, &self.provider) {
                Ok(key) => {
                    log::info!("serving certificate {} reloaded", self.files.cert.display());
                    *current = (stamp, key);
                }
                // Half-written files during a rotation: keep serving the previous pair.
                Err(e) => log::warn!("keeping the previous serving certificate: {e}"),
            }
        }
        Some(current.1.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(min: &str, suites: &[&str]) -> TlsSettings {
        TlsSettings {
            serving: ServingCert { cert: PathBuf::new(), key: PathBuf::new() },
            min_version: min.into(),
            cipher_suites: suites.iter().map(|s| s.to_string()).collect(),
            client_ca_file: None,
        }
    }

    #[test]
    fn versions_and_suites_follow_the_settings() {
        let Ok((v, suites, w)) = protocols(&settings("", &[])) else { panic!("defaults") };
        assert_eq!((v.len(), suites.len(), w.len()), (2, 9, 0));
        let Ok((v, _, _)) = protocols(&settings("VersionTLS13", &[])) else { panic!("1.3") };
        assert_eq!(v, vec![&rustls::version::TLS13]);
        let cis = ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"];
        let Ok((v, suites, w)) = protocols(&settings("VersionTLS12", &cis)) else { panic!("cis") };
        assert_eq!(v.len(), 2);
        assert_eq!(suites.iter().filter(|c| c.tls13().is_none()).count(), 2);
        assert_eq!(w.len(), 1, "{w:?}");
        let Ok((v, _, _)) = protocols(&settings("", &["TLS_RSA_WITH_AES_128_CBC_SHA"])) else { panic!("no 1.2") };
        assert_eq!(v, vec![&rustls::version::TLS13], "no TLS 1.2 suite left: TLS 1.3 only");
    }

    #[test]
    fn unknown_names_are_errors() {
        let e = protocols(&settings("", &["TLS_FANCY"])).map(|_| ()).err().map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("Cipher suite TLS_FANCY not supported or doesn't exist"));
        let e = protocols(&settings("VersionTLS14", &[])).map(|_| ()).err().map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some("unknown tls version \"VersionTLS14\""));
        assert!(protocols(&settings("VersionTLS10", &[])).is_ok_and(|(_, _, w)| w.len() == 1));
    }
}
