//! [`Channel`]: gRPC unary calls to a runtime's unix socket over one shared HTTP/2
//! connection, reconnecting (with a short backoff) after the runtime restarts.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::wire::{encode_timeout, finish, frame_message, status_for};
use super::{Code, Status, Unary};
use crate::h2::{Config, Connection, Header, RequestOptions};

/// The kubelet's CRI message size limit (upstream `maxMsgSize`, 16 MiB).
pub const MAX_MESSAGE_SIZE: usize = 16 << 20;

/// First and largest wait after a failed connect.
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// The endpoint is not a unix socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointError {
    pub endpoint: String,
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unsupported runtime endpoint {:?}: expected unix:///path or a path", self.endpoint)
    }
}

impl std::error::Error for EndpointError {}

/// A gRPC client for one unix-socket endpoint; share it between threads.
///
/// Connects on first use. When the connection breaks, calls in flight fail with
/// `Unavailable` and the next call connects again; after a failed connect, calls fail
/// `Unavailable` at once until the backoff (100 ms doubling to 1 s) has passed.
#[derive(Debug)]
pub struct Channel {
    path: PathBuf,
    user_agent: String,
    max_message_size: usize,
    slot: Mutex<Slot>,
}

#[derive(Debug, Default)]
struct Slot {
    conn: Option<Connection>,
    /// After a failed connect: no new attempt before `retry_at`.
    retry_at: Option<Instant>,
    delay: Option<Duration>,
    last_error: String,
}

impl Channel {
    /// `endpoint` is `unix:///run/containerd/containerd.sock` or a plain path.
    pub fn new(endpoint: &str) -> Result<Channel, EndpointError> {
        let path = match endpoint.strip_prefix("unix://") {
            Some(p) => p,
            None if endpoint.contains("://") => {
                return Err(EndpointError { endpoint: endpoint.to_string() });
            }
            None => endpoint,
        };
        if path.is_empty() {
            return Err(EndpointError { endpoint: endpoint.to_string() });
        }
        Ok(Channel {
            path: PathBuf::from(path),
            user_agent: format!("rkubelet/{} grpc-rk", crate::version::RKUBELET),
            max_message_size: MAX_MESSAGE_SIZE,
            slot: Mutex::new(Slot::default()),
        })
    }

    /// The largest response message accepted (default [`MAX_MESSAGE_SIZE`]).
    pub fn with_max_message_size(mut self, bytes: usize) -> Channel {
        self.max_message_size = bytes;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open connection, or a new one; `Unavailable` while connecting fails.
    fn connection(&self) -> Result<Connection, Status> {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(conn) = slot.conn.as_ref().filter(|c| c.accepts_new_streams()) {
            return Ok(conn.clone());
        }
        // Calls still running on the old connection hold their own handles.
        slot.conn = None;
        let now = Instant::now();
        if let Some(at) = slot.retry_at.filter(|&at| now < at) {
            let wait = at - now;
            return Err(Status::new(
                Code::Unavailable,
                format!("{} (next connect attempt in {wait:?})", slot.last_error),
            ));
        }
        match Connection::connect(&self.path, Config::default()) {
            Ok(conn) => {
                log::debug!("grpc: connected to {}", self.path.display());
                *slot = Slot { conn: Some(conn.clone()), ..Slot::default() };
                Ok(conn)
            }
            Err(e) => {
                let delay = slot.delay.map_or(BACKOFF_START, |d| (d * 2).min(BACKOFF_MAX));
                slot.delay = Some(delay);
                slot.retry_at = Some(now + delay);
                slot.last_error = format!("connection error: {e}");
                log::debug!("grpc: {}; retrying after {delay:?}", slot.last_error);
                Err(Status::new(Code::Unavailable, slot.last_error.clone()))
            }
        }
    }

    fn headers(&self, path: &str, timeout: Option<Duration>) -> Vec<Header> {
        let mut h = vec![
            Header::new(":method", "POST"),
            Header::new(":scheme", "http"),
            Header::new(":path", path),
            Header::new(":authority", "localhost"),
            Header::new("content-type", "application/grpc"),
            Header::new("te", "trailers"),
        ];
        if let Some(t) = timeout {
            h.push(Header::new("grpc-timeout", encode_timeout(t)));
        }
        h.push(Header::new("user-agent", self.user_agent.as_str()));
        h
    }
}

impl Unary for Channel {
    fn unary(&self, path: &str, request: &[u8], timeout: Option<Duration>) -> Result<Vec<u8>, Status> {
        let started = Instant::now();
        let opts = RequestOptions {
            deadline: timeout.and_then(|t| started.checked_add(t)),
            max_body: self.max_message_size.saturating_add(5),
        };
        let body = frame_message(request)?;
        // A request the server certainly did not process (GOAWAY above its id, refused
        // stream, connection already draining) is retried once on a fresh connection.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let conn = self.connection()?;
            let left = timeout.map(|t| t.saturating_sub(started.elapsed()));
            let result = conn.request(&self.headers(path, left), &body, &opts);
            match result {
                Ok(resp) => return finish(resp),
                Err(e) if e.is_refused() && attempts < 2 => {
                    log::debug!("grpc: {path}: {e}; retrying on a new connection");
                }
                Err(e) => {
                    log::debug!("grpc: {path} failed: {e}");
                    return Err(status_for(&e));
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        let path = |e: &str| Channel::new(e).map(|c| c.path().to_path_buf());
        assert_eq!(
            path("unix:///run/containerd/containerd.sock"),
            Ok("/run/containerd/containerd.sock".into())
        );
        assert_eq!(path("/tmp/x.sock"), Ok("/tmp/x.sock".into()));
        assert!(path("tcp://localhost:1234").is_err());
        assert!(path("unix://").is_err());
        assert!(path("").is_err());
    }

    #[test]
    fn missing_socket_is_unavailable_and_backs_off() {
        let ch = Channel::new("unix:///nonexistent/rk-test.sock").unwrap_or_else(|e| panic!("{e}"));
        let first = ch.unary("/x.Y/Z", b"", Some(Duration::from_secs(1))).unwrap_err();
        assert_eq!(first.code, Code::Unavailable);
        // In backoff the call fails at once, saying so, rather than trying to connect again.
        let second = ch.unary("/x.Y/Z", b"", None).unwrap_err();
        assert_eq!(second.code, Code::Unavailable);
        assert!(second.message.contains("next connect attempt"), "{second}");
    }
}
