//! Running one probe: pick the handler (exec, HTTP GET, TCP, gRPC), retry errors, and tell
//! the user what went wrong through `Unhealthy` / `ProbeWarning` events.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::http;
use super::net::{dial, timeout as probe_timeout};
use super::{Outcome, ProbeType, exec};
use crate::api::intstr::IntOrString;
use crate::api::core::{Container, HTTPGetAction, Pod, PodStatus as ApiPodStatus, Probe};
use crate::cri;
use crate::events::{EventType, Recorder, reason};
use crate::status::reason::pod_desc;

/// Upstream runs a probe that errors up to this many times before giving up.
const MAX_RETRIES: usize = 3;

/// A handler's verdict (upstream's `probe.Result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Success,
    /// A success the user should hear about (a redirect not followed).
    Warning,
    Failure,
    Unknown,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Success => "success",
            Verdict::Warning => "warning",
            Verdict::Failure => "failure",
            Verdict::Unknown => "unknown",
        })
    }
}

/// Why a probe could not run at all.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeError {
    NoHandler { pod: String, container: String },
    Port { port: String, reason: &'static str },
    Exec { container_id: String, error: cri::CriError },
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::NoHandler { pod, container } => write!(f, "missing probe handler for {pod}:{container}"),
            ProbeError::Port { port, reason } => write!(f, "port {port}: {reason}"),
            ProbeError::Exec { container_id, error } => write!(f, "exec in container {container_id}: {error}"),
        }
    }
}

impl std::error::Error for ProbeError {}

/// Runs the probe of `kind` against one container instance; workers depend on this only.
pub trait Runner: Send + Sync {
    /// `Err` when the probe could not run (the worker keeps its state and tries next period).
    fn probe(&self, kind: ProbeType, pod: &Pod, status: &ApiPodStatus, container: &Container, container_id: &str) -> Result<Outcome, ProbeError>;
}

/// The real prober.
pub struct Prober {
    pub cri: cri::Client,
    pub recorder: Arc<dyn Recorder>,
}

/// Upstream's `ResolveContainerPort`: a number, or the name of one of the container's ports.
pub(crate) fn resolve_port(port: &IntOrString, container: &Container) -> Result<u16, ProbeError> {
    let n = match port {
        IntOrString::Int(n) => *n,
        IntOrString::String(name) => match container.ports.iter().find(|p| p.name.as_deref() == Some(name.as_str())) {
            Some(p) => p.container_port,
            None => return Err(ProbeError::Port { port: format!("{name:?}"), reason: "not found" }),
        },
    };
    u16::try_from(n).ok().filter(|&p| p > 0).ok_or(ProbeError::Port { port: n.to_string(), reason: "invalid port number" })
}

/// The GET a probe's `httpGet` describes; the host defaults to the pod's IP.
pub(crate) fn http_request(get: &HTTPGetAction, container: &Container, pod_ip: &str) -> Result<http::Request, ProbeError> {
    let port = resolve_port(&get.port, container)?;
    let host = get.host.as_deref().filter(|h| !h.is_empty()).unwrap_or(pod_ip).to_string();
    let path = get.path.as_deref().unwrap_or("");
    let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
    Ok(http::Request {
        https: get.scheme.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("https")),
        host,
        port,
        path,
        headers: get.http_headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect(),
    })
}

fn tcp_probe(host: &str, port: u16, timeout: Duration) -> (Verdict, String) {
    match dial(host, port, Instant::now() + timeout) {
        Ok(_) => (Verdict::Success, String::new()),
        Err(e) => (Verdict::Failure, e),
    }
}

impl Prober {
    fn spec(kind: ProbeType, c: &Container) -> Option<&Probe> {
        match kind {
            ProbeType::Liveness => c.liveness_probe.as_ref(),
            ProbeType::Readiness => c.readiness_probe.as_ref(),
            ProbeType::Startup => c.startup_probe.as_ref(),
        }
    }

    fn run_once(&self, p: &Probe, pod: &Pod, status: &ApiPodStatus, c: &Container, container_id: &str) -> Result<(Verdict, String), ProbeError> {
        let timeout = probe_timeout(p.timeout_seconds);
        let pod_ip = status.pod_ip.as_deref().unwrap_or("");
        let h = &p.handler;
        if let Some(e) = &h.exec {
            return exec::probe(&self.cri, container_id, exec::expand_command(&e.command, c), timeout);
        }
        if let Some(get) = &h.http_get {
            return Ok(http::probe(&http_request(get, c, pod_ip)?, timeout));
        }
        if let Some(t) = &h.tcp_socket {
            let port = resolve_port(&t.port, c)?;
            let host = t.host.as_deref().filter(|h| !h.is_empty()).unwrap_or(pod_ip);
            return Ok(tcp_probe(host, port, timeout));
        }
        if let Some(g) = &h.grpc {
            let port = resolve_port(&IntOrString::Int(g.port), c)?;
            return Ok(super::grpc::probe(pod_ip, port, g.service.as_deref().unwrap_or(""), timeout));
        }
        Err(ProbeError::NoHandler { pod: pod_desc(pod), container: c.name.clone() })
    }

    fn event(&self, pod: &Pod, c: &Container, reason: &str, message: &str) {
        let path = crate::kuberuntime::field_path(pod, &c.name);
        self.recorder.pod_event(pod, &path, EventType::Warning, reason, message);
    }
}

impl Runner for Prober {
    fn probe(&self, kind: ProbeType, pod: &Pod, status: &ApiPodStatus, c: &Container, container_id: &str) -> Result<Outcome, ProbeError> {
        let Some(p) = Self::spec(kind, c) else { return Ok(Outcome::Success) };
        let mut last = self.run_once(p, pod, status, c, container_id);
        for _ in 1..MAX_RETRIES {
            if last.is_ok() {
                break;
            }
            last = self.run_once(p, pod, status, c, container_id);
        }
        let desc = pod_desc(pod);
        match last {
            Err(e) => {
                log::debug!("{kind} probe of {desc} container {} errored: {e}", c.name);
                let message = format!("{kind} probe errored and resulted in {} state: {e}", Verdict::Unknown);
                self.event(pod, c, reason::UNHEALTHY, &message);
                Err(e)
            }
            Ok((Verdict::Success, _)) => {
                log::trace!("{kind} probe of {desc} container {} succeeded", c.name);
                Ok(Outcome::Success)
            }
            Ok((Verdict::Warning, output)) => {
                self.event(pod, c, reason::PROBE_WARNING, &format!("{kind} probe warning: {output}"));
                Ok(Outcome::Success)
            }
            Ok((Verdict::Failure, output)) => {
                log::debug!("{kind} probe of {desc} container {} failed: {output}", c.name);
                self.event(pod, c, reason::UNHEALTHY, &format!("{kind} probe failed: {output}"));
                Ok(Outcome::Failure)
            }
            Ok((Verdict::Unknown, _)) => Ok(Outcome::Failure),
        }
    }
}
