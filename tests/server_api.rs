//! The kubelet API server over real sockets (no cluster needed): TLS with client
//! certificates, authorization, keep-alive, malformed and slow clients, streamed logs, the
//! upgrade hand-off, certificate reload and the read-only port.

mod server_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rkubelet::api::authorization::{SubjectAccessReviewSpec, SubjectAccessReviewStatus};
use rkubelet::api::core::Pod;
use rkubelet::kuberuntime::PodStatus;
use rkubelet::server::auth::authz::{AccessReviewer, Authorizer, WebhookAuthorizer};
use rkubelet::server::auth::cache::SystemClock;
use rkubelet::server::auth::x509::X509Authenticator;
use rkubelet::server::auth::Authenticator;
use rkubelet::server::http::Request;
use rkubelet::server::listener::{self, ListenConfig};
use rkubelet::server::routes::{Auth, ContainerLog, Deps, ExecOutput, Host, Router};
use rkubelet::server::stats_api::Unavailable;
use rkubelet::server::streaming_api::{StreamKind, StreamParams, StreamingHandler, Upgraded, write_switching_protocols};
use rkubelet::server::tls::{self, ServingCert, TlsSettings};
use rkubelet::server::Checks;
use server_support::*;

struct FakeHost {
    log: PathBuf,
    running: Arc<AtomicBool>,
}

impl Host for FakeHost {
    fn running_pods(&self) -> Result<Vec<PodStatus>, String> {
        Ok(Vec::new())
    }
    fn container_log(&self, _id: &str) -> Result<ContainerLog, String> {
        Ok(ContainerLog { path: self.log.clone(), running: self.running.load(Ordering::SeqCst) })
    }
    fn exec_sync(&self, _id: &str, _cmd: &[String]) -> Result<ExecOutput, String> {
        Err("not here".into())
    }
}

/// Answers 101, then echoes what it reads back in upper case until the client closes.
struct Echo;

impl StreamingHandler for Echo {
    fn handle(&self, req: &Request, kind: StreamKind, params: StreamParams, mut conn: Upgraded) {
        assert_eq!((kind, params.container.as_deref(), params.command.clone()), (StreamKind::Exec, Some("app"), vec!["sh".to_string()]));
        assert!(req.header("Authorization").is_none());
        let _ = write_switching_protocols(&mut conn.stream, &[("Connection".into(), "Upgrade".into()), ("Upgrade".into(), "echo".into())]);
        let mut buf = [0u8; 64];
        while let Ok(n) = conn.stream.read(&mut buf) {
            if n == 0 || conn.stream.write_all(&buf[..n].to_ascii_uppercase()).and_then(|()| conn.stream.flush()).is_err() {
                break;
            }
        }
    }
}

/// Allows alice (group devs) everything, anyone get on nodes/healthz.
struct Policy;

impl AccessReviewer for Policy {
    fn review(&self, spec: &SubjectAccessReviewSpec) -> Result<SubjectAccessReviewStatus, String> {
        let attrs = spec.resource_attributes.clone().unwrap_or_default();
        let alice = spec.user.as_deref() == Some("alice") && spec.groups.iter().any(|g| g == "devs") && spec.groups.iter().any(|g| g == "system:authenticated");
        let allowed = alice || attrs.subresource.as_deref() == Some("healthz");
        Ok(SubjectAccessReviewStatus { allowed, ..Default::default() })
    }
}

fn pod() -> Pod {
    let mut p: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
        "spec": {"containers": [{"name": "app"}]},
        "status": {"containerStatuses": [{"name": "app", "containerID": "containerd://c1", "state": {"running": {}}, "ready": true, "restartCount": 0, "image": "x", "imageID": ""}]}
    }))
    .expect("pod");
    p.metadata.labels.insert("app".into(), "web".into());
    p
}

fn deps(log: &Path, running: Arc<AtomicBool>) -> Deps {
    Deps {
        node_name: "node-1".into(),
        checks: Checks::default().add("ping", Arc::new(|| Ok(()))),
        pods: Arc::new(|| vec![pod()]),
        host: Arc::new(FakeHost { log: log.to_path_buf(), running }),
        stats: Arc::new(Unavailable),
        streaming: Arc::new(Echo),
        config: serde_json::json!({}),
        machine: Arc::new(|| serde_json::json!({})),
        node_log_dir: std::env::temp_dir(),
        debugging_handlers: true,
        system_log_handler: true,
    }
}

struct Setup {
    dir: Scratch,
    addr: SocketAddr,
    alice: Arc<rustls::ClientConfig>,
    running: Arc<AtomicBool>,
}

impl Setup {
    fn p(&self, name: &str) -> PathBuf {
        self.dir.path(name)
    }

    fn client(&self, cert: Option<&str>) -> Arc<rustls::ClientConfig> {
        let identity = cert.map(|c| (self.p(&format!("{c}.crt")), self.p(&format!("{c}.key"))));
        client_config(&self.p("ca.crt"), identity.as_ref().map(|(c, k)| (c.as_path(), k.as_path())), &[&rustls::version::TLS13, &rustls::version::TLS12])
    }
}

