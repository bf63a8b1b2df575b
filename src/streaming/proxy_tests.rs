//! The heads, and the proxy against an in-process fake runtime streaming server.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::head::*;
use super::proxy::*;
use super::relay::RelayEnd;

pub(super) fn head(method: &str, target: &str, headers: &[(&str, &str)]) -> RequestHead {
    RequestHead {
        method: method.into(),
        target: target.into(),
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        peer: Some("192.0.2.7".parse().unwrap()),
    }
}

pub(super) fn spdy_head() -> RequestHead {
    let headers = [
        ("Host", "node:10250"),
        ("Connection", "Upgrade"),
        ("Upgrade", "SPDY/3.1"),
        ("X-Stream-Protocol-Version", "v4.channel.k8s.io"),
        ("X-Stream-Protocol-Version", "v3.channel.k8s.io"),
        ("Authorization", "Bearer secret"),
        ("X-Forwarded-For", "10.0.0.1"),
    ];
    head("POST", "/exec/ns/pod/c?command=sh&input=1&output=1", &headers)
}

#[test]
fn backend_request_rewrites_host_and_forwarding_and_drops_credentials() {
    let url = RuntimeUrl::parse("http://127.0.0.1:38211/exec/Ab_Cd?x=1").unwrap();
    let req = String::from_utf8(spdy_head().backend_request(&url)).unwrap();
    assert_eq!(
        req,
        "POST /exec/Ab_Cd?x=1 HTTP/1.1\r\nHost: 127.0.0.1:38211\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\
         X-Stream-Protocol-Version: v4.channel.k8s.io\r\nX-Stream-Protocol-Version: v3.channel.k8s.io\r\n\
         X-Forwarded-For: 10.0.0.1, 192.0.2.7\r\n\r\n"
    );
    // A header that could smuggle a second request is not passed on.
    let mut h = head("GET", "/x", &[("X-Evil", "a\r\nHost: b"), ("Bad Name", "v"), ("Ok", "v")]);
    h.peer = None;
    let req = String::from_utf8(h.backend_request(&url)).unwrap();
    assert_eq!(req, "GET /exec/Ab_Cd?x=1 HTTP/1.1\r\nHost: 127.0.0.1:38211\r\nOk: v\r\n\r\n");
}

