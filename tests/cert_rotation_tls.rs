//! A rotated client certificate reaches new connections: a local HTTPS server that requires
//! client certificates (rustls + webpki, so our certificates are checked by another
//! implementation) answers with the serial number of the certificate it saw. The client
//! runs on a kubeconfig written by bootstrap's `write_kubeconfig`, pointing at the store's
//! `kubelet-client-current.pem`; `FileStore::update` swaps that symlink. No cluster needed.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use rkubelet::certificate::bootstrap::write_kubeconfig;
use rkubelet::certificate::store::FileStore;
use rkubelet::kubeclient::{Client, ClientOptions, PemSource, RestConfig};
use rkubelet::pki::selfsigned::{self, CertTemplate, DIGITAL_SIGNATURE, Issuer, KEY_CERT_SIGN};
use rkubelet::pki::x509::{AltNames, Name, parse_certificate};
use rkubelet::pki::{KeyPair, csr, oid, pem};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

struct Ca {
    key: KeyPair,
    name: Name,
    id: Vec<u8>,
    der: Vec<u8>,
}

const YEAR: i64 = 365 * 86_400;

fn now() -> i64 {
    let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).expect("clock").as_secs();
    i64::try_from(secs).expect("now")
}

fn template(subject: Name, usage: &'static [u32], alt_names: AltNames, is_ca: bool) -> CertTemplate {
    let key_usage = if is_ca { vec![DIGITAL_SIGNATURE, KEY_CERT_SIGN] } else { vec![DIGITAL_SIGNATURE] };
    let ext_key_usage = if is_ca { Vec::new() } else { vec![usage] };
    CertTemplate {
        subject,
        not_before: now() - 60,
        not_after: now() + YEAR,
        is_ca,
        key_usage,
        ext_key_usage,
        alt_names,
    }
}

impl Ca {
    fn new() -> Ca {
        let key = KeyPair::generate().expect("key");
        let name = Name { common_name: Some("rotation-test-ca".into()), organizations: Vec::new() };
        let id = selfsigned::key_id(&key);
        let tmpl = template(name.clone(), oid::SERVER_AUTH, AltNames::default(), true);
        let der = selfsigned::sign(&tmpl, &key, &Issuer { name: &name, key: &key, key_id: &id }).expect("CA");
        Ca { key, name, id, der }
    }

    fn issue(&self, key: &KeyPair, tmpl: &CertTemplate) -> Vec<u8> {
        selfsigned::sign(tmpl, key, &Issuer { name: &self.name, key: &self.key, key_id: &self.id })
            .expect("issue")
    }

    fn client_pair(&self, node: &str) -> (String, KeyPair) {
        let key = KeyPair::generate().expect("key");
        let tmpl = template(csr::node_subject(node), oid::CLIENT_AUTH, AltNames::default(), false);
        (pem::encode(pem::CERTIFICATE, &self.issue(&key, &tmpl)), key)
    }
}

/// Answers every request with `{"serial":"<hex of the client certificate's serial>"}`, keeping
/// connections alive (as the API server does); counts the connections it accepted.
fn server(ca: &Ca) -> (SocketAddr, Arc<AtomicUsize>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca.der.clone())).expect("our CA is acceptable to webpki");
    let verifier =
        rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .expect("verifier");
    let key = KeyPair::generate().expect("server key");
    let alt = AltNames { dns_names: Vec::new(), ips: vec!["127.0.0.1".parse().expect("ip")] };
    let leaf = ca.issue(&key, &template(Name::default(), oid::SERVER_AUTH, alt, false));
    let key_der = pem::blocks(key.to_pem().as_bytes(), "server key").expect("pem").remove(0).1;
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(vec![leaf.into()], PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der)))
        .expect("rustls takes our serving certificate and key");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let connections = Arc::new(AtomicUsize::new(0));
    let accepted = connections.clone();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = config.clone();
            accepted.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else { return };
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                while answer(&mut tls) {}
            });
        }
    });
    (addr, connections)
}

/// Reads one request (headers only) and answers it; false when the client went away.
fn answer(tls: &mut rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>) -> bool {
    let mut reader = BufReader::new(&mut *tls);
    let mut line = String::new();
    let mut lines = 0;
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(n) if n > 0 && line != "\r\n" => lines += 1,
            Ok(n) if n > 0 => break,
            _ => return false,
        }
    }
    if lines == 0 {
        return false;
    }
    let serial = tls
        .conn
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|c| parse_certificate(c).ok())
        .map_or(String::new(), |info| info.serial.iter().map(|b| format!("{b:02x}")).collect());
    let body = format!("{{\"serial\":\"{serial}\"}}");
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(response.as_bytes()).is_ok() && tls.flush().is_ok()
}

fn serial_of(pem_text: &str) -> String {
    let der = pem::certificates(pem_text.as_bytes(), "cert").expect("cert").remove(0);
    parse_certificate(&der).expect("parses").serial.iter().map(|b| format!("{b:02x}")).collect()
}

fn serial_seen(client: &Client) -> String {
    let body: serde_json::Value =
        serde_json::from_slice(&client.raw("/version").expect("request")).expect("json");
    body["serial"].as_str().expect("serial").to_string()
}

#[test]
fn a_rotated_client_certificate_is_presented_on_the_next_connection() {
    let ca = Ca::new();
    let (addr, connections) = server(&ca);
    let dir = std::env::temp_dir().join(format!("rk-cert-rotation-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("ca.crt"), pem::encode(pem::CERTIFICATE, &ca.der)).expect("ca");

    let store = FileStore::new("kubelet-client", &dir, None).expect("store");
    let t0 = SystemTime::now();
    let (cert1, key1) = ca.client_pair("edge-1");
    store.update(cert1.as_bytes(), key1.to_pem().as_bytes(), t0).expect("first pair");
    let mut bootstrap = RestConfig::new(&format!("https://{addr}"));
    bootstrap.certificate_authority = Some(PemSource::File(dir.join("ca.crt")));
    write_kubeconfig(&bootstrap, &dir.join("kubelet.conf"), &store.current_path()).expect("kubeconfig");

    let options = ClientOptions { timeout: Duration::from_secs(5), ..ClientOptions::default() };
    let client = Client::from_kubeconfig(&dir.join("kubelet.conf"), None, options).expect("client");
    assert_eq!(serial_seen(&client), serial_of(&cert1));
    assert_eq!(serial_seen(&client), serial_of(&cert1));
    assert_eq!(connections.load(Ordering::SeqCst), 1, "the connection is kept alive and reused");

    let (cert2, key2) = ca.client_pair("edge-1");
    store.update(cert2.as_bytes(), key2.to_pem().as_bytes(), t0 + Duration::from_secs(1)).expect("rotated");
    assert_eq!(
        serial_seen(&client),
        serial_of(&cert2),
        "the kept-alive connection is dropped: a new one presents the rotated certificate"
    );
    assert_eq!(connections.load(Ordering::SeqCst), 2);
    assert_ne!(serial_of(&cert1), serial_of(&cert2));
    let _ = std::fs::remove_dir_all(&dir);
}
