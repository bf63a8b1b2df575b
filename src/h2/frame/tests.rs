#![allow(clippy::unwrap_used)]

use super::*;
use crate::h2::error::ErrorCode;

fn encoded(frame: &Frame<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    frame.encode(&mut out).expect("encodes");
    out
}

fn one_of_each() -> Vec<Frame<'static>> {
    let prio = Priority { exclusive: true, dependency: 3, weight: 200 };
    vec![
        Frame::Data { stream_id: 1, data: b"hello", end_stream: true, padding: None },
        Frame::Data { stream_id: 3, data: b"", end_stream: false, padding: Some(4) },
        Frame::Headers {
            stream_id: 1,
            fragment: b"\x82\x86",
            end_stream: false,
            end_headers: true,
            priority: None,
            padding: None,
        },
        Frame::Headers {
            stream_id: 5,
            fragment: b"\x88",
            end_stream: true,
            end_headers: false,
            priority: Some(prio),
            padding: Some(2),
        },
        Frame::Priority { stream_id: 7, priority: prio },
        Frame::RstStream { stream_id: 1, code: ErrorCode::Cancel },
        Frame::Settings {
            ack: false,
            params: vec![
                Setting::HeaderTableSize(4096),
                Setting::EnablePush(false),
                Setting::MaxConcurrentStreams(100),
                Setting::InitialWindowSize(MAX_WINDOW),
                Setting::MaxFrameSize(MAX_FRAME_SIZE_LIMIT),
                Setting::MaxHeaderListSize(1 << 20),
                Setting::Unknown { id: 0x99, value: 7 },
            ],
        },
        Frame::Settings { ack: true, params: vec![] },
        Frame::PushPromise {
            stream_id: 1,
            promised_id: 2,
            fragment: b"\x82",
            end_headers: true,
            padding: Some(1),
        },
        Frame::Ping { ack: false, data: *b"12345678" },
        Frame::Ping { ack: true, data: [0xff; 8] },
        Frame::GoAway { last_stream_id: 9, code: ErrorCode::EnhanceYourCalm, debug: b"calm" },
        Frame::WindowUpdate { stream_id: 0, increment: MAX_WINDOW },
        Frame::WindowUpdate { stream_id: 3, increment: 1 },
        Frame::Continuation { stream_id: 5, fragment: b"\x84", end_headers: true },
        Frame::Unknown { kind: 0xee, flags: 0x3, stream_id: 11, payload: b"x" },
    ]
}

#[test]
fn every_type_round_trips() {
    for frame in one_of_each() {
        let bytes = encoded(&frame);
        let (back, used) = decode(&bytes, DEFAULT_MAX_FRAME_SIZE).expect("valid").expect("whole");
        assert_eq!(back, frame);
        assert_eq!(used, bytes.len());
    }
}

#[test]
fn every_prefix_needs_more_and_consumes_nothing() {
    let mut stream = Vec::new();
    for frame in one_of_each() {
        stream.extend(encoded(&frame));
    }
    // Walk the concatenation frame by frame; every strict prefix of the rest is "need more".
    let mut at = 0;
    let mut count = 0;
    while at < stream.len() {
        let rest = &stream[at..];
        let (_, used) = decode(rest, DEFAULT_MAX_FRAME_SIZE).expect("valid").expect("whole");
        for cut in 0..used {
            assert_eq!(decode(&rest[..cut], DEFAULT_MAX_FRAME_SIZE), Ok(None), "prefix {cut}");
        }
        at += used;
        count += 1;
    }
    assert_eq!(count, one_of_each().len());
}

#[test]
fn known_bytes_decode() {
    // A SETTINGS frame as a real server sends it: MAX_FRAME_SIZE=16384.
    let bytes = [0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0x40, 0];
    let (frame, used) = decode(&bytes, DEFAULT_MAX_FRAME_SIZE).unwrap().unwrap();
    assert_eq!(frame, Frame::Settings { ack: false, params: vec![Setting::MaxFrameSize(16384)] });
    assert_eq!(used, 15);
    // The reserved bit of the stream id is ignored.
    let bytes = [0, 0, 4, 8, 0, 0x80, 0, 0, 1, 0x80, 0, 0, 10];
    let (frame, _) = decode(&bytes, DEFAULT_MAX_FRAME_SIZE).unwrap().unwrap();
    assert_eq!(frame, Frame::WindowUpdate { stream_id: 1, increment: 10 });
}

fn err(bytes: &[u8]) -> FrameError {
    decode(bytes, DEFAULT_MAX_FRAME_SIZE).expect_err("must be rejected")
}

fn header(len: u32, kind: u8, flags: u8, stream: u32) -> Vec<u8> {
    let mut v = len.to_be_bytes()[1..].to_vec();
    v.extend([kind, flags]);
    v.extend(stream.to_be_bytes());
    v
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = header(u32::try_from(payload.len()).unwrap(), kind, flags, stream);
    v.extend_from_slice(payload);
    v
}

