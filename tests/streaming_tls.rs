//! The upgrade proxy over a real TLS client connection (rustls, as the kubelet's :10250 has):
//! the relay polls the socket under a TLS stream that holds decrypted bytes of its own, and a
//! client's close_notify is the end of its input (half-close) while the runtime's answer
//! still arrives. Certificates are made with the openssl CLI (SKIPPED without it).

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rkubelet::streaming::{Proxied, ProxyConfig, RelayEnd, RequestHead, proxy_upgrade};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA and a server certificate for 127.0.0.1; `None` without openssl.
fn pki() -> Option<PathBuf> {
    if Command::new("openssl").arg("version").output().is_err() {
        println!("SKIPPED: the openssl CLI is needed to make test certificates");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("rk-streaming-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let mut ca = vec!["req", "-x509", "-days", "1", "-subj", "/CN=ca", "-keyout", "ca.key", "-out", "ca.crt"];
    ca.extend(ec);
    openssl(&dir, &ca);
    let mut csr = vec!["req", "-new", "-subj", "/CN=kubelet", "-keyout", "server.key", "-out", "server.csr"];
    csr.extend(ec);
    openssl(&dir, &csr);
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        .unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "1",
        ]
        .into_iter()
        .chain(["-extfile", "server.ext", "-out", "server.crt"])
        .collect::<Vec<_>>(),
    );
    Some(dir)
}

fn certs(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path).unwrap().map(Result::unwrap).collect()
}

/// The kubelet's side of a TLS connection, as the server hands it over.
struct TlsConn(rustls::StreamOwned<rustls::ServerConnection, TcpStream>);

impl Read for TlsConn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for TlsConn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl AsFd for TlsConn {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.sock.as_fd()
    }
}

/// A runtime streaming server that switches, echoes until EOF, then says "bye".
fn echo_runtime() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/attach/t", listener.local_addr().unwrap());
    thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        s.write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nConnection: Upgrade\r\n\r\n")
            .unwrap();
        let mut reader = s.try_clone().unwrap();
        std::io::copy(&mut reader, &mut s).unwrap();
        s.write_all(b"bye").unwrap();
    });
    url
}

fn read_head<R: Read>(r: &mut R) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        r.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

#[test]
fn a_tls_client_session_with_half_close() {
    let Some(dir) = pki() else { return };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let server_config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs(&dir.join("server.crt")), key)
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let runtime_url = echo_runtime();
    let kubelet = thread::spawn(move || {
        let (tcp, peer) = listener.accept().unwrap();
        let conn = rustls::ServerConnection::new(Arc::new(server_config)).unwrap();
        let mut tls = TlsConn(rustls::StreamOwned::new(conn, tcp));
        let text = read_head(&mut tls);
        let mut lines = text.lines();
        let target = lines.next().unwrap().split(' ').nth(1).unwrap().to_string();
        let headers = lines.filter_map(|l| l.split_once(": ")).map(|(n, v)| (n.into(), v.into())).collect();
        let head = RequestHead { method: "POST".into(), target, headers, peer: Some(peer.ip()) };
        let cfg = ProxyConfig {
            idle_timeout: Some(Duration::from_secs(30)),
            handshake_timeout: Duration::from_secs(5),
        };
        proxy_upgrade(&mut tls, &head, &runtime_url, &cfg).unwrap()
    });

    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(certs(&dir.join("ca.crt")));
    let client_config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(client_config), name).unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut client = rustls::StreamOwned::new(conn, tcp);
    client
        .write_all(
            b"POST /attach/ns/pod/c?output=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n",
        )
        .unwrap();
    let response = read_head(&mut client);
    assert!(response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "{response}");
    // A megabyte in 16 KiB steps, each echoed back whole before the next.
    let mut echoed = vec![0u8; 16 * 1024];
    for round in 0..64u8 {
        let chunk: Vec<u8> = (0..16 * 1024).map(|i| (i as u8).wrapping_add(round)).collect();
        client.write_all(&chunk).unwrap();
        client.read_exact(&mut echoed).unwrap();
        assert!(echoed == chunk, "round {round} came back different");
    }
    // close_notify and FIN: the end of our input; the runtime's last words still come.
    client.conn.send_close_notify();
    client.flush().unwrap();
    client.sock.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest); // the server may close without close_notify
    assert_eq!(rest, b"bye");
    let Proxied::Upgraded(stats) = kubelet.join().unwrap() else { panic!("not upgraded") };
    assert!(matches!(stats.end, RelayEnd::RuntimeClosed), "{:?}", stats.end);
    assert_eq!((stats.up, stats.down), (1 << 20, (1 << 20) + 3));
    let _ = std::fs::remove_dir_all(dir);
}
