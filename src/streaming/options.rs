//! What an `/exec`, `/attach` or `/portForward` request asks for: the pod and container named by
//! its path, and the options in its query, parsed with upstream's rules and error texts.
//!
//! | path | route |
//! | --- | --- |
//! | `/exec/{ns}/{pod}[/{uid}]/{container}?command=..&input=1&output=1&error=1&tty=1` | exec |
//! | `/attach/{ns}/{pod}[/{uid}]/{container}?input=1&output=1&error=1&tty=1` | attach |
//! | `/portForward/{ns}/{pod}[/{uid}]?port=80,443&port=8080` | port-forward |
//!
//! The stream flags are upstream's `input`/`output`/`error`/`tty` query parameters, each on
//! when its first value is exactly `1`.
#![forbid(unsafe_code)]

use std::fmt;

use super::StreamKind;
use crate::server::streaming_api::StreamPath;

/// A request's query, decoded as Go's `url.ParseQuery` does: pairs split on `&`, `+` is a space,
/// and a pair with a `;` or a bad `%` escape is dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: &str) -> Query {
        let pairs =
            raw.split('&').filter(|pair| !pair.is_empty() && !pair.contains(';')).filter_map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                Some((unescape(key, true)?, unescape(value, true)?))
            });
        Query(pairs.collect())
    }

    /// Every value of `key`, in order.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// The first value of `key` (Go's `FormValue`).
    pub fn first(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// Percent-decoding; `None` on a bad escape. Bytes that are not UTF-8 become U+FFFD, since
/// CRI strings must be UTF-8 anyway.
pub(crate) fn unescape(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = crate::server::http::url::percent_decode_bytes(s, plus_is_space)?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The pod (and, for exec and attach, the container) a streaming path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: StreamKind,
    pub namespace: String,
    pub pod: String,
    /// The pod UID when the path has one; empty otherwise.
    pub uid: String,
    /// Empty for port-forward.
    pub container: String,
}

impl Target {
    /// The target of a request path (without its query), or `None` when the path is not one of
    /// the routes above (empty segments included: the router answers those with 404).
    pub fn parse(path: &str) -> Option<Target> {
        let mut segments = path.strip_prefix('/')?.split('/');
        let first = segments.next()?;
        let rest: Vec<String> = segments.map(|s| unescape(s, false)).collect::<Option<_>>()?;
        if rest.iter().any(String::is_empty) {
            return None;
        }
        let all: Vec<&str> = std::iter::once(first).chain(rest.iter().map(String::as_str)).collect();
        let p = StreamPath::parse(&all)?;
        Some(Target {
            kind: p.kind,
            namespace: p.namespace.to_string(),
            pod: p.pod.to_string(),
            uid: p.uid.unwrap_or_default().to_string(),
            container: p.container.unwrap_or_default().to_string(),
        })
    }

    /// `name_namespace`, as upstream names pods in its messages.
    pub fn pod_full_name(&self) -> String {
        format!("{}_{}", self.pod, self.namespace)
    }
}

/// Which standard streams an exec or attach session carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamFlags {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

impl StreamFlags {
    /// Upstream's `remotecommand.NewOptions`: with a TTY there is no separate stderr, and at
    /// least one stream must be asked for.
    pub fn parse(query: &Query) -> Result<StreamFlags, OptionsError> {
        let on = |key: &str| query.first(key) == Some("1");
        let tty = on("tty");
        let flags =
            StreamFlags { stdin: on("input"), stdout: on("output"), stderr: on("error") && !tty, tty };
        if !flags.stdin && !flags.stdout && !flags.stderr {
            return Err(OptionsError::NoStreams);
        }
        Ok(flags)
    }
}

/// The command of an exec request (`command`, repeated), as given.
pub fn command(query: &Query) -> Vec<String> {
    query.all("command").map(str::to_string).collect()
}

/// The ports of a port-forward request. Only a WebSocket client names them in the query (an
/// SPDY client sends one per stream, inside the session); upstream's `NewV4Options`.
pub fn ports(query: &Query, websocket: bool) -> Result<Vec<i32>, OptionsError> {
    if !websocket {
        return Ok(Vec::new());
    }
    let mut given = query.all("port").peekable();
    if given.peek().is_none() {
        return Err(OptionsError::PortRequired);
    }
    let mut ports = Vec::new();
    for value in given {
        if value.is_empty() {
            return Err(OptionsError::PortEmpty);
        }
        for part in value.split(',') {
            let port = parse_port(part).map_err(|reason| OptionsError::BadPort {
                value: value.to_string(),
                part: part.to_string(),
                reason,
            })?;
            if port == 0 {
                return Err(OptionsError::PortZero { value: value.to_string() });
            }
            ports.push(i32::from(port));
        }
    }
    Ok(ports)
}

/// Go's `strconv.ParseUint(s, 10, 16)`: digits only, no sign.
fn parse_port(s: &str) -> Result<u16, &'static str> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("invalid syntax");
    }
    s.parse::<u16>().map_err(|_| "value out of range")
}

/// A request whose options upstream rejects with 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionsError {
    NoStreams,
    PortRequired,
    PortEmpty,
    /// `part` of the `port` value `value` is not a 16-bit number.
    BadPort {
        value: String,
        part: String,
        reason: &'static str,
    },
    PortZero {
        value: String,
    },
}

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionsError::NoStreams => write!(f, "you must specify at least 1 of stdin, stdout, stderr"),
            OptionsError::PortRequired => write!(f, "query parameter \"port\" is required"),
            OptionsError::PortEmpty => write!(f, "query parameter \"port\" cannot be empty"),
            OptionsError::BadPort { value, part, reason } => {
                write!(
                    f,
                    "unable to parse {value:?} as a port: strconv.ParseUint: parsing {part:?}: {reason}"
                )
            }
            OptionsError::PortZero { value } => write!(f, "port {value:?} must be > 0"),
        }
    }
}

impl std::error::Error for OptionsError {}
