//! The client, watches and the reflector against a scripted HTTP/1.1 server on loopback:
//! what goes on the wire (method, path, headers, bodies) and how answers are handled
//! (errors, streams cut or held open, 410 Gone, cancellation). The real API server is in
//! `kubeclient_apiserver.rs`.

mod kubeclient_support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, unbounded};
use rkubelet::kubeclient::reflector;
use rkubelet::kubeclient::{
    Client, ClientOptions, DeleteOptions, ListOptions, PatchKind, PatchParams, Preconditions, ReflectorConfig,
    ReflectorEvent, ResourcePath, RestConfig, WatchEvent, WatchOptions,
};

use kubeclient_support::ConfigMap;

#[derive(Debug, Clone)]
struct Request {
    method: String,
    target: String,
    headers: BTreeMap<String, String>,
    body: Vec<u8>,
}

type Handler = dyn Fn(&Request, &mut TcpStream) -> bool + Send + Sync;

/// Serves each request with `handler` (which writes the whole response and says whether the
/// connection may be kept); every request is also sent to the returned receiver.
fn serve(handler: Arc<Handler>) -> (SocketAddr, Receiver<Request>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = unbounded();
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let (handler, tx) = (handler.clone(), tx.clone());
            thread::spawn(move || connection(conn, &*handler, &tx));
        }
    });
    (addr, rx)
}

fn connection(mut conn: TcpStream, handler: &Handler, tx: &Sender<Request>) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
        let mut headers = BTreeMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let req = Request { method, target, headers, body };
        let _ = tx.send(req.clone());
        if !handler(&req, &mut conn) {
            return;
        }
    }
}