fn setup(name: &str, min_version: &str) -> Option<Setup> {
    if !have_openssl() {
        return None;
    }
    let dir = Scratch::new(name);
    make_ca(&dir.0, "ca");
    make_ca(&dir.0, "other-ca");
    make_cert(&dir.0, "ca", "server", "/CN=node-1", true);
    make_cert(&dir.0, "ca", "alice", "/O=devs/CN=alice", false);
    make_cert(&dir.0, "ca", "bob", "/CN=bob", false);
    make_cert(&dir.0, "other-ca", "mallory", "/O=devs/CN=alice", false);
    std::fs::write(dir.path("0.log"), "2024-05-01T10:00:00Z stdout F first line\n").expect("log");
    let settings = TlsSettings {
        serving: ServingCert { cert: dir.path("server.crt"), key: dir.path("server.key") },
        min_version: min_version.into(),
        cipher_suites: Vec::new(),
        client_ca_file: Some(dir.path("ca.crt")),
    };
    let (tls, _) = tls::server_config(&settings).expect("tls config");
    let auth = Auth {
        authn: Authenticator { x509: Some(X509Authenticator::new(&dir.path("ca.crt")).expect("ca")), token: None, anonymous: false },
        authz: Authorizer::Webhook(WebhookAuthorizer::new(Arc::new(Policy), Duration::from_secs(60), Duration::from_secs(60), Arc::new(SystemClock))),
        node_name: "node-1".into(),
    };
    let running = Arc::new(AtomicBool::new(true));
    let router = Router::secure(deps(&dir.path("0.log"), running.clone()), auth);
    let mut cfg = ListenConfig::new("readwrite", Some(tls));
    cfg.request_timeout = Duration::from_secs(2);
    let addr = listener::spawn(cfg, SocketAddr::from(([127, 0, 0, 1], 0)), Arc::new(router)).expect("listen");
    let alice = client_config(
        &dir.path("ca.crt"),
        Some((&dir.path("alice.crt"), &dir.path("alice.key"))),
        &[&rustls::version::TLS13, &rustls::version::TLS12],
    );
    Some(Setup { dir, addr, alice, running })
}

#[test]
fn client_certificates_decide_who_is_asking() {
    let Some(s) = setup("api-authn", "") else { return };
    let anonymous = request(s.addr, Some(&s.client(None)), "GET", "/pods", "").expect("anonymous");
    assert_eq!((anonymous.status, anonymous.text().as_str()), (401, "Unauthorized"));
    let mallory = request(s.addr, Some(&s.client(Some("mallory"))), "GET", "/pods", "").expect("other CA");
    assert_eq!(mallory.status, 401, "a certificate from another CA is refused by the authenticator, not the handshake");
    let alice = request(s.addr, Some(&s.alice), "GET", "/pods", "").expect("alice");
    assert_eq!(alice.status, 200);
    assert!(alice.text().contains("\"name\":\"web\""));
    let bob = request(s.addr, Some(&s.client(Some("bob"))), "GET", "/pods", "").expect("bob");
    assert_eq!((bob.status, bob.text().as_str()), (403, "Forbidden (user=bob, verb=get, resource=nodes, subresource(s)=[pods proxy])\n"));
    let bob_health = request(s.addr, Some(&s.client(Some("bob"))), "GET", "/healthz", "").expect("bob healthz");
    assert_eq!((bob_health.status, bob_health.text().as_str()), (200, "ok"));
}

