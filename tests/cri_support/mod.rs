//! Shared by the CRI integration tests: the runtime endpoint (or a loud skip), pods with a
//! realistic configuration that clean up after themselves, and a recording transport.
//!
//! Every pod is labelled `rk-test=cri` and named after its test and this process, so tests
//! never touch sandboxes they did not make (the shared containerd runs other pods too).

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rkubelet::cri::{self, *};
use rkubelet::grpc::{self, Channel, Status};

pub const BUSYBOX: &str = "docker.io/library/busybox:1.35";
pub const TIMEOUT: Duration = Duration::from_secs(30);
pub const NAMESPACE: &str = "rk-test";

/// The runtime to test against, or `None` after printing why the test is skipped.
pub fn endpoint() -> Option<String> {
    let Ok(endpoint) = std::env::var("CONTAINER_RUNTIME_ENDPOINT") else {
        println!("SKIPPED: CONTAINER_RUNTIME_ENDPOINT not set (run scripts/containerd.sh up)");
        return None;
    };
    if !nix::unistd::Uid::effective().is_root() {
        println!("SKIPPED: pod sandboxes need root");
        return None;
    }
    Some(endpoint)
}

/// A checked client, and the image the tests run present.
pub fn client(endpoint: &str) -> Client {
    let client = cri::connect(endpoint, TIMEOUT).unwrap_or_else(|e| panic!("{e}"));
    let spec = ImageSpec { image: BUSYBOX.into(), ..Default::default() };
    let status = client.image_status(&ImageStatusRequest { image: Some(spec), verbose: false }).unwrap();
    assert!(status.image.is_some(), "{BUSYBOX} is not imported: run scripts/images.sh import");
    client
}

/// Runtime-heavy tests take turns, so that their timings mean something on a small machine.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn unique() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{}-{nanos:08x}", std::process::id())
}

/// A pod sandbox made for a test; stopped and removed (with its containers, log directory
/// and cgroups) when dropped, so a failing test leaves nothing behind.
pub struct TestPod {
    pub client: Client,
    pub id: String,
    pub uid: String,
    pub config: PodSandboxConfig,
    pub dir: PathBuf,
    /// How long RunPodSandbox took.
    pub run_took: Duration,
}

