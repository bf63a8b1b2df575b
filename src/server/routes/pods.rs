//! `/pods` (the pods this node runs, with statuses) and `/runningpods/` (what the runtime
//! runs: name, namespace, UID and the running containers' names and images, as upstream's
//! `Pod.ToAPIPod`).

use super::{Deps, allow};
use crate::api::List;
use crate::api::core::{Container, Pod};
use crate::kuberuntime::{ContainerState, PodStatus, SandboxState};
use crate::server::http::{Request, Response};

/// A `v1 PodList` of `pods`.
pub fn pod_list(pods: Vec<Pod>) -> Response {
    let mut list = List::<Pod> { items: pods, ..Default::default() };
    list.api_version = Some("v1".into());
    list.kind = Some("PodList".into());
    match serde_json::to_vec(&list) {
        Ok(body) => Response::json(body),
        Err(e) => Response::error(500, &format!("cannot encode pods: {e}")),
    }
}

pub fn pods(d: &Deps, req: &Request) -> Response {
    if let Err(r) = allow(req, &["GET"]) {
        return r;
    }
    pod_list((d.pods)())
}

/// The runtime's view of one pod, as an API pod; `None` when nothing of it runs.
pub fn running_pod(status: &PodStatus) -> Option<Pod> {
    let ready = status.sandboxes.iter().any(|s| s.state == SandboxState::Ready);
    let running: Vec<Container> = status
        .containers
        .iter()
        .filter(|c| c.state == Some(ContainerState::Running))
        .map(|c| Container { name: c.name.clone(), image: Some(c.image.clone()).filter(|i| !i.is_empty()), ..Default::default() })
        .collect();
    if !ready && running.is_empty() {
        return None;
    }
    let mut pod = Pod::default();
    pod.metadata.name = Some(status.name.clone());
    pod.metadata.namespace = Some(status.namespace.clone());
    pod.metadata.uid = Some(status.uid.clone());
    pod.spec.containers = running;
    Some(pod)
}

pub fn running_pods(d: &Deps, req: &Request) -> Response {
    if let Err(r) = allow(req, &["GET"]) {
        return r;
    }
    match d.host.running_pods() {
        Ok(statuses) => pod_list(statuses.iter().filter_map(running_pod).collect()),
        Err(e) => Response::error(500, &e),
    }
}
