//! DER reading: [`Reader`] over a borrowed slice, and decoders of primitive contents.
#![forbid(unsafe_code)]

use super::{DerError, Problem, err, tag};
use crate::api::time::Time;

/// One decoded TLV: its tag, its content, and its whole encoding (for signatures and
/// comparisons of raw structures).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

/// Reads the TLVs of one level, in order.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Reader { rest: input }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The tag of the next value, if there is one.
    pub fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next value, whatever its tag.
    pub fn read_any(&mut self, field: &'static str) -> Result<Tlv<'a>, DerError> {
        let input = self.rest;
        let (&tag, after_tag) = input.split_first().ok_or(err(field, Problem::Missing))?;
        if tag & 0x1f == 0x1f {
            return Err(err(field, Problem::HighTagNumber));
        }
        let (&first, mut after_len) = after_tag.split_first().ok_or(err(field, Problem::Truncated))?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return Err(err(field, Problem::BadLength));
            }
            let bytes = after_len.get(..count).ok_or(err(field, Problem::Truncated))?;
            after_len = after_len.get(count..).unwrap_or_default();
            if bytes.first() == Some(&0) {
                return Err(err(field, Problem::BadLength));
            }
            let value = bytes.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
            if value < 0x80 {
                return Err(err(field, Problem::BadLength));
            }
            usize::try_from(value).map_err(|_| err(field, Problem::BadLength))?
        };
        let content = after_len.get(..len).ok_or(err(field, Problem::Truncated))?;
        let header = input.len() - after_len.len();
        let raw = input.get(..header + len).ok_or(err(field, Problem::Truncated))?;
        self.rest = after_len.get(len..).unwrap_or_default();
        Ok(Tlv { tag, content, raw })
    }

    /// The next value, which must have `tag`.
    pub fn read_tlv(&mut self, tag: u8, field: &'static str) -> Result<Tlv<'a>, DerError> {
        match self.peek_tag() {
            None => Err(err(field, Problem::Missing)),
            Some(found) if found != tag => Err(err(field, Problem::UnexpectedTag { expected: tag, found })),
            Some(_) => self.read_any(field),
        }
    }

    /// The content of the next value, which must have `tag`.
    pub fn read(&mut self, tag: u8, field: &'static str) -> Result<&'a [u8], DerError> {
        self.read_tlv(tag, field).map(|t| t.content)
    }

    /// The content of the next value if it has `tag` (OPTIONAL and DEFAULT fields).
    pub fn read_optional(&mut self, tag: u8, field: &'static str) -> Result<Option<&'a [u8]>, DerError> {
        if self.peek_tag() == Some(tag) { self.read(tag, field).map(Some) } else { Ok(None) }
    }

    /// A reader over the content of the next value, which must have `tag` (a SEQUENCE...).
    pub fn nested(&mut self, tag: u8, field: &'static str) -> Result<Reader<'a>, DerError> {
        self.read(tag, field).map(Reader::new)
    }

    /// Fails if anything is left: a structure must end where its last field ends.
    pub fn finish(&self, field: &'static str) -> Result<(), DerError> {
        if self.rest.is_empty() { Ok(()) } else { Err(err(field, Problem::TrailingData)) }
    }
}

/// Reads `input` as exactly one value with `tag` and returns a reader over its content.
pub fn single<'a>(input: &'a [u8], tag: u8, field: &'static str) -> Result<Reader<'a>, DerError> {
    let mut outer = Reader::new(input);
    let inner = outer.nested(tag, field)?;
    outer.finish(field)?;
    Ok(inner)
}

pub fn parse_bool(content: &[u8], field: &'static str) -> Result<bool, DerError> {
    match content {
        [0] => Ok(false),
        [0xff] => Ok(true),
        _ => Err(err(field, Problem::BadValue("a BOOLEAN is one byte, 0x00 or 0xff"))),
    }
}

/// The value of a small non-negative INTEGER (versions, path lengths).
pub fn parse_small_uint(content: &[u8], field: &'static str) -> Result<u64, DerError> {
    let magnitude = parse_unsigned(content, field)?;
    if magnitude.len() > 8 {
        return Err(err(field, Problem::BadValue("INTEGER too large")));
    }
    Ok(magnitude.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// The magnitude bytes of a non-negative INTEGER, without the sign byte.
pub fn parse_unsigned<'a>(content: &'a [u8], field: &'static str) -> Result<&'a [u8], DerError> {
    match content {
        [] => Err(err(field, Problem::BadValue("empty INTEGER"))),
        [first, ..] if first & 0x80 != 0 => Err(err(field, Problem::BadValue("negative INTEGER"))),
        [0, second, ..] if second & 0x80 == 0 => Err(err(field, Problem::BadValue("non-minimal INTEGER"))),
        [0, rest @ ..] if !rest.is_empty() => Ok(rest),
        _ => Ok(content),
    }
}

/// The bytes of a BIT STRING with no unused bits (keys and signatures).
pub fn parse_bit_string_bytes<'a>(content: &'a [u8], field: &'static str) -> Result<&'a [u8], DerError> {
    match content.split_first() {
        Some((0, bytes)) => Ok(bytes),
        Some(_) => Err(err(field, Problem::BadValue("BIT STRING with unused bits"))),
        None => Err(err(field, Problem::BadValue("empty BIT STRING"))),
    }
}

/// The numbers of the bits set in a named-bit BIT STRING (KeyUsage), 0 first.
pub fn parse_named_bits(content: &[u8], field: &'static str) -> Result<Vec<u32>, DerError> {
    let (&unused, bytes) = content.split_first().ok_or(err(field, Problem::BadValue("empty BIT STRING")))?;
    if unused > 7 || (bytes.is_empty() && unused != 0) {
        return Err(err(field, Problem::BadValue("bad unused-bit count")));
    }
    let mut bits = Vec::new();
    for (i, &byte) in bytes.iter().enumerate() {
        for bit in 0..8u32 {
            if byte & (0x80 >> bit) != 0 {
                bits.push(u32::try_from(i).unwrap_or(u32::MAX / 8).saturating_mul(8).saturating_add(bit));
            }
        }
    }
    Ok(bits)
}

/// The arcs of an OBJECT IDENTIFIER.
pub fn parse_oid(content: &[u8], field: &'static str) -> Result<Vec<u64>, DerError> {
    if content.is_empty() || content.last().is_some_and(|b| b & 0x80 != 0) {
        return Err(err(field, Problem::BadValue("malformed OBJECT IDENTIFIER")));
    }
    let mut arcs = Vec::new();
    let mut value: u64 = 0;
    let mut started = false;
    for &b in content {
        if !started && b == 0x80 {
            return Err(err(field, Problem::BadValue("non-minimal OBJECT IDENTIFIER arc")));
        }
        started = true;
        value =
            value.checked_mul(128).ok_or(err(field, Problem::BadValue("OBJECT IDENTIFIER arc too large")))?
                | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
            started = false;
        }
    }
    Ok(arcs)
}

/// The text of a string type (UTF8String, PrintableString, IA5String; T61String as Latin-1
/// is too rare to matter, so it must be ASCII).
pub fn parse_string(tlv: &Tlv<'_>, field: &'static str) -> Result<String, DerError> {
    match tlv.tag {
        tag::UTF8_STRING | tag::PRINTABLE_STRING | tag::IA5_STRING | tag::T61_STRING => {
            let text =
                std::str::from_utf8(tlv.content).map_err(|_| err(field, Problem::BadValue("not UTF-8")))?;
            if tlv.tag != tag::UTF8_STRING && !text.is_ascii() {
                return Err(err(field, Problem::BadValue("not ASCII")));
            }
            Ok(text.to_string())
        }
        _ => Err(err(field, Problem::BadValue("not a supported string type"))),
    }
}

/// Seconds since the Unix epoch of a UTCTime or GeneralizedTime (DER form: seconds, `Z`).
pub fn parse_time(tlv: &Tlv<'_>, field: &'static str) -> Result<i64, DerError> {
    let bad = || err(field, Problem::BadValue("malformed time"));
    let text = std::str::from_utf8(tlv.content).map_err(|_| bad())?;
    let digits = text.strip_suffix('Z').ok_or_else(bad)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let full = match (tlv.tag, digits.len()) {
        (tag::UTC_TIME, 12) => {
            let yy: u32 = digits.get(..2).and_then(|y| y.parse().ok()).ok_or_else(bad)?;
            format!("{}{digits}", if yy >= 50 { "19" } else { "20" })
        }
        (tag::GENERALIZED_TIME, 14) => digits.to_string(),
        _ => return Err(bad()),
    };
    let part = |range: std::ops::Range<usize>| full.get(range).ok_or_else(bad);
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        part(0..4)?,
        part(4..6)?,
        part(6..8)?,
        part(8..10)?,
        part(10..12)?,
        part(12..14)?
    );
    Time::parse(&rfc3339).map(Time::unix_seconds).map_err(|_| bad())
}
