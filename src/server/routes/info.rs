//! The read endpoints that need no pod: `/healthz`, `/stats/summary`, `/metrics*`,
//! `/configz`, `/spec/`.

use super::{Deps, allow};
use crate::metrics;
use crate::server::Reply;
use crate::server::http::{Request, Response};

fn from_reply(r: Reply) -> Response {
    Response::new(r.status, r.content_type, r.body).with_header("X-Content-Type-Options", "nosniff")
}

/// `/healthz` (all checks; `?verbose`, `?exclude=`) and `/healthz/<check>`.
pub fn healthz(d: &Deps, req: &Request, segments: &[&str]) -> Response {
    match segments {
        ["healthz"] | ["healthz", ""] => {
            let verbose = req.query().iter().any(|(k, _)| k == "verbose");
            from_reply(d.checks.reply_excluding(verbose, &req.query_values("exclude")))
        }
        ["healthz", name] => d.checks.reply_one(name).map_or_else(Response::not_found, from_reply),
        _ => Response::not_found(),
    }
}

/// `only_cpu_and_memory`, counted in the query and a form body together, must be given once
/// and be `true` (upstream reads `Request.Form`).
fn only_cpu_and_memory(req: &Request) -> bool {
    let mut values = req.query();
    if req.method() == "POST" {
        values.extend(req.form());
    }
    let given: Vec<&String> = values.iter().filter(|(k, _)| k == "only_cpu_and_memory").map(|(_, v)| v).collect();
    matches!(given.as_slice(), [v] if v.as_str() == "true")
}

/// `/stats/summary` (GET or POST), from the stats provider.
pub fn stats(d: &Deps, req: &Request, path: &str) -> Response {
    if path != "/stats/summary" && path != "/stats/summary/" {
        return Response::not_found();
    }
    if let Err(r) = allow(req, &["GET", "POST"]) {
        return r;
    }
    if !d.stats.available() {
        return Response::error(503, "stats are not available on this kubelet yet");
    }
    match d.stats.summary(only_cpu_and_memory(req)) {
        Ok(v) => match serde_json::to_vec(&v) {
            Ok(body) => Response::json(body),
            Err(e) => Response::text(500, format!("Internal Error: {e}")),
        },
        Err(e) => {
            log::error!("serving /stats/summary: {e}");
            Response::text(500, format!("Internal Error: {e}"))
        }
    }
}

/// `/metrics`, `/metrics/cadvisor`, `/metrics/resource`, `/metrics/probes`.
pub fn metrics(d: &Deps, _req: &Request, path: &str) -> Response {
    let text = |body: String| Response::new(200, metrics::TEXT_FORMAT, body);
    match path {
        "/metrics" => text(metrics::kubelet_text()),
        // No cAdvisor: the container figures are in /stats/summary and /metrics/resource.
        "/metrics/cadvisor" => text(String::new()),
        "/metrics/probes" => text(metrics::probes_text()),
        "/metrics/resource" if !d.stats.available() => Response::error(503, "resource metrics are not available on this kubelet yet"),
        "/metrics/resource" => match d.stats.resource_metrics() {
            Ok(body) => text(body),
            Err(e) => {
                log::error!("serving /metrics/resource: {e}");
                Response::error(500, &format!("error gathering metrics: {e}"))
            }
        },
        _ => Response::not_found(),
    }
}

/// `/configz`: `{"kubeletconfig": <KubeletConfiguration>}`.
pub fn configz(d: &Deps) -> Response {
    let body = serde_json::json!({ "kubeletconfig": d.config });
    match serde_json::to_vec(&body) {
        Ok(b) => Response::json(b).with_header("X-Content-Type-Options", "nosniff"),
        Err(e) => Response::error(500, &e.to_string()),
    }
}

/// `/spec/`: the machine, as cAdvisor's MachineInfo names it.
pub fn spec(d: &Deps, req: &Request) -> Response {
    if let Err(r) = allow(req, &["GET"]) {
        return r;
    }
    match serde_json::to_vec(&(d.machine)()) {
        Ok(b) => Response::json(b),
        Err(e) => Response::error(500, &e.to_string()),
    }
}
