//! Copying bytes both ways between the client and the runtime, on one thread.
//!
//! The client connection may be TLS, which cannot be read on one thread while written on
//! another, so both sockets go non-blocking and one `poll(2)` waits for whichever side can
//! move. A side is only polled after it said `WouldBlock`: a TLS stream can hold decrypted
//! bytes that its socket no longer shows as readable.
//!
//! ```text
//!            client ──read──► up ──write──► runtime
//!            client ◄─write── down ◄─read── runtime
//!
//!   both open ──client EOF──► runtime write side shut (half-close: `exec -i` stdin EOF)
//!       │                          │
//!       └──────runtime EOF─────────┴──► down drained to the client ──► done
//!   any read/write error, or nothing moved for the idle timeout ──► done
//! ```
#![forbid(unsafe_code)]

use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// The client side of an upgraded connection: a stream and the socket under it.
pub trait Conn: Read + Write + AsFd {}

impl<T: Read + Write + AsFd> Conn for T {}

/// The runtime side: a socket the relay can make non-blocking and half-close.
pub trait Backend: Read + Write + AsFd {
    fn set_nonblocking(&self, on: bool) -> io::Result<()>;
    fn shutdown_write(&self) -> io::Result<()>;
}

impl Backend for TcpStream {
    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        TcpStream::set_nonblocking(self, on)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

/// One end of the pair between the relay and a translating session.
impl Backend for UnixStream {
    fn set_nonblocking(&self, on: bool) -> io::Result<()> {
        UnixStream::set_nonblocking(self, on)
    }

    fn shutdown_write(&self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
}

const BUFFER: usize = 32 * 1024;

/// How a relayed session ended.
#[derive(Debug)]
pub enum RelayEnd {
    /// The runtime closed its side and everything it sent reached the client.
    RuntimeClosed,
    /// Nothing moved either way for the idle timeout.
    IdleTimeout,
    ClientError(io::Error),
    RuntimeError(io::Error),
}

impl fmt::Display for RelayEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelayEnd::RuntimeClosed => write!(f, "the runtime closed the stream"),
            RelayEnd::IdleTimeout => write!(f, "idle timeout"),
            RelayEnd::ClientError(e) => write!(f, "client connection: {e}"),
            RelayEnd::RuntimeError(e) => write!(f, "runtime connection: {e}"),
        }
    }
}

/// What a relayed session did.
#[derive(Debug)]
pub struct RelayStats {
    /// Bytes from the client to the runtime.
    pub up: u64,
    /// Bytes from the runtime to the client.
    pub down: u64,
    pub end: RelayEnd,
}

/// Copies both ways until the runtime closes, a side fails, or nothing moves for `idle`
/// (`None`: no limit). When the client stops sending, the runtime's write side is shut so it
/// sees the end of input, and the runtime's remaining output still reaches the client.
pub fn relay(client: &mut dyn Conn, runtime: &mut dyn Backend, idle: Option<Duration>) -> RelayStats {
    let restore = set_nonblocking(client.as_fd());
    if let Err(e) = runtime.set_nonblocking(true) {
        return RelayStats { up: 0, down: 0, end: RelayEnd::RuntimeError(e) };
    }
    let mut up = Pipe::new();
    let mut down = Pipe::new();
    let end = run(client, runtime, idle, &mut up, &mut down);
    if let Some(flags) = restore {
        let _ = fcntl(client.as_fd(), FcntlArg::F_SETFL(flags));
    }
    RelayStats { up: up.moved, down: down.moved, end }
}

fn run(
    client: &mut dyn Conn,
    runtime: &mut dyn Backend,
    idle: Option<Duration>,
    up: &mut Pipe,
    down: &mut Pipe,
) -> RelayEnd {
    let mut runtime_shut = false;
    let mut last_activity = Instant::now();
    loop {
        let moved_up = match up.pump(client, runtime) {
            Ok(moved) => moved,
            Err(Failure::Read(e)) => return RelayEnd::ClientError(e),
            Err(Failure::Write(e)) => return RelayEnd::RuntimeError(e),
        };
        let moved_down = match down.pump(runtime, client) {
            Ok(moved) => moved,
            Err(Failure::Read(e)) => return RelayEnd::RuntimeError(e),
            Err(Failure::Write(e)) => return RelayEnd::ClientError(e),
        };
        if moved_up || moved_down {
            last_activity = Instant::now();
        }
        if up.drained() && !runtime_shut {
            // The runtime may already be gone; its EOF will end the session then.
            let _ = runtime.shutdown_write();
            runtime_shut = true;
        }
        if down.drained() {
            return RelayEnd::RuntimeClosed;
        }
        let wait = match idle {
            Some(limit) => match limit.checked_sub(last_activity.elapsed()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => return RelayEnd::IdleTimeout,
            },
            None => None,
        };
        let client_events = events(up.wants_read(), down.wants_write());
        let runtime_events = events(down.wants_read(), up.wants_write());
        let ready = match wait_ready(client.as_fd(), client_events, runtime.as_fd(), runtime_events, wait) {
            Ok(ready) => ready,
            Err(e) => return RelayEnd::RuntimeError(io::Error::from(e)),
        };
        let (client_ready, runtime_ready) = ready;
        up.src_ready |= readable(client_ready);
        down.dst_ready |= writable(client_ready);
        down.src_ready |= readable(runtime_ready);
        up.dst_ready |= writable(runtime_ready);
    }
}

