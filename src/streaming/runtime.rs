//! From a request to the runtime's streaming URL: find the pod and container, then ask the
//! runtime (CRI Exec, Attach or PortForward), as upstream's `GetExec`, `GetAttach` and
//! `GetPortForward` do, in the same order and with the same errors.

use super::StreamKind;
use super::error::StreamError;
use super::head::RequestHead;
use super::options::{Query, StreamFlags, Target, command, ports};
use crate::api::core::Pod;
use crate::cri::{
    self, AttachRequest, ContainerFilter, ContainerState, ContainerStateValue, CriError, ExecRequest,
    ListContainersRequest, ListPodSandboxRequest, PodSandboxFilter, PodSandboxState, PortForwardRequest,
};

/// What the runtime runs of one pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimePod {
    /// Running containers as (name, container ID).
    pub running: Vec<(String, String)>,
    /// Sandboxes as (ID, ready), newest first.
    pub sandboxes: Vec<(String, bool)>,
}

/// The runtime calls streaming needs; [`cri::Client`] is the real one, tests fake it.
pub trait StreamingRuntime: Send + Sync {
    /// The pod's running containers and its sandboxes, by pod UID.
    fn runtime_pod(&self, uid: &str) -> Result<RuntimePod, CriError>;
    /// The streaming URL of each call.
    fn exec(&self, req: &ExecRequest) -> Result<String, CriError>;
    fn attach(&self, req: &AttachRequest) -> Result<String, CriError>;
    fn port_forward(&self, req: &PortForwardRequest) -> Result<String, CriError>;
}

const UID_LABEL: &str = "io.kubernetes.pod.uid";
const CONTAINER_NAME_LABEL: &str = "io.kubernetes.container.name";

impl StreamingRuntime for cri::Client {
    fn runtime_pod(&self, uid: &str) -> Result<RuntimePod, CriError> {
        let by_uid = || [(UID_LABEL.to_string(), uid.to_string())].into_iter().collect();
        let filter = PodSandboxFilter { label_selector: by_uid(), ..Default::default() };
        let mut sandboxes = self.list_pod_sandbox(&ListPodSandboxRequest { filter: Some(filter) })?.items;
        sandboxes.sort_by_key(|s| std::cmp::Reverse(s.created_at));
        let filter = ContainerFilter {
            state: Some(ContainerStateValue { state: ContainerState::RUNNING }),
            label_selector: by_uid(),
            ..Default::default()
        };
        let containers = self.list_containers(&ListContainersRequest { filter: Some(filter) })?.containers;
        let name = |c: &cri::Container| {
            let from_label = c.labels.get(CONTAINER_NAME_LABEL).cloned();
            from_label.or_else(|| c.metadata.as_ref().map(|m| m.name.clone())).unwrap_or_default()
        };
        Ok(RuntimePod {
            running: containers.iter().map(|c| (name(c), c.id.clone())).collect(),
            sandboxes: sandboxes.into_iter().map(|s| (s.id, s.state == PodSandboxState::READY)).collect(),
        })
    }

    fn exec(&self, req: &ExecRequest) -> Result<String, CriError> {
        cri::Client::exec(self, req).map(|r| r.url)
    }

    fn attach(&self, req: &AttachRequest) -> Result<String, CriError> {
        cri::Client::attach(self, req).map(|r| r.url)
    }

    fn port_forward(&self, req: &PortForwardRequest) -> Result<String, CriError> {
        cri::Client::port_forward(self, req).map(|r| r.url)
    }
}


/// Where the runtime serves a stream, and (exec, attach) the streams it was asked for: a
/// translated session must open exactly those.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeStream {
    pub url: String,
    pub flags: Option<StreamFlags>,
}

