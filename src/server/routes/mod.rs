//! The kubelet API's endpoints, and which server offers which (upstream's
//! `InstallAuthNotRequiredHandlers`, `InstallAuthRequiredHandlers`, the debugging ones).
//!
//! | path | authenticated port | read-only port |
//! | --- | --- | --- |
//! | `/healthz`, `/healthz/{ping,log,syncloop,...}` | yes | yes |
//! | `/pods` | yes | yes |
//! | `/stats/summary`, `/metrics`, `/metrics/{cadvisor,resource,probes}` | yes | yes |
//! | `/run`, `/exec`, `/attach`, `/portForward`, `/containerLogs`, `/runningpods/`, `/configz` | with enableDebuggingHandlers | 405 |
//! | `/logs/` | with enableDebuggingHandlers and enableSystemLogHandler | 405 |
//! | `/spec/` (beyond upstream v1.37, which dropped it) | with enableDebuggingHandlers | no |
//!
//! Without enableDebuggingHandlers the debugging paths answer 405 `Debug endpoints are
//! disabled.`, as upstream.

mod containerlogs;
mod info;
mod pods;
mod run;
mod syslogs;

pub use containerlogs::{LogOptions, parse_log_options};

use std::path::PathBuf;
use std::sync::Arc;

use super::auth::attributes::{self, Attributes};
use super::auth::authz::{Authorizer, Decision};
use super::auth::{Authenticator, User};
use super::checks::Checks;
use super::http::{Request, Response};
use super::listener::{Outcome, Peer, Service};
use super::stats_api::StatsProvider;
use super::streaming_api::StreamingHandler;
use crate::api::core::Pod;
use crate::kuberuntime::PodStatus;

/// What the runtime can tell the server (CRI through the PLEG cache, in the agent).
pub trait Host: Send + Sync {
    /// The runtime's pods: sandboxes and containers (upstream's runtime cache).
    fn running_pods(&self) -> Result<Vec<PodStatus>, String>;
    /// A container's log file and whether it is running (CRI ContainerStatus).
    fn container_log(&self, container_id: &str) -> Result<ContainerLog, String>;
    /// Runs a command in a container (CRI ExecSync, no timeout).
    fn exec_sync(&self, container_id: &str, cmd: &[String]) -> Result<ExecOutput, String>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerLog {
    pub path: PathBuf,
    pub running: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i32,
}

/// Everything the endpoints read from.
pub struct Deps {
    pub node_name: String,
    pub checks: Checks,
    /// The node's pods with their current statuses (pod manager + status manager).
    pub pods: Arc<dyn Fn() -> Vec<Pod> + Send + Sync>,
    pub host: Arc<dyn Host>,
    pub stats: Arc<dyn StatsProvider>,
    pub streaming: Arc<dyn StreamingHandler>,
    /// The versioned KubeletConfiguration, for `/configz`.
    pub config: serde_json::Value,
    /// cAdvisor-style machine info, for `/spec/`.
    pub machine: Arc<dyn Fn() -> serde_json::Value + Send + Sync>,
    /// Where `/logs/` serves from (`/var/log/`).
    pub node_log_dir: PathBuf,
    pub debugging_handlers: bool,
    pub system_log_handler: bool,
}

/// Authentication and authorization of the authenticated port.
pub struct Auth {
    pub authn: Authenticator,
    pub authz: Authorizer,
    pub node_name: String,
}

/// The endpoints of one server: with `auth` the authenticated port, without it the
/// read-only port.
pub struct Router {
    deps: Deps,
    auth: Option<Auth>,
}

const DEBUG_PATHS: [&str; 8] = ["run", "exec", "attach", "portForward", "containerLogs", "runningpods", "debug", "logs"];

impl Router {
    pub fn secure(deps: Deps, auth: Auth) -> Router {
        Router { deps, auth: Some(auth) }
    }

    pub fn read_only(deps: Deps) -> Router {
        Router { deps, auth: None }
    }

