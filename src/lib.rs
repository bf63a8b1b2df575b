//! rkubelet: a Kubernetes node agent for constrained edge and IoT nodes.
//!
//! The crate is a library so that `tests/` can drive it; `main.rs` only calls [`cli::main`].
//! One module per concept:
//!
//! | module | what |
//! | --- | --- |
//! | [`proto`] | protobuf wire codec (sans-I/O) |
//! | [`h2`] | HTTP/2 client with prior knowledge over a unix socket, and HPACK |
//! | [`grpc`] | gRPC unary calls over `h2` |
//! | [`cri`] | CRI v1 messages and the typed runtime/image client |
//! | [`api`] | Kubernetes API objects (serde) |
//! | [`config`] | flags and KubeletConfiguration |
//! | [`kubeclient`] | the API server client (list/watch, patch) |
//! | [`pki`] | DER, keys, CSRs, X.509 reading, self-signed certificates |
//! | [`certificate`] | TLS bootstrap, client/serving certificate rotation, the serving pair |
//! | [`logging`] | klog-style log lines |
//! | [`status`] | the API pod status from the runtime's view, and the status manager |
//! | [`source`] | pod sources (file, HTTP) and the config mux |

pub mod api;
pub mod certificate;
pub mod cli;
pub mod config;
pub mod events;
pub mod cri;
pub mod grpc;
pub mod h2;
pub mod kubeclient;
pub mod kuberuntime;
pub mod logging;
pub mod pki;
pub mod proto;
pub mod status;
pub mod source;
pub mod version;
