//! The typed CRI client against a real containerd: a pod's whole life, messages past 4 MiB,
//! 500 containers in one list, many threads on one client, an unknown method.
//!
//! Needs root and `CONTAINER_RUNTIME_ENDPOINT` (`scripts/containerd.sh up`, then
//! `scripts/images.sh import`); prints `SKIPPED` otherwise. Timings are printed, not asserted
//! (run with `--nocapture` to see them). With `RK_CAPTURE_GOLDEN=<dir>`, the lifecycle test
//! also writes the raw ListPodSandbox, ContainerStatus and ListContainers responses of its
//! running pod, and ListImages, to `<dir>/*.bin` (see `tests/golden/cri/README.md`).

#![allow(clippy::unwrap_used)]

mod cri_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use cri_support::*;
use rkubelet::cri::*;
use rkubelet::grpc::{Channel, Code, Unary};

fn by_label(pod: &TestPod) -> ListPodSandboxRequest {
    let filter = PodSandboxFilter {
        label_selector: map(&[("io.kubernetes.pod.uid", pod.uid.as_str())]),
        ..Default::default()
    };
    ListPodSandboxRequest { filter: Some(filter) }
}

fn exec(client: &Client, id: &str, script: &str) -> ExecSyncResponse {
    let cmd = vec!["sh".into(), "-c".into(), script.into()];
    client.exec_sync(&ExecSyncRequest { container_id: id.into(), cmd, timeout: 10 }).unwrap()
}

