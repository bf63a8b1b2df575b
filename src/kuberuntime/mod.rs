//! The kubelet's runtime manager: pod sandboxes and containers through CRI.
//!
//! [`model`] is the runtime's view of a pod that PLEG caches and the pod workers decide from.
//!
//! The pure builders that turn a pod into CRI configs (no I/O; the caller reads files and
//! writes the ones the configs refer to):
//!
//! | module | what |
//! | --- | --- |
//! | [`node`] | [`NodeContext`]: the node facts the builders need |
//! | [`sandbox`] | [`sandbox_config`]: a pod's `PodSandboxConfig` |
//! | [`container`] | [`container_config`]: a container's `ContainerConfig` |
//! | [`env`], [`expand`], [`service_env`], [`downward`] | environment variables, `$(VAR)`, service links, downward API values |
//! | [`dns`], [`hosts`] | DNS config, hostname, the managed `/etc/hosts` |
//! | [`resources`], [`security`], [`cgroup`] | cgroup resources, security context, cgroup names |
//! | [`labels`], [`hash`] | identity labels/annotations and the spec hash |
//! | [`paths`] | pod directories and log paths |
//! | [`logsymlink`] | the legacy `/var/log/containers/*.log` symlinks |
//! | [`build_error`] | [`BuildError`]: why a config could not be built |
//!
//! The runtime operations a pod worker calls, on a [`Runtime`] shared by all workers:
//!
//! | module | what |
//! | --- | --- |
//! | [`runtime`] | [`Runtime`], [`SyncContext`], [`SyncResult`] |
//! | [`actions`] | [`compute_pod_actions`]: what one sync must do (pure) |
//! | `sync`, `start` | [`Runtime::sync_pod`]: sandbox, init and app containers |
//! | `kill`, `hooks` | [`Runtime::kill_pod`]: preStop hooks, grace periods, sidecar order |
//! | `remove` | [`Runtime::remove_pod`], [`Runtime::cleanup_dead_containers`], [`evictable`] (GC) |
//! | `inspect`, `termination` | [`Runtime::pod_status`]: the runtime's view, termination messages |
//! | [`relist`] | [`CriRelister`]: what PLEG lists every second |
//! | [`backoff`] | restart and image pull backoff |
//! | [`image`] | pull policy, pulls, credentials, image references |
//! | [`error`] | [`RuntimeError`] |

pub mod actions;
pub mod backoff;
pub mod build_error;
pub mod cgroup;
pub mod container;
pub mod dns;
pub mod downward;
pub mod env;
pub mod error;
pub mod expand;
pub mod hash;
mod hooks;
pub mod hosts;
pub mod image;
mod inspect;
mod kill;
pub mod labels;
pub mod logsymlink;
pub mod model;
pub mod node;
pub mod paths;
pub mod relist;
mod remove;
pub mod resources;
pub mod runtime;
pub mod sandbox;
pub mod security;
pub mod service_env;
mod start;
mod sync;
mod termination;

#[cfg(test)]
pub(crate) mod fake_runtime;
#[cfg(test)]
pub(crate) mod harness;
#[cfg(test)]
mod testutil;

pub use actions::{ContainerVerdict, PodActions, ProbeResult, all_healthy, compute_pod_actions};
pub use backoff::Backoff;
pub use build_error::{BuildError, BuildErrorKind};
pub use container::{ContainerInputs, ContainerKind, container_config};
pub use env::{EnvSources, NoEnvSources};
pub use error::RuntimeError;
pub use model::{ContainerState, ContainerStatus, PodStatus, SandboxState, SandboxStatus};
pub use node::{CgroupDriver, NodeContext};
pub(crate) use inspect::{container_state, sandbox_state};
pub(crate) use kill::field_path;
pub use relist::CriRelister;
pub use remove::{Evictable, MAX_PER_POD_CONTAINER, evictable};
pub use runtime::{Runtime, RuntimeConfig, SyncContext, SyncResult, never_cancel, no_mounts};
pub use sandbox::sandbox_config;
