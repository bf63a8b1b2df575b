//! DER writing: each function returns one complete TLV.
#![forbid(unsafe_code)]

use super::tag;
use crate::api::time::Time;

/// One TLV: `tag`, the DER length of `content`, `content`.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8); // < 0x80: fits
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        let significant = bytes.get(skip..).unwrap_or_default();
        out.push(0x80 | significant.len() as u8); // at most 8
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// A constructed value of the encoded `parts`, in order.
pub fn constructed(tag: u8, parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

pub fn sequence(parts: &[Vec<u8>]) -> Vec<u8> {
    constructed(tag::SEQUENCE, parts)
}

/// A SET OF: DER sorts the encodings of the elements.
pub fn set_of(parts: &[Vec<u8>]) -> Vec<u8> {
    let mut sorted = parts.to_vec();
    sorted.sort();
    constructed(tag::SET, &sorted)
}

/// `[n] EXPLICIT`: the whole encoding of `inner`, wrapped.
pub fn explicit(n: u8, inner: &[u8]) -> Vec<u8> {
    tlv(tag::context(n, true), inner)
}

/// `[n] IMPLICIT` of a primitive type: `content` under the context tag.
pub fn implicit(n: u8, content: &[u8]) -> Vec<u8> {
    tlv(tag::context(n, false), content)
}

pub fn boolean(value: bool) -> Vec<u8> {
    tlv(tag::BOOLEAN, &[if value { 0xff } else { 0 }])
}

/// A non-negative INTEGER from big-endian magnitude bytes (leading zeros dropped, one
/// added when the top bit is set, so it stays positive).
pub fn integer_unsigned(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude.iter().take_while(|&&b| b == 0).count();
    let digits = magnitude.get(skip..).unwrap_or_default();
    let mut content = Vec::with_capacity(digits.len() + 1);
    if digits.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(digits);
    tlv(tag::INTEGER, &content)
}

pub fn integer_u64(value: u64) -> Vec<u8> {
    integer_unsigned(&value.to_be_bytes())
}

/// A BIT STRING of whole bytes.
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    tlv(tag::BIT_STRING, &content)
}

/// A named-bit BIT STRING (KeyUsage) with bits `set` (0 = the first, most significant),
/// trailing zero bits left out as DER wants.
pub fn named_bits(set: &[u8]) -> Vec<u8> {
    let Some(&highest) = set.iter().max() else { return tlv(tag::BIT_STRING, &[0]) };
    let mut bytes = vec![0u8; usize::from(highest / 8) + 1];
    for &bit in set {
        if let Some(byte) = bytes.get_mut(usize::from(bit / 8)) {
            *byte |= 0x80 >> (bit % 8);
        }
    }
    let unused = 7 - highest % 8;
    let mut content = vec![unused];
    content.extend_from_slice(&bytes);
    tlv(tag::BIT_STRING, &content)
}

pub fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(tag::OCTET_STRING, bytes)
}

pub fn null() -> Vec<u8> {
    tlv(tag::NULL, &[])
}

/// The content octets of an OBJECT IDENTIFIER (`arcs` has at least two arcs, the first < 3).
pub fn oid_content(arcs: &[u32]) -> Vec<u8> {
    let mut out = Vec::new();
    let (first, second) = (arcs.first().copied().unwrap_or(0), arcs.get(1).copied().unwrap_or(0));
    let head = u64::from(first) * 40 + u64::from(second);
    for arc in std::iter::once(head).chain(arcs.iter().skip(2).map(|&a| u64::from(a))) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push((rest & 0x7f) as u8 | 0x80);
            rest >>= 7;
        }
        out.extend(groups.iter().rev());
    }
    out
}

pub fn oid(arcs: &[u32]) -> Vec<u8> {
    tlv(tag::OID, &oid_content(arcs))
}

pub fn utf8_string(s: &str) -> Vec<u8> {
    tlv(tag::UTF8_STRING, s.as_bytes())
}

/// The characters X.680 allows in a PrintableString.
pub fn is_printable(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b))
}

/// A PrintableString when `s` can be one, else a UTF8String (what Go writes for names).
pub fn directory_string(s: &str) -> Vec<u8> {
    if is_printable(s) { tlv(tag::PRINTABLE_STRING, s.as_bytes()) } else { utf8_string(s) }
}

/// A validity time as RFC 5280 wants it: UTCTime for 1950-2049, GeneralizedTime otherwise.
pub fn time(unix: i64) -> Vec<u8> {
    // "YYYY-MM-DDTHH:MM:SSZ" → "YYYYMMDDHHMMSSZ"
    let digits: String =
        Time::from_unix(unix).to_string().chars().filter(|c| !matches!(c, '-' | 'T' | ':')).collect();
    let year = digits.get(..4).and_then(|y| y.parse::<u32>().ok()).unwrap_or(0);
    match digits.get(2..) {
        Some(short) if (1950..2050).contains(&year) => tlv(tag::UTC_TIME, short.as_bytes()),
        _ => tlv(tag::GENERALIZED_TIME, digits.as_bytes()),
    }
}