#[test]
fn keep_alive_and_bad_requests() {
    let Some(s) = setup("api-http", "") else { return };
    let mut conn = Conn::open(s.addr, Some(&s.alice)).expect("connect");
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: n\r\n\r\nGET /healthz/ping HTTP/1.1\r\nHost: n\r\n\r\nGET /nothing HTTP/1.1\r\nConnection: close\r\n\r\n").expect("send");
    let all = String::from_utf8_lossy(&conn.read_all()).into_owned();
    assert_eq!(all.matches("HTTP/1.1 200 OK").count(), 2, "{all}");
    assert!(all.contains("HTTP/1.1 404 Not Found"), "{all}");

    let mut bad = Conn::open(s.addr, Some(&s.alice)).expect("connect");
    bad.write_all(b"GET /pods HTTP/1.1\r\nBad Header\r\n\r\n").expect("send");
    assert_eq!(parse_reply(&bad.read_all()).status, 400);
    let big = format!("GET /pods HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(70_000));
    let mut huge = Conn::open(s.addr, Some(&s.alice)).expect("connect");
    let _ = huge.write_all(big.as_bytes());
    assert_eq!(parse_reply(&huge.read_all()).status, 431);
}

#[test]
fn slow_clients_hold_only_their_own_connection() {
    let Some(s) = setup("api-slow", "") else { return };
    // One client that never finishes its handshake, one that never finishes its request.
    let _silent = TcpStream::connect(s.addr).expect("connect");
    let mut slow = Conn::open(s.addr, Some(&s.alice)).expect("connect");
    slow.write_all(b"GET /pods HTTP/1.1\r\nHost:").expect("partial");
    slow.flush().expect("flush");
    let started = Instant::now();
    let r = request(s.addr, Some(&s.alice), "GET", "/healthz", "").expect("healthz");
    assert_eq!(r.status, 200);
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    // The slow one is cut off after the request timeout (2 s here).
    let cut = Instant::now();
    let rest = slow.read_all();
    assert!(rest.is_empty() && cut.elapsed() < Duration::from_secs(10), "{rest:?} after {:?}", cut.elapsed());
}

#[test]
fn container_logs_stream_while_following() {
    let Some(s) = setup("api-logs", "") else { return };
    let whole = request(s.addr, Some(&s.alice), "GET", "/containerLogs/default/web/app?timestamps=true", "").expect("logs");
    assert_eq!((whole.status, whole.text().as_str()), (200, "2024-05-01T10:00:00.000000000Z first line\n"));
    assert_eq!(whole.header("Transfer-Encoding").as_deref(), Some("chunked"));

    let mut conn = Conn::open(s.addr, Some(&s.alice)).expect("connect");
    conn.write_all(b"GET /containerLogs/default/web/app?follow=true HTTP/1.1\r\nConnection: close\r\n\r\n").expect("send");
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("first line") {
        let n = conn.read(&mut buf).expect("read");
        assert!(n > 0, "closed early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    let mut f = std::fs::OpenOptions::new().append(true).open(s.p("0.log")).expect("open log");
    f.write_all(b"2024-05-01T10:00:01Z stderr F second line\n").expect("append");
    while !String::from_utf8_lossy(&seen).contains("second line") {
        let n = conn.read(&mut buf).expect("read");
        assert!(n > 0, "closed early");
        seen.extend_from_slice(&buf[..n]);
    }
    s.running.store(false, Ordering::SeqCst);
    seen.extend_from_slice(&conn.read_all());
    let reply = parse_reply(&seen);
    assert_eq!(reply.text(), "first line\nsecond line\n");
}

#[test]
fn exec_hands_the_connection_over() {
    let Some(s) = setup("api-upgrade", "") else { return };
    let mut conn = Conn::open(s.addr, Some(&s.alice)).expect("connect");
    // The first stream bytes travel with the request head.
    conn.write_all(b"POST /exec/default/web/app?command=sh HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nhello").expect("send");
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !got.ends_with(b"HELLO") {
        let n = conn.read(&mut buf).expect("read");
        assert!(n > 0, "closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"), "{}", String::from_utf8_lossy(&got));
    conn.write_all(b" again").expect("send");
    let n = conn.read(&mut buf).expect("read");
    assert_eq!(&buf[..n], b" AGAIN");
}

#[test]
fn tls_versions_and_certificate_reload() {
    let Some(s) = setup("api-tls", "VersionTLS13") else { return };
    let tls12 = client_config(&s.p("ca.crt"), None, &[&rustls::version::TLS12]);
    assert!(Conn::open(s.addr, Some(&tls12)).is_err(), "TLS 1.2 is refused with tlsMinVersion VersionTLS13");
    let served = |conn: &Conn| match conn {
        Conn::Tls(t) => t.conn.peer_certificates().and_then(|c| c.first().cloned()).map(|c| c.to_vec()),
        Conn::Plain(_) => None,
    };
    let before = served(&Conn::open(s.addr, Some(&s.alice)).expect("connect"));
    make_cert(&s.dir.0, "ca", "renewed", "/CN=node-1-renewed", true);
    std::fs::copy(s.p("renewed.key"), s.p("server.key")).expect("key");
    std::fs::copy(s.p("renewed.crt"), s.p("server.crt")).expect("cert");
    let after = served(&Conn::open(s.addr, Some(&s.alice)).expect("connect"));
    let renewed = std::fs::read(s.p("renewed.crt")).expect("read");
    let renewed = rustls::pki_types::pem::PemObject::from_pem_slice(&renewed).map(|c: rustls::pki_types::CertificateDer| c.to_vec()).ok();
    assert_ne!(before, after);
    assert_eq!(after, renewed, "the next handshake uses the renewed certificate");
}

#[test]
fn read_only_port_is_plain_and_read_only() {
    let running = Arc::new(AtomicBool::new(true));
    let router = Router::read_only(deps(Path::new("/nonexistent"), running));
    let addr = listener::spawn(ListenConfig::new("readonly", None), SocketAddr::from(([127, 0, 0, 1], 0)), Arc::new(router)).expect("listen");
    let pods = request(addr, None, "GET", "/pods", "").expect("pods");
    assert_eq!(pods.status, 200);
    assert!(pods.text().contains("\"kind\":\"PodList\""));
    let exec = request(addr, None, "POST", "/exec/default/web/app?command=sh", "").expect("exec");
    assert_eq!((exec.status, exec.text().as_str()), (405, "Debug endpoints are disabled.\n"));
    assert_eq!(request(addr, None, "GET", "/configz", "").expect("configz").status, 404);
    let metrics = request(addr, None, "GET", "/metrics", "").expect("metrics");
    assert!(metrics.text().contains("kubelet_http_requests_total{method=\"GET\",path=\"pods\",server_type=\"readonly\",long_running=\"false\"}"), "{}", metrics.text());
}
