//! The client side of SPDY/3.1 framing, as much as the kubelet needs to speak to the runtime's
//! streaming server for a translated WebSocket session: opening streams (`SYN_STREAM`),
//! sending data, and reading the server's frames (of which only the stream IDs of
//! `SYN_REPLY` and `DATA` matter).
//!
//! ```text
//!   control: |1| version (15) | type (16) | flags (8) | length (24) | data ...
//!   data:    |0| stream ID (31)           | flags (8) | length (24) | data ...
//! ```
//!
//! Header blocks are zlib streams, one per direction, primed with SPDY/3's dictionary. We write
//! ours as stored (uncompressed) deflate blocks, each header block ending in a sync flush; that
//! needs only the dictionary's Adler-32 in the zlib header. The server's header blocks we never
//! read, so we need no inflater.
#![forbid(unsafe_code)]

use std::fmt;
use std::io::{self, Read};

const VERSION: u16 = 3;
pub const TYPE_SYN_STREAM: u16 = 1;
pub const TYPE_SYN_REPLY: u16 = 2;
pub const TYPE_RST_STREAM: u16 = 3;
pub const TYPE_PING: u16 = 6;
pub const TYPE_GOAWAY: u16 = 7;
pub const FLAG_FIN: u8 = 0x01;
/// The largest frame payload SPDY's 24-bit length allows.
pub const MAX_PAYLOAD: usize = 0x00FF_FFFF;
/// zlib's header for a deflate stream with a preset dictionary (CMF 0x78, FLG 0xBB: FDICT).
const ZLIB_HEADER: [u8; 2] = [0x78, 0xBB];
/// Adler-32 of SPDY/3's header compression dictionary (1,423 bytes, draft-mbelshe-httpbis-spdy
/// section 2.6.10.1), which the server's inflater checks against its own.
const DICTIONARY_ADLER32: u32 = 0xE3C6_A7C2;
/// An empty stored block that is not the last.
const SYNC_FLUSH: [u8; 5] = [0x00, 0x00, 0x00, 0xFF, 0xFF];

/// Writes our side's frames; remembers whether the header zlib stream has begun.
#[derive(Debug, Default)]
pub struct Writer {
    zlib_started: bool,
}

impl Writer {
    /// A `SYN_STREAM` opening `stream_id` with these headers (names lower-cased, as SPDY/3 asks).
    pub fn syn_stream(&mut self, stream_id: u32, headers: &[(&str, &str)]) -> Vec<u8> {
        let mut block = Vec::new();
        push_u32(&mut block, headers.len());
        for (name, value) in headers {
            push_u32(&mut block, name.len());
            block.extend(name.bytes().map(|b| b.to_ascii_lowercase()));
            push_u32(&mut block, value.len());
            block.extend_from_slice(value.as_bytes());
        }
        let mut data = Vec::with_capacity(block.len() + 24);
        data.extend_from_slice(&(stream_id & 0x7FFF_FFFF).to_be_bytes());
        data.extend_from_slice(&0u32.to_be_bytes()); // associated stream: none
        data.extend_from_slice(&[0, 0]); // priority 0, slot 0
        if !self.zlib_started {
            data.extend_from_slice(&ZLIB_HEADER);
            data.extend_from_slice(&DICTIONARY_ADLER32.to_be_bytes());
            self.zlib_started = true;
        }
        for chunk in block.chunks(usize::from(u16::MAX)) {
            // A stored block that is not the last: BFINAL 0, BTYPE 00, then LEN and ~LEN.
            let len = u16::try_from(chunk.len()).unwrap_or(u16::MAX);
            data.push(0);
            data.extend_from_slice(&len.to_le_bytes());
            data.extend_from_slice(&(!len).to_le_bytes());
            data.extend_from_slice(chunk);
        }
        // An empty stored block, as zlib's sync flush ends each block: Go's inflater hands out
        // a stored block's bytes only when it meets the next block, which must be in this frame.
        data.extend_from_slice(&SYNC_FLUSH);
        control_frame(TYPE_SYN_STREAM, 0, &data)
    }
}

fn push_u32(out: &mut Vec<u8>, n: usize) {
    out.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes());
}

