//! The client: one HTTPS agent per cluster, rate limited, with typed calls.
//!
//! `Client` is cheap to clone (an `Arc` and a ureq agent, itself `Arc`s): clones share the
//! connection pool, the token bucket and the token cache. A call blocks its thread.
//!
//! Cancelling: a call blocked on the network is interrupted by shutting its agent's sockets
//! down (`ureq::Agent::shutdown`). That ends every connection of the agent, so a caller that
//! wants to cancel gets an agent of its own with [`Client::cancellable`]; every watch does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use ureq::Agent;
use ureq::unversioned::transport::{Connector, TcpConnector};

use super::auth::TokenSource;
use super::error::Error;
use super::kubeconfig::{ConfigError, Kubeconfig, RestConfig};
use super::path::{ListOptions, ResourcePath};
use super::ratelimit::RateLimiter;
use super::resolver::HostResolver;
use super::tls::TlsConnector;
use super::types::{DeleteOptions, ObjectList, PatchKind, PatchParams};

/// How a client behaves, beyond what the kubeconfig says.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// kubeAPIQPS; 0 or less turns client-side limiting off.
    pub qps: f32,
    /// kubeAPIBurst.
    pub burst: u32,
    pub user_agent: String,
    /// The limit for one call (connect to the end of the body); watches have their own.
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            qps: 50.0,
            burst: 100,
            user_agent: crate::version::user_agent(),
            timeout: Duration::from_secs(60),
        }
    }
}

/// The largest response body read into memory (a big pod list is a few MB).
const MAX_BODY: u64 = 256 * 1024 * 1024;
/// Connecting (DNS, TCP and the TLS handshake) must not take longer than this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

struct Shared {
    server: String,
    connector: TlsConnector,
    resolver: HostResolver,
    user_agent: String,
    timeout: Duration,
    tokens: TokenSource,
    limiter: RateLimiter,
    namespace: Option<String>,
}

/// A client of one API server.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    agent: Agent,
    /// Set on clients made by [`Client::cancellable`]: it interrupts this agent.
    canceller: Option<Canceller>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("server", &self.shared.server).finish_non_exhaustive()
    }
}

/// Interrupts the calls of a [`Client::cancellable`] client or a watch, from any thread.
#[derive(Clone)]
pub struct Canceller {
    agent: Agent,
    cancelled: Arc<AtomicBool>,
}

impl Canceller {
    pub(crate) fn new(agent: Agent) -> Self {
        Canceller { agent, cancelled: Arc::new(AtomicBool::new(false)) }
    }

    /// Fails the calls in flight at once (their sockets are shut down) and every later call.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.agent.clone().shutdown();
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }
}

impl std::fmt::Debug for Canceller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Canceller").field("cancelled", &self.is_cancelled()).finish()
    }
}

/// A response with a 2xx status, its body not yet read.
pub(crate) struct Success {
    pub body: ureq::Body,
}

impl Client {
    /// A client for the `context` (default: current-context) of the kubeconfig at `path`.
    pub fn from_kubeconfig(
        path: &std::path::Path,
        context: Option<&str>,
        options: ClientOptions,
    ) -> Result<Client, ConfigError> {
        Client::new(&Kubeconfig::load(path)?.rest_config(context)?, options)
    }

    pub fn new(rest: &RestConfig, options: ClientOptions) -> Result<Client, ConfigError> {
        let tokens = match (&rest.token, &rest.token_file) {
            (Some(token), _) => TokenSource::Static(token.clone()),
            (None, Some(path)) => TokenSource::file(path.clone()),
            (None, None) => TokenSource::None,
        };
        let shared = Arc::new(Shared {
            server: rest.server.trim_end_matches('/').to_string(),
            connector: TlsConnector::new(rest)?,
            resolver: HostResolver::default(),
            user_agent: options.user_agent,
            timeout: options.timeout,
            tokens,
            limiter: RateLimiter::new(options.qps, options.burst),
            namespace: rest.namespace.clone(),
        });
        let agent = new_agent(&shared);
        Ok(Client { shared, agent, canceller: None })
    }

    /// The server URL.
    pub fn server(&self) -> &str {
        &self.shared.server
    }

