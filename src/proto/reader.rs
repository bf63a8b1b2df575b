//! The one bounds-checked reader every decode goes through.
//!
//! Nothing here indexes the input directly or trusts a length from it: every read checks what
//! is left first and reports [`DecodeErrorKind::Truncated`] otherwise.

use super::error::{DecodeError, DecodeErrorKind};

/// How deep messages (and unknown groups) may nest; protobuf's usual default.
pub const MAX_DEPTH: u32 = 100;

/// Largest field number protobuf allows (2^29 - 1).
pub const MAX_FIELD_NUMBER: u32 = (1 << 29) - 1;

/// The six wire types (the low three bits of a key); 6 and 7 are invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    Varint = 0,
    Fixed64 = 1,
    Len = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}

impl WireType {
    pub fn from_bits(bits: u8) -> Result<WireType, DecodeError> {
        Ok(match bits {
            0 => WireType::Varint,
            1 => WireType::Fixed64,
            2 => WireType::Len,
            3 => WireType::StartGroup,
            4 => WireType::EndGroup,
            5 => WireType::Fixed32,
            other => return Err(DecodeErrorKind::InvalidWireType(other).into()),
        })
    }
}

/// A cursor over one message's bytes, and how deep that message sits.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    depth: u32,
}

impl<'a> Reader<'a> {
    /// A reader for a top-level message.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, depth: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub fn depth(&self) -> u32 {
        self.depth
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeErrorKind::Truncated.into());
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        let (&b, tail) = self.buf.split_first().ok_or(DecodeErrorKind::Truncated)?;
        self.buf = tail;
        Ok(b)
    }

    /// A base-128 varint of at most 10 bytes whose value fits in 64 bits.
    pub fn read_varint(&mut self) -> Result<u64, DecodeError> {
        let mut value: u64 = 0;
        for i in 0..10u32 {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            // The tenth byte carries only bit 63; anything more overflows.
            if i == 9 && bits > 1 {
                return Err(DecodeErrorKind::VarintOverflow.into());
            }
            value |= bits << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeErrorKind::VarintOverflow.into())
    }

    pub fn read_fixed32(&mut self) -> Result<u32, DecodeError> {
        let bytes: [u8; 4] = self.take(4)?.try_into().map_err(|_| DecodeErrorKind::Truncated)?;
        Ok(u32::from_le_bytes(bytes))
    }

    pub fn read_fixed64(&mut self) -> Result<u64, DecodeError> {
        let bytes: [u8; 8] = self.take(8)?.try_into().map_err(|_| DecodeErrorKind::Truncated)?;
        Ok(u64::from_le_bytes(bytes))
    }

    /// A varint length followed by that many bytes.
    pub fn read_len_delimited(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.read_varint()?;
        let len = usize::try_from(len).map_err(|_| DecodeErrorKind::LengthOverflow)?;
        self.take(len)
    }

    /// A length-delimited field as a reader one level deeper (for nested messages, packed
    /// repeated fields and map entries).
    pub fn read_nested(&mut self) -> Result<Reader<'a>, DecodeError> {
        let depth = self.depth + 1;
        if depth > MAX_DEPTH {
            return Err(DecodeErrorKind::TooDeep.into());
        }
        let buf = self.read_len_delimited()?;
        Ok(Reader { buf, depth })
    }

    /// A field key: field number (1..=2^29-1) and wire type.
    pub fn read_key(&mut self) -> Result<(u32, WireType), DecodeError> {
        let key = self.read_varint()?;
        let number = key >> 3;
        let wire = WireType::from_bits((key & 7) as u8)?;
        match u32::try_from(number) {
            Ok(n) if (1..=MAX_FIELD_NUMBER).contains(&n) => Ok((n, wire)),
            _ => Err(DecodeErrorKind::InvalidFieldNumber(number).into()),
        }
    }

    /// Skips the value of a field this message does not know, whatever its wire type.
    pub fn skip(&mut self, field: u32, wire: WireType) -> Result<(), DecodeError> {
        match wire {
            WireType::Varint => self.read_varint().map(drop),
            WireType::Fixed64 => self.take(8).map(drop),
            WireType::Len => self.read_len_delimited().map(drop),
            WireType::Fixed32 => self.take(4).map(drop),
            WireType::StartGroup => self.skip_group(field),
            WireType::EndGroup => Err(DecodeErrorKind::UnexpectedEndGroup(field).into()),
        }
    }

    /// Skips a (deprecated, proto2) group up to its matching end key.
    fn skip_group(&mut self, field: u32) -> Result<(), DecodeError> {
        if self.depth + 1 > MAX_DEPTH {
            return Err(DecodeErrorKind::TooDeep.into());
        }
        self.depth += 1;
        let result = loop {
            let (inner, wire) = match self.read_key() {
                Ok(key) => key,
                Err(e) => break Err(e),
            };
            if wire == WireType::EndGroup {
                break if inner == field { Ok(()) } else { Err(DecodeErrorKind::UnexpectedEndGroup(inner).into()) };
            }
            if let Err(e) = self.skip(inner, wire) {
                break Err(e);
            }
        };
        self.depth -= 1;
        result
    }
}
