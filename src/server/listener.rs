//! The connection layer of the kubelet API port (TLS) and the read-only port (plain TCP).
//!
//! ```text
//!   rk-api-<name> (accept) ──► one thread per connection (at most max_connections)
//!        │  TLS handshake (bounded by request_timeout), peer certificates
//!        └─ loop: read request (idle_timeout between requests, request_timeout for one)
//!                   ──► Service::serve ──► Reply (whole) | Stream (chunked/length) | Upgrade
//!                   keep-alive unless the client or the outcome ends it
//! ```
//!
//! Socket timeouts bound every read and write, so a slow or silent client holds only its
//! own thread, and only for a while.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rustls::pki_types::CertificateDer;
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use super::http::reader::{ReadError, RequestReader};
use super::http::response::{self, ChunkedWriter};
use super::http::{Framing, Limits, Request, Response};
use super::streaming_api::{ReadWrite, Upgraded};
use crate::metrics::kubelet as m;

pub struct ListenConfig {
    /// Thread names and the `server_type` metric label ("readwrite", "readonly").
    pub name: &'static str,
    pub tls: Option<Arc<ServerConfig>>,
    pub max_connections: usize,
    /// How long a kept-alive connection may sit idle between requests.
    pub idle_timeout: Duration,
    /// How long a TLS handshake, or one request once begun, may take to arrive.
    pub request_timeout: Duration,
    /// How long one write may block on a client that does not read.
    pub write_timeout: Duration,
    pub limits: Limits,
}

impl ListenConfig {
    pub fn new(name: &'static str, tls: Option<Arc<ServerConfig>>) -> ListenConfig {
        ListenConfig {
            name,
            tls,
            max_connections: 256,
            idle_timeout: Duration::from_secs(90),
            request_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(60),
            limits: Limits::default(),
        }
    }
}

/// Who is on the other end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub addr: SocketAddr,
    /// The client's certificate chain (TLS with a client CA only), leaf first.
    pub certs: Vec<CertificateDer<'static>>,
}

/// A streamed body: written through the given writer, which sends what it gets at once.
pub type BodyFn = Box<dyn FnOnce(&mut BodyWriter<'_>) -> io::Result<()> + Send>;

/// Where a streamed body goes. Writes are sent at once (as chunks when no length was
/// given); [`BodyWriter::client_gone`] tells a body that waits (`logs -f`) whether anyone
/// is still listening.
pub struct BodyWriter<'a> {
    stream: &'a mut dyn ReadWrite,
    socket: &'a TcpStream,
    chunked: bool,
}

impl BodyWriter<'_> {
    /// True when the client has closed its side (or the connection broke). Anything the
    /// client sends meanwhile is discarded: it may not send during a streamed response.
    pub fn client_gone(&mut self) -> bool {
        let restore = self.socket.read_timeout().ok().flatten();
        if self.socket.set_read_timeout(Some(Duration::from_millis(1))).is_err() {
            return true;
        }
        let mut byte = [0u8; 64];
        let gone = match self.stream.read(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted),
        };
        let _ = self.socket.set_read_timeout(restore);
        gone
    }

    fn finish(self) -> io::Result<()> {
        if self.chunked {
            ChunkedWriter::new(self.stream).finish()
        } else {
            self.stream.flush()
        }
    }
}

impl Write for BodyWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.chunked {
            ChunkedWriter::new(self.stream).write(buf)
        } else {
            let n = self.stream.write(buf)?;
            self.stream.flush()?;
            Ok(n)
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// What a request gets.
pub enum Outcome {
    Reply(Response),
    /// A head, then a body produced as it goes: chunked without a length (logs), or exactly
    /// `length` bytes (files).
    Stream { status: u16, headers: Vec<(String, String)>, length: Option<u64>, body: BodyFn },
    /// The connection is handed over (exec, attach, port-forward).
    Upgrade(Box<dyn FnOnce(Upgraded) + Send>),
}

pub trait Service: Send + Sync + 'static {
    fn serve(&self, req: Request, peer: &Peer) -> Outcome;
}

/// Binds `addr` and serves connections from a named thread; returns the bound address.
pub fn spawn(cfg: ListenConfig, addr: SocketAddr, service: Arc<dyn Service>) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr)?;
    let bound = listener.local_addr()?;
    let cfg = Arc::new(cfg);
    std::thread::Builder::new().name(format!("rk-api-{}", cfg.name)).spawn(move || accept_loop(listener, cfg, service))?;
    Ok(bound)
}

