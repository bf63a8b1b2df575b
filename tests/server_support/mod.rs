//! What the kubelet API tests share: certificates made with `openssl`, and a small HTTP/1.1
//! client over rustls (or plain TCP) that shows exactly what the server sent.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// A scratch directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("rk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn have_openssl() -> bool {
    let ok = Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success());
    if !ok {
        println!("SKIPPED: openssl is not installed (the tests make their certificates with it)");
    }
    ok
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("run openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A self-signed CA `<name>.crt`/`<name>.key` in `dir`.
pub fn make_ca(dir: &Path, name: &str) {
    let (crt, key) = (format!("{name}.crt"), format!("{name}.key"));
    openssl(dir, &["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", &key, "-out", &crt, "-days", "2", "-subj", &format!("/CN={name}")]);
}

/// `<name>.crt`/`<name>.key` signed by CA `ca` (files `<ca>.crt`, `<ca>.key` in `dir`).
/// `server`: a serving certificate for 127.0.0.1 and localhost; else a client certificate.
pub fn make_cert(dir: &Path, ca: &str, name: &str, subject: &str, server: bool) {
    let (crt, key, csr, ext) = (format!("{name}.crt"), format!("{name}.key"), format!("{name}.csr"), format!("{name}.ext"));
    let extensions = if server {
        "subjectAltName=IP:127.0.0.1,IP:192.0.2.2,DNS:localhost\nextendedKeyUsage=serverAuth\n"
    } else {
        "extendedKeyUsage=clientAuth\n"
    };
    std::fs::write(dir.join(&ext), extensions).expect("write ext");
    openssl(dir, &["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", &key, "-out", &csr, "-subj", subject]);
    openssl(dir, &["x509", "-req", "-in", &csr, "-CA", &format!("{ca}.crt"), "-CAkey", &format!("{ca}.key"), "-CAcreateserial", "-out", &crt, "-days", "2", "-extfile", &ext]);
}

fn certs(path: &Path) -> Vec<CertificateDer<'static>> {
    let pem = std::fs::read(path).expect("read certificate");
    CertificateDer::pem_slice_iter(&pem).collect::<Result<_, _>>().expect("parse certificate")
}

/// A client trusting `ca` (a PEM file), presenting `identity` (cert, key) if given.
pub fn client_config(ca: &Path, identity: Option<(&Path, &Path)>, versions: &[&'static rustls::SupportedProtocolVersion]) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for c in certs(ca) {
        roots.add(c).expect("add root");
    }
    let builder = ClientConfig::builder_with_provider(provider).with_protocol_versions(versions).expect("versions").with_root_certificates(roots);
    let config = match identity {
        Some((crt, key)) => {
            let key = PrivateKeyDer::from_pem_slice(&std::fs::read(key).expect("read key")).expect("parse key");
            builder.with_client_auth_cert(certs(crt), key).expect("client cert")
        }
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

/// A connection to the server, TLS or plain.
pub enum Conn {
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
    Plain(TcpStream),
}

impl Conn {
    pub fn open(addr: SocketAddr, tls: Option<&Arc<ClientConfig>>) -> std::io::Result<Conn> {
        let tcp = TcpStream::connect(addr)?;
        tcp.set_read_timeout(Some(Duration::from_secs(20)))?;
        Ok(match tls {
            Some(config) => {
                let name = ServerName::try_from("127.0.0.1").expect("name").to_owned();
                let conn = ClientConnection::new(config.clone(), name).map_err(std::io::Error::other)?;
                let mut s = StreamOwned::new(conn, tcp);
                while s.conn.is_handshaking() {
                    s.conn.complete_io(&mut s.sock)?;
                }
                Conn::Tls(Box::new(s))
            }
            None => Conn::Plain(tcp),
        })
    }

    /// Reads until the server closes; a TLS close without close_notify counts as the end.
    pub fn read_all(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match self.read(&mut buf) {
                Ok(0) | Err(_) => return out,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Tls(s) => s.read(buf),
            Conn::Plain(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Conn::Tls(s) => s.write(buf),
            Conn::Plain(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Tls(s) => s.flush(),
            Conn::Plain(s) => s.flush(),
        }
    }
}

/// A response as received.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(nl) = body.windows(2).position(|w| w == b"\r\n") else { return out };
        let size = usize::from_str_radix(std::str::from_utf8(&body[..nl]).unwrap_or("0").trim(), 16).unwrap_or(0);
        if size == 0 || body.len() < nl + 2 + size {
            return out;
        }
        out.extend_from_slice(&body[nl + 2..nl + 2 + size]);
        body = &body[(nl + 4 + size).min(body.len())..];
    }
}

/// Splits a whole response (connection closed after it).
pub fn parse_reply(raw: &[u8]) -> Reply {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head") + 4;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
    let mut reply = Reply { status, head, body: raw[end..].to_vec() };
    if reply.header("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        reply.body = dechunk(&reply.body);
    }
    reply
}

/// Sends `method path` (with extra header lines) on a new connection and reads the answer.
pub fn request(addr: SocketAddr, tls: Option<&Arc<ClientConfig>>, method: &str, path: &str, headers: &str) -> std::io::Result<Reply> {
    let mut conn = Conn::open(addr, tls)?;
    write!(conn, "{method} {path} HTTP/1.1\r\nHost: node\r\nConnection: close\r\n{headers}\r\n")?;
    conn.flush()?;
    Ok(parse_reply(&conn.read_all()))
}