#[test]
fn runtime_urls() {
    let u = RuntimeUrl::parse("http://127.0.0.1:1234/portforward/tok").unwrap();
    assert_eq!((u.host.as_str(), u.port, u.authority.as_str()), ("127.0.0.1", 1234, "127.0.0.1:1234"));
    assert_eq!(u.path_and_query, "/portforward/tok");
    let u = RuntimeUrl::parse("HTTP://[::1]:99/a#frag").unwrap();
    assert_eq!((u.host.as_str(), u.port, u.path_and_query.as_str()), ("::1", 99, "/a"));
    let u = RuntimeUrl::parse("http://localhost?q=1").unwrap();
    assert_eq!((u.host.as_str(), u.port, u.path_and_query.as_str()), ("localhost", 80, "/?q=1"));
    let u = RuntimeUrl::parse("http://[fe80::1]").unwrap();
    assert_eq!((u.host.as_str(), u.port), ("fe80::1", 80));
    for bad in [
        "https://127.0.0.1:1/x",
        "127.0.0.1:1/x",
        "http:///x",
        "http://a:b/x",
        "http://u@h/x",
        "http://h:1/a b",
        "http://h:99999/",
        "",
    ] {
        assert!(RuntimeUrl::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn response_head_needs_every_byte_and_rejects_garbage() {
    let full = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nContent-Length: 5\r\n\r\nextra";
    let head_len = full.len() - 5;
    for cut in 0..head_len {
        assert_eq!(parse_response_head(&full[..cut]), Ok(None), "prefix {cut}");
    }
    let h = parse_response_head(full).unwrap().unwrap();
    assert_eq!((h.status, h.content_length, h.len), (101, Some(5), head_len));
    assert!(parse_response_head(b"SSH-2.0-x\r\n\r\n").is_err());
    assert!(parse_response_head(b"HTTP/1.1 1x1 Nope\r\n\r\n").is_err());
    assert!(parse_response_head(b"HTTP/2 200\r\n\r\n").is_err());
    assert!(parse_response_head(&vec![b'a'; MAX_HEAD + 1]).is_err());
    let h = parse_response_head(b"HTTP/1.0 404 Not Found\r\ncontent-length : x\r\n\r\n").unwrap().unwrap();
    assert_eq!((h.status, h.content_length), (404, None));
}

#[test]
fn error_responses_are_plain_text_and_close() {
    let r = String::from_utf8(error_response(400, "nope", &[("Retry-After", "60".into())])).unwrap();
    assert_eq!(
        r,
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n\
         Retry-After: 60\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope"
    );
}

/// What the fake runtime does once it has read a request head.
#[derive(Clone, Copy)]
pub(super) enum Fake {
    /// 101 (with `early` bytes in the same write), echo until EOF, then "bye" and close.
    Echo { early: &'static str },
    /// 101 to a WebSocket upgrade (RFC 6455's sample handshake, `channel.k8s.io`) with
    /// [`WS_OUTPUT`] in the same write, then echo until EOF.
    WebSocket,
    /// 101, then silence until the client goes.
    Silent,
    /// This whole response, then close.
    Answer(&'static str),
    /// Close without answering.
    Hangup,
}

/// A fake runtime's first connection: the stream, a reader over it past the request head
/// (empty if the client closed before its end), and the head.
pub(super) fn accept_request(listener: &TcpListener) -> (TcpStream, BufReader<TcpStream>, String) {
    let (stream, _) = listener.accept().unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    while !head.ends_with("\r\n\r\n") {
        if reader.read_line(&mut head).unwrap() == 0 {
            break;
        }
    }
    (stream, reader, head)
}

/// A one-connection fake runtime streaming server: its URL, and the request head it got.
pub(super) fn fake_runtime(behaviour: Fake) -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/exec/TOKEN", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (stream, mut reader, head) = accept_request(&listener);
        tx.send(head).unwrap();
        let mut out = stream;
        match behaviour {
            Fake::Echo { early } => {
                let head = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\
                            X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n";
                out.write_all(format!("{head}{early}").as_bytes()).unwrap();
                let _ = std::io::copy(&mut reader, &mut out);
                out.write_all(b"bye").unwrap();
            }
            Fake::WebSocket => {
                out.write_all(WS_SWITCH.as_bytes()).unwrap();
                out.write_all(WS_OUTPUT).unwrap();
                let _ = std::io::copy(&mut reader, &mut out);
            }
            Fake::Silent => {
                out.write_all(b"HTTP/1.1 101 Switching Protocols\r\n\r\n").unwrap();
                let _ = std::io::copy(&mut reader, &mut std::io::sink());
            }
            Fake::Answer(response) => out.write_all(response.as_bytes()).unwrap(),
            Fake::Hangup => {}
        }
    });
    (url, rx)
}

/// RFC 6455 section 1.3's sample: the accept value of the key `dGhlIHNhbXBsZSBub25jZQ==`.
const WS_SWITCH: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
                         Sec-WebSocket-Protocol: channel.k8s.io\r\n\r\n";
/// An unmasked binary frame on channel 1 (stdout): "hi".
const WS_OUTPUT: &[u8] = &[0x82, 0x03, 0x01, b'h', b'i'];

/// A connected pair: the API server's end, and the kubelet's end the proxy gets.
pub(super) fn client_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let api = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (kubelet, _) = listener.accept().unwrap();
    api.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    (api, kubelet)
}

fn cfg(idle: Option<Duration>) -> ProxyConfig {
    ProxyConfig { idle_timeout: idle, handshake_timeout: Duration::from_secs(5) }
}

/// Runs the proxy on its own thread over the kubelet's end.
fn spawn_proxy<C: super::Conn + Send + 'static>(
    mut conn: C,
    head: RequestHead,
    url: String,
    cfg: ProxyConfig,
) -> thread::JoinHandle<Result<Proxied, super::StreamError>> {
    thread::spawn(move || proxy_upgrade(&mut conn, &head, &url, &cfg))
}

fn read_until(stream: &mut TcpStream, needle: &str) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !String::from_utf8_lossy(&got).contains(needle) {
        assert_eq!(
            stream.read(&mut byte).unwrap(),
            1,
            "EOF before {needle:?}; got {:?}",
            String::from_utf8_lossy(&got)
        );
        got.push(byte[0]);
    }
    String::from_utf8(got).unwrap()
}

