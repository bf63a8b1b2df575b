//! gRPC unary calls (the only kind CRI needs) over our HTTP/2 client.
//!
//! The CRI client (`crate::cri`) depends only on the [`Unary`] trait, so its logic can be
//! unit-tested with a fake transport and run for real over [`crate::h2`].

use std::time::Duration;

mod channel;
mod status;
pub mod wire;
pub use channel::{Channel, EndpointError, MAX_MESSAGE_SIZE};
pub use status::{Code, Status};

/// One unary gRPC call: send one message, receive one message or a status.
///
/// `path` is the full method path, e.g. `/runtime.v1.RuntimeService/Version`; `request` is the
/// encoded protobuf message without the gRPC length prefix. `timeout` becomes `grpc-timeout`
/// and bounds how long the caller's thread waits. Transport failures (socket closed, runtime
/// restarting) are reported as [`Code::Unavailable`].
pub trait Unary: Send + Sync {
    fn unary(&self, path: &str, request: &[u8], timeout: Option<Duration>) -> Result<Vec<u8>, Status>;
}
