//! Reading one pod's state out of the runtime (upstream's `GetPodStatus`): its sandboxes and
//! containers, newest first, with the identity we wrote into their labels and annotations.
//!
//! ```text
//!  ListPodSandbox{uid} ─► PodSandboxStatus each ─► IPs of the newest, if ready
//!  ListContainers{uid} ─► ContainerStatus each  ─► identity, times, exit, termination message
//! ```
//! Objects removed between the list and the status call are skipped, as upstream does.

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::error::RuntimeError;
use super::labels::{read_container_identity, read_sandbox_identity};
use super::model::{ContainerState, ContainerStatus, PodStatus, SandboxState, SandboxStatus, keys};
use super::termination::termination_message;
use crate::cri::{self, CriError};

fn uid_selector(uid: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(keys::POD_UID.to_string(), uid.to_string())])
}

fn missing_status(method: &'static str) -> CriError {
    CriError::InvalidResponse { method, reason: "no status in the response".into() }
}

pub(crate) fn sandbox_state(s: cri::PodSandboxState) -> SandboxState {
    if s == cri::PodSandboxState::READY { SandboxState::Ready } else { SandboxState::NotReady }
}

pub(crate) fn container_state(s: cri::ContainerState) -> ContainerState {
    match s {
        cri::ContainerState::CREATED => ContainerState::Created,
        cri::ContainerState::RUNNING => ContainerState::Running,
        cri::ContainerState::EXITED => ContainerState::Exited,
        _ => ContainerState::Unknown,
    }
}

/// The sandboxes of pod `uid`, newest first (by creation time, then ID).
pub(crate) fn list_sandboxes(cri: &cri::Client, uid: &str) -> Result<Vec<cri::PodSandbox>, RuntimeError> {
    let filter = cri::PodSandboxFilter { label_selector: uid_selector(uid), ..Default::default() };
    let req = cri::ListPodSandboxRequest { filter: Some(filter) };
    let mut items = cri.list_pod_sandbox(&req).map_err(|e| RuntimeError::cri(format!("pod {uid}"), e))?.items;
    items.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
    Ok(items)
}

/// The containers of pod `uid` (unsorted).
pub(crate) fn list_containers(cri: &cri::Client, uid: &str) -> Result<Vec<cri::Container>, RuntimeError> {
    let filter = cri::ContainerFilter { label_selector: uid_selector(uid), ..Default::default() };
    let req = cri::ListContainersRequest { filter: Some(filter) };
    Ok(cri.list_containers(&req).map_err(|e| RuntimeError::cri(format!("pod {uid}"), e))?.containers)
}

/// The pod IPs a sandbox reports, primary first; none when one of them does not parse (as
/// upstream's `determinePodSandboxIPs`).
pub(crate) fn sandbox_ips(status: &cri::PodSandboxStatus) -> Vec<String> {
    let Some(net) = &status.network else { return Vec::new() };
    let ips: Vec<&str> = std::iter::once(net.ip.as_str())
        .filter(|ip| !ip.is_empty())
        .chain(net.additional_ips.iter().map(|p| p.ip.as_str()))
        .collect();
    if ips.iter().any(|ip| ip.parse::<IpAddr>().is_err()) {
        log::warn!("sandbox {} reported an unparseable IP among {ips:?}", status.id);
        return Vec::new();
    }
    ips.into_iter().map(str::to_string).collect()
}

fn host_network(status: &cri::PodSandboxStatus) -> bool {
    let options = status.linux.as_ref().and_then(|l| l.namespaces.as_ref()).and_then(|n| n.options.as_ref());
    options.is_some_and(|o| o.network == cri::NamespaceMode::NODE)
}

/// The status of one sandbox; `None` when it is gone.
pub(crate) fn sandbox_status(
    cri: &cri::Client,
    id: &str,
) -> Result<Option<cri::PodSandboxStatus>, RuntimeError> {
    let req = cri::PodSandboxStatusRequest { pod_sandbox_id: id.to_string(), verbose: false };
    match cri.pod_sandbox_status(&req) {
        Ok(r) => match r.status {
            Some(s) => Ok(Some(s)),
            None => Err(RuntimeError::cri(format!("sandbox {id}"), missing_status("PodSandboxStatus"))),
        },
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(RuntimeError::cri(format!("sandbox {id}"), e)),
    }
}

