//! The HTTP heads the proxy handles: the client's request (as the server parsed it), the
//! request we send to the runtime's streaming server, and the runtime's response head.
#![forbid(unsafe_code)]

use std::fmt;
use std::net::IpAddr;

/// The client's request as the kubelet server read it, before any byte of a response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    /// The origin-form target as received: the path, and `?query` if any.
    pub target: String,
    /// In order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The client's address, for `X-Forwarded-For`.
    pub peer: Option<IpAddr>,
}

impl RequestHead {
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(self.target.as_str(), |(path, _)| path)
    }

    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, query)| query)
    }

    /// Every value of the header `name` (case-insensitive), in order.
    pub fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + use<'a> {
        let name = name.to_string();
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(&name)).map(|(_, v)| v.as_str())
    }

    /// The first value of the header `name` (Go's `Header.Get`).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).next()
    }

    /// Upstream's `httpstream.IsUpgradeRequest`: a `Connection` header mentions `upgrade`.
    pub fn is_upgrade(&self) -> bool {
        self.header_values("Connection").any(|v| v.to_ascii_lowercase().contains("upgrade"))
    }

    /// Upstream's `wsstream.IsWebSocketRequest`: an upgrade to `websocket`.
    pub fn is_websocket(&self) -> bool {
        self.header("Upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket")) && self.is_upgrade()
    }

    /// Upstream's `wsstream.IsWebSocketRequestWithTunnelingProtocol`: a WebSocket asking for
    /// SPDY tunnelled inside it (`SPDY/3.1+portforward.k8s.io`), as kubectl's port-forward does
    /// first. Its ports travel inside the session, as with plain SPDY.
    pub fn is_websocket_tunneling(&self) -> bool {
        let protocols = self.header("Sec-WebSocket-Protocol").unwrap_or_default();
        let tunnels = |p: &str| p.starts_with("SPDY/3.1+") && p.ends_with(".k8s.io");
        self.is_websocket() && protocols.split(',').any(|p| tunnels(p.trim()))
    }

    /// The request for the runtime's streaming server: the client's method and headers (the
    /// upgrade headers included, as upstream's upgrade-aware proxy sends them) to the
    /// runtime URL's path, with
    /// - `Host` naming the runtime's address;
    /// - `X-Forwarded-For` with the client's address appended;
    /// - no `Authorization`/`Proxy-Authorization`: those were the client's credentials for us,
    ///   and the runtime URL's one-time token is all the runtime asks for;
    /// - no header whose name or value could split the head (CR, LF, NUL).
    pub fn backend_request(&self, url: &RuntimeUrl) -> Vec<u8> {
        let mut out =
            format!("{} {} HTTP/1.1\r\nHost: {}\r\n", self.method, url.path_and_query, url.authority);
        let mut forwarded: Vec<&str> = Vec::new();
        for (name, value) in &self.headers {
            let dropped = ["Host", "Authorization", "Proxy-Authorization"];
            if dropped.iter().any(|d| name.eq_ignore_ascii_case(d)) || !header_is_safe(name, value) {
                continue;
            }
            if name.eq_ignore_ascii_case("X-Forwarded-For") {
                forwarded.push(value);
                continue;
            }
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(peer) = self.peer {
            let peer = peer.to_string();
            forwarded.push(&peer);
            out.push_str(&format!("X-Forwarded-For: {}\r\n", forwarded.join(", ")));
        } else if !forwarded.is_empty() {
            out.push_str(&format!("X-Forwarded-For: {}\r\n", forwarded.join(", ")));
        }
        out.push_str("\r\n");
        out.into_bytes()
    }
}

fn header_is_safe(name: &str, value: &str) -> bool {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    !name.is_empty() && name.bytes().all(token) && !value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// Where the runtime serves a stream: `http://host:port/path` from CRI Exec, Attach or
/// PortForward.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeUrl {
    /// As written in the URL, for the `Host` header.
    pub authority: String,
    /// What to connect to: the host without brackets, and the port (80 when none is given).
    pub host: String,
    pub port: u16,
    /// The path and query to request, `/` at least.
    pub path_and_query: String,
}

impl RuntimeUrl {
    pub fn parse(url: &str) -> Result<RuntimeUrl, UrlError> {
        let bad = |reason| UrlError { url: url.to_string(), reason };
        let (scheme, rest) = url.split_once("://").ok_or(bad("no scheme"))?;
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(bad("only http:// streaming URLs are supported"));
        }
        let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(split);
        let tail = tail.split('#').next().unwrap_or("");
        if authority.is_empty() || authority.contains('@') {
            return Err(bad("no host, or user information in the URL"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => {
                (host, port.parse::<u16>().map_err(|_| bad("invalid port"))?)
            }
            _ => (authority, 80),
        };
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        if host.is_empty() || !header_is_safe("Host", authority) || tail.bytes().any(|b| b <= b' ') {
            return Err(bad("invalid host or path"));
        }
        let path_and_query = if tail.starts_with('/') { tail.to_string() } else { format!("/{tail}") };
        Ok(RuntimeUrl { authority: authority.to_string(), host: host.to_string(), port, path_and_query })
    }
}

/// A streaming URL from the runtime that we cannot use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError {
    pub url: String,
    pub reason: &'static str,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "runtime streaming URL {:?}: {}", self.url, self.reason)
    }
}

impl std::error::Error for UrlError {}

/// The parts of the runtime's response head the proxy decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    /// `Content-Length`, if given and valid.
    pub content_length: Option<u64>,
    /// Bytes of the head, the blank line included.
    pub len: usize,
}

/// The longest response head we accept from the runtime.
pub const MAX_HEAD: usize = 64 * 1024;

/// Parses a response head from the start of `buf`: `Ok(None)` until the blank line has
/// arrived, an error when it cannot be one.
pub fn parse_response_head(buf: &[u8]) -> Result<Option<ResponseHead>, &'static str> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > MAX_HEAD { Err("response head too long") } else { Ok(None) };
    };
    let head =
        std::str::from_utf8(buf.get(..end).unwrap_or_default()).map_err(|_| "response head is not text")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") || code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err("malformed status line");
    }
    let status = code.parse::<u16>().map_err(|_| "malformed status code")?;
    let content_length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("Content-Length"))
        .and_then(|(_, value)| value.trim().parse::<u64>().ok());
    Ok(Some(ResponseHead { status, content_length, len: end + 4 }))
}

/// A plain-text response, as Go's `http.Error` writes one, on a connection we close after.
pub fn error_response(status: u16, body: &str, extra_headers: &[(&str, String)]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n",
        reason_phrase(status)
    );
    for (name, value) in extra_headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "",
    }
}
