use super::*;
use crate::api::Quantity;
use std::collections::BTreeMap;
use std::time::Duration;

fn image(id: &str, size: u64, tags: &[&str], digests: &[&str]) -> cri::Image {
    cri::Image {
        id: id.into(),
        size,
        repo_tags: tags.iter().map(ToString::to_string).collect(),
        repo_digests: digests.iter().map(ToString::to_string).collect(),
        ..cri::Image::default()
    }
}

fn machine() -> MachineInfo {
    MachineInfo {
        cpus: 2,
        memory_bytes: Some(4 << 30),
        root_fs_bytes: Some(20 << 30),
        machine_id: "mid".into(),
        system_uuid: "uuid".into(),
        boot_id: "boot-2".into(),
        kernel_version: "6.1.0".into(),
        os_image: "Debian GNU/Linux 12 (bookworm)".into(),
        ..MachineInfo::default()
    }
}

fn ready_runtime(at: Instant) -> RuntimeState {
    let mut runtime = RuntimeState::default();
    let ready = |t: &str| cri::RuntimeCondition { r#type: t.into(), status: true, ..Default::default() };
    let status = cri::StatusResponse {
        status: Some(cri::RuntimeStatus { conditions: vec![ready("RuntimeReady"), ready("NetworkReady")] }),
        ..Default::default()
    };
    runtime.apply_status(&status, at);
    runtime.version = "containerd://1.6.20".into();
    runtime
}

fn config() -> Config {
    let mut cfg = Config::new("n1", vec!["192.0.2.2".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))]);
    cfg.hostname = "host-1".into();
    cfg
}

#[test]
fn a_full_status() {
    let instant = Instant::now();
    let runtime = ready_runtime(instant);
    let images = [image("a", 10, &["busybox:1"], &[])];
    let seen = Observed {
        machine: &machine(),
        runtime: &runtime,
        images: &images,
        pressure: Pressure::default(),
        health: Ok(()),
        now: Time::from_unix(1_700_000_000),
        instant,
    };
    let mut node = Node::default();
    let events = set_node_status(&mut node, &config(), &seen, &mut Memory::default());
    let s = &node.status;
    let addresses: Vec<(&str, &str)> =
        s.addresses.iter().map(|a| (a.type_.as_str(), a.address.as_str())).collect();
    assert_eq!(addresses, [("InternalIP", "192.0.2.2"), ("Hostname", "host-1")]);
    assert_eq!(s.capacity.get("cpu"), Some(&Quantity::from_decimal(2)));
    assert_eq!(s.capacity.get("ephemeral-storage").map(ToString::to_string).as_deref(), Some("20Gi"));
    let info = s.node_info.clone().unwrap_or_default();
    assert_eq!(info.container_runtime_version, "containerd://1.6.20");
    assert_eq!(info.kubelet_version, "v1.37.2");
    assert_eq!(info.kube_proxy_version, "");
    assert_eq!((info.operating_system.as_str(), info.architecture.as_str()), ("linux", go_arch()));
    assert_eq!(
        (info.machine_id.as_str(), info.system_uuid.as_str(), info.boot_id.as_str()),
        ("mid", "uuid", "boot-2")
    );
    assert_eq!(info.swap, None, "no swap, no swap info");
    assert_eq!(
        s.daemon_endpoints.as_ref().and_then(|d| d.kubelet_endpoint.as_ref()).map(|e| e.port),
        Some(10250)
    );
    assert_eq!(s.images.len(), 1);
    assert_eq!(conditions::ready_status(&s.conditions), Some("True"));
    assert_eq!(
        s.declared_features,
        [
            "ExtendWebSocketsToKubelet",
            "InPlacePodLevelResourcesVerticalScaling",
            "InPlacePodVerticalScalingInitContainers",
            "RestartAllContainersOnContainerExits"
        ],
        "1.37's default gates"
    );
    assert_eq!(node.metadata.labels.get("kubernetes.io/os").map(String::as_str), Some("linux"));
    assert_eq!(events.len(), 3, "the three pressure conditions appear: {events:?}");
}

#[test]
fn missing_capacity_keeps_the_node_not_ready() {
    let instant = Instant::now();
    let runtime = ready_runtime(instant);
    let no_fs = MachineInfo { root_fs_bytes: None, ..machine() };
    let seen = Observed {
        machine: &no_fs,
        runtime: &runtime,
        images: &[],
        pressure: Pressure::default(),
        health: Err("PLEG is not healthy: pleg has yet to be successful".into()),
        now: Time::from_unix(1),
        instant: instant + Duration::from_secs(1),
    };
    let mut node = Node::default();
    set_node_status(&mut node, &config(), &seen, &mut Memory::default());
    let ready = node.status.conditions.iter().find(|c| c.type_ == "Ready").cloned().unwrap_or_default();
    assert_eq!(ready.status, "False");
    assert_eq!(
        ready.message.as_deref(),
        Some(
            "[PLEG is not healthy: pleg has yet to be successful, missing node capacity for resources: ephemeral-storage]"
        )
    );
}

