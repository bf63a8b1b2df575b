//! A small DER (X.690) writer and a bounds-checked reader: what certificates, certification
//! requests and keys need, nothing more.
//!
//! Writing: each function returns one complete TLV (`tag`, `length`, `content`) as bytes;
//! constructed values take the encodings of their parts, so a structure is written inside
//! out: `sequence(&[integer_u64(0), oid(CN), ...])`.
//!
//! Reading: [`Reader`] walks one level of TLVs over a borrowed slice; every read names the
//! field it wants, so an error says where it went wrong. Only definite, minimal lengths and
//! low tag numbers (< 31) are accepted, which is all DER allows for what we read. Nothing
//! here indexes or panics on bad input; a fuzz target (`fuzz/fuzz_targets/pki_der.rs`) holds
//! it to that.
#![forbid(unsafe_code)]

use std::fmt;

mod read;
mod write;

pub use read::*;
pub use write::*;

/// Universal tags (class universal; constructed ones with bit 0x20 set).
pub mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const UTF8_STRING: u8 = 0x0c;
    pub const PRINTABLE_STRING: u8 = 0x13;
    pub const T61_STRING: u8 = 0x14;
    pub const IA5_STRING: u8 = 0x16;
    pub const UTC_TIME: u8 = 0x17;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;

    /// A context-specific tag `[n]`, primitive (IMPLICIT of a primitive type) or constructed
    /// (EXPLICIT, or IMPLICIT of a constructed type).
    pub const fn context(n: u8, constructed: bool) -> u8 {
        0x80 | if constructed { 0x20 } else { 0 } | (n & 0x1f)
    }
}

/// What is wrong with the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The input ends inside a tag, a length or a content.
    Truncated,
    /// Another tag than the one the structure has at this place.
    UnexpectedTag { expected: u8, found: u8 },
    /// A missing value that is not optional.
    Missing,
    /// Indefinite, non-minimal or larger than 4 bytes: not DER, or not for us.
    BadLength,
    /// Tag numbers 31 and up (multi-byte tags) never occur in what we read.
    HighTagNumber,
    /// Bytes after the last value of a structure.
    TrailingData,
    /// The content does not fit its type (e.g. an empty INTEGER, a malformed time).
    BadValue(&'static str),
}

/// A DER decoding error: the field being read and what was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DerError {
    pub field: &'static str,
    pub problem: Problem,
}

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.field;
        match self.problem {
            Problem::Truncated => write!(f, "{field}: truncated"),
            Problem::UnexpectedTag { expected, found } => {
                write!(f, "{field}: expected tag 0x{expected:02x}, found 0x{found:02x}")
            }
            Problem::Missing => write!(f, "{field}: missing"),
            Problem::BadLength => write!(f, "{field}: bad length encoding"),
            Problem::HighTagNumber => write!(f, "{field}: unsupported multi-byte tag"),
            Problem::TrailingData => write!(f, "{field}: unexpected data after the last value"),
            Problem::BadValue(why) => write!(f, "{field}: {why}"),
        }
    }
}

impl std::error::Error for DerError {}

fn err(field: &'static str, problem: Problem) -> DerError {
    DerError { field, problem }
}

#[cfg(test)]
mod tests;
