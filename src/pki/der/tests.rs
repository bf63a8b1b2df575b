use super::*;

#[test]
fn lengths_use_the_short_and_long_forms() {
    assert_eq!(tlv(tag::OCTET_STRING, &[]), vec![0x04, 0x00]);
    assert_eq!(tlv(tag::OCTET_STRING, &[7; 0x7f])[..2], [0x04, 0x7f]);
    assert_eq!(tlv(tag::OCTET_STRING, &[7; 0x80])[..3], [0x04, 0x81, 0x80]);
    assert_eq!(tlv(tag::OCTET_STRING, &[7; 0x1234])[..4], [0x04, 0x82, 0x12, 0x34]);
}

#[test]
fn integers_are_minimal_and_positive() {
    assert_eq!(integer_u64(0), vec![0x02, 0x01, 0x00]);
    assert_eq!(integer_u64(127), vec![0x02, 0x01, 0x7f]);
    assert_eq!(integer_u64(128), vec![0x02, 0x02, 0x00, 0x80]);
    assert_eq!(integer_u64(0x0102), vec![0x02, 0x02, 0x01, 0x02]);
    assert_eq!(integer_unsigned(&[0, 0, 0xff]), vec![0x02, 0x02, 0x00, 0xff]);
    for value in [0u64, 1, 127, 128, 255, 256, 65_535, u64::MAX] {
        let encoded = integer_u64(value);
        let content = Reader::new(&encoded).read(tag::INTEGER, "n").expect("integer");
        assert_eq!(parse_small_uint(content, "n"), Ok(value));
    }
    assert!(parse_unsigned(&[0x00, 0x01], "n").is_err(), "non-minimal");
    assert!(parse_unsigned(&[0x80], "n").is_err(), "negative");
    assert!(parse_unsigned(&[], "n").is_err(), "empty");
}

#[test]
fn oids_round_trip_with_large_arcs() {
    let arcs: &[u32] = &[1, 2, 840, 113_549, 1, 9, 14];
    let encoded = oid(arcs);
    assert_eq!(encoded, [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e]);
    let content = Reader::new(&encoded).read(tag::OID, "oid").expect("oid");
    assert_eq!(parse_oid(content, "oid").expect("parses"), vec![1, 2, 840, 113_549, 1, 9, 14]);
    assert_eq!(parse_oid(&oid_content(&[2, 999, 3]), "oid").expect("parses"), vec![2, 999, 3]);
    assert!(parse_oid(&[0x2a, 0x86], "oid").is_err(), "ends inside an arc");
    assert!(parse_oid(&[0x2a, 0x80, 0x01], "oid").is_err(), "non-minimal arc");
}

#[test]
fn named_bits_drop_trailing_zeros() {
    assert_eq!(named_bits(&[0]), vec![0x03, 0x02, 0x07, 0x80]);
    assert_eq!(named_bits(&[0, 2]), vec![0x03, 0x02, 0x05, 0xa0]);
    assert_eq!(named_bits(&[0, 5]), vec![0x03, 0x02, 0x02, 0x84]);
    assert_eq!(named_bits(&[8]), vec![0x03, 0x03, 0x07, 0x00, 0x80]);
    let content = Reader::new(&named_bits(&[0, 2, 5])).read(tag::BIT_STRING, "ku").expect("bits").to_vec();
    assert_eq!(parse_named_bits(&content, "ku").expect("parses"), vec![0, 2, 5]);
}

#[test]
fn times_pick_utc_or_generalized_and_round_trip() {
    let cases = [
        (0i64, tag::UTC_TIME, "700101000000Z"),
        (1_795_464_573, tag::UTC_TIME, "261123200933Z"),
        (-631_152_001, tag::GENERALIZED_TIME, "19491231235959Z"),
        (2_524_608_000, tag::GENERALIZED_TIME, "20500101000000Z"),
    ];
    for (unix, want_tag, text) in cases {
        let encoded = time(unix);
        let value = Reader::new(&encoded).read_any("t").expect("time");
        assert_eq!((value.tag, value.content), (want_tag, text.as_bytes()), "{unix}");
        assert_eq!(parse_time(&value, "t"), Ok(unix));
    }
    let bad = [
        (tag::UTC_TIME, "2611232009Z"),
        (tag::UTC_TIME, "261323200933Z"),
        (tag::GENERALIZED_TIME, "20261123200933"),
    ];
    for (t, text) in bad {
        let value = Tlv { tag: t, content: text.as_bytes(), raw: &[] };
        assert!(parse_time(&value, "t").is_err(), "{text}");
    }
}

