//! The request head: request line and header fields, parsed from a byte buffer (sans-I/O).
//!
//! [`parse_head`] looks at the bytes received so far and answers "need more" (`Ok(None)`),
//! a [`Head`] and how many bytes it took, or an error that maps to the status to answer with.
//! Lines may end in CRLF or a bare LF (as Go's server accepts); empty lines before the request
//! line are skipped. Limits bound the head's size and its number of fields, so a client
//! cannot make us buffer without end.

#![forbid(unsafe_code)]

use super::url::{self, UrlError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The request line and all header fields together.
    pub max_head_bytes: usize,
    pub max_headers: usize,
    /// A request body (Content-Length or chunked).
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_head_bytes: 64 * 1024, max_headers: 100, max_body_bytes: 1024 * 1024 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// Why a request cannot be served; [`ParseError::status`] is the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    HeadTooLarge,
    TooManyHeaders,
    BadRequestLine,
    BadMethod,
    BadTarget(UrlError),
    UnsupportedVersion,
    BadHeader,
    BadContentLength,
    UnsupportedTransferEncoding,
    BodyTooLarge,
    BadChunk,
}

impl ParseError {
    pub fn status(&self) -> u16 {
        match self {
            ParseError::HeadTooLarge | ParseError::TooManyHeaders => 431,
            ParseError::UnsupportedVersion => 505,
            ParseError::UnsupportedTransferEncoding => 501,
            ParseError::BodyTooLarge => 413,
            _ => 400,
        }
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::HeadTooLarge => f.write_str("request header too large"),
            ParseError::TooManyHeaders => f.write_str("too many header fields"),
            ParseError::BadRequestLine => f.write_str("malformed request line"),
            ParseError::BadMethod => f.write_str("invalid method"),
            ParseError::BadTarget(e) => write!(f, "invalid request target: {e}"),
            ParseError::UnsupportedVersion => f.write_str("unsupported HTTP version"),
            ParseError::BadHeader => f.write_str("malformed header field"),
            ParseError::BadContentLength => f.write_str("invalid Content-Length"),
            ParseError::UnsupportedTransferEncoding => f.write_str("unsupported Transfer-Encoding"),
            ParseError::BodyTooLarge => f.write_str("request body too large"),
            ParseError::BadChunk => f.write_str("malformed chunked body"),
        }
    }
}

impl std::error::Error for ParseError {}

/// A parsed request line and header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    /// The request target as sent.
    pub target: String,
    /// The target's path, percent-decoded.
    pub path: String,
    /// The target's query, still encoded.
    pub raw_query: String,
    pub version: Version,
    /// Field names as sent (compare case-insensitively), values without surrounding space.
    pub headers: Vec<(String, String)>,
}

/// How the body after the head is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    None,
    Length(usize),
    Chunked,
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The lines of `buf` up to and including the empty line ending the head; `None` until it
/// has arrived. Each line is returned without its CR/LF.
fn head_lines(buf: &[u8]) -> Option<(Vec<&[u8]>, usize)> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut rest = buf;
    while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
        let (line, after) = rest.split_at(nl);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        start += nl + 1;
        rest = after.get(1..).unwrap_or_default();
        if line.is_empty() {
            if lines.is_empty() {
                continue; // tolerated empty lines before the request line
            }
            return Some((lines, start));
        }
        lines.push(line);
    }
    None
}

/// Parses the head at the start of `buf`: `Ok(None)` while it is incomplete.
pub fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<(Head, usize)>, ParseError> {
    let Some((lines, consumed)) = head_lines(buf) else {
        if buf.len() > limits.max_head_bytes {
            return Err(ParseError::HeadTooLarge);
        }
        return Ok(None);
    };
    if consumed > limits.max_head_bytes {
        return Err(ParseError::HeadTooLarge);
    }
    let (request_line, fields) = lines.split_first().ok_or(ParseError::BadRequestLine)?;
    if fields.len() > limits.max_headers {
        return Err(ParseError::TooManyHeaders);
    }
    let (method, target, version) = request_line_parts(request_line)?;
    let (path, raw_query) = url::split_target(&target).map_err(ParseError::BadTarget)?;
    let headers = fields.iter().map(|line| header_field(line)).collect::<Result<Vec<_>, _>>()?;
    Ok(Some((Head { method, target, path, raw_query, version, headers }, consumed)))
}

