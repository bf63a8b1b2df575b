//! The error of a CRI call: which call, and what went wrong.

use std::fmt;

use crate::grpc::{Code, Status};
use crate::proto::DecodeError;

/// A failed CRI call. `method` is the RPC name, e.g. `ContainerStatus`.
#[derive(Debug, Clone, PartialEq)]
pub enum CriError {
    /// The runtime (or the transport, as `Unavailable`/`DeadlineExceeded`) answered with a
    /// non-OK gRPC status.
    Rpc { method: &'static str, status: Status },
    /// The runtime's answer is not a valid protobuf message of the expected type.
    Decode { method: &'static str, error: DecodeError },
    /// The answer decoded, but lacks something every runtime must set (the checks upstream's
    /// CRI client makes, e.g. an empty sandbox id from RunPodSandbox).
    InvalidResponse { method: &'static str, reason: String },
}

impl CriError {
    /// The RPC that failed, e.g. `RunPodSandbox`.
    pub fn method(&self) -> &'static str {
        match self {
            CriError::Rpc { method, .. }
            | CriError::Decode { method, .. }
            | CriError::InvalidResponse { method, .. } => method,
        }
    }

    /// The gRPC code; a response we cannot use counts as `Internal`, as gRPC clients report
    /// undecodable messages.
    pub fn code(&self) -> Code {
        match self {
            CriError::Rpc { status, .. } => status.code,
            CriError::Decode { .. } | CriError::InvalidResponse { .. } => Code::Internal,
        }
    }

    /// The runtime's status, when there was one.
    pub fn status(&self) -> Option<&Status> {
        match self {
            CriError::Rpc { status, .. } => Some(status),
            _ => None,
        }
    }

    /// The sandbox, container or image does not exist (often fine when removing).
    pub fn is_not_found(&self) -> bool {
        self.code() == Code::NotFound
    }

    /// The runtime is down or restarting; retry later.
    pub fn is_unavailable(&self) -> bool {
        self.code() == Code::Unavailable
    }

    pub fn is_deadline_exceeded(&self) -> bool {
        self.code() == Code::DeadlineExceeded
    }

    /// The runtime does not implement this RPC (e.g. an older runtime and a newer call).
    pub fn is_unimplemented(&self) -> bool {
        self.code() == Code::Unimplemented
    }
}

impl fmt::Display for CriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CriError::Rpc { method, status } => write!(f, "CRI {method}: {status}"),
            CriError::Decode { method, error } => write!(f, "CRI {method}: undecodable response: {error}"),
            CriError::InvalidResponse { method, reason } => write!(f, "CRI {method}: invalid response: {reason}"),
        }
    }
}

impl std::error::Error for CriError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CriError::Rpc { status, .. } => Some(status),
            CriError::Decode { error, .. } => Some(error),
            CriError::InvalidResponse { .. } => None,
        }
    }
}