/// Decrements the live-connection count when a connection thread ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn accept_loop(listener: TcpListener, cfg: Arc<ListenConfig>, service: Arc<dyn Service>) {
    let live = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                // Out of descriptors, most likely: let some connections end.
                log::warn!("{} server: accept failed: {e}", cfg.name);
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if live.fetch_add(1, Ordering::AcqRel) >= cfg.max_connections {
            live.fetch_sub(1, Ordering::AcqRel);
            log::debug!("{} server: {} connections already, refusing one", cfg.name, cfg.max_connections);
            drop(stream);
            continue;
        }
        let slot = Slot(live.clone());
        let (conn_cfg, service) = (cfg.clone(), service.clone());
        let spawned = std::thread::Builder::new().name(format!("rk-api-{}-conn", cfg.name)).spawn(move || {
            let _slot = slot;
            if let Err(e) = connection(stream, &conn_cfg, service.as_ref()) {
                log::debug!("{} server: connection ended: {e}", conn_cfg.name);
            }
        });
        if let Err(e) = spawned {
            log::warn!("{} server: cannot start a connection thread: {e}", cfg.name);
        }
    }
}

fn connection(stream: TcpStream, cfg: &ListenConfig, service: &dyn Service) -> io::Result<()> {
    let addr = stream.peer_addr()?;
    let socket = stream.try_clone()?;
    socket.set_write_timeout(Some(cfg.write_timeout))?;
    socket.set_nodelay(true)?;
    let Some(tls) = &cfg.tls else {
        return serve(stream, socket, Peer { addr, certs: Vec::new() }, cfg, service).map(drop);
    };
    socket.set_read_timeout(Some(cfg.request_timeout))?;
    let conn = ServerConnection::new(tls.clone()).map_err(io::Error::other)?;
    let mut tls = StreamOwned::new(conn, stream);
    let deadline = Instant::now() + cfg.request_timeout;
    while tls.conn.is_handshaking() {
        if Instant::now() > deadline {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "TLS handshake took too long"));
        }
        tls.conn.complete_io(&mut tls.sock)?;
    }
    let certs = tls.conn.peer_certificates().map(|c| c.iter().map(|c| c.clone().into_owned()).collect()).unwrap_or_default();
    if let Some(mut tls) = serve(tls, socket, Peer { addr, certs }, cfg, service)? {
        // A clean end, so the client can tell it from a cut connection.
        tls.conn.send_close_notify();
        tls.flush()?;
    }
    Ok(())
}

/// Serves requests until the connection ends; gives the stream back unless it was handed over.
fn serve<S: Read + Write + Send + 'static>(mut s: S, socket: TcpStream, peer: Peer, cfg: &ListenConfig, service: &dyn Service) -> io::Result<Option<S>> {
    let hook_socket = socket.try_clone()?;
    let mut reader = RequestReader::new(cfg.limits, cfg.request_timeout).with_timeout_hook(Box::new(move |left| {
        // Failing to set it leaves the idle timeout in force: slower to cut off, still bounded.
        let _ = hook_socket.set_read_timeout(Some(left));
    }));
    loop {
        socket.set_read_timeout(Some(cfg.idle_timeout))?;
        let req = match reader.read(&mut s) {
            Ok(r) => r,
            Err(ReadError::Parse(e)) => {
                let resp = Response::error(e.status(), &e.to_string());
                response::write_response(&mut s, &resp, false, false)?;
                return Ok(Some(s));
            }
            Err(ReadError::Closed) => return Ok(Some(s)),
            Err(ReadError::Io(e)) => return Err(e),
            Err(e) => return Err(io::Error::other(e.to_string())),
        };
        let keep_alive = !req.head.wants_close();
        let head_only = req.method() == "HEAD";
        let labels = metric_labels(&req, cfg.name);
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        m::HTTP_REQUESTS.inc(&labels);
        m::HTTP_INFLIGHT.add(&labels, 1.0);
        let started = Instant::now();
        let result = respond(&mut s, &socket, service.serve(req, &peer), keep_alive, head_only);
        m::HTTP_INFLIGHT.add(&labels, -1.0);
        m::HTTP_REQUESTS_DURATION.observe(&labels, started.elapsed().as_secs_f64());
        match result {
            Respond::KeepGoing if keep_alive => {}
            Respond::KeepGoing => return Ok(Some(s)),
            Respond::Close => return Ok(None),
            Respond::Failed(e) => return Err(e),
            Respond::Upgrade(handler) => {
                let stream = Prefixed { buffered: reader.take_buffered(), pos: 0, inner: s };
                handler(Upgraded { stream: Box::new(stream), socket });
                return Ok(None);
            }
        }
    }
}