#[test]
fn sets_are_sorted_and_structures_nest() {
    let set = set_of(&[integer_u64(2), integer_u64(1)]);
    assert_eq!(set, vec![0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02]);
    let seq = sequence(&[boolean(true), null(), explicit(3, &octet_string(b"x")), implicit(2, b"dns")]);
    let mut outer = single(&seq, tag::SEQUENCE, "seq").expect("sequence");
    assert_eq!(parse_bool(outer.read(tag::BOOLEAN, "b").expect("bool"), "b"), Ok(true));
    assert_eq!(outer.read(tag::NULL, "null"), Ok(&[][..]));
    let mut inner = outer.nested(tag::context(3, true), "explicit").expect("[3]");
    assert_eq!(inner.read(tag::OCTET_STRING, "x"), Ok(&b"x"[..]));
    assert_eq!(outer.read_optional(tag::context(1, false), "absent"), Ok(None));
    assert_eq!(outer.read(tag::context(2, false), "dns"), Ok(&b"dns"[..]));
    assert_eq!(outer.finish("seq"), Ok(()));
}

#[test]
fn strings_choose_printable_or_utf8() {
    assert_eq!(directory_string("system:nodes")[0], tag::PRINTABLE_STRING);
    assert_eq!(directory_string("node_1")[0], tag::UTF8_STRING);
    assert_eq!(directory_string("nœud")[0], tag::UTF8_STRING);
    let encoded = directory_string("nœud");
    let value = Reader::new(&encoded).read_any("s").expect("string");
    assert_eq!(parse_string(&value, "s").expect("text"), "nœud");
    let latin = Tlv { tag: tag::PRINTABLE_STRING, content: "é".as_bytes(), raw: &[] };
    assert!(parse_string(&latin, "s").is_err());
}

#[test]
fn malformed_lengths_and_tags_are_errors() {
    let cases: [(&[u8], Problem); 7] = [
        (&[], Problem::Missing),
        (&[0x30], Problem::Truncated),
        (&[0x30, 0x80, 0x00, 0x00], Problem::BadLength),
        (&[0x30, 0x81, 0x05, 0, 0, 0, 0, 0], Problem::BadLength),
        (&[0x30, 0x82, 0x00, 0x80], Problem::BadLength),
        (&[0x30, 0x85, 1, 0, 0, 0, 0], Problem::BadLength),
        (&[0x1f, 0x01, 0x00], Problem::HighTagNumber),
    ];
    for (bytes, problem) in cases {
        assert_eq!(
            Reader::new(bytes).read_any("x").map(|t| t.tag),
            Err(DerError { field: "x", problem }),
            "{bytes:?}"
        );
    }
    assert_eq!(
        Reader::new(&[0x30, 0x03, 0x01]).read_any("x").map(|t| t.tag).expect_err("an error").problem,
        Problem::Truncated
    );
    let unexpected = Reader::new(&[0x02, 0x01, 0x00]).read(tag::SEQUENCE, "x").expect_err("an error");
    assert_eq!(unexpected.problem, Problem::UnexpectedTag { expected: 0x30, found: 0x02 });
    assert_eq!(
        single(&[0x05, 0x00, 0x05, 0x00], tag::NULL, "x").expect_err("an error").problem,
        Problem::TrailingData
    );
}

#[test]
fn raw_covers_header_and_content() {
    let encoded = sequence(&[integer_u64(5)]);
    let mut twice = encoded.clone();
    twice.extend_from_slice(&encoded);
    let mut r = Reader::new(&twice);
    let first = r.read_tlv(tag::SEQUENCE, "first").expect("first");
    assert_eq!(first.raw, encoded.as_slice());
    assert_eq!(first.content, &encoded[2..]);
    assert!(!r.is_empty());
}
