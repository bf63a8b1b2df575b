//! From a runtime endpoint to a [`Client`]: the only place that picks the transport, so
//! `client.rs` stays transport-agnostic.
//!
//! Only unix sockets are supported (`unix:///path` or a plain path), as on every Linux node;
//! `tcp://` and `npipe://` endpoints are refused with an error naming the endpoint.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{Client, CriError, VersionRequest};
use crate::grpc::{Channel, EndpointError};

/// The CRI API version rkubelet speaks.
pub const CRI_API_VERSION: &str = "v1";

/// Why [`connect`] or [`open`] could not give a working client.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectError {
    /// The endpoint is not a unix socket.
    Endpoint(EndpointError),
    /// The runtime did not answer `Version` (not running, wrong socket, timeout).
    Runtime { endpoint: String, error: CriError },
    /// The runtime answered but speaks another CRI version.
    UnsupportedApi { endpoint: String, runtime: String, api_version: String },
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Endpoint(e) => e.fmt(f),
            ConnectError::Runtime { endpoint, error } => {
                write!(f, "container runtime at {endpoint} is not reachable: {error}")
            }
            ConnectError::UnsupportedApi { endpoint, runtime, api_version } => write!(
                f,
                "container runtime {runtime:?} at {endpoint} speaks CRI {api_version:?}, \
                 rkubelet needs {CRI_API_VERSION:?}"
            ),
        }
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnectError::Endpoint(e) => Some(e),
            ConnectError::Runtime { error, .. } => Some(error),
            ConnectError::UnsupportedApi { .. } => None,
        }
    }
}

impl From<EndpointError> for ConnectError {
    fn from(e: EndpointError) -> ConnectError {
        ConnectError::Endpoint(e)
    }
}

/// A client for `endpoint` without touching the socket: the connection is made by the first
/// call (and made again after the runtime restarts).
pub fn open(endpoint: &str, request_timeout: Duration) -> Result<Client, ConnectError> {
    let channel = Channel::new(endpoint)?;
    Ok(Client::new(Arc::new(channel)).with_request_timeout(request_timeout))
}

/// A client for `endpoint`, checked as upstream's kubelet checks it at start: the runtime
/// answers `Version` and speaks CRI v1.
pub fn connect(endpoint: &str, request_timeout: Duration) -> Result<Client, ConnectError> {
    let client = open(endpoint, request_timeout)?;
    let request = VersionRequest { version: CRI_API_VERSION.to_string() };
    let version = client
        .version(&request)
        .map_err(|error| ConnectError::Runtime { endpoint: endpoint.to_string(), error })?;
    if version.runtime_api_version != CRI_API_VERSION {
        return Err(ConnectError::UnsupportedApi {
            endpoint: endpoint.to_string(),
            runtime: version.runtime_name,
            api_version: version.runtime_api_version,
        });
    }
    log::debug!("CRI runtime {} {} at {endpoint}", version.runtime_name, version.runtime_version);
    Ok(client)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::grpc::Code;

    #[test]
    fn only_unix_endpoints() {
        for bad in ["tcp://127.0.0.1:1234", "npipe:////./pipe/containerd", "unix://", ""] {
            let e = open(bad, Duration::from_secs(1)).unwrap_err();
            assert!(matches!(e, ConnectError::Endpoint(_)), "{bad}: {e:?}");
            assert!(e.to_string().contains("unix:///path"), "{e}");
        }
        assert!(open("unix:///run/x.sock", Duration::from_secs(1)).is_ok());
        assert!(open("/run/x.sock", Duration::from_secs(1)).is_ok());
    }

    #[test]
    fn open_keeps_the_timeout() {
        let c = open("/run/x.sock", Duration::from_secs(7)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.request_timeout(), Duration::from_secs(7));
    }

    #[test]
    fn connect_to_a_missing_socket_names_the_endpoint() {
        let endpoint = "unix:///nonexistent/rk-connect-test.sock";
        let e = connect(endpoint, Duration::from_secs(1)).unwrap_err();
        let ConnectError::Runtime { error, .. } = &e else { panic!("{e:?}") };
        assert_eq!(error.code(), Code::Unavailable);
        assert!(e.to_string().contains(endpoint), "{e}");
    }
}
