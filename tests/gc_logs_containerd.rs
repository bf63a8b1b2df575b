//! Log rotation and container garbage collection against a real containerd: a chatty
//! container's log is rotated (ReopenContainerLog) with at most containerLogMaxFiles files
//! kept while a follower reads every line across the rotations; three dead instances of a
//! crashing container shrink to the newest; a pod that is gone loses its containers, its
//! sandbox and its log directory; the image GC reads the image filesystem and the sandbox
//! image from the runtime.
//!
//! Needs root and `CONTAINER_RUNTIME_ENDPOINT` (`scripts/containerd.sh up`, then
//! `scripts/images.sh import`); prints `SKIPPED` otherwise. Its pods live in a namespace of
//! their own, the collectors only see that namespace, and everything is removed at the end.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rkubelet::api::core::{Container, Pod};
use rkubelet::cri;
use rkubelet::events::LogRecorder;
use rkubelet::gc::{self, ImagePolicy, ImageService, PodSnapshot, PodState};
use rkubelet::kuberuntime::backoff::{Backoff, CRASH_LOOP_MAX, FakeClock};
use rkubelet::kuberuntime::{
    ContainerState, NoEnvSources, NodeContext, PodStatus, Runtime, RuntimeConfig, SyncContext, all_healthy,
    never_cancel, no_mounts,
};
use rkubelet::logs::{self, Next, ReadOptions};
use rkubelet::status::ReasonCache;

const BUSYBOX: &str = "docker.io/library/busybox:1.35";
const NS_LABEL: &str = "io.kubernetes.pod.namespace";

