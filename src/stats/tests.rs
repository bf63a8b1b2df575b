//! A pod assembled from runtime answers and a fake cgroup tree; the Summary's JSON decoded
//! by a mirror of upstream's types that rejects unknown fields.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use super::fs::FsInfo;
use super::host::Proc;
use super::layout;
use super::pods::{PodEnv, PodInput, pod_stats, select_sandboxes};
use super::rates::Rates;
use super::summary::Time;
use super::summary::*;
use crate::cgroups::Cgroups;
use crate::cgroups::tests::{Tree, v1_tree};
use crate::cri;

pub(super) const SEC: i64 = 1_000_000_000;

fn u(v: u64) -> Option<cri::UInt64Value> {
    Some(cri::UInt64Value { value: v })
}

fn sandbox(id: &str, uid: &str, created: i64, ready: bool) -> cri::PodSandbox {
    cri::PodSandbox {
        id: id.into(),
        metadata: Some(cri::PodSandboxMetadata {
            name: "web".into(),
            uid: uid.into(),
            namespace: "ns".into(),
            attempt: 0,
        }),
        state: if ready { cri::PodSandboxState::READY } else { cri::PodSandboxState::NOT_READY },
        created_at: created,
        ..Default::default()
    }
}

fn container(id: &str, sandbox: &str, name: &str) -> cri::Container {
    cri::Container {
        id: id.into(),
        pod_sandbox_id: sandbox.into(),
        metadata: Some(cri::ContainerMetadata { name: name.into(), attempt: 0 }),
        state: cri::ContainerState::RUNNING,
        created_at: 100 * SEC,
        ..Default::default()
    }
}

fn writable_layer() -> cri::FilesystemUsage {
    cri::FilesystemUsage {
        timestamp: 50 * SEC,
        fs_id: Some(cri::FilesystemIdentifier { mountpoint: "/images".into() }),
        used_bytes: u(8192),
        inodes_used: u(5),
    }
}

/// The fake v1 tree's pod `1234` with container `c1` and sandbox `sandbox` (pid 4242),
/// logs and etc-hosts on disk, and runtime stats for `c1` and a cgroup-less `c2`.
pub(super) struct Fixture {
    pub tree: Tree,
    sandbox: cri::PodSandbox,
    containers: Vec<cri::Container>,
    sandbox_stats: cri::PodSandboxStats,
    container_stats: HashMap<String, cri::ContainerStats>,
}

pub(super) fn fixture(name: &str) -> Fixture {
    let tree = v1_tree(name);
    tree.write(
        "proc/4242/net/dev",
        "h\nh\n  eth0: 1000 5 1 0 0 0 0 0 2000 6 2 0 0 0 0 0\n    lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n",
    );
    tree.write("logs/ns_web_1234/app/0.log", &"x".repeat(5000));
    tree.write("root/pods/1234/etc-hosts", "127.0.0.1 localhost\n");
    let cpu = cri::CpuUsage {
        timestamp: 60 * SEC,
        usage_core_nano_seconds: u(7_000),
        usage_nano_cores: u(3),
        psi: None,
    };
    let memory = cri::MemoryUsage {
        timestamp: 60 * SEC,
        working_set_bytes: u(111),
        usage_bytes: u(222),
        ..Default::default()
    };
    let attrs = |id: &str| Some(cri::ContainerAttributes { id: id.into(), ..Default::default() });
    let c2_stats = cri::ContainerStats {
        attributes: attrs("c2"),
        cpu: Some(cpu.clone()),
        memory: Some(memory.clone()),
        writable_layer: Some(writable_layer()),
        ..Default::default()
    };
    let c1_stats = cri::ContainerStats {
        attributes: attrs("c1"),
        writable_layer: Some(writable_layer()),
        ..Default::default()
    };
    let network = cri::NetworkUsage {
        timestamp: 0,
        default_interface: Some(cri::NetworkInterfaceUsage {
            name: "eth0".into(),
            rx_bytes: u(1),
            ..Default::default()
        }),
        interfaces: vec![],
    };
    let sandbox_stats = cri::PodSandboxStats {
        linux: Some(cri::LinuxPodSandboxStats {
            network: Some(network),
            process: Some(cri::ProcessUsage { timestamp: 0, process_count: u(3) }),
            ..Default::default()
        }),
        ..Default::default()
    };
    Fixture {
        tree,
        sandbox: sandbox("sandbox", "1234", 90 * SEC, true),
        containers: vec![container("c1", "sandbox", "app"), container("c2", "sandbox", "side")],
        sandbox_stats,
        container_stats: [("c1".to_string(), c1_stats), ("c2".to_string(), c2_stats)].into(),
    }
}

const ROOT_FS: FsInfo =
    FsInfo { capacity: 1 << 30, available: 1 << 29, used: 1 << 29, inodes: 100_000, inodes_free: 60_000 };

