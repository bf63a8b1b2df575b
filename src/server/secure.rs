//! Starting the kubelet API from the configuration: the authenticated HTTPS port
//! (`address:port`, when `enableServer`) and the read-only HTTP port (`address:readOnlyPort`,
//! when not 0), as upstream's `BuildAuth`, `InitializeTLS` and `ListenAndServeKubelet*`.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::auth::authz::{Authorizer, WebhookAccessReviewer, WebhookAuthorizer};
use super::auth::cache::SystemClock;
use super::auth::token::{TokenAuthenticator, WebhookTokenReviewer};
use super::auth::x509::X509Authenticator;
use super::auth::Authenticator;
use super::checks::Checks;
use super::listener::{self, ListenConfig};
use super::routes::{self, Auth, Host, Router};
use super::stats_api::StatsProvider;
use super::streaming_api::StreamingHandler;
use super::tls::{self, TlsError, TlsSettings};
use crate::api::core::Pod;
use crate::config::{AUTHZ_ALWAYS_ALLOW, AUTHZ_WEBHOOK, Config};
use crate::kubeclient;

/// What the servers need from the rest of the agent.
#[derive(Clone)]
pub struct Deps {
    pub node_name: String,
    pub checks: Checks,
    /// The node's pods with their current statuses.
    pub pods: Arc<dyn Fn() -> Vec<Pod> + Send + Sync>,
    pub host: Arc<dyn Host>,
    pub stats: Arc<dyn StatsProvider>,
    pub streaming: Arc<dyn StreamingHandler>,
    /// The API server client, for webhook authentication and authorization.
    pub client: Option<kubeclient::Client>,
}

#[derive(Debug)]
pub enum ServerError {
    Tls(TlsError),
    Auth(String),
    Listen { what: &'static str, addr: SocketAddr, error: std::io::Error },
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerError::Tls(e) => write!(f, "{e}"),
            ServerError::Auth(e) => write!(f, "{e}"),
            ServerError::Listen { what, addr, error } => write!(f, "{what} cannot listen on {addr}: {error}"),
        }
    }
}

impl std::error::Error for ServerError {}

pub fn socket_addr(host: &str, port: i32) -> SocketAddr {
    let ip = host.parse::<IpAddr>().unwrap_or(IpAddr::from([0, 0, 0, 0]));
    SocketAddr::new(ip, u16::try_from(port).unwrap_or(0))
}

fn route_deps(config: &Config, deps: &Deps) -> routes::Deps {
    let k = &config.kubelet;
    let root_dir = config.flags.root_dir.clone();
    routes::Deps {
        node_name: deps.node_name.clone(),
        checks: deps.checks.clone(),
        pods: deps.pods.clone(),
        host: deps.host.clone(),
        stats: deps.stats.clone(),
        streaming: deps.streaming.clone(),
        config: crate::api::json::to_value(k).unwrap_or_default(),
        machine: Arc::new(move || machine_info(&root_dir)),
        node_log_dir: PathBuf::from("/var/log/"),
        debugging_handlers: k.enable_debugging_handlers,
        system_log_handler: k.enable_system_log_handler,
    }
}

/// cAdvisor's MachineInfo fields that we know (`/spec/`).
fn machine_info(root_dir: &Path) -> serde_json::Value {
    let m = crate::nodestatus::machine::Host::real().machine_info(root_dir);
    let hugepages: Vec<serde_json::Value> =
        m.hugepages.iter().map(|h| serde_json::json!({"page_size": h.page_bytes / 1024, "num_pages": h.pages})).collect();
    serde_json::json!({
        "timestamp": crate::api::Time::now().to_string(),
        "num_cores": m.cpus,
        "memory_capacity": m.memory_bytes.unwrap_or(0),
        "swap_capacity": m.swap_bytes,
        "hugepages": hugepages,
        "machine_id": m.machine_id,
        "system_uuid": m.system_uuid,
        "boot_id": m.boot_id,
    })
}

