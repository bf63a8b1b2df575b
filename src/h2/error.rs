//! HTTP/2 error codes (RFC 9113 section 7) and the errors a request can end with.
//!
//! Errors are classified by who is at fault, as the codecs report them: bad bytes from the
//! peer ([`FrameError`], [`DecodeError`]), valid frames in an illegal order
//! ([`ProtocolError`]), the peer ending or refusing our work ([`Error::Refused`],
//! [`Error::StreamReset`]), and local limits ([`Error::Timeout`], [`Error::BodyTooLarge`]).
//! Each peer fault maps to the HTTP/2 code we send back in GOAWAY or RST_STREAM.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use super::frame::FrameError;
use super::hpack::DecodeError;

/// An HTTP/2 error code as carried by RST_STREAM and GOAWAY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    NoError,
    Protocol,
    Internal,
    FlowControl,
    SettingsTimeout,
    StreamClosed,
    FrameSize,
    RefusedStream,
    Cancel,
    Compression,
    Connect,
    EnhanceYourCalm,
    InadequateSecurity,
    Http11Required,
    /// Codes not defined by RFC 9113 are kept, never treated as errors themselves.
    Unknown(u32),
}

impl ErrorCode {
    pub fn from_u32(n: u32) -> ErrorCode {
        use ErrorCode::*;
        match n {
            0x0 => NoError,
            0x1 => Protocol,
            0x2 => Internal,
            0x3 => FlowControl,
            0x4 => SettingsTimeout,
            0x5 => StreamClosed,
            0x6 => FrameSize,
            0x7 => RefusedStream,
            0x8 => Cancel,
            0x9 => Compression,
            0xa => Connect,
            0xb => EnhanceYourCalm,
            0xc => InadequateSecurity,
            0xd => Http11Required,
            other => Unknown(other),
        }
    }

    pub fn to_u32(self) -> u32 {
        use ErrorCode::*;
        match self {
            NoError => 0x0,
            Protocol => 0x1,
            Internal => 0x2,
            FlowControl => 0x3,
            SettingsTimeout => 0x4,
            StreamClosed => 0x5,
            FrameSize => 0x6,
            RefusedStream => 0x7,
            Cancel => 0x8,
            Compression => 0x9,
            Connect => 0xa,
            EnhanceYourCalm => 0xb,
            InadequateSecurity => 0xc,
            Http11Required => 0xd,
            Unknown(n) => n,
        }
    }

    pub fn name(self) -> &'static str {
        use ErrorCode::*;
        match self {
            NoError => "NO_ERROR",
            Protocol => "PROTOCOL_ERROR",
            Internal => "INTERNAL_ERROR",
            FlowControl => "FLOW_CONTROL_ERROR",
            SettingsTimeout => "SETTINGS_TIMEOUT",
            StreamClosed => "STREAM_CLOSED",
            FrameSize => "FRAME_SIZE_ERROR",
            RefusedStream => "REFUSED_STREAM",
            Cancel => "CANCEL",
            Compression => "COMPRESSION_ERROR",
            Connect => "CONNECT_ERROR",
            EnhanceYourCalm => "ENHANCE_YOUR_CALM",
            InadequateSecurity => "INADEQUATE_SECURITY",
            Http11Required => "HTTP_1_1_REQUIRED",
            Unknown(_) => "UNKNOWN",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCode::Unknown(n) => write!(f, "error code {n:#x}"),
            code => f.write_str(code.name()),
        }
    }
}

/// Valid frames in an order or with values the protocol forbids: the peer misbehaved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// Undecodable frame bytes.
    Frame(FrameError),
    /// Undecodable header block; the shared HPACK state is lost.
    Compression(DecodeError),
    /// The server's first frame was not SETTINGS (RFC 9113 section 3.4).
    MissingPreface,
    /// A server set SETTINGS_ENABLE_PUSH=1, which only clients may.
    ServerEnabledPush,
    /// PUSH_PROMISE although we sent SETTINGS_ENABLE_PUSH=0.
    PushPromise { stream_id: u32 },
    /// A header block was interrupted by another frame.
    ExpectedContinuation { stream_id: u32 },
    /// CONTINUATION without a header block in progress.
    UnexpectedContinuation { stream_id: u32 },
    /// A header block (HEADERS + CONTINUATION) grew past our limit.
    HeaderBlockTooLarge { stream_id: u32, limit: usize },
    /// A frame on a stream we never opened (even ids are the server's, which may not open any).
    IdleStream { stream_id: u32 },
    /// WINDOW_UPDATE or SETTINGS pushed a send window past 2^31-1.
    WindowOverflow { stream_id: u32 },
    /// The peer sent more DATA than our receive window allowed.
    RecvWindowExceeded { stream_id: u32 },
}

