//! The seam between the kubelet API server and the streaming proxy (exec, attach,
//! port-forward).
//!
//! The server parses the request, authenticates and authorizes it, matches upstream's URL
//! forms and checks that the pod exists (404 `pod does not exist` otherwise, as upstream),
//! then hands the connection over:
//!
//! ```text
//!   /exec/{ns}/{pod}[/{uid}]/{container}       GET|POST  StreamKind::Exec
//!   /attach/{ns}/{pod}[/{uid}]/{container}     GET|POST  StreamKind::Attach
//!   /portForward/{ns}/{pod}[/{uid}]            GET|POST  StreamKind::PortForward
//! ```
//!
//! From then on the handler owns the connection: it writes the response itself (`101
//! Switching Protocols`, or an error with [`write_error`]) and proxies until either side
//! closes. The server closes the connection when `handle` returns.

use std::io::{self, Read, Write};
use std::net::TcpStream;

use super::http::{Framing, Request, Response, response};
use crate::api::core::Pod;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Exec,
    Attach,
    PortForward,
}

impl StreamKind {
    /// The first path segment, as in upstream's routes.
    pub fn path_prefix(self) -> &'static str {
        match self {
            StreamKind::Exec => "exec",
            StreamKind::Attach => "attach",
            StreamKind::PortForward => "portForward",
        }
    }
}

/// What the URL named, and the pod it resolved to.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamParams {
    pub namespace: String,
    pub pod_name: String,
    /// The UID segment of the 4-part (3-part for port-forward) form, if given.
    pub uid: Option<String>,
    /// The container (exec and attach); `None` for port-forward.
    pub container: Option<String>,
    /// Exec's `command` query parameters, in order (empty for attach and port-forward).
    pub command: Vec<String>,
    /// The pod as the node knows it (from the pod manager / status manager).
    pub pod: Pod,
}

/// A byte stream in both directions.
pub trait ReadWrite: Read + Write + Send {}
impl<T: Read + Write + Send> ReadWrite for T {}

/// The client's connection after the request head.
///
/// `stream` is the TLS session (or the plain socket), positioned after the request head:
/// bytes the client sent after the head are returned by its first reads. `socket` is a clone
/// of the underlying TCP socket for timeouts (`set_read_timeout`, e.g. for
/// streamingConnectionIdleTimeout or to poll a TLS stream shared between two threads),
/// `shutdown` and `peer_addr`; never read or write it directly on a TLS connection.
pub struct Upgraded {
    pub stream: Box<dyn ReadWrite>,
    pub socket: TcpStream,
}

/// Implemented by the streaming proxy; installed with `server::secure::Deps::streaming`.
pub trait StreamingHandler: Send + Sync {
    fn handle(&self, req: &Request, kind: StreamKind, params: StreamParams, conn: Upgraded);
}

/// Writes a complete error response on a handed-over connection (Go's `http.Error` shape).
pub fn write_error(conn: &mut dyn Write, status: u16, message: &str) -> io::Result<()> {
    response::write_response(conn, &Response::error(status, message), false, false)
}

/// Writes a `101 Switching Protocols` head with the given fields (`Connection`, `Upgrade`
/// and the protocol's own).
pub fn write_switching_protocols(conn: &mut dyn Write, headers: &[(String, String)]) -> io::Result<()> {
    response::write_head(conn, 101, headers, Framing::None, true)?;
    conn.flush()
}

/// Until the streaming proxy is wired in: 501 for every streaming request.
pub struct NotWired;

impl StreamingHandler for NotWired {
    fn handle(&self, _req: &Request, kind: StreamKind, _params: StreamParams, mut conn: Upgraded) {
        let msg = format!("{} is not implemented by this kubelet yet", kind.path_prefix());
        // The client may be gone; nothing else to do with the connection.
        let _ = write_error(&mut conn.stream, 501, &msg);
    }
}
