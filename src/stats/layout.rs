//! Finding pod and container cgroups under the cgroup of all pods, for both drivers, the
//! way cAdvisor finds them: by walking the tree and reading names.
//!
//! ```text
//! cgroupfs: /kubepods[/burstable|/besteffort]/pod<uid>/<container id>
//! systemd:  /kubepods.slice[/kubepods-burstable.slice]/kubepods-burstable-pod<uid_with_underscores>.slice/
//!               cri-containerd-<container id>.scope
//! ```
//!
//! The sandbox (pause) container has a cgroup like any other container.
#![forbid(unsafe_code)]

use std::collections::HashMap;

use crate::cgroups::Cgroups;

/// Pod cgroups by pod UID and container cgroups by container ID.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodCgroups {
    pub pods: HashMap<String, String>,
    pub containers: HashMap<String, String>,
}

/// Walks `pods_cgroup` (two levels of QoS tiers at most, then pods, then containers).
pub fn discover(cg: &Cgroups, pods_cgroup: &str) -> PodCgroups {
    let mut found = PodCgroups::default();
    let root = pods_cgroup.trim_end_matches('/');
    for tier in cg.children(pods_cgroup) {
        let tier_path = format!("{root}/{tier}");
        match pod_uid(&tier) {
            Some(uid) => add_pod(cg, &mut found, uid, tier_path),
            None => {
                for pod in cg.children(&tier_path) {
                    if let Some(uid) = pod_uid(&pod) {
                        add_pod(cg, &mut found, uid, format!("{tier_path}/{pod}"));
                    }
                }
            }
        }
    }
    found
}

fn add_pod(cg: &Cgroups, found: &mut PodCgroups, uid: String, path: String) {
    for child in cg.children(&path) {
        found.containers.insert(container_id(&child).to_string(), format!("{path}/{child}"));
    }
    found.pods.insert(uid, path);
}

/// The pod UID of a pod cgroup's name: `pod<uid>` (cgroupfs) or
/// `kubepods-<tier>-pod<uid with _ for ->.slice` (systemd).
pub fn pod_uid(name: &str) -> Option<String> {
    if let Some(slice) = name.strip_suffix(".slice") {
        let (_, uid) = slice.rsplit_once("-pod")?;
        return (!uid.is_empty()).then(|| uid.replace('_', "-"));
    }
    let uid = name.strip_prefix("pod")?;
    (!uid.is_empty()).then(|| uid.to_string())
}

/// The container ID of a container cgroup's name: the name itself (cgroupfs), or the part
/// after the last `-` of a systemd scope (`cri-containerd-<id>.scope`, `crio-<id>.scope`).
pub fn container_id(name: &str) -> &str {
    match name.strip_suffix(".scope") {
        Some(scope) => scope.rsplit('-').next().unwrap_or(scope),
        None => name,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::cgroups::tests::{Tree, v1_tree};

    #[test]
    fn names() {
        assert_eq!(pod_uid("pod1234-ab").as_deref(), Some("1234-ab"));
        assert_eq!(pod_uid("kubepods-besteffort-pod12_34.slice").as_deref(), Some("12-34"));
        assert_eq!(pod_uid("kubepods-pod9.slice").as_deref(), Some("9"));
        assert_eq!(pod_uid("besteffort"), None);
        assert_eq!(pod_uid("kubepods-besteffort.slice"), None);
        assert_eq!(pod_uid("pod"), None);
        assert_eq!(container_id("cri-containerd-abc123.scope"), "abc123");
        assert_eq!(container_id("crio-def.scope"), "def");
        assert_eq!(container_id("abc123"), "abc123");
    }

    #[test]
    fn cgroupfs_tree() {
        let t = v1_tree("layout-fs");
        t.write("sys/fs/cgroup/memory/kubepods/podG/cg1/x", "");
        t.write("sys/fs/cgroup/memory/kubepods/burstable/podB/cb1/x", "");
        let cg = Cgroups::detect_at(&t.0).unwrap();
        let found = discover(&cg, "/kubepods");
        assert_eq!(found.pods["G"], "/kubepods/podG", "Guaranteed pods sit at the top");
        assert_eq!(found.pods["B"], "/kubepods/burstable/podB");
        assert_eq!(found.pods["1234"], "/kubepods/besteffort/pod1234");
        assert_eq!(found.containers["c1"], "/kubepods/besteffort/pod1234/c1");
        assert_eq!(found.containers["sandbox"], "/kubepods/besteffort/pod1234/sandbox");
        assert_eq!(found.containers["cb1"], "/kubepods/burstable/podB/cb1");
        assert_eq!(found.containers.len(), 4);
    }

    #[test]
    fn systemd_tree_on_v2() {
        let t = Tree::new("layout-systemd");
        t.write("proc/self/mountinfo", "30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
        t.write("sys/fs/cgroup/cgroup.controllers", "memory\n");
        let pod = "sys/fs/cgroup/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda_b.slice";
        t.write(&format!("{pod}/cri-containerd-c9.scope/memory.current"), "1\n");
        let cg = Cgroups::detect_at(&t.0).unwrap();
        let found = discover(&cg, "/kubepods.slice");
        assert_eq!(
            found.pods["a-b"],
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-poda_b.slice"
        );
        assert!(found.containers["c9"].ends_with("/cri-containerd-c9.scope"));
        assert_eq!(discover(&cg, "/missing"), PodCgroups::default());
    }
}
