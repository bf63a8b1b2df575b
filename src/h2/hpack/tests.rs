#![allow(clippy::unwrap_used)]

//! RFC 7541 Appendix C examples, decoded with the resulting dynamic table checked, plus
//! malformed blocks and encoder round trips.

use super::table::DynamicTable;
use super::*;

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap_or("zz"), 16).unwrap_or(0))
        .collect()
}

fn pairs(headers: &[Header]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (String::from_utf8_lossy(&h.name).into_owned(), String::from_utf8_lossy(&h.value).into_owned())
        })
        .collect()
}

fn table(t: &DynamicTable) -> Vec<(String, String)> {
    t.entries()
        .map(|(n, v)| (String::from_utf8_lossy(n).into_owned(), String::from_utf8_lossy(v).into_owned()))
        .collect()
}

fn own(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

/// Decodes `block` and checks the headers, the table entries (newest first) and its size.
fn step(d: &mut Decoder, block: &str, headers: &[(&str, &str)], entries: &[(&str, &str)], size: usize) {
    let got = d.decode(&hex(block)).expect("RFC example decodes");
    assert_eq!(pairs(&got), own(headers));
    assert_eq!(table(d.table()), own(entries));
    assert_eq!(d.table().size(), size);
}

const BIG: usize = 1 << 20;

#[test]
fn c2_literal_and_indexed_fields() {
    let mut d = Decoder::new(4096, BIG);
    // C.2.1 literal with indexing
    step(
        &mut d,
        "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572",
        &[("custom-key", "custom-header")],
        &[("custom-key", "custom-header")],
        55,
    );
    // C.2.2 literal without indexing
    let mut d = Decoder::new(4096, BIG);
    step(&mut d, "040c 2f73 616d 706c 652f 7061 7468", &[(":path", "/sample/path")], &[], 0);
    // C.2.3 literal never indexed
    step(&mut d, "1008 7061 7373 776f 7264 0673 6563 7265 74", &[("password", "secret")], &[], 0);
    // C.2.4 indexed
    step(&mut d, "82", &[(":method", "GET")], &[], 0);
}

const REQ1: &[(&str, &str)] =
    &[(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")];
const REQ2: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
    ("cache-control", "no-cache"),
];
const REQ3: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":path", "/index.html"),
    (":authority", "www.example.com"),
    ("custom-key", "custom-value"),
];

fn requests(blocks: [&str; 3]) {
    let mut d = Decoder::new(4096, BIG);
    step(&mut d, blocks[0], REQ1, &[(":authority", "www.example.com")], 57);
    step(&mut d, blocks[1], REQ2, &[("cache-control", "no-cache"), (":authority", "www.example.com")], 110);
    step(
        &mut d,
        blocks[2],
        REQ3,
        &[("custom-key", "custom-value"), ("cache-control", "no-cache"), (":authority", "www.example.com")],
        164,
    );
}

#[test]
fn c3_requests_without_huffman() {
    requests([
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    ]);
}

#[test]
fn c4_requests_with_huffman() {
    requests([
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    ]);
}

const DATE1: &str = "Mon, 21 Oct 2013 20:13:21 GMT";
const DATE2: &str = "Mon, 21 Oct 2013 20:13:22 GMT";
const LOC: &str = "https://www.example.com";
const COOKIE: &str = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

/// C.5 and C.6: responses with a 256-octet table, so entries get evicted.
fn responses(blocks: [&str; 3]) {
    let mut d = Decoder::new(256, BIG);
    step(
        &mut d,
        blocks[0],
        &[(":status", "302"), ("cache-control", "private"), ("date", DATE1), ("location", LOC)],
        &[("location", LOC), ("date", DATE1), ("cache-control", "private"), (":status", "302")],
        222,
    );
    step(
        &mut d,
        blocks[1],
        &[(":status", "307"), ("cache-control", "private"), ("date", DATE1), ("location", LOC)],
        &[(":status", "307"), ("location", LOC), ("date", DATE1), ("cache-control", "private")],
        222,
    );
    step(
        &mut d,
        blocks[2],
        &[
            (":status", "200"),
            ("cache-control", "private"),
            ("date", DATE2),
            ("location", LOC),
            ("content-encoding", "gzip"),
            ("set-cookie", COOKIE),
        ],
        &[("set-cookie", COOKIE), ("content-encoding", "gzip"), ("date", DATE2)],
        215,
    );
}

