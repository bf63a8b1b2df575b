//! The kubelet API's request path on any bytes: reading requests off a connection (head,
//! Content-Length and chunked bodies, pipelining), decoding queries, then routing them on
//! the read-only and the authenticated router. Never a panic; a parsed request keeps the
//! limits it was read with.
#![no_main]

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use rkubelet::api::core::Pod;
use rkubelet::kuberuntime::PodStatus;
use rkubelet::server::auth::authz::Authorizer;
use rkubelet::server::auth::Authenticator;
use rkubelet::server::http::reader::RequestReader;
use rkubelet::server::http::{Limits, url};
use rkubelet::server::listener::{Outcome, Peer, Service};
use rkubelet::server::routes::{Auth, ContainerLog, Deps, ExecOutput, Host, Router, parse_log_options};
use rkubelet::server::stats_api::Unavailable;
use rkubelet::server::streaming_api::NotWired;
use rkubelet::server::Checks;

/// The fuzz input as a connection: reads hand out a few bytes at a time, writes vanish.
struct Input<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Input<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.data.len().min(self.step).min(buf.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

impl Write for Input<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct NoHost;

impl Host for NoHost {
    fn running_pods(&self) -> Result<Vec<PodStatus>, String> {
        Ok(vec![PodStatus { uid: "u".into(), name: "web".into(), namespace: "default".into(), ..Default::default() }])
    }
    fn container_log(&self, _: &str) -> Result<ContainerLog, String> {
        Err("none".into())
    }
    fn exec_sync(&self, _: &str, _: &[String]) -> Result<ExecOutput, String> {
        Err("none".into())
    }
}

fn deps() -> Deps {
    let pod: Pod = serde_json::from_str(
        r#"{"metadata":{"name":"web","namespace":"default","uid":"u"},"spec":{"containers":[{"name":"app"}]},
            "status":{"containerStatuses":[{"name":"app","containerID":"containerd://c","state":{"waiting":{"reason":"x"}},"ready":false,"restartCount":0,"image":"","imageID":""}]}}"#,
    )
    .unwrap_or_default();
    Deps {
        node_name: "n".into(),
        checks: Checks::default().add("ping", Arc::new(|| Ok(()))),
        pods: Arc::new(move || vec![pod.clone()]),
        host: Arc::new(NoHost),
        stats: Arc::new(Unavailable),
        streaming: Arc::new(NotWired),
        config: serde_json::json!({}),
        machine: Arc::new(|| serde_json::json!({})),
        // A directory that does not exist: /logs/ must fail cleanly, and reads nothing real.
        node_log_dir: "/nonexistent-rk-fuzz".into(),
        debugging_handlers: true,
        system_log_handler: true,
    }
}

fn routers() -> &'static (Router, Router) {
    static ROUTERS: OnceLock<(Router, Router)> = OnceLock::new();
    ROUTERS.get_or_init(|| {
        let auth = Auth { authn: Authenticator { x509: None, token: None, anonymous: true }, authz: Authorizer::AlwaysAllow, node_name: "n".into() };
        (Router::read_only(deps()), Router::secure(deps(), auth))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&step, data)) = data.split_first() else { return };
    let limits = Limits { max_head_bytes: 4096, max_headers: 20, max_body_bytes: 4096 };
    let mut reader = RequestReader::new(limits, Duration::from_secs(60));
    let mut conn = Input { data, step: usize::from(step % 16) + 1 };
    let peer = Peer { addr: SocketAddr::from(([127, 0, 0, 1], 1)), certs: Vec::new() };
    let (read_only, secure) = routers();
    for _ in 0..8 {
        let Ok(req) = reader.read(&mut conn) else { return };
        assert!(req.body.len() <= limits.max_body_bytes);
        assert!(req.head.headers.len() <= limits.max_headers);
        let _ = parse_log_options(&req.query());
        let _ = url::percent_decode(&req.head.raw_query, true);
        for router in [read_only, secure] {
            // Streamed bodies and hand-offs need a socket; producing them must not panic.
            match router.serve(req.clone(), &peer) {
                Outcome::Reply(r) => assert!((100..600).contains(&r.status)),
                Outcome::Stream { .. } | Outcome::Upgrade(_) => {}
            }
        }
    }
});
