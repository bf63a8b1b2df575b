//! How our HTTP/2 connection reacts to a peer that breaks the protocol or the message rules.

#![allow(clippy::unwrap_used)]

mod h2_support;

use h2_support::{Got, Peer, connected, spawn_request};
use rkubelet::h2::error::{ConnectionError, Malformed, ProtocolError};
use rkubelet::h2::frame::Frame;
use rkubelet::h2::{Config, Error, ErrorCode};

#[test]
fn protocol_violations_end_the_connection_with_goaway() {
    let cases: Vec<(Vec<u8>, ErrorCode)> = vec![
        // PUSH_PROMISE although we disabled push.
        (
            {
                let mut v = Vec::new();
                Frame::PushPromise {
                    stream_id: 1,
                    promised_id: 2,
                    fragment: b"\x82",
                    end_headers: true,
                    padding: None,
                }
                .encode(&mut v)
                .unwrap();
                v
            },
            ErrorCode::Protocol,
        ),
        // A DATA frame above our 16 KiB SETTINGS_MAX_FRAME_SIZE.
        (
            {
                let mut v = Vec::new();
                Frame::Data { stream_id: 1, data: &[0; 20_000], end_stream: false, padding: None }
                    .encode(&mut v)
                    .unwrap();
                v
            },
            ErrorCode::FrameSize,
        ),
        // A header block HPACK cannot decode (index 0).
        (
            {
                let mut v = Vec::new();
                let f = Frame::Headers {
                    stream_id: 1,
                    fragment: b"\x80",
                    end_stream: true,
                    end_headers: true,
                    priority: None,
                    padding: None,
                };
                f.encode(&mut v).unwrap();
                v
            },
            ErrorCode::Compression,
        ),
    ];
    for (bytes, code) in cases {
        let (conn, mut peer) = connected(vec![]);
        let call = spawn_request(&conn, "/x", vec![]);
        let _ = peer.recv_request();
        peer.send_raw(&bytes);
        match call.join().unwrap() {
            Err(Error::Connection(e)) => match &*e {
                ConnectionError::Protocol(p) => assert_eq!(p.code(), code, "{p}"),
                other => panic!("{other}"),
            },
            other => panic!("{other:?}"),
        }
        let goaway = loop {
            match peer.recv() {
                Got::GoAway { code, .. } => break code,
                Got::Closed | Got::Quiet => panic!("no GOAWAY for {code:?}: {:?}", peer.skipped),
                other => peer.skipped.push(other),
            }
        };
        assert_eq!(goaway, code);
    }
}

#[test]
fn first_frame_must_be_settings() {
    let (conn, mut peer) = Peer::pair(Config::default());
    peer.read_preface();
    peer.send(&Frame::Ping { ack: false, data: [0; 8] });
    let goaway = loop {
        match peer.recv() {
            Got::GoAway { code, .. } => break code,
            Got::Closed | Got::Quiet => panic!("no GOAWAY"),
            _ => {}
        }
    };
    assert_eq!(goaway, ErrorCode::Protocol);
    // The socket is shut down only after the connection is marked closed.
    while peer.recv() != Got::Closed {}
    let closed = conn.closed().expect("connection ended");
    assert!(matches!(&*closed, ConnectionError::Protocol(ProtocolError::MissingPreface)), "{closed}");
}

#[test]
fn malformed_response_resets_the_stream() {
    let (conn, mut peer) = connected(vec![]);
    let call = spawn_request(&conn, "/m", vec![]);
    let req = peer.recv_request();
    peer.send_data(req.stream_id, b"no headers first", false);
    match call.join().unwrap() {
        Err(Error::Malformed { what: Malformed::DataBeforeHeaders, .. }) => {}
        other => panic!("{other:?}"),
    }
    loop {
        match peer.recv() {
            Got::RstStream { code, .. } => {
                assert_eq!(code, ErrorCode::Protocol);
                break;
            }
            Got::Closed | Got::Quiet => panic!("no RST_STREAM"),
            _ => {}
        }
    }
}
