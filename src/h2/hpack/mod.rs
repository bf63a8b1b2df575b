//! HPACK header compression (RFC 7541), sans-I/O.
//!
//! [`Decoder`] handles every representation, the dynamic table with size updates bounded by
//! the SETTINGS_HEADER_TABLE_SIZE we advertised, Huffman strings, and a header-list size
//! limit. [`Encoder`] stays simple: static-table indexes where a name or a whole field
//! matches, otherwise literals without indexing, so it never touches a dynamic table and the
//! peer's table size does not concern it.

#![forbid(unsafe_code)]

use std::fmt;

mod decoder;
mod encoder;
pub mod huffman;
mod primitive;
pub mod table;
#[cfg(test)]
mod tests;

pub use decoder::Decoder;
pub use encoder::Encoder;
pub use huffman::HuffmanError;

/// One header field; names and values are octets as sent.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Header {
    pub name: Vec<u8>,
    pub value: Vec<u8>,
}

impl Header {
    pub fn new(name: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Header {
        Header { name: name.into(), value: value.into() }
    }

    /// The size RFC 9113 counts against SETTINGS_MAX_HEADER_LIST_SIZE.
    pub fn list_size(&self) -> usize {
        self.name.len() + self.value.len() + table::ENTRY_OVERHEAD
    }

    pub fn is_pseudo(&self) -> bool {
        self.name.first() == Some(&b':')
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", String::from_utf8_lossy(&self.name), String::from_utf8_lossy(&self.value))
    }
}

/// A header block that cannot be decoded. All but [`DecodeError::HeaderListTooLarge`] leave
/// the dynamic table unusable, so they end the connection with COMPRESSION_ERROR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The block ended inside a representation.
    Truncated,
    /// An integer beyond 2^32-1 or with too many continuation octets.
    IntegerOverflow,
    Huffman(HuffmanError),
    /// Index 0, or beyond the static and dynamic tables.
    BadIndex(usize),
    /// A dynamic table size update after a field representation.
    SizeUpdateNotAtStart,
    /// A dynamic table size update above our SETTINGS_HEADER_TABLE_SIZE.
    SizeUpdateTooLarge {
        size: usize,
        max: usize,
    },
    /// We lowered SETTINGS_HEADER_TABLE_SIZE and the block did not start with an update.
    SizeUpdateMissing,
    /// The decoded list exceeded the limit. The whole block was still decoded, so the
    /// dynamic table stays in sync and only the stream fails.
    HeaderListTooLarge {
        limit: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Truncated => f.write_str("header block ends inside a field"),
            DecodeError::IntegerOverflow => f.write_str("integer too large"),
            DecodeError::Huffman(HuffmanError::Eos) => f.write_str("Huffman string contains EOS"),
            DecodeError::Huffman(HuffmanError::BadPadding) => {
                f.write_str("Huffman string has invalid padding")
            }
            DecodeError::BadIndex(i) => write!(f, "table index {i} does not exist"),
            DecodeError::SizeUpdateNotAtStart => {
                f.write_str("dynamic table size update after a header field")
            }
            DecodeError::SizeUpdateTooLarge { size, max } => {
                write!(f, "dynamic table size update to {size} exceeds our limit {max}")
            }
            DecodeError::SizeUpdateMissing => {
                f.write_str("dynamic table size update required after our settings change")
            }
            DecodeError::HeaderListTooLarge { limit } => {
                write!(f, "header list exceeds {limit} bytes")
            }
        }
    }
}

impl std::error::Error for DecodeError {}
