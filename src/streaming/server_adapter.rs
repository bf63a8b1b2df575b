//! The streaming proxy behind the kubelet API server: [`Streaming`] implements the server's
//! [`StreamingHandler`] seam with [`Handler::serve`].
//!
//! The server has authenticated, authorised and routed the request, and found the pod; it
//! hands over the connection positioned after the request head. We rebuild the head the
//! proxy forwards, and pair the (possibly TLS) stream with its socket so the relay can poll it.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use super::head::RequestHead;
use super::proxy::ProxyConfig;
use super::runtime::StreamingRuntime;
use super::{Handler, Served};
use crate::server::http::Request;
use crate::server::streaming_api::{ReadWrite, StreamKind, StreamParams, StreamingHandler, Upgraded};

/// The kubelet server's streaming handler: the proxy to the runtime's streaming server.
pub struct Streaming<R> {
    handler: Handler<R>,
}

impl<R: StreamingRuntime> Streaming<R> {
    /// `idle_timeout` is `streamingConnectionIdleTimeout` (`None` or zero: no limit).
    pub fn new(runtime: R, idle_timeout: Option<Duration>) -> Streaming<R> {
        let proxy =
            ProxyConfig { idle_timeout: idle_timeout.filter(|d| !d.is_zero()), ..ProxyConfig::default() };
        Streaming { handler: Handler { runtime, proxy } }
    }
}

/// The head the proxy forwards: the request as the client sent it.
pub fn request_head(req: &Request, peer: Option<std::net::IpAddr>) -> RequestHead {
    RequestHead {
        method: req.head.method.clone(),
        target: req.head.target.clone(),
        headers: req.head.headers.clone(),
        peer,
    }
}

/// An upgraded connection as the relay wants it: read and write through the stream (TLS or
/// plain), poll and set flags on the socket under it.
struct ClientConn {
    stream: Box<dyn ReadWrite>,
    socket: TcpStream,
}

impl Read for ClientConn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.read(buf)
    }
}

impl Write for ClientConn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl AsFd for ClientConn {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl<R: StreamingRuntime> StreamingHandler for Streaming<R> {
    fn handle(&self, req: &Request, kind: StreamKind, params: StreamParams, conn: Upgraded) {
        let peer = conn.socket.peer_addr().ok().map(|a| a.ip());
        let head = request_head(req, peer);
        let mut client = ClientConn { stream: conn.stream, socket: conn.socket };
        // The server's socket timeouts stay: they bound writing an error to a slow client, and
        // the relay works non-blocking.
        let served = self.handler.serve(&head, Some(&params.pod), &mut client);
        let pod = format!("{}/{}", params.namespace, params.pod_name);
        match &served {
            Served::Proxied(super::Proxied::Upgraded(stats)) => log::debug!(
                "{} {pod} ({}): session over after {} bytes up, {} down: {}",
                kind.as_str(),
                head.header("Upgrade").unwrap_or_default(),
                stats.up,
                stats.down,
                stats.end
            ),
            other => log::debug!(
                "{} {pod} ({} {}): answered {}",
                kind.as_str(),
                head.header("Upgrade").unwrap_or_default(),
                head.header("Sec-WebSocket-Protocol").unwrap_or_default(),
                other.status()
            ),
        }
        // Whatever TLS still holds, within the write timeout; then the end of the connection.
        let _ = client.flush();
        let _ = client.socket.shutdown(std::net::Shutdown::Both);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn head_keeps_the_raw_target_and_headers() {
        let mut req = Request::get("/exec/ns/p/c?command=echo&command=a%20b&output=1");
        req.head.headers.push(("Upgrade".into(), "SPDY/3.1".into()));
        let head = request_head(&req, Some("10.0.0.1".parse().unwrap()));
        assert_eq!(head.target, "/exec/ns/p/c?command=echo&command=a%20b&output=1");
        assert_eq!(head.query(), "command=echo&command=a%20b&output=1");
        assert_eq!(head.header("upgrade"), Some("SPDY/3.1"));
        assert_eq!(head.method, "GET");
    }

    struct NoRuntime;
    impl StreamingRuntime for NoRuntime {
        fn runtime_pod(&self, _: &str) -> Result<super::super::RuntimePod, crate::cri::CriError> {
            Ok(Default::default())
        }
        fn exec(&self, _: &crate::cri::ExecRequest) -> Result<String, crate::cri::CriError> {
            Ok(String::new())
        }
        fn attach(&self, _: &crate::cri::AttachRequest) -> Result<String, crate::cri::CriError> {
            Ok(String::new())
        }
        fn port_forward(&self, _: &crate::cri::PortForwardRequest) -> Result<String, crate::cri::CriError> {
            Ok(String::new())
        }
    }

    #[test]
    fn zero_idle_timeout_means_no_limit() {
        assert_eq!(Streaming::new(NoRuntime, Some(Duration::ZERO)).handler.proxy.idle_timeout, None);
        let s = Streaming::new(NoRuntime, Some(Duration::from_secs(5)));
        assert_eq!(s.handler.proxy.idle_timeout, Some(Duration::from_secs(5)));
    }

    #[test]
    fn errors_reach_the_client_through_the_handed_over_connection() {
        use std::io::Read as _;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server_side, _) = listener.accept().unwrap();
        let conn = Upgraded { stream: Box::new(server_side.try_clone().unwrap()), socket: server_side };
        let mut req = Request::get("/exec/ns/p/c?command=true&output=1");
        req.head.headers.push(("Connection".into(), "Upgrade".into()));
        req.head.headers.push(("Upgrade".into(), "SPDY/3.1".into()));
        let mut pod = crate::api::core::Pod::default();
        pod.metadata.uid = Some("u1".into());
        let params = StreamParams {
            namespace: "ns".into(),
            pod_name: "p".into(),
            uid: None,
            container: Some("c".into()),
            command: vec!["true".into()],
            pod,
        };
        Streaming::new(NoRuntime, None).handle(&req, StreamKind::Exec, params, conn);
        let mut answer = String::new();
        client.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 500 "), "{answer}");
        assert!(answer.ends_with("container not found (\"c\")"), "{answer}");
    }
}
