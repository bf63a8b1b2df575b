//! HPACK primitive types: prefixed integers (RFC 7541 section 5.1) and string literals
//! (section 5.2).

#![forbid(unsafe_code)]

use super::DecodeError;
use super::huffman;
use crate::h2::reader::Reader;

/// Integers we accept never exceed this: indexes, lengths and table sizes are all far below
/// it, and the bound keeps the shift arithmetic exact.
const MAX_INT: u64 = u32::MAX as u64;

/// Decodes an integer whose first octet is `first` (already read) with an `n`-bit prefix.
pub fn decode_int(first: u8, prefix_bits: u8, r: &mut Reader<'_>) -> Result<usize, DecodeError> {
    let mask = (1u16 << prefix_bits) - 1;
    let mut value = u64::from(u16::from(first) & mask);
    if value < u64::from(mask) {
        return to_usize(value);
    }
    let mut shift = 0u32;
    loop {
        let b = r.u8().ok_or(DecodeError::Truncated)?;
        value += u64::from(b & 0x7f) << shift;
        if value > MAX_INT {
            return Err(DecodeError::IntegerOverflow);
        }
        if b & 0x80 == 0 {
            return to_usize(value);
        }
        shift += 7;
        // Zero continuation bytes can pad an integer without growing it; cap the loop anyway.
        if shift > 35 {
            return Err(DecodeError::IntegerOverflow);
        }
    }
}

fn to_usize(v: u64) -> Result<usize, DecodeError> {
    usize::try_from(v).map_err(|_| DecodeError::IntegerOverflow)
}

/// Encodes `value` with an `n`-bit prefix; `high` holds the representation's flag bits.
pub fn encode_int(value: usize, prefix_bits: u8, high: u8, out: &mut Vec<u8>) {
    let mask = (1usize << prefix_bits) - 1;
    if value < mask {
        out.push(high | value.to_le_bytes()[0]);
        return;
    }
    out.push(high | mask.to_le_bytes()[0]);
    let mut rest = value - mask;
    while rest >= 0x80 {
        out.push((rest % 0x80).to_le_bytes()[0] | 0x80);
        rest /= 0x80;
    }
    out.push(rest.to_le_bytes()[0]);
}

/// Decodes a string literal (H flag, 7-bit prefixed length, octets) into `out`.
pub fn decode_string(r: &mut Reader<'_>, out: &mut Vec<u8>) -> Result<(), DecodeError> {
    let first = r.u8().ok_or(DecodeError::Truncated)?;
    let len = decode_int(first, 7, r)?;
    let bytes = r.take(len).ok_or(DecodeError::Truncated)?;
    if first & 0x80 != 0 {
        huffman::decode(bytes, out).map_err(DecodeError::Huffman)
    } else {
        out.extend_from_slice(bytes);
        Ok(())
    }
}

/// Encodes a string literal, Huffman-coded when that is shorter.
pub fn encode_string(s: &[u8], out: &mut Vec<u8>) {
    let huff_len = huffman::encoded_len(s);
    if huff_len < s.len() {
        encode_int(huff_len, 7, 0x80, out);
        huffman::encode(s, out);
    } else {
        encode_int(s.len(), 7, 0, out);
        out.extend_from_slice(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(bytes: &[u8], prefix: u8) -> Result<usize, DecodeError> {
        let mut r = Reader::new(bytes);
        let first = r.u8().ok_or(DecodeError::Truncated)?;
        decode_int(first, prefix, &mut r)
    }

    #[test]
    fn rfc_c1_integers() {
        // C.1.1: 10 with a 5-bit prefix.
        let mut out = Vec::new();
        encode_int(10, 5, 0, &mut out);
        assert_eq!(out, [0b01010]);
        assert_eq!(dec(&out, 5), Ok(10));
        // C.1.2: 1337 with a 5-bit prefix.
        out.clear();
        encode_int(1337, 5, 0, &mut out);
        assert_eq!(out, [0b11111, 0b10011010, 0b00001010]);
        assert_eq!(dec(&out, 5), Ok(1337));
        // C.1.3: 42 at an octet boundary (8-bit prefix).
        out.clear();
        encode_int(42, 8, 0, &mut out);
        assert_eq!(out, [42]);
        assert_eq!(dec(&out, 8), Ok(42));
    }

    #[test]
    fn flag_bits_above_the_prefix_are_ignored() {
        assert_eq!(dec(&[0b1110_1010], 5), Ok(10));
    }

    #[test]
    fn integer_round_trips_at_edges() {
        for prefix in 1..=8u8 {
            for v in [0usize, 1, 30, 31, 126, 127, 128, 255, 256, 16_383, 1 << 20, u32::MAX as usize] {
                let mut out = Vec::new();
                encode_int(v, prefix, 0, &mut out);
                assert_eq!(dec(&out, prefix), Ok(v), "value {v} prefix {prefix}");
            }
        }
    }

    #[test]
    fn bad_integers_are_rejected() {
        assert_eq!(dec(&[0x1f], 5), Err(DecodeError::Truncated));
        assert_eq!(dec(&[0x1f, 0x80], 5), Err(DecodeError::Truncated));
        assert_eq!(dec(&[0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f], 5), Err(DecodeError::IntegerOverflow));
        let padded = [0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
        assert_eq!(dec(&padded, 5), Err(DecodeError::IntegerOverflow));
    }

    #[test]
    fn strings_round_trip_both_ways() {
        for s in [&b""[..], b"custom-key", b"\x00\xff\x10", b"no-cache"] {
            let mut out = Vec::new();
            encode_string(s, &mut out);
            let mut back = Vec::new();
            decode_string(&mut Reader::new(&out), &mut back).expect("decodes");
            assert_eq!(back, s);
        }
        let mut back = Vec::new();
        assert_eq!(decode_string(&mut Reader::new(&[0x05, b'a']), &mut back), Err(DecodeError::Truncated));
    }
}
