//! The `core/v1` API group: Pod, Node, ConfigMap, Secret, Service, Event, Namespace, Binding.
//!
//! Struct and field names follow the API (`PodSpec.hostIPC` is `PodSpec::host_ipc`); every
//! type is re-exported here, so `api::core::Container` is the way to name them.

mod container;
mod handler;
mod node;
mod objects;
mod pod;
mod pod_status;
mod volume;

pub use container::*;
pub use handler::*;
pub use node::*;
pub use objects::*;
pub use pod::*;
pub use pod_status::*;
pub use volume::*;
