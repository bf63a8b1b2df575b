//! The node's HTTP endpoints.
//!
//! | port | module | what |
//! | --- | --- | --- |
//! | healthzBindAddress:healthzPort (127.0.0.1:10248) | [`healthz`] | `/healthz` for the supervisor (tiny_http) |
//! | address:port (0.0.0.0:10250, enableServer) | [`secure`] | the kubelet API over HTTPS, authenticated and authorized |
//! | address:readOnlyPort (0.0.0.0:10255, off when 0) | [`secure`] | the unauthenticated read endpoints over HTTP |
//!
//! The two kubelet API ports share our own HTTP/1.1 stack ([`http`], [`listener`]): the
//! authenticated port must see client certificates and hand upgraded connections to the
//! streaming proxy, which tiny_http cannot do.
//!
//! | module | what |
//! | --- | --- |
//! | [`http`] | request parsing (sans-I/O), chunked bodies, queries, response writing |
//! | [`listener`] | TLS or plain connections, one thread each, keep-alive, timeouts, hand-off |
//! | [`tls`] | serving certificate (reloaded on change), versions, cipher suites, client certs |
//! | [`auth`] | x509 / token / anonymous authentication; AlwaysAllow / Webhook authorization |
//! | [`routes`] | the endpoints, and which port offers which |
//! | [`host`] | the runtime behind them in the agent (PLEG cache, CRI) |
//! | [`streaming_api`], [`stats_api`] | the seams for the streaming proxy and the stats provider |
//! | [`secure`] | starting both ports from the configuration |

pub mod auth;
pub mod checks;
pub mod healthz;
pub mod host;
pub mod http;
pub mod listener;
pub mod routes;
pub mod secure;
pub mod stats_api;
pub mod streaming_api;
pub mod tls;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

pub use checks::Checks;

/// A request handler: from (method, url) to (status, content type, body).
pub type Handler = Arc<dyn Fn(&str, &str) -> Reply + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply { status, content_type: "text/plain; charset=utf-8", body: body.into().into_bytes() }
    }

    pub fn json(body: Vec<u8>) -> Reply {
        Reply { status: 200, content_type: "application/json", body }
    }

    pub fn not_found() -> Reply {
        Reply::text(404, "404 page not found\n")
    }
}

/// Serve `handler` on `addr` from a named thread; returns the bound address (port 0 picks one).
pub fn serve(name: &str, addr: SocketAddr, handler: Handler) -> io::Result<SocketAddr> {
    let server = tiny_http::Server::http(addr).map_err(|e| io::Error::other(format!("listen on {addr}: {e}")))?;
    let bound = server.server_addr().to_ip().unwrap_or(addr);
    let thread_name = format!("rk-http-{name}");
    std::thread::Builder::new().name(thread_name).spawn(move || {
        for request in server.incoming_requests() {
            let handler = handler.clone();
            // One thread per request: answers are small, and a slow reader only holds its own.
            let spawned = std::thread::Builder::new().name("rk-http-req".into()).spawn(move || respond(request, &handler));
            if let Err(e) = spawned {
                log::warn!("cannot start a thread for an HTTP request: {e}");
            }
        }
    })?;
    Ok(bound)
}

fn respond(request: tiny_http::Request, handler: &Handler) {
    let method = request.method().as_str().to_string();
    let reply = handler(&method, request.url());
    let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], reply.content_type.as_bytes());
    let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    if let Ok(h) = header {
        response = response.with_header(h);
    }
    // The client may be gone already; nothing to do about it.
    let _ = request.respond(response);
}

/// The path of a request URL, without the query.
pub fn path_of(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}
