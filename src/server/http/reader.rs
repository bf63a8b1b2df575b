//! Reading requests from a connection, one at a time (the I/O around [`parse_head`]).
//!
//! Bytes that arrive after a request (a pipelined request, or the first bytes of an
//! upgraded stream) stay buffered for the next call or for [`RequestReader::take_buffered`].

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use super::chunked::ChunkedDecoder;
use super::request::{BodyKind, Limits, ParseError, parse_head};
use super::Request;

const READ_SIZE: usize = 8192;

#[derive(Debug)]
pub enum ReadError {
    /// The client closed the connection between requests.
    Closed,
    /// The client was too slow (idle between requests, or sending one).
    Timeout,
    /// The connection ended in the middle of a request.
    Truncated,
    Parse(ParseError),
    Io(io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Closed => f.write_str("connection closed"),
            ReadError::Timeout => f.write_str("timed out reading the request"),
            ReadError::Truncated => f.write_str("connection closed in the middle of a request"),
            ReadError::Parse(e) => write!(f, "{e}"),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ReadError {}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

/// Sets the connection's read timeout (so a read blocks no longer than a deadline allows).
pub type TimeoutHook = Box<dyn Fn(Duration) + Send>;

/// Reads requests off one connection.
pub struct RequestReader {
    buf: Vec<u8>,
    limits: Limits,
    /// How long one request may take to arrive once its first byte has.
    request_timeout: Duration,
    timeout_hook: Option<TimeoutHook>,
}

impl RequestReader {
    pub fn new(limits: Limits, request_timeout: Duration) -> RequestReader {
        RequestReader { buf: Vec::new(), limits, request_timeout, timeout_hook: None }
    }

    /// Lets each read inside a request block only until the request's deadline.
    pub fn with_timeout_hook(mut self, hook: TimeoutHook) -> RequestReader {
        self.timeout_hook = Some(hook);
        self
    }

    /// Bytes received but not yet part of a request.
    pub fn take_buffered(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Reads more into the buffer; `Ok(false)` at end of stream.
    fn fill(&mut self, stream: &mut dyn Read, deadline: Option<Instant>) -> Result<bool, ReadError> {
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(ReadError::Timeout);
            }
            if let Some(hook) = &self.timeout_hook {
                hook(left);
            }
        }
        let mut chunk = [0u8; READ_SIZE];
        loop {
            match stream.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if is_timeout(&e) => return Err(ReadError::Timeout),
                // A peer that vanishes without a TLS close_notify reads as this.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
                Err(e) => return Err(ReadError::Io(e)),
            }
        }
    }

    /// The next request. A client that sent `Expect: 100-continue` is told to go on before
    /// its body is read.
    pub fn read<S: Read + Write>(&mut self, stream: &mut S) -> Result<Request, ReadError> {
        let mut deadline = (!self.buf.is_empty()).then(|| Instant::now() + self.request_timeout);
        let (head, used) = loop {
            if let Some(found) = parse_head(&self.buf, &self.limits).map_err(ReadError::Parse)? {
                break found;
            }
            let was_empty = self.buf.is_empty();
            if !self.fill(stream, deadline)? {
                return Err(if was_empty { ReadError::Closed } else { ReadError::Truncated });
            }
            if was_empty {
                deadline = Some(Instant::now() + self.request_timeout);
            }
        };
        self.buf.drain(..used);
        let kind = head.body_kind(&self.limits).map_err(ReadError::Parse)?;
        if kind != BodyKind::None && head.expects_continue() {
            stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").map_err(ReadError::Io)?;
            stream.flush().map_err(ReadError::Io)?;
        }
        let body = match kind {
            BodyKind::None => Vec::new(),
            BodyKind::Length(n) => {
                while self.buf.len() < n {
                    if !self.fill(stream, deadline)? {
                        return Err(ReadError::Truncated);
                    }
                }
                self.buf.drain(..n).collect()
            }
            BodyKind::Chunked => self.read_chunked(stream, deadline)?,
        };
        Ok(Request { head, body })
    }

