//! The server side of RFC 6455 WebSockets, as much as the kubelet's stream translation needs:
//! the handshake's accept value, reading the client's (masked) frames into messages, and
//! writing unmasked frames.
//!
//! A message may come in fragments (a first frame, then continuations); control frames (close,
//! ping, pong) may come between fragments and are never fragmented themselves.
#![forbid(unsafe_code)]

use std::fmt;
use std::io::{self, Read, Write};

use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};

/// RFC 6455's GUID, appended to the client's key for the accept value.
const ACCEPT_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// The largest message we take from a client (stdin chunks and resize events are small).
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024;

pub const OP_CONTINUATION: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key`.
pub fn accept_value(key: &str) -> String {
    let hash = digest(&SHA1_FOR_LEGACY_USE_ONLY, format!("{}{ACCEPT_GUID}", key.trim()).as_bytes());
    crate::api::bytes::base64_encode(hash.as_ref())
}

/// The client's `Sec-WebSocket-Key`, when its handshake is one we answer (version 13).
pub fn client_key(head: &super::head::RequestHead) -> Result<&str, &'static str> {
    let key = head.header("Sec-WebSocket-Key").map(str::trim).filter(|k| !k.is_empty());
    let key = key.ok_or("no Sec-WebSocket-Key")?;
    if head.header("Sec-WebSocket-Version").map(str::trim) != Some("13") {
        return Err("Sec-WebSocket-Version must be 13");
    }
    Ok(key)
}

/// What a client sent: a whole data message, or a control frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Binary(Vec<u8>),
    Text(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// The close frame's payload (status code and reason), possibly empty.
    Close(Vec<u8>),
}

/// A client's bytes that are not the WebSocket protocol.
#[derive(Debug)]
pub enum FrameError {
    Io(io::Error),
    /// RFC 6455: a client masks every frame.
    Unmasked,
    ReservedBits,
    UnknownOpcode(u8),
    /// A control frame that is fragmented or longer than 125 bytes.
    BadControl,
    /// A continuation with no message to continue, or a new message inside one.
    BadFragment,
    TooLong(u64),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Io(e) => write!(f, "reading a WebSocket frame: {e}"),
            FrameError::Unmasked => write!(f, "unmasked WebSocket frame from the client"),
            FrameError::ReservedBits => write!(f, "WebSocket frame with reserved bits set"),
            FrameError::UnknownOpcode(op) => write!(f, "unknown WebSocket opcode {op:#x}"),
            FrameError::BadControl => write!(f, "fragmented or oversized WebSocket control frame"),
            FrameError::BadFragment => write!(f, "WebSocket continuation out of order"),
            FrameError::TooLong(n) => write!(f, "WebSocket message of {n} bytes is too long"),
        }
    }
}

impl std::error::Error for FrameError {}

impl From<io::Error> for FrameError {
    fn from(e: io::Error) -> Self {
        FrameError::Io(e)
    }
}

/// Reads client frames into messages.
#[derive(Debug, Default)]
pub struct Reader {
    /// The opcode and bytes of a fragmented message so far.
    partial: Option<(u8, Vec<u8>)>,
}

impl Reader {
    /// The next message; `Ok(None)` at a clean end of input (between frames).
    pub fn next(&mut self, r: &mut dyn Read) -> Result<Option<Message>, FrameError> {
        loop {
            let mut head = [0u8; 2];
            if !read_or_eof(r, &mut head)? {
                return Ok(None);
            }
            let [b0, b1] = head;
            let fin = b0 & 0x80 != 0;
            let opcode = b0 & 0x0F;
            if b0 & 0x70 != 0 {
                return Err(FrameError::ReservedBits);
            }
            if b1 & 0x80 == 0 {
                return Err(FrameError::Unmasked);
            }
            let len = match b1 & 0x7F {
                126 => u64::from(u16::from_be_bytes(read_array(r)?)),
                127 => u64::from_be_bytes(read_array(r)?),
                n => u64::from(n),
            };
            let control = opcode >= OP_CLOSE;
            if control && (!fin || len > 125) {
                return Err(FrameError::BadControl);
            }
            let so_far = self.partial.as_ref().map_or(0, |(_, b)| b.len());
            let total = len.saturating_add(u64::try_from(so_far).unwrap_or(u64::MAX));
            let Some(len) = usize::try_from(len).ok().filter(|_| total <= MAX_MESSAGE as u64) else {
                return Err(FrameError::TooLong(total));
            };
            let mask: [u8; 4] = read_array(r)?;
            let mut payload = vec![0u8; len];
            r.read_exact(&mut payload)?;
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= mask.get(i % 4).copied().unwrap_or(0);
            }
            match opcode {
                OP_CLOSE => return Ok(Some(Message::Close(payload))),
                OP_PING => return Ok(Some(Message::Ping(payload))),
                OP_PONG => return Ok(Some(Message::Pong(payload))),
                OP_TEXT | OP_BINARY if self.partial.is_some() => return Err(FrameError::BadFragment),
                OP_TEXT | OP_BINARY if fin => return Ok(Some(data_message(opcode, payload))),
                OP_TEXT | OP_BINARY => self.partial = Some((opcode, payload)),
                OP_CONTINUATION => {
                    let Some((first, mut bytes)) = self.partial.take() else {
                        return Err(FrameError::BadFragment);
                    };
                    bytes.extend_from_slice(&payload);
                    if fin {
                        return Ok(Some(data_message(first, bytes)));
                    }
                    self.partial = Some((first, bytes));
                }
                other => return Err(FrameError::UnknownOpcode(other)),
            }
        }
    }
}

fn data_message(opcode: u8, payload: Vec<u8>) -> Message {
    if opcode == OP_TEXT { Message::Text(payload) } else { Message::Binary(payload) }
}

/// Fills `buf`; false if the input ended before its first byte.
fn read_or_eof(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(buf.get_mut(filled..).unwrap_or_default()) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn read_array<const N: usize>(r: &mut dyn Read) -> io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// One unmasked, final frame (a server's).
pub fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 10);
    out.push(0x80 | opcode);
    match u16::try_from(payload.len()) {
        Ok(n) if n < 126 => out.push(u8::try_from(n).unwrap_or(125)),
        Ok(n) => {
            out.push(126);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Err(_) => {
            out.push(127);
            out.extend_from_slice(&u64::try_from(payload.len()).unwrap_or(u64::MAX).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
    out
}

/// Writes a binary message whose first byte is `channel` (the k8s channel protocols).
pub fn write_channel(w: &mut dyn Write, channel: u8, data: &[u8]) -> io::Result<()> {
    let mut payload = Vec::with_capacity(data.len() + 1);
    payload.push(channel);
    payload.extend_from_slice(data);
    w.write_all(&frame(OP_BINARY, &payload))
}

/// A close frame with a status code (1000: normal closure).
pub fn close_frame(code: u16) -> Vec<u8> {
    frame(OP_CLOSE, &code.to_be_bytes())
}

#[cfg(test)]
#[path = "websocket_tests.rs"]
mod tests;