fn control_frame(kind: u16, flags: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 8);
    out.extend_from_slice(&(0x8000 | VERSION).to_be_bytes());
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&length_word(flags, data.len()));
    out.extend_from_slice(data);
    out
}

/// Flags and a 24-bit length; callers keep `len` within [`MAX_PAYLOAD`].
fn length_word(flags: u8, len: usize) -> [u8; 4] {
    let len = u32::try_from(len.min(MAX_PAYLOAD)).unwrap_or(0);
    ((u32::from(flags) << 24) | len).to_be_bytes()
}

/// `DATA` frames carrying `data` on `stream_id` (split at [`MAX_PAYLOAD`]); `fin` ends our
/// side of the stream (an empty frame with FIN when `data` is empty).
pub fn data_frames(stream_id: u32, data: &[u8], fin: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 8);
    let mut chunks: Vec<&[u8]> = data.chunks(MAX_PAYLOAD).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.into_iter().enumerate() {
        out.extend_from_slice(&(stream_id & 0x7FFF_FFFF).to_be_bytes());
        out.extend_from_slice(&length_word(if fin && i == last { FLAG_FIN } else { 0 }, chunk.len()));
        out.extend_from_slice(chunk);
    }
    out
}

/// A `PING` answer: the same ID back.
pub fn ping(id: u32) -> Vec<u8> {
    control_frame(TYPE_PING, 0, &id.to_be_bytes())
}

/// A frame from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Data {
        stream_id: u32,
        fin: bool,
        data: Vec<u8>,
    },
    /// A control frame; `stream_id` is the first word of its data when it names a stream
    /// (`SYN_STREAM`, `SYN_REPLY`, `RST_STREAM`, ...), the ping ID for `PING`.
    Control {
        kind: u16,
        flags: u8,
        stream_id: Option<u32>,
    },
}

#[derive(Debug)]
pub enum SpdyError {
    Io(io::Error),
    Version(u16),
}

impl fmt::Display for SpdyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpdyError::Io(e) => write!(f, "reading an SPDY frame: {e}"),
            SpdyError::Version(v) => write!(f, "SPDY control frame of version {v}, want 3"),
        }
    }
}

impl std::error::Error for SpdyError {}

impl From<io::Error> for SpdyError {
    fn from(e: io::Error) -> Self {
        SpdyError::Io(e)
    }
}

/// The next frame; `Ok(None)` when the input ends between frames. Lengths are at most
/// [`MAX_PAYLOAD`] by their encoding, so a frame's buffer is bounded.
pub fn read_frame(r: &mut dyn Read) -> Result<Option<Frame>, SpdyError> {
    let mut head = [0u8; 8];
    let mut filled = 0;
    while filled < head.len() {
        match r.read(head.get_mut(filled..).unwrap_or_default()) {
            Ok(0) if filled == 0 => return Ok(None),
            Ok(0) => return Err(SpdyError::Io(io::ErrorKind::UnexpectedEof.into())),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let [w0, w1, w2, w3, flags, l0, l1, l2] = head;
    let first = u32::from_be_bytes([w0, w1, w2, w3]);
    let len = usize::try_from(u32::from_be_bytes([0, l0, l1, l2])).unwrap_or(MAX_PAYLOAD);
    let mut data = vec![0u8; len];
    r.read_exact(&mut data)?;
    if first & 0x8000_0000 == 0 {
        return Ok(Some(Frame::Data { stream_id: first, fin: flags & FLAG_FIN != 0, data }));
    }
    let version = u16::try_from((first >> 16) & 0x7FFF).unwrap_or(0);
    if version != VERSION {
        return Err(SpdyError::Version(version));
    }
    let kind = u16::try_from(first & 0xFFFF).unwrap_or(0);
    let stream_id = match data.get(..4) {
        Some(&[a, b, c, d]) if kind != TYPE_GOAWAY => Some(u32::from_be_bytes([a, b, c, d]) & 0x7FFF_FFFF),
        _ => None,
    };
    Ok(Some(Frame::Control { kind, flags, stream_id }))
}

#[cfg(test)]
#[path = "spdy_tests.rs"]
mod tests;