    /// 401, 403 or 500 when the request may not go on; the caller otherwise.
    fn check(&self, req: &mut Request, peer: &Peer) -> Result<Option<User>, Response> {
        let Some(auth) = &self.auth else { return Ok(None) };
        let user = auth.authn.authenticate(req, &peer.certs).map_err(|e| {
            log::debug!("unauthenticated request {} {} from {}: {e}", req.method(), req.path(), peer.addr);
            Response::text(401, "Unauthorized")
        })?;
        let attrs = attributes::for_request(&user, req.method(), req.path(), &auth.node_name);
        for a in &attrs {
            match auth.authz.authorize(a) {
                Ok(Decision::Allow) => return Ok(Some(user)),
                Ok(_) => {}
                Err(e) => {
                    log::error!("authorization error for {} {}: {e}", a.user.name, a.path);
                    let msg = format!("Authorization error (user={}, verb={}, resource={}, subresource={})", a.user.name, a.verb, a.resource, a.subresource);
                    return Err(Response::text(500, msg));
                }
            }
        }
        Err(forbidden(&attrs))
    }

    fn route(&self, req: Request) -> Outcome {
        let path = req.path().to_string();
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let first = segments.first().copied().unwrap_or_default();
        let d = &self.deps;
        let reply = |r: Response| Outcome::Reply(r);
        match first {
            "healthz" => reply(info::healthz(d, &req, &segments)),
            "pods" if segments.len() == 1 || path == "/pods/" => reply(pods::pods(d, &req)),
            "stats" => reply(info::stats(d, &req, &path)),
            "metrics" => reply(info::metrics(d, &req, &path)),
            _ if self.auth.is_none() || !d.debugging_handlers => {
                let debug_path = DEBUG_PATHS.contains(&first) && (segments.len() > 1 || first == "runningpods");
                reply(if debug_path { Response::error(405, "Debug endpoints are disabled.") } else { Response::not_found() })
            }
            "run" => reply(run::run(d, &req, &segments)),
            "exec" | "attach" | "portForward" => run::streaming(d, req, &segments),
            "containerLogs" => containerlogs::serve(d, &req, &segments),
            "runningpods" if segments.get(1).is_none_or(|s| s.is_empty()) => reply(pods::running_pods(d, &req)),
            "configz" if segments.len() == 1 => reply(info::configz(d)),
            "spec" if segments.get(1).is_none_or(|s| s.is_empty()) => reply(info::spec(d, &req)),
            "logs" if segments.len() > 1 && d.system_log_handler => syslogs::serve(d, &req),
            "logs" if segments.len() > 1 => reply(Response::error(405, "logs endpoint is disabled.")),
            _ => reply(Response::not_found()),
        }
    }
}

/// Upstream's 403 body: the first question, and every subresource asked about.
fn forbidden(attrs: &[Attributes]) -> Response {
    let Some(a) = attrs.first() else {
        return Response::text(403, "Authorization error: could not determine attributes for request");
    };
    let subs: Vec<&str> = attrs.iter().map(|a| a.subresource.as_str()).collect();
    log::debug!("forbidden: user={} verb={} resource={} subresources={subs:?}", a.user.name, a.verb, a.resource);
    Response::text(403, format!("Forbidden (user={}, verb={}, resource={}, subresource(s)=[{}])\n", a.user.name, a.verb, a.resource, subs.join(" ")))
}

/// Only these methods; 405 with `Allow` otherwise (upstream's `AllowedMethodsRestfulFilter`).
pub(crate) fn allow(req: &Request, methods: &[&str]) -> Result<(), Response> {
    if methods.contains(&req.method()) {
        return Ok(());
    }
    Err(Response::text(405, "Method Not Allowed").with_header("Allow", &methods.join(", ")))
}

/// The pod named `namespace/name` among the node's pods.
pub(crate) fn find_pod(d: &Deps, namespace: &str, name: &str) -> Option<Pod> {
    (d.pods)()
        .into_iter()
        .find(|p| p.metadata.name.as_deref() == Some(name) && p.metadata.namespace.as_deref().unwrap_or("default") == namespace)
}

impl Service for Router {
    fn serve(&self, mut req: Request, peer: &Peer) -> Outcome {
        match self.check(&mut req, peer) {
            Ok(_) => self.route(req),
            Err(resp) => Outcome::Reply(resp),
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
