//! HTTP/2 frames (RFC 9113 section 4 and 6), sans-I/O.
//!
//! [`decode`] takes the bytes received so far and returns one frame plus the bytes it used, or
//! `Ok(None)` when more bytes are needed; it never consumes a partial frame. Payloads borrow
//! from the input. Every length, flag and stream-id rule that can be checked on a single frame
//! is checked here; rules that need connection state (stream states, windows) live in
//! [`crate::h2::conn`]. [`Frame::encode`] writes a frame back, so the fake peer in the tests
//! speaks through the same code.

#![forbid(unsafe_code)]

use super::error::ErrorCode;
use super::reader::Reader;

pub use error::FrameError;

mod encode;
mod error;
#[cfg(test)]
mod tests;

pub const HEADER_LEN: usize = 9;
/// SETTINGS_MAX_FRAME_SIZE's initial value and lower bound.
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 16_384;
/// SETTINGS_MAX_FRAME_SIZE's upper bound (2^24-1).
pub const MAX_FRAME_SIZE_LIMIT: u32 = 16_777_215;
/// The largest flow-control window (2^31-1).
pub const MAX_WINDOW: u32 = 0x7fff_ffff;

pub mod flags {
    pub const END_STREAM: u8 = 0x1;
    pub const ACK: u8 = 0x1;
    pub const END_HEADERS: u8 = 0x4;
    pub const PADDED: u8 = 0x8;
    pub const PRIORITY: u8 = 0x20;
}

/// Frame type codes.
pub mod kind {
    pub const DATA: u8 = 0x0;
    pub const HEADERS: u8 = 0x1;
    pub const PRIORITY: u8 = 0x2;
    pub const RST_STREAM: u8 = 0x3;
    pub const SETTINGS: u8 = 0x4;
    pub const PUSH_PROMISE: u8 = 0x5;
    pub const PING: u8 = 0x6;
    pub const GOAWAY: u8 = 0x7;
    pub const WINDOW_UPDATE: u8 = 0x8;
    pub const CONTINUATION: u8 = 0x9;
}

/// Stream dependency from a HEADERS or PRIORITY frame (parsed, then ignored: RFC 9113
/// deprecates the priority scheme).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priority {
    pub exclusive: bool,
    pub dependency: u32,
    pub weight: u8,
}

/// One SETTINGS parameter, with its value already range-checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    HeaderTableSize(u32),
    EnablePush(bool),
    MaxConcurrentStreams(u32),
    InitialWindowSize(u32),
    MaxFrameSize(u32),
    MaxHeaderListSize(u32),
    /// Unknown identifiers must be ignored (RFC 9113 section 6.5.2).
    Unknown {
        id: u16,
        value: u32,
    },
}

/// A decoded frame; byte payloads borrow from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame<'a> {
    Data {
        stream_id: u32,
        data: &'a [u8],
        end_stream: bool,
        padding: Option<u8>,
    },
    Headers {
        stream_id: u32,
        fragment: &'a [u8],
        end_stream: bool,
        end_headers: bool,
        priority: Option<Priority>,
        padding: Option<u8>,
    },
    Priority {
        stream_id: u32,
        priority: Priority,
    },
    RstStream {
        stream_id: u32,
        code: ErrorCode,
    },
    Settings {
        ack: bool,
        params: Vec<Setting>,
    },
    PushPromise {
        stream_id: u32,
        promised_id: u32,
        fragment: &'a [u8],
        end_headers: bool,
        padding: Option<u8>,
    },
    Ping {
        ack: bool,
        data: [u8; 8],
    },
    GoAway {
        last_stream_id: u32,
        code: ErrorCode,
        debug: &'a [u8],
    },
    WindowUpdate {
        stream_id: u32,
        increment: u32,
    },
    Continuation {
        stream_id: u32,
        fragment: &'a [u8],
        end_headers: bool,
    },
    /// Frames of unknown type are ignored by the connection.
    Unknown {
        kind: u8,
        flags: u8,
        stream_id: u32,
        payload: &'a [u8],
    },
}

