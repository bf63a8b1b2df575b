//! Appends protobuf wire values to a byte vector.

use super::reader::WireType;

/// Bytes a varint of `value` takes (1..=10).
pub fn varint_len(value: u64) -> usize {
    // One byte per started group of 7 bits; 0 still takes one byte.
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Bytes a key for `field` takes.
pub fn key_len(field: u32) -> usize {
    varint_len(u64::from(field) << 3)
}

/// Bytes a length-delimited value of `len` bytes takes, prefix included.
pub fn len_delimited_len(len: usize) -> usize {
    varint_len(len as u64) + len
}

/// Appends wire values to the caller's buffer.
pub struct Writer<'a> {
    buf: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    pub fn new(buf: &'a mut Vec<u8>) -> Writer<'a> {
        Writer { buf }
    }

    pub fn put_varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            // Truncation to the low 7 bits is the encoding.
            self.buf.push((value as u8 & 0x7f) | 0x80);
            value >>= 7;
        }
        self.buf.push(value as u8);
    }

    pub fn put_key(&mut self, field: u32, wire: WireType) {
        self.put_varint((u64::from(field) << 3) | wire as u64);
    }

    pub fn put_fixed32(&mut self, value: u32) {
        self.buf.extend_from_slice(&value.to_le_bytes());
    }

    pub fn put_fixed64(&mut self, value: u64) {
        self.buf.extend_from_slice(&value.to_le_bytes());
    }

    /// A length prefix and the bytes.
    pub fn put_len_delimited(&mut self, bytes: &[u8]) {
        self.put_varint(bytes.len() as u64);
        self.buf.extend_from_slice(bytes);
    }
}
