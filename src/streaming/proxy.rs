//! The upgrade-aware proxy: the client's upgrade request goes to the runtime's streaming
//! server, the runtime's answer comes back, and on `101 Switching Protocols` the bytes flow
//! both ways (SPDY or WebSocket alike: we never look inside).
//!
//! ```text
//!   client head ──► not an upgrade? ──► Err(UpgradeRequired)
//!        │
//!        ▼
//!   connect to the runtime URL ──► send our request ──► read the runtime's response head
//!        │ (failures: Err, nothing written to the client yet)
//!        ▼
//!   101 ──► head (and any bytes after it) to the client ──► relay ──► Upgraded
//!   ≥400 ──► head and body to the client, close ──► Refused
//!   other ──► Err(NotUpgraded)
//! ```
#![forbid(unsafe_code)]

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::error::StreamError;
use super::head::{RequestHead, RuntimeUrl, parse_response_head};
use super::relay::{Conn, RelayStats, relay};

/// Timeouts of the proxy.
#[derive(Debug, Clone, Copy)]
pub struct ProxyConfig {
    /// Close a session when nothing moved for this long (`streamingConnectionIdleTimeout`);
    /// `None`: never.
    pub idle_timeout: Option<Duration>,
    /// Connecting to the runtime and reading its response head.
    pub handshake_timeout: Duration,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            idle_timeout: Some(Duration::from_secs(4 * 3600)),
            handshake_timeout: Duration::from_secs(30),
        }
    }
}

/// How long an error response from the runtime may take to reach the client (upstream: 10 s).
const REFUSAL_DEADLINE: Duration = Duration::from_secs(10);
/// The most of an error body we pass on.
const MAX_REFUSAL_BODY: u64 = 1024 * 1024;

/// What the proxy did, once it wrote anything to the client.
#[derive(Debug)]
pub enum Proxied {
    /// The runtime switched protocols and the session ran.
    Upgraded(RelayStats),
    /// The runtime answered with this error status, passed on to the client.
    Refused { status: u16 },
    /// The client went away while we passed on the runtime's answer.
    ClientGone(io::Error),
}

/// Proxies an upgrade request to the runtime's streaming `url`. `Err` means nothing was written
/// to the client: the caller sends [`StreamError::response`]. The caller closes the client
/// connection afterwards in every case.
pub fn proxy_upgrade(
    client: &mut dyn Conn,
    head: &RequestHead,
    url: &str,
    cfg: &ProxyConfig,
) -> Result<Proxied, StreamError> {
    if !head.is_upgrade() {
        return Err(StreamError::UpgradeRequired);
    }
    let url = RuntimeUrl::parse(url).map_err(StreamError::Url)?;
    let mut runtime = connect(&url, cfg.handshake_timeout)?;
    runtime.write_all(&head.backend_request(&url)).map_err(StreamError::Send)?;
    let (status, buffered, response_len) = read_response(&mut runtime, cfg.handshake_timeout)?;
    if status != 101 {
        return refuse(client, &mut runtime, status, &buffered, response_len);
    }
    if let Err(e) = client.write_all(&buffered).and_then(|()| client.flush()) {
        return Ok(Proxied::ClientGone(e));
    }
    // The handshake timeouts must not cut a quiet session short; the relay polls instead.
    let _ = runtime.set_read_timeout(None);
    let _ = runtime.set_write_timeout(None);
    Ok(Proxied::Upgraded(relay(client, &mut runtime, cfg.idle_timeout)))
}

/// The runtime's error answer goes to the client as it came (as the plain proxy does).
pub(super) fn refuse(
    client: &mut dyn Conn,
    runtime: &mut TcpStream,
    status: u16,
    buffered: &[u8],
    response_len: Option<u64>,
) -> Result<Proxied, StreamError> {
    if status < 400 {
        return Err(StreamError::NotUpgraded { status });
    }
    if let Err(e) = client.write_all(buffered).and_then(|()| client.flush()) {
        return Ok(Proxied::ClientGone(e));
    }
    let sent = u64::try_from(buffered.len()).unwrap_or(u64::MAX);
    let left = response_len.map(|total| total.saturating_sub(sent));
    Ok(match pass_on_body(runtime, client, left) {
        Ok(()) => Proxied::Refused { status },
        Err(e) => Proxied::ClientGone(e),
    })
}

pub(super) fn connect(url: &RuntimeUrl, timeout: Duration) -> Result<TcpStream, StreamError> {
    let addr = format!("{}:{}", url.host, url.port);
    let dial_error = |error| StreamError::Dial { addr: addr.clone(), error };
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for candidate in (url.host.as_str(), url.port).to_socket_addrs().map_err(dial_error)? {
        match TcpStream::connect_timeout(&candidate, timeout) {
            Ok(stream) => {
                stream.set_read_timeout(Some(timeout)).map_err(dial_error)?;
                stream.set_write_timeout(Some(timeout)).map_err(dial_error)?;
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(dial_error(last))
}

/// Reads the runtime's response head: its status, every byte read so far (the head and
/// perhaps the first bytes of the stream), and the total length of the response when its
/// `Content-Length` says.
pub(super) fn read_response(
    runtime: &mut TcpStream,
    timeout: Duration,
) -> Result<(u16, Vec<u8>, Option<u64>), StreamError> {
    let deadline = Instant::now() + timeout;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        match parse_response_head(&buf) {
            Ok(Some(h)) => {
                let total = h.content_length.map(|l| l.saturating_add(u64::try_from(h.len).unwrap_or(0)));
                return Ok((h.status, buf, total));
            }
            Ok(None) => {}
            Err(reason) => return Err(bad_response(reason.to_string())),
        }
        if Instant::now() >= deadline {
            return Err(bad_response("timed out reading the runtime's response".into()));
        }
        match runtime.read(&mut chunk) {
            Ok(0) => return Err(bad_response("the runtime closed the connection before answering".into())),
            Ok(n) => buf.extend_from_slice(chunk.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(bad_response(format!("reading the runtime's response: {e}"))),
        }
    }
}

fn bad_response(reason: String) -> StreamError {
    StreamError::BadResponse { reason }
}

/// The rest of an error response's body (`left` bytes, or until the runtime closes), within
/// [`REFUSAL_DEADLINE`] and [`MAX_REFUSAL_BODY`].
fn pass_on_body(
    runtime: &mut TcpStream,
    client: &mut dyn Conn,
    left: Option<u64>,
) -> io::Result<()> {
    let deadline = Instant::now() + REFUSAL_DEADLINE;
    let mut left = left.unwrap_or(MAX_REFUSAL_BODY).min(MAX_REFUSAL_BODY);
    let mut chunk = [0u8; 4096];
    while left > 0 {
        let Some(remaining) = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()) else {
            break;
        };
        if runtime.set_read_timeout(Some(remaining)).is_err() {
            break;
        }
        let want = usize::try_from(left).unwrap_or(chunk.len()).min(chunk.len());
        let n = match runtime.read(chunk.get_mut(..want).unwrap_or_default()) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        client.write_all(chunk.get(..n).unwrap_or_default())?;
        left = left.saturating_sub(u64::try_from(n).unwrap_or(u64::MAX));
    }
    client.flush()
}
