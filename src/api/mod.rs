//! Kubernetes API objects as serde structs, and the codecs they need.
//!
//! | module | what |
//! | --- | --- |
//! | [`meta`] | ObjectMeta, ListMeta, Status, DeleteOptions, WatchEvent, `List<T>`, [`Resource`] |
//! | [`core`] | `core/v1`: Pod, Node, ConfigMap, Secret, Service, Event, Namespace, Binding |
//! | [`coordination`] | Lease |
//! | [`certificates`] | CertificateSigningRequest |
//! | [`authentication`] | TokenRequest, TokenReview |
//! | [`authorization`] | SubjectAccessReview |
//! | [`events`] | `events.k8s.io/v1` Event |
//! | [`quantity`], [`time`], [`intstr`], [`bytes`] | Quantity, Time/MicroTime, IntOrString, base64 ByteString |
//! | [`decode`](mod@decode) | JSON or YAML bytes to a typed object, with line and column in errors |
//! | [`helpers`] | pod full name, container resources, QoS class |
//!
//! Conventions, the same in every struct:
//! - field names are the API's JSON names (`#[serde(rename_all = "camelCase")]`, explicit
//!   renames where the API's capitals differ: `hostIPC`, `podIPs`, `machineID`);
//! - optional scalars and nested objects are `Option<T>` and omitted when `None`; lists and
//!   maps are `Vec`/`BTreeMap`, omitted when empty; required scalars are plain values;
//!   `metadata`, `spec` and `status` of top-level kinds are plain structs, always written;
//! - every struct is `#[serde(default)]`, so partial objects (static pod manifests) decode;
//!   unknown fields are ignored, never an error;
//! - the sources of data rkubelet does not interpret (cloud volume sources, pod affinity,
//!   topology spread constraints, dynamic node config) are kept as `serde_json::Value`, so an
//!   object read and written back loses nothing.
#![forbid(unsafe_code)]

pub mod authentication;
pub mod authorization;
pub mod bytes;
pub mod certificates;
pub mod coordination;
pub mod core;
pub mod decode;
pub mod events;
pub mod helpers;
pub mod intstr;
pub mod json;
pub mod meta;
pub mod quantity;
pub mod time;

pub use bytes::ByteString;
pub use decode::{DecodeError, Format as InputFormat, decode, decode_value};
pub use intstr::IntOrString;
pub use meta::{List, ListMeta, ObjectMeta, Resource, Status, WatchEvent};
pub use quantity::Quantity;
pub use time::{MicroTime, Time};
