//! The HTTP source against a tiny_http server on loopback: a Pod, a List, errors that keep
//! the previous set, headers, and the `rk-src-http` thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, unbounded};
use rkubelet::api::core::Pod;
use rkubelet::source::http::{self, HttpConfig, HttpDeps, HttpSourceError, UrlReader};
use rkubelet::source::static_pod::ManifestError;
use rkubelet::source::{Source, SourceUpdate};

const POD: &str = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
  "spec":{"containers":[{"name":"c","image":"busybox:1.35"}]}}"#;

const LIST: &str = "apiVersion: v1\nkind: List\nitems:\n\
  - {apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: [{name: c, image: busybox:1.35}]}}\n\
  - {apiVersion: v1, kind: Pod, metadata: {name: b}, spec: {containers: [{name: c, image: busybox:1.35}]}}\n";

/// A loopback server answering every request with the current `(status, body)`, and
/// recording the `X-Token` header of each request.
struct Server {
    url: String,
    reply: Arc<Mutex<(u16, String)>>,
    tokens: Arc<Mutex<Vec<Option<String>>>>,
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(status: u16, body: &str) -> Server {
        let server = tiny_http::Server::http("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = server.server_addr().to_ip().expect("an IP address");
        let reply = Arc::new(Mutex::new((status, body.to_string())));
        let tokens = Arc::new(Mutex::new(Vec::new()));
        let done = Arc::new(AtomicBool::new(false));
        let (r, t, d) = (reply.clone(), tokens.clone(), done.clone());
        let thread = std::thread::spawn(move || {
            while !d.load(Ordering::Relaxed) {
                let Ok(Some(request)) = server.recv_timeout(Duration::from_millis(50)) else {
                    continue;
                };
                let token = request
                    .headers()
                    .iter()
                    .find(|h| h.field.equiv("X-Token"))
                    .map(|h| h.value.as_str().to_string());
                t.lock().expect("tokens").push(token);
                let (status, body) = r.lock().expect("reply").clone();
                let response = tiny_http::Response::from_string(body).with_status_code(status);
                let _ = request.respond(response);
            }
        });
        Server {
            url: format!("http://{addr}/pods"),
            reply,
            tokens,
            done,
            thread: Some(thread),
        }
    }

    fn set(&self, status: u16, body: &str) {
        *self.reply.lock().expect("reply") = (status, body.to_string());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn config(url: &str, check_frequency: Duration) -> HttpConfig {
    HttpConfig {
        url: url.to_string(),
        headers: vec![("X-Token".to_string(), "secret".to_string())],
        node_name: "Edge-1".to_string(),
        check_frequency,
    }
}

fn names(pods: &[Pod]) -> Vec<&str> {
    pods.iter().map(|p| p.metadata.name()).collect()
}

#[test]
fn reader_follows_upstream_rules() {
    let server = Server::start(200, POD);
    let mut reader = UrlReader::new(&config(&server.url, Duration::from_secs(20)));

    let pods = reader.poll().expect("a pod").expect("a new set");
    assert_eq!(names(&pods), ["web-edge-1"]);
    let pod = &pods[0];
    assert_eq!(
        pod.metadata.annotation("kubernetes.io/config.source"),
        Some("http")
    );
    assert_eq!(pod.metadata.uid().len(), 32);
    assert_eq!(
        server.tokens.lock().expect("tokens")[0].as_deref(),
        Some("secret"),
        "headers sent"
    );

    assert!(
        reader.poll().expect("same body").is_none(),
        "an unchanged body sends nothing"
    );

    server.set(200, LIST);
    let pods = reader.poll().expect("a list").expect("a new set");
    assert_eq!(names(&pods), ["a-edge-1", "b-edge-1"]);

    server.set(500, "oops");
    match reader.poll() {
        Err(HttpSourceError::Status { code: 500, url }) => assert_eq!(url, server.url),
        other => panic!("want a status error, got {other:?}"),
    }
    server.set(404, "");
    assert!(matches!(
        reader.poll(),
        Err(HttpSourceError::Status { code: 404, .. })
    ));

    server.set(200, "{this is not json");
    match reader.poll() {
        Err(e @ HttpSourceError::Manifest(ManifestError::Decode(_))) => {
            assert!(
                e.to_string()
                    .contains(&format!("static pod URL {}", server.url)),
                "{e}"
            );
        }
        other => panic!("want a decode error, got {other:?}"),
    }
    let first = reader.poll().expect_err("garbage").to_string();
    let again = reader.poll().expect_err("the same garbage").to_string();
    assert_eq!(
        first, again,
        "the same bad body gives the same error (logged once)"
    );

    // The list again after errors: a new set (the mux sees no change from the last good one).
    server.set(200, LIST);
    assert_eq!(reader.poll().expect("list").map(|p| p.len()), Some(2));

    server.set(200, "");
    assert!(matches!(reader.poll(), Err(HttpSourceError::Empty { .. })));
}

#[test]
fn unreachable_url_is_a_request_error() {
    // Bind and drop to find a port that refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let url = format!("http://127.0.0.1:{port}/pods");
    let mut reader = UrlReader::new(&config(&url, Duration::from_secs(20)));
    match reader.poll() {
        Err(e @ HttpSourceError::Request { .. }) => assert!(e.to_string().contains(&url), "{e}"),
        other => panic!("want a request error, got {other:?}"),
    }
}

#[test]
fn https_uses_rustls_and_reports_handshake_failures() {
    // A peer that answers the ClientHello with plain text: the handshake must fail cleanly.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let peer = std::thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            use std::io::Write;
            let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\nnot TLS");
        }
    });
    let url = format!("https://{addr}/pods");
    let mut reader = UrlReader::new(&config(&url, Duration::from_secs(20)));
    match reader.poll() {
        Err(e @ HttpSourceError::Request { .. }) => assert!(e.to_string().contains(&url), "{e}"),
        other => panic!("want a TLS error, got {other:?}"),
    }
    let _ = peer.join();
}

