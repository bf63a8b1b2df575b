//! Our HTTP/2 connection against a scripted in-process peer over a socket pair.

#![allow(clippy::unwrap_used)]

mod h2_support;

use std::thread;
use std::time::{Duration, Instant};

use h2_support::{Got, Peer, connected, opts, req_headers, spawn_request};
use rkubelet::h2::error::{ConnectionError, Refusal};
use rkubelet::h2::frame::{Frame, Setting};
use rkubelet::h2::{Config, Error, ErrorCode, RequestOptions};

#[test]
fn settings_are_exchanged_and_acknowledged() {
    let (_conn, mut peer) = Peer::pair(Config::default());
    let client = peer.handshake(vec![Setting::MaxFrameSize(32_768)]);
    assert!(client.contains(&Setting::EnablePush(false)));
    assert!(client.contains(&Setting::InitialWindowSize(4 << 20)));
    // The connection window is opened to 16 MiB right after SETTINGS.
    assert_eq!(peer.recv(), Got::WindowUpdate { stream_id: 0, increment: (16 << 20) - 65_535 });
    assert_eq!(peer.recv(), Got::Settings { ack: true, params: vec![] });
}

#[test]
fn request_and_response_with_continuations() {
    let (conn, mut peer) = connected(vec![]);
    let call = spawn_request(&conn, "/svc/Method", b"hello".to_vec());
    let req = peer.recv_request();
    assert_eq!(req.stream_id, 1);
    assert_eq!(req.header(":path").as_deref(), Some("/svc/Method"));
    assert_eq!(req.body, b"hello");
    // Headers and trailers both split into 7-byte fragments.
    let big = "x".repeat(300);
    let headers = [(":status", "200"), ("content-type", "application/grpc"), ("x-big", big.as_str())];
    peer.send_headers(1, &headers, false, Some(7));
    peer.send_data(1, b"world", false);
    peer.send_headers(1, &[("grpc-status", "0"), ("grpc-message", big.as_str())], true, Some(7));
    let resp = call.join().unwrap().unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("x-big"), Some(big.as_bytes()));
    assert_eq!(resp.body, b"world");
    assert_eq!(resp.trailer("grpc-status"), Some(&b"0"[..]));
    assert_eq!(resp.trailer("grpc-message"), Some(big.as_bytes()));
}

#[test]
fn sender_waits_for_window_updates() {
    // Stream window 100: 1000 bytes need two more WINDOW_UPDATEs of 450.
    let (conn, mut peer) = connected(vec![Setting::InitialWindowSize(100)]);
    let body: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    let call = spawn_request(&conn, "/flow", body.clone());
    let mut got = Vec::new();
    let mut expect_quiet_at = vec![100, 550];
    let mut quiet_rounds = 0;
    let mut granted = 100;
    peer.set_read_timeout(Duration::from_millis(300));
    loop {
        match peer.recv() {
            Got::Data { data, end_stream, .. } => {
                got.extend(data);
                assert!(got.len() <= granted, "sent {} bytes with a window of {granted}", got.len());
                if end_stream {
                    break;
                }
            }
            Got::Quiet => {
                // Blocked exactly at the window edge; open it a bit more. (Quiet before the
                // edge is a slow machine; it fails only if it persists.)
                quiet_rounds += 1;
                assert!(quiet_rounds < 30, "stalled at {} bytes", got.len());
                if Some(got.len()) == expect_quiet_at.first().copied() {
                    expect_quiet_at.remove(0);
                    peer.send(&Frame::WindowUpdate { stream_id: 1, increment: 450 });
                    granted += 450;
                }
            }
            Got::Closed => panic!("closed"),
            _ => {}
        }
    }
    assert!(expect_quiet_at.is_empty());
    assert_eq!(got, body);
    peer.respond(1, b"ok");
    assert_eq!(call.join().unwrap().unwrap().body, b"ok");
}

#[test]
fn connection_window_limits_all_streams() {
    // Stream windows are large, but the connection window stays at 65,535 until updated.
    let (conn, mut peer) = connected(vec![Setting::InitialWindowSize(1 << 20)]);
    let call = spawn_request(&conn, "/big", vec![7u8; 100_000]);
    peer.set_read_timeout(Duration::from_millis(300));
    let mut received = 0;
    let mut quiet_rounds = 0;
    let mut conn_window = 65_535;
    loop {
        match peer.recv() {
            Got::Data { data, end_stream, .. } => {
                assert!(data.len() <= 16_384, "frame larger than the peer's max frame size");
                received += data.len();
                assert!(received <= conn_window, "sent {received} bytes with a window of {conn_window}");
                if end_stream {
                    break;
                }
            }
            Got::Quiet => {
                quiet_rounds += 1;
                assert!(quiet_rounds < 30, "stalled at {received} bytes");
                if received == 65_535 {
                    peer.send(&Frame::WindowUpdate { stream_id: 0, increment: 100_000 });
                    conn_window += 100_000;
                }
            }
            Got::Closed => panic!("closed"),
            _ => {}
        }
    }
    assert_eq!(received, 100_000);
    peer.respond(1, b"");
    call.join().unwrap().unwrap();
}

