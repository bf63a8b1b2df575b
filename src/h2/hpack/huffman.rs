//! The HPACK Huffman code (RFC 7541 Appendix B).
//!
//! The RFC's code is canonical: ordering the symbols by (code length, symbol value) and
//! counting upwards reproduces every code in its table. So we keep only the 257 code lengths
//! (the RFC's "len" column) and derive codes and decoding tables at compile time; the tests
//! check a few derived codes against the RFC's hex column.

#![forbid(unsafe_code)]

/// Code length in bits for each symbol 0..=255 and EOS (256), from RFC 7541 Appendix B.
const LENGTHS: [u8; 257] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, //
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, //
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, //
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, //
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, //
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, //
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, //
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, //
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, //
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, //
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, //
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, //
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, //
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, //
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, //
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, //
    30,
];

const EOS: u16 = 256;
const MAX_LEN: usize = 30;

/// Canonical-code tables derived from [`LENGTHS`].
struct Tables {
    /// The code of each symbol, right-aligned.
    codes: [u32; 257],
    /// Symbols ordered by (length, value).
    sorted: [u16; 257],
    /// Per length: the first code of that length, how many codes have it, and where the
    /// first of them sits in `sorted`.
    first_code: [u32; MAX_LEN + 1],
    count: [u32; MAX_LEN + 1],
    offset: [u32; MAX_LEN + 1],
}

const TABLES: Tables = build();

const fn build() -> Tables {
    let mut t = Tables {
        codes: [0; 257],
        sorted: [0; 257],
        first_code: [0; MAX_LEN + 1],
        count: [0; MAX_LEN + 1],
        offset: [0; MAX_LEN + 1],
    };
    let mut n = 0;
    let mut code: u32 = 0;
    let mut len = 1;
    while len <= MAX_LEN {
        t.first_code[len] = code;
        t.offset[len] = n as u32;
        let mut sym = 0;
        while sym < 257 {
            if LENGTHS[sym] as usize == len {
                t.sorted[n] = sym as u16;
                t.codes[sym] = code;
                t.count[len] += 1;
                code += 1;
                n += 1;
            }
            sym += 1;
        }
        code <<= 1;
        len += 1;
    }
    t
}

/// The Huffman input was not a valid encoding (RFC 7541 section 5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HuffmanError {
    /// The EOS symbol appeared in the data.
    Eos,
    /// Trailing bits were longer than 7 or not a prefix of EOS (all ones).
    BadPadding,
}

/// Decodes a Huffman-coded string literal.
pub fn decode(input: &[u8], out: &mut Vec<u8>) -> Result<(), HuffmanError> {
    let t = &TABLES;
    let mut code: u32 = 0;
    let mut len: usize = 0;
    for &byte in input {
        for shift in (0..8).rev() {
            code = (code << 1) | u32::from((byte >> shift) & 1);
            len += 1;
            let (Some(&first), Some(&count), Some(&offset)) =
                (t.first_code.get(len), t.count.get(len), t.offset.get(len))
            else {
                // Longer than any code: only possible after 30 one-bits, which is EOS.
                return Err(HuffmanError::Eos);
            };
            let Some(rank) = code.checked_sub(first) else { continue };
            if rank >= count {
                continue;
            }
            let idx = usize::try_from(offset + rank).map_err(|_| HuffmanError::Eos)?;
            match t.sorted.get(idx).copied() {
                Some(sym) if sym != EOS => out.push(sym.to_le_bytes()[0]),
                _ => return Err(HuffmanError::Eos),
            }
            code = 0;
            len = 0;
        }
    }
    // Padding: at most 7 bits, all ones (the most significant bits of EOS).
    if len > 7 || code != (1u32 << len) - 1 {
        return Err(HuffmanError::BadPadding);
    }
    Ok(())
}

/// Bytes needed to Huffman-encode `input`.
pub fn encoded_len(input: &[u8]) -> usize {
    let bits: usize = input.iter().map(|&b| usize::from(LENGTHS[usize::from(b)])).sum();
    bits.div_ceil(8)
}

