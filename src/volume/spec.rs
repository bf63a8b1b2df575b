//! Which volumes a pod needs and which plugin serves each: only volumes that some container
//! (init, regular or ephemeral) mounts are set up, as upstream's desired-state populator.
//!
//! | plugin | directory under `volumes/` | read-only | SELinux relabel | backed by |
//! | --- | --- | --- | --- | --- |
//! | emptyDir | `kubernetes.io~empty-dir` | no | yes | disk, or tmpfs (`medium: Memory`) |
//! | hostPath | none (the host path itself) | no | no | the host |
//! | configMap | `kubernetes.io~configmap` | yes | yes | disk |
//! | secret | `kubernetes.io~secret` | yes | yes | tmpfs |
//! | downwardAPI | `kubernetes.io~downward-api` | yes | yes | tmpfs |
//! | projected | `kubernetes.io~projected` | yes | yes | tmpfs |

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::api::core::{Container, Pod, Volume, VolumeSource};
use crate::kuberuntime::NodeContext;
use crate::kuberuntime::paths;
use crate::objects::ObjectKind;

/// The volume plugins rkubelet implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Plugin {
    EmptyDir,
    HostPath,
    ConfigMap,
    Secret,
    DownwardApi,
    Projected,
}

impl Plugin {
    pub const WITH_DIRS: [Plugin; 5] =
        [Plugin::EmptyDir, Plugin::ConfigMap, Plugin::Secret, Plugin::DownwardApi, Plugin::Projected];

    pub fn name(self) -> &'static str {
        match self {
            Plugin::EmptyDir => "kubernetes.io/empty-dir",
            Plugin::HostPath => "kubernetes.io/host-path",
            Plugin::ConfigMap => "kubernetes.io/configmap",
            Plugin::Secret => "kubernetes.io/secret",
            Plugin::DownwardApi => "kubernetes.io/downward-api",
            Plugin::Projected => "kubernetes.io/projected",
        }
    }

    /// The plugin's directory name (upstream's `EscapeQualifiedName`).
    pub fn dir_name(self) -> String {
        self.name().replace('/', "~")
    }

    pub fn from_dir_name(name: &str) -> Option<Plugin> {
        Plugin::WITH_DIRS.into_iter().find(|p| p.dir_name() == name)
    }

    /// The plugin of a volume source; `Err` names the source type rkubelet does not mount.
    pub fn of(source: &VolumeSource) -> Result<Plugin, &'static str> {
        let s = source;
        Ok(if s.empty_dir.is_some() {
            Plugin::EmptyDir
        } else if s.host_path.is_some() {
            Plugin::HostPath
        } else if s.config_map.is_some() {
            Plugin::ConfigMap
        } else if s.secret.is_some() {
            Plugin::Secret
        } else if s.downward_api.is_some() {
            Plugin::DownwardApi
        } else if s.projected.is_some() {
            Plugin::Projected
        } else {
            return Err(unsupported_type(s));
        })
    }

    /// Whether the content is rewritten on every sync (upstream's `RequiresRemount`).
    pub fn refreshes(self) -> bool {
        matches!(self, Plugin::ConfigMap | Plugin::Secret | Plugin::DownwardApi | Plugin::Projected)
    }

    /// Containers always mount it read-only (the plugin's `ReadOnly` attribute).
    pub fn read_only(self) -> bool {
        self.refreshes()
    }

    /// Managed by the kubelet, so the runtime may relabel it for SELinux.
    pub fn selinux_relabel(self) -> bool {
        self != Plugin::HostPath
    }

    /// The wrapped emptyDir of configMap, secret, downwardAPI and projected volumes is
    /// memory-backed except for configMap's.
    pub fn wrapper_on_tmpfs(self) -> bool {
        matches!(self, Plugin::Secret | Plugin::DownwardApi | Plugin::Projected)
    }

    /// fsGroup ownership applies (upstream's SetVolumeOwnership callers).
    pub fn takes_fs_group(self) -> bool {
        self != Plugin::HostPath
    }
}

fn unsupported_type(s: &VolumeSource) -> &'static str {
    let named = [
        ("persistentVolumeClaim", s.persistent_volume_claim.is_some()),
        ("image", s.image.is_some()),
        ("ephemeral", s.ephemeral.is_some()),
        ("csi", s.csi.is_some()),
        ("nfs", s.nfs.is_some()),
        ("iscsi", s.iscsi.is_some()),
        ("gitRepo", s.git_repo.is_some()),
        ("fc", s.fc.is_some()),
        ("rbd", s.rbd.is_some()),
        ("cephfs", s.cephfs.is_some()),
        ("flexVolume", s.flex_volume.is_some()),
    ];
    named.iter().find(|(_, set)| *set).map_or("this volume type", |(n, _)| n)
}

/// `<root>/pods/<uid>/volumes/<plugin dir>/<volume>`.
pub fn volume_dir(node: &NodeContext, uid: &str, plugin: Plugin, volume: &str) -> PathBuf {
    paths::volume_dir(node, uid, plugin.name(), volume)
}

/// `<root>/pods/<uid>/plugins/kubernetes.io~empty-dir/<name>`: where an emptyDir keeps its
/// `ready` file; `name` is `wrapped_<volume>` for the emptyDir inside another plugin.
pub fn empty_dir_meta_dir(node: &NodeContext, uid: &str, name: &str) -> PathBuf {
    paths::plugins_dir(node, uid).join(Plugin::EmptyDir.dir_name()).join(name)
}

