//! State shared by the reader thread and the calling threads of one connection.
//!
//! Two locks, always taken in the order `writer` then `state`, and never `writer` while
//! holding `state`: the reader thread and senders each take `state` alone to account, then
//! `writer` alone to write. Only opening a stream holds both, so stream ids reach the wire in
//! increasing order.

use std::collections::HashMap;
use std::io::Write;
use std::net::Shutdown;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use crossbeam_channel::Sender;

use super::Config;
use super::socket::Socket;
use crate::h2::error::{ConnectionError, Error, ErrorCode};
use crate::h2::frame::{DEFAULT_MAX_FRAME_SIZE, Frame};
use crate::h2::hpack::Header;

/// Stream ids are 31 bits.
pub const MAX_STREAM_ID: u32 = 0x7fff_ffff;
/// The window every stream and the connection start with (RFC 9113 section 6.9.2).
pub const DEFAULT_WINDOW: i64 = 65_535;

/// What the reader thread hands to the thread waiting on a stream.
#[derive(Debug)]
pub enum Event {
    Headers { headers: Vec<Header>, end_stream: bool },
    Data { data: Vec<u8>, end_stream: bool },
    Failed(Error),
}

/// One open stream, as both sides of the connection see it.
#[derive(Debug)]
pub struct Slot {
    pub events: Sender<Event>,
    /// How much DATA we may still send (may go negative after a SETTINGS change).
    pub send_window: i64,
    /// How much DATA the peer may still send, and how much we consumed without telling it.
    pub recv_window: i64,
    pub recv_unacked: u32,
    /// We sent END_STREAM.
    pub local_closed: bool,
    /// The peer sent END_STREAM or RST_STREAM.
    pub remote_closed: bool,
}

/// The peer's SETTINGS that shape what we send.
#[derive(Debug, Clone, Copy)]
pub struct PeerSettings {
    pub initial_window_size: u32,
    pub max_frame_size: u32,
    pub max_concurrent_streams: u32,
}

#[derive(Debug)]
pub struct State {
    pub streams: HashMap<u32, Slot>,
    /// Streams that waited for a MAX_CONCURRENT_STREAMS slot and are about to open.
    pub reserved: usize,
    pub next_stream_id: u32,
    pub send_window: i64,
    pub peer: PeerSettings,
    /// The last-stream-id of the peer's GOAWAY.
    pub going_away: Option<u32>,
    pub closed: Option<Arc<ConnectionError>>,
}

impl State {
    pub fn new() -> State {
        State {
            streams: HashMap::new(),
            reserved: 0,
            next_stream_id: 1,
            send_window: DEFAULT_WINDOW,
            peer: PeerSettings {
                initial_window_size: 65_535,
                max_frame_size: DEFAULT_MAX_FRAME_SIZE,
                max_concurrent_streams: u32::MAX,
            },
            going_away: None,
            closed: None,
        }
    }

    pub fn accepts_new_streams(&self) -> bool {
        self.closed.is_none() && self.going_away.is_none() && self.next_stream_id <= MAX_STREAM_ID
    }

    /// A frame names a stream we never opened: even (server-initiated) or not yet allocated.
    pub fn is_idle(&self, stream_id: u32) -> bool {
        stream_id.is_multiple_of(2) || stream_id >= self.next_stream_id
    }
}

/// The write half: whole frames go out in one `write_all`, so frames never interleave.
#[derive(Debug)]
pub struct Writer {
    sock: Socket,
    buf: Vec<u8>,
}

impl Writer {
    pub fn new(sock: Socket) -> Writer {
        Writer { sock, buf: Vec::with_capacity(64 * 1024) }
    }

    /// Writes raw bytes and then frames in a single write.
    pub fn write(&mut self, raw: &[u8], frames: &[Frame<'_>]) -> Result<(), ConnectionError> {
        self.buf.clear();
        self.buf.extend_from_slice(raw);
        for f in frames {
            f.encode(&mut self.buf).map_err(|e| ConnectionError::Io {
                op: "encode frame",
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
            })?;
        }
        let result = self.sock.write_all(&self.buf);
        if self.buf.capacity() > 1 << 20 {
            self.buf = Vec::with_capacity(64 * 1024);
        }
        result.map_err(|source| ConnectionError::Io { op: "write", source })
    }
}

/// Everything one connection's threads share.
#[derive(Debug)]
pub struct Shared {
    pub config: Config,
    pub state: Mutex<State>,
    /// Signalled when a send window grows, a stream slot frees up or ends, or the connection
    /// fails: everything a sender may be waiting for.
    pub changed: Condvar,
    pub writer: Mutex<Writer>,
    /// A handle for shutting the socket down without the writer lock.
    pub control: Socket,
}

impl Shared {
    /// Locks the state, recovering from a poisoned lock (a panicking caller thread must not
    /// take the whole connection down with it; the state is consistent between statements).
    pub fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn writer(&self) -> MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes frames; a failed write ends the connection.
    pub fn write(&self, frames: &[Frame<'_>]) -> Result<(), Arc<ConnectionError>> {
        let result = self.writer().write(&[], frames);
        result.map_err(|e| self.fail(e))
    }

    /// Waits on `changed` until `deadline`; returns false when it passed.
    pub fn wait<'a>(
        &self,
        guard: MutexGuard<'a, State>,
        deadline: Option<Instant>,
    ) -> (MutexGuard<'a, State>, bool) {
        match deadline {
            None => (self.changed.wait(guard).unwrap_or_else(|p| p.into_inner()), true),
            Some(d) => {
                let Some(left) = d.checked_duration_since(Instant::now()) else {
                    return (guard, false);
                };
                let (g, _) = self.changed.wait_timeout(guard, left).unwrap_or_else(|p| p.into_inner());
                (g, Instant::now() < d)
            }
        }
    }

    /// Ends the connection once: every open stream fails with `error`, waiters wake, and the
    /// socket is shut down so the reader thread and blocked writers return. Returns the error
    /// the connection ended with (the first one, if it had already ended).
    pub fn fail(&self, error: ConnectionError) -> Arc<ConnectionError> {
        let mut st = self.state();
        if let Some(first) = &st.closed {
            return first.clone();
        }
        let error = Arc::new(error);
        st.closed = Some(error.clone());
        for (_, slot) in st.streams.drain() {
            let _ = slot.events.send(Event::Failed(Error::Connection(error.clone())));
        }
        drop(st);
        self.changed.notify_all();
        let _ = self.control.shutdown(Shutdown::Both);
        error
    }

    /// Closes politely: GOAWAY(NO_ERROR), then shut the socket down.
    pub fn shutdown(&self) {
        let open = self.state().closed.is_none();
        if open && let Ok(mut w) = self.writer.try_lock() {
            let goaway = Frame::GoAway { last_stream_id: 0, code: ErrorCode::NoError, debug: b"" };
            let _ = w.write(&[], &[goaway]);
        }
        self.fail(ConnectionError::Shutdown);
    }
}