impl TestPod {
    pub fn run(client: &Client, name: &str) -> TestPod {
        let uid = unique();
        let dir = std::env::temp_dir().join(format!("rk-cri-{name}-{uid}"));
        let log_directory = dir.join(format!("pods/{NAMESPACE}_{name}_{uid}"));
        std::fs::create_dir_all(&log_directory).unwrap();
        let pod_labels = [
            ("io.kubernetes.pod.name", name),
            ("io.kubernetes.pod.namespace", NAMESPACE),
            ("io.kubernetes.pod.uid", uid.as_str()),
            ("rk-test", "cri"),
        ];
        let namespaces = NamespaceOption { pid: NamespaceMode::CONTAINER, ..Default::default() };
        let config = PodSandboxConfig {
            metadata: Some(PodSandboxMetadata {
                name: name.into(),
                uid: uid.clone(),
                namespace: NAMESPACE.into(),
                attempt: 0,
            }),
            hostname: name.into(),
            log_directory: log_directory.display().to_string(),
            dns_config: Some(DNSConfig {
                servers: vec!["192.0.2.53".into()],
                searches: vec![format!("{NAMESPACE}.svc.cluster.local")],
                options: vec!["ndots:5".into()],
            }),
            labels: map(&pod_labels),
            annotations: map(&[
                ("kubernetes.io/config.source", "api"),
                ("kubernetes.io/config.seen", "2026-01-01T00:00:00Z"),
            ]),
            linux: Some(LinuxPodSandboxConfig {
                cgroup_parent: format!("/rk-test/pod{uid}"),
                security_context: Some(LinuxSandboxSecurityContext {
                    namespace_options: Some(namespaces),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let t = Instant::now();
        let request = RunPodSandboxRequest { config: Some(config.clone()), runtime_handler: String::new() };
        let id = client
            .run_pod_sandbox(&request)
            .unwrap_or_else(|e| panic!("RunPodSandbox {name}: {e}"))
            .pod_sandbox_id;
        let run_took = t.elapsed();
        TestPod { client: client.clone(), id, uid, config, dir, run_took }
    }

    /// A busybox container config: `name`, running `script` with `sh -c`, logging to
    /// `name/0.log` under the pod's log directory.
    pub fn container_config(&self, name: &str, script: &str) -> ContainerConfig {
        std::fs::create_dir_all(Path::new(&self.config.log_directory).join(name)).unwrap();
        let namespaces = NamespaceOption { pid: NamespaceMode::CONTAINER, ..Default::default() };
        ContainerConfig {
            metadata: Some(ContainerMetadata { name: name.into(), attempt: 0 }),
            image: Some(ImageSpec {
                image: BUSYBOX.into(),
                user_specified_image: BUSYBOX.into(),
                ..Default::default()
            }),
            command: vec!["sh".into(), "-c".into(), script.into()],
            envs: vec![KeyValue { key: "POD_NAME".into(), value: self.config.hostname.clone().into_bytes() }],
            labels: map(&[
                ("io.kubernetes.container.name", name),
                ("io.kubernetes.pod.name", &self.config.hostname),
                ("io.kubernetes.pod.namespace", NAMESPACE),
                ("io.kubernetes.pod.uid", &self.uid),
            ]),
            annotations: map(&[
                ("io.kubernetes.container.restartCount", "0"),
                ("io.kubernetes.container.terminationMessagePath", "/dev/termination-log"),
            ]),
            log_path: format!("{name}/0.log"),
            linux: Some(LinuxContainerConfig {
                resources: Some(LinuxContainerResources {
                    cpu_shares: 2,
                    oom_score_adj: 1000,
                    ..Default::default()
                }),
                security_context: Some(LinuxContainerSecurityContext {
                    namespace_options: Some(namespaces),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        }
    }

    pub fn create(&self, config: ContainerConfig) -> Result<String, cri::CriError> {
        let request = CreateContainerRequest {
            pod_sandbox_id: self.id.clone(),
            config: Some(config),
            sandbox_config: Some(self.config.clone()),
        };
        self.client.create_container(&request).map(|r| r.container_id)
    }

    pub fn start(&self, id: &str) {
        self.client.start_container(&StartContainerRequest { container_id: id.into() }).unwrap();
    }

    /// The sandbox's containers, any state.
    pub fn containers(&self) -> Vec<Container> {
        let filter = ContainerFilter { pod_sandbox_id: self.id.clone(), ..Default::default() };
        self.client.list_containers(&ListContainersRequest { filter: Some(filter) }).unwrap().containers
    }

    pub fn log_file(&self, container: &str) -> PathBuf {
        Path::new(&self.config.log_directory).join(format!("{container}/0.log"))
    }

    /// Stops and removes the sandbox; `Err` with what failed.
    pub fn remove(&self) -> Result<(), cri::CriError> {
        let id = || self.id.clone();
        self.client.stop_pod_sandbox(&StopPodSandboxRequest { pod_sandbox_id: id() })?;
        self.client.remove_pod_sandbox(&RemovePodSandboxRequest { pod_sandbox_id: id() })?;
        Ok(())
    }
}

impl Drop for TestPod {
    fn drop(&mut self) {
        // Containers first, as the kubelet does; RemovePodSandbox would also take them.
        let filter = ContainerFilter { pod_sandbox_id: self.id.clone(), ..Default::default() };
        let left = self.client.list_containers(&ListContainersRequest { filter: Some(filter) });
        for c in left.map(|l| l.containers).unwrap_or_default() {
            let _ =
                self.client.stop_container(&StopContainerRequest { container_id: c.id.clone(), timeout: 0 });
            let _ = self.client.remove_container(&RemoveContainerRequest { container_id: c.id });
        }
        match self.remove() {
            Ok(()) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => eprintln!("cleanup of sandbox {}: {e}", self.id),
        }
        remove_cgroups(&format!("rk-test/pod{}", self.uid));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The pod's cgroup directories (runc removes the containers' own, not their parent's),
/// in every v1 hierarchy or the v2 one; `rk-test` itself too once empty.
fn remove_cgroups(relative: &str) {
    let mut roots = vec![PathBuf::from("/sys/fs/cgroup")];
    if let Ok(entries) = std::fs::read_dir("/sys/fs/cgroup") {
        roots.extend(entries.flatten().map(|e| e.path()));
    }
    for root in roots {
        let _ = std::fs::remove_dir(root.join(relative));
        let _ = std::fs::remove_dir(root.join("rk-test"));
    }
}

/// Polls `f` every 50 ms until it returns `Some`, for at most `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A transport that keeps the last response of every method, for capturing golden bytes.
pub struct Recorder {
    inner: Channel,
    last: Mutex<HashMap<String, Vec<u8>>>,
}

impl Recorder {
    pub fn new(endpoint: &str) -> Arc<Recorder> {
        Arc::new(Recorder { inner: Channel::new(endpoint).unwrap(), last: Mutex::new(HashMap::new()) })
    }

    /// The last response of `method` (e.g. `ListPodSandbox`).
    pub fn last(&self, method: &str) -> Option<Vec<u8>> {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        last.iter().find(|(path, _)| path.ends_with(&format!("/{method}"))).map(|(_, b)| b.clone())
    }
}

impl grpc::Unary for Recorder {
    fn unary(&self, path: &str, request: &[u8], timeout: Option<Duration>) -> Result<Vec<u8>, Status> {
        let reply = self.inner.unary(path, request, timeout)?;
        self.last.lock().unwrap_or_else(|p| p.into_inner()).insert(path.to_string(), reply.clone());
        Ok(reply)
    }
}