enum Respond {
    KeepGoing,
    Close,
    Failed(io::Error),
    Upgrade(Box<dyn FnOnce(Upgraded) + Send>),
}

fn respond(s: &mut dyn ReadWrite, socket: &TcpStream, outcome: Outcome, keep_alive: bool, head_only: bool) -> Respond {
    let result = match outcome {
        Outcome::Reply(resp) => response::write_response(s, &resp, keep_alive, head_only),
        Outcome::Upgrade(h) => return Respond::Upgrade(h),
        Outcome::Stream { status, headers, length, body } => {
            let framing = length.map_or(Framing::Chunked, Framing::Length);
            let written = response::write_head(s, status, &headers, framing, keep_alive).and_then(|()| {
                if head_only {
                    return Ok(());
                }
                let mut w = BodyWriter { stream: &mut *s, socket, chunked: length.is_none() };
                body(&mut w)?;
                w.finish()
            });
            // A streamed body that failed half-way cannot be told apart from a whole one
            // but by closing.
            return match written.and_then(|()| s.flush()) {
                Ok(()) => Respond::KeepGoing,
                Err(e) if is_gone(&e) => Respond::Close,
                Err(e) => Respond::Failed(e),
            };
        }
    };
    match result {
        Ok(()) => Respond::KeepGoing,
        Err(e) => Respond::Failed(e),
    }
}

fn is_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted | io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// Upstream's label values for the HTTP request metrics.
fn metric_labels(req: &Request, server_type: &str) -> [String; 4] {
    const METHODS: [&str; 8] = ["OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT"];
    const BUCKETS: [&str; 17] = [
        "healthz", "pods", "stats", "metrics", "metrics/cadvisor", "metrics/probes", "metrics/resource", "metrics/slis", "run", "exec",
        "attach", "portForward", "containerLogs", "configz", "runningpods", "logs", "spec",
    ];
    let method = if METHODS.contains(&req.method()) { req.method() } else { "other" };
    let mut parts = req.path().trim_start_matches('/').splitn(3, '/');
    let root = match (parts.next().unwrap_or_default(), parts.next()) {
        ("metrics", Some(sub)) => format!("metrics/{sub}"),
        (first, _) => first.to_string(),
    };
    let bucket = if BUCKETS.contains(&root.as_str()) { root } else { "other".to_string() };
    // Upstream compares with lower-case names, so portForward never counts as long-running.
    let long_running = matches!(bucket.as_str(), "exec" | "attach" | "portforward" | "debug");
    let server_type = if server_type == "readonly" { "readonly" } else { "readwrite" };
    [method.to_string(), bucket, server_type.to_string(), long_running.to_string()]
}

/// A stream whose first reads return bytes already read off it.
struct Prefixed<S> {
    buffered: Vec<u8>,
    pos: usize,
    inner: S,
}

impl<S: Read> Read for Prefixed<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = self.buffered.get(self.pos..).unwrap_or_default();
        if rest.is_empty() {
            return self.inner.read(buf);
        }
        let n = rest.len().min(buf.len());
        buf.get_mut(..n).unwrap_or_default().copy_from_slice(rest.get(..n).unwrap_or_default());
        self.pos += n;
        Ok(n)
    }
}

impl<S: Write> Write for Prefixed<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_labels_follow_upstreams_buckets() {
        let labels = |m: &str, p: &str, t: &str| metric_labels(&Request::with_method(m, p), t).to_vec();
        assert_eq!(labels("GET", "/metrics/cadvisor", "readwrite"), ["GET", "metrics/cadvisor", "readwrite", "false"]);
        assert_eq!(labels("POST", "/exec/ns/p/c", "readwrite"), ["POST", "exec", "readwrite", "true"]);
        assert_eq!(labels("GET", "/portForward/ns/p", "readwrite"), ["GET", "portForward", "readwrite", "false"]);
        assert_eq!(labels("BREW", "/coffee", "readonly"), ["other", "other", "readonly", "false"]);
        assert_eq!(labels("GET", "/stats/summary", "readonly"), ["GET", "stats", "readonly", "false"]);
    }

    #[test]
    fn prefixed_replays_then_reads_on() {
        let mut p = Prefixed { buffered: b"abc".to_vec(), pos: 0, inner: io::Cursor::new(b"def".to_vec()) };
        let mut out = String::new();
        p.read_to_string(&mut out).unwrap_or_default();
        assert_eq!(out, "abcdef");
    }
}