    /// The context's default namespace, if it names one.
    pub fn default_namespace(&self) -> Option<&str> {
        self.shared.namespace.as_deref()
    }

    /// A clone with connections of its own, and the means to interrupt its calls (watches
    /// included). Rate limit and tokens stay shared. Once cancelled, its calls fail.
    pub fn cancellable(&self) -> (Client, Canceller) {
        let agent = new_agent(&self.shared);
        let canceller = Canceller::new(agent.clone());
        (Client { shared: self.shared.clone(), agent, canceller: Some(canceller.clone()) }, canceller)
    }

    /// This client's canceller, if it was made by [`Client::cancellable`].
    pub(crate) fn canceller(&self) -> Option<&Canceller> {
        self.canceller.as_ref()
    }

    pub fn get<T: DeserializeOwned>(&self, path: &ResourcePath) -> Result<T, Error> {
        let p = resource_path("GET", path)?;
        self.call_json("GET", &p, None)
    }

    /// One list call (one page when `opts.limit` is set: follow `metadata.continue`).
    pub fn list<T: DeserializeOwned>(&self, path: &ResourcePath, opts: &ListOptions) -> Result<ObjectList<T>, Error> {
        let p = resource_path("GET", path)? + opts.to_query().as_str();
        self.call_json("GET", &p, None)
    }

    /// POST to the collection `path` (no name).
    pub fn create<T: Serialize + DeserializeOwned>(&self, path: &ResourcePath, object: &T) -> Result<T, Error> {
        let p = resource_path("POST", path)?;
        self.call_json("POST", &p, Some(("application/json", encode("POST", &p, object)?)))
    }

    /// PUT of the whole object; fails with a conflict if its resourceVersion is stale.
    pub fn update<T: Serialize + DeserializeOwned>(&self, path: &ResourcePath, object: &T) -> Result<T, Error> {
        let p = resource_path("PUT", path)?;
        self.call_json("PUT", &p, Some(("application/json", encode("PUT", &p, object)?)))
    }

    /// PATCH with the given patch type. An apply patch needs a field manager; its body is
    /// sent as JSON, which is YAML.
    pub fn patch<T: DeserializeOwned>(
        &self,
        path: &ResourcePath,
        kind: PatchKind,
        body: &impl Serialize,
        params: &PatchParams,
    ) -> Result<T, Error> {
        let mut p = resource_path("PATCH", path)?;
        if kind == PatchKind::Apply && params.field_manager.is_none() {
            return Err(invalid("PATCH", &p, "an apply patch needs a field manager"));
        }
        p.push_str(params.to_query().as_str());
        self.call_json("PATCH", &p, Some((kind.content_type(), encode("PATCH", &p, body)?)))
    }

    /// DELETE with options (grace period, preconditions, propagation). The answer (a Status,
    /// or the object while finalizers run) is not decoded.
    pub fn delete(&self, path: &ResourcePath, opts: &DeleteOptions) -> Result<(), Error> {
        let p = resource_path("DELETE", path)?;
        let body = encode("DELETE", &p, opts)?;
        self.call("DELETE", &p, Some(("application/json", body))).map(drop)
    }

