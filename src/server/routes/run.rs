//! `/run` (a command's output through CRI ExecSync) and the hand-off of `/exec`, `/attach`
//! and `/portForward` to the streaming proxy.

use super::{Deps, allow, find_pod};
use crate::server::http::{Request, Response};
use crate::server::listener::Outcome;
use crate::server::streaming_api::{StreamKind, StreamParams, StreamPath};

/// `POST /run/{ns}/{pod}[/{uid}]/{container}?cmd=...`: the command's stdout then stderr.
pub fn run(d: &Deps, req: &Request, segments: &[&str]) -> Response {
    let (namespace, pod_name, container) = match segments {
        ["run", ns, pod, c] | ["run", ns, pod, _, c] => (*ns, *pod, *c),
        _ => return Response::not_found(),
    };
    if let Err(r) = allow(req, &["POST"]) {
        return r;
    }
    if find_pod(d, namespace, pod_name).is_none() {
        return Response::text(404, "pod does not exist");
    }
    // Upstream splits `cmd` on single spaces (so "a  b" has an empty argument).
    let cmd_text = req.query_value("cmd").or_else(|| req.form().into_iter().find(|(k, _)| k == "cmd").map(|(_, v)| v)).unwrap_or_default();
    let cmd: Vec<String> = cmd_text.split(' ').map(str::to_string).collect();
    let id = match container_id(d, namespace, pod_name, container) {
        Ok(id) => id,
        Err(e) => return Response::text(500, e),
    };
    match d.host.exec_sync(&id, &cmd) {
        Ok(out) if out.exit_code != 0 => Response::text(
            500,
            format!("command '{}' exited with {}: {}", cmd.join(" "), out.exit_code, String::from_utf8_lossy(&out.stderr)),
        ),
        Ok(out) => Response::json([out.stdout, out.stderr].concat()),
        Err(e) => Response::text(500, e),
    }
}

/// The runtime ID of the running container `container` of pod `namespace/pod_name`.
fn container_id(d: &Deps, namespace: &str, pod_name: &str, container: &str) -> Result<String, String> {
    let pods = d.host.running_pods()?;
    pods.iter()
        .filter(|p| p.name == pod_name && p.namespace == namespace)
        .flat_map(|p| p.containers.iter())
        .find(|c| c.name == container && c.state == Some(crate::kuberuntime::ContainerState::Running))
        .map(|c| c.id.clone())
        .ok_or_else(|| format!("container not found ({container:?})"))
}

/// `/exec/{ns}/{pod}[/{uid}]/{container}`, `/attach/...` (same forms) and
/// `/portForward/{ns}/{pod}[/{uid}]`, GET or POST: handed to the streaming proxy once the
/// pod is known.
pub fn streaming(d: &Deps, req: Request, segments: &[&str]) -> Outcome {
    let reply = Outcome::Reply;
    let Some(StreamPath { kind, namespace, pod: pod_name, uid, container }) = StreamPath::parse(segments) else {
        return reply(Response::not_found());
    };
    if let Err(r) = allow(&req, &["GET", "POST"]) {
        return reply(r);
    }
    let Some(pod) = find_pod(d, namespace, pod_name) else {
        return reply(Response::text(404, "pod does not exist"));
    };
    if kind == StreamKind::PortForward && uid.is_some_and(|u| !u.is_empty() && pod.metadata.uid.as_deref() != Some(u)) {
        return reply(Response::text(404, "pod not found"));
    }
    let params = StreamParams {
        namespace: namespace.to_string(),
        pod_name: pod_name.to_string(),
        uid: uid.map(str::to_string),
        container: container.map(str::to_string),
        command: if kind == StreamKind::Exec { req.query_values("command") } else { Vec::new() },
        pod,
    };
    let handler = d.streaming.clone();
    Outcome::Upgrade(Box::new(move |conn| handler.handle(&req, kind, params, conn)))
}
