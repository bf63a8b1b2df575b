//! The node itself: its name and addresses (and, in API-server mode, its Node object, status
//! and lease).

pub mod identity;

pub use identity::{NodeIdentity, detect};
