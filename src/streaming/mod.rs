//! `kubectl exec`, `attach` and `port-forward` through the kubelet: the `/exec`, `/attach` and
//! `/portForward` endpoints of the kubelet server.
//!
//! The kubelet asks the runtime for a streaming URL (CRI `Exec`, `Attach`, `PortForward`) on the
//! runtime's own streaming server (loopback only) and proxies the client's upgraded connection
//! there, as upstream's upgrade-aware proxy does; only the WebSockets the runtime may not speak
//! (below) are translated instead:
//!
//! ```text
//!   API server ──TLS──► kubelet :10250 ──plain HTTP, loopback──► runtime streaming server
//!      request head ─► [options] ─► [pod lookup] ─► CRI Exec/Attach/PortForward ─► URL
//!                                                                                  │
//!      ◄── 101 Switching Protocols (the runtime's own head) ◄── proxy_upgrade ◄───┘
//!      ◄══════════════ bytes both ways until the runtime closes or idle ══════════►
//! ```
//!
//! | module | what |
//! | --- | --- |
//! | [`options`] | the path's pod and container, the query's stream flags, command and ports |
//! | [`head`] | the client's request head, the request to the runtime, the runtime's answer |
//! | [`runtime`] | pod and container lookup and the CRI calls ([`StreamingRuntime`]) |
//! | [`proxy`] | [`proxy_upgrade`]: connect, hand over the upgrade, then relay |
//! | [`relay`] | the byte copy both ways on one thread, half-close, idle timeout |
//! | [`translate`] | v5 WebSocket exec/attach to the runtime's SPDY streams |
//! | [`tunnel`] | port-forward's SPDY inside WebSocket messages, unwrapped for the runtime |
//! | [`websocket`], [`spdy`] | the framing of each (server side, client side) |
//! | [`error`] | [`StreamError`]: upstream's status codes and texts |
//! | [`server_adapter`] | [`Streaming`]: the kubelet server's streaming handler |
//!
//! The kubelet server authenticates and authorises the request, reads its head, and hands the
//! raw connection to [`Handler::serve`], which writes every byte of the response itself.
//!
//! WebSockets (feature `ExtendWebSocketsToKubelet`, on by default; the node declares it, so
//! the API server forwards WebSockets to us unchanged):
//! - exec/attach with `v5.channel.k8s.io` (kubectl's) are translated to the runtime's SPDY
//!   ([`translate`]), since the runtime's streaming server may not know v5 (containerd 1.6.20
//!   refuses it with 403); v5 adds the client's "close channel" (stdin EOF);
//! - port-forward with `SPDY/3.1+portforward.k8s.io` carries SPDY inside WebSocket messages:
//!   we unwrap it for the runtime's SPDY server ([`tunnel`]);
//! - the older subprotocols (`channel.k8s.io`, `base64.channel.k8s.io`, v4; the conformance
//!   spec "remote command execution over websockets" uses `channel.k8s.io`) pass through to
//!   the runtime as they came, like SPDY: its streaming server speaks them itself.
//!
//! With the gate off, every WebSocket passes through unchanged and the node does not declare
//! the feature, so the API server translates kubectl's itself.

pub mod error;
pub mod head;
pub mod options;
pub mod proxy;
pub mod relay;
pub mod runtime;
pub mod server_adapter;
mod session;
pub mod spdy;
pub mod translate;
pub mod tunnel;
pub mod websocket;

#[cfg(test)]
mod options_tests;
#[cfg(test)]
mod proxy_tests;
#[cfg(test)]
mod runtime_tests;

pub use error::StreamError;
pub use head::RequestHead;
pub use options::Target;
pub use proxy::{Proxied, ProxyConfig, proxy_upgrade};
pub use relay::{Conn, RelayEnd, RelayStats};
pub use runtime::{RuntimePod, RuntimeStream, StreamingRuntime, runtime_stream};
pub use server_adapter::Streaming;

use crate::api::core::Pod;

/// Whether the kubelet translates WebSocket streams (exec/attach `v5.channel.k8s.io`,
/// port-forward's SPDY tunnel) to the runtime's SPDY, i.e. may declare the node feature
/// `ExtendWebSocketsToKubelet` (when its gate is on, as upstream).
pub const TRANSLATES_WEBSOCKETS: bool = true;

/// Which streaming endpoint a request is for: the server's, whose routes parse the same paths.
pub use crate::server::streaming_api::StreamKind;

/// How a request was answered, for the server's log and metrics.
#[derive(Debug)]
pub enum Served {
    /// An error response was sent (or the client was gone before it could be).
    Failed(StreamError),
    Proxied(Proxied),
}

impl Served {
    /// The status code the client got (101 for a session).
    pub fn status(&self) -> u16 {
        match self {
            Served::Failed(e) => e.status(),
            Served::Proxied(Proxied::Upgraded(_)) => 101,
            Served::Proxied(Proxied::Refused { status }) => *status,
            Served::Proxied(Proxied::ClientGone(_)) => 0,
        }
    }
}

/// Everything the streaming endpoints need besides the pod: the runtime and the proxy's timeouts.
pub struct Handler<R> {
    pub runtime: R,
    pub proxy: ProxyConfig,
    /// Translate v5 WebSockets and port-forward's SPDY tunnel ourselves (the feature gate
    /// `ExtendWebSocketsToKubelet`); off: they go to the runtime as they came.
    pub translate_websockets: bool,
}

impl<R: StreamingRuntime> Handler<R> {
    /// Answers one `/exec`, `/attach` or `/portForward` request whose head was read from
    /// `client`, for `pod`: the pod the kubelet knows under the path's namespace and name
    /// (upstream: the pod manager's `GetPodByName`; `None`: 404). Writes the whole response
    /// (an error, the runtime's refusal, or the switched session) and returns when it is over.
    /// The caller closes the connection after.
    pub fn serve(&self, head: &RequestHead, pod: Option<&Pod>, client: &mut dyn Conn) -> Served {
        let outcome = Target::parse(head.path())
            .ok_or_else(|| StreamError::NotFound { path: head.path().to_string() })
            .and_then(|target| {
                let stream = runtime_stream(&target, head, pod, &self.runtime)?;
                let url = &stream.url;
                log::debug!("{} {}: runtime stream at {url}", target.kind.as_str(), target.pod_full_name());
                match stream.flags {
                    Some(flags) if self.translate_websockets && translate::wants_translation(head) => {
                        translate::translate(client, head, url, flags, &self.proxy)
                    }
                    None if self.translate_websockets && head.is_websocket_tunneling() => {
                        tunnel::tunnel(client, head, url, &self.proxy)
                    }
                    _ => proxy_upgrade(client, head, url, &self.proxy),
                }
            });
        match outcome {
            Ok(proxied) => Served::Proxied(proxied),
            Err(e) => {
                if e.status() >= 500 {
                    log::warn!("{} {}: {e}", head.method, head.path());
                }
                let _ = client.write_all(&e.response()).and_then(|()| client.flush());
                Served::Failed(e)
            }
        }
    }
}