fn recv_within(rx: &Receiver<SourceUpdate>, wait: Duration) -> Option<Vec<Pod>> {
    rx.recv_timeout(wait).ok().map(|u| {
        assert_eq!(u.source, Source::Http);
        u.pods
    })
}

#[test]
fn thread_polls_and_keeps_the_set_on_errors() {
    let server = Server::start(200, POD);
    let (tx, rx) = unbounded();
    let source = http::spawn(
        config(&server.url, Duration::from_millis(50)),
        HttpDeps { updates: tx },
    )
    .expect("spawn rk-src-http");
    let second = Duration::from_secs(5);
    assert_eq!(
        recv_within(&rx, second).map(|p| p.len()),
        Some(1),
        "the pod"
    );

    // Errors send nothing: the previous set stands. Several polls happen meanwhile.
    for (status, body) in [
        (500, "oops"),
        (200, "garbage: ["),
        (200, "{\"kind\":\"Secret\",\"apiVersion\":\"v1\"}"),
    ] {
        server.set(status, body);
        let polls = server.tokens.lock().expect("tokens").len();
        let deadline = Instant::now() + second;
        while server.tokens.lock().expect("tokens").len() < polls + 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(
            recv_within(&rx, Duration::ZERO),
            None,
            "{status} {body}: nothing sent"
        );
    }

    server.set(200, LIST);
    let pods = recv_within(&rx, second).expect("the list");
    assert_eq!(names(&pods), ["a-edge-1", "b-edge-1"]);

    server.set(200, "");
    assert_eq!(
        recv_within(&rx, second),
        Some(vec![]),
        "an empty body is an empty set"
    );

    let started = Instant::now();
    source.stop();
    assert!(started.elapsed() < Duration::from_secs(2), "stop is prompt");
}