#[test]
fn c5_responses_without_huffman() {
    responses([
        "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 \
         303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "4803 3330 37c1 c0bf",
        "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 \
         5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 \
         5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
    ]);
}

#[test]
fn c6_responses_with_huffman() {
    responses([
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b \
         ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        "4883 640e ffc1 c0bf",
        "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad \
         94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 \
         65c0 03ed 4ee5 b106 3d50 07",
    ]);
}

#[test]
fn size_updates_follow_the_rules() {
    let mut d = Decoder::new(4096, BIG);
    // An update to 0 at the start empties the table; two updates in a row are fine.
    d.decode(&hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572")).unwrap();
    assert_eq!(d.table().len(), 1);
    assert_eq!(pairs(&d.decode(&hex("20 3f e1 1f 82")).unwrap()), own(&[(":method", "GET")]));
    assert_eq!((d.table().len(), d.table().max_size()), (0, 4096));
    // After a field it is an error; above our setting too.
    assert_eq!(d.decode(&hex("82 20")), Err(DecodeError::SizeUpdateNotAtStart));
    assert_eq!(d.decode(&hex("3f e2 1f")), Err(DecodeError::SizeUpdateTooLarge { size: 4097, max: 4096 }));
    // Once we lower SETTINGS_HEADER_TABLE_SIZE, the next block must begin with an update.
    d.set_max_allowed_table_size(100);
    assert_eq!(d.decode(&hex("82")), Err(DecodeError::SizeUpdateMissing));
    assert!(d.decode(&hex("3f 45 82")).is_ok());
    assert_eq!(d.table().max_size(), 100);
    assert!(d.decode(&hex("82")).is_ok());
}

#[test]
fn malformed_blocks_are_compression_errors() {
    let cases: &[(&str, DecodeError)] = &[
        ("80", DecodeError::BadIndex(0)),
        ("be", DecodeError::BadIndex(62)),
        ("ff 80 80 80 80 80 80 01", DecodeError::IntegerOverflow),
        ("40 05 61", DecodeError::Truncated),
        ("00 81 ff 00", DecodeError::Huffman(HuffmanError::BadPadding)),
        ("04", DecodeError::Truncated),
        ("0f", DecodeError::Truncated),
    ];
    for (block, want) in cases {
        let mut d = Decoder::new(4096, BIG);
        assert_eq!(d.decode(&hex(block)), Err(*want), "block {block}");
    }
}

#[test]
fn header_list_limit_fails_the_block_but_keeps_the_table_in_sync() {
    // custom-key: custom-header is 55 bytes; limit 60 allows one but not two.
    let mut d = Decoder::new(4096, 60);
    let block = hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572 be");
    assert_eq!(d.decode(&block), Err(DecodeError::HeaderListTooLarge { limit: 60 }));
    assert_eq!(d.table().len(), 1);
    assert_eq!(pairs(&d.decode(&hex("be")).unwrap()), own(&[("custom-key", "custom-header")]));
}

#[test]
fn encoder_output_decodes_to_the_input() {
    let headers = vec![
        Header::new(":method", "POST"),
        Header::new(":scheme", "http"),
        Header::new(":path", "/runtime.v1.RuntimeService/Version"),
        Header::new(":authority", "localhost"),
        Header::new("content-type", "application/grpc"),
        Header::new("te", "trailers"),
        Header::new("grpc-timeout", "120000m"),
        Header::new("user-agent", "rkubelet/0.1"),
        Header::new("x-bin", vec![0u8, 255, 10]),
    ];
    let mut out = Vec::new();
    Encoder::new().encode(&headers, &mut out);
    // :method POST and :scheme http are whole static entries: one byte each.
    assert_eq!(out.get(..2), Some(&[0x83, 0x86][..]));
    let mut d = Decoder::new(4096, BIG);
    assert_eq!(d.decode(&out).unwrap(), headers);
    assert!(d.table().is_empty());
}
