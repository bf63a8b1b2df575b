//! The node's name and IP addresses, decided once at start.
//!
//! Name: `--hostname-override`, else the kernel's host name, lowercased (as upstream).
//! IPs: `--node-ip` (one address, or an IPv4 and an IPv6 separated by a comma), else the
//! address the kernel would use to reach the outside (the default route's source), else the
//! first non-loopback, non-link-local address of an interface that is up.

use std::net::{IpAddr, UdpSocket};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    pub name: String,
    /// Primary first.
    pub ips: Vec<IpAddr>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityError {
    NoHostname(String),
    BadNodeIp { value: String, reason: String },
}

impl std::fmt::Display for IdentityError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdentityError::NoHostname(e) => write!(f, "cannot read the host name (use --hostname-override): {e}"),
            IdentityError::BadNodeIp { value, reason } => write!(f, "--node-ip={value:?}: {reason}"),
        }
    }
}

impl std::error::Error for IdentityError {}

pub fn detect(hostname_override: Option<&str>, node_ip: Option<&str>) -> Result<NodeIdentity, IdentityError> {
    let name = match hostname_override.map(str::trim).filter(|s| !s.is_empty()) {
        Some(n) => n.to_lowercase(),
        None => nix::unistd::gethostname()
            .map_err(|e| IdentityError::NoHostname(e.to_string()))?
            .to_string_lossy()
            .trim()
            .to_lowercase(),
    };
    if name.is_empty() {
        return Err(IdentityError::NoHostname("the host name is empty".into()));
    }
    let ips = match node_ip.map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) => parse_node_ips(v)?,
        None => detect_ips(),
    };
    Ok(NodeIdentity { name, ips })
}

/// `--node-ip`: one IP, or two of different families, comma-separated.
pub fn parse_node_ips(value: &str) -> Result<Vec<IpAddr>, IdentityError> {
    let bad = |reason: &str| IdentityError::BadNodeIp { value: value.to_string(), reason: reason.to_string() };
    let ips = value
        .split(',')
        .map(|s| s.trim().parse::<IpAddr>().map_err(|_| bad("not an IP address")))
        .collect::<Result<Vec<_>, _>>()?;
    match ips.as_slice() {
        [_] => Ok(ips),
        [a, b] if a.is_ipv4() != b.is_ipv4() => Ok(ips),
        [_, _] => Err(bad("two addresses must be one IPv4 and one IPv6")),
        _ => Err(bad("at most two addresses")),
    }
}

fn detect_ips() -> Vec<IpAddr> {
    if let Some(ip) = default_route_source() {
        return vec![ip];
    }
    first_interface_address().into_iter().collect()
}

/// The source address of the default route: connect a UDP socket (no packet is sent).
fn default_route_source() -> Option<IpAddr> {
    let sock = UdpSocket::bind("0.0.0.0:0").ok()?;
    // A documentation address (RFC 5737): only the route lookup matters.
    sock.connect("203.0.113.1:9").ok()?;
    let ip = sock.local_addr().ok()?.ip();
    usable(&ip).then_some(ip)
}

fn usable(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !v4.is_loopback() && !v4.is_link_local() && !v4.is_unspecified(),
        IpAddr::V6(v6) => !v6.is_loopback() && !v6.is_unspecified() && (v6.segments()[0] & 0xffc0) != 0xfe80,
    }
}

fn first_interface_address() -> Option<IpAddr> {
    let addrs = nix::ifaddrs::getifaddrs().ok()?;
    let mut v6 = None;
    for a in addrs {
        if !a.flags.contains(nix::net::if_::InterfaceFlags::IFF_UP) {
            continue;
        }
        let Some(addr) = a.address else { continue };
        if let Some(sin) = addr.as_sockaddr_in() {
            let ip = IpAddr::V4(sin.ip());
            if usable(&ip) {
                return Some(ip);
            }
        } else if let Some(sin6) = addr.as_sockaddr_in6() {
            let ip = IpAddr::V6(sin6.ip());
            if usable(&ip) && v6.is_none() {
                v6 = Some(ip);
            }
        }
    }
    v6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ip_forms() {
        assert_eq!(parse_node_ips("10.0.0.1").map(|v| v.len()), Ok(1));
        assert_eq!(parse_node_ips("10.0.0.1,fd00::1").map(|v| v.len()), Ok(2));
        assert!(parse_node_ips("10.0.0.1,10.0.0.2").is_err());
        assert!(parse_node_ips("nope").is_err());
    }

    #[test]
    fn override_is_lowercased() {
        let id = detect(Some("Edge-Node-1"), Some("10.1.2.3"));
        assert_eq!(id.map(|i| i.name), Ok("edge-node-1".to_string()));
    }
}
