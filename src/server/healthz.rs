//! The healthz server (127.0.0.1:10248): `/healthz`, what the node's supervisor polls.

use std::net::SocketAddr;
use std::sync::Arc;

use super::{Checks, Reply, path_of, serve};

pub fn spawn(addr: SocketAddr, checks: Checks) -> std::io::Result<SocketAddr> {
    serve("healthz", addr, Arc::new(move |method, url| handle(&checks, method, url)))
}

fn handle(checks: &Checks, method: &str, url: &str) -> Reply {
    if method != "GET" && method != "HEAD" {
        return Reply::text(405, "method not allowed\n");
    }
    match path_of(url) {
        "/healthz" | "/healthz/" => checks.reply(url.contains("verbose")),
        "/healthz/ping" => Reply::text(200, "ok"),
        _ => Reply::not_found(),
    }
}
