//! The API server client: kubeconfig, TLS, name resolution, typed calls, watches and the
//! list-then-watch reflector. Blocking, on OS threads; generic over serde types, so it does
//! not depend on the object types in `crate::api`.
//!
//! | module | what |
//! | --- | --- |
//! | [`kubeconfig`] | kubeconfig files → [`RestConfig`] |
//! | [`tls`] | rustls config (cluster CA, client certificate) and the ureq connector |
//! | [`resolver`] | host names without NSS: literals, `/etc/hosts`, DNS over UDP |
//! | [`client`] | [`Client`]: get, list, create, update, patch, delete, subresources, raw |
//! | [`watch`] | [`Watch`]: the event stream of a watch call |
//! | [`reflector`] | list + watch + relist on a thread, feeding a channel |
//! | [`path`], [`types`], [`error`] | request paths and options, meta/v1 shapes, errors |
//! | [`ratelimit`], [`auth`] | token bucket, bearer tokens |
//!
//! ```text
//!   Client ──► RateLimiter ──► ureq Agent ──► HostResolver ──► TcpConnector ──► TlsConnector
//!     │            (shared by clones)            (/etc/hosts, DNS)                 (rustls)
//!     └─ Watch / Reflector: a cancellable clone per call, so stop() can shut its socket
//! ```

pub mod auth;
pub mod client;
pub mod error;
pub mod kubeconfig;
pub mod path;
pub mod ratelimit;
pub mod reflector;
pub mod resolver;
pub mod tls;
pub mod types;
pub mod watch;

pub use client::{Canceller, Client, ClientOptions};
pub use error::{Error, Status};
pub use kubeconfig::{ConfigError, Kubeconfig, PemSource, RestConfig};
pub use path::{ListOptions, ResourcePath, WatchOptions};
pub use reflector::{KubeObject, ReflectorConfig, ReflectorEvent, ReflectorHandle};
pub use types::{DeleteOptions, ObjectList, PatchKind, PatchParams, Preconditions};
pub use watch::{Watch, WatchEvent};

/// A random number for jitter (not for secrets): std's hash keys are seeded randomly per
/// process and stepped per call.
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
}