/// Removes every sandbox (and so container) of the test's namespace, and its directory.
struct Cleanup {
    client: cri::Client,
    selector: BTreeMap<String, String>,
    dir: PathBuf,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let filter = cri::PodSandboxFilter { label_selector: self.selector.clone(), ..Default::default() };
        let list = self.client.list_pod_sandbox(&cri::ListPodSandboxRequest { filter: Some(filter) });
        for s in list.map(|l| l.items).unwrap_or_default() {
            let _ =
                self.client.stop_pod_sandbox(&cri::StopPodSandboxRequest { pod_sandbox_id: s.id.clone() });
            let _ = self.client.remove_pod_sandbox(&cri::RemovePodSandboxRequest { pod_sandbox_id: s.id });
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn pod(name: &str, namespace: &str, uid: &str, script: &str) -> Pod {
    let mut p = Pod::default();
    p.metadata.name = Some(name.into());
    p.metadata.namespace = Some(namespace.into());
    p.metadata.uid = Some(uid.into());
    p.spec.restart_policy = Some("Always".into());
    p.spec.termination_grace_period_seconds = Some(1);
    p.spec.containers = vec![Container {
        name: "app".into(),
        image: Some("busybox:1.35".into()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: vec!["sh".into(), "-c".into(), script.into()],
        ..Default::default()
    }];
    p
}

struct Worker {
    runtime: Arc<Runtime>,
    clock: Arc<FakeClock>,
    backoff: Backoff,
    reasons: ReasonCache,
}

impl Worker {
    fn sync(&mut self, pod: &Pod) {
        let status = self.status(pod);
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
        assert!(r.error.is_none(), "{r:?}");
    }

    fn status(&self, pod: &Pod) -> PodStatus {
        self.runtime.pod_status(pod.metadata.uid()).unwrap()
    }

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

fn log_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn logs_rotate_and_dead_containers_are_collected() {
    let Ok(endpoint) = std::env::var("CONTAINER_RUNTIME_ENDPOINT") else {
        println!("SKIPPED: CONTAINER_RUNTIME_ENDPOINT not set (run scripts/containerd.sh up)");
        return;
    };
    if !nix::unistd::Uid::effective().is_root() {
        println!("SKIPPED: pod sandboxes need root");
        return;
    }
    let client = cri::connect(&endpoint, Duration::from_secs(60)).unwrap_or_else(|e| panic!("{e}"));
    let spec = cri::ImageSpec { image: BUSYBOX.into(), ..Default::default() };
    let image = client.image_status(&cri::ImageStatusRequest { image: Some(spec), verbose: false }).unwrap();
    assert!(image.image.is_some(), "{BUSYBOX} is not imported: run scripts/images.sh import");

    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let unique = format!("{}-{nanos:08x}", std::process::id());
    let ns = format!("rk-gc-{unique}");
    let dir = std::env::temp_dir().join(format!("rk-gc-{unique}"));
    let selector = BTreeMap::from([(NS_LABEL.to_string(), ns.clone())]);
    let _cleanup = Cleanup { client: client.clone(), selector: selector.clone(), dir: dir.clone() };
    let node = NodeContext {
        node_name: format!("rk-gc-{unique}"),
        resolv_conf: "nameserver 192.0.2.53\n".into(),
        root_dir: dir.join("kubelet"),
        pod_logs_dir: dir.join("pods"),
        cgroups_per_qos: false,
        ..Default::default()
    };
    let runtime = Arc::new(
        Runtime::new(client.clone(), node, RuntimeConfig::default(), Arc::new(LogRecorder)).unwrap(),
    );
    let clock = Arc::new(FakeClock::new(SystemTime::now()));
    let mut w = Worker {
        runtime: runtime.clone(),
        clock: clock.clone(),
        backoff: Backoff::crash_loop(CRASH_LOOP_MAX, clock),
        reasons: ReasonCache::new(),
    };

    // 1. A chatty container: ~150 KB of log per 0.2 s, and a numbered tick after each burst.
    let chatty = pod(
        "chatty",
        &ns,
        &format!("chatty-{unique}"),
        "i=0; while true; do yes hello | head -c 19998; i=$((i+1)); echo tick $i; sleep 0.2; done",
    );
    w.sync(&chatty);
    let s = w.wait(&chatty, "chatty runs", |s| s.running().count() == 1);
    let container_id = s.containers[0].id.clone();
    let log_dir = dir.join(format!("pods/{ns}_chatty_{}/app", chatty.metadata.uid()));
    let log = log_dir.join("0.log");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("tick 1\n") {
        assert!(Instant::now() < deadline, "no tick in {}", log.display());
        std::thread::sleep(Duration::from_millis(50));
    }

    // A follower from the current end, across the rotations to come.
    let follow = ReadOptions { follow: true, tail_lines: Some(0), ..Default::default() };
    let (alive_client, alive_id) = (client.clone(), container_id.clone());
    let mut reader = logs::read(&log, &follow).unwrap().with_liveness(Box::new(move || {
        let req = cri::ContainerStatusRequest { container_id: alive_id.clone(), verbose: false };
        alive_client
            .container_status(&req)
            .is_ok_and(|r| r.status.is_some_and(|s| s.state == cri::ContainerState::RUNNING))
    }));
    let follower = std::thread::spawn(move || {
        let mut ticks = Vec::new();
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            match reader.next_line(Duration::from_millis(200)).unwrap() {
                Next::Line(l) => {
                    if let Some(n) = std::str::from_utf8(&l.bytes).ok().and_then(|t| t.strip_prefix("tick "))
                    {
                        ticks.push(n.trim().parse::<u32>().unwrap());
                    }
                }
                Next::Idle => {}
                Next::End => panic!("the container still runs"),
            }
        }
        ticks
    });

    let cfg = logs::Config {
        policy: logs::rotate::Policy { max_size: 100 * 1024, max_files: 3 },
        monitor_interval: Duration::from_millis(300),
        max_workers: 2,
        label_selector: selector.clone(),
    };
    let manager = logs::spawn(cfg, client.clone()).unwrap();
    let mut most = 0;
    let mut saw_gz = false;
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        let files = log_files(&log_dir);
        // The newest rotation's .tmp may exist for a moment while it is compressed.
        let kept = files.iter().filter(|f| !f.ends_with(".tmp")).count();
        most = most.max(kept);
        saw_gz |= files.iter().any(|f| f.ends_with(".gz"));
        std::thread::sleep(Duration::from_millis(50));
    }
    manager.stop();
    let files = log_files(&log_dir);
    println!("log files: {files:?}");
    assert!(most <= 3, "at most containerLogMaxFiles files, saw {most}");
    assert!(saw_gz && files.iter().any(|f| f.ends_with(".gz")), "older rotations are compressed: {files:?}");
    let plain: Vec<&String> =
        files.iter().filter(|f| f.starts_with("0.log.") && !f.ends_with(".gz")).collect();
    assert_eq!(plain.len(), 1, "the newest rotation stays plain: {files:?}");
    for gz in files.iter().filter(|f| f.ends_with(".gz")) {
        match std::process::Command::new("gzip").arg("-t").arg(log_dir.join(gz)).status() {
            Ok(st) => assert!(st.success(), "{gz} is not valid gzip"),
            Err(_) => println!("SKIPPED: no gzip binary to check {gz}"),
        }
    }
    // The container keeps logging into the reopened file.
    let before = std::fs::metadata(&log).unwrap().len();
    std::thread::sleep(Duration::from_millis(600));
    assert!(std::fs::metadata(&log).unwrap().len() > before, "0.log grows after the rotations");
    let tail: Vec<String> = logs::read(&log, &ReadOptions { tail_lines: Some(3), ..Default::default() })
        .unwrap()
        .map(|l| String::from_utf8(l.unwrap().bytes).unwrap())
        .collect();
    assert_eq!(tail.len(), 3, "{tail:?}");
    assert!(tail.iter().all(|l| l == "hello\n" || l.starts_with("tick ")), "{tail:?}");

    let ticks = follower.join().unwrap();
    println!("follower saw ticks {:?}..{:?}", ticks.first(), ticks.last());
    assert!(ticks.len() >= 10, "{ticks:?}");
    assert!(ticks.windows(2).all(|p| p[1] == p[0] + 1), "no line lost across rotations: {ticks:?}");

    // 2. Three dead instances of a crashing container; the collector keeps the newest.
    let crash = pod("crash", &ns, &format!("crash-{unique}"), "echo bye; exit 1");
    w.sync(&crash);
    for restart in 0..3u32 {
        let exited = move |s: &PodStatus| {
            s.container("app")
                .is_some_and(|c| c.restart_count == restart && c.state == Some(ContainerState::Exited))
        };
        w.wait(&crash, "the crash", exited);
        if restart < 2 {
            w.clock.advance(Duration::from_secs(301));
            w.sync(&crash);
        }
    }
    assert_eq!(w.status(&crash).containers.len(), 3);
    let cfg = gc::Config {
        container_gc_period: Duration::from_secs(3600),
        image_gc_period: Duration::from_secs(3600),
        images: ImagePolicy {
            high_threshold_percent: 100,
            low_threshold_percent: 80,
            min_age: Duration::ZERO,
            max_age: Duration::ZERO,
        },
        node_name: "rk-gc".into(),
        label_selector: selector.clone(),
    };
    let collector =
        gc::spawn(cfg, gc::Deps { runtime: runtime.clone(), recorder: Arc::new(LogRecorder) }).unwrap();
    let alive = PodState { terminated: false, deleted: false };
    let snapshot = |pods: &[&Pod]| PodSnapshot {
        taken_at: SystemTime::now(),
        sources_ready: true,
        pods: pods.iter().map(|p| (p.metadata.uid().to_string(), alive)).collect::<HashMap<_, _>>(),
    };
    collector.pods(snapshot(&[&chatty, &crash]));
    let done = collector.collect_containers_now(Duration::from_secs(30)).expect("a pass").unwrap();
    println!("first pass: {done}");
    let left = w.status(&crash);
    assert_eq!(
        left.containers.iter().map(|c| c.restart_count).collect::<Vec<_>>(),
        [2],
        "the newest dead instance stays"
    );
    assert_eq!(left.sandboxes.len(), 1);

    // 3. The crash pod is gone: once stopped, its containers, sandbox and logs go.
    w.runtime.kill_pod(Some(&crash), &left, None).unwrap();
    let crash_logs = dir.join(format!("pods/{ns}_crash_{}", crash.metadata.uid()));
    assert!(crash_logs.exists());
    collector.pods(snapshot(&[&chatty]));
    let done = collector.collect_containers_now(Duration::from_secs(30)).expect("a pass").unwrap();
    println!("second pass: {done}");
    assert_eq!((done.containers, done.sandboxes, done.log_dirs), (1, 1, 1));
    let gone = w.status(&crash);
    assert!(gone.containers.is_empty() && gone.sandboxes.is_empty(), "{gone:#?}");
    assert!(!crash_logs.exists());
    assert!(log.exists(), "the chatty pod's logs stay");
    assert_eq!(w.status(&chatty).running().count(), 1);

    // 4. The image GC's view of the runtime (read only: the runtime is shared).
    let images = gc::CriImages::new(client.clone());
    let fs = images.fs_stats().unwrap();
    assert!(fs.capacity > 0 && fs.available <= fs.capacity, "{fs:?}");
    let in_use = images.in_use().unwrap();
    assert!(
        in_use.contains("registry.k8s.io/pause:3.10.2"),
        "the sandbox image counts as in use: {in_use:?}"
    );
}
