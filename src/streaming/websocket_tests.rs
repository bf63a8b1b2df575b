//! Byte vectors from RFC 6455 (sections 1.3 and 5.7) and the edge cases around them.
#![allow(clippy::unwrap_used)]

use super::*;

fn read_all(bytes: &[u8]) -> Result<Vec<Message>, FrameError> {
    let mut input = bytes;
    let mut reader = Reader::default();
    let mut out = Vec::new();
    while let Some(m) = reader.next(&mut input)? {
        out.push(m);
    }
    Ok(out)
}

/// The RFC's masked "Hello" (mask 37 fa 21 3d).
const MASKED_HELLO: [u8; 11] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];

#[test]
fn accept_value_of_the_rfc_sample_key() {
    assert_eq!(accept_value("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

#[test]
fn rfc_frames_decode() {
    assert_eq!(read_all(&MASKED_HELLO).unwrap(), vec![Message::Text(b"Hello".to_vec())]);
    // A masked pong with the same body, then a masked ping with an empty one.
    let mut pong = MASKED_HELLO;
    pong[0] = 0x8a;
    assert_eq!(read_all(&pong).unwrap(), vec![Message::Pong(b"Hello".to_vec())]);
    let ping = [0x89, 0x80, 1, 2, 3, 4];
    assert_eq!(read_all(&ping).unwrap(), vec![Message::Ping(Vec::new())]);
}

#[test]
fn fragments_join_around_control_frames() {
    // "Hel" then "lo" (zero masks), with a ping between the fragments.
    let bytes = [
        0x01, 0x83, 0, 0, 0, 0, b'H', b'e', b'l', //
        0x89, 0x81, 0, 0, 0, 0, b'p', //
        0x80, 0x82, 0, 0, 0, 0, b'l', b'o',
    ];
    assert_eq!(
        read_all(&bytes).unwrap(),
        vec![Message::Ping(b"p".to_vec()), Message::Text(b"Hello".to_vec())]
    );
}

#[test]
fn extended_lengths_decode() {
    for len in [125usize, 126, 256, 65535, 65536] {
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut bytes = frame(OP_BINARY, &payload);
        // Make it a client frame: set the mask bit and insert a zero mask after the length.
        bytes[1] |= 0x80;
        let header_len = match len {
            0..=125 => 2,
            126..=65535 => 4,
            _ => 10,
        };
        bytes.splice(header_len..header_len, [0u8; 4]);
        assert_eq!(read_all(&bytes).unwrap(), vec![Message::Binary(payload)], "{len}");
    }
}

#[test]
fn server_frames_are_unmasked_with_the_shortest_length() {
    // The RFC's unmasked "Hello".
    assert_eq!(frame(OP_TEXT, b"Hello"), [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    // 256 bytes: 16-bit length; 64 KiB: 64-bit length (RFC 5.7's last two examples).
    assert_eq!(frame(OP_BINARY, &[0; 256])[..4], [0x82, 0x7e, 0x01, 0x00]);
    assert_eq!(frame(OP_BINARY, &[0; 65536])[..10], [0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert_eq!(close_frame(1000), [0x88, 0x02, 0x03, 0xe8]);
    let mut out = Vec::new();
    write_channel(&mut out, 1, b"hi").unwrap();
    assert_eq!(out, [0x82, 0x03, 0x01, b'h', b'i']);
}

#[test]
fn protocol_violations_are_errors() {
    let unmasked = [0x81, 0x05, b'H', b'e', b'l', b'l', b'o'];
    assert!(matches!(read_all(&unmasked), Err(FrameError::Unmasked)));
    assert!(matches!(read_all(&[0xc1, 0x80, 0, 0, 0, 0]), Err(FrameError::ReservedBits)));
    assert!(matches!(read_all(&[0x83, 0x80, 0, 0, 0, 0]), Err(FrameError::UnknownOpcode(3))));
    assert!(matches!(read_all(&[0x09, 0x80, 0, 0, 0, 0]), Err(FrameError::BadControl)));
    assert!(matches!(read_all(&[0x80, 0x80, 0, 0, 0, 0]), Err(FrameError::BadFragment)));
    let nested = [0x01, 0x80, 0, 0, 0, 0, 0x81, 0x80, 0, 0, 0, 0];
    assert!(matches!(read_all(&nested), Err(FrameError::BadFragment)));
    let huge = [0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    assert!(matches!(read_all(&huge), Err(FrameError::TooLong(_))));
    // Input that ends inside a frame is an error; between frames it is the end.
    assert!(matches!(read_all(&MASKED_HELLO[..7]), Err(FrameError::Io(_))));
    assert!(matches!(read_all(&MASKED_HELLO[..1]), Err(FrameError::Io(_))));
    assert_eq!(read_all(&[]).unwrap(), Vec::new());
}