/// Authentication and authorization as configured (upstream's `BuildAuthn`/`BuildAuthz`).
pub fn build_auth(config: &Config, node_name: &str, client: Option<&kubeclient::Client>) -> Result<Auth, ServerError> {
    let k = &config.kubelet;
    let a = &k.authentication;
    let clock = Arc::new(SystemClock);
    let x509 = (!a.x509.client_ca_file.is_empty())
        .then(|| X509Authenticator::new(Path::new(&a.x509.client_ca_file)))
        .transpose()
        .map_err(ServerError::Tls)?;
    let token = if a.webhook.enabled {
        let client = client.ok_or_else(|| ServerError::Auth("no client provided, cannot use webhook authentication".into()))?;
        let ttl = a.webhook.cache_ttl.to_std().unwrap_or(Duration::from_secs(120));
        Some(TokenAuthenticator::new(Arc::new(WebhookTokenReviewer { client: client.clone() }), ttl, clock.clone()))
    } else {
        None
    };
    let authn = Authenticator { x509, token, anonymous: a.anonymous.enabled };
    if !authn.is_configured() {
        return Err(ServerError::Auth("no authentication method configured".into()));
    }
    let z = &k.authorization;
    let authz = match z.mode.as_str() {
        AUTHZ_ALWAYS_ALLOW => Authorizer::AlwaysAllow,
        AUTHZ_WEBHOOK => {
            let client = client.ok_or_else(|| ServerError::Auth("no client provided, cannot use webhook authorization".into()))?;
            let allowed = z.webhook.cache_authorized_ttl.to_std().unwrap_or(Duration::from_secs(300));
            let denied = z.webhook.cache_unauthorized_ttl.to_std().unwrap_or(Duration::from_secs(30));
            Authorizer::Webhook(WebhookAuthorizer::new(Arc::new(WebhookAccessReviewer { client: client.clone() }), allowed, denied, clock))
        }
        "" => return Err(ServerError::Auth("no authorization mode specified".into())),
        other => return Err(ServerError::Auth(format!("unknown authorization mode {other}"))),
    };
    Ok(Auth { authn, authz, node_name: node_name.to_string() })
}

/// The TLS settings for the serving certificate in `serving`.
pub fn tls_settings(config: &Config, serving: tls::ServingCert) -> TlsSettings {
    let k = &config.kubelet;
    let ca = &k.authentication.x509.client_ca_file;
    TlsSettings {
        serving,
        min_version: k.tls_min_version.clone(),
        cipher_suites: k.tls_cipher_suites.clone(),
        client_ca_file: (!ca.is_empty()).then(|| PathBuf::from(ca)),
    }
}

/// Starts the authenticated port with the given serving certificate; returns its address.
pub fn spawn_secure(config: &Config, deps: &Deps, serving: tls::ServingCert) -> Result<SocketAddr, ServerError> {
    let k = &config.kubelet;
    let auth = build_auth(config, &deps.node_name, deps.client.as_ref())?;
    let (tls, warnings) = tls::server_config(&tls_settings(config, serving)).map_err(ServerError::Tls)?;
    for w in warnings {
        log::warn!("{w}");
    }
    let addr = socket_addr(&k.address, k.port);
    let router = Router::secure(route_deps(config, deps), auth);
    let bound = listener::spawn(ListenConfig::new("readwrite", Some(tls)), addr, Arc::new(router))
        .map_err(|error| ServerError::Listen { what: "kubelet API", addr, error })?;
    crate::metrics::kubelet::NODE_NAME.set(&[&deps.node_name], 1.0);
    log::info!("kubelet API listening on https://{bound}");
    Ok(bound)
}

/// Starts the read-only port on `address:readOnlyPort`; returns its address.
pub fn spawn_read_only(config: &Config, deps: &Deps) -> Result<SocketAddr, ServerError> {
    let k = &config.kubelet;
    let addr = socket_addr(&k.address, k.read_only_port);
    let router = Router::read_only(route_deps(config, deps));
    let bound = listener::spawn(ListenConfig::new("readonly", None), addr, Arc::new(router))
        .map_err(|error| ServerError::Listen { what: "read-only port", addr, error })?;
    log::info!("read-only kubelet API listening on http://{bound}");
    Ok(bound)
}
