//! TLS to the API server: a rustls `ClientConfig` built from a [`RestConfig`], and a ureq
//! connector that uses it.
//!
//! ureq's own rustls connector takes roots and one client certificate, but verifies against
//! the URL's host only (no `tls-server-name`), panics on a key that does not match its
//! certificate, and cannot reload a rotated certificate. So we wrap the TCP transport that
//! ureq's `TcpConnector` makes in our own rustls session: `TcpConnector` → [`TlsConnector`].
//!
//! - Roots: the cluster CA only (`certificate-authority(-data)`); without one, the system
//!   bundle, as Go's `crypto/x509` would use. `insecure-skip-tls-verify` accepts any server
//!   certificate (handshake signatures are still checked).
//! - Client identity: `client-certificate`/`client-key` (PKCS#8, PKCS#1 RSA or SEC1 EC keys).
//!   From files, the pair is read again when either file's modification time changes, so a
//!   certificate renewed by rotation is used on the next connection (session resumption is
//!   off, or a resumed session would carry the old identity on). A pooled connection made
//!   before such a change is not reused (the API server checks the certificate's expiry on
//!   every request, so a kept-alive connection would fail once the old one expires), as
//!   upstream's rotating transport closes its connections.
//! - Server name: `tls-server-name`, else the host of `server`; an IP host is checked against
//!   the certificate's IP SANs.

use std::fmt;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustls::client::ResolvesClientCert;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme, StreamOwned};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport, TransportAdapter,
};

use super::kubeconfig::{ConfigError, PemSource, RestConfig};
use crate::pki::pair::{self, PairError};

/// Where distributions keep the system CA bundle (the list Go's crypto/x509 tries first).
const SYSTEM_CA_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

fn tls_error(what: impl fmt::Display, detail: impl fmt::Display) -> ConfigError {
    ConfigError::Tls { what: what.to_string(), detail: detail.to_string() }
}

/// Builds the rustls configuration for `rest`.
pub fn client_config(rest: &RestConfig) -> Result<Arc<ClientConfig>, ConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error("TLS setup", e))?;
    let builder = if rest.insecure_skip_tls_verify {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AnyServerCert(provider.clone())))
    } else {
        builder.with_root_certificates(root_store(rest.certificate_authority.as_ref())?)
    };
    let mut config = match (&rest.client_certificate, &rest.client_key) {
        (Some(cert), Some(key)) => {
            let identity = ClientIdentity::new(cert.clone(), key.clone(), provider)?;
            builder.with_client_cert_resolver(Arc::new(identity))
        }
        _ => builder.with_no_client_auth(),
    };
    // HTTP/1.1 only: ureq speaks nothing else, and the server must not pick h2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    // No session resumption (Go's client has none by default either): a resumed session
    // would keep presenting the client certificate it began with, after a rotation too.
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

fn root_store(ca: Option<&PemSource>) -> Result<RootCertStore, ConfigError> {
    let (pem, what) = match ca {
        Some(source) => (source.read()?, source.to_string()),
        None => {
            let found = SYSTEM_CA_BUNDLES.iter().find_map(|p| std::fs::read(p).ok().map(|pem| (pem, p)));
            match found {
                Some((pem, path)) => (pem, path.to_string()),
                None => {
                    return Err(tls_error(
                        "certificate authority",
                        "none in the kubeconfig and no system CA bundle found",
                    ));
                }
            }
        }
    };
    let mut store = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| tls_error(&what, e))?;
        // A bundle may hold certificates webpki cannot parse; a cluster CA file must not.
        if let Err(e) = store.add(cert)
            && ca.is_some()
        {
            return Err(tls_error(&what, e));
        }
    }
    if store.is_empty() {
        return Err(tls_error(&what, "no usable CERTIFICATE block"));
    }
    Ok(store)
}

