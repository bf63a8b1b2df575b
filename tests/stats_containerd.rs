//! The stats provider against the shared containerd: a busybox pod of our own burns CPU
//! for a while, and the summary shows its container with a CPU rate and a memory working
//! set, the pod with its network and storage, and `/metrics/resource` lists it.
//!
//! Needs root and `CONTAINER_RUNTIME_ENDPOINT` (`scripts/containerd.sh up`, then
//! `scripts/images.sh import`); prints `SKIPPED` otherwise. The pod lives under the
//! `rk-test` cgroup and is removed at the end, also when the test fails.

#![allow(clippy::unwrap_used)]

mod cri_support;

use std::time::Duration;

use cri_support::{NAMESPACE, TestPod, client, endpoint, serial, wait_for};
use rkubelet::cri;
use rkubelet::stats::{self, Summary, summary::PodStats};

fn our_pod<'a>(s: &'a Summary, uid: &str) -> Option<&'a PodStats> {
    s.pods.iter().find(|p| p.pod_ref.uid == uid)
}

#[test]
fn a_busy_pod_shows_in_the_summary() {
    let Some(endpoint) = endpoint() else { return };
    let _turn = serial();
    let client = client(&endpoint);
    let pod = TestPod::run(&client, "stats-burn");
    let mut config = pod.container_config("burn", "timeout 60 sh -c 'while :; do :; done'; sleep 3600");
    if let Some(r) = config.linux.as_mut().and_then(|l| l.resources.as_mut()) {
        r.memory_limit_in_bytes = 64 << 20;
    }
    let id = pod.create(config).unwrap();
    pod.start(&id);

    let dir = pod.dir.clone();
    let handle = stats::spawn(
        stats::Config {
            node_name: "t-stats".into(),
            root_dir: dir.clone(),
            pod_logs_dir: dir.join("pods"),
            pods_cgroup: Some("/rk-test".into()),
            runtime_endpoint: endpoint.clone(),
            interval: Duration::from_secs(1),
            ..stats::Config::default()
        },
        stats::Deps { cri: client.clone() },
    )
    .unwrap();

    // Two samples of the running container give a rate.
    let summary = wait_for("a CPU rate for the burning container", Duration::from_secs(30), || {
        let s = handle.latest().unwrap();
        let rate = our_pod(&s, &pod.uid)?.containers.first()?.cpu.as_ref()?.usage_nano_cores?;
        (rate > 0).then_some(s)
    });
    let p = our_pod(&summary, &pod.uid).unwrap();
    println!("{}", serde_json::to_string_pretty(p).unwrap());
    assert_eq!((p.pod_ref.name.as_str(), p.pod_ref.namespace.as_str()), ("stats-burn", NAMESPACE));
    let c = &p.containers[0];
    assert_eq!(c.name, "burn");
    let cpu = c.cpu.as_ref().unwrap();
    assert!(cpu.usage_nano_cores.unwrap() > 100_000_000, "a busy loop uses well over 0.1 core: {cpu:?}");
    let memory = c.memory.as_ref().unwrap();
    assert!(memory.working_set_bytes.unwrap() > 0, "{memory:?}");
    let available = memory.available_bytes.expect("the container has a memory limit");
    assert!(available < 64 << 20 && available > 0, "{memory:?}");
    assert!(
        c.rootfs.as_ref().and_then(|r| r.capacity_bytes).is_some(),
        "writable layer and its filesystem: {c:?}"
    );
    assert!(c.logs.is_some(), "its log directory: {c:?}");
    assert!(p.cpu.as_ref().unwrap().usage_core_nano_seconds.unwrap() >= cpu.usage_core_nano_seconds.unwrap());
    assert!(p.memory.as_ref().unwrap().working_set_bytes.unwrap() > 0);
    let network = p.network.as_ref().expect("the sandbox's network");
    assert!(!network.interfaces.is_empty(), "{network:?}");
    assert!(p.ephemeral_storage.as_ref().and_then(|e| e.used_bytes).is_some());
    assert!(p.process_stats.as_ref().and_then(|s| s.process_count).unwrap_or(0) >= 2, "pause and sh");

    let node = &summary.node;
    assert_eq!(node.node_name, "t-stats");
    assert!(node.cpu.as_ref().unwrap().usage_nano_cores.unwrap() > 0);
    assert!(node.memory.as_ref().unwrap().available_bytes.unwrap() > 0);
    assert!(node.runtime.as_ref().and_then(|r| r.image_fs.as_ref()).is_some(), "ImageFsInfo");
    let system: Vec<&str> = node.system_containers.iter().map(|c| c.name.as_str()).collect();
    assert!(system.contains(&"pods") && system.contains(&"kubelet"), "{system:?}");
    assert!(handle.node_memory_available().is_some() && handle.node_fs_available().is_some());

    let json = handle.summary(true).unwrap();
    assert!(json["pods"].as_array().unwrap().iter().any(|p| p["podRef"]["uid"] == pod.uid.as_str()));
    let text = handle.resource_metrics().unwrap();
    let line = format!(
        "container_cpu_usage_seconds_total{{container=\"burn\",namespace=\"{NAMESPACE}\",pod=\"stats-burn\"}}"
    );
    assert!(text.contains(&line), "{text}");
    assert!(text.contains("resource_scrape_error 0"), "{text}");

    // The container stops: it leaves the summary (only running containers are listed).
    client.stop_container(&cri::StopContainerRequest { container_id: id.clone(), timeout: 0 }).unwrap();
    wait_for("the stopped pod to leave the summary", Duration::from_secs(10), || {
        our_pod(&handle.latest().unwrap(), &pod.uid).is_none().then_some(())
    });
}
