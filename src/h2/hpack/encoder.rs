//! A simple HPACK encoder: static-table indexes and literals without indexing.

#![forbid(unsafe_code)]

use super::Header;
use super::primitive::{encode_int, encode_string};
use super::table::STATIC;

/// Stateless by design: it never inserts into the peer's dynamic table.
#[derive(Debug, Clone, Default)]
pub struct Encoder;

impl Encoder {
    pub fn new() -> Encoder {
        Encoder
    }

    /// Appends the header block for `headers` to `out`.
    pub fn encode<'h>(&mut self, headers: impl IntoIterator<Item = &'h Header>, out: &mut Vec<u8>) {
        for h in headers {
            encode_field(&h.name, &h.value, out);
        }
    }
}

fn encode_field(name: &[u8], value: &[u8], out: &mut Vec<u8>) {
    let mut name_index = None;
    for (i, (n, v)) in STATIC.iter().enumerate() {
        if n.as_bytes() == name {
            if v.as_bytes() == value {
                encode_int(i + 1, 7, 0x80, out);
                return;
            }
            name_index.get_or_insert(i + 1);
        }
    }
    match name_index {
        Some(i) => encode_int(i, 4, 0x00, out),
        None => {
            out.push(0x00);
            encode_string(name, out);
        }
    }
    encode_string(value, out);
}