    fn read_chunked(&mut self, stream: &mut dyn Read, deadline: Option<Instant>) -> Result<Vec<u8>, ReadError> {
        let mut decoder = ChunkedDecoder::new(self.limits.max_body_bytes);
        let mut body = Vec::new();
        loop {
            let used = decoder.feed(&self.buf, &mut body).map_err(ReadError::Parse)?;
            self.buf.drain(..used);
            if decoder.is_done() {
                return Ok(body);
            }
            if !self.fill(stream, deadline)? {
                return Err(ReadError::Truncated);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that hands out its input a few bytes per read and records what is written.
    struct Trickle {
        input: Vec<u8>,
        pos: usize,
        step: usize,
        written: Vec<u8>,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let rest = self.input.get(self.pos..).unwrap_or_default();
            let n = rest.len().min(self.step).min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.pos += n;
            Ok(n)
        }
    }

    impl Write for Trickle {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn trickle(input: &[u8], step: usize) -> Trickle {
        Trickle { input: input.to_vec(), pos: 0, step, written: Vec::new() }
    }

    const PIPELINE: &[u8] = b"POST /run/ns/p/c HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhelloPOST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /exec/a/b/c HTTP/1.1\r\n\r\nSPDY";

    #[test]
    fn pipelined_requests_with_bodies_at_any_read_size() {
        for step in [1, 2, 7, 64, 8192] {
            let mut s = trickle(PIPELINE, step);
            let mut r = RequestReader::new(Limits::default(), Duration::from_secs(60));
            let first = r.read(&mut s).unwrap_or_else(|e| panic!("step {step}: {e}"));
            assert_eq!((first.path(), first.body.as_slice()), ("/run/ns/p/c", &b"hello"[..]));
            assert_eq!(s.written, b"HTTP/1.1 100 Continue\r\n\r\n");
            let second = r.read(&mut s).unwrap_or_else(|e| panic!("step {step}: {e}"));
            assert_eq!((second.path(), second.body.as_slice()), ("/x", &b"abc"[..]));
            let third = r.read(&mut s).unwrap_or_else(|e| panic!("step {step}: {e}"));
            assert_eq!(third.path(), "/exec/a/b/c");
            // The upgraded stream's first bytes stay with the connection (or are still unread).
            let mut rest = r.take_buffered();
            s.read_to_end(&mut rest).unwrap_or_default();
            assert_eq!(rest, b"SPDY");
        }
    }

    #[test]
    fn end_of_stream_between_and_inside_requests() {
        let mut r = RequestReader::new(Limits::default(), Duration::from_secs(60));
        assert!(matches!(r.read(&mut trickle(b"", 4)), Err(ReadError::Closed)));
        assert!(matches!(r.read(&mut trickle(b"GET / HTTP/1.1\r\n", 4)), Err(ReadError::Truncated)));
        let mut r = RequestReader::new(Limits::default(), Duration::from_secs(60));
        let short_body = b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc";
        assert!(matches!(r.read(&mut trickle(short_body, 4)), Err(ReadError::Truncated)));
    }

    #[test]
    fn a_request_that_takes_too_long_times_out() {
        let mut r = RequestReader::new(Limits::default(), Duration::ZERO);
        let got = r.read(&mut trickle(b"GET / HTTP/1.1\r\n\r\n", 1));
        assert!(matches!(got, Err(ReadError::Timeout)), "{got:?}");
    }

    #[test]
    fn oversized_bodies_are_refused() {
        let limits = Limits { max_body_bytes: 4, ..Limits::default() };
        let mut r = RequestReader::new(limits, Duration::from_secs(60));
        let chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n";
        assert!(matches!(r.read(&mut trickle(chunked, 100)), Err(ReadError::Parse(ParseError::BodyTooLarge))));
    }
}
