//! One HTTP/2 client connection with prior knowledge over a unix socket (RFC 9113).
//!
//! [`Connection::connect`] writes the client preface, our SETTINGS (no push, a large stream
//! window) and a connection WINDOW_UPDATE, then starts the `rk-h2-read` thread, which owns the
//! read half: it decodes frames, answers SETTINGS and PING, keeps the receive windows open
//! with WINDOW_UPDATE as data arrives, and hands each stream's headers and data to that
//! stream's channel. Any number of threads call [`Connection::request`] at once; each blocks
//! only on its own stream. Writes are serialized by a lock, whole frames per write.
//!
//! Stream states, from the client's side (RFC 9113 section 5.1; we never see reserved
//! states since push is disabled):
//!
//! ```text
//!             send HEADERS                    recv END_STREAM
//!     idle ───────────────────────► open ─────────────────────► half-closed (remote)
//!       │                             │                                │
//!       │ send HEADERS + END_STREAM   │ send END_STREAM                │ send END_STREAM, or
//!       │ (empty body)                │ (last DATA frame)              │ RST_STREAM(CANCEL) if
//!       ▼                             ▼                                │ we stop sending early
//!     half-closed (local) ◄───────────┘                                │
//!       │                                                              │
//!       │ recv END_STREAM                                              │
//!       ▼                                                              │
//!     closed ◄─────────────────────────────────────────────────────────┘
//!
//!     from any state: RST_STREAM sent or received ──► closed
//! ```
//!
//! A stream's slot lives from "open" until its caller returns; a caller that returns before
//! "closed" (deadline, malformed response, early answer) resets the stream. GOAWAY fails
//! the streams above its last-stream-id with [`Error::Refused`] (not processed, safe to
//! retry) and lets the others finish; the connection then takes no new streams.

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::error::{ConnectionError, Error};
use super::frame::{Frame, Setting};
use super::hpack::Header;

mod read;
mod shared;
mod socket;
mod stream;

use shared::{DEFAULT_WINDOW, Shared, State, Writer};
pub use socket::Socket;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// What we advertise to the peer.
#[derive(Debug, Clone)]
pub struct Config {
    /// SETTINGS_INITIAL_WINDOW_SIZE: how much each stream may receive before we ack.
    pub initial_window_size: u32,
    /// The connection receive window we open with WINDOW_UPDATE.
    pub connection_window: u32,
    /// SETTINGS_MAX_HEADER_LIST_SIZE.
    pub max_header_list_size: u32,
    /// SETTINGS_HEADER_TABLE_SIZE (the HPACK default, 4096, is not sent).
    pub header_table_size: u32,
    /// A write that blocks this long means the peer stopped reading: the connection fails.
    pub write_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            initial_window_size: 4 << 20,
            connection_window: 16 << 20,
            max_header_list_size: 256 << 10,
            header_table_size: 4096,
            write_timeout: Duration::from_secs(30),
        }
    }
}

impl Config {
    fn max_header_list_size(&self) -> usize {
        usize::try_from(self.max_header_list_size).unwrap_or(usize::MAX)
    }

    /// Bound on an encoded header block (HEADERS + CONTINUATION) before decoding.
    fn max_header_block(&self) -> usize {
        self.max_header_list_size().saturating_mul(2).saturating_add(4096)
    }
}

/// Per-request limits.
#[derive(Debug, Clone)]
pub struct RequestOptions {
    /// When the request fails with [`Error::Timeout`] and its stream is cancelled.
    pub deadline: Option<Instant>,
    /// The largest response body accepted.
    pub max_body: usize,
}

/// A complete response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Headers without `:status`.
    pub headers: Vec<Header>,
    pub body: Vec<u8>,
    pub trailers: Vec<Header>,
}

impl Response {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|h| h.name == name.as_bytes()).map(|h| h.value.as_slice())
    }

    /// The first value of trailer `name`.
    pub fn trailer(&self, name: &str) -> Option<&[u8]> {
        self.trailers.iter().find(|h| h.name == name.as_bytes()).map(|h| h.value.as_slice())
    }
}

/// A handle to one connection; clones share it. The connection closes (GOAWAY, socket
/// shutdown, reader thread ends) when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct Connection {
    inner: Arc<Owner>,
}

#[derive(Debug)]
struct Owner {
    shared: Arc<Shared>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.shared.shutdown();
    }
}

impl Connection {
    /// Connects to the unix socket at `path` and starts the connection.
    pub fn connect(path: &Path, config: Config) -> Result<Connection, Error> {
        let sock = UnixStream::connect(path)
            .map_err(|source| Error::Connect { path: path.to_path_buf(), source: Arc::new(source) })?;
        Connection::start(sock, config)
    }

    /// Starts a connection over an already connected socket (the tests use a socket pair;
    /// gRPC health probes a TCP connection).
    pub fn start(sock: impl Into<Socket>, config: Config) -> Result<Connection, Error> {
        let sock: Socket = sock.into();
        let io =
            |op: &'static str| move |source| Error::Connection(Arc::new(ConnectionError::Io { op, source }));
        sock.set_write_timeout(Some(config.write_timeout)).map_err(io("set write timeout"))?;
        let read_half = sock.try_clone().map_err(io("clone socket"))?;
        let control = sock.try_clone().map_err(io("clone socket"))?;
        let mut writer = Writer::new(sock);
        let mut settings = vec![
            Setting::EnablePush(false),
            Setting::InitialWindowSize(config.initial_window_size),
            Setting::MaxHeaderListSize(config.max_header_list_size),
        ];
        if config.header_table_size != 4096 {
            settings.push(Setting::HeaderTableSize(config.header_table_size));
        }
        let mut frames = vec![Frame::Settings { ack: false, params: settings }];
        let extra = i64::from(config.connection_window) - DEFAULT_WINDOW;
        if let Ok(increment @ 1..) = u32::try_from(extra) {
            frames.push(Frame::WindowUpdate { stream_id: 0, increment });
        }
        writer.write(PREFACE, &frames).map_err(|e| Error::Connection(Arc::new(e)))?;
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(State::new()),
            changed: Default::default(),
            writer: Mutex::new(writer),
            control,
        });
        let for_reader = shared.clone();
        std::thread::Builder::new()
            .name("rk-h2-read".into())
            .spawn(move || read::run(for_reader, read_half))
            .map_err(io("spawn reader thread"))?;
        Ok(Connection { inner: Arc::new(Owner { shared }) })
    }

    /// Sends one request (`headers` include the pseudo-headers, in order) and waits for the
    /// whole response. Never blocks other callers except for the moment of a write.
    pub fn request(&self, headers: &[Header], body: &[u8], opts: &RequestOptions) -> Result<Response, Error> {
        stream::request(&self.inner.shared, headers, body, opts)
    }

    /// False once the connection failed, received GOAWAY or ran out of stream ids.
    pub fn accepts_new_streams(&self) -> bool {
        self.inner.shared.state().accepts_new_streams()
    }

    /// Why the connection ended, if it did.
    pub fn closed(&self) -> Option<Arc<ConnectionError>> {
        self.inner.shared.state().closed.clone()
    }
}
