//! TLS wiring against a rustls server on loopback that requires client certificates:
//! the cluster CA as the only root, IP SANs, tls-server-name, insecure-skip-tls-verify,
//! client keys in PKCS#8, PKCS#1 and SEC1, a kubeconfig with relative paths, and a client
//! certificate replaced on disk (rotation). Certificates are made with the openssl CLI.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rkubelet::kubeclient::{Client, ClientOptions, ConfigError, Error, PemSource, RestConfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A fresh directory with a CA, a server certificate for 127.0.0.1 and kubernetes.test, and
/// client certificates with keys in three encodings; None if openssl is missing.
fn pki(tag: &str) -> Option<PathBuf> {
    if Command::new("openssl").arg("version").output().is_err() {
        println!("SKIPPED: the openssl CLI is needed to make test certificates");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("rk-kubeclient-tls-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    for ca in ["ca", "other-ca"] {
        let (key, crt, subj) = (format!("{ca}.key"), format!("{ca}.crt"), format!("/CN={ca}"));
        let mut args = vec!["req", "-x509", "-days", "1", "-subj", &subj, "-keyout", &key, "-out", &crt];
        args.extend(ec);
        openssl(&dir, &args);
    }
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:kubernetes.test\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext");
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").expect("ext");
    let mut args = vec!["req", "-new", "-subj", "/CN=server", "-keyout", "server.key", "-out", "server.csr"];
    args.extend(ec);
    openssl(&dir, &args);
    sign(&dir, "server", "server.ext");
    // Client keys: PKCS#1 RSA, SEC1 EC, PKCS#8 EC.
    openssl(&dir, &["genrsa", "-traditional", "-out", "rsa1.key", "2048"]);
    openssl(&dir, &["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "sec1.key"]);
    openssl(&dir, &["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "pkcs8.key"]);
    for name in ["rsa1", "sec1", "pkcs8"] {
        let (key, csr) = (format!("{name}.key"), format!("{name}.csr"));
        openssl(&dir, &["req", "-new", "-key", &key, "-subj", "/O=system:nodes/CN=system:node:n1", "-out", &csr]);
        sign(&dir, name, "client.ext");
    }
    let heads: Vec<String> = ["rsa1.key", "sec1.key", "pkcs8.key"]
        .iter()
        .map(|k| std::fs::read_to_string(dir.join(k)).expect("key").lines().next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        heads,
        ["-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----"]
    );
    Some(dir)
}

fn sign(dir: &Path, name: &str, ext: &str) {
    let (csr, crt) = (format!("{name}.csr"), format!("{name}.crt"));
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-days",
            "1",
            "-in",
            &csr,
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-extfile",
            ext,
            "-out",
            &crt,
        ],
    );
}

fn certs(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path).expect("open").collect::<Result<_, _>>().expect("certs")
}

/// An HTTPS server requiring a client certificate signed by ca.crt; each answer is the DER
/// length of the client certificate it saw, and the connection is closed.
fn tls_server(dir: &Path) -> SocketAddr {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(certs(&dir.join("ca.crt")));
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .expect("verifier");
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).expect("server key");
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs(&dir.join("server.crt")), key)
        .expect("server config");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = config.clone();
            thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else { return };
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut reader = BufReader::new(&mut tls);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    line.clear();
                }
                let seen = tls.conn.peer_certificates().and_then(|c| c.first()).map_or(0, |c| c.len());
                let body = format!("{{\"clientCertLength\":{seen}}}");
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(response.as_bytes());
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    addr
}

fn rest(addr: SocketAddr, dir: &Path, client: &str) -> RestConfig {
    let mut rest = RestConfig::new(&format!("https://{addr}"));
    rest.certificate_authority = Some(PemSource::File(dir.join("ca.crt")));
    rest.client_certificate = Some(PemSource::File(dir.join(format!("{client}.crt"))));
    rest.client_key = Some(PemSource::File(dir.join(format!("{client}.key"))));
    rest
}

fn client_cert_seen(rest: &RestConfig) -> Result<u64, Error> {
    let options = ClientOptions { timeout: Duration::from_secs(5), ..ClientOptions::default() };
    let client = Client::new(rest, options).expect("client");
    let body = client.raw("/version")?;
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    Ok(v["clientCertLength"].as_u64().expect("length"))
}

fn der_len(path: &Path) -> u64 {
    certs(path)[0].len() as u64
}

