//! Lifecycle hooks (postStart, preStop), as upstream's `lifecycle.handlerRunner`: `exec`
//! through the runtime's ExecSync, `httpGet` as a GET whose answer (any status) counts as
//! success, `sleep`. `tcpSocket` is accepted by the API but never runs, as upstream.
//!
//! HTTP hooks use the prober's client (local redirects followed, HTTPS without certificate
//! checks, as upstream's insecure lifecycle client); an HTTPS hook answered in plain HTTP is
//! retried in HTTP, without `Authorization`, and a `LifecycleHTTPFallback` event says so.

use std::time::Duration;

use super::error::cri_error_text;
use crate::api::core::{Container, HTTPGetAction, LifecycleHandler, Pod};
use crate::api::intstr::IntOrString;
use crate::cri;
use crate::events::{EventType, Recorder, reason};
use crate::prober::http::{self, PLAIN_HTTP_ANSWER};
use crate::status::reason::pod_desc;

/// How long an HTTP hook may take, redirects included (upstream sets none; the preStop
/// caller stops waiting after the grace period anyway).
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// What a hook runs against.
pub(crate) struct Target<'a> {
    pub cri: &'a cri::Client,
    pub recorder: &'a dyn Recorder,
    pub pod: &'a Pod,
    pub container: &'a Container,
    pub container_id: &'a str,
    /// The pod's IPs: an HTTP hook without `host` goes to the first.
    pub pod_ips: &'a [String],
}

/// Runs `handler` for the target container; `Err` carries upstream's message.
pub(crate) fn run(t: &Target<'_>, handler: &LifecycleHandler) -> Result<(), String> {
    let (pod, container) = (t.pod, t.container);
    if let Some(exec) = &handler.exec {
        return run_exec(t.cri, t.container_id, &exec.command).map_err(|(err, output)| {
            format!(
                "Exec lifecycle hook ([{}]) for Container {:?} in Pod {:?} failed - error: {err}, message: {output:?}",
                exec.command.join(" "),
                container.name,
                pod_desc(pod)
            )
        });
    }
    if let Some(get) = &handler.http_get {
        return run_http(t, get).map_err(|err| {
            format!(
                "HTTP lifecycle hook ({}) for Container {:?} in Pod {:?} failed - error: {err}",
                get.path.as_deref().unwrap_or(""),
                container.name,
                pod_desc(pod)
            )
        });
    }
    if let Some(sleep) = &handler.sleep {
        std::thread::sleep(Duration::from_secs(u64::try_from(sleep.seconds).unwrap_or(0)));
        return Ok(());
    }
    Err(format!("Cannot run handler: invalid handler: {handler:?}"))
}

/// ExecSync without a timeout; a non-zero exit is an error, as the CRI client makes it.
fn run_exec(cri: &cri::Client, container_id: &str, cmd: &[String]) -> Result<(), (String, String)> {
    let req = cri::ExecSyncRequest { container_id: container_id.to_string(), cmd: cmd.to_vec(), timeout: 0 };
    let resp = cri.exec_sync(&req).map_err(|e| (cri_error_text(&e), String::new()))?;
    if resp.exit_code != 0 {
        let stderr = String::from_utf8_lossy(&resp.stderr);
        let err = format!("command '{}' exited with {}: {stderr}", cmd.join(" "), resp.exit_code);
        let mut output = resp.stdout.clone();
        output.extend_from_slice(&resp.stderr);
        return Err((err, String::from_utf8_lossy(&output).into_owned()));
    }
    Ok(())
}

/// A port number, or the named port of the container (upstream's `ResolveContainerPort`).
pub(crate) fn resolve_port(port: &IntOrString, container: &Container) -> Result<u16, String> {
    if let Some(n) = port.as_int() {
        return u16::try_from(n).ok().filter(|p| *p > 0).ok_or_else(|| format!("invalid port number: {n}"));
    }
    let name = port.as_str().unwrap_or("");
    let found = container.ports.iter().find(|p| p.name.as_deref() == Some(name)).map(|p| p.container_port);
    let n = found.ok_or_else(|| format!("couldn't find port: {name:?} in {:?}", container.name))?;
    u16::try_from(n).ok().filter(|p| *p > 0).ok_or_else(|| format!("invalid port number: {n}"))
}

/// The GET an `httpGet` hook describes (upstream's `NewRequestForHTTPGetAction` with the
/// `kube-lifecycle` user agent).
fn hook_request(action: &HTTPGetAction, container: &Container, pod_ips: &[String]) -> Result<http::Request, String> {
    let host = match action.host.as_deref().filter(|h| !h.is_empty()) {
        Some(h) => h.to_string(),
        None => pod_ips.first().cloned().ok_or("failed to find networking container: the pod has no IP")?,
    };
    let path = match action.path.as_deref() {
        Some(p) if p.starts_with('/') => p.to_string(),
        Some(p) => format!("/{p}"),
        None => "/".to_string(),
    };
    let mut headers: Vec<(String, String)> =
        action.http_headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect();
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("User-Agent")) {
        let v = crate::version::KUBERNETES.trim_start_matches('v');
        let minor = v.rsplit_once('.').map_or(v, |(mm, _)| mm);
        headers.insert(0, ("User-Agent".to_string(), format!("kube-lifecycle/{minor}")));
    }
    Ok(http::Request {
        https: action.scheme.as_deref().is_some_and(|s| s.eq_ignore_ascii_case("https")),
        host,
        port: resolve_port(&action.port, container)?,
        path,
        headers,
    })
}

fn run_http(t: &Target<'_>, action: &HTTPGetAction) -> Result<(), String> {
    let req = hook_request(action, t.container, t.pod_ips)?;
    match http::get(&req, HTTP_TIMEOUT) {
        Err(e) if req.https && e.ends_with(PLAIN_HTTP_ANSWER) => {
            let plain = http::Request {
                https: false,
                headers: req.headers.iter().filter(|(n, _)| !n.eq_ignore_ascii_case("Authorization")).cloned().collect(),
                ..req.clone()
            };
            // Upstream keeps the HTTPS error when the HTTP retry fails too.
            http::get(&plain, HTTP_TIMEOUT).map_err(|_| e)?;
            let host = if plain.host.contains(':') {
                format!("[{}]:{}", plain.host, plain.port)
            } else {
                format!("{}:{}", plain.host, plain.port)
            };
            let message = format!("request to HTTPS lifecycle hook {host} got HTTP response, retry with HTTP succeeded");
            t.recorder.pod_event(t.pod, "", EventType::Warning, reason::LIFECYCLE_HTTP_FALLBACK, &message);
            Ok(())
        }
        other => other.map(drop),
    }
}

#[cfg(test)]
#[path = "hooks_tests.rs"]
mod tests;
