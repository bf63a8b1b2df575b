//! The error of a runtime operation: which object, which step, and the cause.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::build_error::BuildError;
use crate::cri::CriError;

/// A runtime operation (inspect, sync, kill, remove) that failed.
#[derive(Debug)]
pub enum RuntimeError {
    /// A CRI call failed; `what` names the object, e.g. `pod web_default(1234)` or
    /// `container 4f2a...`.
    Cri { what: String, error: CriError },
    /// A host file or directory could not be created, written or read.
    Io { op: &'static str, path: PathBuf, error: io::Error },
    /// The sandbox config of a pod could not be built.
    Build { pod: String, error: BuildError },
    /// Stopping some of a pod's containers or sandboxes failed; one line per failure.
    Kill { pod: String, failures: Vec<String> },
    /// A thread could not be started.
    Spawn { name: &'static str, error: io::Error },
}

impl RuntimeError {
    pub(crate) fn cri(what: impl Into<String>, error: CriError) -> RuntimeError {
        RuntimeError::Cri { what: what.into(), error }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, error: io::Error) -> RuntimeError {
        RuntimeError::Io { op, path: path.into(), error }
    }

    /// The CRI error underneath, if this is one.
    pub fn cri_error(&self) -> Option<&CriError> {
        match self {
            RuntimeError::Cri { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::Cri { what, error } => write!(f, "{what}: {error}"),
            RuntimeError::Io { op, path, error } => write!(f, "{op} {}: {error}", path.display()),
            RuntimeError::Build { pod, error } => write!(f, "pod {pod}: {error}"),
            RuntimeError::Kill { pod, failures } => {
                write!(f, "killing pod {pod} failed: {}", failures.join("; "))
            }
            RuntimeError::Spawn { name, error } => write!(f, "cannot start thread {name}: {error}"),
        }
    }
}

impl std::error::Error for RuntimeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RuntimeError::Cri { error, .. } => Some(error),
            RuntimeError::Io { error, .. } | RuntimeError::Spawn { error, .. } => Some(error),
            RuntimeError::Build { error, .. } => Some(error),
            RuntimeError::Kill { .. } => None,
        }
    }
}

/// The message upstream shows for a failed CRI call: the runtime's own description when
/// there is one (gRPC's `status.Message()`), else our error text.
pub(crate) fn cri_message(error: &CriError) -> String {
    match error.status() {
        Some(status) => status.message.clone(),
        None => error.to_string(),
    }
}

/// The text of a CRI error as Go's `err.Error()` shows it: `rpc error: code = ... desc = ...`.
pub(crate) fn cri_error_text(error: &CriError) -> String {
    match error.status() {
        Some(status) => status.to_string(),
        None => error.to_string(),
    }
}
