//! The container log file formats: CRI's (what containerd writes) and Docker's JSON lines.
//!
//! ```text
//!  CRI:    2024-05-01T10:00:00.123456789Z stdout F hello world\n
//!          <RFC 3339 time>                <stream> <tag> <content>
//!          tag P = partial: the content goes on in the next line (its own \n is not part of it)
//!          tag F = full: the content ends with the line's \n
//!  Docker: {"log":"hello world\n","stream":"stdout","time":"2024-05-01T10:00:00.123456789Z"}
//! ```
//!
//! Times keep the offset they were written with, so that `timestamps=true` shows them as the
//! runtime wrote them, with nine fraction digits (upstream's `RFC3339NanoFixed`).

#![forbid(unsafe_code)]

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::api::time::civil_from_days;

/// A log line's time: an instant and the UTC offset it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timestamp {
    /// Seconds since the Unix epoch (UTC).
    pub secs: i64,
    pub nanos: u32,
    /// The offset from UTC it was written with, in seconds.
    pub offset: i32,
}

impl Timestamp {
    /// Reads an RFC 3339 time with any number of fraction digits (upstream's
    /// `RFC3339NanoLenient`; digits beyond nanoseconds are dropped).
    pub fn parse(s: &str) -> Option<Timestamp> {
        let t = crate::api::time::Rfc3339::parse(s)?;
        Some(Timestamp { secs: t.secs, nanos: t.nanos, offset: t.offset })
    }

    pub fn to_system_time(self) -> SystemTime {
        let nanos = Duration::from_nanos(u64::from(self.nanos));
        match u64::try_from(self.secs) {
            Ok(s) => UNIX_EPOCH + Duration::from_secs(s) + nanos,
            Err(_) => UNIX_EPOCH - Duration::from_secs(self.secs.unsigned_abs()) + nanos,
        }
    }

    /// True when this time is before `t`.
    pub fn before(self, t: SystemTime) -> bool {
        self.to_system_time() < t
    }
}

/// `2006-01-02T15:04:05.000000000Z07:00`: nine fraction digits, the original offset.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self.secs + i64::from(self.offset);
        let (y, m, d) = civil_from_days(local.div_euclid(86_400));
        let s = local.rem_euclid(86_400);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}", s / 3600, s / 60 % 60, s % 60, self.nanos)?;
        if self.offset == 0 {
            return f.write_str("Z");
        }
        let sign = if self.offset < 0 { '-' } else { '+' };
        let off = self.offset.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", off / 3600, off / 60 % 60)
    }
}

/// Which output of the container a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn parse(s: &[u8]) -> Option<Stream> {
        match s {
            b"stdout" => Some(Stream::Stdout),
            b"stderr" => Some(Stream::Stderr),
            _ => None,
        }
    }
}

/// One line of a log file, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub timestamp: Timestamp,
    pub stream: Stream,
    /// The content, with its `\n` when the line is full; without one when partial.
    pub content: Vec<u8>,
}

/// Why a line could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    Timestamp,
    Stream,
    Tag,
    Json,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseError::Timestamp => "no RFC 3339 timestamp",
            ParseError::Stream => "no stdout/stderr stream",
            ParseError::Tag => "no log tag",
            ParseError::Json => "not a Docker JSON log line",
        })
    }
}

/// The two formats upstream reads; the first line of a file decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Cri,
    DockerJson,
}

impl Format {
    /// The format a line is in.
    pub fn detect(line: &[u8]) -> Option<Format> {
        [Format::Cri, Format::DockerJson].into_iter().find(|f| f.parse(line).is_ok())
    }

    /// Parses one raw line (with its trailing `\n`, if it has one).
    pub fn parse(self, line: &[u8]) -> Result<Message, ParseError> {
        match self {
            Format::Cri => parse_cri(line),
            Format::DockerJson => parse_docker_json(line),
        }
    }
}

fn split_field(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = line.iter().position(|&b| b == b' ')?;
    Some((&line[..at], &line[at + 1..]))
}

