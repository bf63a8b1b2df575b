//! rkubelet: a Kubernetes node agent for constrained edge and IoT nodes.
//!
//! The crate is a library so that `tests/` can drive it; `main.rs` only calls [`cli::main`].
//! One module per concept:
//!
//! | module | what |
//! | --- | --- |
//! | [`agent`] | start-up: build the managers, wire their channels, wait for a signal |
//! | [`api`] | Kubernetes API objects (serde) |
//! | [`certificate`] | TLS bootstrap, client/serving certificate rotation, the serving pair |
//! | [`cgroups`] | cgroup v1/v2 hierarchies and usage files (read side) |
//! | [`cli`] | the command line: the agent, `--help`, `--version`, `rkubelet cri ...` |
//! | [`config`] | flags and KubeletConfiguration |
//! | [`cri`] | CRI v1 messages and the typed runtime/image client |
//! | [`events`] | pod and node events (`Recorder`) |
//! | [`gc`] | garbage collection of dead containers, sandboxes, pod logs and unused images |
//! | [`grpc`] | gRPC unary calls over `h2` |
//! | [`h2`] | HTTP/2 client with prior knowledge over a unix socket, and HPACK |
//! | [`kubeclient`] | the API server client (list/watch, patch, reflector) |
//! | [`kuberuntime`] | sandboxes and containers through CRI: configs, actions, sync, kill |
//! | [`logging`] | klog-style log lines |
//! | [`logs`] | container logs: rotation and reading |
//! | [`metrics`] | Prometheus metrics: registry, the kubelet's families, process metrics |
//! | [`mirror`] | mirror pods of static pods on the API server |
//! | [`node`] | the node's identity (name, IPs) |
//! | [`nodestatus`] | API mode: Node registration, status, Lease, node events |
//! | [`objects`] | Secret and ConfigMap managers, the Service cache (API-server mode) |
//! | [`pki`] | DER, keys, CSRs, X.509 reading, self-signed certificates |
//! | [`pleg`] | the pod lifecycle event generator and the runtime pod cache |
//! | [`podsync`] | what a pod worker does for one pod |
//! | [`podworker`] | one thread per pod, its mailbox and lifecycle |
//! | [`proto`] | protobuf wire codec (sans-I/O) |
//! | [`server`] | the healthz and read-only HTTP endpoints |
//! | [`source`] | pod sources (file, HTTP, API server) and the config mux |
//! | [`stats`] | node and pod statistics: `/stats/summary`, `/metrics/resource` (`rk-stats`) |
//! | [`status`] | the API pod status from the runtime's view, and the status manager |
//! | [`streaming`] | exec, attach and port-forward: CRI streaming URLs and the upgrade proxy |
//! | [`syncloop`] | the sync loop that dispatches work to pod workers |
//! | [`version`] | the version we report |
//! | [`volume`] | the volume manager and the emptyDir, hostPath, configMap, secret, downwardAPI and projected volumes |

pub mod agent;
pub mod api;
pub mod certificate;
pub mod cgroups;
pub mod cli;
pub mod config;
pub mod cri;
pub mod events;
pub mod gc;
pub mod grpc;
pub mod h2;
pub mod kubeclient;
pub mod kuberuntime;
pub mod logging;
pub mod logs;
pub mod metrics;
pub mod mirror;
pub mod node;
pub mod nodestatus;
pub mod objects;
pub mod pki;
pub mod pleg;
pub mod podsync;
pub mod podworker;
pub mod prober;
pub mod proto;
pub mod server;
pub mod source;
pub mod stats;
pub mod status;
pub mod streaming;
pub mod syncloop;
pub mod version;
pub mod volume;