#[test]
fn upgrade_relays_both_ways_and_half_closes() {
    let (url, seen) = fake_runtime(Fake::Echo { early: "early" });
    let (mut api, kubelet) = client_pair();
    let proxy = spawn_proxy(kubelet, spdy_head(), url, cfg(Some(Duration::from_secs(30))));
    let response = read_until(&mut api, "early");
    assert!(response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "{response}");
    assert!(response.contains("X-Stream-Protocol-Version: v4.channel.k8s.io\r\n"), "{response}");
    api.write_all(b"hello").unwrap();
    assert_eq!(read_until(&mut api, "hello"), "hello");
    // stdin EOF: the runtime sees it, answers, and only then the session ends.
    api.shutdown(Shutdown::Write).unwrap();
    let mut rest = String::new();
    api.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "bye");
    let Proxied::Upgraded(stats) = proxy.join().unwrap().unwrap() else { panic!("not upgraded") };
    assert!(matches!(stats.end, RelayEnd::RuntimeClosed), "{:?}", stats.end);
    assert_eq!(stats.up, 5);
    // The echo and "bye"; "early" too if it came after the read that completed the head.
    assert!(matches!(stats.down, 8 | 13), "{}", stats.down);
    let request = seen.recv().unwrap();
    assert!(request.starts_with("POST /exec/TOKEN HTTP/1.1\r\nHost: 127.0.0.1:"), "{request}");
    assert!(request.contains("Upgrade: SPDY/3.1\r\n") && !request.contains("Authorization"), "{request}");
}

/// What the API server forwards for the conformance spec "remote command execution over
/// websockets": a WebSocket upgrade with an old `channel.k8s.io` subprotocol. It reaches the
/// runtime with its WebSocket fields as sent, and the runtime's handshake and frames reach the
/// client byte for byte: we never look inside.
#[test]
fn websocket_upgrades_pass_through_unchanged() {
    let (url, seen) = fake_runtime(Fake::WebSocket);
    let (mut api, kubelet) = client_pair();
    let ws = head(
        "GET",
        "/exec/ns/pod/main?command=echo&command=remote+execution+test&error=1&output=1",
        &[
            ("Host", "node:10250"),
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Protocol", "channel.k8s.io"),
            ("Origin", "http://localhost"),
        ],
    );
    let proxy = spawn_proxy(kubelet, ws, url, cfg(None));
    let mut got = vec![0u8; WS_SWITCH.len() + WS_OUTPUT.len()];
    api.read_exact(&mut got).unwrap();
    assert_eq!(&got[..WS_SWITCH.len()], WS_SWITCH.as_bytes());
    assert_eq!(&got[WS_SWITCH.len()..], WS_OUTPUT);
    // A masked client frame (stdin "x", mask 37 fa 21 3d) comes back from the echo as sent.
    let frame = [0x82, 0x82, 0x37, 0xfa, 0x21, 0x3d, 0x37, 0x82];
    api.write_all(&frame).unwrap();
    api.shutdown(Shutdown::Write).unwrap();
    let mut echoed = Vec::new();
    api.read_to_end(&mut echoed).unwrap();
    assert_eq!(echoed, frame);
    let Proxied::Upgraded(stats) = proxy.join().unwrap().unwrap() else { panic!("not upgraded") };
    assert_eq!(stats.up, 8);
    let request = seen.recv().unwrap();
    assert_eq!(
        request.split_once("\r\n").unwrap().0,
        "GET /exec/TOKEN HTTP/1.1",
        "the runtime URL's path, not the client's"
    );
    for field in [
        "Connection: Upgrade\r\n",
        "Upgrade: websocket\r\n",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
        "Sec-WebSocket-Version: 13\r\n",
        "Sec-WebSocket-Protocol: channel.k8s.io\r\n",
        "Origin: http://localhost\r\n",
    ] {
        assert!(request.contains(field), "{field:?} not in {request}");
    }
}