impl Frame<'_> {
    /// The stream the frame belongs to (0 for connection frames).
    pub fn stream_id(&self) -> u32 {
        match *self {
            Frame::Data { stream_id, .. }
            | Frame::Headers { stream_id, .. }
            | Frame::Priority { stream_id, .. }
            | Frame::RstStream { stream_id, .. }
            | Frame::PushPromise { stream_id, .. }
            | Frame::WindowUpdate { stream_id, .. }
            | Frame::Continuation { stream_id, .. }
            | Frame::Unknown { stream_id, .. } => stream_id,
            Frame::Settings { .. } | Frame::Ping { .. } | Frame::GoAway { .. } => 0,
        }
    }
}

/// Decodes one frame from the front of `buf`.
///
/// Returns the frame and the number of bytes it took, `Ok(None)` when `buf` holds only part of
/// a frame, or the error; a length above `max_frame_size` fails as soon as the header is in.
pub fn decode(buf: &[u8], max_frame_size: u32) -> Result<Option<(Frame<'_>, usize)>, FrameError> {
    let mut r = Reader::new(buf);
    let (Some(len), Some(kind), Some(flags), Some(raw_id)) = (r.u24(), r.u8(), r.u8(), r.u32()) else {
        return Ok(None);
    };
    if len > max_frame_size {
        return Err(FrameError::TooLarge { kind, len, max: max_frame_size });
    }
    let Ok(len) = usize::try_from(len) else {
        return Err(FrameError::TooLarge { kind, len, max: max_frame_size });
    };
    let Some(payload) = r.take(len) else {
        return Ok(None);
    };
    let stream_id = raw_id & MAX_WINDOW;
    let frame = decode_payload(kind, flags, stream_id, payload)?;
    Ok(Some((frame, HEADER_LEN + len)))
}

fn decode_payload(kind: u8, flags: u8, stream_id: u32, payload: &[u8]) -> Result<Frame<'_>, FrameError> {
    let on_stream = || if stream_id == 0 { Err(FrameError::StreamIdRequired { kind }) } else { Ok(()) };
    let on_conn = || {
        if stream_id != 0 { Err(FrameError::StreamIdForbidden { kind, stream_id }) } else { Ok(()) }
    };
    let exact = |n: usize| {
        if payload.len() != n { Err(FrameError::BadLength { kind, len: payload.len() }) } else { Ok(()) }
    };
    let has = |flag: u8| flags & flag != 0;
    let mut r = Reader::new(payload);
    let frame = match kind {
        kind::DATA => {
            on_stream()?;
            let (data, padding) = strip_padding(kind, stream_id, has(flags::PADDED), &mut r)?;
            Frame::Data { stream_id, data, end_stream: has(flags::END_STREAM), padding }
        }
        kind::HEADERS => {
            on_stream()?;
            let (mut body, padding) = strip_padding(kind, stream_id, has(flags::PADDED), &mut r)?;
            let priority = if has(flags::PRIORITY) {
                let mut b = Reader::new(body);
                let p = read_priority(&mut b, stream_id)
                    .ok_or(FrameError::BadLength { kind, len: payload.len() })??;
                body = b.take_rest();
                Some(p)
            } else {
                None
            };
            Frame::Headers {
                stream_id,
                fragment: body,
                end_stream: has(flags::END_STREAM),
                end_headers: has(flags::END_HEADERS),
                priority,
                padding,
            }
        }
        kind::PRIORITY => {
            on_stream()?;
            exact(5)?;
            let priority = read_priority(&mut r, stream_id)
                .ok_or(FrameError::BadLength { kind, len: payload.len() })??;
            Frame::Priority { stream_id, priority }
        }
        kind::RST_STREAM => {
            on_stream()?;
            exact(4)?;
            let code = r.u32().ok_or(FrameError::BadLength { kind, len: payload.len() })?;
            Frame::RstStream { stream_id, code: ErrorCode::from_u32(code) }
        }
        kind::SETTINGS => {
            on_conn()?;
            let ack = has(flags::ACK);
            if (ack && !payload.is_empty()) || !payload.len().is_multiple_of(6) {
                return Err(FrameError::BadLength { kind, len: payload.len() });
            }
            let mut params = Vec::with_capacity(payload.len() / 6);
            while let (Some(id), Some(value)) = (r.u16(), r.u32()) {
                params.push(decode_setting(id, value)?);
            }
            Frame::Settings { ack, params }
        }
        kind::PUSH_PROMISE => {
            on_stream()?;
            let (body, padding) = strip_padding(kind, stream_id, has(flags::PADDED), &mut r)?;
            let mut b = Reader::new(body);
            let promised = b.u32().ok_or(FrameError::BadLength { kind, len: payload.len() })?;
            Frame::PushPromise {
                stream_id,
                promised_id: promised & MAX_WINDOW,
                fragment: b.take_rest(),
                end_headers: has(flags::END_HEADERS),
                padding,
            }
        }
        kind::PING => {
            on_conn()?;
            exact(8)?;
            let data = r.array::<8>().ok_or(FrameError::BadLength { kind, len: payload.len() })?;
            Frame::Ping { ack: has(flags::ACK), data }
        }
        kind::GOAWAY => {
            on_conn()?;
            let (Some(last), Some(code)) = (r.u32(), r.u32()) else {
                return Err(FrameError::BadLength { kind, len: payload.len() });
            };
            Frame::GoAway {
                last_stream_id: last & MAX_WINDOW,
                code: ErrorCode::from_u32(code),
                debug: r.take_rest(),
            }
        }
        kind::WINDOW_UPDATE => {
            exact(4)?;
            let raw = r.u32().ok_or(FrameError::BadLength { kind, len: payload.len() })?;
            let increment = raw & MAX_WINDOW;
            if increment == 0 {
                return Err(FrameError::ZeroWindowIncrement { stream_id });
            }
            Frame::WindowUpdate { stream_id, increment }
        }
        kind::CONTINUATION => {
            on_stream()?;
            Frame::Continuation { stream_id, fragment: payload, end_headers: has(flags::END_HEADERS) }
        }
        _ => Frame::Unknown { kind, flags, stream_id, payload },
    };
    Ok(frame)
}

