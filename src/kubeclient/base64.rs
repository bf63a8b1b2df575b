//! Standard base64 (RFC 4648 §4, with padding), as kubeconfig `*-data` fields carry it.
//!
//! Go encodes `[]byte` fields of a kubeconfig with `base64.StdEncoding`, whose decoder skips
//! `\r` and `\n`; we do the same so that a wrapped YAML scalar still decodes.
#![forbid(unsafe_code)]

use std::fmt;

/// Why a base64 text did not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base64Error {
    /// A byte outside the alphabet, at this offset of the input.
    InvalidByte { offset: usize, byte: u8 },
    /// The input does not end on a 4-character boundary, or its padding is wrong.
    BadLength,
}

impl fmt::Display for Base64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Base64Error::InvalidByte { offset, byte } => {
                write!(f, "invalid base64 byte 0x{byte:02x} at offset {offset}")
            }
            Base64Error::BadLength => write!(f, "base64 input has a bad length or padding"),
        }
    }
}

impl std::error::Error for Base64Error {}

fn sextet(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes standard, padded base64, ignoring line breaks.
pub fn decode(input: &[u8]) -> Result<Vec<u8>, Base64Error> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut group = [0u8; 4];
    let mut filled = 0usize;
    let mut padding = 0usize;
    for (offset, &byte) in input.iter().enumerate() {
        if byte == b'\r' || byte == b'\n' {
            continue;
        }
        if byte == b'=' {
            // Padding is only allowed as the last one or two characters of a group.
            if filled < 2 {
                return Err(Base64Error::BadLength);
            }
            padding += 1;
            filled += 1;
        } else {
            if padding > 0 {
                // Data after padding.
                return Err(Base64Error::InvalidByte { offset, byte });
            }
            let value = sextet(byte).ok_or(Base64Error::InvalidByte { offset, byte })?;
            if let Some(slot) = group.get_mut(filled) {
                *slot = value;
            }
            filled += 1;
        }
        if filled == 4 {
            let [a, b, c, d] = group;
            out.push((a << 2) | (b >> 4));
            if padding < 2 {
                out.push((b << 4) | (c >> 2));
            }
            if padding < 1 {
                out.push((c << 6) | d);
            }
            filled = 0;
            group = [0; 4];
            if padding > 0 {
                // The group with padding must be the last one; anything after is an error,
                // caught above as "data after padding" or below as a bad length.
                padding = 3;
            }
        }
    }
    if filled != 0 {
        return Err(Base64Error::BadLength);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_rfc4648_vectors() {
        let cases: [(&str, &str); 7] = [
            ("", ""),
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ];
        for (encoded, plain) in cases {
            assert_eq!(decode(encoded.as_bytes()).as_deref(), Ok(plain.as_bytes()), "{encoded}");
        }
    }

    #[test]
    fn skips_line_breaks() {
        assert_eq!(decode(b"Zm9v\nYmFy\r\n").as_deref(), Ok(&b"foobar"[..]));
    }

    #[test]
    fn rejects_malformed_input() {
        assert_eq!(decode(b"Zm9"), Err(Base64Error::BadLength));
        assert_eq!(decode(b"Z==="), Err(Base64Error::BadLength));
        assert_eq!(decode(b"Zg==Zg=="), Err(Base64Error::InvalidByte { offset: 4, byte: b'Z' }));
        assert_eq!(decode(b"Zm9v!"), Err(Base64Error::InvalidByte { offset: 4, byte: b'!' }));
        assert!(decode(b"Zg=").is_err());
        assert!(decode(b"Zg==\n=").is_err());
    }

    #[test]
    fn decodes_every_byte_value() {
        // "AAECAwQF...": bytes 0..=255 encoded by a reference implementation.
        let all: Vec<u8> = (0..=255u8).collect();
        let encoded = encode_for_test(&all);
        assert_eq!(decode(encoded.as_bytes()), Ok(all));
    }

    fn encode_for_test(data: &[u8]) -> String {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in data.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}
