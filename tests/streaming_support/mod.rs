//! For the streaming tests: a stand-in kubelet server that reads a request head and hands the
//! connection to `streaming::Handler::serve`, and a small WebSocket client (RFC 6455: the
//! client handshake and masked frames), enough to speak `v4.channel.k8s.io`.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rkubelet::api::core::Pod;
use rkubelet::streaming::{Handler, RequestHead, StreamingRuntime, Target};

/// Serves every connection to the returned address with `handler`, one thread each, as the
/// kubelet server does once it has authenticated a request; `pods` finds a pod by namespace
/// and name.
pub fn serve<R, P>(handler: Handler<R>, pods: P) -> String
where
    R: StreamingRuntime + 'static,
    P: Fn(&str, &str) -> Option<Pod> + Send + Sync + 'static,
{
    let pods = Arc::new(pods);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handler = Arc::new(handler);
    thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let (handler, pods) = (Arc::clone(&handler), Arc::clone(&pods));
            thread::spawn(move || {
                let head = read_head(&mut conn);
                let pod = Target::parse(head.path()).and_then(|t| pods(&t.namespace, &t.pod));
                let served = handler.serve(&head, pod.as_ref(), &mut conn);
                println!("kubelet: {} {} -> {} {served:?}", head.method, head.target, served.status());
            });
        }
    });
    addr
}

/// Reads a request head byte by byte (so nothing after it is consumed).
fn read_head(conn: &mut TcpStream) -> RequestHead {
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        assert_eq!(conn.read(&mut byte).unwrap(), 1, "EOF in the request head");
        raw.push(byte[0]);
    }
    let text = String::from_utf8(raw).unwrap();
    let mut lines = text.split("\r\n");
    let mut request_line = lines.next().unwrap().split(' ');
    let (method, target) = (request_line.next().unwrap(), request_line.next().unwrap());
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    RequestHead {
        method: method.into(),
        target: target.into(),
        headers,
        peer: conn.peer_addr().ok().map(|a| a.ip()),
    }
}

pub const OP_TEXT: u8 = 1;
pub const OP_BINARY: u8 = 2;
pub const OP_CLOSE: u8 = 8;

/// A WebSocket client connection.
pub struct Ws {
    pub stream: TcpStream,
    /// The server's handshake response head.
    pub response: String,
}

impl Ws {
    /// Opens `target` on `addr` asking for `protocol`; panics unless the server switches.
    pub fn connect(addr: &str, target: &str, protocol: &str) -> Ws {
        let (status, response, stream) = Ws::handshake(addr, target, protocol);
        assert_eq!(status, 101, "handshake refused: {response}");
        Ws { stream, response }
    }

    /// The handshake's status, response head, and the stream after it.
    pub fn handshake(addr: &str, target: &str, protocol: &str) -> (u16, String, TcpStream) {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let key = base64(&nonce());
        write!(
            stream,
            "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: {protocol}\r\n\r\n"
        )
        .unwrap();
        let mut raw = Vec::new();
        let mut byte = [0u8; 1];
        while !raw.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).unwrap() == 0 {
                break;
            }
            raw.push(byte[0]);
        }
        let response = String::from_utf8_lossy(&raw).into_owned();
        let status = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        if status == 101 {
            let accept = format!("sec-websocket-accept: {}\r\n", accept_for(&key)).to_lowercase();
            assert!(response.to_lowercase().contains(&accept), "bad Sec-WebSocket-Accept: {response}");
        }
        (status, response, stream)
    }

    /// Sends one masked frame.
    pub fn send(&mut self, opcode: u8, payload: &[u8]) {
        let mut frame = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= 0xffff => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mask = nonce();
        frame.extend_from_slice(&mask[..4]);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).unwrap();
    }

    /// Sends `data` on a `v4.channel.k8s.io` channel.
    pub fn send_channel(&mut self, channel: u8, data: &[u8]) {
        let mut payload = vec![channel];
        payload.extend_from_slice(data);
        self.send(OP_BINARY, &payload);
    }

    /// The next frame as (opcode, payload); `None` at the end of the stream.
    pub fn recv(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut head = [0u8; 2];
        self.stream.read_exact(&mut head).ok()?;
        let len = match head[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                self.stream.read_exact(&mut b).ok()?;
                u64::from(u16::from_be_bytes(b))
            }
            127 => {
                let mut b = [0u8; 8];
                self.stream.read_exact(&mut b).ok()?;
                u64::from_be_bytes(b)
            }
            n => u64::from(n),
        };
        assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
        let mut payload = vec![0u8; usize::try_from(len).unwrap()];
        self.stream.read_exact(&mut payload).ok()?;
        Some((head[0] & 0x0f, payload))
    }

    /// Every `v4.channel.k8s.io` message until the server closes, as (channel, data), empty
    /// messages left out; stops early once `done` says so.
    pub fn channels_until(&mut self, mut done: impl FnMut(&[(u8, Vec<u8>)]) -> bool) -> Vec<(u8, Vec<u8>)> {
        let mut got = Vec::new();
        while let Some((opcode, payload)) = self.recv() {
            if opcode == OP_CLOSE {
                break;
            }
            if let Some((&channel, data)) = payload.split_first()
                && !data.is_empty()
            {
                got.push((channel, data.to_vec()));
            }
            if done(&got) {
                break;
            }
        }
        got
    }
}

/// Everything received on `channel`, joined.
pub fn channel_text(messages: &[(u8, Vec<u8>)], channel: u8) -> String {
    let bytes: Vec<u8> =
        messages.iter().filter(|(c, _)| *c == channel).flat_map(|(_, d)| d.clone()).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

fn nonce() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom").unwrap().read_exact(&mut bytes).unwrap();
    bytes
}

fn accept_for(key: &str) -> String {
    let input = format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, input.as_bytes()).as_ref())
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn base64_and_accept_match_rfc_6455() {
    assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(accept_for("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
