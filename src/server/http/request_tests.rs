use super::*;

const GET: &[u8] = b"GET /containerLogs/ns/p/c?follow=true&tailLines=10 HTTP/1.1\r\nHost: node:10250\r\nAuthorization:  Bearer abc \r\nAccept: */*\r\n\r\n";

fn parse(buf: &[u8]) -> Result<Option<(Head, usize)>, ParseError> {
    parse_head(buf, &Limits::default())
}

#[test]
fn parses_a_request_head() {
    let Ok(Some((head, used))) = parse(GET) else { panic!("no head") };
    assert_eq!(used, GET.len());
    assert_eq!(head.method, "GET");
    assert_eq!(head.path, "/containerLogs/ns/p/c");
    assert_eq!(head.raw_query, "follow=true&tailLines=10");
    assert_eq!(head.version, Version::Http11);
    assert_eq!(head.header("authorization"), Some("Bearer abc"));
    assert_eq!(head.header("HOST"), Some("node:10250"));
    assert!(!head.wants_close() && !head.is_upgrade());
    assert_eq!(head.body_kind(&Limits::default()), Ok(BodyKind::None));
}

#[test]
fn every_prefix_needs_more_and_consumes_nothing() {
    for cut in 0..GET.len() {
        assert_eq!(parse(&GET[..cut]), Ok(None), "prefix of {cut} bytes");
    }
}

#[test]
fn bytes_after_the_head_are_left_alone() {
    let mut two = GET.to_vec();
    two.extend_from_slice(b"POST /run/a/b/c HTTP/1.1\r\n");
    let Ok(Some((_, used))) = parse(&two) else { panic!("no head") };
    assert_eq!(&two[used..], b"POST /run/a/b/c HTTP/1.1\r\n");
}

#[test]
fn bare_lf_and_leading_empty_lines_are_tolerated() {
    let Ok(Some((head, used))) = parse(b"\r\n\nGET /pods HTTP/1.0\nConnection: keep-alive\n\nX") else {
        panic!("no head")
    };
    assert_eq!((head.path.as_str(), used), ("/pods", 46));
    assert!(!head.wants_close());
    let Ok(Some((head, _))) = parse(b"GET /pods HTTP/1.0\r\n\r\n") else { panic!("no head") };
    assert!(head.wants_close());
}

#[test]
fn malformed_heads_are_refused_with_their_status() {
    let cases: &[(&[u8], u16)] = &[
        (b"GET /pods\r\n\r\n", 400),
        (b"GET  /pods HTTP/1.1\r\n\r\n", 400),
        (b"GET /pods HTTP/1.1 x\r\n\r\n", 400),
        (b"G(T /pods HTTP/1.1\r\n\r\n", 400),
        (b"GET pods HTTP/1.1\r\n\r\n", 400),
        (b"GET /po\x01ds HTTP/1.1\r\n\r\n", 400),
        (b"GET /%zz HTTP/1.1\r\n\r\n", 400),
        (b"GET /pods HTTP/2.0\r\n\r\n", 505),
        (b"GET /pods FTP/1.1\r\n\r\n", 400),
        (b"GET /pods HTTP/1.1\r\nNo-Colon\r\n\r\n", 400),
        (b"GET /pods HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
        (b"GET /pods HTTP/1.1\r\nName : x\r\n\r\n", 400),
        (b"GET /pods HTTP/1.1\r\n: x\r\n\r\n", 400),
        (b"GET /pods HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400),
        (b"GET /pods HTTP/1.1\r\nA: b\x00c\r\n\r\n", 400),
        (b"\xff\xfe /pods HTTP/1.1\r\n\r\n", 400),
    ];
    for (input, status) in cases {
        match parse(input) {
            Err(e) => assert_eq!(e.status(), *status, "{:?}: {e}", String::from_utf8_lossy(input)),
            Ok(h) => panic!("{:?} parsed: {h:?}", String::from_utf8_lossy(input)),
        }
    }
}

#[test]
fn limits_bound_the_head() {
    let limits = Limits { max_head_bytes: 64, max_headers: 2, max_body_bytes: 10 };
    let long = [b"GET /".as_slice(), &[b'a'; 100]].concat();
    assert_eq!(parse_head(&long, &limits), Err(ParseError::HeadTooLarge));
    let many = b"GET / HTTP/1.1\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\n";
    assert_eq!(parse_head(many, &limits), Err(ParseError::TooManyHeaders));
    let ok = b"GET / HTTP/1.1\r\na: 1\r\nb: 2\r\n\r\n";
    assert!(matches!(parse_head(ok, &limits), Ok(Some(_))));
}

fn head_with(fields: &str) -> Head {
    let text = format!("POST /run/ns/p/c HTTP/1.1\r\n{fields}\r\n");
    match parse(text.as_bytes()) {
        Ok(Some((h, _))) => h,
        other => panic!("{fields:?}: {other:?}"),
    }
}

#[test]
fn body_framing() {
    let limits = Limits::default();
    assert_eq!(head_with("Content-Length: 12\r\n").body_kind(&limits), Ok(BodyKind::Length(12)));
    assert_eq!(head_with("Content-Length: 0\r\n").body_kind(&limits), Ok(BodyKind::None));
    assert_eq!(head_with("Content-Length: 5\r\nContent-Length: 5\r\n").body_kind(&limits), Ok(BodyKind::Length(5)));
    assert_eq!(head_with("Transfer-Encoding: Chunked\r\n").body_kind(&limits), Ok(BodyKind::Chunked));
    let refused = [
        ("Content-Length: 5\r\nContent-Length: 6\r\n", 400),
        ("Content-Length: -1\r\n", 400),
        ("Content-Length: 1e3\r\n", 400),
        ("Content-Length: 99999999999999999999999\r\n", 413),
        ("Content-Length: 2000000\r\n", 413),
        ("Transfer-Encoding: gzip, chunked\r\n", 501),
        ("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", 400),
    ];
    for (fields, status) in refused {
        let got = head_with(fields).body_kind(&limits);
        assert_eq!(got.map_err(|e| e.status()), Err(status), "{fields:?}");
    }
}

#[test]
fn upgrade_and_continue() {
    let h = head_with("Connection: keep-alive, Upgrade\r\nUpgrade: SPDY/3.1\r\nExpect: 100-Continue\r\n");
    assert!(h.is_upgrade() && h.expects_continue() && !h.wants_close());
    assert!(head_with("Connection: close\r\n").wants_close());
}
