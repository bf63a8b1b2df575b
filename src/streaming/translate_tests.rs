//! The translation against an in-process fake SPDY runtime: the streams it is asked to open,
//! stdin and its close, output channels, the exit status, and the end of the session.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::*;
use crate::streaming::proxy_tests::{accept_request, client_pair, head};
use crate::streaming::websocket::{OP_BINARY, Reader};

const STATUS: &str = r#"{"metadata":{},"status":"Success"}"#;

/// What the fake runtime saw: the request head, the IDs of the streams it was asked to open
/// (in order), and the stdin it got before stdin's FIN.
type Seen = (String, Vec<String>, Vec<u8>);

/// A fake runtime: 101 to an SPDY upgrade, a SYN_REPLY to each SYN_STREAM, then "out:" and
/// stdin echoed on stdout once stdin is finished, the status on the error stream, and close.
fn fake_spdy_runtime(streams: usize) -> (String, mpsc::Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/exec/TOKEN", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (stream, mut reader, request) = accept_request(&listener);
        let mut out = stream;
        out.write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\n\r\n").unwrap();
        let mut types = Vec::new();
        let mut stdin = Vec::new();
        loop {
            match spdy::read_frame(&mut reader).unwrap() {
                Some(Frame::Control { kind: spdy::TYPE_SYN_STREAM, stream_id: Some(id), .. }) => {
                    types.push(id);
                    let mut reply = vec![0x80, 0x03, 0x00, 0x02, 0, 0, 0, 6];
                    reply.extend_from_slice(&id.to_be_bytes());
                    reply.extend_from_slice(&[0xde, 0xad]);
                    out.write_all(&reply).unwrap();
                }
                Some(Frame::Data { stream_id: 3, fin, data }) => {
                    stdin.extend_from_slice(&data);
                    if fin {
                        break;
                    }
                }
                Some(_) => {}
                None => panic!("the kubelet closed before stdin's FIN"),
            }
        }
        assert_eq!(types.len(), streams);
        let mut echo = b"out:".to_vec();
        echo.extend_from_slice(&stdin);
        out.write_all(&spdy::data_frames(5, &echo, true)).unwrap();
        out.write_all(&spdy::data_frames(1, STATUS.as_bytes(), true)).unwrap();
        let types = types.iter().map(|id| id.to_string()).collect();
        tx.send((request, types, stdin)).unwrap();
    });
    (url, rx)
}

fn ws_head() -> RequestHead {
    head(
        "GET",
        "/exec/ns/pod/c?command=cat&input=1&output=1&error=1",
        &[
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Protocol", "v5.channel.k8s.io, v4.channel.k8s.io"),
        ],
    )
}

/// A masked client frame (zero mask).
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = websocket::frame(opcode, payload);
    out[1] |= 0x80;
    out.splice(2..2, [0u8; 4]);
    out
}

fn flags() -> StreamFlags {
    StreamFlags { stdin: true, stdout: true, stderr: true, tty: false }
}

#[test]
fn v5_requests_are_recognised() {
    assert!(wants_translation(&ws_head()));
    let v4 = head(
        "GET",
        "/",
        &[
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Protocol", "v4.channel.k8s.io"),
        ],
    );
    assert!(!wants_translation(&v4));
    let spdy = head(
        "GET",
        "/",
        &[("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1"), ("Sec-WebSocket-Protocol", V5_PROTOCOL)],
    );
    assert!(!wants_translation(&spdy));
}

#[test]
fn streams_follow_the_flags_in_client_go_order() {
    assert_eq!(stream_plan(flags()), vec![(3, "error"), (0, "stdin"), (1, "stdout"), (2, "stderr")]);
    let tty = StreamFlags { stdin: true, stdout: true, stderr: false, tty: true };
    assert_eq!(stream_plan(tty), vec![(3, "error"), (0, "stdin"), (1, "stdout"), (4, "resize")]);
    let channels = Channels::new(&stream_plan(tty));
    assert_eq!((channels.stream(3), channels.stream(0), channels.stream(4)), (Some(1), Some(3), Some(7)));
    assert_eq!((channels.channel(5), channels.channel(9)), (Some(1), None));
}

