//! Container logs: rotation (upstream's container log manager) and reading (what
//! `/containerLogs` serves, upstream's CRI log reader).
//!
//! | module | what |
//! | --- | --- |
//! | [`manager`] | `rk-logs`: checks running containers' logs and rotates them ([`spawn`]) |
//! | [`rotate`] | one rotation: prune, compress, rename, ReopenContainerLog |
//! | [`gzip`] | the gzip writer for rotated files |
//! | [`read`] | [`read()`]: a log file as lines, with tail, since, limitBytes, timestamps, follow |
//! | [`format`] | the CRI and Docker JSON log line formats, RFC 3339 times |
//!
//! Reading, for an HTTP handler that streams:
//! ```no_run
//! # use std::{io::Write, time::Duration};
//! # fn demo(out: &mut dyn Write) -> Result<(), Box<dyn std::error::Error>> {
//! use rkubelet::logs::{Next, ReadOptions};
//! let opts = ReadOptions { follow: true, tail_lines: Some(10), ..Default::default() };
//! let mut reader = rkubelet::logs::read("/var/log/pods/ns_web_uid/app/0.log".as_ref(), &opts)?
//!     .with_liveness(Box::new(|| true /* ask CRI ContainerStatus whether it still runs */));
//! loop {
//!     match reader.next_line(Duration::from_secs(1))? {
//!         Next::Line(line) => out.write_all(&line.bytes)?,
//!         Next::Idle => out.flush()?, // a write error here means the client left
//!         Next::End => break,
//!     }
//! }
//! # Ok(()) }
//! ```

pub mod format;
pub mod gzip;
pub mod manager;
pub mod read;
pub mod rotate;
mod watch;

#[cfg(test)]
pub(crate) mod testutil;

use std::fmt;
use std::io;
use std::path::PathBuf;

pub use format::{Stream, Timestamp};
pub use manager::{Config, LogsHandle, spawn};
pub use read::{LogLine, LogReader, Next, ReadOptions, read};

/// A log file that could not be read, rotated or reopened.
#[derive(Debug)]
pub enum LogError {
    Io {
        op: &'static str,
        path: PathBuf,
        error: io::Error,
    },
    /// The file is in neither the CRI nor the Docker JSON format; `line` is its start.
    Format {
        path: PathBuf,
        line: String,
    },
    /// A CRI call about a container (ContainerStatus, ReopenContainerLog, ListContainers).
    Cri {
        container: String,
        error: crate::cri::CriError,
    },
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Io { op, path, error } => write!(f, "{op} {}: {error}", path.display()),
            LogError::Format { path, line } => {
                write!(f, "{}: unsupported log format: {line:?}", path.display())
            }
            LogError::Cri { container, error } if container.is_empty() => write!(f, "{error}"),
            LogError::Cri { container, error } => write!(f, "container {container}: {error}"),
        }
    }
}

impl std::error::Error for LogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LogError::Io { error, .. } => Some(error),
            LogError::Cri { error, .. } => Some(error),
            LogError::Format { .. } => None,
        }
    }
}