    /// POST to a subresource, e.g. `pods/<name>/eviction` or `serviceaccounts/<sa>/token`.
    pub fn post_subresource<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &ResourcePath,
        body: &B,
    ) -> Result<R, Error> {
        let p = resource_path("POST", path)?;
        self.call_json("POST", &p, Some(("application/json", encode("POST", &p, body)?)))
    }

    /// GET of any path (with its query), returning the body as it came (e.g. `/version`,
    /// `/healthz`).
    pub fn raw(&self, path_and_query: &str) -> Result<Vec<u8>, Error> {
        if !path_and_query.starts_with('/') {
            return Err(invalid("GET", path_and_query, "the path must start with '/'"));
        }
        let ok = self.call("GET", path_and_query, None)?;
        read_body("GET", path_and_query, ok.body)
    }

    fn call_json<T: DeserializeOwned>(
        &self,
        method: &'static str,
        path: &str,
        body: Option<(&'static str, Vec<u8>)>,
    ) -> Result<T, Error> {
        let ok = self.call(method, path, body)?;
        let bytes = read_body(method, path, ok.body)?;
        crate::api::json::decode(&bytes).map_err(|e| Error::Decode {
            method,
            path: path.to_string(),
            detail: e.to_string(),
        })
    }

    /// Sends one request on this client's agent; a non-2xx answer becomes an `Error::Api`.
    pub(crate) fn call(
        &self,
        method: &'static str,
        path: &str,
        body: Option<(&'static str, Vec<u8>)>,
    ) -> Result<Success, Error> {
        self.send(method, path, body, None)
    }

    /// Sends one request. With `stream_read_timeout` (watches) there is no overall deadline,
    /// as the server ends the stream, but a read silent for that long means a dead connection.
    pub(crate) fn send(
        &self,
        method: &'static str,
        path: &str,
        body: Option<(&'static str, Vec<u8>)>,
        stream_read_timeout: Option<Duration>,
    ) -> Result<Success, Error> {
        self.shared.limiter.wait();
        let url = format!("{}{path}", self.shared.server);
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(&url)
            .header("Accept", "application/json")
            .header("User-Agent", &self.shared.user_agent);
        if let Some(token) = self.shared.tokens.token() {
            builder = builder.header("Authorization", format!("Bearer {token}"));
        }
        let http_error = |e: ureq::http::Error| invalid(method, path, &e.to_string());
        let agent = &self.agent;
        let sent = match (body, stream_read_timeout) {
            (Some((content_type, bytes)), _) => {
                let request = builder.header("Content-Type", content_type).body(bytes).map_err(http_error)?;
                agent.run(request)
            }
            (None, None) => agent.run(builder.body(()).map_err(http_error)?),
            (None, Some(read_timeout)) => {
                let request = agent
                    .configure_request(builder.body(()).map_err(http_error)?)
                    .timeout_global(None)
                    .timeout_per_read(Some(read_timeout))
                    .build();
                agent.run(request)
            }
        };
        let response = sent.map_err(|e| transport_error(method, path, e))?;
        let code = response.status().as_u16();
        if (200..300).contains(&code) {
            return Ok(Success { body: response.into_body() });
        }
        if code == 401 {
            self.shared.tokens.invalidate();
        }
        let retry_after = response
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u32>().ok());
        // An unreadable error body still leaves the status code to report.
        let body = read_body(method, path, response.into_body()).unwrap_or_default();
        Err(Error::from_response(method, path, code, &body, retry_after))
    }
}

fn new_agent(shared: &Shared) -> Agent {
    let config = Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(shared.timeout))
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_resolve(Some(CONNECT_TIMEOUT))
        .build();
    let connector = ().chain(TcpConnector::default()).chain(shared.connector.clone());
    Agent::with_parts(config, connector, shared.resolver.clone())
}

pub(crate) fn read_body(method: &'static str, path: &str, body: ureq::Body) -> Result<Vec<u8>, Error> {
    body.into_with_config().limit(MAX_BODY).read_to_vec().map_err(|e| transport_error(method, path, e))
}

fn resource_path(method: &'static str, path: &ResourcePath) -> Result<String, Error> {
    path.to_path().map_err(|detail| Error::InvalidRequest { method, path: format!("{path:?}"), detail })
}

fn encode(method: &'static str, path: &str, body: &impl Serialize) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body).map_err(|e| invalid(method, path, &format!("encoding the body: {e}")))
}

fn invalid(method: &'static str, path: &str, detail: &str) -> Error {
    Error::InvalidRequest { method, path: path.to_string(), detail: detail.to_string() }
}

/// ureq's error, as ours: timeouts apart, everything else is the transport's.
pub(crate) fn transport_error(method: &'static str, path: &str, e: ureq::Error) -> Error {
    let path = path.to_string();
    match e {
        ureq::Error::Timeout(_) => Error::Timeout { method, path },
        ureq::Error::Io(io) if is_timeout(&io) => Error::Timeout { method, path },
        other => Error::Transport { method, path, detail: other.to_string() },
    }
}

pub(crate) fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock)
}