#[test]
fn client_certificates_in_every_key_encoding() {
    let Some(dir) = pki("keys") else { return };
    let addr = tls_server(&dir);
    for name in ["rsa1", "sec1", "pkcs8"] {
        let seen = client_cert_seen(&rest(addr, &dir, name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(seen, der_len(&dir.join(format!("{name}.crt"))), "{name}");
    }
}

#[test]
fn server_verification() {
    let Some(dir) = pki("verify") else { return };
    let addr = tls_server(&dir);

    let mut named = rest(addr, &dir, "sec1");
    named.tls_server_name = Some("kubernetes.test".into());
    client_cert_seen(&named).expect("tls-server-name in the SANs");

    named.tls_server_name = Some("elsewhere.test".into());
    let e = client_cert_seen(&named).expect_err("name not in the SANs");
    assert!(matches!(e, Error::Transport { .. }) && e.to_string().contains("certificate"), "{e}");

    let mut wrong_ca = rest(addr, &dir, "sec1");
    wrong_ca.certificate_authority = Some(PemSource::File(dir.join("other-ca.crt")));
    let e = client_cert_seen(&wrong_ca).expect_err("unknown issuer");
    assert!(e.to_string().contains("certificate"), "{e}");

    let mut insecure = rest(addr, &dir, "sec1");
    insecure.certificate_authority = None;
    insecure.insecure_skip_tls_verify = true;
    client_cert_seen(&insecure).expect("insecure-skip-tls-verify");

    let mut by_hostname = rest(addr, &dir, "sec1");
    by_hostname.server = format!("https://localhost:{}", addr.port());
    let e = client_cert_seen(&by_hostname).expect_err("localhost is not a SAN");
    assert!(e.to_string().contains("certificate"), "{e}");
}

#[test]
fn bad_key_material_fails_at_construction() {
    let Some(dir) = pki("bad") else { return };
    let mut mismatched = rest("127.0.0.1:1".parse().expect("addr"), &dir, "sec1");
    mismatched.client_key = Some(PemSource::File(dir.join("pkcs8.key")));
    match Client::new(&mismatched, ClientOptions::default()) {
        Err(ConfigError::Tls { what, .. }) => assert!(what.ends_with("pkcs8.key"), "{what}"),
        other => panic!("expected a TLS config error, got {other:?}"),
    }
    let mut not_pem = rest("127.0.0.1:1".parse().expect("addr"), &dir, "sec1");
    not_pem.certificate_authority = Some(PemSource::Inline { data: b"garbage".to_vec(), origin: "ca-data".into() });
    match Client::new(&not_pem, ClientOptions::default()) {
        Err(e @ ConfigError::Tls { .. }) => assert!(e.to_string().starts_with("ca-data:"), "{e}"),
        other => panic!("expected a TLS config error, got {other:?}"),
    }
}

#[test]
fn kubeconfig_with_relative_paths_and_rotation() {
    let Some(dir) = pki("kubeconfig") else { return };
    let addr = tls_server(&dir);
    std::fs::copy(dir.join("sec1.crt"), dir.join("current.crt")).expect("copy");
    std::fs::copy(dir.join("sec1.key"), dir.join("current.key")).expect("copy");
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: k\nclusters:\n- name: c\n  cluster:\n    server: https://{addr}\n    certificate-authority: ca.crt\n\
         users:\n- name: u\n  user:\n    client-certificate: current.crt\n    client-key: current.key\n\
         contexts:\n- name: k\n  context:\n    cluster: c\n    user: u\n"
    );
    std::fs::write(dir.join("kubelet.conf"), kubeconfig).expect("write");
    let options = ClientOptions { timeout: Duration::from_secs(5), ..ClientOptions::default() };
    let client = Client::from_kubeconfig(&dir.join("kubelet.conf"), None, options).expect("client");
    let seen = |c: &Client| -> u64 {
        let v: serde_json::Value = serde_json::from_slice(&c.raw("/version").expect("raw")).expect("json");
        v["clientCertLength"].as_u64().expect("length")
    };
    assert_eq!(seen(&client), der_len(&dir.join("sec1.crt")));

    // Rotation writes a new pair; the next connection presents it.
    std::fs::copy(dir.join("rsa1.crt"), dir.join("current.crt")).expect("copy");
    std::fs::copy(dir.join("rsa1.key"), dir.join("current.key")).expect("copy");
    assert_eq!(seen(&client), der_len(&dir.join("rsa1.crt")));
}
