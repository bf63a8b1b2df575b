//! Why a streaming request got an error response, with upstream's status codes and texts.

use std::fmt;
use std::io;

use super::head::UrlError;
use super::options::OptionsError;
use crate::cri::CriError;
use crate::grpc::Code;

/// An `/exec`, `/attach` or `/portForward` request that ends in an error response. The
/// `Display` text is the response body upstream sends.
#[derive(Debug)]
pub enum StreamError {
    /// Not a streaming route (the router should not have sent it): 404.
    NotFound { path: String },
    /// Bad stream flags or ports: 400.
    Options(OptionsError),
    /// The kubelet does not know the pod: 404.
    PodUnknown { namespace: String, name: String },
    /// Port-forward with a UID in the path that is not the pod's: 404.
    PortForwardUidMismatch { pod: String, uid: String },
    /// Attach with a UID in the path that is not the pod's: 500, as upstream.
    AttachUidMismatch { pod: String, uid: String },
    /// Exec: no running container of that name: 500, as upstream.
    ExecContainerNotRunning { pod: String, container: String },
    /// Attach: no running container, or none of that name in the spec: 500.
    AttachContainerNotFound { pod: String, container: String },
    /// Port-forward: the runtime runs nothing of the pod: 500.
    PodNotRunning { pod: String },
    /// Port-forward: the runtime has no sandbox for the pod: 500.
    NoSandbox { pod: String, uid: String },
    /// A CRI call failed: 404 for NotFound, 429 for ResourceExhausted, else 500.
    Runtime(CriError),
    /// The client did not ask for an upgrade: 500 (upstream's responder turns the
    /// proxy's 400 into 500).
    UpgradeRequired,
    /// The runtime's streaming URL is not one we can reach: 500.
    Url(UrlError),
    /// Connecting to the runtime's streaming server failed: 500.
    Dial { addr: String, error: io::Error },
    /// Sending the request to the runtime failed: 500.
    Send(io::Error),
    /// The runtime's answer was not an HTTP response head: 500.
    BadResponse { reason: String },
    /// The runtime answered with neither 101 nor an error status: 500.
    NotUpgraded { status: u16 },
    /// A WebSocket to translate whose handshake we cannot answer (no key, another version): 400.
    WebSocketHandshake { reason: &'static str },
    /// Opening the runtime's SPDY streams for a translated session failed: 500.
    SpdySetup { reason: String },
}

/// How long a client should wait after ResourceExhausted: the runtime's request cache TTL.
const RETRY_AFTER_SECONDS: u32 = 60;

impl StreamError {
    /// The status code of the response.
    pub fn status(&self) -> u16 {
        match self {
            StreamError::NotFound { .. }
            | StreamError::PodUnknown { .. }
            | StreamError::PortForwardUidMismatch { .. } => 404,
            StreamError::Options(_) | StreamError::WebSocketHandshake { .. } => 400,
            StreamError::Runtime(e) => match e.code() {
                Code::NotFound => 404,
                Code::ResourceExhausted => 429,
                _ => 500,
            },
            _ => 500,
        }
    }

    /// `Retry-After` seconds, for a runtime that is out of streaming slots.
    pub fn retry_after(&self) -> Option<u32> {
        (self.status() == 429).then_some(RETRY_AFTER_SECONDS)
    }

    /// The whole error response (upstream's `http.Error` adds a newline after proxy errors).
    pub fn response(&self) -> Vec<u8> {
        let extra: Vec<(&str, String)> =
            self.retry_after().map(|s| ("Retry-After", s.to_string())).into_iter().collect();
        let newline = if self.is_proxy_error() { "\n" } else { "" };
        super::head::error_response(self.status(), &format!("{self}{newline}"), &extra)
    }

    fn is_proxy_error(&self) -> bool {
        matches!(
            self,
            StreamError::UpgradeRequired
                | StreamError::Url(_)
                | StreamError::Dial { .. }
                | StreamError::Send(_)
                | StreamError::BadResponse { .. }
                | StreamError::NotUpgraded { .. }
                | StreamError::SpdySetup { .. }
        )
    }
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::NotFound { .. } => write!(f, "404: Page Not Found"),
            StreamError::Options(e) => write!(f, "{e}"),
            StreamError::PodUnknown { .. } => write!(f, "pod does not exist"),
            StreamError::PortForwardUidMismatch { .. } => write!(f, "pod not found"),
            StreamError::AttachUidMismatch { pod, .. } => write!(f, "pod {pod} not found"),
            StreamError::ExecContainerNotRunning { container, .. } => {
                write!(f, "container not found ({container:?})")
            }
            StreamError::AttachContainerNotFound { pod, container } => {
                write!(f, "container {container} not found in pod {pod}")
            }
            StreamError::PodNotRunning { pod } => write!(f, "pod not found ({pod:?})"),
            StreamError::NoSandbox { pod, uid } => write!(f, "failed to find sandboxID for pod {pod}({uid})"),
            // Upstream sends the gRPC error's own text.
            StreamError::Runtime(CriError::Rpc { status, .. }) => write!(f, "{status}"),
            StreamError::Runtime(e) => write!(f, "{e}"),
            StreamError::UpgradeRequired => write!(f, "Upgrade request required"),
            StreamError::Url(e) => write!(f, "{e}"),
            StreamError::Dial { addr, error } => write!(f, "error dialing backend: dial tcp {addr}: {error}"),
            StreamError::Send(e) => write!(f, "error sending request: {e}"),
            StreamError::BadResponse { reason } => write!(f, "{reason}"),
            StreamError::NotUpgraded { status } => {
                write!(f, "invalid upgrade response: status code {status}")
            }
            StreamError::WebSocketHandshake { reason } => write!(f, "websocket handshake: {reason}"),
            StreamError::SpdySetup { reason } => write!(f, "error creating runtime streams: {reason}"),
        }
    }
}

impl std::error::Error for StreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StreamError::Options(e) => Some(e),
            StreamError::Runtime(e) => Some(e),
            StreamError::Url(e) => Some(e),
            StreamError::Dial { error, .. } | StreamError::Send(error) => Some(error),
            _ => None,
        }
    }
}

impl From<OptionsError> for StreamError {
    fn from(e: OptionsError) -> StreamError {
        StreamError::Options(e)
    }
}

impl From<CriError> for StreamError {
    fn from(e: CriError) -> StreamError {
        StreamError::Runtime(e)
    }
}