#[test]
fn idle_sessions_are_closed() {
    let (url, _seen) = fake_runtime(Fake::Silent);
    let (mut api, kubelet) = client_pair();
    let t = Instant::now();
    let proxy = spawn_proxy(kubelet, spdy_head(), url, cfg(Some(Duration::from_millis(300))));
    read_until(&mut api, "\r\n\r\n");
    // Traffic resets the clock.
    thread::sleep(Duration::from_millis(200));
    api.write_all(b"x").unwrap();
    let Proxied::Upgraded(stats) = proxy.join().unwrap().unwrap() else { panic!("not upgraded") };
    assert!(matches!(stats.end, RelayEnd::IdleTimeout), "{:?}", stats.end);
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(500) && took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn runtime_errors_pass_through_and_odd_answers_fail() {
    let refusal = "HTTP/1.1 400 Bad Request\r\nContent-Length: 12\r\n\r\nbad protocol";
    let (url, _seen) = fake_runtime(Fake::Answer(refusal));
    let (mut api, kubelet) = client_pair();
    let proxied = spawn_proxy(kubelet, spdy_head(), url, cfg(None)).join().unwrap().unwrap();
    assert!(matches!(proxied, Proxied::Refused { status: 400 }), "{proxied:?}");
    let mut got = String::new();
    api.read_to_string(&mut got).unwrap();
    assert_eq!(got, refusal);

    let (url, _seen) = fake_runtime(Fake::Answer("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    let (_api, kubelet) = client_pair();
    let err = spawn_proxy(kubelet, spdy_head(), url, cfg(None)).join().unwrap().unwrap_err();
    assert_eq!((err.status(), err.to_string()), (500, "invalid upgrade response: status code 200".into()));

    let (url, _seen) = fake_runtime(Fake::Hangup);
    let (_api, kubelet) = client_pair();
    let err = spawn_proxy(kubelet, spdy_head(), url, cfg(None)).join().unwrap().unwrap_err();
    assert!(matches!(err, super::StreamError::BadResponse { .. }), "{err}");
}

#[test]
fn non_upgrades_and_unreachable_runtimes_fail_before_any_byte() {
    let (_api, mut kubelet) = client_pair();
    let plain = head("GET", "/exec/a/b/c", &[("Connection", "keep-alive")]);
    let err = proxy_upgrade(&mut kubelet, &plain, "http://127.0.0.1:1/x", &cfg(None)).unwrap_err();
    assert_eq!(
        String::from_utf8(err.response()).unwrap(),
        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n\
         X-Content-Type-Options: nosniff\r\nContent-Length: 25\r\nConnection: close\r\n\r\nUpgrade request required\n"
    );
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let err =
        proxy_upgrade(&mut kubelet, &spdy_head(), &format!("http://{closed}/x"), &cfg(None)).unwrap_err();
    assert!(err.to_string().starts_with(&format!("error dialing backend: dial tcp {closed}: ")), "{err}");
    let err = proxy_upgrade(&mut kubelet, &spdy_head(), "https://127.0.0.1:1/x", &cfg(None)).unwrap_err();
    assert_eq!(err.status(), 500);
}

/// A client stream that, like TLS, holds bytes its socket no longer shows: it reads big
/// chunks from the socket and hands them out a few bytes at a time.
struct Hoarding {
    tcp: TcpStream,
    held: Vec<u8>,
}

impl Read for Hoarding {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.held.is_empty() {
            let mut chunk = vec![0u8; 256 * 1024];
            let n = self.tcp.read(&mut chunk)?;
            self.held.extend_from_slice(&chunk[..n]);
            if n == 0 {
                return Ok(0);
            }
        }
        let n = buf.len().min(7).min(self.held.len());
        buf[..n].copy_from_slice(&self.held[..n]);
        self.held.drain(..n);
        Ok(n)
    }
}

impl Write for Hoarding {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tcp.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl AsFd for Hoarding {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.tcp.as_fd()
    }
}

#[test]
fn megabytes_both_ways_through_a_hoarding_client() {
    let (url, _seen) = fake_runtime(Fake::Echo { early: "" });
    let (mut api, kubelet) = client_pair();
    let proxy = spawn_proxy(Hoarding { tcp: kubelet, held: Vec::new() }, spdy_head(), url, cfg(None));
    read_until(&mut api, "\r\n\r\n");
    let payload: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let mut writer = api.try_clone().unwrap();
    let sent = payload.clone();
    let sender = thread::spawn(move || {
        writer.write_all(&sent).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut got = Vec::new();
    api.read_to_end(&mut got).unwrap();
    sender.join().unwrap();
    assert_eq!(got.len(), payload.len() + 3);
    assert!(got[..payload.len()] == payload[..], "echoed bytes differ");
    assert_eq!(&got[payload.len()..], b"bye");
    let Proxied::Upgraded(stats) = proxy.join().unwrap().unwrap() else { panic!("not upgraded") };
    assert_eq!(stats.up, u64::try_from(payload.len()).unwrap());
}
