//! TCP dialing for HTTP, TCP and gRPC probes, with Go-style error texts (the probe output
//! lands in events, where users compare it with what upstream shows).

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// `host:port`, with brackets around IPv6 addresses (Go's `net.JoinHostPort`).
pub(crate) fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

/// The text Go's dialer gives for a failed connect.
fn dial_error(addr: &str, e: &io::Error) -> String {
    let what = match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => return format!("dial tcp {addr}: i/o timeout"),
        io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
        io::ErrorKind::HostUnreachable => "no route to host".to_string(),
        io::ErrorKind::NetworkUnreachable => "network is unreachable".to_string(),
        _ => e.to_string(),
    };
    format!("dial tcp {addr}: connect: {what}")
}

/// Connects to `host:port` within `deadline`; the error is the probe's output.
pub(crate) fn dial(host: &str, port: u16, deadline: Instant) -> Result<TcpStream, String> {
    let addr = join_host_port(host, port);
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => (host, port).to_socket_addrs().map_err(|e| format!("dial tcp: lookup {host}: {e}"))?.collect(),
    };
    let mut last = format!("dial tcp: lookup {host}: no such host");
    for a in addrs {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("dial tcp {addr}: i/o timeout"));
        }
        match TcpStream::connect_timeout(&a, left) {
            Ok(s) => return Ok(s),
            Err(e) => last = dial_error(&a.to_string(), &e),
        }
    }
    Err(last)
}

/// The probe's timeout (timeoutSeconds, at least one second as the API defaults it).
pub(crate) fn timeout(seconds: Option<i32>) -> Duration {
    Duration::from_secs(u64::try_from(seconds.unwrap_or(1).max(1)).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        assert_eq!(join_host_port("10.0.0.1", 80), "10.0.0.1:80");
        assert_eq!(join_host_port("fd00::1", 80), "[fd00::1]:80");
        assert_eq!(timeout(None), Duration::from_secs(1));
        assert_eq!(timeout(Some(0)), Duration::from_secs(1));
        assert_eq!(timeout(Some(5)), Duration::from_secs(5));
    }

    #[test]
    fn refused_reads_like_go() {
        // A port nobody listens on: bind, learn the port, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port());
        let Ok(port) = port else { return };
        let err = dial("127.0.0.1", port, Instant::now() + Duration::from_secs(1)).err();
        assert_eq!(err, Some(format!("dial tcp 127.0.0.1:{port}: connect: connection refused")));
    }
}