fn parse_cri(line: &[u8]) -> Result<Message, ParseError> {
    let (time, rest) = split_field(line).ok_or(ParseError::Timestamp)?;
    let timestamp = std::str::from_utf8(time).ok().and_then(Timestamp::parse).ok_or(ParseError::Timestamp)?;
    let (stream, rest) = split_field(rest).ok_or(ParseError::Stream)?;
    let stream = Stream::parse(stream).ok_or(ParseError::Stream)?;
    let (tags, content) = split_field(rest).ok_or(ParseError::Tag)?;
    // Tags are `:`-separated; the first says partial or full.
    let partial = tags.split(|&b| b == b':').next() == Some(b"P");
    let content = match content.strip_suffix(b"\n") {
        Some(c) if partial => c,
        _ => content,
    };
    Ok(Message { timestamp, stream, content: content.to_vec() })
}

#[derive(serde::Deserialize)]
struct DockerLine {
    #[serde(default)]
    log: String,
    #[serde(default)]
    stream: String,
    time: String,
}

fn parse_docker_json(line: &[u8]) -> Result<Message, ParseError> {
    let l: DockerLine = crate::api::json::decode(line).map_err(|_| ParseError::Json)?;
    let timestamp = Timestamp::parse(&l.time).ok_or(ParseError::Json)?;
    let stream = Stream::parse(l.stream.as_bytes()).ok_or(ParseError::Stream)?;
    Ok(Message { timestamp, stream, content: l.log.into_bytes() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_keep_their_offset() {
        let t = Timestamp::parse("2024-05-01T10:00:00.5Z").expect("utc");
        assert_eq!((t.nanos, t.offset), (500_000_000, 0));
        assert_eq!(t.to_string(), "2024-05-01T10:00:00.500000000Z");
        let t = Timestamp::parse("2024-05-01T12:00:00.123456789123+02:00").expect("offset");
        assert_eq!(t.secs, Timestamp::parse("2024-05-01T10:00:00Z").expect("z").secs);
        assert_eq!(t.to_string(), "2024-05-01T12:00:00.123456789+02:00");
        let t = Timestamp::parse("1969-12-31T23:59:59-00:30").expect("negative");
        assert_eq!(t.to_string(), "1969-12-31T23:59:59.000000000-00:30");
        assert!(t.before(UNIX_EPOCH + Duration::from_secs(1800)));
        for bad in [
            "",
            "2024-05-01",
            "2024-05-01T10:00:00",
            "2024-02-30T10:00:00Z",
            "2024-05-01T10:00:00.Z",
            "2024-05-01T10:00:00+2:00",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cri_lines() {
        let m = Format::Cri.parse(b"2024-05-01T10:00:00Z stdout F hello world\n").expect("full");
        assert_eq!((m.stream, m.content.as_slice()), (Stream::Stdout, &b"hello world\n"[..]));
        let m = Format::Cri.parse(b"2024-05-01T10:00:00Z stderr P part\n").expect("partial");
        assert_eq!((m.stream, m.content.as_slice()), (Stream::Stderr, &b"part"[..]));
        let m = Format::Cri.parse(b"2024-05-01T10:00:00Z stdout F:x \n").expect("empty, extra tag");
        assert_eq!(m.content, b"\n");
        assert_eq!(Format::Cri.parse(b"garbage"), Err(ParseError::Timestamp));
        assert_eq!(Format::Cri.parse(b"2024-05-01T10:00:00Z stdin F x\n"), Err(ParseError::Stream));
        assert_eq!(Format::Cri.parse(b"2024-05-01T10:00:00Z stdout\n"), Err(ParseError::Stream));
        assert_eq!(Format::Cri.parse(b"2024-05-01T10:00:00Z stdout F"), Err(ParseError::Tag));
    }

    #[test]
    fn docker_json_lines() {
        let line = br#"{"log":"hi\n","stream":"stderr","time":"2024-05-01T10:00:00.000000001Z"}"#;
        assert_eq!(Format::detect(line), Some(Format::DockerJson));
        let m = Format::DockerJson.parse(line).expect("json");
        assert_eq!((m.stream, m.content.as_slice(), m.timestamp.nanos), (Stream::Stderr, &b"hi\n"[..], 1));
        assert_eq!(Format::detect(b"2024-05-01T10:00:00Z stdout F x\n"), Some(Format::Cri));
        assert_eq!(Format::detect(b"plain text\n"), None);
    }
}
