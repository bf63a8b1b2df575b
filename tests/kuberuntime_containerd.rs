//! The runtime operations against a real containerd: a busybox pod from a `Pod` object is
//! synced into a sandbox and running containers, read back with its identity, restarted
//! after a crash with backoff, killed within its grace period and removed without a trace.
//!
//! Needs root and `CONTAINER_RUNTIME_ENDPOINT` (`scripts/containerd.sh up`, then
//! `scripts/images.sh import`); prints `SKIPPED` otherwise. Everything it makes (a unique
//! pod, a root and log directory under the temp dir, cgroups under a unique `cgroupRoot`)
//! is removed at the end, also when the test fails.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rkubelet::api::core::{Container, Pod};
use rkubelet::cri;
use rkubelet::events::{EventType, Recorder};
use rkubelet::kuberuntime::backoff::{Backoff, CRASH_LOOP_MAX, SystemClock};
use rkubelet::kuberuntime::hash::container_hash;
use rkubelet::kuberuntime::{
    ContainerState, NoEnvSources, NodeContext, PodStatus, Runtime, RuntimeConfig, SandboxState, SyncContext,
    SyncResult, all_healthy, never_cancel, no_mounts,
};
use rkubelet::status::{ReasonCache, StartFailure};

const BUSYBOX: &str = "docker.io/library/busybox:1.35";
const NAMESPACE: &str = "rk-test";
const GRACE: i64 = 5;

#[derive(Default)]
struct Events(Mutex<Vec<String>>);

impl Recorder for Events {
    fn pod_event(&self, _: &Pod, path: &str, _: EventType, reason: &str, message: &str) {
        println!("event {path}: {reason}: {message}");
        self.0.lock().unwrap().push(reason.to_string());
    }
}

/// Removes what the test made, whatever happened.
struct Cleanup {
    client: cri::Client,
    uid: String,
    dir: PathBuf,
    cgroup_root: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let selector = [("io.kubernetes.pod.uid".to_string(), self.uid.clone())].into();
        let filter = cri::ContainerFilter { label_selector: selector, ..Default::default() };
        let containers = self.client.list_containers(&cri::ListContainersRequest { filter: Some(filter) });
        for c in containers.map(|l| l.containers).unwrap_or_default() {
            let _ = self
                .client
                .stop_container(&cri::StopContainerRequest { container_id: c.id.clone(), timeout: 0 });
            let _ = self.client.remove_container(&cri::RemoveContainerRequest { container_id: c.id });
        }
        for s in sandboxes(&self.client, &self.uid) {
            let _ =
                self.client.stop_pod_sandbox(&cri::StopPodSandboxRequest { pod_sandbox_id: s.id.clone() });
            let _ = self.client.remove_pod_sandbox(&cri::RemovePodSandboxRequest { pod_sandbox_id: s.id });
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        // runc removes the containers' cgroups, not the pod's and its parents'.
        let relative =
            format!("{}/kubepods/besteffort/pod{}", self.cgroup_root.trim_start_matches('/'), self.uid);
        let mut roots = vec![PathBuf::from("/sys/fs/cgroup")];
        roots.extend(std::fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten().map(|e| e.path()));
        for root in roots {
            let mut p = root.join(&relative);
            while p.starts_with(root.join(self.cgroup_root.trim_start_matches('/'))) {
                let _ = std::fs::remove_dir(&p);
                if !p.pop() {
                    break;
                }
            }
        }
    }
}

fn sandboxes(client: &cri::Client, uid: &str) -> Vec<cri::PodSandbox> {
    let selector = [("io.kubernetes.pod.uid".to_string(), uid.to_string())].into();
    let filter = cri::PodSandboxFilter { label_selector: selector, ..Default::default() };
    client
        .list_pod_sandbox(&cri::ListPodSandboxRequest { filter: Some(filter) })
        .map(|l| l.items)
        .unwrap_or_default()
}

