//! The port-forward tunnel against an in-process fake runtime that echoes the tunnelled bytes.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::*;
use crate::streaming::proxy_tests::{accept_request, client_pair, head};

fn tunnel_head() -> RequestHead {
    head(
        "GET",
        "/portForward/ns/pod",
        &[
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Protocol", "SPDY/3.1+portforward.k8s.io, v4.channel.k8s.io"),
            ("Authorization", "Bearer x"),
        ],
    )
}

#[test]
fn the_runtime_gets_a_plain_spdy_upgrade() {
    assert_eq!(tunnelled_protocols(&tunnel_head()), ["portforward.k8s.io"]);
    let url = RuntimeUrl::parse("http://127.0.0.1:9/portforward/T").unwrap();
    let request =
        String::from_utf8(spdy_request(&tunnel_head(), &["portforward.k8s.io".into()], &url)).unwrap();
    assert_eq!(
        request,
        "POST /portforward/T HTTP/1.1\r\nHost: 127.0.0.1:9\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\
         X-Stream-Protocol-Version: portforward.k8s.io\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n"
    );
}

#[test]
fn tunnelled_bytes_go_both_ways() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/portforward/T", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (stream, mut reader, request) = accept_request(&listener);
        tx.send(request).unwrap();
        let mut out = stream;
        out.write_all(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\nspdy-hello").unwrap();
        let mut buf = [0u8; 5];
        reader.read_exact(&mut buf).unwrap();
        out.write_all(&buf).unwrap();
    });
    let (mut api, kubelet) = client_pair();
    let cfg = ProxyConfig {
        idle_timeout: Some(Duration::from_secs(30)),
        handshake_timeout: Duration::from_secs(5),
    };
    let session = thread::spawn(move || {
        let mut kubelet = kubelet;
        tunnel(&mut kubelet, &tunnel_head(), &url, &cfg)
    });
    // A masked binary message with the tunnelled bytes "frame".
    api.write_all(&[0x82, 0x85, 0, 0, 0, 0, b'f', b'r', b'a', b'm', b'e']).unwrap();
    let mut got = Vec::new();
    api.read_to_end(&mut got).unwrap();
    let text = String::from_utf8_lossy(&got);
    let switch = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
                  Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n\r\n";
    assert!(text.starts_with(switch), "{text}");
    let mut frames = got[switch.len()..].to_vec();
    // The runtime's bytes as binary messages (however its writes were cut), then a close.
    let close = websocket::close_frame(1000);
    assert!(frames.ends_with(&close), "{frames:?}");
    frames.truncate(frames.len() - close.len());
    let mut payload = Vec::new();
    let mut rest = frames.as_slice();
    while !rest.is_empty() {
        assert_eq!(rest[0], 0x82);
        let len = usize::from(rest[1]);
        payload.extend_from_slice(&rest[2..2 + len]);
        rest = &rest[2 + len..];
    }
    assert_eq!(payload, b"spdy-helloframe");
    assert!(matches!(session.join().unwrap().unwrap(), Proxied::Upgraded(_)));
    assert!(rx.recv().unwrap().contains("X-Stream-Protocol-Version: portforward.k8s.io\r\n"));
}