#[test]
fn a_v5_session_translates_both_ways() {
    let (url, seen) = fake_spdy_runtime(4);
    let (mut api, kubelet) = client_pair();
    let cfg = ProxyConfig {
        idle_timeout: Some(Duration::from_secs(30)),
        handshake_timeout: Duration::from_secs(5),
    };
    let session = thread::spawn(move || {
        let mut kubelet = kubelet;
        translate(&mut kubelet, &ws_head(), &url, flags(), &cfg)
    });
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8];
        api.read_exact(&mut byte).unwrap();
        response.push(byte[0]);
    }
    let response = String::from_utf8(response).unwrap();
    assert!(response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"), "{response}");
    assert!(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), "{response}");
    assert!(response.contains("Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n"), "{response}");

    // stdin in two messages, a ping, a message on a channel the runtime has no stream for,
    // then v5's close of stdin.
    let mut input = client_frame(OP_BINARY, b"\x00abc");
    input.extend(client_frame(websocket::OP_PING, b"p"));
    input.extend(client_frame(OP_BINARY, b"\x00def"));
    input.extend(client_frame(OP_BINARY, b"\x04{}"));
    input.extend(client_frame(OP_BINARY, &[CLOSE_CHANNEL, 0]));
    api.write_all(&input).unwrap();

    let mut reader = Reader::default();
    let mut messages = Vec::new();
    let mut server_bytes = Vec::new();
    api.read_to_end(&mut server_bytes).unwrap();
    // Server frames are unmasked: set the mask bit with a zero mask so our reader takes them.
    let mut rest = server_bytes.as_slice();
    let mut masked = Vec::new();
    while rest.len() >= 2 {
        let len = usize::from(rest[1] & 0x7f);
        assert!(len < 126, "short frames only in this test");
        masked.extend(client_frame(rest[0] & 0x0f, &rest[2..2 + len]));
        rest = &rest[2 + len..];
    }
    let mut input = masked.as_slice();
    while let Some(m) = reader.next(&mut input).unwrap() {
        messages.push(m);
    }
    assert_eq!(
        messages,
        vec![
            Message::Pong(b"p".to_vec()),
            Message::Binary(b"\x01out:abcdef".to_vec()),
            Message::Binary([b"\x03".as_slice(), STATUS.as_bytes()].concat()),
            Message::Close(vec![0x03, 0xe8]),
        ]
    );
    let Proxied::Upgraded(_) = session.join().unwrap().unwrap() else { panic!("not upgraded") };
    let (request, types, stdin) = seen.recv().unwrap();
    assert!(request.starts_with("POST /exec/TOKEN HTTP/1.1\r\n"), "{request}");
    assert!(
        request.contains("Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n"),
        "{request}"
    );
    assert_eq!(types, ["1", "3", "5", "7"]);
    assert_eq!(stdin, b"abcdef");
}

#[test]
fn handshake_errors_and_runtime_refusals() {
    let (_api, mut kubelet) = client_pair();
    let cfg = ProxyConfig::default();
    let mut no_key = ws_head();
    no_key.headers.retain(|(n, _)| n != "Sec-WebSocket-Key");
    let err = translate(&mut kubelet, &no_key, "http://127.0.0.1:1/x", flags(), &cfg).unwrap_err();
    assert_eq!((err.status(), err.to_string()), (400, "websocket handshake: no Sec-WebSocket-Key".into()));

    // The runtime's refusal reaches the client as it came.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/exec/T", listener.local_addr().unwrap());
    thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf).unwrap();
        s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\ngone").unwrap();
    });
    let (mut api, mut kubelet) = client_pair();
    let proxied = translate(&mut kubelet, &ws_head(), &url, flags(), &cfg).unwrap();
    assert!(matches!(proxied, Proxied::Refused { status: 404 }), "{proxied:?}");
    drop(kubelet);
    let mut got = String::new();
    api.read_to_string(&mut got).unwrap();
    assert!(got.starts_with("HTTP/1.1 404 Not Found\r\n") && got.ends_with("gone"), "{got}");
}
