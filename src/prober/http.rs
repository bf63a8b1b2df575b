//! HTTP GET probes: a small HTTP/1.1 client over a `TcpStream` (TLS without verification
//! for HTTPS), with upstream's redirect policy: redirects to the same host are followed (at
//! most 10), a redirect elsewhere ends the probe with a warning (a success).

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use super::net::{dial, join_host_port};
use super::run::Verdict;

/// Upstream reads at most this much of a response body.
const MAX_BODY: usize = 10 << 10;
const MAX_HEAD: usize = 64 << 10;
const MAX_REDIRECTS: usize = 10;

/// One GET, as the probe spec describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
    /// In order; `Host` here overrides the request's host.
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{}", join_host_port(&self.host, self.port), self.path)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The request head: defaults for User-Agent and Accept as upstream (an empty Accept
    /// given by the user removes the header).
    fn head(&self) -> String {
        let host = match self.header("Host") {
            Some(h) if !h.is_empty() => h.to_string(),
            _ => join_host_port(&self.host, self.port),
        };
        let mut h = format!("GET {} HTTP/1.1\r\nHost: {host}\r\n", self.path);
        if self.header("User-Agent").is_none() {
            h.push_str(&format!("User-Agent: {}\r\n", user_agent()));
        }
        if self.header("Accept").is_none() {
            h.push_str("Accept: */*\r\n");
        }
        for (name, value) in &self.headers {
            let skip = name.eq_ignore_ascii_case("Host") || (name.eq_ignore_ascii_case("Accept") && value.is_empty());
            if !skip {
                h.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        h.push_str("Connection: close\r\n\r\n");
        h
    }
}

/// What came back from one hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

/// `kube-probe/<major>.<minor>`, as upstream's probes present themselves.
pub(crate) fn user_agent() -> String {
    let v = crate::version::KUBERNETES.trim_start_matches('v');
    let minor = v.rsplit_once('.').map_or(v, |(mm, _)| mm);
    format!("kube-probe/{minor}")
}

trait Conn: Read + Write {}
impl<T: Read + Write> Conn for T {}

fn connect(req: &Request, deadline: Instant) -> Result<Box<dyn Conn>, String> {
    let tcp = dial(&req.host, req.port, deadline)?;
    let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
    tcp.set_read_timeout(Some(left)).and_then(|()| tcp.set_write_timeout(Some(left))).map_err(|e| e.to_string())?;
    if !req.https {
        return Ok(Box::new(tcp));
    }
    let config = crate::kubeclient::tls::insecure_client_config(vec![b"http/1.1".to_vec()]).map_err(|e| e.to_string())?;
    let name = rustls::pki_types::ServerName::try_from(req.host.clone()).map_err(|e| e.to_string())?;
    let conn = rustls::ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    Ok(Box::new(rustls::StreamOwned::new(conn, tcp)))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads until `buf` holds the head; returns the head's length.
fn read_head(conn: &mut dyn Conn, buf: &mut Vec<u8>) -> io::Result<usize> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(at) = find(buf, b"\r\n\r\n") {
            return Ok(at + 4);
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "response head too large"));
        }
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "EOF"));
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

/// Reads the rest of the body (the server closes: we asked it to), up to `MAX_BODY` of
/// content; a TLS peer closing without close_notify still gives us what it sent.
fn read_body(conn: &mut dyn Conn, mut body: Vec<u8>, chunked: bool, length: Option<usize>) -> Vec<u8> {
    let want = length.unwrap_or(usize::MAX);
    let mut chunk = [0u8; 4096];
    // Chunk framing takes room too: read a little beyond the limit.
    let raw_limit = if chunked { MAX_BODY * 2 + 1024 } else { MAX_BODY.min(want) };
    while body.len() < raw_limit {
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(chunk.get(..n).unwrap_or_default()),
        }
    }
    let mut body = if chunked { dechunk(&body) } else { body };
    body.truncate(MAX_BODY.min(want));
    body
}

/// The content of a chunked body, as far as it is complete.
pub(crate) fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = find(raw, b"\r\n") {
        let size_text = String::from_utf8_lossy(raw.get(..eol).unwrap_or_default()).to_string();
        let size_text = size_text.split(';').next().unwrap_or("").trim().to_string();
        let Ok(size) = usize::from_str_radix(&size_text, 16) else { break };
        if size == 0 {
            break;
        }
        let start = eol + 2;
        let end = start.saturating_add(size).min(raw.len());
        out.extend_from_slice(raw.get(start..end).unwrap_or_default());
        raw = raw.get(end.saturating_add(2)..).unwrap_or_default();
    }
    out
}

/// Parses a response head (status line and headers).
pub(crate) fn parse_head(head: &[u8]) -> Option<(u16, Vec<(String, String)>)> {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.split(' ');
    if !parts.next()?.starts_with("HTTP/") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((status, headers))
}

/// Go's error when a TLS handshake is answered in plain HTTP (upstream's lifecycle hooks
/// then retry with HTTP).
pub(crate) const PLAIN_HTTP_ANSWER: &str = "http: server gave HTTP response to HTTPS client";

