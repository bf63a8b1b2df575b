//! The Summary's JSON decoded by a mirror of upstream's types (`stats/v1alpha1`, field by
//! field, unknown fields refused), and what `only_cpu_and_memory` keeps.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use super::host::Proc;
use super::rates::Rates;
use super::summary::*;
use super::tests::{SEC, build, fixture};
use crate::cgroups::Cgroups;

/// Upstream's JSON, field by field, unknown fields refused: a Summary that decodes here uses
/// only upstream's names.
#[allow(dead_code)]
mod upstream {
    use serde::Deserialize;
    type T = String;
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Summary {
        pub node: Node,
        pub pods: Vec<Pod>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Node {
        pub node_name: String,
        #[serde(default)]
        pub system_containers: Vec<Container>,
        pub start_time: T,
        pub cpu: Option<Cpu>,
        pub memory: Option<Memory>,
        pub io: Option<Io>,
        pub network: Option<Network>,
        pub fs: Option<Fs>,
        pub runtime: Option<Runtime>,
        pub rlimit: Option<Rlimit>,
        pub swap: Option<Swap>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Rlimit {
        pub time: T,
        pub maxpid: Option<i64>,
        pub curproc: Option<i64>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Runtime {
        pub image_fs: Option<Fs>,
        pub container_fs: Option<Fs>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Pod {
        pub pod_ref: Ref,
        pub start_time: T,
        pub containers: Vec<Container>,
        pub cpu: Option<Cpu>,
        pub memory: Option<Memory>,
        pub io: Option<Io>,
        pub network: Option<Network>,
        pub volume: Option<Vec<Fs>>,
        #[serde(rename = "ephemeral-storage")]
        pub ephemeral_storage: Option<Fs>,
        #[serde(rename = "process_stats")]
        pub process_stats: Option<Process>,
        pub swap: Option<Swap>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Process {
        pub process_count: Option<u64>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Ref {
        pub name: String,
        pub namespace: String,
        pub uid: String,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Container {
        pub name: String,
        pub start_time: T,
        pub cpu: Option<Cpu>,
        pub memory: Option<Memory>,
        pub io: Option<Io>,
        pub rootfs: Option<Fs>,
        pub logs: Option<Fs>,
        pub swap: Option<Swap>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Network {
        pub time: T,
        pub name: String,
        pub rx_bytes: Option<u64>,
        pub rx_errors: Option<u64>,
        pub tx_bytes: Option<u64>,
        pub tx_errors: Option<u64>,
        pub interfaces: Option<Vec<Iface>>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Iface {
        pub name: String,
        pub rx_bytes: Option<u64>,
        pub rx_errors: Option<u64>,
        pub tx_bytes: Option<u64>,
        pub tx_errors: Option<u64>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Cpu {
        pub time: T,
        pub usage_nano_cores: Option<u64>,
        pub usage_core_nano_seconds: Option<u64>,
        pub psi: Option<Psi>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Memory {
        pub time: T,
        pub available_bytes: Option<u64>,
        pub usage_bytes: Option<u64>,
        pub working_set_bytes: Option<u64>,
        pub rss_bytes: Option<u64>,
        pub page_faults: Option<u64>,
        pub major_page_faults: Option<u64>,
        pub psi: Option<Psi>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Io {
        pub time: T,
        pub psi: Option<Psi>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Psi {
        pub full: PsiData,
        pub some: PsiData,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct PsiData {
        pub total: u64,
        pub avg10: f64,
        pub avg60: f64,
        pub avg300: f64,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Swap {
        pub time: T,
        pub swap_available_bytes: Option<u64>,
        pub swap_usage_bytes: Option<u64>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct Fs {
        pub time: T,
        pub available_bytes: Option<u64>,
        pub capacity_bytes: Option<u64>,
        pub used_bytes: Option<u64>,
        pub inodes_free: Option<u64>,
        pub inodes: Option<u64>,
        pub inodes_used: Option<u64>,
    }
}

fn full_summary(name: &str) -> Summary {
    let f = fixture(name);
    let pod = build(&f, 100 * SEC, &mut Rates::default());
    let cg = Cgroups::detect_at(&f.tree.0).unwrap();
    let proc = Proc::new(Path::new("/proc"));
    let src = super::node::NodeSources { proc: &proc, cgroups: Some(&cg), root_dir: &std::env::temp_dir() };
    let mut node = super::node::node_stats("n1", &src, 100 * SEC, &mut Rates::default());
    node.system_containers = vec![
        super::system::SystemContainer::of_cgroup("pods", "/kubepods/besteffort/pod1234")
            .stats(&cg, &proc, 100 * SEC, &mut Rates::default())
            .unwrap(),
    ];
    let image_fs = FsStats { time: Time::from_unix(3), used_bytes: Some(1), ..Default::default() };
    node.runtime = Some(RuntimeStats { image_fs: Some(image_fs.clone()), container_fs: Some(image_fs) });
    Summary { node, pods: vec![pod] }
}

#[test]
fn summary_json_uses_upstream_names() {
    let summary = full_summary("json-names");
    let json = serde_json::to_value(&summary).unwrap();
    let decoded: upstream::Summary = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(decoded.node.node_name, "n1");
    assert_eq!(decoded.node.system_containers[0].name, "pods");
    assert!(decoded.node.rlimit.unwrap().maxpid.unwrap() > 0);
    assert!(decoded.node.runtime.unwrap().container_fs.is_some());
    let pod = &decoded.pods[0];
    assert_eq!(pod.pod_ref.uid, "1234");
    assert_eq!(pod.network.as_ref().unwrap().name, "eth0", "InterfaceStats is inlined");
    assert!(pod.ephemeral_storage.is_some() && pod.process_stats.is_some());
    assert!(pod.volume.is_none(), "no volume stats yet: left out");
    assert_eq!(pod.containers[0].rootfs.as_ref().unwrap().used_bytes, Some(8192));
    // Spot checks of the raw text.
    let pod_json = &json["pods"][0];
    assert_eq!(pod_json["startTime"], "1970-01-01T00:01:30Z");
    assert_eq!(pod_json["containers"][0]["cpu"]["psi"]["some"]["avg10"], 0.0);
    assert!(json["node"]["cpu"]["usageCoreNanoSeconds"].is_u64());
    // It reads back into our own types (times to the second) and writes the same JSON.
    let back: Summary = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json);
}

#[test]
fn only_cpu_and_memory() {
    let s = full_summary("json-cpu-mem").cpu_and_memory();
    let json = serde_json::to_value(&s).unwrap();
    let node = json["node"].as_object().unwrap();
    let mut keys: Vec<&str> = node.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["cpu", "memory", "nodeName", "startTime", "swap", "systemContainers"]);
    let pod = json["pods"][0].as_object().unwrap();
    let mut keys: Vec<&str> = pod.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["containers", "cpu", "memory", "podRef", "startTime", "swap"]);
    let c = json["pods"][0]["containers"][0].as_object().unwrap();
    let mut keys: Vec<&str> = c.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["cpu", "memory", "name", "startTime", "swap"]);
}