#[test]
fn oversized_frame_fails_once_the_header_is_in() {
    let e = err(&header(DEFAULT_MAX_FRAME_SIZE + 1, kind::DATA, 0, 1));
    assert_eq!(e.code(), ErrorCode::FrameSize);
    // A larger advertised maximum accepts it (and then wants the payload).
    assert_eq!(decode(&header(DEFAULT_MAX_FRAME_SIZE + 1, kind::DATA, 0, 1), 1 << 20), Ok(None));
}

#[test]
fn malformed_frames_map_to_the_right_codes() {
    use ErrorCode::*;
    let cases: Vec<(Vec<u8>, ErrorCode)> = vec![
        (frame(kind::DATA, 0, 0, b"x"), Protocol),
        (frame(kind::DATA, flags::PADDED, 1, &[1]), Protocol),
        (frame(kind::DATA, flags::PADDED, 1, &[]), Protocol),
        (frame(kind::HEADERS, 0, 0, b"\x82"), Protocol),
        (frame(kind::HEADERS, flags::PRIORITY, 1, &[0, 0, 0]), FrameSize),
        (frame(kind::HEADERS, flags::PRIORITY, 1, &[0, 0, 0, 1, 16]), Protocol),
        (frame(kind::HEADERS, flags::PADDED, 1, &[5, 0, 0]), Protocol),
        (frame(kind::PRIORITY, 0, 1, &[0, 0, 0, 3]), FrameSize),
        (frame(kind::PRIORITY, 0, 0, &[0, 0, 0, 3, 1]), Protocol),
        (frame(kind::RST_STREAM, 0, 1, &[0, 0, 8]), FrameSize),
        (frame(kind::RST_STREAM, 0, 0, &[0, 0, 0, 8]), Protocol),
        (frame(kind::SETTINGS, 0, 1, &[]), Protocol),
        (frame(kind::SETTINGS, flags::ACK, 0, &[0, 1, 0, 0, 0, 0]), FrameSize),
        (frame(kind::SETTINGS, 0, 0, &[0, 1, 0, 0, 0]), FrameSize),
        (frame(kind::SETTINGS, 0, 0, &[0, 2, 0, 0, 0, 2]), Protocol),
        (frame(kind::SETTINGS, 0, 0, &[0, 4, 0x80, 0, 0, 0]), FlowControl),
        (frame(kind::SETTINGS, 0, 0, &[0, 5, 0, 0, 0x3f, 0xff]), Protocol),
        (frame(kind::SETTINGS, 0, 0, &[0, 5, 1, 0, 0, 0]), Protocol),
        (frame(kind::PUSH_PROMISE, 0, 1, &[0, 0]), FrameSize),
        (frame(kind::PING, 0, 0, b"1234567"), FrameSize),
        (frame(kind::PING, 0, 1, b"12345678"), Protocol),
        (frame(kind::GOAWAY, 0, 0, &[0, 0, 0, 1, 0, 0, 0]), FrameSize),
        (frame(kind::GOAWAY, 0, 3, &[0; 8]), Protocol),
        (frame(kind::WINDOW_UPDATE, 0, 0, &[0, 0, 0]), FrameSize),
        (frame(kind::WINDOW_UPDATE, 0, 1, &[0x80, 0, 0, 0]), Protocol),
        (frame(kind::CONTINUATION, 0, 0, b""), Protocol),
    ];
    for (i, (bytes, code)) in cases.iter().enumerate() {
        let e = err(bytes);
        assert_eq!(e.code(), *code, "case {i}: {e}");
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn padding_is_stripped_and_counted() {
    // DATA "ab" with 3 bytes of padding.
    let bytes = frame(kind::DATA, flags::PADDED | flags::END_STREAM, 1, &[3, b'a', b'b', 0, 0, 0]);
    let (f, used) = decode(&bytes, DEFAULT_MAX_FRAME_SIZE).unwrap().unwrap();
    assert_eq!(f, Frame::Data { stream_id: 1, data: b"ab", end_stream: true, padding: Some(3) });
    assert_eq!(used, 15);
    // Padding that exactly fills the rest of the payload is allowed.
    let bytes = frame(kind::HEADERS, flags::PADDED, 1, &[2, 0, 0]);
    let (f, _) = decode(&bytes, DEFAULT_MAX_FRAME_SIZE).unwrap().unwrap();
    assert!(matches!(f, Frame::Headers { fragment: b"", padding: Some(2), .. }));
}

#[test]
fn encode_refuses_payloads_beyond_the_24_bit_length() {
    let big = vec![0u8; 1 << 24];
    let mut out = b"keep".to_vec();
    let e = Frame::Data { stream_id: 1, data: &big, end_stream: false, padding: None }
        .encode(&mut out)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::FrameSize);
    assert_eq!(out, b"keep");
}
