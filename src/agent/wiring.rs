//! Building the managers and connecting them.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::api::Quantity;
use crate::config::Config;
use crate::events::{LogRecorder, Recorder};
use crate::kuberuntime::{self, NoEnvSources, NodeContext, Runtime, RuntimeConfig};
use crate::node::NodeIdentity;
use crate::server::{self, Checks};
use crate::source::{self, Source};
use crate::{cri, gc, logs, pleg, podsync, prober, stats, status, syncloop};

/// How long the agent waits for the container runtime to answer at start.
const RUNTIME_WAIT: Duration = Duration::from_secs(120);
/// PLEG is unhealthy when it has not relisted for this long (upstream: 3 minutes).
pub(super) const PLEG_THRESHOLD: Duration = Duration::from_secs(180);

/// Why the agent could not start.
#[derive(Debug)]
pub enum StartError {
    Identity(crate::node::identity::IdentityError),
    Dir { path: PathBuf, error: std::io::Error },
    Runtime(String),
    Api(String),
    Host(String),
    Thread { what: &'static str, error: std::io::Error },
    Listen { what: &'static str, addr: String, error: std::io::Error },
    Server(server::secure::ServerError),
    Config(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Identity(e) => write!(f, "{e}"),
            StartError::Dir { path, error } => write!(f, "cannot create {}: {error}", path.display()),
            StartError::Runtime(e) => write!(f, "container runtime: {e}"),
            StartError::Api(e) => write!(f, "API server: {e}"),
            StartError::Host(e) => write!(f, "{e}"),
            StartError::Thread { what, error } => write!(f, "cannot start the {what} thread: {error}"),
            StartError::Listen { what, addr, error } => write!(f, "{what} cannot listen on {addr}: {error}"),
            StartError::Server(e) => write!(f, "kubelet API: {e}"),
            StartError::Config(e) => write!(f, "configuration: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

fn thread_err(what: &'static str) -> impl FnOnce(std::io::Error) -> StartError {
    move |error| StartError::Thread { what, error }
}

/// What keeps the agent's threads alive; dropping it lets the process exit.
pub struct Agent {
    _certs: super::certs::Certs,
    _api: Option<super::apimode::ApiMode>,
    _mux: source::mux::MuxHandle,
    _file: Option<source::file::FileSourceHandle>,
    _http: Option<source::http::HttpSourceHandle>,
    /// The stats provider (`rk-stats`), for the kubelet API's summary and resource metrics.
    _stats: stats::Handle,
    _logs: Option<logs::LogsHandle>,
}

pub fn start(config: &Config) -> Result<Agent, StartError> {
    let k = &config.kubelet;
    let f = &config.flags;
    let identity = crate::node::detect(f.hostname_override.as_deref(), f.node_ip.as_deref()).map_err(StartError::Identity)?;
    log::info!(
        "rkubelet {} (Kubernetes {}) starting as node {} ({})",
        crate::version::RKUBELET,
        crate::version::KUBERNETES,
        identity.name,
        identity.ips.iter().map(IpAddr::to_string).collect::<Vec<_>>().join(", ")
    );
    super::host::check(k)?;
    let pod_logs_dir = PathBuf::from(&k.pod_logs_dir);
    for dir in [&f.root_dir, &f.root_dir.join("pods"), &pod_logs_dir] {
        std::fs::create_dir_all(dir).map_err(|error| StartError::Dir { path: dir.clone(), error })?;
    }

    let mut certs = super::certs::Certs::default();
    let clients = match super::certs::client_rest_config(config, &identity)? {
        Some(rest) => Some(super::apimode::Clients::connect(config, &rest, &identity)?),
        None => {
            log::info!("no --kubeconfig: running standalone (static pods only)");
            None
        }
    };
    if let Some(c) = &clients {
        certs.start_client_rotation(config, &identity, &c.client)?;
    }
    let timeout = k.runtime_request_timeout.to_std().unwrap_or(Duration::from_secs(120));
    let cri = connect_runtime(&k.container_runtime_endpoint, timeout)?;
    let server_cri = cri.clone();
    let recorder: Arc<dyn Recorder> = match &clients {
        Some(c) => super::apimode::ApiMode::recorder(c),
        None => Arc::new(LogRecorder),
    };
    let node = node_context(config, &identity, pod_logs_dir);
    let stats = stats::spawn(stats_config(config, &node), stats::Deps { cri: cri.clone() })
        .map_err(thread_err("stats"))?;
    let runtime_cfg = RuntimeConfig::from_kubelet(k);
    let runtime = Arc::new(Runtime::new(cri.clone(), node, runtime_cfg, recorder.clone()).map_err(|e| StartError::Runtime(e.to_string()))?);

    let (pleg_tx, pleg_rx) = crossbeam_channel::unbounded();
    let pleg = pleg::spawn(pleg::Config::default(), runtime.relister(), pleg_tx).map_err(thread_err("PLEG"))?;
    let mut api = match &clients {
        Some(c) => Some(super::apimode::ApiMode::start(config, c, &identity, cri.clone(), pleg.clone())?),
        None => None,
    };
    let status_syncer: Option<Box<dyn status::Syncer>> =
        clients.as_ref().map(|c| Box::new(status::apisync::ApiSyncer::new(c.client.clone())) as Box<dyn status::Syncer>);
    let status = status::spawn(status::Config::default(), status::Deps { syncer: status_syncer })
        .map_err(|e| StartError::Runtime(format!("status manager: {e}")))?;

    let (config_tx, config_rx) = crossbeam_channel::unbounded();
    let mux = source::mux::spawn(source::mux::MuxDeps { events: config_tx }).map_err(thread_err("config mux"))?;
    let mut sources = Vec::new();
    let file = if k.static_pod_path.is_empty() {
        None
    } else {
        sources.push(Source::File);
        let cfg = source::file::FileConfig {
            path: PathBuf::from(&k.static_pod_path),
            node_name: identity.name.clone(),
            check_frequency: k.file_check_frequency.to_std().unwrap_or(Duration::from_secs(20)),
        };
        Some(source::file::spawn(cfg, source::file::FileDeps { updates: mux.sender() }).map_err(thread_err("file source"))?)
    };
    let http = if k.static_pod_url.is_empty() {
        None
    } else {
        sources.push(Source::Http);
        let headers = k
            .static_pod_url_header
            .iter()
            .flat_map(|(name, values)| values.iter().map(move |v| (name.clone(), v.clone())))
            .collect();
        let cfg = source::http::HttpConfig {
            url: k.static_pod_url.clone(),
            headers,
            node_name: identity.name.clone(),
            check_frequency: k.http_check_frequency.to_std().unwrap_or(Duration::from_secs(20)),
        };
        Some(source::http::spawn(cfg, source::http::HttpDeps { updates: mux.sender() }).map_err(thread_err("HTTP source"))?)
    };

    if let (Some(api), Some(c)) = (api.as_mut(), clients.as_ref()) {
        sources.push(Source::Api);
        api.start_source(c, &identity.name, mux.sender())?;
    }
    let env: Arc<dyn kuberuntime::EnvSources + Send + Sync> = match &api {
        Some(a) => a.objects.clone(),
        None => Arc::new(NoEnvSources),
    };
    let hooks = api.as_ref().map(|a| syncloop::ApiHooks { mirror: a.mirror.clone(), objects: a.objects.clone() });
    let gc_deps = gc::Deps { runtime: runtime.clone(), recorder: recorder.clone() };
    let gc = gc::spawn(gc::Config::from_kubelet(k, &identity.name), gc_deps).map_err(thread_err("garbage collector"))?;
    let logs = match logs::Config::from_kubelet(k) {
        Some(cfg) => Some(logs::spawn(cfg, runtime.cri().clone()).map_err(thread_err("container log manager"))?),
        None => None,
    };

    let sync_frequency = k.sync_frequency.to_std().unwrap_or(Duration::from_secs(60));
    let volume_api = api.as_ref().zip(clients.as_ref()).map(|(a, c)| crate::volume::wire::Api { objects: a.objects.clone(), client: c.client.clone() });
    let volumes = crate::volume::wire::start(runtime.node(), sync_frequency, recorder.clone(), volume_api)
        .map_err(thread_err("volume manager"))?;
    let (probe_tx, probe_rx) = crossbeam_channel::unbounded();
    let prober_deps = prober::Deps {
        status: Arc::new(status.clone()),
        runner: Arc::new(prober::Prober { cri: runtime.cri().clone(), recorder: recorder.clone() }),
        updates: probe_tx,
    };
    let prober = prober::spawn(prober::Config { agent_start: crate::api::Time::now().unix_seconds() }, prober_deps)
        .map_err(thread_err("prober"))?;
    let syncer = Arc::new(podsync::Syncer::new(
        podsync::Config {
            sync_frequency,
            // Upstream shows hostIP only when it has an API server to report to.
            host_ips: if api.is_some() { identity.ips.iter().map(IpAddr::to_string).collect() } else { Vec::new() },
            runtime_name: runtime.runtime_name().to_string(),
            started: crate::api::Time::now(),
        },
        podsync::Deps {
            runtime: runtime.clone(),
            pleg: pleg.clone(),
            status: status.clone(),
            env,
            recorder,
            volumes: Some(volumes.clone()),
            mirror: api.as_ref().map(|a| a.mirror.clone()),
            prober: Some(prober),
        },
    ));
    let health = syncloop::Health::default();
    syncloop::spawn(
        syncloop::Config {
            sync_frequency,
            housekeeping_period: Duration::from_secs(2),
            sources,
            max_pods: usize::try_from(k.max_pods).unwrap_or(110),
            sysctls: syncloop::SysctlAllowlist::new(&k.allowed_unsafe_sysctls).map_err(StartError::Config)?,
            apparmor_enabled: syncloop::apparmor_enabled(),
        },
        syncloop::Deps {
            config: config_rx,
            pleg_events: pleg_rx,
            pleg: pleg.clone(),
            syncer,
            status: status.clone(),
            health: health.clone(),
            volumes: Some(volumes),
            api: hooks,
            gc: Some(gc),
            probes: Some(probe_rx),
        },
    )
    .map_err(thread_err("sync loop"))?;

    let loop_threshold = (sync_frequency * 2).max(Duration::from_secs(300));
    let server_host = Arc::new(server::host::CriHost { cri: server_cri, pleg: pleg.clone() });
    let checks = Checks::default()
        .add("ping", Arc::new(|| Ok(())))
        .add("log", Arc::new(|| Ok(())))
        .add("syncloop", server::checks::within("the sync loop", loop_threshold, move |t| health.healthy(t)))
        .add("pleg", server::checks::within("PLEG", PLEG_THRESHOLD, move |t| pleg.healthy(t)));
    let server_deps = server::secure::Deps {
        node_name: identity.name.clone(),
        checks: checks.clone(),
        pods: Arc::new(move || status.pods()),
        host: server_host,
        stats: Arc::new(stats.clone()),
        streaming: Arc::new(crate::streaming::Streaming::new(runtime.cri().clone(), k.streaming_connection_idle_timeout.to_std())),
        // API-server mode: the API client, for webhook authentication and authorization.
        client: clients.as_ref().map(|c| c.client.clone()),
    };
    start_servers(config, checks, &server_deps, &mut certs, &identity)?;
    Ok(Agent { _certs: certs, _api: api, _mux: mux, _file: file, _http: http, _stats: stats, _logs: logs })
}

fn connect_runtime(endpoint: &str, timeout: Duration) -> Result<cri::Client, StartError> {
    let client = cri::connect(endpoint, timeout).map_err(|e| StartError::Runtime(e.to_string()))?;
    let deadline = std::time::Instant::now() + RUNTIME_WAIT;
    let mut logged = false;
    loop {
        match client.version(&cri::VersionRequest { version: "v1".into() }) {
            Ok(v) => {
                log::info!("container runtime {} {} (CRI {}) at {endpoint}", v.runtime_name, v.runtime_version, v.runtime_api_version);
                return Ok(client);
            }
            Err(e) if std::time::Instant::now() < deadline => {
                if !logged {
                    log::warn!("waiting for the container runtime at {endpoint}: {e}");
                    logged = true;
                }
                std::thread::sleep(Duration::from_secs(1));
            }
            Err(e) => return Err(StartError::Runtime(format!("{endpoint} did not answer: {e}"))),
        }
    }
}

fn node_context(config: &Config, identity: &NodeIdentity, pod_logs_dir: PathBuf) -> NodeContext {
    let k = &config.kubelet;
    let resolv_conf = if k.resolv_conf.is_empty() {
        String::new()
    } else {
        std::fs::read_to_string(&k.resolv_conf).unwrap_or_else(|e| {
            log::warn!("cannot read resolvConf {}: {e}; pods with dnsPolicy Default get no DNS settings", k.resolv_conf);
            String::new()
        })
    };
    NodeContext {
        node_name: identity.name.clone(),
        host_ips: identity.ips.iter().map(IpAddr::to_string).collect(),
        cluster_dns: k.cluster_dns.clone(),
        cluster_domain: k.cluster_domain.clone(),
        resolv_conf,
        root_dir: config.flags.root_dir.clone(),
        pod_logs_dir,
        cgroup_driver: kuberuntime::CgroupDriver::parse(&k.cgroup_driver).unwrap_or_default(),
        cgroups_per_qos: k.cgroups_per_qos,
        cgroup_root: k.cgroup_root.clone(),
        ..Default::default()
    }
    .with_allocatable(&node_allocatable(config, identity))
}

/// The node's allocatable, for the downward API's default limits; computed once, in
/// standalone mode too (upstream: the Node it would register).
fn node_allocatable(config: &Config, identity: &NodeIdentity) -> BTreeMap<String, Quantity> {
    match crate::nodestatus::Config::from_kubelet(config, &identity.name, identity.ips.clone()) {
        Ok(cfg) => crate::nodestatus::local_allocatable(&cfg),
        Err(e) => {
            log::warn!("no node allocatable for the downward API's default limits: {e}");
            BTreeMap::new()
        }
    }
}

fn stats_config(config: &Config, node: &NodeContext) -> stats::Config {
    let k = &config.kubelet;
    stats::Config {
        node_name: node.node_name.clone(),
        root_dir: node.root_dir.clone(),
        pod_logs_dir: node.pod_logs_dir.clone(),
        pods_cgroup: node.cgroups_per_qos.then(|| kuberuntime::cgroup::pods_cgroup(node)),
        pods_memory_limit: node.allocatable_memory.and_then(|m| u64::try_from(m).ok()),
        kubelet_cgroups: k.kubelet_cgroups.clone(),
        system_cgroups: k.system_cgroups.clone(),
        runtime_endpoint: k.container_runtime_endpoint.clone(),
        ..stats::Config::default()
    }
}

fn start_servers(
    config: &Config,
    checks: Checks,
    deps: &server::secure::Deps,
    certs: &mut super::certs::Certs,
    identity: &NodeIdentity,
) -> Result<(), StartError> {
    let k = &config.kubelet;
    if k.healthz_port > 0 {
        let addr = socket_addr(&k.healthz_bind_address, k.healthz_port);
        server::healthz::spawn(addr, checks.clone())
            .map_err(|error| StartError::Listen { what: "healthz", addr: addr.to_string(), error })?;
    }
    if k.enable_server {
        certs.start_secure_server(config, identity, deps)?;
    }
    if k.read_only_port > 0 {
        server::secure::spawn_read_only(config, deps).map_err(StartError::Server)?;
    }
    Ok(())
}

fn socket_addr(host: &str, port: i32) -> SocketAddr {
    let ip = host.parse::<IpAddr>().unwrap_or(IpAddr::from([0, 0, 0, 0]));
    SocketAddr::new(ip, u16::try_from(port).unwrap_or(0))
}
