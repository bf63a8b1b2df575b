//! The error every decode returns, with the path of fields it happened in.

use std::fmt;

/// What was wrong with the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The input ended inside a key, a value or a length-delimited field.
    Truncated,
    /// A varint longer than 10 bytes, or one whose value does not fit in 64 bits.
    VarintOverflow,
    /// A length prefix larger than this platform's address space.
    LengthOverflow,
    /// A key with field number 0 or above 2^29-1.
    InvalidFieldNumber(u64),
    /// Wire types 6 and 7 do not exist.
    InvalidWireType(u8),
    /// A known field arrived with a wire type its declared kind cannot have.
    WireTypeMismatch { expected: u8, found: u8 },
    /// An end-group key with no matching start-group (or for another field).
    UnexpectedEndGroup(u32),
    /// A `string` field that is not valid UTF-8.
    InvalidUtf8,
    /// Nested messages or groups deeper than [`super::MAX_DEPTH`].
    TooDeep,
}

/// A protobuf decode failure: the kind, and the fields (outermost first) it was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    /// `(message, field)` frames, innermost first (pushed while the error propagates out).
    path: Vec<(&'static str, &'static str)>,
}

impl DecodeError {
    pub fn new(kind: DecodeErrorKind) -> DecodeError {
        DecodeError { kind, path: Vec::new() }
    }

    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// Records that the error happened inside `message.field` (called by generated code).
    pub fn within(mut self, message: &'static str, field: &'static str) -> DecodeError {
        self.path.push((message, field));
        self
    }

    /// The field path, e.g. `ContainerStatusResponse.status.message`; empty at top level.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for (i, (message, field)) in self.path.iter().rev().enumerate() {
            if i == 0 {
                out.push_str(message);
            }
            out.push('.');
            out.push_str(field);
        }
        out
    }
}

impl From<DecodeErrorKind> for DecodeError {
    fn from(kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(kind)
    }
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeErrorKind::Truncated => f.write_str("input ends inside a field"),
            DecodeErrorKind::VarintOverflow => f.write_str("varint longer than 64 bits"),
            DecodeErrorKind::LengthOverflow => f.write_str("length prefix does not fit in memory"),
            DecodeErrorKind::InvalidFieldNumber(n) => write!(f, "invalid field number {n}"),
            DecodeErrorKind::InvalidWireType(w) => write!(f, "invalid wire type {w}"),
            DecodeErrorKind::WireTypeMismatch { expected, found } => {
                write!(f, "wire type {found} where the field's kind needs {expected}")
            }
            DecodeErrorKind::UnexpectedEndGroup(n) => write!(f, "unexpected end of group {n}"),
            DecodeErrorKind::InvalidUtf8 => f.write_str("string is not valid UTF-8"),
            DecodeErrorKind::TooDeep => f.write_str("messages nested too deeply"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "protobuf: {}", self.kind)?;
        if !self.path.is_empty() {
            write!(f, " at {}", self.path())?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {}
