//! exec, attach and port-forward through `streaming::Handler` to a real containerd's streaming
//! server, spoken as WebSocket `v4.channel.k8s.io` by a client of our own: the proxy carries
//! real sessions end to end (containerd does the framing; we never look inside).
//!
//! Needs root and `CONTAINER_RUNTIME_ENDPOINT` (`scripts/containerd.sh up`, then
//! `scripts/images.sh import`); prints `SKIPPED` otherwise.

#![allow(clippy::unwrap_used)]

mod cri_support;
mod streaming_support;

use std::time::Duration;

use cri_support::*;
use rkubelet::api::core::{Container, Pod};
use rkubelet::cri::ContainerState;
use rkubelet::streaming::{Handler, ProxyConfig};
use streaming_support::{Ws, channel_text};

const WEB_SCRIPT: &str =
    "mkdir -p /www && echo hello-from-httpd > /www/index.html && exec httpd -f -p 8080 -h /www";
const TICKER_SCRIPT: &str = "trap 'exit 0' TERM; while true; do echo tick; sleep 0.2; done";

/// A pod with an httpd container `web` and a ticking `ticker`, and a kubelet stand-in that
/// knows it; returns the pod (dropped: removed), its name, and the stand-in's address.
fn setup(client: &rkubelet::cri::Client, name: &str) -> (TestPod, String) {
    let pod = TestPod::run(client, name);
    for (container, script) in [("web", WEB_SCRIPT), ("ticker", TICKER_SCRIPT)] {
        let id = pod.create(pod.container_config(container, script)).unwrap();
        pod.start(&id);
    }
    wait_for("both containers running", TIMEOUT, || {
        let running = pod.containers().iter().filter(|c| c.state == ContainerState::RUNNING).count();
        (running == 2).then_some(())
    });
    let mut api_pod = Pod::default();
    api_pod.metadata.name = Some(name.into());
    api_pod.metadata.namespace = Some(NAMESPACE.into());
    api_pod.metadata.uid = Some(pod.uid.clone());
    api_pod.spec.containers =
        ["web", "ticker"].map(|c| Container { name: c.into(), ..Default::default() }).to_vec();
    let pods = move |ns: &str, n: &str| {
        (ns == NAMESPACE && n == api_pod.metadata.name.as_deref().unwrap()).then(|| api_pod.clone())
    };
    let proxy = ProxyConfig { idle_timeout: Some(Duration::from_secs(60)), handshake_timeout: TIMEOUT };
    let addr = streaming_support::serve(
        Handler { runtime: client.clone(), proxy, translate_websockets: true },
        pods,
    );
    (pod, addr)
}

#[test]
fn exec_attach_and_port_forward_through_the_proxy() {
    let Some(endpoint) = endpoint() else { return };
    let _turn = serial();
    let client = cri_support::client(&endpoint);
    let name = "stream-e2e";
    let (_pod, addr) = setup(&client, name);
    let base = format!("{NAMESPACE}/{name}");

    // exec of a command: its output on channel 1, and a Success status on channel 3.
    let mut ws = Ws::connect(
        &addr,
        &format!("/exec/{base}/web?command=echo&command=hi&output=1&error=1"),
        "v4.channel.k8s.io",
    );
    assert!(ws.response.contains("v4.channel.k8s.io"), "{}", ws.response);
    let got = ws.channels_until(|_| false);
    assert_eq!(channel_text(&got, 1), "hi\n");
    assert!(channel_text(&got, 3).contains("\"status\":\"Success\""), "{got:?}");

    // A failing command: stderr on channel 2, the exit code in the status.
    let target = format!(
        "/exec/{base}/web?command=sh&command=-c&command=echo%20oops%20%3E%262%3B%20exit%203&output=1&error=1"
    );
    let got = Ws::connect(&addr, &target, "v4.channel.k8s.io").channels_until(|_| false);
    assert_eq!(channel_text(&got, 2), "oops\n");
    let status = channel_text(&got, 3);
    assert!(status.contains("NonZeroExitCode") && status.contains("\"message\":\"3\""), "{status}");

    // exec -i: stdin reaches the process (`head -c 6` ends once it has read six bytes).
    let mut ws = Ws::connect(
        &addr,
        &format!("/exec/{base}/web?command=head&command=-c&command=6&input=1&output=1"),
        "v4.channel.k8s.io",
    );
    ws.send_channel(0, b"abc");
    ws.send_channel(0, b"def\n");
    let got = ws.channels_until(|_| false);
    assert_eq!(channel_text(&got, 1), "abcdef");

    // attach: the running process's output.
    let mut ws = Ws::connect(&addr, &format!("/attach/{base}/ticker?output=1"), "v4.channel.k8s.io");
    let got = ws.channels_until(|got| channel_text(got, 1).matches("tick").count() >= 2);
    assert!(channel_text(&got, 1).starts_with("tick\n"), "{got:?}");
    // Closing our side ends the session (the proxy shuts the runtime's side in turn).
    ws.stream.shutdown(std::net::Shutdown::Write).unwrap();
    while ws.recv().is_some() {}

    // port-forward to the pod's httpd: the port comes first on both channels, then the data.
    let mut ws = Ws::connect(&addr, &format!("/portForward/{base}?port=8080"), "v4.channel.k8s.io");
    let first = ws.channels_until(|got| got.len() >= 2);
    assert_eq!(
        first,
        [(0, vec![0x90, 0x1f]), (1, vec![0x90, 0x1f])],
        "port 8080 little-endian on data and error"
    );
    ws.send_channel(0, b"GET /index.html HTTP/1.0\r\n\r\n");
    let got = ws.channels_until(|got| channel_text(got, 0).contains("hello-from-httpd"));
    let body = channel_text(&got, 0);
    assert!(body.starts_with("HTTP/1.") && body.contains("hello-from-httpd"), "{body}");
}

#[test]
fn errors_come_back_as_upstream_sends_them() {
    let Some(endpoint) = endpoint() else { return };
    let _turn = serial();
    let client = cri_support::client(&endpoint);
    let name = "stream-errors";
    let (_pod, addr) = setup(&client, name);
    let base = format!("{NAMESPACE}/{name}");
    for (target, status) in [
        (format!("/exec/{NAMESPACE}/nosuchpod/web?command=true&output=1"), 404),
        (format!("/exec/{base}/nosuchcontainer?command=true&output=1"), 500),
        (format!("/exec/{base}/web?command=true"), 400),
        (format!("/portForward/{base}"), 400),
    ] {
        let (got, response, _) = Ws::handshake(&addr, &target, "v4.channel.k8s.io");
        assert_eq!(got, status, "{target}: {response}");
    }
    // A protocol nobody speaks: containerd's refusal reaches the client as it was sent, so
    // kubectl sees an upgrade failure and falls back to SPDY.
    let target = format!("/exec/{base}/web?command=true&output=1");
    let (got, response, _) = Ws::handshake(&addr, &target, "v9.nonsense");
    assert!((400..500).contains(&got), "v9.nonsense: {response}");
    // v5 (which containerd refuses) is translated to SPDY by rkubelet itself: accepted.
    let (got, response, _) = Ws::handshake(&addr, &target, "v5.channel.k8s.io");
    assert_eq!(got, 101, "v5.channel.k8s.io: {response}");
}