impl ProtocolError {
    /// The code we send in GOAWAY for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            ProtocolError::Frame(e) => e.code(),
            ProtocolError::Compression(_) => ErrorCode::Compression,
            ProtocolError::WindowOverflow { .. } | ProtocolError::RecvWindowExceeded { .. } => {
                ErrorCode::FlowControl
            }
            _ => ErrorCode::Protocol,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Frame(e) => write!(f, "bad frame: {e}"),
            ProtocolError::Compression(e) => write!(f, "bad header block: {e}"),
            ProtocolError::MissingPreface => f.write_str("server's first frame was not SETTINGS"),
            ProtocolError::ServerEnabledPush => f.write_str("server sent SETTINGS_ENABLE_PUSH=1"),
            ProtocolError::PushPromise { stream_id } => {
                write!(f, "PUSH_PROMISE on stream {stream_id} although push is disabled")
            }
            ProtocolError::ExpectedContinuation { stream_id } => {
                write!(f, "header block of stream {stream_id} interrupted by another frame")
            }
            ProtocolError::UnexpectedContinuation { stream_id } => {
                write!(f, "CONTINUATION on stream {stream_id} without a header block in progress")
            }
            ProtocolError::HeaderBlockTooLarge { stream_id, limit } => {
                write!(f, "header block of stream {stream_id} exceeds {limit} bytes")
            }
            ProtocolError::IdleStream { stream_id } => {
                write!(f, "frame on stream {stream_id}, which we never opened")
            }
            ProtocolError::WindowOverflow { stream_id } => {
                write!(f, "send window of stream {stream_id} overflows 2^31-1")
            }
            ProtocolError::RecvWindowExceeded { stream_id } => {
                write!(f, "DATA on stream {stream_id} exceeds our receive window")
            }
        }
    }
}

/// Why a connection ended; shared by every stream that was open on it.
#[derive(Debug)]
pub enum ConnectionError {
    /// Reading or writing the socket failed.
    Io { op: &'static str, source: io::Error },
    /// The peer closed the socket.
    Closed,
    /// The peer broke the protocol; we sent GOAWAY with [`ProtocolError::code`].
    Protocol(ProtocolError),
    /// The peer sent GOAWAY with an error code, then closed.
    GoAway { code: ErrorCode, debug: String },
    /// Our handle was dropped.
    Shutdown,
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectionError::Io { op, source } => write!(f, "{op} failed: {source}"),
            ConnectionError::Closed => f.write_str("connection closed by the peer"),
            ConnectionError::Protocol(e) => write!(f, "peer broke HTTP/2 ({}): {e}", e.code()),
            ConnectionError::GoAway { code, debug } => {
                write!(f, "peer ended the connection with GOAWAY {code}")?;
                if !debug.is_empty() {
                    write!(f, " ({debug})")?;
                }
                Ok(())
            }
            ConnectionError::Shutdown => f.write_str("connection shut down locally"),
        }
    }
}

/// Why the peer did not process a request, so it may be retried on a new connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// GOAWAY named a last-stream-id below ours.
    GoAway { stream_id: u32, last_stream_id: u32 },
    /// RST_STREAM(REFUSED_STREAM).
    RefusedStream { stream_id: u32 },
    /// The connection was already draining or broken before the request went out.
    NotAccepting,
}

/// A malformed response (RFC 9113 section 8.1.1): the stream is reset with PROTOCOL_ERROR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    DataBeforeHeaders,
    MissingStatus,
    BadStatus,
    TrailersWithoutEndStream,
    PseudoHeaderInTrailers,
    BadHeaderName,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Malformed::DataBeforeHeaders => "DATA before response headers",
            Malformed::MissingStatus => "response headers without :status",
            Malformed::BadStatus => ":status is not a 3-digit number",
            Malformed::TrailersWithoutEndStream => "trailers without END_STREAM",
            Malformed::PseudoHeaderInTrailers => "pseudo-header in trailers",
            Malformed::BadHeaderName => "header name is empty, not lowercase or misplaced",
        })
    }
}

/// How one request on a connection failed.
#[derive(Debug, Clone)]
pub enum Error {
    /// Connecting to the unix socket failed.
    Connect { path: PathBuf, source: Arc<io::Error> },
    /// The connection broke while the request was in flight (it may have been processed).
    Connection(Arc<ConnectionError>),
    /// The peer did not process the request: safe to retry on a new connection.
    Refused(Refusal),
    /// The peer reset our stream.
    StreamReset { stream_id: u32, code: ErrorCode },
    /// The response broke HTTP/2 message rules.
    Malformed { stream_id: u32, what: Malformed },
    /// The response header list exceeded our SETTINGS_MAX_HEADER_LIST_SIZE.
    HeaderListTooLarge { stream_id: u32, limit: usize },
    /// The response body exceeded the caller's limit.
    BodyTooLarge { stream_id: u32, limit: usize },
    /// The caller's deadline passed; the stream was cancelled.
    Timeout,
}

impl Error {
    /// True when the request was certainly not processed and a new connection may retry it.
    pub fn is_refused(&self) -> bool {
        matches!(self, Error::Refused(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Connect { path, source } => write!(f, "connect {}: {source}", path.display()),
            Error::Connection(e) => e.fmt(f),
            Error::Refused(Refusal::GoAway { stream_id, last_stream_id }) => {
                write!(f, "stream {stream_id} not processed: GOAWAY with last stream {last_stream_id}")
            }
            Error::Refused(Refusal::RefusedStream { stream_id }) => {
                write!(f, "stream {stream_id} refused by the peer")
            }
            Error::Refused(Refusal::NotAccepting) => f.write_str("connection no longer accepts new streams"),
            Error::StreamReset { stream_id, code } => {
                write!(f, "stream {stream_id} reset by the peer with {code}")
            }
            Error::Malformed { stream_id, what } => {
                write!(f, "malformed response on stream {stream_id}: {what}")
            }
            Error::HeaderListTooLarge { stream_id, limit } => {
                write!(f, "response headers on stream {stream_id} exceed {limit} bytes")
            }
            Error::BodyTooLarge { stream_id, limit } => {
                write!(f, "response body on stream {stream_id} exceeds {limit} bytes")
            }
            Error::Timeout => f.write_str("deadline exceeded"),
        }
    }
}

impl std::error::Error for Error {}
impl std::error::Error for ConnectionError {}
impl std::error::Error for ProtocolError {}
