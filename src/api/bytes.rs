//! `[]byte` fields (Secret data, CSR requests and certificates): base64 in JSON.
//!
//! Our own small base64 codec (standard alphabet, RFC 4648) rather than a crate: the `base64`
//! crate is in the tree only as a private dependency of ureq. Like Go's decoder for `[]byte`
//! fields, reading skips `\r` and `\n` and requires correct padding; we also accept unpadded
//! input, which is unambiguous.
#![forbid(unsafe_code)]

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 text that does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base64Error {
    /// A byte outside the alphabet, at this offset.
    InvalidByte { offset: usize, byte: u8 },
    /// Padding in the wrong place or of the wrong length.
    BadPadding,
    /// A lone trailing character (no whole byte in it).
    TrailingBits,
}

impl fmt::Display for Base64Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidByte { offset, byte } => {
                write!(f, "invalid base64 byte 0x{byte:02x} at offset {offset}")
            }
            Self::BadPadding => f.write_str("invalid base64 padding"),
            Self::TrailingBits => f.write_str("truncated base64 input"),
        }
    }
}

impl std::error::Error for Base64Error {}

/// Encodes with the standard alphabet and `=` padding.
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
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

fn sextet(byte: u8) -> Option<u32> {
    let v = match byte {
        b'A'..=b'Z' => byte - b'A',
        b'a'..=b'z' => byte - b'a' + 26,
        b'0'..=b'9' => byte - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// Decodes standard base64; `\r` and `\n` are skipped, padding is optional but, when
/// present, must be complete and final.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, Base64Error> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits, mut count, mut padding) = (0u32, 0u32, 0usize, 0usize);
    for (offset, &byte) in text.as_bytes().iter().enumerate() {
        match byte {
            b'\r' | b'\n' => continue,
            b'=' => {
                padding += 1;
                continue;
            }
            _ => {}
        }
        if padding > 0 {
            return Err(Base64Error::BadPadding);
        }
        let v = sextet(byte).ok_or(Base64Error::InvalidByte { offset, byte })?;
        acc = (acc << 6) | v;
        bits += 6;
        count += 1;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    match (count % 4, padding) {
        (1, _) => Err(Base64Error::TrailingBits),
        (0, 0) | (2, 0 | 2) | (3, 0 | 1) => Ok(out),
        _ => Err(Base64Error::BadPadding),
    }
}

/// Bytes that travel as base64 strings in JSON and YAML.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct ByteString(pub Vec<u8>);

impl ByteString {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for ByteString {
    fn from(v: Vec<u8>) -> Self {
        ByteString(v)
    }
}

impl From<&[u8]> for ByteString {
    fn from(v: &[u8]) -> Self {
        ByteString(v.to_vec())
    }
}

impl fmt::Debug for ByteString {
    /// Shows the length only: these are often secrets and keys.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ByteString({} bytes)", self.0.len())
    }
}

impl Serialize for ByteString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&base64_encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for ByteString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ByteStringVisitor)
    }
}

struct ByteStringVisitor;

impl Visitor<'_> for ByteStringVisitor {
    type Value = ByteString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteString, E> {
        base64_decode(v).map(ByteString).map_err(E::custom)
    }

    /// `null` is an empty value, as in Go.
    fn visit_unit<E: de::Error>(self) -> Result<ByteString, E> {
        Ok(ByteString::default())
    }

    fn visit_none<E: de::Error>(self) -> Result<ByteString, E> {
        Ok(ByteString::default())
    }

    /// YAML's `!!binary` arrives already decoded.
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<ByteString, E> {
        Ok(ByteString(v.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
            assert_eq!(base64_decode(encoded).as_deref(), Ok(plain.as_bytes()));
        }
    }

    #[test]
    fn all_bytes_round_trip() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for len in 0..data.len() {
            let slice = data.get(..len).unwrap_or_default();
            assert_eq!(base64_decode(&base64_encode(slice)).as_deref(), Ok(slice));
        }
    }

    #[test]
    fn lenient_where_go_is() {
        assert_eq!(
            base64_decode("Zm9v\nYmFy\r\n").as_deref(),
            Ok(&b"foobar"[..])
        );
        assert_eq!(base64_decode("Zm8").as_deref(), Ok(&b"fo"[..]));
        assert_eq!(base64_decode("Zg").as_deref(), Ok(&b"f"[..]));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(
            base64_decode("Zm9v!"),
            Err(Base64Error::InvalidByte {
                offset: 4,
                byte: b'!'
            })
        );
        assert_eq!(base64_decode("Z"), Err(Base64Error::TrailingBits));
        assert_eq!(base64_decode("Zg=a"), Err(Base64Error::BadPadding));
        assert_eq!(base64_decode("Zg="), Err(Base64Error::BadPadding));
        assert_eq!(base64_decode("Zm9v===="), Err(Base64Error::BadPadding));
        assert_eq!(base64_decode("Zm8=="), Err(Base64Error::BadPadding));
        assert!(base64_decode("Zm 9v").is_err());
        assert!(base64_decode("Zm9v-_").is_err());
    }

    #[test]
    fn serde_as_base64_and_debug_hides_content() {
        let b = ByteString(b"secret".to_vec());
        assert_eq!(
            serde_json::to_string(&b).ok().as_deref(),
            Some("\"c2VjcmV0\"")
        );
        let back: ByteString = serde_json::from_str("\"c2VjcmV0\"").unwrap_or_default();
        assert_eq!(back, b);
        let null: ByteString = serde_json::from_str("null").unwrap_or(ByteString(vec![1]));
        assert!(null.0.is_empty());
        assert!(serde_json::from_str::<ByteString>("\"***\"").is_err());
        assert_eq!(format!("{b:?}"), "ByteString(6 bytes)");
    }
}
