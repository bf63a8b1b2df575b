//! Frame layouts as SPDY/3 (draft-mbelshe-httpbis-spdy-00, section 2.2) lays them out. The
//! SYN_STREAM vectors were checked once against moby/spdystream's framer (the runtime side).
#![allow(clippy::unwrap_used)]

use super::*;

/// The first SYN_STREAM of a session: stream 1, `streamtype: error`.
pub(crate) const SYN_STREAM_1: &[u8] = &[
    0x80, 0x03, 0x00, 0x01, // control, version 3, SYN_STREAM
    0x00, 0x00, 0x00, 0x35, // flags 0, length 53
    0x00, 0x00, 0x00, 0x01, // stream 1
    0x00, 0x00, 0x00, 0x00, // no associated stream
    0x00, 0x00, // priority, slot
    0x78, 0xbb, 0xe3, 0xc6, 0xa7, 0xc2, // zlib header with the dictionary's Adler-32
    0x00, 0x1b, 0x00, 0xe4, 0xff, // stored block of 27 bytes
    0x00, 0x00, 0x00, 0x01, // one header
    0x00, 0x00, 0x00, 0x0a, b's', b't', b'r', b'e', b'a', b'm', b't', b'y', b'p', b'e', //
    0x00, 0x00, 0x00, 0x05, b'e', b'r', b'r', b'o', b'r', //
    0x00, 0x00, 0x00, 0xff, 0xff, // sync flush: an empty stored block
];

#[test]
fn syn_streams_carry_stored_zlib_blocks() {
    let mut w = Writer::default();
    assert_eq!(w.syn_stream(1, &[("streamType", "error")]), SYN_STREAM_1);
    // Later header blocks continue the same zlib stream: no zlib header again.
    let second = w.syn_stream(3, &[("streamType", "stdin")]);
    assert_eq!(&second[..8], &[0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2f]);
    assert_eq!(&second[8..12], &[0, 0, 0, 3]);
    assert_eq!(&second[18..23], &[0x00, 0x1b, 0x00, 0xe4, 0xff]);
    assert_eq!(&second[second.len() - 10..second.len() - 5], b"stdin");
}

#[test]
fn data_frames_and_fin() {
    assert_eq!(data_frames(3, b"hi", false), [0, 0, 0, 3, 0, 0, 0, 2, b'h', b'i']);
    assert_eq!(data_frames(3, b"", true), [0, 0, 0, 3, FLAG_FIN, 0, 0, 0]);
    let big = vec![7u8; MAX_PAYLOAD + 1];
    let frames = data_frames(5, &big, true);
    assert_eq!(frames.len(), big.len() + 16);
    assert_eq!(&frames[..8], &[0, 0, 0, 5, 0, 0xff, 0xff, 0xff]);
    let second = 8 + MAX_PAYLOAD;
    assert_eq!(&frames[second..second + 8], &[0, 0, 0, 5, FLAG_FIN, 0, 0, 1]);
}

#[test]
fn server_frames_parse() {
    // SYN_REPLY for stream 3 (its compressed header block is not looked at), DATA with FIN,
    // a PING, a GOAWAY.
    let mut bytes = vec![0x80, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x06, 0, 0, 0, 3, 0xaa, 0xbb];
    bytes.extend_from_slice(&[0, 0, 0, 5, FLAG_FIN, 0, 0, 3, b'o', b'u', b't']);
    bytes.extend_from_slice(&ping(2));
    bytes.extend_from_slice(&[0x80, 0x03, 0x00, 0x07, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0]);
    let mut input = bytes.as_slice();
    let mut frames = Vec::new();
    while let Some(f) = read_frame(&mut input).unwrap() {
        frames.push(f);
    }
    assert_eq!(
        frames,
        vec![
            Frame::Control { kind: TYPE_SYN_REPLY, flags: 0, stream_id: Some(3) },
            Frame::Data { stream_id: 5, fin: true, data: b"out".to_vec() },
            Frame::Control { kind: TYPE_PING, flags: 0, stream_id: Some(2) },
            Frame::Control { kind: TYPE_GOAWAY, flags: 0, stream_id: None },
        ]
    );
}

#[test]
fn bad_server_frames_are_errors() {
    let spdy2 = [0x80, 0x02, 0x00, 0x02, 0, 0, 0, 0];
    assert!(matches!(read_frame(&mut &spdy2[..]), Err(SpdyError::Version(2))));
    let cut = [0, 0, 0, 1, 0, 0, 0, 9, b'x'];
    assert!(matches!(read_frame(&mut &cut[..]), Err(SpdyError::Io(_))));
    assert!(matches!(read_frame(&mut &cut[..3]), Err(SpdyError::Io(_))));
    assert!(read_frame(&mut &[][..]).unwrap().is_none());
}