/// The runtime's streaming URL for a request, with the stream flags of the CRI request:
/// options first (400), then the pod the kubelet knows (`pod`, from the pod manager or status
/// manager; 404 when `None`), then the runtime.
pub fn runtime_stream(
    target: &Target,
    head: &RequestHead,
    pod: Option<&Pod>,
    runtime: &dyn StreamingRuntime,
) -> Result<RuntimeStream, StreamError> {
    let query = Query::parse(head.query());
    let unknown =
        || StreamError::PodUnknown { namespace: target.namespace.clone(), name: target.pod.clone() };
    match target.kind {
        StreamKind::Exec => {
            let flags = StreamFlags::parse(&query)?;
            let pod = pod.ok_or_else(unknown)?;
            let container_id = running_container(target, pod, runtime)?.ok_or_else(|| {
                StreamError::ExecContainerNotRunning {
                    pod: target.pod_full_name(),
                    container: target.container.clone(),
                }
            })?;
            let req = ExecRequest {
                container_id,
                cmd: command(&query),
                tty: flags.tty,
                stdin: flags.stdin,
                stdout: flags.stdout,
                stderr: flags.stderr,
            };
            Ok(RuntimeStream { url: runtime.exec(&req)?, flags: Some(flags) })
        }
        StreamKind::Attach => {
            let flags = StreamFlags::parse(&query)?;
            let pod = pod.ok_or_else(unknown)?;
            let not_found = || StreamError::AttachContainerNotFound {
                pod: target.pod_full_name(),
                container: target.container.clone(),
            };
            let container_id = running_container(target, pod, runtime)?.ok_or_else(not_found)?;
            if !target.uid.is_empty() && pod_uid(pod) != target.uid {
                return Err(StreamError::AttachUidMismatch {
                    pod: target.pod_full_name(),
                    uid: target.uid.clone(),
                });
            }
            // Whether the process has a TTY was fixed when it started: the spec says.
            let tty = spec_tty(pod, &target.container).ok_or_else(not_found)?;
            let req = AttachRequest {
                container_id,
                stdin: flags.stdin,
                tty,
                stdout: flags.stdout,
                stderr: flags.stderr,
            };
            let url = runtime.attach(&req)?;
            Ok(RuntimeStream { url, flags: Some(StreamFlags { tty, ..flags }) })
        }
        StreamKind::PortForward => {
            let ports = ports(&query, head.is_websocket() && !head.is_websocket_tunneling())?;
            let pod = pod.ok_or_else(unknown)?;
            let uid = pod_uid(pod);
            if !target.uid.is_empty() && uid != target.uid {
                return Err(StreamError::PortForwardUidMismatch {
                    pod: target.pod_full_name(),
                    uid: target.uid.clone(),
                });
            }
            let running = runtime.runtime_pod(uid)?;
            if running.running.is_empty() && !running.sandboxes.iter().any(|(_, ready)| *ready) {
                return Err(StreamError::PodNotRunning { pod: target.pod_full_name() });
            }
            let Some((sandbox, _)) = running.sandboxes.first() else {
                return Err(StreamError::NoSandbox { pod: target.pod_full_name(), uid: uid.to_string() });
            };
            let url =
                runtime.port_forward(&PortForwardRequest { pod_sandbox_id: sandbox.clone(), port: ports })?;
            Ok(RuntimeStream { url, flags: None })
        }
    }
}

fn pod_uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or_default()
}

/// The ID of the first running container named as the target asks.
fn running_container(
    target: &Target,
    pod: &Pod,
    runtime: &dyn StreamingRuntime,
) -> Result<Option<String>, StreamError> {
    let running = runtime.runtime_pod(pod_uid(pod))?;
    Ok(running.running.into_iter().find(|(name, _)| *name == target.container).map(|(_, id)| id))
}

/// The `tty` of the container `name` in the spec (regular, init or ephemeral).
fn spec_tty(pod: &Pod, name: &str) -> Option<bool> {
    let spec = &pod.spec;
    let regular = spec.containers.iter().chain(&spec.init_containers);
    let container =
        regular.chain(spec.ephemeral_containers.iter().map(|e| &e.common)).find(|c| c.name == name)?;
    Some(container.tty.unwrap_or(false))
}