/// Writes the last responses of the running pod's list and status calls as golden vectors.
fn capture(recorder: &Recorder) {
    let Ok(dir) = std::env::var("RK_CAPTURE_GOLDEN") else { return };
    for (method, file) in [
        ("ListPodSandbox", "list_pod_sandbox"),
        ("ContainerStatus", "container_status_running"),
        ("ListContainers", "list_containers"),
        ("ListImages", "list_images_pause_busybox"),
    ] {
        let bytes = recorder.last(method).unwrap_or_else(|| panic!("no {method} response recorded"));
        let path = format!("{dir}/{file}.bin");
        std::fs::write(&path, &bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        println!("captured {path} ({} bytes)", bytes.len());
    }
}

#[test]
fn pod_lifecycle() {
    let Some(endpoint) = endpoint() else { return };
    let _turn = serial();
    let recorder = Recorder::new(&endpoint);
    let client = Client::new(recorder.clone()).with_request_timeout(TIMEOUT);
    cri_support::client(&endpoint); // checks the image is there

    let images = client.list_images(&ListImagesRequest::default()).unwrap().images;
    assert!(images.iter().any(|i| i.repo_tags.iter().any(|t| t == BUSYBOX)), "{images:?}");
    let pod = TestPod::run(&client, "cri-lifecycle");
    println!("RunPodSandbox: {:?}", pod.run_took);
    let sandboxes = client.list_pod_sandbox(&by_label(&pod)).unwrap().items;
    assert_eq!(sandboxes.len(), 1, "{sandboxes:?}");
    assert_eq!((sandboxes[0].id.as_str(), sandboxes[0].state), (pod.id.as_str(), PodSandboxState::READY));
    let status =
        client.pod_sandbox_status(&PodSandboxStatusRequest { pod_sandbox_id: pod.id.clone(), verbose: true });
    let status = status.unwrap();
    assert!(status.info.contains_key("info"), "verbose status has info: {:?}", status.info.keys());
    let s = status.status.unwrap();
    assert_eq!(s.metadata.as_ref().map(|m| m.name.as_str()), Some("cri-lifecycle"));
    assert!(!s.network.map(|n| n.ip).unwrap_or_default().is_empty(), "the pod got no IP");

    // `sh` is PID 1 and ignores SIGTERM unless it traps it: trap it, for a graceful stop.
    let config = pod.container_config("app", "trap 'exit 0' TERM; echo hello; sleep 3600 & wait");
    let t = Instant::now();
    let id = pod.create(config).unwrap();
    let created = t.elapsed();
    pod.start(&id);
    println!("CreateContainer: {created:?}, Create+Start: {:?}", t.elapsed());

    let hi = exec(&client, &id, "echo hi");
    assert_eq!((hi.stdout.as_slice(), hi.stderr.as_slice(), hi.exit_code), (&b"hi\n"[..], &b""[..], 0));
    let failed = exec(&client, &id, "echo oops >&2; exit 3");
    assert_eq!((failed.stderr.as_slice(), failed.exit_code), (&b"oops\n"[..], 3));
    let env = exec(&client, &id, "echo $POD_NAME; hostname");
    assert_eq!(env.stdout, b"cri-lifecycle\ncri-lifecycle\n");

    // Past the default 4 MiB gRPC message size: 6 MiB of output in one ExecSync response.
    let t = Instant::now();
    let big = exec(&client, &id, "yes 0123456789abcdef | head -c 6291456");
    println!("ExecSync with 6 MiB of output: {:?}", t.elapsed());
    assert_eq!(big.stdout.len(), 6 << 20);
    assert!(big.stdout.chunks(17).take(1000).all(|line| line == b"0123456789abcdef\n"));

    let containers = pod.containers();
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert_eq!((c.id.as_str(), c.state), (id.as_str(), ContainerState::RUNNING));
    assert_eq!(c.labels.get("io.kubernetes.container.name").map(String::as_str), Some("app"));
    assert_eq!(c.labels.get("io.kubernetes.pod.uid"), Some(&pod.uid));
    let running =
        client.container_status(&ContainerStatusRequest { container_id: id.clone(), verbose: false });
    let s = running.unwrap().status.unwrap();
    assert_eq!(s.state, ContainerState::RUNNING);
    assert!(s.started_at > 0 && s.finished_at == 0);
    assert_eq!(s.labels, c.labels);
    assert_eq!(s.log_path, pod.log_file("app").display().to_string());
    let log = wait_for("the log line", Duration::from_secs(5), || {
        std::fs::read_to_string(pod.log_file("app")).ok().filter(|l| l.contains("hello"))
    });
    assert!(log.contains(" stdout F hello"), "CRI log format: {log:?}");
    capture(&recorder);

    let t = Instant::now();
    client.stop_container(&StopContainerRequest { container_id: id.clone(), timeout: 10 }).unwrap();
    println!("StopContainer (graceful): {:?}", t.elapsed());
    let s = client.container_status(&ContainerStatusRequest { container_id: id.clone(), verbose: false });
    let s = s.unwrap().status.unwrap();
    assert_eq!((s.state, s.exit_code, s.reason.as_str()), (ContainerState::EXITED, 0, "Completed"));
    client.remove_container(&RemoveContainerRequest { container_id: id.clone() }).unwrap();
    assert!(pod.containers().is_empty());
    let gone = client.container_status(&ContainerStatusRequest { container_id: id.clone(), verbose: false });
    assert!(gone.unwrap_err().is_not_found());

    let t = Instant::now();
    pod.remove().unwrap();
    println!("StopPodSandbox + RemovePodSandbox: {:?}", t.elapsed());
    assert!(client.list_pod_sandbox(&by_label(&pod)).unwrap().items.is_empty());
    let gone = client
        .pod_sandbox_status(&PodSandboxStatusRequest { pod_sandbox_id: pod.id.clone(), verbose: false });
    assert!(gone.unwrap_err().is_not_found());
}

/// A request and a response past 4 MiB: a container with a 5 MiB annotation, which
/// ContainerStatus hands back.
#[test]
fn large_annotation_round_trips() {
    let Some(endpoint) = endpoint() else { return };
    let _turn = serial();
    let client = client(&endpoint);
    let pod = TestPod::run(&client, "cri-large");
    let mut config = pod.container_config("big", "true");
    let value: String = (0..5 << 20).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    config.annotations.insert("rk-test/large".into(), value.clone());
    let t = Instant::now();
    let id = pod.create(config).unwrap();
    println!("CreateContainer with a 5 MiB annotation: {:?}", t.elapsed());
    let t = Instant::now();
    let status =
        client.container_status(&ContainerStatusRequest { container_id: id, verbose: false }).unwrap();
    println!("ContainerStatus of 5 MiB: {:?}", t.elapsed());
    let annotations = status.status.unwrap().annotations;
    assert!(annotations.get("rk-test/large") == Some(&value), "the annotation came back changed");
}

/// ListContainers with 500 containers (created, not started) in one sandbox.
#[test]
fn list_500_containers() {
    let Some(endpoint) = endpoint() else { return };
    let _turn = serial();
    let client = client(&endpoint);
    let pod = Arc::new(TestPod::run(&client, "cri-500"));
    const N: usize = 500;
    const THREADS: usize = 4;
    let t = Instant::now();
    let workers: Vec<_> = (0..THREADS)
        .map(|w| {
            let pod = pod.clone();
            std::thread::spawn(move || {
                for i in (w..N).step_by(THREADS) {
                    let config = pod.container_config(&format!("c{i:03}"), "sleep 3600");
                    pod.create(config).unwrap_or_else(|e| panic!("container {i}: {e}"));
                }
            })
        })
        .collect();
    workers.into_iter().for_each(|w| w.join().unwrap());
    let created = t.elapsed();
    println!("CreateContainer x{N} from {THREADS} threads: {created:?} ({:?} each)", created / N as u32);

    let t = Instant::now();
    let list = pod.containers();
    println!("ListContainers of {} containers: {:?}", list.len(), t.elapsed());
    assert_eq!(list.len(), N);
    let mut names: Vec<String> = list.iter().filter_map(|c| c.metadata.clone()).map(|m| m.name).collect();
    names.sort();
    assert_eq!(names, (0..N).map(|i| format!("c{i:03}")).collect::<Vec<_>>());
    assert!(list.iter().all(|c| c.state == ContainerState::CREATED && c.pod_sandbox_id == pod.id));
    let all = client.list_containers(&ListContainersRequest::default()).unwrap().containers;
    assert!(all.len() >= N);

    let t = Instant::now();
    let ids: Vec<String> = list.into_iter().map(|c| c.id).collect();
    let removers: Vec<_> = ids
        .chunks(N.div_ceil(THREADS))
        .map(|chunk| {
            let (client, chunk) = (client.clone(), chunk.to_vec());
            std::thread::spawn(move || {
                for id in chunk {
                    client.remove_container(&RemoveContainerRequest { container_id: id }).unwrap();
                }
            })
        })
        .collect();
    removers.into_iter().for_each(|w| w.join().unwrap());
    println!("RemoveContainer x{N}: {:?}", t.elapsed());
    assert!(pod.containers().is_empty());
}

/// 50 calls of several kinds from 8 threads, all through one `Client` (one connection).
#[test]
fn fifty_concurrent_calls_from_eight_threads() {
    let Some(endpoint) = endpoint() else { return };
    let client = client(&endpoint);
    let t = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let client = client.clone();
            std::thread::spawn(move || {
                let calls = if i < 2 { 7 } else { 6 }; // 2*7 + 6*6 = 50
                for n in 0..calls {
                    match (i + n) % 5 {
                        0 => assert_eq!(
                            client.version(&VersionRequest::default()).unwrap().runtime_name,
                            "containerd"
                        ),
                        1 => drop(client.list_pod_sandbox(&ListPodSandboxRequest::default()).unwrap()),
                        2 => assert!(
                            !client.list_images(&ListImagesRequest::default()).unwrap().images.is_empty()
                        ),
                        3 => assert!(
                            client.status(&StatusRequest { verbose: false }).unwrap().status.is_some()
                        ),
                        _ => drop(client.list_containers(&ListContainersRequest::default()).unwrap()),
                    }
                }
                calls
            })
        })
        .collect();
    let total: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(total, 50);
    println!("50 mixed calls from 8 threads on one client: {:?}", t.elapsed());
}

