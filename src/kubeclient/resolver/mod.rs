//! Host-name resolution without NSS, for a statically linked binary.
//!
//! A static glibc binary cannot load NSS modules, so `getaddrinfo` is not an option. The
//! order here is what a plain `hosts: files dns` setup gives:
//!
//! 1. IP literals (`10.0.0.1`, `[fd00::1]`) are used as they are;
//! 2. `/etc/hosts`, read on every lookup (lookups happen only when a new connection is made);
//! 3. `localhost` and its subdomains map to loopback, as Go's resolver does, if the hosts file
//!    does not say otherwise;
//! 4. a DNS query (A and AAAA over UDP) to the `nameserver`s of `/etc/resolv.conf`, trying the
//!    `search` domains as `ndots` says, each server for `timeout` seconds, `attempts` rounds.
//!
//! IPv4 addresses come first: edge nodes often have an IPv6 address family without a route,
//! and ureq moves on to the next address when a connect fails. Truncated UDP answers are
//! used as far as they go (no TCP retry): an address record set for one name fits easily.

mod dns;
mod sys;

pub use dns::{DnsError, QType, Response, decode_response, encode_query};
pub use sys::{HostsFile, ResolvConf};

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Why a name did not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// No source knew the name (hosts file, then every search candidate in DNS).
    NotFound { host: String },
    /// The name servers did not answer in time.
    Timeout { host: String },
    /// A name server could not be reached, or answered with garbage or a server failure.
    Dns { host: String, detail: String },
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::NotFound { host } => write!(f, "resolving {host:?}: no such host"),
            ResolveError::Timeout { host } => write!(f, "resolving {host:?}: timed out"),
            ResolveError::Dns { host, detail } => write!(f, "resolving {host:?}: {detail}"),
        }
    }
}

impl std::error::Error for ResolveError {}

/// Our resolver, for ureq and for anything else that must find the API server.
#[derive(Debug, Clone)]
pub struct HostResolver {
    hosts_path: PathBuf,
    resolv_conf_path: PathBuf,
}

impl Default for HostResolver {
    fn default() -> Self {
        HostResolver::with_files("/etc/hosts", "/etc/resolv.conf")
    }
}

impl HostResolver {
    /// A resolver reading other files than `/etc/hosts` and `/etc/resolv.conf` (tests).
    pub fn with_files(hosts: impl Into<PathBuf>, resolv_conf: impl Into<PathBuf>) -> Self {
        HostResolver { hosts_path: hosts.into(), resolv_conf_path: resolv_conf.into() }
    }

    /// Resolves `host` (a name, or an IP literal, brackets allowed) within `budget`.
    pub fn lookup(&self, host: &str, budget: Option<Duration>) -> Result<Vec<IpAddr>, ResolveError> {
        let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return Ok(vec![ip]);
        }
        // A missing or unreadable hosts file is not an error: DNS may still know the name.
        let hosts = std::fs::read_to_string(&self.hosts_path).unwrap_or_default();
        let found = HostsFile::parse(&hosts).lookup(bare);
        if !found.is_empty() {
            return Ok(v4_first(found));
        }
        if is_localhost(bare) {
            return Ok(vec![IpAddr::from([127, 0, 0, 1]), IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])]);
        }
        let conf_text = std::fs::read_to_string(&self.resolv_conf_path).unwrap_or_default();
        let conf = ResolvConf::parse(&conf_text);
        let deadline = budget.map(|b| Instant::now() + b);
        sys::query_dns(&conf, bare, deadline).map(v4_first)
    }
}

fn is_localhost(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

fn v4_first(mut addrs: Vec<IpAddr>) -> Vec<IpAddr> {
    addrs.sort_by_key(|ip| ip.is_ipv6()); // stable: keeps each family's order
    addrs.dedup();
    addrs
}

impl Resolver for HostResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().ok_or_else(|| ureq::Error::BadUri(format!("no host in {uri}")))?;
        let port = match (uri.port_u16(), uri.scheme_str()) {
            (Some(port), _) => port,
            (None, Some("https")) => 443,
            (None, Some("http")) => 80,
            (None, _) => return Err(ureq::Error::BadUri(format!("no port for {uri}"))),
        };
        let budget = if timeout.after.is_not_happening() { None } else { Some(*timeout.after) };
        let addrs = self.lookup(host, budget).map_err(|e| {
            log::debug!("{e}");
            match e {
                ResolveError::Timeout { .. } => ureq::Error::Timeout(ureq::Timeout::Resolve),
                ResolveError::NotFound { .. } => ureq::Error::HostNotFound,
                ResolveError::Dns { .. } => ureq::Error::Io(std::io::Error::other(e.to_string())),
            }
        })?;
        let mut out = self.empty();
        for ip in addrs {
            if out.try_push(SocketAddr::new(ip, port)).is_err() {
                break; // ureq keeps at most 16 addresses
            }
        }
        if out.is_empty() { Err(ureq::Error::HostNotFound) } else { Ok(out) }
    }
}

#[cfg(test)]
mod tests;
