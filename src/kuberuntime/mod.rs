//! The kubelet's runtime manager: pod sandboxes and containers through CRI.
//!
//! [`model`] is the runtime's view of a pod that PLEG caches and the pod workers decide from.

pub mod model;

pub use model::{ContainerState, ContainerStatus, PodStatus, SandboxState, SandboxStatus};
