//! `rkubelet cri ...`: a small crictl for checking the runtime connection and looking at what
//! the runtime holds, through rkubelet's own CRI client.
//!
//! ```text
//! rkubelet cri [--container-runtime-endpoint=unix://PATH] [--timeout=10s] COMMAND
//!     version | info | pods | ps [-a] | images       (-o table|json)
//!     inspectp ID | inspect ID                       (-o json|table)
//!     stopp ID... | rmp [-a] ID... | exec ID -- CMD...
//! ```
//!
//! Exit status: 0 on success, 1 on any error (message on stderr), and for `exec` the exit code
//! of the command. `-o json` output is for scripts; its shape is described in `json.rs`.

mod args;
mod commands;
mod json;
mod table;
#[cfg(test)]
mod tests;

use std::fmt;

pub use args::{COMMANDS, DEFAULT_ENDPOINT, DEFAULT_TIMEOUT, ENDPOINT_ENV, FLAGS, usage};

use super::{ConnectError, CriError};

/// Why a `rkubelet cri` command failed.
#[derive(Debug)]
pub enum CmdError {
    /// The command line is wrong.
    Usage(String),
    /// The endpoint cannot be used.
    Connect(ConnectError),
    /// A CRI call failed.
    Call(CriError),
    /// Some of several sandboxes could not be stopped or removed (each reported already).
    Partial { failed: usize, total: usize },
    /// Standard output or error could not be written.
    Output(std::io::Error),
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmdError::Usage(msg) => write!(f, "{msg} (see rkubelet cri --help)"),
            CmdError::Connect(e) => e.fmt(f),
            CmdError::Call(e) => e.fmt(f),
            CmdError::Partial { failed, total } => write!(f, "{failed} of {total} pod sandboxes failed"),
            CmdError::Output(e) => write!(f, "cannot write output: {e}"),
        }
    }
}

impl std::error::Error for CmdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CmdError::Connect(e) => Some(e),
            CmdError::Call(e) => Some(e),
            CmdError::Output(e) => Some(e),
            CmdError::Usage(_) | CmdError::Partial { .. } => None,
        }
    }
}

impl From<CriError> for CmdError {
    fn from(e: CriError) -> CmdError {
        CmdError::Call(e)
    }
}

impl From<std::io::Error> for CmdError {
    fn from(e: std::io::Error) -> CmdError {
        CmdError::Output(e)
    }
}

/// Runs `rkubelet cri` with `args` (what follows `cri`); returns the exit code.
pub fn main(args: &[String]) -> i32 {
    let env_endpoint = std::env::var(ENDPOINT_ENV).ok();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let (mut out, mut err) = (stdout.lock(), stderr.lock());
    let mut sinks = commands::Sinks { out: &mut out, err: &mut err };
    match run(args, env_endpoint, &mut sinks) {
        Ok(code) => code,
        // Output cut short by `| head` is not an error worth a message.
        Err(CmdError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => 1,
        Err(e) => {
            let _ = sinks.out.flush();
            let _ = writeln!(sinks.err, "rkubelet cri: {e}");
            1
        }
    }
}

fn run(args: &[String], env_endpoint: Option<String>, io: &mut commands::Sinks<'_>) -> Result<i32, CmdError> {
    let inv = args::parse(args, env_endpoint).map_err(CmdError::Usage)?;
    let client = super::open(&inv.endpoint, inv.timeout).map_err(CmdError::Connect)?;
    let code = commands::run(&inv, &client, io).map_err(|e| with_endpoint(e, &inv.endpoint))?;
    io.out.flush()?;
    Ok(code)
}

/// A call that could not reach the runtime says where it looked.
fn with_endpoint(e: CmdError, endpoint: &str) -> CmdError {
    match e {
        CmdError::Call(error) if error.is_unavailable() => {
            CmdError::Connect(ConnectError::Runtime { endpoint: endpoint.to_string(), error })
        }
        other => other,
    }
}