#[test]
fn receiver_sends_window_updates_as_it_consumes() {
    // Small receive windows: the peer may send 200 KB only if we keep acknowledging.
    let config = Config { initial_window_size: 20_000, connection_window: 65_535, ..Config::default() };
    let (conn, mut peer) = Peer::pair(config);
    peer.handshake(vec![]);
    let call = spawn_request(&conn, "/download", vec![]);
    let req = peer.recv_request();
    peer.send_headers(req.stream_id, &[(":status", "200")], false, None);
    let total = 200_000;
    let (mut conn_window, mut stream_window, mut sent) = (65_535i64, 20_000i64, 0usize);
    while sent < total {
        let n = (total - sent).min(16_384).min(conn_window.min(stream_window).max(0) as usize);
        if n == 0 {
            match peer.recv() {
                Got::WindowUpdate { stream_id: 0, increment } => conn_window += i64::from(increment),
                Got::WindowUpdate { increment, .. } => stream_window += i64::from(increment),
                Got::Quiet | Got::Closed => panic!("client stopped acknowledging after {sent} bytes"),
                _ => {}
            }
            continue;
        }
        peer.send_data(req.stream_id, &vec![1u8; n], false);
        sent += n;
        conn_window -= n as i64;
        stream_window -= n as i64;
    }
    peer.send_data(req.stream_id, b"", true);
    assert_eq!(call.join().unwrap().unwrap().body.len(), total);
}

#[test]
fn ping_is_answered() {
    let (_conn, mut peer) = connected(vec![]);
    peer.send(&Frame::Ping { ack: false, data: *b"rk-ping!" });
    loop {
        match peer.recv() {
            Got::Ping { ack, data } => {
                assert!(ack);
                assert_eq!(&data, b"rk-ping!");
                break;
            }
            Got::Closed | Got::Quiet => panic!("no PING ack"),
            _ => {}
        }
    }
}

#[test]
fn reset_mid_call_fails_that_call_only() {
    let (conn, mut peer) = connected(vec![]);
    let call = spawn_request(&conn, "/reset", vec![]);
    let req = peer.recv_request();
    peer.send_headers(req.stream_id, &[(":status", "200")], false, None);
    peer.send(&Frame::RstStream { stream_id: req.stream_id, code: ErrorCode::Internal });
    match call.join().unwrap() {
        Err(Error::StreamReset { stream_id: 1, code: ErrorCode::Internal }) => {}
        other => panic!("{other:?}"),
    }
    // REFUSED_STREAM means "not processed": retriable.
    let call = spawn_request(&conn, "/refused", vec![]);
    let req = peer.recv_request();
    peer.send(&Frame::RstStream { stream_id: req.stream_id, code: ErrorCode::RefusedStream });
    assert!(call.join().unwrap().unwrap_err().is_refused());
    // The connection still works.
    let call = spawn_request(&conn, "/after", vec![]);
    let req = peer.recv_request();
    assert_eq!(req.stream_id, 5);
    peer.respond(5, b"fine");
    assert_eq!(call.join().unwrap().unwrap().body, b"fine");
}

#[test]
fn goaway_finishes_streams_up_to_last_id_and_refuses_the_rest() {
    let (conn, mut peer) = connected(vec![]);
    let calls: Vec<_> = (0..3).map(|i| spawn_request(&conn, &format!("/{i}"), vec![i])).collect();
    let mut reqs = peer.recv_requests(3);
    reqs.sort_by_key(|r| r.stream_id);
    assert_eq!(reqs.iter().map(|r| r.stream_id).collect::<Vec<_>>(), [1, 3, 5]);
    peer.send(&Frame::GoAway { last_stream_id: 3, code: ErrorCode::NoError, debug: b"restarting" });
    for r in &reqs[..2] {
        let body = r.body.clone();
        peer.respond(r.stream_id, &body);
    }
    let mut outcomes: Vec<Result<Vec<u8>, Error>> =
        calls.into_iter().map(|c| c.join().unwrap().map(|r| r.body)).collect();
    outcomes.sort_by_key(|o| format!("{o:?}"));
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, Err(Error::Refused(Refusal::GoAway { stream_id: 5, last_stream_id: 3 }))))
        .count();
    assert_eq!(refused, 1, "{outcomes:?}");
    let ok: Vec<&Vec<u8>> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(ok.len(), 2, "{outcomes:?}");
    assert!(!conn.accepts_new_streams());
    let e = conn.request(&req_headers("/new"), b"", &opts()).unwrap_err();
    assert!(matches!(e, Error::Refused(Refusal::NotAccepting)), "{e:?}");
}

