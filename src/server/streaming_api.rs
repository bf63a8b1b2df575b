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

/// Which streaming endpoint a request is for (the server's routes and the streaming proxy
/// share it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    Exec,
    Attach,
    PortForward,
}

impl StreamKind {
    /// The kind of a path's first segment: `exec`, `attach` or `portForward`.
    pub fn from_segment(segment: &str) -> Option<StreamKind> {
        match segment {
            "exec" => Some(StreamKind::Exec),
            "attach" => Some(StreamKind::Attach),
            "portForward" => Some(StreamKind::PortForward),
            _ => None,
        }
    }

    /// The kind of a request path, if it is a streaming one.
    pub fn of_path(path: &str) -> Option<StreamKind> {
        StreamKind::from_segment(path.strip_prefix('/')?.split('/').next()?)
    }

    /// The first path segment, as in upstream's routes.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Exec => "exec",
            StreamKind::Attach => "attach",
            StreamKind::PortForward => "portForward",
        }
    }
}

/// What a streaming URL names: one of the forms above, as path segments (the kind first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamPath<'a> {
    pub kind: StreamKind,
    pub namespace: &'a str,
    pub pod: &'a str,
    pub uid: Option<&'a str>,
    /// `None` for port-forward.
    pub container: Option<&'a str>,
}

impl<'a> StreamPath<'a> {
    /// The path of `segments` (`["exec", ns, pod, container]`...), or `None` when they are not
    /// one of the forms. Empty segments are the caller's to refuse or look up.
    pub fn parse(segments: &[&'a str]) -> Option<StreamPath<'a>> {
        let (first, rest) = segments.split_first()?;
        let kind = StreamKind::from_segment(first)?;
        let (namespace, pod, uid, container) = match (kind, rest) {
            (StreamKind::PortForward, [ns, pod]) => (*ns, *pod, None, None),
            (StreamKind::PortForward, [ns, pod, uid]) => (*ns, *pod, Some(*uid), None),
            (StreamKind::Exec | StreamKind::Attach, [ns, pod, c]) => (*ns, *pod, None, Some(*c)),
            (StreamKind::Exec | StreamKind::Attach, [ns, pod, uid, c]) => (*ns, *pod, Some(*uid), Some(*c)),
            _ => return None,
        };
        Some(StreamPath { kind, namespace, pod, uid, container })
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
        let msg = format!("{} is not implemented by this kubelet yet", kind.as_str());
        // The client may be gone; nothing else to do with the connection.
        let _ = write_error(&mut conn.stream, 501, &msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_forms() {
        let exec = StreamPath::parse(&["exec", "ns", "web", "app"]);
        let want = StreamPath { kind: StreamKind::Exec, namespace: "ns", pod: "web", uid: None, container: Some("app") };
        assert_eq!(exec, Some(want));
        let attach = StreamPath::parse(&["attach", "ns", "web", "u-1", "app"]).map(|p| (p.kind, p.uid, p.container));
        assert_eq!(attach, Some((StreamKind::Attach, Some("u-1"), Some("app"))));
        let forward = StreamPath::parse(&["portForward", "ns", "web", "u-1"]).map(|p| (p.kind, p.uid, p.container));
        assert_eq!(forward, Some((StreamKind::PortForward, Some("u-1"), None)));
        for bad in [&["exec", "ns", "web"][..], &["portForward", "ns"], &["run", "ns", "web", "app"], &[]] {
            assert_eq!(StreamPath::parse(bad), None, "{bad:?}");
        }
        assert_eq!(StreamKind::of_path("/portForward/a/b").map(StreamKind::as_str), Some("portForward"));
    }
}