fn request_line_parts(line: &[u8]) -> Result<(String, String, Version), ParseError> {
    let text = std::str::from_utf8(line).map_err(|_| ParseError::BadRequestLine)?;
    let mut parts = text.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::BadRequestLine);
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(ParseError::BadMethod);
    }
    let target_ok = !target.is_empty() && target.bytes().all(|b| b.is_ascii_graphic());
    if !target_ok || !(target.starts_with('/') || target.contains("://") || target == "*") {
        return Err(ParseError::BadRequestLine);
    }
    let version = match version {
        "HTTP/1.1" => Version::Http11,
        "HTTP/1.0" => Version::Http10,
        v if v.starts_with("HTTP/") && v.len() <= 8 => return Err(ParseError::UnsupportedVersion),
        _ => return Err(ParseError::BadRequestLine),
    };
    Ok((method.to_string(), target.to_string(), version))
}

fn header_field(line: &[u8]) -> Result<(String, String), ParseError> {
    let colon = line.iter().position(|&b| b == b':').ok_or(ParseError::BadHeader)?;
    let (name, value) = line.split_at(colon);
    // No space before the colon, no folded continuation lines (both are smuggling vectors).
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(ParseError::BadHeader);
    }
    let value = value.get(1..).unwrap_or_default();
    if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(ParseError::BadHeader);
    }
    let value = String::from_utf8_lossy(value);
    Ok((String::from_utf8_lossy(name).into_owned(), value.trim_matches([' ', '\t']).to_string()))
}

impl Head {
    /// The first value of field `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Every value of field `name`, comma-separated lists split.
    pub fn header_tokens<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }

    fn has_token(&self, name: &str, token: &str) -> bool {
        self.header_tokens(name).any(|t| t.eq_ignore_ascii_case(token))
    }

    /// Whether the connection ends after this request.
    pub fn wants_close(&self) -> bool {
        match self.version {
            Version::Http11 => self.has_token("Connection", "close"),
            Version::Http10 => !self.has_token("Connection", "keep-alive"),
        }
    }

    /// An upgrade request (`Connection: Upgrade` with an `Upgrade` field): SPDY or WebSocket.
    pub fn is_upgrade(&self) -> bool {
        self.has_token("Connection", "upgrade") && self.header("Upgrade").is_some()
    }

    pub fn expects_continue(&self) -> bool {
        self.version == Version::Http11 && self.header("Expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }

    /// How the body is framed. Both Content-Length and Transfer-Encoding, conflicting
    /// lengths, or a coding other than `chunked` are refused.
    pub fn body_kind(&self, limits: &Limits) -> Result<BodyKind, ParseError> {
        let codings: Vec<&str> = self.header_tokens("Transfer-Encoding").collect();
        let lengths: Vec<&str> = self.header_tokens("Content-Length").collect();
        if !codings.is_empty() {
            if !lengths.is_empty() || self.version == Version::Http10 {
                return Err(ParseError::BadContentLength);
            }
            return match codings.as_slice() {
                [c] if c.eq_ignore_ascii_case("chunked") => Ok(BodyKind::Chunked),
                _ => Err(ParseError::UnsupportedTransferEncoding),
            };
        }
        let Some(first) = lengths.first() else { return Ok(BodyKind::None) };
        if lengths.iter().any(|l| l != first) || first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::BadContentLength);
        }
        // Too many digits to fit is simply too large.
        let n: usize = first.parse().map_err(|_| ParseError::BodyTooLarge)?;
        if n > limits.max_body_bytes {
            return Err(ParseError::BodyTooLarge);
        }
        Ok(if n == 0 { BodyKind::None } else { BodyKind::Length(n) })
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
