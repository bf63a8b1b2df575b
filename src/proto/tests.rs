//! Reader and Writer against known byte vectors and malformed inputs.

use super::*;

fn varint_bytes(v: u64) -> Vec<u8> {
    let mut buf = Vec::new();
    Writer::new(&mut buf).put_varint(v);
    buf
}

fn kind_of<T: std::fmt::Debug>(r: Result<T, DecodeError>) -> DecodeErrorKind {
    match r {
        Ok(v) => panic!("expected an error, decoded {v:?}"),
        Err(e) => e.kind(),
    }
}

#[test]
fn varints_have_known_encodings() {
    let cases: &[(u64, &[u8])] = &[
        (0, &[0x00]),
        (1, &[0x01]),
        (127, &[0x7f]),
        (128, &[0x80, 0x01]),
        (150, &[0x96, 0x01]),
        (300, &[0xac, 0x02]),
        (16_384, &[0x80, 0x80, 0x01]),
        (u64::from(u32::MAX), &[0xff, 0xff, 0xff, 0xff, 0x0f]),
        (1 << 63, &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
        (u64::MAX, &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    ];
    for &(value, bytes) in cases {
        assert_eq!(varint_bytes(value), bytes, "encoding {value}");
        assert_eq!(varint_len(value), bytes.len(), "length of {value}");
        let mut r = Reader::new(bytes);
        assert_eq!(r.read_varint(), Ok(value), "decoding {bytes:02x?}");
        assert!(r.is_empty());
    }
}

#[test]
fn varint_len_matches_writer_at_every_boundary() {
    for shift in 0..64 {
        for v in [(1u64 << shift) - 1, 1u64 << shift, (1u64 << shift) + 1] {
            assert_eq!(varint_len(v), varint_bytes(v).len(), "{v}");
        }
    }
}

#[test]
fn non_canonical_varints_are_accepted() {
    // Padded with continuation bytes: still 1, as other decoders read it.
    assert_eq!(Reader::new(&[0x81, 0x80, 0x00]).read_varint(), Ok(1));
}

#[test]
fn varint_overflow_and_truncation_are_errors() {
    let eleven = [0xff; 11];
    assert_eq!(kind_of(Reader::new(&eleven).read_varint()), DecodeErrorKind::VarintOverflow);
    let mut ten = [0xff; 10];
    ten[9] = 0x02; // bit 64
    assert_eq!(kind_of(Reader::new(&ten).read_varint()), DecodeErrorKind::VarintOverflow);
    let ten_continued = [0x80; 10];
    assert_eq!(kind_of(Reader::new(&ten_continued).read_varint()), DecodeErrorKind::VarintOverflow);
    assert_eq!(kind_of(Reader::new(&[]).read_varint()), DecodeErrorKind::Truncated);
    assert_eq!(kind_of(Reader::new(&[0x80, 0x80]).read_varint()), DecodeErrorKind::Truncated);
}

#[test]
fn fixed_width_values_are_little_endian() {
    let mut buf = Vec::new();
    let mut w = Writer::new(&mut buf);
    w.put_fixed32(0x0403_0201);
    w.put_fixed64(0x0807_0605_0403_0201);
    assert_eq!(buf, [1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8]);
    let mut r = Reader::new(&buf);
    assert_eq!(r.read_fixed32(), Ok(0x0403_0201));
    assert_eq!(r.read_fixed64(), Ok(0x0807_0605_0403_0201));
    assert!(r.is_empty());
    assert_eq!(kind_of(Reader::new(&[1, 2, 3]).read_fixed32()), DecodeErrorKind::Truncated);
    assert_eq!(kind_of(Reader::new(&[1; 7]).read_fixed64()), DecodeErrorKind::Truncated);
}

#[test]
fn length_delimited_checks_its_length() {
    let mut buf = Vec::new();
    Writer::new(&mut buf).put_len_delimited(b"abc");
    assert_eq!(buf, [3, b'a', b'b', b'c']);
    assert_eq!(Reader::new(&buf).read_len_delimited(), Ok(&b"abc"[..]));
    assert_eq!(kind_of(Reader::new(&[5, b'a']).read_len_delimited()), DecodeErrorKind::Truncated);
    // A length near 2^64 must not wrap around or allocate.
    let huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0];
    let kind = kind_of(Reader::new(&huge).read_len_delimited());
    assert!(matches!(kind, DecodeErrorKind::Truncated | DecodeErrorKind::LengthOverflow), "{kind:?}");
}

#[test]
fn keys_carry_field_number_and_wire_type() {
    let mut buf = Vec::new();
    let mut w = Writer::new(&mut buf);
    w.put_key(1, WireType::Varint);
    w.put_key(2, WireType::Len);
    w.put_key(16, WireType::Fixed32);
    w.put_key(MAX_FIELD_NUMBER, WireType::Fixed64);
    assert_eq!(&buf[..4], [0x08, 0x12, 0x85, 0x01]);
    assert_eq!(key_len(MAX_FIELD_NUMBER), 5);
    let mut r = Reader::new(&buf);
    assert_eq!(r.read_key(), Ok((1, WireType::Varint)));
    assert_eq!(r.read_key(), Ok((2, WireType::Len)));
    assert_eq!(r.read_key(), Ok((16, WireType::Fixed32)));
    assert_eq!(r.read_key(), Ok((MAX_FIELD_NUMBER, WireType::Fixed64)));
}

#[test]
fn bad_keys_are_errors() {
    assert_eq!(kind_of(Reader::new(&[0x00]).read_key()), DecodeErrorKind::InvalidFieldNumber(0));
    assert_eq!(kind_of(Reader::new(&[0x0e]).read_key()), DecodeErrorKind::InvalidWireType(6));
    assert_eq!(kind_of(Reader::new(&[0x0f]).read_key()), DecodeErrorKind::InvalidWireType(7));
    let too_big = varint_bytes(u64::from(MAX_FIELD_NUMBER + 1) << 3);
    assert_eq!(
        kind_of(Reader::new(&too_big).read_key()),
        DecodeErrorKind::InvalidFieldNumber(u64::from(MAX_FIELD_NUMBER + 1))
    );
    let beyond_u32 = varint_bytes(u64::MAX << 3);
    assert!(matches!(kind_of(Reader::new(&beyond_u32).read_key()), DecodeErrorKind::InvalidFieldNumber(_)));
}

/// Skips one unknown field and checks that exactly `len` bytes were consumed.
fn skip_consumes(bytes: &[u8], len: usize) {
    let mut r = Reader::new(bytes);
    let (field, wire) = r.read_key().expect("key");
    r.skip(field, wire).expect("skip");
    assert_eq!(bytes.len() - r.remaining(), len, "{bytes:02x?}");
}

#[test]
fn unknown_fields_of_every_wire_type_are_skipped() {
    skip_consumes(&[0x08, 0x96, 0x01, 0xaa], 3); // varint
    skip_consumes(&[0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0xaa], 9); // fixed64
    skip_consumes(&[0x12, 2, 0xff, 0xff, 0xaa], 4); // length-delimited
    skip_consumes(&[0x15, 1, 2, 3, 4, 0xaa], 5); // fixed32
    // Group 1 holding a varint field and a nested group 2, then the end of group 1.
    skip_consumes(&[0x0b, 0x08, 0x01, 0x13, 0x14, 0x0c, 0xaa], 6);
}

#[test]
fn malformed_groups_are_errors() {
    let mut r = Reader::new(&[0x0c]);
    let (field, wire) = r.read_key().expect("key");
    assert_eq!(kind_of(r.skip(field, wire).map(|()| 0)), DecodeErrorKind::UnexpectedEndGroup(1));
    // Group 1 closed as group 2.
    let mut r = Reader::new(&[0x0b, 0x14]);
    let (field, wire) = r.read_key().expect("key");
    assert_eq!(kind_of(r.skip(field, wire).map(|()| 0)), DecodeErrorKind::UnexpectedEndGroup(2));
    // Group never closed.
    let mut r = Reader::new(&[0x0b, 0x08, 0x01]);
    let (field, wire) = r.read_key().expect("key");
    assert_eq!(kind_of(r.skip(field, wire).map(|()| 0)), DecodeErrorKind::Truncated);
}

#[test]
fn groups_nested_too_deeply_are_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let mut bytes = vec![0x0b; depth];
    bytes.extend(std::iter::repeat_n(0x0c, depth));
    let mut r = Reader::new(&bytes);
    let (field, wire) = r.read_key().expect("key");
    assert_eq!(kind_of(r.skip(field, wire).map(|()| 0)), DecodeErrorKind::TooDeep);
    // Just under the limit is fine.
    let ok = MAX_DEPTH as usize;
    let mut bytes = vec![0x0b; ok];
    bytes.extend(std::iter::repeat_n(0x0c, ok));
    let mut r = Reader::new(&bytes);
    let (field, wire) = r.read_key().expect("key");
    assert_eq!(r.skip(field, wire), Ok(()));
    assert!(r.is_empty());
}

#[test]
fn nested_readers_count_depth() {
    let mut bytes = Vec::new();
    for _ in 0..3 {
        let mut outer = Vec::new();
        Writer::new(&mut outer).put_len_delimited(&bytes);
        bytes = outer;
    }
    let mut r = Reader::new(&bytes);
    let mut inner = r.read_nested().expect("1");
    let mut inner = inner.read_nested().expect("2");
    let inner = inner.read_nested().expect("3");
    assert_eq!(inner.depth(), 3);
    assert!(inner.is_empty() && r.is_empty());
}

#[test]
fn errors_display_their_kind_and_path() {
    let e = DecodeError::new(DecodeErrorKind::InvalidUtf8).within("Inner", "name").within("Outer", "inner");
    assert_eq!(e.path(), "Outer.inner.name");
    assert_eq!(e.to_string(), "protobuf: string is not valid UTF-8 at Outer.inner.name");
    assert_eq!(DecodeError::new(DecodeErrorKind::Truncated).to_string(), "protobuf: input ends inside a field");
}
