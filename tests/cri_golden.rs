//! Responses captured from a real containerd 1.6.20 (`tests/golden/cri/`, see its README)
//! decode into our typed messages with the values containerd meant, survive a re-encode,
//! and no truncation of them makes the decoder panic.

use rkubelet::cri::*;
use rkubelet::proto::Message;

fn golden(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/golden/cri/{name}.bin", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Decodes, checks the re-encoding is the same size and decodes to the same message (Go
/// writes map entries in any order, so bytes may differ), and tries every prefix.
fn decode<M: Message + PartialEq + std::fmt::Debug>(name: &str) -> M {
    let bytes = golden(name);
    let m = M::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(m.encoded_len(), bytes.len(), "{name}: a field was dropped or added");
    assert_eq!(M::decode(&m.encode_to_vec()).ok().as_ref(), Some(&m), "{name}: re-encoding");
    for end in 0..bytes.len() {
        let _ = M::decode(&bytes[..end]);
    }
    m
}

const PAUSE: &str = "registry.k8s.io/pause:3.10.2";
const BUSYBOX: &str = "docker.io/library/busybox:1.35";

#[test]
fn version() {
    let v: VersionResponse = decode("version");
    assert_eq!((v.version.as_str(), v.runtime_name.as_str()), ("0.1.0", "containerd"));
    assert!(v.runtime_version.starts_with("1.6."), "{}", v.runtime_version);
    assert_eq!(v.runtime_api_version, "v1");
}

#[test]
fn status_verbose() {
    let s: StatusResponse = decode("status_verbose");
    let conditions = s.status.map(|s| s.conditions).unwrap_or_default();
    let types: Vec<(&str, bool)> = conditions.iter().map(|c| (c.r#type.as_str(), c.status)).collect();
    assert_eq!(types, [("RuntimeReady", true), ("NetworkReady", false)]);
    assert_eq!(conditions[1].reason, "NetworkPluginNotReady");
    let config: serde_json::Value = serde_json::from_str(&s.info["config"]).unwrap_or_default();
    assert_eq!(config["restrictOOMScoreAdj"], true, "verbose info holds the CRI config as JSON");
    assert!(s.info.contains_key("cniconfig") && s.info.contains_key("golang"));
}

#[test]
fn list_images() {
    let l: ListImagesResponse = decode("list_images");
    let [image] = l.images.as_slice() else { panic!("{l:?}") };
    assert_eq!(image.id, "sha256:070641dfd737749b019b4518bff7f7eb795f6476004c8e9a0692c16d5c1ee4df");
    assert_eq!(image.repo_tags, ["docker.io/rkubelet/golden:1.0"]);
    assert!(image.size > 0 && image.uid.is_none() && !image.pinned);
}

#[test]
fn list_images_of_the_test_images() {
    let l: ListImagesResponse = decode("list_images_pause_busybox");
    let tagged = |tag: &str| l.images.iter().find(|i| i.repo_tags.iter().any(|t| t == tag));
    let pause = tagged(PAUSE).unwrap_or_else(|| panic!("no pause image: {l:?}"));
    assert!(pause.id.starts_with("sha256:") && pause.size > 0);
    // The pause image runs as 65535 (a number), busybox as root by default (no user).
    assert_eq!(pause.uid.as_ref().map(|u| u.value), Some(65535));
    let busybox = tagged(BUSYBOX).unwrap_or_else(|| panic!("no busybox image: {l:?}"));
    assert_ne!(busybox.id, pause.id);
    assert!(busybox.size > pause.size);
}

#[test]
fn image_status_verbose() {
    let s: ImageStatusResponse = decode("image_status_verbose");
    let image = s.image.unwrap_or_default();
    assert_eq!(image.repo_tags, ["docker.io/rkubelet/golden:1.0"]);
    let info: serde_json::Value = serde_json::from_str(&s.info["info"]).unwrap_or_default();
    assert_eq!(info["imageSpec"]["config"]["Labels"]["io.rkubelet.golden"], "yes");
    assert_eq!(info["imageSpec"]["config"]["Cmd"][0], "/bin/true");
}

#[test]
fn image_fs_info() {
    let f: ImageFsInfoResponse = decode("image_fs_info");
    let [fs] = f.image_filesystems.as_slice() else { panic!("{f:?}") };
    let mountpoint = fs.fs_id.as_ref().map(|i| i.mountpoint.as_str()).unwrap_or_default();
    assert!(mountpoint.ends_with("/io.containerd.snapshotter.v1.overlayfs"), "{mountpoint}");
    assert!(fs.timestamp > 1_600_000_000_000_000_000);
    assert!(fs.used_bytes.as_ref().is_some_and(|u| u.value > 0) && fs.inodes_used.is_some());
    assert!(f.container_filesystems.is_empty());
}

/// The running pod of `tests/cri_containerd.rs`'s lifecycle test, as listed.
fn captured_sandbox() -> PodSandbox {
    let l: ListPodSandboxResponse = decode("list_pod_sandbox");
    let [pod] = l.items.as_slice() else { panic!("{l:?}") };
    pod.clone()
}

#[test]
fn list_pod_sandbox() {
    let pod = captured_sandbox();
    assert_eq!(pod.id.len(), 64);
    assert_eq!(pod.state, PodSandboxState::READY);
    let m = pod.metadata.clone().unwrap_or_default();
    assert_eq!((m.name.as_str(), m.namespace.as_str(), m.attempt), ("cri-lifecycle", "rk-test", 0));
    assert_eq!(pod.labels.get("io.kubernetes.pod.uid"), Some(&m.uid));
    assert_eq!(pod.labels.get("rk-test").map(String::as_str), Some("cri"));
    assert_eq!(pod.annotations.get("kubernetes.io/config.source").map(String::as_str), Some("api"));
    assert!(pod.created_at > 1_600_000_000_000_000_000 && pod.runtime_handler.is_empty());
}

#[test]
fn container_status_running() {
    let r: ContainerStatusResponse = decode("container_status_running");
    let s = r.status.unwrap_or_default();
    assert_eq!(s.id.len(), 64);
    assert_eq!(s.state, ContainerState::RUNNING);
    assert_eq!(s.metadata.map(|m| (m.name, m.attempt)), Some(("app".to_string(), 0)));
    assert!(s.created_at > 0 && s.started_at >= s.created_at && s.finished_at == 0 && s.exit_code == 0);
    assert_eq!(s.image.map(|i| i.image).as_deref(), Some(BUSYBOX));
    assert!(s.image_ref.starts_with("sha256:"));
    assert_eq!(s.labels.get("io.kubernetes.container.name").map(String::as_str), Some("app"));
    assert!(s.log_path.ends_with("/app/0.log"), "{}", s.log_path);
    let linux = s.resources.and_then(|r| r.linux).unwrap_or_default();
    assert_eq!((linux.cpu_shares, linux.oom_score_adj), (2, 1000));
    assert!(r.info.is_empty(), "not verbose");
}

#[test]
fn list_containers() {
    let l: ListContainersResponse = decode("list_containers");
    let [c] = l.containers.as_slice() else { panic!("{l:?}") };
    assert_eq!(c.pod_sandbox_id, captured_sandbox().id);
    let status: ContainerStatusResponse = decode("container_status_running");
    let s = status.status.unwrap_or_default();
    assert_eq!(
        (c.id.as_str(), c.state, c.created_at),
        (s.id.as_str(), ContainerState::RUNNING, s.created_at)
    );
    assert_eq!((&c.labels, &c.annotations, &c.image_ref), (&s.labels, &s.annotations, &s.image_ref));
}
