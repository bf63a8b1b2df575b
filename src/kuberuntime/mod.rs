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
//! | [`build_error`] | [`BuildError`]: why a config could not be built |

pub mod build_error;
pub mod cgroup;
pub mod container;
pub mod dns;
pub mod downward;
pub mod env;
pub mod expand;
pub mod hash;
pub mod hosts;
pub mod labels;
pub mod model;
pub mod node;
pub mod paths;
pub mod resources;
pub mod sandbox;
pub mod security;
pub mod service_env;

#[cfg(test)]
mod testutil;

pub use build_error::{BuildError, BuildErrorKind};
pub use container::{ContainerInputs, ContainerKind, container_config};
pub use env::{EnvSources, NoEnvSources};
pub use model::{ContainerState, ContainerStatus, PodStatus, SandboxState, SandboxStatus};
pub use node::{CgroupDriver, NodeContext};
pub use sandbox::sandbox_config;