/// The TLS layer got a record that is no TLS record, as a plain HTTP answer is.
fn answered_in_plain_http(e: &io::Error) -> bool {
    let tls = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>());
    matches!(tls, Some(rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)))
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock)
}

/// One request/response exchange; the error is Go's text after `Get "<url>": `.
fn exchange(req: &Request, deadline: Instant) -> Result<Response, String> {
    let mut conn = connect(req, deadline)?;
    let io_err = |e: io::Error| {
        if answered_in_plain_http(&e) {
            PLAIN_HTTP_ANSWER.to_string()
        } else if is_timeout(&e) {
            "context deadline exceeded (Client.Timeout exceeded while awaiting headers)".to_string()
        } else if e.kind() == io::ErrorKind::UnexpectedEof {
            "EOF".to_string()
        } else {
            e.to_string()
        }
    };
    conn.write_all(req.head().as_bytes()).and_then(|()| conn.flush()).map_err(io_err)?;
    let mut buf = Vec::new();
    let head_len = read_head(conn.as_mut(), &mut buf).map_err(io_err)?;
    let (status, headers) = parse_head(buf.get(..head_len).unwrap_or_default()).ok_or("malformed HTTP response")?;
    let header = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let chunked = header("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = header("content-length").and_then(|v| v.parse().ok());
    let rest = buf.get(head_len..).unwrap_or_default().to_vec();
    let body = read_body(conn.as_mut(), rest, chunked, length);
    Ok(Response { status, location: header("location"), body: String::from_utf8_lossy(&body).into_owned() })
}

/// Where a `Location` points, relative to `from`; `None` when it cannot be understood.
pub(crate) fn resolve(from: &Request, location: &str) -> Option<Request> {
    let mut next = from.clone();
    let (https, rest) = if let Some(r) = location.strip_prefix("http://") {
        (Some(false), Some(r))
    } else if let Some(r) = location.strip_prefix("https://") {
        (Some(true), Some(r))
    } else {
        (None, location.strip_prefix("//"))
    };
    match rest {
        Some(rest) => {
            next.https = https.unwrap_or(from.https);
            let (authority, path) = match rest.find('/') {
                Some(i) => (rest.get(..i)?, rest.get(i..)?),
                None => (rest, "/"),
            };
            let (host, port) = split_authority(authority, next.https)?;
            next.host = host;
            next.port = port;
            next.path = path.to_string();
        }
        None if location.starts_with('/') => next.path = location.to_string(),
        None => {
            let dir = from.path.split('?').next().unwrap_or("/");
            let dir = dir.rfind('/').and_then(|i| dir.get(..=i)).unwrap_or("/");
            next.path = format!("{dir}{location}");
        }
    }
    Some(next)
}

fn split_authority(authority: &str, https: bool) -> Option<(String, u16)> {
    let default_port = if https { 443 } else { 80 };
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, rest) = v6.split_once(']')?;
        let port = match rest.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => default_port,
        };
        return Some((host.to_string(), port));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), p.parse().ok()?)),
        None => Some((authority.to_string(), default_port)),
    }
}

fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Runs the probe: follows local redirects, judges the final response.
pub(crate) fn probe(first: &Request, timeout: Duration) -> (Verdict, String) {
    match get(first, timeout) {
        Ok(resp) => judge(&resp),
        Err(e) => (Verdict::Failure, e),
    }
}

/// One GET with upstream's redirect policy (local redirects followed); the final response,
/// or Go's error text (`Get "<url>": ...`). Lifecycle hooks use it too.
pub(crate) fn get(first: &Request, timeout: Duration) -> Result<Response, String> {
    let deadline = Instant::now() + timeout;
    let mut req = first.clone();
    let mut hops = 0;
    let resp = loop {
        let resp = exchange(&req, deadline).map_err(|e| format!("Get \"{}\": {e}", req.url()))?;
        let next = resp.location.as_deref().filter(|_| is_redirect(resp.status)).and_then(|l| resolve(&req, l).map(|n| (l, n)));
        let Some((location, mut next)) = next else { break resp };
        if next.host != first.host {
            // Not ours to follow: upstream ends here and reports the redirect as a warning.
            break resp;
        }
        hops += 1;
        if hops >= MAX_REDIRECTS {
            return Err(format!("Get \"{}\": stopped after 10 redirects", next.url()));
        }
        // A Host header set by the user survives relative redirects only (as Go's client).
        let relative = !location.contains("//");
        if !relative {
            next.headers.retain(|(n, _)| !n.eq_ignore_ascii_case("Host"));
        }
        req = next;
    };
    Ok(resp)
}

/// Upstream's verdict on the final response.
pub(crate) fn judge(resp: &Response) -> (Verdict, String) {
    match resp.status {
        200..=299 => (Verdict::Success, resp.body.clone()),
        300..=399 => (Verdict::Warning, format!("Probe terminated redirects, Response body: {}", resp.body)),
        code => (Verdict::Failure, format!("HTTP probe failed with statuscode: {code}")),
    }
}
