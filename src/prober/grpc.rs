//! gRPC health probes: `grpc.health.v1.Health/Check` over cleartext HTTP/2 (prior knowledge)
//! on a TCP connection, through our own h2 client and gRPC framing.

use std::time::{Duration, Instant};

use super::net::{dial, join_host_port};
use crate::status::reason::go_duration;
use super::run::Verdict;
use crate::grpc::wire::{finish, frame_message, status_for};
use crate::grpc::{Code, Status};
use crate::h2::{Config, Connection, Header, RequestOptions};
use crate::proto::Message;

const CHECK: &str = "/grpc.health.v1.Health/Check";
/// A health response is tiny; anything big is not one.
const MAX_RESPONSE: usize = 64 << 10;

crate::message! {
    pub struct HealthCheckRequest { 1 => service: string }
    pub struct HealthCheckResponse { 1 => status: int32 }
}

/// `HealthCheckResponse.ServingStatus` names.
fn serving_status(n: i32) -> String {
    match n {
        0 => "UNKNOWN".into(),
        1 => "SERVING".into(),
        2 => "NOT_SERVING".into(),
        3 => "SERVICE_UNKNOWN".into(),
        n => n.to_string(),
    }
}

/// Upstream's texts for a failed Check call.
fn rpc_failure(s: &Status, timeout: Duration) -> String {
    match s.code {
        Code::Unimplemented => format!(
            "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): {}",
            s.message
        ),
        Code::DeadlineExceeded => format!("timeout: health rpc did not complete within {}", go_duration(timeout)),
        _ => format!("error: health rpc probe failed: rpc error: code = {} desc = {}", s.code.as_str(), s.message),
    }
}

/// What a Check answer means.
pub(crate) fn judge(reply: Result<Vec<u8>, Status>, timeout: Duration) -> (Verdict, String) {
    let body = match reply {
        Ok(b) => b,
        Err(s) => return (Verdict::Failure, rpc_failure(&s, timeout)),
    };
    match HealthCheckResponse::decode(&body) {
        Ok(r) if r.status == 1 => (Verdict::Success, "service healthy".into()),
        Ok(r) => (Verdict::Failure, format!("service unhealthy (responded with {:?})", serving_status(r.status))),
        Err(e) => (Verdict::Failure, format!("error: health rpc probe failed: {e}")),
    }
}

pub(crate) fn probe(host: &str, port: u16, service: &str, timeout: Duration) -> (Verdict, String) {
    let deadline = Instant::now() + timeout;
    let addr = join_host_port(host, port);
    let sock = match dial(host, port, deadline) {
        Ok(s) => s,
        Err(e) => return (Verdict::Failure, format!("error: failed to connect service at {addr:?}: {e}")),
    };
    let conn = match Connection::start(sock, Config::default()) {
        Ok(c) => c,
        Err(e) => return (Verdict::Failure, format!("error: failed to connect service at {addr:?}: {e}")),
    };
    let request = HealthCheckRequest { service: service.to_string() }.encode_to_vec();
    let reply = frame_message(&request).and_then(|body| {
        let left = deadline.saturating_duration_since(Instant::now());
        let headers = [
            Header::new(":method", "POST"),
            Header::new(":scheme", "http"),
            Header::new(":path", CHECK),
            Header::new(":authority", addr.as_str()),
            Header::new("content-type", "application/grpc"),
            Header::new("te", "trailers"),
            Header::new("grpc-timeout", crate::grpc::wire::encode_timeout(left)),
            Header::new("user-agent", super::http::user_agent()),
        ];
        let opts = RequestOptions { deadline: Some(deadline), max_body: MAX_RESPONSE };
        match conn.request(&headers, &body, &opts) {
            Ok(resp) => finish(resp),
            Err(e) => Err(status_for(&e)),
        }
    });
    judge(reply, timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        let t = Duration::from_secs(1);
        let serving = HealthCheckResponse { status: 1 }.encode_to_vec();
        assert_eq!(judge(Ok(serving), t), (Verdict::Success, "service healthy".into()));
        let not = HealthCheckResponse { status: 2 }.encode_to_vec();
        assert_eq!(judge(Ok(not), t), (Verdict::Failure, "service unhealthy (responded with \"NOT_SERVING\")".into()));
        let unimpl = Status::new(Code::Unimplemented, "unknown service grpc.health.v1.Health");
        assert!(judge(Err(unimpl), t).1.starts_with("error: this server does not implement the grpc health protocol"));
        let late = Status::new(Code::DeadlineExceeded, "");
        assert_eq!(judge(Err(late), t).1, "timeout: health rpc did not complete within 1s");
    }

    #[test]
    fn nobody_listening_fails() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port());
        let Ok(port) = port else { return };
        let (v, msg) = probe("127.0.0.1", port, "", Duration::from_secs(1));
        assert_eq!(v, Verdict::Failure);
        assert!(msg.starts_with("error: failed to connect service at"), "{msg}");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod against_containerd {
    use std::net::{TcpListener, TcpStream};
    use std::os::unix::net::UnixStream;

    use super::*;

    const SOCKET: &str = "/run/rk-containerd/containerd.sock";

    /// Copies bytes both ways between a TCP client and containerd's socket.
    fn bridge(tcp: TcpStream) -> std::io::Result<()> {
        let unix = UnixStream::connect(SOCKET)?;
        let (mut t2, mut u2) = (tcp.try_clone()?, unix.try_clone()?);
        let (mut t, mut u) = (tcp, unix);
        std::thread::spawn(move || std::io::copy(&mut t2, &mut u2));
        std::thread::spawn(move || std::io::copy(&mut u, &mut t));
        Ok(())
    }

    /// containerd serves grpc.health.v1: a real server for the whole path (TCP, h2, framing).
    #[test]
    fn health_check_over_tcp() {
        if UnixStream::connect(SOCKET).is_err() {
            eprintln!("SKIPPED: no containerd at {SOCKET}");
            return;
        }
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let _ = bridge(s);
            }
        });
        let (v, msg) = probe("127.0.0.1", port, "", Duration::from_secs(5));
        assert_eq!((v, msg.as_str()), (Verdict::Success, "service healthy"));
        let (v, msg) = probe("127.0.0.1", port, "no.such.Service", Duration::from_secs(5));
        assert_eq!(v, Verdict::Failure);
        assert!(msg.contains("NotFound") || msg.contains("SERVICE_UNKNOWN"), "{msg}");
    }
}