pub(super) fn build(f: &Fixture, at_ns: i64, rates: &mut Rates) -> PodStats {
    let cg = Cgroups::detect_at(&f.tree.0).unwrap();
    let found = layout::discover(&cg, "/kubepods");
    let proc = Proc::new(&f.tree.0.join("proc"));
    let fs_by_mountpoint: HashMap<String, FsInfo> = [("/images".to_string(), ROOT_FS)].into();
    let env = PodEnv {
        cgroups: Some(&cg),
        found: &found,
        proc: &proc,
        root_dir: &f.tree.0.join("root"),
        pod_logs_dir: &f.tree.0.join("logs"),
        root_fs: Some(ROOT_FS),
        fs_by_mountpoint: &fs_by_mountpoint,
    };
    let input = PodInput {
        sandbox: &f.sandbox,
        containers: f.containers.iter().collect(),
        sandbox_stats: Some(&f.sandbox_stats),
        container_stats: &f.container_stats,
    };
    pod_stats(&input, &env, at_ns, rates)
}

#[test]
fn pod_from_cgroups_runtime_and_disk() {
    let f = fixture("pod");
    let mut rates = Rates::default();
    let p = build(&f, 100 * SEC, &mut rates);
    assert_eq!(p.pod_ref, PodReference { name: "web".into(), namespace: "ns".into(), uid: "1234".into() });
    assert_eq!(p.start_time, Time::from_unix(90));
    assert_eq!(p.cpu.as_ref().unwrap().usage_core_nano_seconds, Some(5_000_000), "the pod cgroup");
    assert_eq!(p.cpu.as_ref().unwrap().usage_nano_cores, None, "one sample");
    let mem = p.memory.as_ref().unwrap();
    assert_eq!(
        mem.available_bytes,
        Some(83_886_080 - (20480 - 1024)),
        "the pod's limit minus its working set"
    );
    assert_eq!(p.process_stats, Some(ProcessStats { process_count: Some(3) }), "the runtime's count");

    let net = p.network.as_ref().unwrap();
    assert_eq!(
        net.default.rx_bytes,
        Some(1000),
        "read from the pause process, since containerd lists no interfaces"
    );
    assert_eq!(net.interfaces.len(), 1, "lo left out");
    assert_eq!(net.time, Time::from_unix(100));

    let app = &p.containers[0];
    assert_eq!((app.name.as_str(), app.start_time), ("app", Time::from_unix(100)));
    assert_eq!(app.cpu.as_ref().unwrap().usage_core_nano_seconds, Some(3_000_000), "container cgroup");
    assert!(app.memory.as_ref().unwrap().psi.is_some());
    let rootfs = app.rootfs.as_ref().unwrap();
    assert_eq!(
        (rootfs.used_bytes, rootfs.capacity_bytes, rootfs.inodes_used),
        (Some(8192), Some(1 << 30), Some(5))
    );
    let logs = app.logs.as_ref().unwrap();
    assert!(logs.used_bytes.unwrap() >= 5000 && logs.inodes_used == Some(1), "{logs:?}");
    assert_eq!(logs.available_bytes, Some(1 << 29));

    let side = &p.containers[1];
    assert_eq!(
        side.cpu.as_ref().unwrap().usage_core_nano_seconds,
        Some(7_000),
        "no cgroup: the runtime's figures"
    );
    assert_eq!(
        side.cpu.as_ref().unwrap().usage_nano_cores,
        Some(3),
        "the runtime's rate until we have our own"
    );
    assert_eq!(side.memory.as_ref().unwrap().working_set_bytes, Some(111));
    assert_eq!(side.logs, None, "no log directory");

    let eph = p.ephemeral_storage.as_ref().unwrap();
    let etc_hosts = super::fs::du(&f.tree.0.join("root/pods/1234/etc-hosts")).unwrap();
    assert_eq!(eph.used_bytes, Some(8192 * 2 + logs.used_bytes.unwrap() + etc_hosts.bytes));
    assert_eq!(eph.inodes_used, Some(5 * 2 + 1 + 1));
    assert_eq!(eph.capacity_bytes, Some(1 << 30));
    assert!(p.volume_stats.is_empty());

    // A second round ten seconds later, 1 s of CPU more in the pod: 100 millicores.
    f.tree.write("sys/fs/cgroup/cpuacct/kubepods/besteffort/pod1234/cpuacct.usage", "1005000000\n");
    let p2 = build(&f, 110 * SEC, &mut rates);
    assert_eq!(p2.cpu.unwrap().usage_nano_cores, Some(100_000_000));
}

#[test]
fn pod_without_cgroups_sums_its_containers() {
    let f = fixture("pod-nocg");
    std::fs::remove_dir_all(f.tree.0.join("sys/fs/cgroup/memory/kubepods")).unwrap();
    let p = build(&f, 100 * SEC, &mut Rates::default());
    let cpu = p.cpu.unwrap();
    assert_eq!(cpu.usage_core_nano_seconds, Some(7_000), "c1 reports zero, c2 7000");
    assert_eq!(p.memory.unwrap().working_set_bytes, Some(111));
    assert_eq!(p.network.unwrap().default.rx_bytes, Some(1), "the runtime's default interface at last");
}

#[test]
fn sandboxes_are_chosen_as_upstream() {
    let old = sandbox("old", "u1", 1, false);
    let new = sandbox("new", "u2", 2, false);
    assert_eq!(
        select_sandboxes(vec![new.clone(), old.clone()]).iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["new"]
    );
    let ready = sandbox("ready", "u3", 0, true);
    assert_eq!(
        select_sandboxes(vec![new, ready, old]).iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["ready"]
    );
}