#[test]
fn unknown_method_is_unimplemented() {
    let Some(endpoint) = endpoint() else { return };
    let channel = Channel::new(&endpoint).unwrap();
    let e = channel.unary("/runtime.v1.RuntimeService/NoSuchMethod", b"", Some(TIMEOUT)).unwrap_err();
    assert_eq!(e.code, Code::Unimplemented, "{e}");
    // A typed call the runtime may be too old for comes back as a typed error.
    match client(&endpoint).runtime_config(&RuntimeConfigRequest {}) {
        Ok(r) => println!("RuntimeConfig is implemented: {r:?}"),
        Err(e) => assert!(e.is_unimplemented(), "{e}"),
    }
}

/// Sandbox and container start times over a few pods, against FACTS.md's figures for the
/// Go client on this machine (RunPodSandbox ≈ 0.10 s, Create+Start ≈ 0.06 s).
#[test]
fn start_timings() {
    let Some(endpoint) = endpoint() else { return };
    let _turn = serial();
    let client = client(&endpoint);
    let (mut run, mut start, mut version) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..5 {
        let pod = TestPod::run(&client, &format!("cri-timing-{i}"));
        run.push(pod.run_took);
        let t = Instant::now();
        let id = pod.create(pod.container_config("app", "sleep 3600")).unwrap();
        pod.start(&id);
        start.push(t.elapsed());
        let t = Instant::now();
        client.version(&VersionRequest::default()).unwrap();
        version.push(t.elapsed());
    }
    let mean = |v: &[Duration]| v.iter().sum::<Duration>() / v.len() as u32;
    let min = |v: &[Duration]| v.iter().min().copied().unwrap_or_default();
    println!("RunPodSandbox: mean {:?}, min {:?} (Go client: ~100ms)", mean(&run), min(&run));
    println!("Create+Start: mean {:?}, min {:?} (Go client: ~60ms)", mean(&start), min(&start));
    println!("Version round trip: mean {:?}, min {:?}", mean(&version), min(&version));
}