/// Init, regular and ephemeral containers.
pub fn all_containers(pod: &Pod) -> impl Iterator<Item = &Container> {
    let s = &pod.spec;
    s.init_containers.iter().chain(&s.containers).chain(s.ephemeral_containers.iter().map(|e| &e.common))
}

/// Names of the volumes some container mounts or uses as a device (upstream's
/// `GetPodVolumeNames`).
pub fn used_volume_names(pod: &Pod) -> BTreeSet<&str> {
    all_containers(pod)
        .flat_map(|c| {
            let mounts = c.volume_mounts.iter().map(|m| m.name.as_str());
            mounts.chain(c.volume_devices.iter().map(|d| d.name.as_str()))
        })
        .collect()
}

/// The volumes to set up: those some container uses, in spec order.
pub fn needed_volumes(pod: &Pod) -> Vec<&Volume> {
    let used = used_volume_names(pod);
    pod.spec.volumes.iter().filter(|v| used.contains(v.name.as_str())).collect()
}

/// A name safe as one path component (pod UIDs, volume names).
pub fn safe_component(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains('/') && !name.contains('\0')
}

/// Whether `volume` reads the object `kind namespace/name` (the pod's own namespace).
pub fn reads_object(volume: &Volume, kind: ObjectKind, name: &str) -> bool {
    let s = &volume.source;
    let is = |n: Option<&String>| n.is_some_and(|n| n == name);
    let projected = s.projected.iter().flat_map(|p| &p.sources);
    match kind {
        ObjectKind::ConfigMap => {
            is(s.config_map.as_ref().and_then(|c| c.name.as_ref()))
                || projected.into_iter().any(|p| is(p.config_map.as_ref().and_then(|c| c.name.as_ref())))
        }
        ObjectKind::Secret => {
            is(s.secret.as_ref().and_then(|c| c.secret_name.as_ref()))
                || projected.into_iter().any(|p| is(p.secret.as_ref().and_then(|c| c.name.as_ref())))
        }
    }
}

/// Whether `volume` carries service-account tokens (refreshed on their own schedule).
pub fn has_token(volume: &Volume) -> bool {
    volume.source.projected.iter().flat_map(|p| &p.sources).any(|p| p.service_account_token.is_some())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::volume::testutil::pod;

    #[test]
    fn paths_follow_upstream_layout() {
        let node = NodeContext::default();
        assert_eq!(
            volume_dir(&node, "u-1", Plugin::Secret, "creds"),
            PathBuf::from("/var/lib/kubelet/pods/u-1/volumes/kubernetes.io~secret/creds")
        );
        assert_eq!(
            volume_dir(&node, "u-1", Plugin::DownwardApi, "info"),
            PathBuf::from("/var/lib/kubelet/pods/u-1/volumes/kubernetes.io~downward-api/info")
        );
        assert_eq!(
            empty_dir_meta_dir(&node, "u-1", "wrapped_creds"),
            PathBuf::from("/var/lib/kubelet/pods/u-1/plugins/kubernetes.io~empty-dir/wrapped_creds")
        );
        for p in Plugin::WITH_DIRS {
            assert_eq!(Plugin::from_dir_name(&p.dir_name()), Some(p));
        }
        assert_eq!(Plugin::from_dir_name("kubernetes.io~csi"), None);
        assert!(!safe_component("..") && !safe_component("a/b") && !safe_component("") && safe_component("vol-1"));
    }

    #[test]
    fn only_used_volumes_are_needed() {
        let mut p = pod(
            json!([{"name": "a", "emptyDir": {}}, {"name": "unused", "emptyDir": {}}, {"name": "b", "configMap": {"name": "cm"}}]),
            json!([{"name": "a", "mountPath": "/a"}]),
        );
        p.spec.init_containers = vec![serde_json::from_value(json!({"name": "init", "volumeMounts": [{"name": "b", "mountPath": "/b"}]})).expect("init")];
        let names: Vec<&str> = needed_volumes(&p).iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(reads_object(&p.spec.volumes[2], ObjectKind::ConfigMap, "cm"));
        assert!(!reads_object(&p.spec.volumes[2], ObjectKind::Secret, "cm"));
    }

    #[test]
    fn plugin_of_each_source() {
        let p = pod(
            json!([
                {"name": "e", "emptyDir": {}}, {"name": "h", "hostPath": {"path": "/x"}},
                {"name": "s", "secret": {"secretName": "s"}}, {"name": "n", "nfs": {"server": "x", "path": "/"}},
                {"name": "c", "persistentVolumeClaim": {"claimName": "c"}}
            ]),
            json!([]),
        );
        let kinds: Vec<_> = p.spec.volumes.iter().map(|v| Plugin::of(&v.source)).collect();
        assert_eq!(
            kinds,
            [Ok(Plugin::EmptyDir), Ok(Plugin::HostPath), Ok(Plugin::Secret), Err("nfs"), Err("persistentVolumeClaim")]
        );
        assert!(Plugin::Secret.read_only() && !Plugin::EmptyDir.read_only());
        assert!(Plugin::Projected.wrapper_on_tmpfs() && !Plugin::ConfigMap.wrapper_on_tmpfs());
        assert!(!Plugin::HostPath.selinux_relabel() && Plugin::EmptyDir.selinux_relabel());
    }
}
