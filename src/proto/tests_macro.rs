//! Messages declared with `message!`: known encodings of every kind, proto3 rules, round
//! trips, unknown fields, and decoding of every prefix and corrupted input without panics.

use std::collections::BTreeMap;

use super::*;

crate::enumeration! {
    pub enum Colour { RED = 0, GREEN = 1, BLUE = 2 }
}

crate::message! {
    pub struct Inner {
        1 => a: int32,
        2 => s: string,
    }

    /// Every kind, singular, repeated and in maps.
    pub struct AllKinds {
        1 => i32_: int32,
        2 => i64_: int64,
        3 => u32_: uint32,
        4 => u64_: uint64,
        5 => s32: sint32,
        6 => s64: sint64,
        7 => f32_: fixed32,
        8 => f64_: fixed64,
        9 => sf32: sfixed32,
        10 => sf64: sfixed64,
        11 => flag: bool,
        12 => fl: float,
        13 => db: double,
        14 => text: string,
        15 => raw: bytes,
        16 => colour: enum(Colour),
        17 => inner: message(Inner),
        18 => password: secret,
        21 => r_i32: repeated(int32),
        22 => r_s64: repeated(sint64),
        23 => r_f32: repeated(fixed32),
        24 => r_db: repeated(double),
        25 => r_bool: repeated(bool),
        26 => r_text: repeated(string),
        27 => r_raw: repeated(bytes),
        28 => r_colour: repeated(enum(Colour)),
        29 => r_inner: repeated(message(Inner)),
        31 => labels: map(string, string),
        32 => blobs: map(string, bytes),
        33 => by_number: map(int64, message(Inner)),
        34 => colours: map(uint32, enum(Colour)),
        1000 => far: uint32,
    }

    /// A subset of AllKinds' fields, to see the others skipped as unknown.
    pub struct Few {
        14 => text: string,
        29 => r_inner: repeated(message(Inner)),
    }

    pub struct Node {
        1 => child: message(Box<Node>),
        2 => id: uint32,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn encode<M: Message>(m: &M) -> String {
    let bytes = m.encode_to_vec();
    assert_eq!(bytes.len(), m.encoded_len(), "encoded_len of {}", M::INFO.name);
    hex(&bytes)
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn full() -> AllKinds {
    AllKinds {
        i32_: -5,
        i64_: i64::MIN,
        u32_: u32::MAX,
        u64_: u64::MAX,
        s32: i32::MIN,
        s64: -3,
        f32_: 7,
        f64_: 8,
        sf32: -9,
        sf64: -10,
        flag: true,
        fl: 1.5,
        db: -2.25,
        text: "héllo".into(),
        raw: vec![0, 255, 1],
        colour: Colour(77),
        inner: Some(Inner { a: 1, s: "x".into() }),
        password: Secret("hunter2".into()),
        r_i32: vec![1, -1, 0, 300],
        r_s64: vec![-1, 1, i64::MAX],
        r_f32: vec![1, 2],
        r_db: vec![0.5, -0.0],
        r_bool: vec![true, false, true],
        r_text: vec!["".into(), "a".into()],
        r_raw: vec![vec![], vec![1]],
        r_colour: vec![Colour::BLUE, Colour(-4)],
        r_inner: vec![Inner::default(), Inner { a: 2, s: String::new() }],
        labels: BTreeMap::from([("k".into(), "v".into()), ("empty".into(), String::new())]),
        blobs: BTreeMap::from([("b".into(), vec![9, 9])]),
        by_number: BTreeMap::from([(-1, Inner { a: 3, s: "n".into() }), (0, Inner::default())]),
        colours: BTreeMap::from([(1, Colour::GREEN), (2, Colour::RED)]),
        far: 1,
    }
}

#[test]
fn scalars_have_known_encodings() {
    let cases: Vec<(AllKinds, &str)> = vec![
        (AllKinds { i32_: 150, ..Default::default() }, "089601"),
        (AllKinds { i32_: -1, ..Default::default() }, "08ffffffffffffffffff01"),
        (AllKinds { i64_: -2, ..Default::default() }, "10feffffffffffffffff01"),
        (AllKinds { u32_: 300, ..Default::default() }, "18ac02"),
        (AllKinds { u64_: 1 << 32, ..Default::default() }, "208080808010"),
        (AllKinds { s32: -1, ..Default::default() }, "2801"),
        (AllKinds { s32: 1, ..Default::default() }, "2802"),
        (AllKinds { s32: i32::MIN, ..Default::default() }, "28ffffffff0f"),
        (AllKinds { s64: -2, ..Default::default() }, "3003"),
        (AllKinds { f32_: 1, ..Default::default() }, "3d01000000"),
        (AllKinds { f64_: 1, ..Default::default() }, "410100000000000000"),
        (AllKinds { sf32: -1, ..Default::default() }, "4dffffffff"),
        (AllKinds { sf64: -2, ..Default::default() }, "51feffffffffffffff"),
        (AllKinds { flag: true, ..Default::default() }, "5801"),
        (AllKinds { fl: 1.0, ..Default::default() }, "650000803f"),
        (AllKinds { fl: -0.0, ..Default::default() }, "6500000080"),
        (AllKinds { db: 1.0, ..Default::default() }, "69000000000000f03f"),
        (AllKinds { text: "testing".into(), ..Default::default() }, "720774657374696e67"),
        (AllKinds { raw: vec![1, 2], ..Default::default() }, "7a020102"),
        (AllKinds { colour: Colour::BLUE, ..Default::default() }, "800102"),
        (AllKinds { password: Secret("pw".into()), ..Default::default() }, "9201027077"),
        (AllKinds { far: 1, ..Default::default() }, "c03e01"),
    ];
    for (m, want) in cases {
        assert_eq!(encode(&m), want, "{m:?}");
        assert_eq!(AllKinds::decode(&unhex(want)), Ok(m));
    }
}

#[test]
fn defaults_are_not_written_but_present_messages_are() {
    assert_eq!(encode(&AllKinds::default()), "");
    assert_eq!(encode(&AllKinds { inner: Some(Inner::default()), ..Default::default() }), "8a0100");
    let present = AllKinds::decode(&unhex("8a0100")).expect("decode");
    assert_eq!(present.inner, Some(Inner::default()));
}

#[test]
fn repeated_scalars_are_written_packed_and_read_either_way() {
    let m = AllKinds { r_i32: vec![3, 270, 86942], ..Default::default() };
    assert_eq!(encode(&m), "aa0106038e029ea705");
    // The same values unpacked, and split across two packed runs.
    assert_eq!(AllKinds::decode(&unhex("a80103a8018e02a8019ea705")), Ok(m.clone()));
    assert_eq!(AllKinds::decode(&unhex("aa010103aa01058e029ea705")), Ok(m));
    let strings = AllKinds { r_text: vec!["a".into(), "".into()], ..Default::default() };
    assert_eq!(encode(&strings), "d2010161d20100");
}

#[test]
fn maps_write_key_and_value_and_read_missing_parts_as_defaults() {
    let m = AllKinds { labels: BTreeMap::from([("a".into(), "b".into())]), ..Default::default() };
    assert_eq!(encode(&m), "fa01060a0161120162");
    let empty_value = AllKinds { labels: BTreeMap::from([("a".into(), String::new())]), ..Default::default() };
    assert_eq!(encode(&empty_value), "fa01050a01611200");
    // Entry with only a key, then with only a value (key ""), then a repeated key: last wins.
    let decoded = AllKinds::decode(&unhex("fa01030a0161fa0103120178fa01060a0161120179")).expect("decode");
    let want = BTreeMap::from([("a".to_string(), "y".to_string()), (String::new(), "x".to_string())]);
    assert_eq!(decoded.labels, want);
    // Unknown fields inside an entry are skipped.
    assert_eq!(AllKinds::decode(&unhex("fa01080a01611805120162")), Ok(m));
}

#[test]
fn enums_keep_unknown_values() {
    let m = AllKinds { colour: Colour(1234), r_colour: vec![Colour(-7)], ..Default::default() };
    let back = AllKinds::decode(&m.encode_to_vec()).expect("decode");
    assert_eq!(back, m);
    assert_eq!(format!("{:?}", back.colour), "Colour(1234)");
    assert_eq!(format!("{:?}", Colour::GREEN), "GREEN");
    assert_eq!(Colour::BLUE.name(), Some("BLUE"));
}

#[test]
fn secrets_are_not_printed() {
    let m = AllKinds { password: Secret("hunter2".into()), ..Default::default() };
    let shown = format!("{m:?}");
    assert!(!shown.contains("hunter2") && shown.contains("<redacted>"), "{shown}");
}

#[test]
fn populated_message_round_trips() {
    let m = full();
    let bytes = m.encode_to_vec();
    assert_eq!(bytes.len(), m.encoded_len());
    assert_eq!(AllKinds::decode(&bytes), Ok(m));
}

#[test]
fn last_scalar_wins_and_repeated_messages_merge() {
    // i32_ = 1 then 2; inner {a: 1} then inner {s: "z"}.
    let bytes = unhex("080108028a010208018a010312017a");
    let m = AllKinds::decode(&bytes).expect("decode");
    assert_eq!(m.i32_, 2);
    assert_eq!(m.inner, Some(Inner { a: 1, s: "z".into() }));
}

#[test]
fn unknown_fields_are_skipped() {
    let m = full();
    let few = Few::decode(&m.encode_to_vec()).expect("decode as subset");
    assert_eq!(few, Few { text: m.text.clone(), r_inner: m.r_inner.clone() });
    // An unknown group and an unknown fixed32 between known fields.
    let bytes = unhex("7201619b0608019c069d0601020304");
    assert_eq!(AllKinds::decode(&bytes).map(|m| m.text), Ok("a".to_string()));
}

#[test]
fn wrong_wire_type_for_a_known_field_is_an_error_with_its_path() {
    let e = AllKinds::decode(&unhex("7001")).expect_err("string sent as varint");
    assert_eq!(e.kind(), DecodeErrorKind::WireTypeMismatch { expected: 2, found: 0 });
    assert_eq!(e.path(), "AllKinds.text");
}

#[test]
fn invalid_utf8_is_an_error_with_its_path() {
    let e = AllKinds::decode(&unhex("8a01031201ff")).expect_err("bad UTF-8");
    assert_eq!(e.kind(), DecodeErrorKind::InvalidUtf8);
    assert_eq!(e.path(), "AllKinds.inner.s");
    // bytes fields take anything.
    assert_eq!(AllKinds::decode(&unhex("7a01ff")).map(|m| m.raw), Ok(vec![0xff]));
}

fn chain(depth: usize) -> Node {
    let mut node = Node { child: None, id: 0 };
    for i in 0..depth {
        node = Node { child: Some(Box::new(node)), id: u32::try_from(i).unwrap_or(0) };
    }
    node
}

#[test]
fn recursion_is_limited() {
    let ok = chain(MAX_DEPTH as usize);
    assert_eq!(Node::decode(&ok.encode_to_vec()), Ok(ok));
    let e = Node::decode(&chain(MAX_DEPTH as usize + 1).encode_to_vec()).expect_err("too deep");
    assert_eq!(e.kind(), DecodeErrorKind::TooDeep);
}

#[test]
fn every_prefix_decodes_or_fails_without_panicking() {
    let bytes = full().encode_to_vec();
    let mut errors = 0;
    for end in 0..bytes.len() {
        if AllKinds::decode(&bytes[..end]).is_err() {
            errors += 1;
        }
    }
    // Cuts inside a field fail; cuts between fields decode a partial message.
    assert!(errors > bytes.len() / 2, "{errors} of {}", bytes.len());
    assert!(AllKinds::decode(&bytes).is_ok());
}

/// A deterministic pseudo-random stream (xorshift64).
pub(crate) fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn corrupted_and_random_inputs_never_panic_and_reencode_stably() {
    let good = full().encode_to_vec();
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    let mut decoded = 0;
    for round in 0..20_000 {
        let mut bytes = good.clone();
        if round % 2 == 0 {
            for _ in 0..=(xorshift(&mut seed) % 4) {
                let at = usize::try_from(xorshift(&mut seed)).unwrap_or(0) % bytes.len();
                bytes[at] = xorshift(&mut seed) as u8;
            }
        } else {
            let len = usize::try_from(xorshift(&mut seed) % 64).unwrap_or(0);
            bytes = (0..len).map(|_| xorshift(&mut seed) as u8).collect();
        }
        if let Ok(m) = AllKinds::decode(&bytes) {
            decoded += 1;
            let again = m.encode_to_vec();
            let m2 = AllKinds::decode(&again).expect("re-encoded bytes decode");
            assert_eq!(m2.encode_to_vec(), again);
        }
    }
    assert!(decoded > 0);
}
