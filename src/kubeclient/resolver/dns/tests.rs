use super::*;

/// A response to `encode_query(id, name, qtype)`: the query with the QR bit, `rcode` and
/// `answers` appended (each a complete resource record).
fn response(id: u16, name: &str, qtype: QType, rcode: u8, answers: &[Vec<u8>]) -> Vec<u8> {
    let mut msg = encode_query(id, name, qtype).expect("query");
    msg[2] |= 0x80;
    msg[3] |= rcode;
    let count = u16::try_from(answers.len()).expect("count").to_be_bytes();
    msg[6..8].copy_from_slice(&count);
    for a in answers {
        msg.extend_from_slice(a);
    }
    msg
}

/// A record owned by a pointer to the question name (offset 12), as servers write it.
fn record_at_question(rtype: u16, rdata: &[u8]) -> Vec<u8> {
    record(&[0xc0, 12], rtype, rdata)
}

fn record(owner: &[u8], rtype: u16, rdata: &[u8]) -> Vec<u8> {
    let mut r = owner.to_vec();
    r.extend_from_slice(&rtype.to_be_bytes());
    r.extend_from_slice(&CLASS_IN.to_be_bytes());
    r.extend_from_slice(&300u32.to_be_bytes());
    r.extend_from_slice(&u16::try_from(rdata.len()).expect("len").to_be_bytes());
    r.extend_from_slice(rdata);
    r
}

#[test]
fn query_layout() {
    let q = encode_query(0xabcd, "api.example.", QType::Aaaa).expect("query");
    assert_eq!(
        q,
        [&[0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0][..], b"\x03api\x07example\x00", &[0, 28, 0, 1],].concat()
    );
}

#[test]
fn query_rejects_bad_names() {
    assert_eq!(encode_query(1, "", QType::A), Err(DnsError::BadName));
    assert_eq!(encode_query(1, "a..b", QType::A), Err(DnsError::BadName));
    assert_eq!(encode_query(1, &"x".repeat(64), QType::A), Err(DnsError::BadName));
    let long = ["a"; 128].join(".");
    assert_eq!(encode_query(1, &long, QType::A), Err(DnsError::BadName));
}

#[test]
fn reads_a_records_through_a_compression_pointer() {
    let msg = response(
        7,
        "api.example",
        QType::A,
        0,
        &[record_at_question(TYPE_A, &[10, 0, 0, 1]), record_at_question(TYPE_A, &[10, 0, 0, 2])],
    );
    let resp = decode_response(&msg, 7, "API.Example.", QType::A).expect("decode");
    assert_eq!(resp.rcode, 0);
    assert!(!resp.truncated);
    assert_eq!(resp.addrs, vec![IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2])]);
}

#[test]
fn follows_a_cname_chain_with_pointers_into_rdata() {
    // api.example CNAME lb.example (written as "lb" + pointer to "example" at offset 16),
    // then lb.example A 192.0.2.9 (owner: pointer to the CNAME's rdata).
    let first_record_at = HEADER_LEN + "api.example".len() + 2 + 4;
    let cname = record_at_question(TYPE_CNAME, &[2, b'l', b'b', 0xc0, 16]);
    let rdata_at = first_record_at + cname.len() - 5;
    let ptr = u8::try_from(rdata_at).expect("small offset");
    let a = record(&[0xc0, ptr], TYPE_A, &[192, 0, 2, 9]);
    // An unrelated A record must not be picked up.
    let other = record(b"\x05other\x00", TYPE_A, &[203, 0, 113, 1]);
    let msg = response(9, "api.example", QType::A, 0, &[cname, a, other]);
    let resp = decode_response(&msg, 9, "api.example", QType::A).expect("decode");
    assert_eq!(resp.addrs, vec![IpAddr::from([192, 0, 2, 9])]);
}

#[test]
fn reads_aaaa_and_skips_other_types() {
    let v6 = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
    let msg = response(
        3,
        "h",
        QType::Aaaa,
        0,
        &[record_at_question(16, b"\x05hello"), record_at_question(TYPE_AAAA, &v6.octets())],
    );
    let resp = decode_response(&msg, 3, "h", QType::Aaaa).expect("decode");
    assert_eq!(resp.addrs, vec![IpAddr::V6(v6)]);
}

#[test]
fn reports_nxdomain() {
    let msg = response(4, "missing.example", QType::A, RCODE_NXDOMAIN, &[]);
    let resp = decode_response(&msg, 4, "missing.example", QType::A).expect("decode");
    assert_eq!(resp.rcode, RCODE_NXDOMAIN);
    assert!(resp.addrs.is_empty());
}

#[test]
fn rejects_answers_to_other_questions() {
    let msg = response(5, "a.example", QType::A, 0, &[]);
    assert_eq!(decode_response(&msg, 6, "a.example", QType::A), Err(DnsError::Mismatch));
    assert_eq!(decode_response(&msg, 5, "b.example", QType::A), Err(DnsError::Mismatch));
    assert_eq!(decode_response(&msg, 5, "a.example", QType::Aaaa), Err(DnsError::Mismatch));
    let query = encode_query(5, "a.example", QType::A).expect("query");
    assert_eq!(decode_response(&query, 5, "a.example", QType::A), Err(DnsError::Mismatch));
}

#[test]
fn rejects_pointer_loops_and_bad_labels() {
    // The answer's owner is a pointer to itself.
    let mut msg = response(1, "x", QType::A, 0, &[]);
    let at = u8::try_from(msg.len()).expect("small");
    msg[6..8].copy_from_slice(&1u16.to_be_bytes());
    msg.extend_from_slice(&record(&[0xc0, at], TYPE_A, &[1, 2, 3, 4]));
    assert_eq!(decode_response(&msg, 1, "x", QType::A), Err(DnsError::BadLabel));

    // Label type 0b01 is reserved.
    let bad = response(1, "x", QType::A, 0, &[record(&[0x41, 0], TYPE_A, &[1, 2, 3, 4])]);
    assert_eq!(decode_response(&bad, 1, "x", QType::A), Err(DnsError::BadLabel));

    // A pointer past the end.
    let past = response(1, "x", QType::A, 0, &[record(&[0xff, 0xff], TYPE_A, &[1, 2, 3, 4])]);
    assert_eq!(decode_response(&past, 1, "x", QType::A), Err(DnsError::Truncated));
}

#[test]
fn rejects_wrong_address_lengths() {
    let msg = response(1, "x", QType::A, 0, &[record_at_question(TYPE_A, &[1, 2, 3])]);
    assert_eq!(decode_response(&msg, 1, "x", QType::A), Err(DnsError::BadRecord));
}

#[test]
fn every_prefix_is_an_error_not_a_panic() {
    let msg = response(2, "api.example", QType::A, 0, &[record_at_question(TYPE_A, &[10, 0, 0, 1])]);
    for end in 0..msg.len() {
        assert!(decode_response(&msg[..end], 2, "api.example", QType::A).is_err(), "{end}");
    }
}

#[test]
fn truncated_flag_keeps_complete_records() {
    let mut msg = response(
        8,
        "x",
        QType::A,
        0,
        &[record_at_question(TYPE_A, &[10, 0, 0, 1]), record_at_question(TYPE_A, &[10, 0, 0, 2])],
    );
    msg[2] |= 0x02; // TC
    // The second record's owner is missing entirely: the cut fell between records.
    let cut = msg.len() - 16;
    let resp = decode_response(&msg[..cut], 8, "x", QType::A).expect("decode");
    assert!(resp.truncated);
    assert_eq!(resp.addrs, vec![IpAddr::from([10, 0, 0, 1])]);
}
