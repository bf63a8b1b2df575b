//! The HTTP probe against a small local server.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use super::http::{Request, dechunk, judge, parse_head, probe, resolve};
use super::run::{Verdict, http_request, resolve_port};
use crate::api::core::{Container, ContainerPort, HTTPGetAction, HTTPHeader};
use crate::api::intstr::IntOrString;

/// Serves connections until the test ends: `respond(path)` gives the raw response; the
/// request heads are sent back to the test.
fn serve(respond: fn(&str, u16) -> String) -> (u16, mpsc::Receiver<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            let mut buf = Vec::new();
            let mut b = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut b) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&b[..n]),
                }
            }
            let head = String::from_utf8_lossy(&buf).to_string();
            let path = head.split(' ').nth(1).unwrap_or("").to_string();
            let _ = tx.send(head);
            let _ = s.write_all(respond(&path, port).as_bytes());
        }
    });
    (port, rx)
}

fn get(port: u16, path: &str) -> Request {
    Request { https: false, host: "127.0.0.1".into(), port, path: path.into(), headers: Vec::new() }
}

fn respond(path: &str, port: u16) -> String {
    match path {
        "/ok" => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".into(),
        "/chunked" => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n".into(),
        "/fail" => "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n".into(),
        "/local" => "HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 0\r\n\r\n".into(),
        "/abs" => format!("HTTP/1.1 301 Moved\r\nLocation: http://127.0.0.1:{port}/ok\r\n\r\n"),
        "/away" => "HTTP/1.1 302 Found\r\nLocation: http://elsewhere.invalid/x\r\nContent-Length: 4\r\n\r\nmove".into(),
        "/loop" => "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n".into(),
        _ => "HTTP/1.1 404 Not Found\r\n\r\n".into(),
    }
}

#[test]
fn status_codes_and_bodies() {
    let (port, heads) = serve(respond);
    let t = Duration::from_secs(5);
    assert_eq!(probe(&get(port, "/ok"), t), (Verdict::Success, "ok".into()));
    let head = heads.recv().unwrap();
    assert!(head.starts_with("GET /ok HTTP/1.1\r\n"), "{head}");
    assert!(head.contains(&format!("Host: 127.0.0.1:{port}\r\n")), "{head}");
    assert!(head.contains("User-Agent: kube-probe/1.37\r\n"), "{head}");
    assert!(head.contains("Accept: */*\r\n"), "{head}");
    assert_eq!(probe(&get(port, "/chunked"), t), (Verdict::Success, "abcde".into()));
    assert_eq!(probe(&get(port, "/fail"), t), (Verdict::Failure, "HTTP probe failed with statuscode: 503".into()));
}

#[test]
fn redirects_local_followed_remote_warned_loops_fail() {
    let (port, _heads) = serve(respond);
    let t = Duration::from_secs(5);
    assert_eq!(probe(&get(port, "/local"), t), (Verdict::Success, "ok".into()));
    assert_eq!(probe(&get(port, "/abs"), t), (Verdict::Success, "ok".into()));
    assert_eq!(
        probe(&get(port, "/away"), t),
        (Verdict::Warning, "Probe terminated redirects, Response body: move".into())
    );
    let (v, msg) = probe(&get(port, "/loop"), t);
    assert_eq!(v, Verdict::Failure);
    assert!(msg.ends_with("stopped after 10 redirects"), "{msg}");
}

#[test]
fn user_headers_override_defaults() {
    let (port, heads) = serve(respond);
    let mut r = get(port, "/ok");
    r.headers = vec![("Host".into(), "example.com".into()), ("Accept".into(), String::new()), ("X-Probe".into(), "1".into())];
    assert_eq!(probe(&r, Duration::from_secs(5)).0, Verdict::Success);
    let head = heads.recv().unwrap();
    assert!(head.contains("Host: example.com\r\n"), "{head}");
    assert!(!head.contains("Accept:"), "an empty Accept removes it: {head}");
    assert!(head.contains("X-Probe: 1\r\n"), "{head}");
}

#[test]
fn refused_and_timeout_fail() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (v, msg) = probe(&get(port, "/"), Duration::from_secs(1));
    assert_eq!(v, Verdict::Failure);
    assert_eq!(msg, format!("Get \"http://127.0.0.1:{port}/\": dial tcp 127.0.0.1:{port}: connect: connection refused"));
    // Accepts but never answers.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (v, msg) = probe(&get(port, "/"), Duration::from_secs(1));
    assert_eq!(v, Verdict::Failure);
    assert!(msg.contains("Client.Timeout exceeded"), "{msg}");
    drop(l);
}

#[test]
fn pieces() {
    assert_eq!(dechunk(b"4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n"), b"Wikipedia");
    let (code, headers) = parse_head(b"HTTP/1.1 301 Moved\r\nLocation: /x\r\n\r\n").unwrap();
    assert_eq!(code, 301);
    assert_eq!(headers, vec![("location".to_string(), "/x".to_string())]);
    let from = Request { https: false, host: "10.0.0.1".into(), port: 8080, path: "/a/b?q".into(), headers: vec![] };
    assert_eq!(resolve(&from, "c").unwrap().path, "/a/c");
    assert_eq!(resolve(&from, "/d").unwrap().url(), "http://10.0.0.1:8080/d");
    assert_eq!(resolve(&from, "https://h/e").unwrap().url(), "https://h:443/e");
    assert_eq!(resolve(&from, "//[fd00::1]:9/").unwrap().url(), "http://[fd00::1]:9/");
    let resp = super::http::Response { status: 204, location: None, body: String::new() };
    assert_eq!(judge(&resp).0, Verdict::Success);
}

#[test]
fn request_from_spec() {
    let c = Container {
        ports: vec![ContainerPort { name: Some("web".into()), container_port: 8080, ..Default::default() }],
        ..Default::default()
    };
    let get = HTTPGetAction {
        path: Some("healthz".into()),
        port: IntOrString::String("web".into()),
        scheme: Some("HTTPS".into()),
        http_headers: vec![HTTPHeader { name: "X".into(), value: "y".into() }],
        ..Default::default()
    };
    let r = http_request(&get, &c, "10.1.2.3").unwrap();
    assert_eq!(r.url(), "https://10.1.2.3:8080/healthz");
    assert_eq!(r.headers, vec![("X".to_string(), "y".to_string())]);
    assert!(resolve_port(&IntOrString::String("nope".into()), &c).is_err());
    assert!(resolve_port(&IntOrString::Int(0), &c).is_err());
    assert!(resolve_port(&IntOrString::Int(70000), &c).is_err());
}