fn respond(conn: &mut TcpStream, code: u16, body: &str) -> bool {
    let head = format!("HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len());
    conn.write_all(head.as_bytes()).and_then(|()| conn.write_all(body.as_bytes())).is_ok()
}

/// Starts a chunked streaming response; `chunk` writes one piece of it.
fn start_stream(conn: &mut TcpStream) -> bool {
    conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").is_ok()
}

fn chunk(conn: &mut TcpStream, data: &str) -> bool {
    conn.write_all(format!("{:x}\r\n{data}\r\n", data.len()).as_bytes()).and_then(|()| conn.flush()).is_ok()
}

fn end_stream(conn: &mut TcpStream) {
    let _ = conn.write_all(b"0\r\n\r\n");
}

fn client(addr: SocketAddr) -> Client {
    let mut rest = RestConfig::new(&format!("http://{addr}"));
    rest.token = Some("secret-token".into());
    let options = ClientOptions { timeout: Duration::from_secs(5), ..ClientOptions::default() };
    Client::new(&rest, options).expect("client")
}

fn cm_json(name: &str, rv: &str) -> String {
    format!(r#"{{"metadata":{{"name":"{name}","namespace":"d","resourceVersion":"{rv}"}},"data":{{"k":"{rv}"}}}}"#)
}

fn event(kind: &str, name: &str, rv: &str) -> String {
    format!("{{\"type\":\"{kind}\",\"object\":{}}}\n", cm_json(name, rv))
}

#[test]
fn calls_put_the_right_things_on_the_wire() {
    let handler: Arc<Handler> = Arc::new(|req, conn| match (req.method.as_str(), req.target.as_str()) {
        ("GET", "/api/v1/namespaces/d/configmaps/a") => respond(conn, 200, &cm_json("a", "1")),
        ("GET", "/api/v1/namespaces/d/configmaps/missing") => respond(
            conn,
            404,
            r#"{"kind":"Status","status":"Failure","message":"configmaps \"missing\" not found","reason":"NotFound","code":404}"#,
        ),
        ("GET", t) if t.starts_with("/api/v1/namespaces/d/configmaps?") => {
            respond(conn, 200, &format!(r#"{{"metadata":{{"resourceVersion":"7"}},"items":[{}]}}"#, cm_json("a", "1")))
        }
        ("POST" | "PUT" | "PATCH", _) => {
            respond(conn, if req.method == "POST" { 201 } else { 200 }, &cm_json("a", "2"))
        }
        ("DELETE", _) => respond(conn, 200, r#"{"kind":"Status","status":"Success"}"#),
        _ => respond(conn, 500, "unexpected"),
    });
    let (addr, requests) = serve(handler);
    let c = client(addr);
    let cms = ResourcePath::core("configmaps").namespace("d");

    let got: ConfigMap = c.get(&cms.clone().name("a")).expect("get");
    assert_eq!(got.metadata.name, "a");
    let req = requests.recv().expect("request");
    assert_eq!(req.headers.get("authorization").map(String::as_str), Some("Bearer secret-token"));
    assert_eq!(req.headers.get("accept").map(String::as_str), Some("application/json"));
    assert!(req.headers.get("user-agent").is_some_and(|ua| ua.starts_with("rkubelet/")), "{:?}", req.headers);

    let err = c.get::<ConfigMap>(&cms.clone().name("missing")).expect_err("404");
    assert!(err.is_not_found(), "{err}");
    requests.recv().expect("request");

    let opts = ListOptions { label_selector: Some("app=x".into()), limit: Some(10), ..Default::default() };
    let list = c.list::<ConfigMap>(&cms, &opts).expect("list");
    assert_eq!((list.metadata.resource_version.as_str(), list.items.len()), ("7", 1));
    assert_eq!(
        requests.recv().expect("request").target,
        "/api/v1/namespaces/d/configmaps?labelSelector=app%3Dx&limit=10"
    );

    let created = c.create(&cms, &got).expect("create");
    assert_eq!(created.metadata.resource_version.as_deref(), Some("2"));
    let req = requests.recv().expect("request");
    assert_eq!(
        (req.method.as_str(), req.headers.get("content-type").map(String::as_str)),
        ("POST", Some("application/json"))
    );
    assert_eq!(serde_json::from_slice::<ConfigMap>(&req.body).expect("body"), got);

    c.update(&cms.clone().name("a"), &got).expect("update");
    assert_eq!(requests.recv().expect("request").method, "PUT");

    let patch = serde_json::json!({"data": {"k": "patched"}});
    let _: ConfigMap =
        c.patch(&cms.clone().name("a"), PatchKind::Merge, &patch, &PatchParams::default()).expect("patch");
    let req = requests.recv().expect("request");
    assert_eq!(req.headers.get("content-type").map(String::as_str), Some("application/merge-patch+json"));
    let _: ConfigMap =
        c.patch(&cms.clone().name("a"), PatchKind::Apply, &patch, &PatchParams::apply("rkubelet")).expect("apply");
    let req = requests.recv().expect("request");
    assert_eq!(req.target, "/api/v1/namespaces/d/configmaps/a?fieldManager=rkubelet");
    assert_eq!(req.headers.get("content-type").map(String::as_str), Some("application/apply-patch+yaml"));
    let no_manager = c.patch::<ConfigMap>(&cms.clone().name("a"), PatchKind::Apply, &patch, &PatchParams::default());
    assert!(matches!(no_manager, Err(rkubelet::kubeclient::Error::InvalidRequest { .. })));

    let opts = DeleteOptions {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions { uid: Some("u-1".into()), resource_version: None }),
        propagation_policy: None,
    };
    c.delete(&ResourcePath::core("pods").namespace("d").name("p"), &opts).expect("delete");
    let req = requests.recv().expect("request");
    assert_eq!((req.method.as_str(), req.target.as_str()), ("DELETE", "/api/v1/namespaces/d/pods/p"));
    assert_eq!(
        std::str::from_utf8(&req.body).expect("utf8"),
        r#"{"gracePeriodSeconds":0,"preconditions":{"uid":"u-1"}}"#
    );

    let evict = serde_json::json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p"}});
    let _: serde_json::Value = c
        .post_subresource(&ResourcePath::core("pods").namespace("d").name("p").subresource("eviction"), &evict)
        .expect("evict");
    assert_eq!(requests.recv().expect("request").target, "/api/v1/namespaces/d/pods/p/eviction");

    let raw = c.raw("/api/v1/namespaces/d/configmaps/a").expect("raw");
    assert_eq!(raw, cm_json("a", "1").as_bytes());
}

#[test]
fn unreachable_server_is_a_transport_error() {
    let port = TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let c = client(SocketAddr::from(([127, 0, 0, 1], port)));
    let err = c.get::<ConfigMap>(&ResourcePath::core("configmaps").namespace("d").name("a")).expect_err("refused");
    assert!(matches!(err, rkubelet::kubeclient::Error::Transport { .. }), "{err:?}");
    assert!(err.is_transient());
}

#[test]
fn watch_streams_events_and_stops_promptly_when_cancelled() {
    let handler: Arc<Handler> = Arc::new(|req, conn| {
        assert!(req.target.contains("watch=1") && req.target.contains("resourceVersion=5"), "{}", req.target);
        assert!(req.target.contains("timeoutSeconds=") && req.target.contains("allowWatchBookmarks=true"));
        start_stream(conn);
        // One event split over two chunks, then a bookmark, then silence.
        let added = event("ADDED", "a", "6");
        let (head, tail) = added.split_at(10);
        chunk(conn, head);
        thread::sleep(Duration::from_millis(50));
        chunk(conn, tail);
        chunk(conn, "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"9\"}}}\n");
        thread::sleep(Duration::from_secs(30));
        false
    });
    let (addr, _requests) = serve(handler);
    let c = client(addr);
    let opts = WatchOptions { resource_version: Some("5".into()), allow_watch_bookmarks: true, ..Default::default() };
    let mut watch = c.watch::<ConfigMap>(&ResourcePath::core("configmaps").namespace("d"), &opts).expect("watch");
    match watch.next() {
        Some(Ok(WatchEvent::Added(cm))) => assert_eq!(cm.metadata.resource_version.as_deref(), Some("6")),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(watch.next().map(|e| e.ok()), Some(Some(WatchEvent::Bookmark { resource_version: "9".into() })));

    let canceller = watch.canceller();
    let started = Instant::now();
    let stopper = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200));
        canceller.cancel();
    });
    assert!(watch.next().is_none(), "a cancelled watch ends without an error");
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    stopper.join().expect("stopper");
}

/// The API server's side of a reflector test: a list at "0", a watch that sends events and
/// then ERROR 410, a list at "" (paged), and a second watch that stays open.
#[test]
fn reflector_lists_watches_relists_and_stops() {
    let lists = Arc::new(Mutex::new(0));
    let lists_seen = lists.clone();
    let handler: Arc<Handler> = Arc::new(move |req, conn| {
        let t = req.target.as_str();
        if !t.contains("watch=1") {
            let n = {
                let mut n = lists_seen.lock().expect("lock");
                *n += 1;
                *n
            };
            if n == 1 {
                assert!(t.contains("resourceVersion=0") && !t.contains("limit="), "{t}");
                return respond(
                    conn,
                    200,
                    &format!(r#"{{"metadata":{{"resourceVersion":"10"}},"items":[{}]}}"#, cm_json("a", "3")),
                );
            }
            // After a 410: most recent, paged.
            assert!(!t.contains("resourceVersion=") && t.contains("limit=500"), "{t}");
            if t.contains("continue=") {
                return respond(
                    conn,
                    200,
                    &format!(r#"{{"metadata":{{"resourceVersion":"30"}},"items":[{}]}}"#, cm_json("c", "25")),
                );
            }
            return respond(
                conn,
                200,
                &format!(
                    r#"{{"metadata":{{"resourceVersion":"30","continue":"next"}},"items":[{}]}}"#,
                    cm_json("b", "20")
                ),
            );
        }
        start_stream(conn);
        if t.contains("resourceVersion=10") {
            chunk(conn, &event("ADDED", "b", "11"));
            chunk(conn, &event("MODIFIED", "b", "12"));
            chunk(conn, &event("DELETED", "a", "13"));
            chunk(conn, "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"14\"}}}\n");
            end_stream(conn);
            return true;
        }
        if t.contains("resourceVersion=14") {
            chunk(
                conn,
                r#"{"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"too old resource version: 14 (20)","reason":"Expired","code":410}}"#,
            );
            end_stream(conn);
            return true;
        }
        assert!(t.contains("resourceVersion=30"), "{t}");
        thread::sleep(Duration::from_secs(30));
        false
    });
    let (addr, _requests) = serve(handler);
    let (tx, rx) = unbounded::<ReflectorEvent<ConfigMap>>();
    let config = ReflectorConfig::new("cm-test", ResourcePath::core("configmaps").namespace("d"));
    let handle = reflector::spawn(client(addr), config, tx).expect("spawn");

    let names = |items: &[ConfigMap]| items.iter().map(|c| c.metadata.name.clone()).collect::<Vec<_>>();
    let mut seen = Vec::new();
    for _ in 0..5 {
        let ev = rx.recv_timeout(Duration::from_secs(10)).expect("event");
        seen.push(match ev {
            ReflectorEvent::Snapshot(items) => format!("snapshot {:?}", names(&items)),
            ReflectorEvent::Added(c) => format!("added {}", c.metadata.name),
            ReflectorEvent::Modified(c) => format!("modified {}", c.metadata.name),
            ReflectorEvent::Deleted(c) => format!("deleted {}", c.metadata.name),
        });
    }
    assert_eq!(seen, [r#"snapshot ["a"]"#, "added b", "modified b", "deleted a", r#"snapshot ["b", "c"]"#]);
    assert_eq!(*lists.lock().expect("lock"), 3, "first list, then two pages");

    let started = Instant::now();
    handle.stop();
    assert!(started.elapsed() < Duration::from_secs(2), "stop took {:?}", started.elapsed());
}

#[test]
fn reflector_backs_off_when_the_server_fails() {
    let handler: Arc<Handler> =
        Arc::new(|_, conn| respond(conn, 500, r#"{"status":"Failure","reason":"InternalError","code":500}"#));
    let (addr, requests) = serve(handler);
    let (tx, _rx) = unbounded::<ReflectorEvent<ConfigMap>>();
    let config = ReflectorConfig::new("backoff", ResourcePath::core("configmaps"));
    let handle = reflector::spawn(client(addr), config, tx).expect("spawn");
    thread::sleep(Duration::from_millis(2500));
    let started = Instant::now();
    drop(handle); // dropping stops it too
    // 800 ms, then 1.6 s (+ jitter): at most three attempts in 2.5 s.
    let attempts = requests.try_iter().count();
    assert!((2..=3).contains(&attempts), "{attempts} attempts");
    thread::sleep(Duration::from_secs(2));
    assert_eq!(requests.try_iter().count(), 0, "no attempts after the handle is dropped");
    assert!(started.elapsed() < Duration::from_secs(3));
}