fn events(read: bool, write: bool) -> PollFlags {
    let mut flags = PollFlags::empty();
    flags.set(PollFlags::POLLIN, read);
    flags.set(PollFlags::POLLOUT, write);
    flags
}

/// Errors and hang-ups count as ready: the next read or write reports them.
fn readable(revents: PollFlags) -> bool {
    revents.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL)
}

fn writable(revents: PollFlags) -> bool {
    revents.intersects(PollFlags::POLLOUT | PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL)
}

/// Waits for either side; a side with no interest is left out, so that a hang-up we cannot act
/// on yet does not wake us in a loop. Returns each side's `revents`.
fn wait_ready(
    client: std::os::fd::BorrowedFd<'_>,
    client_events: PollFlags,
    runtime: std::os::fd::BorrowedFd<'_>,
    runtime_events: PollFlags,
    wait: Option<Duration>,
) -> Result<(PollFlags, PollFlags), Errno> {
    let mut sides = Vec::with_capacity(2);
    let mut fds = Vec::with_capacity(2);
    for (is_client, fd, events) in [(true, client, client_events), (false, runtime, runtime_events)] {
        if !events.is_empty() {
            sides.push(is_client);
            fds.push(PollFd::new(fd, events));
        }
    }
    // An hour at most per wait, within what poll(2) takes; the loop waits again.
    let timeout = wait.map_or(PollTimeout::NONE, |w| {
        PollTimeout::try_from(w.min(Duration::from_secs(3600))).unwrap_or(PollTimeout::MAX)
    });
    match poll(&mut fds, timeout) {
        Ok(_) | Err(Errno::EINTR) => {}
        Err(e) => return Err(e),
    }
    let mut ready = (PollFlags::empty(), PollFlags::empty());
    for (is_client, fd) in sides.into_iter().zip(&fds) {
        let revents = fd.revents().unwrap_or(PollFlags::empty());
        if is_client {
            ready.0 = revents;
        } else {
            ready.1 = revents;
        }
    }
    Ok(ready)
}

/// Puts `fd` in non-blocking mode; the flags to restore, if they could be read.
fn set_nonblocking(fd: std::os::fd::BorrowedFd<'_>) -> Option<OFlag> {
    let flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL).ok()?);
    fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK)).ok()?;
    Some(flags)
}

enum Failure {
    Read(io::Error),
    Write(io::Error),
}

/// One direction: what was read and not yet written, and what each end last told us.
struct Pipe {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Written since the last successful flush (TLS and buffered writers hold bytes back).
    unflushed: bool,
    /// The source reached end of input.
    eof: bool,
    /// Reading may succeed without waiting (until it says `WouldBlock`).
    src_ready: bool,
    dst_ready: bool,
    moved: u64,
}

impl Pipe {
    fn new() -> Pipe {
        Pipe {
            buf: vec![0; BUFFER],
            start: 0,
            end: 0,
            unflushed: false,
            eof: false,
            src_ready: true,
            dst_ready: true,
            moved: 0,
        }
    }

    fn pending(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Moves what it can without blocking; true if any byte moved or EOF was seen.
    fn pump(&mut self, src: &mut dyn Read, dst: &mut dyn Write) -> Result<bool, Failure> {
        let mut progress = false;
        loop {
            if !self.pending().is_empty() {
                if !self.dst_ready {
                    break;
                }
                match dst.write(self.pending()) {
                    Ok(0) => return Err(Failure::Write(ErrorKind::WriteZero.into())),
                    Ok(n) => {
                        self.start = self.start.saturating_add(n).min(self.end);
                        self.moved = self.moved.saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
                        self.unflushed = true;
                        progress = true;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => self.dst_ready = false,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(Failure::Write(e)),
                }
            } else if self.unflushed {
                if !self.dst_ready {
                    break;
                }
                match dst.flush() {
                    Ok(()) => self.unflushed = false,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => self.dst_ready = false,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(Failure::Write(e)),
                }
            } else if !self.eof && self.src_ready {
                self.start = 0;
                self.end = 0;
                match src.read(&mut self.buf) {
                    Ok(n) => {
                        self.end = n.min(self.buf.len());
                        self.eof = n == 0;
                        progress = true;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => self.src_ready = false,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    // A TLS peer that closed without close_notify: still the end of its input.
                    Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                        self.eof = true;
                        progress = true;
                    }
                    Err(e) => return Err(Failure::Read(e)),
                }
            } else {
                break;
            }
        }
        Ok(progress)
    }

    /// The source ended and all it sent was written and flushed.
    fn drained(&self) -> bool {
        self.eof && self.pending().is_empty() && !self.unflushed
    }

    fn wants_read(&self) -> bool {
        !self.eof && self.pending().is_empty() && !self.unflushed && !self.src_ready
    }

    fn wants_write(&self) -> bool {
        (!self.pending().is_empty() || self.unflushed) && !self.dst_ready
    }
}
