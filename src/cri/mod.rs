//! CRI v1 (`runtime.v1`): the messages rkubelet exchanges with the container runtime, and the
//! typed [`Client`] for `RuntimeService` and `ImageService`.
//!
//! The messages mirror `vendor-proto/cri/v1/api.proto` (our subset of upstream's CRI, same
//! names and field numbers; a unit test checks all three agree). They are plain structs
//! declared with [`crate::message!`]: message fields are `Option<T>`, maps are `BTreeMap`,
//! enums are open newtypes (`ContainerState::RUNNING`, unknown numbers kept).
//!
//! ```ignore
//! let client = cri::connect("unix:///run/containerd/containerd.sock", timeout)?;
//! // or, over any transport: cri::Client::new(transport)   // Arc<dyn grpc::Unary>
//! let list = client.list_containers(&cri::ListContainersRequest::default())?;
//! match client.container_status(&req) {
//!     Err(e) if e.is_not_found() => { /* gone */ }
//!     ...
//! }
//! ```

mod check;
mod client;
pub mod cmd;
mod connect;
mod container;
mod error;
mod image;
mod resources;
mod runtime;
mod sandbox;
mod security;
mod signal;
mod stats;
mod streaming;

#[cfg(test)]
mod client_tests;
#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod schema_check;

pub use client::{Client, DEFAULT_REQUEST_TIMEOUT};
pub use connect::{CRI_API_VERSION, ConnectError, connect, open};
pub use container::*;
pub use error::CriError;
pub use image::*;
pub use resources::*;
pub use runtime::*;
pub use sandbox::*;
pub use security::*;
pub use signal::*;
pub use stats::*;
pub use streaming::*;
