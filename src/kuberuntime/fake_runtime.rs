//! A container runtime in memory behind the gRPC seam, for unit tests of the runtime
//! operations: sandboxes, containers and images with the CRI semantics the kubelet relies
//! on (labels, filters, states, NotFound), failure injection per RPC, and a call log.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::cri::{self, ContainerState as CS, PodSandboxState as SS};
use crate::grpc::{Code, Status, Unary};
use crate::proto::Message;

#[derive(Debug, Clone)]
pub struct Sandbox {
    pub config: cri::PodSandboxConfig,
    pub state: SS,
    pub created_at: i64,
    pub ip: String,
}

#[derive(Debug, Clone)]
pub struct Container {
    pub sandbox_id: String,
    pub config: cri::ContainerConfig,
    pub state: CS,
    pub created_at: i64,
    pub started_at: i64,
    pub finished_at: i64,
    pub exit_code: i32,
    pub reason: String,
    pub stop_timeout: Option<i64>,
}

#[derive(Default)]
pub struct State {
    pub sandboxes: BTreeMap<String, Sandbox>,
    pub containers: BTreeMap<String, Container>,
    /// Image name (as the kubelet sends it) to image ID.
    pub images: BTreeMap<String, String>,
    /// Images a PullImage succeeds for.
    pub registry: BTreeMap<String, String>,
    /// Methods that fail (by RPC name), with the status they answer.
    pub failures: HashMap<String, Status>,
    /// Exec results by command (joined with spaces): exit code.
    pub exec_exit: HashMap<String, i32>,
    /// Every call: RPC name and the request bytes.
    pub calls: Vec<(String, Vec<u8>)>,
    next: u64,
    /// Fake nanosecond clock; each event moves it on by 1 ms.
    pub clock: i64,
}

impl State {
    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}{:04}", self.next)
    }

    fn tick(&mut self) -> i64 {
        self.clock += 1_000_000;
        self.clock
    }
}

#[derive(Default)]
pub struct FakeRuntime {
    state: Mutex<State>,
}

fn not_found(what: &str, id: &str) -> Status {
    Status::new(Code::NotFound, format!("{what} {id:?} not found"))
}

fn reply<M: Message>(m: M) -> Result<Vec<u8>, Status> {
    Ok(m.encode_to_vec())
}

fn decode<M: Message>(bytes: &[u8]) -> Result<M, Status> {
    M::decode(bytes).map_err(|e| Status::new(Code::Internal, e.to_string()))
}

