//! One translated session's threads: the caller's thread relays the client's (TLS) connection
//! to one end of a socket pair; an "up" thread reads the other end and writes the runtime, a
//! "down" thread reads the runtime and writes the socket pair. Used by [`super::translate`]
//! (v5 WebSockets to SPDY streams) and [`super::tunnel`] (SPDY inside a WebSocket).
//!
//! ```text
//!   client ══TLS══ relay ══ near ┄┄ far ──► up ──► runtime
//!                                   far ◄── down ◄── runtime
//! ```
//!
//! Ends: the up side finishing (the client closed or went) shuts the runtime connection; the
//! down side finishing (the runtime closed) sends the client a close frame and ends the
//! pair's output, so the relay drains and returns.
#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::thread;

use super::error::StreamError;
use super::proxy::{Proxied, ProxyConfig};
use super::relay::{Conn, relay};
use super::websocket;

/// The client side of the socket pair, shared by both directions' threads: whole frames only,
/// and nothing after a close frame.
pub(super) struct ToClient {
    stream: UnixStream,
    closed: bool,
}

impl ToClient {
    pub(super) fn send(this: &Mutex<ToClient>, bytes: &[u8]) -> io::Result<()> {
        let mut side = this.lock().map_err(|_| io::Error::other("client writer poisoned"))?;
        if side.closed {
            return Ok(());
        }
        side.stream.write_all(bytes)
    }

    /// A normal close (1000), then the end of our output, once.
    pub(super) fn close(this: &Mutex<ToClient>) {
        if let Ok(mut side) = this.lock() {
            if !side.closed {
                side.closed = true;
                let _ = side.stream.write_all(&websocket::close_frame(1000));
            }
            let _ = side.stream.shutdown(Shutdown::Write);
        }
    }
}

pub(super) fn send_runtime(runtime: &Mutex<TcpStream>, bytes: &[u8]) -> io::Result<()> {
    runtime.lock().map_err(|_| io::Error::other("runtime writer poisoned"))?.write_all(bytes)
}

/// Runs `up` (the client's bytes from the pair, to the runtime) and `down` (the runtime's to
/// the client) on their own threads and the relay on this one, until the session is over.
pub(super) fn run_session<U, D>(
    client: &mut dyn Conn,
    runtime: TcpStream,
    cfg: &ProxyConfig,
    up: U,
    down: D,
) -> Result<Proxied, StreamError>
where
    U: FnOnce(UnixStream, &Mutex<TcpStream>, &Mutex<ToClient>) + Send + 'static,
    D: FnOnce(&Mutex<TcpStream>, &Mutex<ToClient>) + Send + 'static,
{
    let (mut near, far) = UnixStream::pair().map_err(StreamError::Send)?;
    let far_read = far.try_clone().map_err(StreamError::Send)?;
    let runtime_end = runtime.try_clone().map_err(StreamError::Send)?;
    let to_client = Arc::new(Mutex::new(ToClient { stream: far, closed: false }));
    let to_runtime = Arc::new(Mutex::new(runtime));
    let (up_client, up_runtime) = (Arc::clone(&to_client), Arc::clone(&to_runtime));
    let up = thread::Builder::new()
        .name("stream-ws-up".into())
        .spawn(move || {
            up(far_read, &up_runtime, &up_client);
            // The client is done: so is the runtime session, which ends the down side too.
            if let Ok(runtime) = up_runtime.lock() {
                let _ = runtime.shutdown(Shutdown::Both);
            }
        })
        .map_err(StreamError::Send)?;
    let down = thread::Builder::new().name("stream-ws-down".into()).spawn(move || {
        down(&to_runtime, &to_client);
        ToClient::close(&to_client);
    });
    let stats = relay(client, &mut near, cfg.idle_timeout);
    // Whatever ended the relay ends both threads: their reads see the ends of these sockets.
    let _ = runtime_end.shutdown(Shutdown::Both);
    let _ = near.shutdown(Shutdown::Both);
    let _ = up.join();
    if let Ok(down) = down {
        let _ = down.join();
    }
    Ok(Proxied::Upgraded(stats))
}
