//! Pod status: computing the API `PodStatus` from the runtime's view, and keeping the newest
//! status of every pod.
//!
//! | module | what |
//! | --- | --- |
//! | [`generate`](mod@generate) | [`generate()`]: the API status from a [`GenerateInput`] (pure) |
//! | [`phase`] | the pod phase (upstream's `getPhase`) and restart-policy checks |
//! | [`containers`] | container statuses from the runtime's container records |
//! | [`probes`] | `ready`/`started` from [`ProbeResults`] |
//! | [`conditions`] | pod conditions and their transition times |
//! | [`reason`] | the per-pod [`ReasonCache`] of start failures ([`StartFailure`]) |
//! | [`manager`] | the `rk-status` thread and its [`Handle`] |
//! | [`terminate`] | the final status of a pod whose containers all stopped (`TerminatePod`) |
//! | [`apisync`] | API mode: the [`Syncer`] that PATCHes `pods/<name>/status` and deletes pods |
//! | [`apimerge`] | what to send given the API's copy (`mergePodStatus`) |
//! | [`patch`] | the strategic-merge patch of a status (`PatchPodStatus`) |
//!
//! A pod worker keeps a [`ReasonCache`], reads the runtime status from PLEG, calls
//! [`generate()`] with the previous status it got from [`Handle::get`], and hands the result
//! to [`Handle::set`]. A terminal phase (Succeeded/Failed) never goes back to a non-terminal
//! one: `generate` keeps the previous terminal phase and the manager refuses to store a
//! regression.

use std::fmt;
use std::io;

pub mod apimerge;
pub mod apisync;
pub mod conditions;
pub mod containers;
pub mod generate;
pub mod manager;
pub mod patch;
pub mod phase;
pub mod probes;
pub mod reason;
pub mod terminate;
mod transitions;

#[cfg(test)]
mod testutil;

pub use generate::{GenerateInput, generate};
pub use manager::{Config, Deps, Handle, SyncOutcome, Syncer, spawn};
pub use phase::Phase;
pub use probes::ProbeResults;
pub use reason::{Reason, ReasonCache, StartFailure};

/// Errors of the status manager.
#[derive(Debug)]
pub enum StatusError {
    /// The `rk-status` thread could not be started.
    Spawn(io::Error),
    /// The `rk-status` thread is gone (a bug: it only ends on [`Handle::stop`]).
    Stopped { request: &'static str },
}

impl fmt::Display for StatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusError::Spawn(e) => write!(f, "starting the rk-status thread: {e}"),
            StatusError::Stopped { request } => {
                write!(f, "status manager is not running ({request})")
            }
        }
    }
}

impl std::error::Error for StatusError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StatusError::Spawn(e) => Some(e),
            StatusError::Stopped { .. } => None,
        }
    }
}