fn labels_match(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

impl FakeRuntime {
    pub fn new() -> Arc<FakeRuntime> {
        let f = FakeRuntime::default();
        f.lock().clock = 1_700_000_000_000_000_000;
        Arc::new(f)
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn client(self: &Arc<Self>) -> cri::Client {
        cri::Client::new(self.clone())
    }

    /// An image already present (name as the kubelet asks for it).
    pub fn add_image(&self, name: &str) {
        self.lock().images.insert(name.into(), format!("sha256:{name}-id"));
    }

    pub fn fail(&self, method: &str, code: Code, message: &str) {
        self.lock().failures.insert(method.into(), Status::new(code, message));
    }

    pub fn heal(&self, method: &str) {
        self.lock().failures.remove(method);
    }

    /// RPC names called, in order.
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.iter().map(|(m, _)| m.clone()).collect()
    }

    pub fn count(&self, method: &str) -> usize {
        self.lock().calls.iter().filter(|(m, _)| m == method).count()
    }

    /// The container named `name` that was created last.
    pub fn newest(&self, name: &str) -> Option<(String, Container)> {
        let s = self.lock();
        s.containers
            .iter()
            .filter(|(_, c)| c.config.metadata.as_ref().is_some_and(|m| m.name == name))
            .max_by_key(|(_, c)| c.created_at)
            .map(|(id, c)| (id.clone(), c.clone()))
    }

    /// The process of container `id` exits with `code`.
    pub fn exit(&self, id: &str, code: i32) {
        let mut s = self.lock();
        let now = s.tick();
        if let Some(c) = s.containers.get_mut(id) {
            c.state = CS::EXITED;
            c.finished_at = now;
            c.exit_code = code;
            c.reason = if code == 0 { "Completed".into() } else { "Error".into() };
        }
    }

    /// Moves the runtime's clock (container times) on.
    pub fn advance(&self, by: Duration) {
        let mut s = self.lock();
        s.clock += i64::try_from(by.as_nanos()).unwrap_or(i64::MAX);
    }

    fn sandbox_status(s: &State, id: &str) -> Result<cri::PodSandboxStatus, Status> {
        let sb = s.sandboxes.get(id).ok_or_else(|| not_found("sandbox", id))?;
        let network = sb.config.linux.as_ref().and_then(|l| l.security_context.as_ref());
        let options = network.and_then(|sc| sc.namespace_options.clone());
        Ok(cri::PodSandboxStatus {
            id: id.into(),
            metadata: sb.config.metadata.clone(),
            state: sb.state,
            created_at: sb.created_at,
            network: Some(cri::PodSandboxNetworkStatus { ip: sb.ip.clone(), additional_ips: vec![] }),
            linux: Some(cri::LinuxPodSandboxStatus { namespaces: Some(cri::Namespace { options }) }),
            labels: sb.config.labels.clone(),
            annotations: sb.config.annotations.clone(),
            runtime_handler: String::new(),
        })
    }

    fn container_status(s: &State, id: &str) -> Result<cri::ContainerStatus, Status> {
        let c = s.containers.get(id).ok_or_else(|| not_found("container", id))?;
        let log_dir =
            s.sandboxes.get(&c.sandbox_id).map(|sb| sb.config.log_directory.clone()).unwrap_or_default();
        Ok(cri::ContainerStatus {
            id: id.into(),
            metadata: c.config.metadata.clone(),
            state: c.state,
            created_at: c.created_at,
            started_at: c.started_at,
            finished_at: c.finished_at,
            exit_code: c.exit_code,
            image: c.config.image.clone(),
            image_ref: format!("ref-of-{}", c.config.image.as_ref().map_or("", |i| i.image.as_str())),
            reason: c.reason.clone(),
            labels: c.config.labels.clone(),
            annotations: c.config.annotations.clone(),
            mounts: c.config.mounts.clone(),
            log_path: format!("{log_dir}/{}", c.config.log_path),
            ..Default::default()
        })
    }

    fn handle(&self, method: &str, req: &[u8]) -> Result<Vec<u8>, Status> {
        let mut s = self.lock();
        s.calls.push((method.to_string(), req.to_vec()));
        if let Some(status) = s.failures.get(method) {
            return Err(status.clone());
        }
        match method {
            "Version" => reply(cri::VersionResponse {
                version: "0.1.0".into(),
                runtime_name: "fake".into(),
                runtime_version: "1.0".into(),
                runtime_api_version: "v1".into(),
            }),
            "RunPodSandbox" => {
                let r: cri::RunPodSandboxRequest = decode(req)?;
                let id = s.id("sb");
                let created_at = s.tick();
                let ip = format!("10.88.0.{}", s.next);
                let config = r.config.unwrap_or_default();
                s.sandboxes.insert(id.clone(), Sandbox { config, state: SS::READY, created_at, ip });
                reply(cri::RunPodSandboxResponse { pod_sandbox_id: id })
            }
            "StopPodSandbox" => {
                let r: cri::StopPodSandboxRequest = decode(req)?;
                let id = r.pod_sandbox_id;
                let sb = s.sandboxes.get_mut(&id).ok_or_else(|| not_found("sandbox", &id))?;
                sb.state = SS::NOT_READY;
                let now = s.tick();
                for c in s.containers.values_mut().filter(|c| c.sandbox_id == id && c.state == CS::RUNNING) {
                    (c.state, c.finished_at, c.exit_code) = (CS::EXITED, now, 137);
                }
                reply(cri::StopPodSandboxResponse {})
            }
            "RemovePodSandbox" => {
                let r: cri::RemovePodSandboxRequest = decode(req)?;
                s.sandboxes.remove(&r.pod_sandbox_id);
                s.containers.retain(|_, c| c.sandbox_id != r.pod_sandbox_id);
                reply(cri::RemovePodSandboxResponse {})
            }
            "PodSandboxStatus" => {
                let r: cri::PodSandboxStatusRequest = decode(req)?;
                let status = Self::sandbox_status(&s, &r.pod_sandbox_id)?;
                reply(cri::PodSandboxStatusResponse { status: Some(status), ..Default::default() })
            }
            "ListPodSandbox" => {
                let r: cri::ListPodSandboxRequest = decode(req)?;
                let f = r.filter.unwrap_or_default();
                let items = s
                    .sandboxes
                    .iter()
                    .filter(|(id, sb)| {
                        (f.id.is_empty() || &f.id == *id)
                            && f.state.as_ref().is_none_or(|st| st.state == sb.state)
                            && labels_match(&f.label_selector, &sb.config.labels)
                    })
                    .map(|(id, sb)| cri::PodSandbox {
                        id: id.clone(),
                        metadata: sb.config.metadata.clone(),
                        state: sb.state,
                        created_at: sb.created_at,
                        labels: sb.config.labels.clone(),
                        annotations: sb.config.annotations.clone(),
                        runtime_handler: String::new(),
                    })
                    .collect();
                reply(cri::ListPodSandboxResponse { items })
            }
            "CreateContainer" => {
                let r: cri::CreateContainerRequest = decode(req)?;
                if !s.sandboxes.contains_key(&r.pod_sandbox_id) {
                    return Err(not_found("sandbox", &r.pod_sandbox_id));
                }
                let id = s.id("c");
                let created_at = s.tick();
                let c = Container {
                    sandbox_id: r.pod_sandbox_id,
                    config: r.config.unwrap_or_default(),
                    state: CS::CREATED,
                    created_at,
                    started_at: 0,
                    finished_at: 0,
                    exit_code: 0,
                    reason: String::new(),
                    stop_timeout: None,
                };
                s.containers.insert(id.clone(), c);
                reply(cri::CreateContainerResponse { container_id: id })
            }
            "StartContainer" => {
                let r: cri::StartContainerRequest = decode(req)?;
                let now = s.tick();
                let c = s
                    .containers
                    .get_mut(&r.container_id)
                    .ok_or_else(|| not_found("container", &r.container_id))?;
                (c.state, c.started_at) = (CS::RUNNING, now);
                reply(cri::StartContainerResponse {})
            }
            "StopContainer" => {
                let r: cri::StopContainerRequest = decode(req)?;
                let now = s.tick();
                let c = s
                    .containers
                    .get_mut(&r.container_id)
                    .ok_or_else(|| not_found("container", &r.container_id))?;
                c.stop_timeout = Some(r.timeout);
                if c.state == CS::RUNNING {
                    (c.state, c.finished_at, c.exit_code, c.reason) = (CS::EXITED, now, 137, "Error".into());
                }
                reply(cri::StopContainerResponse {})
            }
            "RemoveContainer" => {
                let r: cri::RemoveContainerRequest = decode(req)?;
                s.containers.remove(&r.container_id);
                reply(cri::RemoveContainerResponse {})
            }
            "ListContainers" => {
                let r: cri::ListContainersRequest = decode(req)?;
                let f = r.filter.unwrap_or_default();
                let containers = s
                    .containers
                    .iter()
                    .filter(|(id, c)| {
                        (f.id.is_empty() || &f.id == *id)
                            && (f.pod_sandbox_id.is_empty() || f.pod_sandbox_id == c.sandbox_id)
                            && f.state.as_ref().is_none_or(|st| st.state == c.state)
                            && labels_match(&f.label_selector, &c.config.labels)
                    })
                    .map(|(id, c)| cri::Container {
                        id: id.clone(),
                        pod_sandbox_id: c.sandbox_id.clone(),
                        metadata: c.config.metadata.clone(),
                        image: c.config.image.clone(),
                        image_ref: String::new(),
                        state: c.state,
                        created_at: c.created_at,
                        labels: c.config.labels.clone(),
                        annotations: c.config.annotations.clone(),
                        image_id: String::new(),
                    })
                    .collect();
                reply(cri::ListContainersResponse { containers })
            }
            "ContainerStatus" => {
                let r: cri::ContainerStatusRequest = decode(req)?;
                let status = Self::container_status(&s, &r.container_id)?;
                reply(cri::ContainerStatusResponse { status: Some(status), info: BTreeMap::new() })
            }
            "ExecSync" => {
                let r: cri::ExecSyncRequest = decode(req)?;
                let code = s.exec_exit.get(&r.cmd.join(" ")).copied().unwrap_or(0);
                reply(cri::ExecSyncResponse { stdout: vec![], stderr: b"boom".to_vec(), exit_code: code })
            }
            "ImageStatus" => {
                let r: cri::ImageStatusRequest = decode(req)?;
                let name = r.image.map(|i| i.image).unwrap_or_default();
                let image = s.images.get(&name).map(|id| cri::Image {
                    id: id.clone(),
                    size: 1234,
                    ..Default::default()
                });
                reply(cri::ImageStatusResponse { image, info: BTreeMap::new() })
            }
            "PullImage" => {
                let r: cri::PullImageRequest = decode(req)?;
                let name = r.image.map(|i| i.image).unwrap_or_default();
                let Some(id) = s.registry.get(&name).cloned() else {
                    return Err(Status::new(
                        Code::NotFound,
                        format!("failed to resolve reference {name:?}: not found"),
                    ));
                };
                s.images.insert(name, id.clone());
                reply(cri::PullImageResponse { image_ref: id })
            }
            other => Err(Status::new(Code::Unimplemented, format!("fake runtime: {other}"))),
        }
    }
}

impl Unary for FakeRuntime {
    fn unary(&self, path: &str, request: &[u8], _timeout: Option<Duration>) -> Result<Vec<u8>, Status> {
        let method = path.rsplit('/').next().unwrap_or(path);
        self.handle(method, request)
    }
}
