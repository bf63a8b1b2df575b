//! Frame-level decoding errors and the HTTP/2 code each one maps to.

#![forbid(unsafe_code)]

use std::fmt;

use crate::h2::error::ErrorCode;

/// A frame the peer encoded wrongly; each maps to the code RFC 9113 prescribes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// Length above our SETTINGS_MAX_FRAME_SIZE.
    TooLarge { kind: u8, len: u32, max: u32 },
    /// A fixed-size frame (PING, RST_STREAM, ...) with the wrong length.
    BadLength { kind: u8, len: usize },
    /// Pad length not smaller than what remains of the payload.
    BadPadding { kind: u8, stream_id: u32 },
    /// A stream frame on stream 0.
    StreamIdRequired { kind: u8 },
    /// A connection frame on a stream.
    StreamIdForbidden { kind: u8, stream_id: u32 },
    /// A stream that depends on itself.
    SelfDependency { stream_id: u32 },
    /// WINDOW_UPDATE with increment 0.
    ZeroWindowIncrement { stream_id: u32 },
    /// SETTINGS_ENABLE_PUSH other than 0/1, SETTINGS_MAX_FRAME_SIZE out of range.
    BadSetting { id: u16, value: u32 },
    /// SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1.
    WindowTooLarge { value: u32 },
}

impl FrameError {
    pub fn code(&self) -> ErrorCode {
        match self {
            FrameError::TooLarge { .. } | FrameError::BadLength { .. } => ErrorCode::FrameSize,
            FrameError::WindowTooLarge { .. } => ErrorCode::FlowControl,
            _ => ErrorCode::Protocol,
        }
    }
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLarge { kind, len, max } => {
                write!(f, "frame type {kind:#x} of {len} bytes exceeds the maximum {max}")
            }
            FrameError::BadLength { kind, len } => {
                write!(f, "frame type {kind:#x} has invalid length {len}")
            }
            FrameError::BadPadding { kind, stream_id } => {
                write!(f, "frame type {kind:#x} on stream {stream_id}: padding exceeds payload")
            }
            FrameError::StreamIdRequired { kind } => {
                write!(f, "frame type {kind:#x} on stream 0")
            }
            FrameError::StreamIdForbidden { kind, stream_id } => {
                write!(f, "connection frame type {kind:#x} on stream {stream_id}")
            }
            FrameError::SelfDependency { stream_id } => {
                write!(f, "stream {stream_id} depends on itself")
            }
            FrameError::ZeroWindowIncrement { stream_id } => {
                write!(f, "WINDOW_UPDATE with increment 0 on stream {stream_id}")
            }
            FrameError::BadSetting { id, value } => {
                write!(f, "setting {id:#x} has invalid value {value}")
            }
            FrameError::WindowTooLarge { value } => {
                write!(f, "SETTINGS_INITIAL_WINDOW_SIZE {value} exceeds 2^31-1")
            }
        }
    }
}

impl std::error::Error for FrameError {}
