//! The node's HTTP endpoints.
//!
//! | port | module | what |
//! | --- | --- | --- |
//! | healthzBindAddress:healthzPort (127.0.0.1:10248) | [`healthz`] | `/healthz` for the supervisor |
//! | address:readOnlyPort (0.0.0.0:10255, off when 0) | [`readonly`] | unauthenticated reads: `/pods`, `/healthz` |
//!
//! Each server is a `tiny_http` listener on its own thread; every request is answered on a
//! short-lived thread of its own, so a slow client never holds up another.

pub mod checks;
pub mod healthz;
pub mod readonly;

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