#[test]
fn reboot_and_cordon_events() {
    let instant = Instant::now();
    let runtime = ready_runtime(instant);
    let seen = Observed {
        machine: &machine(),
        runtime: &runtime,
        images: &[],
        pressure: Pressure::default(),
        health: Ok(()),
        now: Time::from_unix(1),
        instant,
    };
    let mut node = Node::default();
    node.status.node_info =
        Some(crate::api::core::NodeSystemInfo { boot_id: "boot-1".into(), ..Default::default() });
    node.spec.unschedulable = Some(true);
    let mut memory = Memory::default();
    let events = set_node_status(&mut node, &config(), &seen, &mut memory);
    let rebooted = events.iter().find(|e| e.reason == "Rebooted").cloned();
    assert_eq!(rebooted.as_ref().map(|e| e.warning), Some(true));
    assert_eq!(rebooted.map(|e| e.message).as_deref(), Some("Node n1 has been rebooted, boot id: boot-2"));
    assert!(events.iter().any(|e| e.reason == "NodeNotSchedulable"));
    node.spec.unschedulable = None;
    let events = set_node_status(&mut node, &config(), &seen, &mut memory);
    let reasons: Vec<&str> = events.iter().map(|e| e.reason).collect();
    assert_eq!(reasons, ["NodeSchedulable"]);
}

#[test]
fn images_biggest_first_truncated() {
    let mut images = vec![
        image("small", 5, &["s:1"], &[]),
        image("b", 100, &["big:1", "big:latest"], &["big@sha256:1"]),
        image("a", 100, &["other:1"], &[]),
        image("many", 50, &["m:1", "m:2", "m:3", "m:4"], &["m@sha256:1", "m@sha256:2"]),
    ];
    sort_images(&mut images);
    let ids: Vec<&str> = images.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["b", "a", "many", "small"], "size descending, then ID descending");
    let reported = node_images(&images, 3);
    assert_eq!(reported.len(), 3);
    assert_eq!(reported[0].names, ["big@sha256:1", "big:1", "big:latest"], "digests first, then tags");
    assert_eq!(reported[0].size_bytes, Some(100));
    assert_eq!(reported[2].names, ["m@sha256:1", "m@sha256:2", "m:1", "m:2", "m:3"], "at most five names");
    assert_eq!(node_images(&images, -1).len(), 4);
    assert_eq!(node_images(&images, 0).len(), 0);
    assert_eq!(node_images(&images, 50).len(), 4);
}

#[test]
fn heartbeats_alone_are_no_change() {
    let base = NodeStatus {
        conditions: vec![
            NodeCondition {
                type_: "Ready".into(),
                status: "True".into(),
                last_heartbeat_time: Some(Time::from_unix(1)),
                ..Default::default()
            },
            NodeCondition { type_: "DiskPressure".into(), status: "False".into(), ..Default::default() },
        ],
        capacity: BTreeMap::from([("memory".to_string(), Quantity::from_bytes(1 << 30))]),
        ..NodeStatus::default()
    };
    let mut later = base.clone();
    later.conditions.reverse();
    later.conditions[1].last_heartbeat_time = Some(Time::from_unix(99));
    later.capacity.insert("memory".into(), Quantity::parse("1024Mi").unwrap_or_default());
    assert!(!status_changed(&base, &later), "order, heartbeat and quantity spelling do not count");
    later.conditions[1].status = "False".into();
    assert!(status_changed(&base, &later));
    let mut more = base.clone();
    more.images.push(ContainerImage::default());
    assert!(status_changed(&base, &more));
}

#[test]
fn addresses_for_dual_stack_and_none() {
    let ips: Vec<IpAddr> = ["192.0.2.2", "2001:db8::2"].iter().filter_map(|s| s.parse().ok()).collect();
    let types: Vec<String> =
        addresses(&ips, "h").iter().map(|a| format!("{}={}", a.type_, a.address)).collect();
    assert_eq!(types, ["InternalIP=192.0.2.2", "InternalIP=2001:db8::2", "Hostname=h"]);
    assert_eq!(addresses(&[], "h").len(), 1);
}

#[test]
fn declared_features_need_runtime_support_where_upstream_asks() {
    let gates = FeatureGates::new(&BTreeMap::from([
        ("UserNamespacesHostNetworkSupport".to_string(), true),
        ("VolumeBindMountOptions".to_string(), true),
    ]))
    .map(|(g, _)| g)
    .unwrap_or_default();
    let without = declared_features(&gates, None);
    assert!(
        !without.iter().any(|f| f == "UserNamespacesHostNetworkSupport" || f == "VolumeBindMountOptions")
    );
    let runtime = cri::RuntimeFeatures {
        user_namespaces_host_network: true,
        mount_options: true,
        ..Default::default()
    };
    let with = declared_features(&gates, Some(&runtime));
    assert!(with.iter().any(|f| f == "UserNamespacesHostNetworkSupport"));
    assert!(with.iter().any(|f| f == "VolumeBindMountOptions"));
}