/// Reads a certificate chain and its key, checking that they belong together.
fn load_identity(
    cert: &PemSource,
    key: &PemSource,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, ConfigError> {
    let cert_pem = cert.read()?;
    let key_pem = key.read()?;
    match pair::certified_key(&cert_pem, &key_pem, provider) {
        Ok(certified) => Ok(Arc::new(certified)),
        Err(PairError::Certificate(detail)) => Err(tls_error(cert, detail)),
        Err(PairError::Key(detail)) => Err(tls_error(key, detail)),
    }
}

/// The client certificate, re-read when its files change.
struct ClientIdentity {
    cert: PemSource,
    key: PemSource,
    provider: Arc<CryptoProvider>,
    current: Mutex<(Stamp, Arc<CertifiedKey>)>,
}

/// Modification times of the certificate and key files (None for inline data).
type Stamp = (Option<SystemTime>, Option<SystemTime>);

fn mtime(source: &PemSource) -> Option<SystemTime> {
    match source {
        PemSource::File(path) => std::fs::metadata(path).and_then(|m| m.modified()).ok(),
        PemSource::Inline { .. } => None,
    }
}

impl ClientIdentity {
    fn new(cert: PemSource, key: PemSource, provider: Arc<CryptoProvider>) -> Result<Self, ConfigError> {
        let stamp = (mtime(&cert), mtime(&key));
        let loaded = load_identity(&cert, &key, &provider)?;
        Ok(ClientIdentity { cert, key, provider, current: Mutex::new((stamp, loaded)) })
    }
}

impl ResolvesClientCert for ClientIdentity {
    fn resolve(&self, _hints: &[&[u8]], _schemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let stamp = (mtime(&self.cert), mtime(&self.key));
        if stamp != current.0 {
            match load_identity(&self.cert, &self.key, &self.provider) {
                Ok(fresh) => {
                    log::info!("client certificate {} changed; using the new one", self.cert);
                    *current = (stamp, fresh);
                }
                // Half-written during rotation, most likely: keep the old pair, retry next time.
                Err(e) => log::warn!("reloading the client certificate: {e}; keeping the previous one"),
            }
        }
        Some(current.1.clone())
    }

    fn has_certs(&self) -> bool {
        true
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientIdentity({})", self.cert)
    }
}

/// A client configuration that accepts any server certificate (container probes over
/// HTTPS, which upstream runs with `InsecureSkipVerify`).
pub(crate) fn insecure_client_config(alpn: Vec<Vec<u8>>) -> Result<Arc<ClientConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServerCert(provider)))
        .with_no_client_auth();
    config.alpn_protocols = alpn;
    Ok(Arc::new(config))
}

/// `insecure-skip-tls-verify`: any certificate, but a real handshake signature.
#[derive(Debug)]
struct AnyServerCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The ureq connector that puts our TLS session on top of a TCP transport.
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
    server_name: Option<ServerName<'static>>,
    /// The client certificate and key when they are files (they may be rotated).
    identity_files: Option<(PemSource, PemSource)>,
}

impl TlsConnector {
    pub fn new(rest: &RestConfig) -> Result<Self, ConfigError> {
        let server_name = match &rest.tls_server_name {
            Some(name) => Some(
                ServerName::try_from(name.clone()).map_err(|e| tls_error(format!("tls-server-name {name:?}"), e))?,
            ),
            None => None,
        };
        let identity_files = match (&rest.client_certificate, &rest.client_key) {
            (Some(cert @ PemSource::File(_)), Some(key)) | (Some(cert), Some(key @ PemSource::File(_))) => {
                Some((cert.clone(), key.clone()))
            }
            _ => None,
        };
        Ok(TlsConnector { config: client_config(rest)?, server_name, identity_files })
    }

    fn server_name(&self, details: &ConnectionDetails) -> Result<ServerName<'static>, ureq::Error> {
        if let Some(name) = &self.server_name {
            return Ok(name.clone());
        }
        let host = details.uri.host().ok_or(ureq::Error::Tls("no host to verify the certificate against"))?;
        let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        ServerName::try_from(bare.to_string()).map_err(|_| ureq::Error::Tls("the host is not a valid TLS server name"))
    }
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector").field("server_name", &self.server_name).finish()
    }
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = Either<In, TlsTransport>;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else { return Ok(None) };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        // Stamped before the handshake: a change during it makes the connection stale at once.
        let identity = self.identity_files.clone().map(|(cert, key)| {
            let stamp = (mtime(&cert), mtime(&key));
            (cert, key, stamp)
        });
        let conn = ClientConnection::new(self.config.clone(), self.server_name(details)?)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        let mut stream = StreamOwned::new(conn, sock);
        // Drive the handshake now, so that certificate errors show up as connect errors.
        while stream.conn.is_handshaking() {
            if stream.conn.complete_io(&mut stream.sock)? == (0, 0) {
                return Err(ureq::Error::Tls("connection closed during the TLS handshake"));
            }
        }
        let buffers = LazyBuffers::new(details.config.input_buffer_size(), details.config.output_buffer_size());
        Ok(Some(Either::B(TlsTransport { buffers, stream, identity })))
    }
}

/// A TLS session over ureq's transport, as ureq's buffers expect it.
pub struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
    /// The client certificate files and their modification times at the handshake.
    identity: Option<(PemSource, PemSource, Stamp)>,
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.sock.set_timeout(timeout);
        let output = self.buffers.output().get(..amount).ok_or(ureq::Error::Tls("output larger than the buffer"))?;
        self.stream.write_all(output)?;
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.sock.set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input)?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        if let Some((cert, key, stamp)) = &self.identity
            && (mtime(cert), mtime(key)) != *stamp
        {
            log::debug!("client certificate {cert} changed: not reusing a connection made with the old one");
            return false;
        }
        self.stream.sock.get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

impl fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTransport").finish_non_exhaustive()
    }
}