/// Splits off the pad length byte and the trailing padding when PADDED is set.
fn strip_padding<'a>(
    kind: u8,
    stream_id: u32,
    padded: bool,
    r: &mut Reader<'a>,
) -> Result<(&'a [u8], Option<u8>), FrameError> {
    if !padded {
        return Ok((r.take_rest(), None));
    }
    let bad = FrameError::BadPadding { kind, stream_id };
    let pad = r.u8().ok_or_else(|| bad.clone())?;
    let body_len = r.remaining().checked_sub(usize::from(pad)).ok_or_else(|| bad.clone())?;
    let body = r.take(body_len).ok_or(bad)?;
    Ok((body, Some(pad)))
}

/// `None` when too short; `Some(Err)` for a self-dependency.
fn read_priority(r: &mut Reader<'_>, stream_id: u32) -> Option<Result<Priority, FrameError>> {
    let raw = r.u32()?;
    let weight = r.u8()?;
    let dependency = raw & MAX_WINDOW;
    if dependency == stream_id {
        return Some(Err(FrameError::SelfDependency { stream_id }));
    }
    Some(Ok(Priority { exclusive: raw & !MAX_WINDOW != 0, dependency, weight }))
}

fn decode_setting(id: u16, value: u32) -> Result<Setting, FrameError> {
    Ok(match id {
        0x1 => Setting::HeaderTableSize(value),
        0x2 => match value {
            0 => Setting::EnablePush(false),
            1 => Setting::EnablePush(true),
            _ => return Err(FrameError::BadSetting { id, value }),
        },
        0x3 => Setting::MaxConcurrentStreams(value),
        0x4 if value > MAX_WINDOW => return Err(FrameError::WindowTooLarge { value }),
        0x4 => Setting::InitialWindowSize(value),
        0x5 if !(DEFAULT_MAX_FRAME_SIZE..=MAX_FRAME_SIZE_LIMIT).contains(&value) => {
            return Err(FrameError::BadSetting { id, value });
        }
        0x5 => Setting::MaxFrameSize(value),
        0x6 => Setting::MaxHeaderListSize(value),
        _ => Setting::Unknown { id, value },
    })
}