/// Huffman-encodes `input`, padding the last byte with ones.
pub fn encode(input: &[u8], out: &mut Vec<u8>) {
    let mut acc: u64 = 0;
    let mut bits: u32 = 0;
    for &b in input {
        let sym = usize::from(b);
        acc = (acc << LENGTHS[sym]) | u64::from(TABLES.codes[sym]);
        bits += u32::from(LENGTHS[sym]);
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits).to_le_bytes()[0]);
        }
    }
    if bits > 0 {
        let pad = 8 - bits;
        out.push(((acc << pad) | ((1 << pad) - 1)).to_le_bytes()[0]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_codes_match_the_rfc_hex_column() {
        // (symbol, code as hex, len) rows from RFC 7541 Appendix B.
        let rows: [(usize, u32, u8); 10] = [
            (0, 0x1ff8, 13),
            (1, 0x7fffd8, 23),
            (10, 0x3ffffffc, 30),
            (b' ' as usize, 0x14, 6),
            (b'0' as usize, 0x0, 5),
            (b'a' as usize, 0x3, 5),
            (b'z' as usize, 0x7b, 7),
            (b'~' as usize, 0x1ffd, 13),
            (255, 0x3ffffee, 26),
            (256, 0x3fffffff, 30),
        ];
        for (sym, code, len) in rows {
            assert_eq!((TABLES.codes[sym], LENGTHS[sym]), (code, len), "symbol {sym}");
        }
    }

    #[test]
    fn every_byte_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        let mut enc = Vec::new();
        encode(&all, &mut enc);
        assert_eq!(enc.len(), encoded_len(&all));
        let mut dec = Vec::new();
        decode(&enc, &mut dec).expect("decodes");
        assert_eq!(dec, all);
        for b in 0..=255u8 {
            let (mut e, mut d) = (Vec::new(), Vec::new());
            encode(&[b, b'a', b], &mut e);
            decode(&e, &mut d).expect("decodes");
            assert_eq!(d, [b, b'a', b]);
        }
    }

    #[test]
    fn rfc_example_string() {
        // RFC 7541 C.4.1: "www.example.com".
        let enc = [0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff];
        let mut dec = Vec::new();
        decode(&enc, &mut dec).expect("decodes");
        assert_eq!(dec, b"www.example.com");
        let mut back = Vec::new();
        encode(b"www.example.com", &mut back);
        assert_eq!(back, enc);
        // More literals from C.4 and C.6, encoded as the RFC shows them.
        let rows: [(&[u8], &[u8]); 4] = [
            (b"no-cache", &[0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf]),
            (b"custom-key", &[0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xa9, 0x7d, 0x7f]),
            (b"custom-value", &[0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xb8, 0xe8, 0xb4, 0xbf]),
            (b"private", &[0xae, 0xc3, 0x77, 0x1a, 0x4b]),
        ];
        for (plain, coded) in rows {
            let mut out = Vec::new();
            encode(plain, &mut out);
            assert_eq!(out, coded);
        }
    }

    #[test]
    fn bad_padding_and_eos_are_rejected() {
        let mut out = Vec::new();
        // A full byte of ones is 8 bits of padding: too long.
        assert_eq!(decode(&[0xff], &mut out), Err(HuffmanError::BadPadding));
        // '0' is 00000; padding with zeros instead of ones.
        assert_eq!(decode(&[0x00], &mut out), Err(HuffmanError::BadPadding));
        // EOS itself: 30 ones, then padding ones.
        assert_eq!(decode(&[0xff, 0xff, 0xff, 0xff], &mut out), Err(HuffmanError::Eos));
        // '0' followed by 3 one-bits of padding is fine.
        out.clear();
        assert_eq!(decode(&[0x07], &mut out), Ok(()));
        assert_eq!(out, b"0");
        assert_eq!(decode(&[], &mut out), Ok(()));
    }
}
