//! Writing responses: a whole [`Response`], or a head followed by a chunked body.

#![forbid(unsafe_code)]

use std::io::{self, Write};

/// A complete response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

pub const TEXT: &str = "text/plain; charset=utf-8";
pub const JSON: &str = "application/json";

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response { status, headers: vec![("Content-Type".into(), content_type.into())], body: body.into() }
    }

    /// A plain-text body as written (go-restful's `WriteErrorString`).
    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response::new(status, TEXT, body.into())
    }

    /// Go's `http.Error`: the message and a newline, not to be sniffed.
    pub fn error(status: u16, message: &str) -> Response {
        Response::text(status, format!("{message}\n")).with_header("X-Content-Type-Options", "nosniff")
    }

    pub fn json(body: Vec<u8>) -> Response {
        Response::new(200, JSON, body)
    }

    pub fn not_found() -> Response {
        Response::error(404, "404 page not found")
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        301 => "Moved Permanently",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        413 => "Request Entity Too Large",
        422 => "Unprocessable Entity",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// A header value or name with CR and LF removed: nothing we echo may start a new field.
fn clean(s: &str) -> String {
    s.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

/// How the body after a head is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Length(u64),
    Chunked,
    /// No body and no length (101 Switching Protocols).
    None,
}

/// Writes the status line and fields; `keep_alive` false adds `Connection: close`.
pub fn write_head(
    w: &mut dyn Write,
    status: u16,
    headers: &[(String, String)],
    framing: Framing,
    keep_alive: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        let skip = ["content-length", "transfer-encoding", "connection"].iter().any(|h| name.eq_ignore_ascii_case(h));
        if !skip || framing == Framing::None {
            head.push_str(&format!("{}: {}\r\n", clean(name), clean(value)));
        }
    }
    match framing {
        Framing::Length(n) => head.push_str(&format!("Content-Length: {n}\r\n")),
        Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
        Framing::None => {}
    }
    if !keep_alive && framing != Framing::None {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    w.write_all(head.as_bytes())
}

/// Writes a whole response; `head_only` for HEAD requests (the length is still announced).
pub fn write_response(w: &mut dyn Write, resp: &Response, keep_alive: bool, head_only: bool) -> io::Result<()> {
    let len = u64::try_from(resp.body.len()).unwrap_or(u64::MAX);
    write_head(w, resp.status, &resp.headers, Framing::Length(len), keep_alive)?;
    if !head_only {
        w.write_all(&resp.body)?;
    }
    w.flush()
}

/// A body sent as chunks: each `write` becomes one chunk and is flushed at once (log lines
/// must reach a following client as they come). [`ChunkedWriter::finish`] ends the body.
pub struct ChunkedWriter<'a> {
    inner: &'a mut dyn Write,
}

impl<'a> ChunkedWriter<'a> {
    pub fn new(inner: &'a mut dyn Write) -> ChunkedWriter<'a> {
        ChunkedWriter { inner }
    }

    pub fn finish(self) -> io::Result<()> {
        self.inner.write_all(b"0\r\n\r\n")?;
        self.inner.flush()
    }
}

impl Write for ChunkedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut chunk = format!("{:x}\r\n", buf.len()).into_bytes();
        chunk.extend_from_slice(buf);
        chunk.extend_from_slice(b"\r\n");
        self.inner.write_all(&chunk)?;
        self.inner.flush()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_response_has_length_and_cleaned_fields() {
        let r = Response::error(403, "Forbidden (user=a)").with_header("X-Evil", "a\r\nInjected: 1");
        let mut out = Vec::new();
        write_response(&mut out, &r, false, false).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{text}");
        assert!(text.contains("Content-Type: text/plain; charset=utf-8\r\n"));
        assert!(text.contains("X-Evil: aInjected: 1\r\n"));
        assert!(text.contains("Content-Length: 19\r\nConnection: close\r\n\r\nForbidden (user=a)\n"), "{text}");
    }

    #[test]
    fn head_only_announces_the_length_without_the_body() {
        let mut out = Vec::new();
        write_response(&mut out, &Response::text(200, "ok"), true, true).unwrap_or_default();
        assert_eq!(String::from_utf8_lossy(&out), "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\n");
    }

    #[test]
    fn chunked_body() {
        let mut out = Vec::new();
        write_head(&mut out, 200, &[], Framing::Chunked, true).unwrap_or_default();
        let mut w = ChunkedWriter::new(&mut out);
        w.write_all(b"hello world, sixteen+").unwrap_or_default();
        w.write_all(b"").unwrap_or_default();
        w.finish().unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&out),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n15\r\nhello world, sixteen+\r\n0\r\n\r\n"
        );
    }
}
