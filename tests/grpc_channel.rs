//! `grpc::Channel` against a scripted HTTP/2 peer listening on a unix socket path.

#![allow(clippy::unwrap_used)]

mod h2_support;

use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use h2_support::{Got, Peer, Request};
use rkubelet::grpc::{Channel, Code, Status, Unary};
use rkubelet::h2::ErrorCode;
use rkubelet::h2::frame::Frame;

struct Server {
    dir: PathBuf,
    listener: UnixListener,
}

impl Server {
    fn new(name: &str) -> Server {
        let dir = std::env::temp_dir().join(format!("rk-grpc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let listener = UnixListener::bind(dir.join("rt.sock")).unwrap();
        Server { dir, listener }
    }

    fn endpoint(&self) -> String {
        format!("unix://{}", self.dir.join("rt.sock").display())
    }

    /// Accepts one connection and completes the HTTP/2 handshake.
    fn accept(&self) -> Peer {
        let mut peer = Peer::accept(&self.listener);
        peer.handshake(vec![]);
        peer
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn call(
    ch: &Arc<Channel>,
    path: &'static str,
    timeout: Option<Duration>,
) -> thread::JoinHandle<Result<Vec<u8>, Status>> {
    let ch = ch.clone();
    thread::spawn(move || ch.unary(path, b"\x0a\x01x", timeout))
}

/// A call in flight: its server, channel, the peer that accepted it and the request it got.
struct InFlight {
    server: Server,
    ch: Arc<Channel>,
    call: thread::JoinHandle<Result<Vec<u8>, Status>>,
    peer: Peer,
    req: Request,
}

/// Starts `path` on a fresh channel and server and waits for the request to arrive.
fn begin(name: &str, path: &'static str, timeout: Option<Duration>) -> InFlight {
    begin_with(name, path, timeout, rkubelet::grpc::MAX_MESSAGE_SIZE)
}

fn begin_with(name: &str, path: &'static str, timeout: Option<Duration>, max_message: usize) -> InFlight {
    let server = Server::new(name);
    let ch = Arc::new(Channel::new(&server.endpoint()).unwrap().with_max_message_size(max_message));
    let call = call(&ch, path, timeout);
    let mut peer = server.accept();
    let req = peer.recv_request();
    InFlight { server, ch, call, peer, req }
}

#[test]
fn request_carries_grpc_headers_and_a_prefixed_message() {
    let InFlight { server: _server, ch: _ch, call: c, mut peer, req } =
        begin("headers", "/runtime.v1.RuntimeService/Version", Some(Duration::from_secs(120)));
    let names: Vec<String> =
        req.headers.iter().map(|h| String::from_utf8_lossy(&h.name).into_owned()).collect();
    assert_eq!(&names[..4], [":method", ":scheme", ":path", ":authority"]);
    assert_eq!(req.header(":method").as_deref(), Some("POST"));
    assert_eq!(req.header(":scheme").as_deref(), Some("http"));
    assert_eq!(req.header(":path").as_deref(), Some("/runtime.v1.RuntimeService/Version"));
    assert_eq!(req.header("content-type").as_deref(), Some("application/grpc"));
    assert_eq!(req.header("te").as_deref(), Some("trailers"));
    // Two minutes, less the moment the call took to get here: just under 120000m.
    let timeout = req.header("grpc-timeout").unwrap();
    assert!(timeout.ends_with('m') || timeout.ends_with('u'), "{timeout}");
    assert!(req.header("user-agent").unwrap().starts_with("rkubelet/"));
    assert_eq!(req.body, [0, 0, 0, 0, 3, 0x0a, 0x01, b'x']);
    peer.respond(req.stream_id, &[0, 0, 0, 0, 2, 0x0a, 0x00]);
    assert_eq!(c.join().unwrap(), Ok(vec![0x0a, 0x00]));
}

#[test]
fn trailers_only_error_is_decoded() {
    let InFlight { server: _server, ch: _ch, call: c, mut peer, req } =
        begin("trailers-only", "/runtime.v1.RuntimeService/Nope", None);
    assert_eq!(req.header("grpc-timeout"), None);
    let headers = [
        (":status", "200"),
        ("content-type", "application/grpc"),
        ("grpc-status", "12"),
        ("grpc-message", "unknown method Nope for service runtime.v1.RuntimeService%3A %22x%22"),
    ];
    peer.send_headers(req.stream_id, &headers, true, None);
    let e = c.join().unwrap().unwrap_err();
    assert_eq!(e.code, Code::Unimplemented);
    assert_eq!(e.message, "unknown method Nope for service runtime.v1.RuntimeService: \"x\"");
}

#[test]
fn compressed_response_is_rejected_clearly() {
    let InFlight { server: _server, ch: _ch, call: c, mut peer, req } = begin("compressed", "/x.Y/Z", None);
    peer.respond(req.stream_id, &[1, 0, 0, 0, 1, 0xff]);
    let e = c.join().unwrap().unwrap_err();
    assert_eq!(e.code, Code::Internal);
    assert!(e.message.contains("compressed"), "{e}");
}

#[test]
fn deadline_exceeded_locally_cancels_the_stream() {
    let started = Instant::now();
    let InFlight { server: _server, ch: _ch, call: c, mut peer, req } =
        begin("deadline", "/x.Y/Slow", Some(Duration::from_millis(300)));
    let e = c.join().unwrap().unwrap_err();
    assert_eq!(e.code, Code::DeadlineExceeded, "{e}");
    assert!(started.elapsed() < Duration::from_secs(3));
    loop {
        match peer.recv() {
            Got::RstStream { stream_id, code } => {
                assert_eq!((stream_id, code), (req.stream_id, ErrorCode::Cancel));
                break;
            }
            Got::Closed | Got::Quiet => panic!("no RST_STREAM(CANCEL)"),
            _ => {}
        }
    }
}

#[test]
fn broken_connection_fails_in_flight_calls_and_the_next_call_reconnects() {
    let InFlight { server, ch, call: c, peer, req: _ } =
        begin("restart", "/x.Y/A", Some(Duration::from_secs(10)));
    drop(peer); // the runtime "restarts"
    let e = c.join().unwrap().unwrap_err();
    assert_eq!(e.code, Code::Unavailable, "{e}");
    let c = call(&ch, "/x.Y/B", Some(Duration::from_secs(10)));
    let mut peer = server.accept();
    let req = peer.recv_request();
    assert_eq!(req.header(":path").as_deref(), Some("/x.Y/B"));
    assert_eq!(req.stream_id, 1, "a new connection starts at stream 1");
    peer.respond(req.stream_id, &[0, 0, 0, 0, 0]);
    assert_eq!(c.join().unwrap(), Ok(vec![]));
}

#[test]
fn goaway_refused_call_is_retried_on_a_new_connection() {
    let InFlight { server, ch: _ch, call: c, peer: mut first, req } =
        begin("goaway", "/x.Y/Retry", Some(Duration::from_secs(10)));
    first.send(&Frame::GoAway { last_stream_id: 0, code: ErrorCode::NoError, debug: b"shutting down" });
    let mut second = server.accept();
    let retried = second.recv_request();
    assert_eq!(retried.header(":path").as_deref(), Some("/x.Y/Retry"));
    assert_eq!(retried.body, req.body);
    second.respond(retried.stream_id, &[0, 0, 0, 0, 1, 42]);
    assert_eq!(c.join().unwrap(), Ok(vec![42]));
}

#[test]
fn http_error_without_grpc_status_maps_to_a_code() {
    let InFlight { server: _server, ch: _ch, call: c, mut peer, req } = begin("http-status", "/x.Y/Z", None);
    peer.send_headers(req.stream_id, &[(":status", "503"), ("content-type", "text/plain")], false, None);
    peer.send_data(req.stream_id, b"busy", true);
    assert_eq!(c.join().unwrap().unwrap_err().code, Code::Unavailable);
}

#[test]
fn oversized_response_is_resource_exhausted() {
    let InFlight { server: _server, ch: _ch, call: c, mut peer, req } =
        begin_with("big", "/x.Y/Big", None, 1000);
    peer.send_headers(
        req.stream_id,
        &[(":status", "200"), ("content-type", "application/grpc")],
        false,
        None,
    );
    peer.send_data(req.stream_id, &[0u8; 2000], false);
    assert_eq!(c.join().unwrap().unwrap_err().code, Code::ResourceExhausted);
}