#[test]
fn peer_closing_fails_calls_in_flight() {
    let (conn, mut peer) = connected(vec![]);
    let call = spawn_request(&conn, "/hang", vec![]);
    let _ = peer.recv_request();
    drop(peer);
    match call.join().unwrap() {
        // EOF on read, or EPIPE if our SETTINGS ack raced the close.
        Err(Error::Connection(e)) => {
            assert!(matches!(*e, ConnectionError::Closed | ConnectionError::Io { .. }), "{e}")
        }
        other => panic!("{other:?}"),
    }
    assert!(!conn.accepts_new_streams());
}

#[test]
fn deadline_cancels_the_stream() {
    let (conn, mut peer) = connected(vec![]);
    let started = Instant::now();
    let o = RequestOptions { deadline: Some(started + Duration::from_millis(200)), max_body: 1024 };
    let e = conn.request(&req_headers("/slow"), b"", &o).unwrap_err();
    assert!(matches!(e, Error::Timeout), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    let req = peer.recv_request();
    loop {
        match peer.recv() {
            Got::RstStream { stream_id, code } => {
                assert_eq!((stream_id, code), (req.stream_id, ErrorCode::Cancel));
                break;
            }
            Got::Closed | Got::Quiet => panic!("no RST_STREAM"),
            _ => {}
        }
    }
    // A late response to the cancelled stream is ignored; the next call works.
    peer.respond(req.stream_id, b"late");
    let call = spawn_request(&conn, "/next", vec![]);
    let req = peer.recv_request();
    peer.respond(req.stream_id, b"next");
    assert_eq!(call.join().unwrap().unwrap().body, b"next");
}

#[test]
fn max_concurrent_streams_is_respected() {
    let (conn, mut peer) = connected(vec![Setting::MaxConcurrentStreams(1)]);
    let first = spawn_request(&conn, "/one", vec![]);
    let r1 = peer.recv_request();
    let second = spawn_request(&conn, "/two", vec![]);
    peer.set_read_timeout(Duration::from_millis(300));
    // The second stream must not open while the first is active.
    loop {
        match peer.recv() {
            Got::Quiet => break,
            Got::Headers { .. } => panic!("second stream opened beyond MAX_CONCURRENT_STREAMS"),
            _ => {}
        }
    }
    peer.respond(r1.stream_id, b"1");
    assert_eq!(first.join().unwrap().unwrap().body, b"1");
    peer.set_read_timeout(Duration::from_secs(10));
    let r2 = peer.recv_request();
    assert_eq!(r2.stream_id, 3);
    peer.respond(r2.stream_id, b"2");
    assert_eq!(second.join().unwrap().unwrap().body, b"2");
}

#[test]
fn eight_threads_share_one_connection() {
    let (conn, mut peer) = connected(vec![]);
    let per_thread = 10;
    let threads: Vec<_> = (0..8u8)
        .map(|t| {
            let conn = conn.clone();
            thread::spawn(move || {
                for i in 0..per_thread {
                    let body = vec![t, i];
                    let resp = conn.request(&req_headers("/echo"), &body, &opts()).unwrap();
                    assert_eq!(resp.body, body, "thread {t} got someone else's response");
                }
            })
        })
        .collect();
    let server = thread::spawn(move || {
        // Collect whatever is in flight, then answer newest first, so responses interleave.
        peer.set_read_timeout(Duration::from_millis(20));
        let mut ids = Vec::new();
        while ids.len() < 80 {
            let mut batch = Vec::new();
            while let Some(r) = peer.next_request() {
                batch.push(r);
                if batch.len() == 8 {
                    break;
                }
            }
            for r in batch.iter().rev() {
                ids.push(r.stream_id);
                peer.respond(r.stream_id, &r.body);
            }
        }
        ids
    });
    for t in threads {
        t.join().unwrap();
    }
    let mut ids = server.join().unwrap();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 80);
    assert!(ids.iter().all(|id| id % 2 == 1));
}
