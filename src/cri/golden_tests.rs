//! Golden messages encoded by the reference Go implementation (`testdata/gen/main.go`):
//! we decode them to the values Go was given and re-encode them to the very same bytes.

use std::collections::BTreeMap;

use super::*;
use crate::proto::Message;

fn golden(name: &str) -> Vec<u8> {
    let text = match name {
        "container_status_response" => include_str!("testdata/container_status_response.hex"),
        "pod_sandbox_status_response" => include_str!("testdata/pod_sandbox_status_response.hex"),
        "list_containers_response" => include_str!("testdata/list_containers_response.hex"),
        "create_container_request" => include_str!("testdata/create_container_request.hex"),
        "list_container_stats_response" => include_str!("testdata/list_container_stats_response.hex"),
        "list_pod_sandbox_stats_response" => include_str!("testdata/list_pod_sandbox_stats_response.hex"),
        "pull_image_request" => include_str!("testdata/pull_image_request.hex"),
        "status_response" => include_str!("testdata/status_response.hex"),
        "image_status_response" => include_str!("testdata/image_status_response.hex"),
        "exec_sync_response" => include_str!("testdata/exec_sync_response.hex"),
        other => panic!("no golden file {other}"),
    };
    let text = text.trim();
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex")).collect()
}

/// Decodes a golden message, checks it re-encodes to the same bytes, and that no prefix or
/// corrupted copy of it makes the decoder panic.
fn round_trip<M: Message + std::fmt::Debug>(name: &str) -> M {
    let bytes = golden(name);
    let m = M::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(m.encoded_len(), bytes.len(), "{name}: encoded_len");
    assert_eq!(m.encode_to_vec(), bytes, "{name}: re-encoded bytes differ from Go's");
    for end in 0..bytes.len() {
        let _ = M::decode(&bytes[..end]);
    }
    for at in 0..bytes.len() {
        let mut corrupt = bytes.clone();
        for value in [0x00, 0x7f, 0x80, 0xff] {
            corrupt[at] = value;
            let _ = M::decode(&corrupt);
        }
    }
    m
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn container_status_response() {
    let r: ContainerStatusResponse = round_trip("container_status_response");
    let s = r.status.expect("status");
    assert_eq!(s.state, ContainerState::EXITED);
    assert_eq!(s.exit_code, -1);
    assert_eq!((s.created_at, s.finished_at), (1_700_000_000_000_000_001, 1_700_000_001_000_000_000));
    assert_eq!((s.reason.as_str(), s.message.as_str()), ("OOMKilled", "mémoire épuisée\n"));
    assert_eq!(s.labels, map(&[("empty", ""), ("io.kubernetes.container.name", "app")]));
    assert_eq!(s.metadata, Some(ContainerMetadata { name: "app".into(), attempt: 3 }));
    let mount = &s.mounts[0];
    assert_eq!(mount.propagation, MountPropagation::BIDIRECTIONAL);
    assert_eq!(mount.uid_mappings, [IDMapping { host_id: 100_000, container_id: 0, length: 65536 }]);
    assert_eq!(mount.mount_options, ["nosuid", "nodev"]);
    let linux = s.resources.and_then(|r| r.linux).expect("resources");
    assert_eq!((linux.cpu_quota, linux.oom_score_adj, linux.memory_limit_in_bytes), (-1, -997, 1 << 40));
    assert_eq!(linux.hugepage_limits[1], HugepageLimit { page_size: "1GB".into(), limit: 1 << 30 });
    assert_eq!(linux.unified, map(&[("", ""), ("memory.high", "max")]));
    let user = s.user.and_then(|u| u.linux).expect("user");
    assert_eq!(user.supplemental_groups, [0, 1000, 4_294_967_296]);
    assert_eq!(s.stop_signal, Signal::SIGTERM);
    assert_eq!(s.image.map(|i| i.user_specified_image), Some("busybox:1.36".into()));
}

#[test]
fn pod_sandbox_status_response() {
    let r: PodSandboxStatusResponse = round_trip("pod_sandbox_status_response");
    let s = r.status.expect("status");
    assert_eq!(s.state, PodSandboxState::NOT_READY);
    let network = s.network.expect("network");
    assert_eq!((network.ip.as_str(), network.additional_ips[0].ip.as_str()), ("10.88.0.5", "fd00::5"));
    let ns = s.linux.and_then(|l| l.namespaces).and_then(|n| n.options).expect("namespaces");
    assert_eq!((ns.network, ns.pid, ns.ipc), (NamespaceMode::NODE, NamespaceMode::CONTAINER, NamespaceMode::POD));
    assert_eq!(ns.userns_options.map(|u| u.uids.len()), Some(1));
    assert_eq!(r.containers_statuses.len(), 2);
    assert_eq!(r.containers_statuses[1].id, "second");
}

#[test]
fn list_containers_response_keeps_unknown_states() {
    let r: ListContainersResponse = round_trip("list_containers_response");
    assert_eq!(r.containers.len(), 3);
    assert_eq!(r.containers[0].state, ContainerState::RUNNING);
    assert_eq!(r.containers[1].state, ContainerState(42));
    assert_eq!(r.containers[2], Container::default());
}

#[test]
fn create_container_request() {
    let r: CreateContainerRequest = round_trip("create_container_request");
    let c = r.config.expect("config");
    assert_eq!(c.args, ["echo hi; sleep 3600", ""]);
    assert_eq!(c.envs[2], KeyValue { key: "BIN".into(), value: vec![0xff, 0] });
    assert_eq!(c.cdi_devices, [CDIDevice { name: "vendor.com/gpu=0".into() }]);
    assert_eq!(c.stop_signal, Signal::SIGRTMAX);
    let sc = c.linux.and_then(|l| l.security_context).expect("security context");
    // Presence matters: run_as_group is set to 0, apparmor is set to the default profile.
    assert_eq!(sc.run_as_group, Some(Int64Value { value: 0 }));
    assert_eq!(sc.apparmor, Some(SecurityProfile::default()));
    assert_eq!(sc.seccomp.map(|p| p.profile_type), Some(ProfileType::UNCONFINED));
    assert_eq!(sc.namespace_options.map(|n| (n.pid, n.target_id)), Some((NamespaceMode::TARGET, "other".into())));
    let sandbox = r.sandbox_config.expect("sandbox config");
    assert_eq!(sandbox.port_mappings[0].protocol, Protocol::UDP);
    assert_eq!(sandbox.port_mappings[1], PortMapping { container_port: 80, ..Default::default() });
    let ssc = sandbox.linux.and_then(|l| l.security_context).expect("sandbox security context");
    assert_eq!(ssc.run_as_user, Some(Int64Value { value: 0 }));
    assert_eq!(ssc.supplemental_groups_policy, SupplementalGroupsPolicy::STRICT);
    assert_eq!(ssc.selinux_options.map(|o| o.r#type), Some("t".into()));
}

#[test]
fn stats_responses() {
    let r: ListContainerStatsResponse = round_trip("list_container_stats_response");
    let cpu = r.stats[0].cpu.as_ref().expect("cpu");
    assert_eq!(cpu.usage_core_nano_seconds, Some(UInt64Value { value: 123_456_789 }));
    assert_eq!(cpu.usage_nano_cores, Some(UInt64Value { value: 0 }));
    let full = cpu.psi.as_ref().and_then(|p| p.full.as_ref()).expect("psi");
    assert_eq!((full.total, full.avg10, full.avg60, full.avg300), (12345, 0.5, 1.25, 100.0));
    assert_eq!(r.stats[1], ContainerStats::default());

    let r: ListPodSandboxStatsResponse = round_trip("list_pod_sandbox_stats_response");
    let linux = r.stats[0].linux.as_ref().expect("linux");
    let net = linux.network.as_ref().expect("network");
    assert_eq!(net.default_interface.as_ref().map(|i| i.name.as_str()), Some("eth0"));
    assert_eq!(net.interfaces[1].rx_bytes, Some(UInt64Value { value: 10 }));
    assert_eq!(linux.process.as_ref().and_then(|p| p.process_count.clone()), Some(UInt64Value { value: 3 }));
}

#[test]
fn image_and_runtime_messages() {
    let r: PullImageRequest = round_trip("pull_image_request");
    let auth = r.auth.expect("auth");
    assert_eq!(auth.password.0, "secret");
    assert!(!format!("{auth:?}").contains("secret"));

    let r: ImageStatusResponse = round_trip("image_status_response");
    let image = r.image.expect("image");
    assert_eq!((image.size, image.pinned, image.uid), (1 << 33, true, Some(Int64Value { value: 0 })));

    let r: StatusResponse = round_trip("status_response");
    let conditions = r.status.expect("status").conditions;
    assert_eq!(conditions[1].reason, "NetworkPluginNotReady");
    assert!(conditions[0].status && !conditions[1].status);
    assert_eq!(r.runtime_handlers[0].features.as_ref().map(|f| f.user_namespaces), Some(true));

    let r: ExecSyncResponse = round_trip("exec_sync_response");
    assert_eq!((r.stdout.as_slice(), r.exit_code), (&b"hello\n"[..], 127));
}