/// The status of one container; `None` when it is gone.
pub(crate) fn cri_container_status(
    cri: &cri::Client,
    id: &str,
) -> Result<Option<cri::ContainerStatus>, RuntimeError> {
    let req = cri::ContainerStatusRequest { container_id: id.to_string(), verbose: false };
    match cri.container_status(&req) {
        Ok(r) => match r.status {
            Some(s) => Ok(Some(s)),
            None => Err(RuntimeError::cri(format!("container {id}"), missing_status("ContainerStatus"))),
        },
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(RuntimeError::cri(format!("container {id}"), e)),
    }
}

/// Our view of one container from its CRI status (upstream's `convertToKubeContainerStatus`).
pub(crate) fn convert_container(s: &cri::ContainerStatus, sandbox_id: &str) -> ContainerStatus {
    let identity = read_container_identity(&s.labels, &s.annotations);
    let meta_name = s.metadata.as_ref().map_or("", |m| m.name.as_str());
    let state = container_state(s.state);
    let mut c = ContainerStatus {
        id: s.id.clone(),
        name: identity.as_ref().map_or(meta_name, |i| i.container_name.as_str()).to_string(),
        sandbox_id: sandbox_id.to_string(),
        state: Some(state),
        created_at: s.created_at,
        image: s.image.as_ref().map(|i| i.image.clone()).unwrap_or_default(),
        image_ref: s.image_ref.clone(),
        image_id: if s.image_id.is_empty() { s.image_ref.clone() } else { s.image_id.clone() },
        log_path: s.log_path.clone(),
        ..Default::default()
    };
    if let Some(i) = &identity {
        c.hash = i.hash;
        c.restart_count = i.restart_count;
        c.termination_message_path = i.termination_message_path.clone();
        c.termination_message_policy = i.termination_message_policy.clone();
    }
    if state != ContainerState::Created {
        c.started_at = s.started_at;
    }
    if state == ContainerState::Exited {
        c.reason = s.reason.clone();
        c.message = s.message.clone();
        c.exit_code = s.exit_code;
        c.finished_at = s.finished_at;
        let written = termination_message(s, &c.termination_message_path, &c.termination_message_policy);
        if !written.is_empty() {
            if !c.message.is_empty() {
                c.message.push_str(": ");
            }
            c.message.push_str(&written);
        }
    }
    c
}

/// Everything the runtime knows of pod `uid`.
pub(crate) fn pod_status(cri: &cri::Client, uid: &str) -> Result<PodStatus, RuntimeError> {
    let mut status = PodStatus { uid: uid.to_string(), ..Default::default() };
    let sandboxes = list_sandboxes(cri, uid)?;
    if let Some(first) = sandboxes.first() {
        if let Some((name, namespace, _)) = read_sandbox_identity(&first.labels) {
            (status.name, status.namespace) = (name, namespace);
        } else if let Some(m) = &first.metadata {
            (status.name, status.namespace) = (m.name.clone(), m.namespace.clone());
        }
    }
    for (idx, sb) in sandboxes.iter().enumerate() {
        let Some(s) = sandbox_status(cri, &sb.id)? else { continue };
        let state = sandbox_state(s.state);
        let ips = sandbox_ips(&s);
        if idx == 0 && state == SandboxState::Ready {
            status.ips = ips.clone();
        }
        status.sandboxes.push(SandboxStatus {
            id: s.id.clone(),
            state,
            created_at: s.created_at,
            attempt: s.metadata.as_ref().map_or(0, |m| m.attempt),
            ips,
            host_network: host_network(&s),
        });
    }
    for c in list_containers(cri, uid)? {
        let Some(s) = cri_container_status(cri, &c.id)? else { continue };
        if status.name.is_empty() {
            let label = |k: &str| c.labels.get(k).cloned().unwrap_or_default();
            (status.name, status.namespace) = (label(keys::POD_NAME), label(keys::POD_NAMESPACE));
        }
        status.containers.push(convert_container(&s, &c.pod_sandbox_id));
    }
    status.containers.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| b.id.cmp(&a.id)));
    Ok(status)
}
