//! `Transfer-Encoding: chunked` request bodies, decoded incrementally (sans-I/O).
//!
//! ```text
//!   Size ──hex digits, [;ext], LF──► Data(n) ──n bytes──► DataEnd ──CRLF──► Size
//!     └── size 0 ──► Trailer ──empty line──► Done          (trailer fields are dropped)
//! ```

#![forbid(unsafe_code)]

use super::request::ParseError;

/// Longest chunk-size line (digits and extensions) or trailer line we accept.
const MAX_LINE: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Size { line: Vec<u8> },
    Data { remaining: usize },
    DataEnd { seen_cr: bool },
    Trailer { line_len: usize },
    Done,
}

/// Decodes one chunked body, refusing more than `limit` decoded bytes.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    limit: usize,
    total: usize,
}

impl ChunkedDecoder {
    pub fn new(limit: usize) -> ChunkedDecoder {
        ChunkedDecoder { state: State::Size { line: Vec::new() }, limit, total: 0 }
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Consumes what it can of `input`, appending body bytes to `out`; returns the number of
    /// input bytes consumed (all of them unless the body ended inside `input`).
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, ParseError> {
        let mut pos = 0;
        while pos < input.len() && self.state != State::Done {
            let rest = input.get(pos..).unwrap_or_default();
            pos += self.step(rest, out)?;
        }
        Ok(pos)
    }

    /// One state's worth of progress on a non-empty `rest`; returns bytes consumed (> 0).
    fn step(&mut self, rest: &[u8], out: &mut Vec<u8>) -> Result<usize, ParseError> {
        let Some(&b) = rest.first() else { return Ok(0) };
        match &mut self.state {
            State::Size { line } => {
                if b != b'\n' {
                    if line.len() >= MAX_LINE {
                        return Err(ParseError::BadChunk);
                    }
                    line.push(b);
                    return Ok(1);
                }
                let size = chunk_size(line)?;
                self.state = if size == 0 { State::Trailer { line_len: 0 } } else { State::Data { remaining: size } };
                if size > self.limit.saturating_sub(self.total) {
                    return Err(ParseError::BodyTooLarge);
                }
                self.total += size;
                Ok(1)
            }
            State::Data { remaining } => {
                let n = (*remaining).min(rest.len());
                out.extend_from_slice(rest.get(..n).unwrap_or_default());
                *remaining -= n;
                if *remaining == 0 {
                    self.state = State::DataEnd { seen_cr: false };
                }
                Ok(n)
            }
            State::DataEnd { seen_cr } => match (b, *seen_cr) {
                (b'\r', false) => {
                    *seen_cr = true;
                    Ok(1)
                }
                (b'\n', _) => {
                    self.state = State::Size { line: Vec::new() };
                    Ok(1)
                }
                _ => Err(ParseError::BadChunk),
            },
            State::Trailer { line_len } => {
                match b {
                    b'\n' if *line_len == 0 => self.state = State::Done,
                    b'\n' => *line_len = 0,
                    b'\r' if *line_len == 0 => {}
                    _ if *line_len >= MAX_LINE => return Err(ParseError::BadChunk),
                    _ => *line_len += 1,
                }
                Ok(1)
            }
            State::Done => Ok(0),
        }
    }
}

/// The hex size before any `;extension`, from a line without its LF.
fn chunk_size(line: &[u8]) -> Result<usize, ParseError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let digits = line.split(|&b| b == b';').next().unwrap_or_default();
    let digits = digits.strip_suffix(b" ").unwrap_or(digits);
    if digits.is_empty() || digits.len() > 16 {
        return Err(ParseError::BadChunk);
    }
    let text = std::str::from_utf8(digits).map_err(|_| ParseError::BadChunk)?;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ParseError::BadChunk);
    }
    let n = u64::from_str_radix(text, 16).map_err(|_| ParseError::BadChunk)?;
    usize::try_from(n).map_err(|_| ParseError::BodyTooLarge)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8], limit: usize) -> Result<(Vec<u8>, usize, bool), ParseError> {
        let mut d = ChunkedDecoder::new(limit);
        let mut out = Vec::new();
        let used = d.feed(input, &mut out)?;
        Ok((out, used, d.is_done()))
    }

    #[test]
    fn decodes_chunks_extensions_and_trailers() {
        let body = b"4;name=x\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\nNEXT";
        let (out, used, done) = decode_all(body, 1024).unwrap_or_default();
        assert_eq!(out, b"Wikipedia in\r\n\r\nchunks.");
        assert!(done);
        assert_eq!(&body[used..], b"NEXT");
    }

    #[test]
    fn every_split_point_gives_the_same_body() {
        let body = b"3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";
        for cut in 0..=body.len() {
            let mut d = ChunkedDecoder::new(1024);
            let mut out = Vec::new();
            let (a, b) = body.split_at(cut);
            assert_eq!(d.feed(a, &mut out), Ok(a.len()));
            assert_eq!(d.is_done(), cut == body.len());
            assert_eq!(d.feed(b, &mut out), Ok(b.len()));
            assert!(d.is_done());
            assert_eq!(out, b"abc0123456789abcdef");
        }
    }

    #[test]
    fn malformed_and_oversized_bodies_fail() {
        for bad in [&b"x\r\n"[..], b"\r\n", b"3\r\nabcX", b"fffffffffffffffff\r\n", b"-1\r\n"] {
            assert_eq!(decode_all(bad, 1 << 20).map(|_| ()), Err(ParseError::BadChunk), "{bad:?}");
        }
        assert_eq!(decode_all(b"5\r\nabcde\r\n6\r\n", 10).map(|_| ()), Err(ParseError::BodyTooLarge));
        let long = vec![b'1'; MAX_LINE + 1];
        assert_eq!(decode_all(&long, 1 << 20).map(|_| ()), Err(ParseError::BadChunk));
    }
}