fn container(name: &str, script: &str) -> Container {
    Container {
        name: name.into(),
        image: Some("busybox:1.35".into()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: vec!["sh".into(), "-c".into(), script.into()],
        termination_message_path: Some("/dev/termination-log".into()),
        termination_message_policy: Some("File".into()),
        ..Default::default()
    }
}

struct Worker {
    runtime: Runtime,
    backoff: Backoff,
    reasons: ReasonCache,
}

impl Worker {
    fn sync(&mut self, pod: &Pod) -> SyncResult {
        let status = self.runtime.pod_status(pod.metadata.uid()).unwrap();
        let mut ctx = SyncContext {
            backoff: &mut self.backoff,
            reasons: &mut self.reasons,
            mounts: &no_mounts,
            env: &NoEnvSources,
            pull_secrets: &[],
            verdicts: &all_healthy,
            cancel: &never_cancel,
        };
        let r = self.runtime.sync_pod(pod, &status, &mut ctx);
        println!("sync: {r:?}");
        r
    }

    fn status(&self, pod: &Pod) -> PodStatus {
        self.runtime.pod_status(pod.metadata.uid()).unwrap()
    }

    /// Polls the pod's status until `f` holds.
    fn wait(&self, pod: &Pod, what: &str, f: impl Fn(&PodStatus) -> bool) -> PodStatus {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.status(pod);
            if f(&s) {
                return s;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}: {s:#?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn exited(name: &'static str, restart: u32) -> impl Fn(&PodStatus) -> bool {
    move |s| {
        s.container(name)
            .is_some_and(|c| c.state == Some(ContainerState::Exited) && c.restart_count == restart)
    }
}

#[test]
fn a_pod_lives_and_dies_on_containerd() {
    let Ok(endpoint) = std::env::var("CONTAINER_RUNTIME_ENDPOINT") else {
        println!("SKIPPED: CONTAINER_RUNTIME_ENDPOINT not set (run scripts/containerd.sh up)");
        return;
    };
    if !nix::unistd::Uid::effective().is_root() {
        println!("SKIPPED: pod sandboxes need root");
        return;
    }
    let client = cri::connect(&endpoint, Duration::from_secs(60)).unwrap_or_else(|e| panic!("{e}"));
    let image = cri::ImageStatusRequest {
        image: Some(cri::ImageSpec { image: BUSYBOX.into(), ..Default::default() }),
        verbose: false,
    };
    assert!(
        client.image_status(&image).unwrap().image.is_some(),
        "{BUSYBOX} is not imported: run scripts/images.sh import"
    );

    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let unique = format!("{}-{nanos:08x}", std::process::id());
    let dir = std::env::temp_dir().join(format!("rk-kr-{unique}"));
    let cgroup_root = format!("/rk-test-kr-{unique}");
    let uid = format!("kr-{unique}");
    let _cleanup = Cleanup {
        client: client.clone(),
        uid: uid.clone(),
        dir: dir.clone(),
        cgroup_root: cgroup_root.clone(),
    };
    let node = NodeContext {
        node_name: format!("rk-kr-{unique}"),
        host_ips: vec!["192.0.2.2".into()],
        resolv_conf: "nameserver 192.0.2.53\n".into(),
        root_dir: dir.join("kubelet"),
        pod_logs_dir: dir.join("pods"),
        cgroup_root: cgroup_root.clone(),
        ..Default::default()
    };
    let events = Arc::new(Events::default());
    let runtime = Runtime::new(client.clone(), node, RuntimeConfig::default(), events.clone()).unwrap();
    assert_eq!(runtime.runtime_name(), "containerd");
    let mut w = Worker {
        runtime,
        backoff: Backoff::crash_loop(CRASH_LOOP_MAX, Arc::new(SystemClock)),
        reasons: ReasonCache::new(),
    };

    let mut pod = Pod::default();
    pod.metadata.name = Some("kr-hello".into());
    pod.metadata.namespace = Some(NAMESPACE.into());
    pod.metadata.uid = Some(uid.clone());
    pod.spec.restart_policy = Some("Always".into());
    pod.spec.termination_grace_period_seconds = Some(GRACE);
    // `sh` as PID 1 ignores SIGTERM unless it traps it.
    pod.spec.containers = vec![
        container("app", "trap 'exit 0' TERM; echo hello; sleep 3600 & wait"),
        container("crash", "echo crashing; exit 1"),
    ];

    // A new pod: sandbox and both containers.
    let r = w.sync(&pod);
    assert!(r.changed && r.error.is_none(), "{r:?}");
    let s = w.status(&pod);
    assert_eq!((s.name.as_str(), s.namespace.as_str()), ("kr-hello", NAMESPACE));
    assert_eq!(s.sandboxes.len(), 1);
    assert_eq!(s.sandboxes[0].state, SandboxState::Ready);
    assert!(!s.ips.is_empty(), "the pod got no IP: {s:?}");
    let app = s.container("app").expect("app");
    assert_eq!(app.state, Some(ContainerState::Running));
    assert_eq!((app.restart_count, app.hash), (0, container_hash(&pod.spec.containers[0])));
    assert_eq!(app.termination_message_path, "/dev/termination-log");
    let log = dir.join(format!("pods/{NAMESPACE}_kr-hello_{uid}/app/0.log"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("hello") {
        assert!(Instant::now() < deadline, "no hello in {}", log.display());
        std::thread::sleep(Duration::from_millis(50));
    }
    let seen = events.0.lock().unwrap().clone();
    assert!(["Pulled", "Created", "Started"].iter().all(|e| seen.contains(&e.to_string())), "{seen:?}");

    // The crashing container: the first restart is immediate, the next waits 10 s.
    w.wait(&pod, "crash exits", exited("crash", 0));
    let r = w.sync(&pod);
    assert!(r.error.is_none(), "{r:?}");
    w.wait(&pod, "crash restarted and exited again", exited("crash", 1));
    let r = w.sync(&pod);
    assert_eq!(w.reasons.get("crash").map(|r| r.failure), Some(StartFailure::CrashLoopBackOff));
    let wait = r.requeue_after.expect("requeue when the backoff ends");
    assert!(wait <= Duration::from_secs(10) && wait > Duration::from_secs(5), "{wait:?}");
    std::thread::sleep(wait);
    let r = w.sync(&pod);
    assert!(r.error.is_none(), "{r:?}");
    let s = w.status(&pod);
    assert_eq!(s.container("crash").map(|c| c.restart_count), Some(2));
    assert_eq!(
        s.container("app").map(|c| (c.state, c.restart_count)),
        Some((Some(ContainerState::Running), 0))
    );

    // Kill: app traps TERM, so it goes well within the grace period.
    let t = Instant::now();
    w.runtime.kill_pod(Some(&pod), &s, None).unwrap();
    let took = t.elapsed();
    println!("kill_pod took {took:?}");
    assert!(took < Duration::from_secs(u64::try_from(GRACE).unwrap()), "{took:?}");
    let s = w.status(&pod);
    assert_eq!(s.running().count(), 0, "{s:#?}");
    assert!(s.sandboxes.iter().all(|sb| sb.state == SandboxState::NotReady));
    let app = s.container("app").expect("app");
    assert_eq!(app.exit_code, 0, "app stopped by SIGTERM: {app:?}");

    // Remove: nothing left in the runtime, nor on disk.
    w.runtime.remove_pod(&s).unwrap();
    assert!(sandboxes(&client, &uid).is_empty());
    let left = w.status(&pod);
    assert!(left.containers.is_empty() && left.sandboxes.is_empty(), "{left:#?}");
    assert!(!dir.join(format!("pods/{NAMESPACE}_kr-hello_{uid}")).exists());
    assert!(!dir.join(format!("kubelet/pods/{uid}")).exists());
}
