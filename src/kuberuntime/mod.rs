//! The kubelet's runtime manager: pod sandboxes and containers through CRI.
//!
//! [`model`] is the runtime's view of a pod that PLEG caches and the pod workers decide from.
//! [`Runtime`] carries out what a pod worker decides: [`actions`] computes the steps of a
//! sync (pure), [`backoff`] is the restart and pull backoff, [`image`] makes images present.

pub mod actions;
pub mod backoff;
pub mod error;
mod hooks;
pub mod image;
mod inspect;
mod kill;
pub mod model;
mod remove;
pub mod runtime;
mod start;
mod sync;
mod termination;

mod builders_stub;
#[cfg(test)]
mod fake_runtime;
#[cfg(test)]
mod harness;

/// The config builders as the runtime operations call them: the one place that names their
/// modules (temporarily stand-ins, until the builders' branch merges).
pub mod builders {
    pub use super::builders_stub::*;
}

pub use actions::{ContainerVerdict, PodActions, ProbeResult, all_healthy, compute_pod_actions};
pub use backoff::Backoff;
pub use error::RuntimeError;
pub use model::{ContainerState, ContainerStatus, PodStatus, SandboxState, SandboxStatus};
pub use runtime::{Runtime, RuntimeConfig, SyncContext, SyncResult, never_cancel, no_mounts};
