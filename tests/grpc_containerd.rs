//! gRPC calls against a real containerd, at the byte level (typed CRI messages live
//! elsewhere). Needs `CONTAINER_RUNTIME_ENDPOINT=unix:///path/to/containerd.sock`.
//!
//! Set `RK_CAPTURE_GOLDEN=<dir>` to also write the raw response messages of a few calls
//! into `<dir>/*.bin` (how `tests/golden/cri/` was made).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use rkubelet::grpc::{Channel, Code, Unary};

const VERSION: &str = "/runtime.v1.RuntimeService/Version";
const TIMEOUT: Option<Duration> = Some(Duration::from_secs(10));

fn channel() -> Option<Channel> {
    let Ok(endpoint) = std::env::var("CONTAINER_RUNTIME_ENDPOINT") else {
        println!("SKIPPED: CONTAINER_RUNTIME_ENDPOINT not set");
        return None;
    };
    Some(Channel::new(&endpoint).unwrap_or_else(|e| panic!("{e}")))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn version_reports_containerd() {
    let Some(ch) = channel() else { return };
    // VersionRequest{version: "v1"}: field 1, length-delimited.
    for request in [&b""[..], b"\x0a\x02v1"] {
        let t = Instant::now();
        let resp = ch.unary(VERSION, request, TIMEOUT).unwrap_or_else(|e| panic!("Version: {e}"));
        println!("Version took {:?}: {:?}", t.elapsed(), String::from_utf8_lossy(&resp));
        assert!(contains(&resp, b"containerd"), "{resp:?}");
    }
}

#[test]
fn unknown_method_is_unimplemented() {
    let Some(ch) = channel() else { return };
    let e = ch.unary("/runtime.v1.RuntimeService/NoSuchMethod", b"", TIMEOUT).unwrap_err();
    assert_eq!(e.code, Code::Unimplemented, "{e}");
    let e = ch.unary("/no.such.Service/Version", b"", TIMEOUT).unwrap_err();
    assert_eq!(e.code, Code::Unimplemented, "{e}");
}

#[test]
fn not_found_carries_the_runtime_message() {
    let Some(ch) = channel() else { return };
    // ContainerStatusRequest{container_id: "rk-no-such-container"}
    let mut req = vec![0x0a, 20];
    req.extend_from_slice(b"rk-no-such-container");
    let e = ch.unary("/runtime.v1.RuntimeService/ContainerStatus", &req, TIMEOUT).unwrap_err();
    assert_eq!(e.code, Code::NotFound, "{e}");
    assert!(e.message.contains("rk-no-such-container"), "{e}");
}

#[test]
fn fifty_concurrent_calls_from_eight_threads() {
    let Some(ch) = channel() else { return };
    let ch = Arc::new(ch);
    let t = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let ch = ch.clone();
            std::thread::spawn(move || {
                let calls = if i < 2 { 7 } else { 6 }; // 2*7 + 6*6 = 50
                for _ in 0..calls {
                    let resp = ch.unary(VERSION, b"", TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
                    assert!(contains(&resp, b"containerd"));
                }
                calls
            })
        })
        .collect();
    let total: usize = threads.into_iter().map(|t| t.join().unwrap_or_else(|_| panic!("thread"))).sum();
    assert_eq!(total, 50);
    println!("50 calls from 8 threads took {:?}", t.elapsed());
}

#[test]
fn large_request_is_delivered() {
    let Some(ch) = channel() else { return };
    // VersionRequest with a 5 MiB `version` string: well past the default 64 KiB windows,
    // so the request streams through WINDOW_UPDATEs. containerd ignores the value.
    let n = 5 << 20;
    let mut req = vec![0x0a];
    let mut len = n;
    while len >= 0x80 {
        req.push(u8::try_from(len & 0x7f).unwrap_or(0) | 0x80);
        len >>= 7;
    }
    req.push(u8::try_from(len).unwrap_or(0));
    req.resize(req.len() + n, b'v');
    let t = Instant::now();
    let resp = ch.unary(VERSION, &req, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    println!("5 MiB request took {:?}", t.elapsed());
    assert!(contains(&resp, b"containerd"));
}

/// The image `tests/golden/cri/README.md` describes, imported before capturing.
const GOLDEN_IMAGE: &str = "docker.io/rkubelet/golden:1.0";

fn len_byte(n: usize) -> u8 {
    u8::try_from(n).ok().filter(|&b| b < 0x80).unwrap_or_else(|| panic!("length {n} needs a longer varint"))
}

#[test]
fn capture_golden_responses() {
    let Some(ch) = channel() else { return };
    let Ok(dir) = std::env::var("RK_CAPTURE_GOLDEN") else {
        println!("SKIPPED: RK_CAPTURE_GOLDEN not set (nothing to capture)");
        return;
    };
    // ImageStatusRequest{image: ImageSpec{image: GOLDEN_IMAGE}, verbose: true}
    let spec = [&[0x0a, len_byte(GOLDEN_IMAGE.len())][..], GOLDEN_IMAGE.as_bytes()].concat();
    let image_status = [&[0x0a, len_byte(spec.len())][..], &spec, &[0x10, 0x01]].concat();
    let calls = [
        ("version", VERSION, &b""[..]),
        // StatusRequest{verbose: true}
        ("status_verbose", "/runtime.v1.RuntimeService/Status", b"\x08\x01"),
        ("list_images", "/runtime.v1.ImageService/ListImages", b""),
        ("image_status_verbose", "/runtime.v1.ImageService/ImageStatus", &image_status),
        ("image_fs_info", "/runtime.v1.ImageService/ImageFsInfo", b""),
    ];
    for (name, method, req) in calls {
        let resp = ch.unary(method, req, TIMEOUT).unwrap_or_else(|e| panic!("{method}: {e}"));
        let path = format!("{dir}/{name}.bin");
        std::fs::write(&path, &resp).unwrap_or_else(|e| panic!("{path}: {e}"));
        println!("captured {path} ({} bytes)", resp.len());
    }
}

/// A response larger than our 4 MiB stream window, so it arrives only if we send
/// WINDOW_UPDATEs as we consume it: `ImageStatus(verbose)` of an image whose config is
/// ~9 MiB (the verbose info holds the config JSON). `RK_BIG_IMAGE` names such an image,
/// already imported in `k8s.io`; one was made as an OCI layout whose config has 9,000
/// environment entries of 1 KB each, imported with `ctr -n k8s.io images import`.
#[test]
fn large_response_streams_through_window_updates() {
    let Some(ch) = channel() else { return };
    let Ok(image) = std::env::var("RK_BIG_IMAGE") else {
        println!("SKIPPED: RK_BIG_IMAGE not set (an image with a multi-MiB config)");
        return;
    };
    let spec = [&[0x0a, len_byte(image.len())][..], image.as_bytes()].concat();
    let req = [&[0x0a, len_byte(spec.len())][..], &spec, &[0x10, 0x01]].concat();
    let t = Instant::now();
    let resp = ch.unary("/runtime.v1.ImageService/ImageStatus", &req, TIMEOUT).unwrap();
    println!("ImageStatus of {} bytes took {:?}", resp.len(), t.elapsed());
    assert!(resp.len() > 4 << 20, "{image} has no large config: {} bytes", resp.len());
}
