//! Where a pod's files live on the host, as upstream lays them out.
//!
//! ```text
//! <root-dir>/pods/<uid>/
//!     volumes/kubernetes.io~<plugin>/<volume>/
//!     plugins/
//!     volume-subpaths/
//!     containers/<container>/<8 hex digits>     termination-log files
//!     etc-hosts                                  the managed /etc/hosts
//! <pod-logs-dir>/<namespace>_<name>_<uid>/       the sandbox's log_directory
//!     <container>/<restart-count>.log            a container's log_path (relative)
//! ```

use std::path::PathBuf;

use super::node::NodeContext;

/// `<root-dir>/pods/<uid>`.
pub fn pod_dir(node: &NodeContext, uid: &str) -> PathBuf {
    node.root_dir.join("pods").join(uid)
}

/// `<pod-dir>/volumes`.
pub fn volumes_dir(node: &NodeContext, uid: &str) -> PathBuf {
    pod_dir(node, uid).join("volumes")
}

/// `<pod-dir>/volumes/<plugin with / as ~>/<volume>`, e.g. `kubernetes.io~empty-dir/cache`.
pub fn volume_dir(node: &NodeContext, uid: &str, plugin: &str, volume: &str) -> PathBuf {
    volumes_dir(node, uid).join(plugin.replace('/', "~")).join(volume)
}

/// `<pod-dir>/plugins`.
pub fn plugins_dir(node: &NodeContext, uid: &str) -> PathBuf {
    pod_dir(node, uid).join("plugins")
}

/// `<pod-dir>/volume-subpaths`.
pub fn volume_subpaths_dir(node: &NodeContext, uid: &str) -> PathBuf {
    pod_dir(node, uid).join("volume-subpaths")
}

/// `<pod-dir>/etc-hosts`: the managed hosts file mounted at `/etc/hosts`.
pub fn etc_hosts_path(node: &NodeContext, uid: &str) -> PathBuf {
    pod_dir(node, uid).join("etc-hosts")
}

/// `<pod-dir>/containers`: the per-container directories.
pub fn pod_containers_dir(node: &NodeContext, uid: &str) -> PathBuf {
    pod_dir(node, uid).join("containers")
}

/// `<pod-dir>/containers/<name>`: per-container files (termination logs).
pub fn containers_dir(node: &NodeContext, uid: &str, name: &str) -> PathBuf {
    pod_containers_dir(node, uid).join(name)
}

/// A fresh termination-log file for one instance of a container: upstream names it with 8
/// random hex digits so that restarts do not share a file. `nonce` is that random number.
pub fn termination_log_path(node: &NodeContext, uid: &str, name: &str, nonce: u32) -> PathBuf {
    containers_dir(node, uid, name).join(format!("{nonce:08x}"))
}

/// `<pod-logs-dir>/<namespace>_<name>_<uid>`: the sandbox's `log_directory`.
pub fn pod_log_dir(node: &NodeContext, namespace: &str, name: &str, uid: &str) -> PathBuf {
    node.pod_logs_dir.join(format!("{namespace}_{name}_{uid}"))
}

/// `<pod-log-dir>/<container>`: where a container's numbered logs are.
pub fn container_log_dir(
    node: &NodeContext,
    namespace: &str,
    name: &str,
    uid: &str,
    container: &str,
) -> PathBuf {
    pod_log_dir(node, namespace, name, uid).join(container)
}

/// `<container>/<restart-count>.log`: a container's `log_path`, relative to the sandbox's
/// log directory.
pub fn container_log_path(container: &str, restart_count: u32) -> String {
    format!("{container}/{restart_count}.log")
}

/// The pod UID from a pod log directory's name (`<ns>_<name>_<uid>`, or the old `<uid>`).
pub fn pod_uid_from_log_dir(dir_name: &str) -> &str {
    dir_name.rsplit('_').next().unwrap_or(dir_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let node = NodeContext::default();
        let uid = "0b6a-11";
        assert_eq!(pod_dir(&node, uid), PathBuf::from("/var/lib/kubelet/pods/0b6a-11"));
        assert_eq!(volumes_dir(&node, uid), PathBuf::from("/var/lib/kubelet/pods/0b6a-11/volumes"));
        assert_eq!(
            volume_dir(&node, uid, "kubernetes.io/empty-dir", "cache"),
            PathBuf::from("/var/lib/kubelet/pods/0b6a-11/volumes/kubernetes.io~empty-dir/cache")
        );
        assert_eq!(plugins_dir(&node, uid), PathBuf::from("/var/lib/kubelet/pods/0b6a-11/plugins"));
        assert_eq!(
            volume_subpaths_dir(&node, uid),
            PathBuf::from("/var/lib/kubelet/pods/0b6a-11/volume-subpaths")
        );
        assert_eq!(etc_hosts_path(&node, uid), PathBuf::from("/var/lib/kubelet/pods/0b6a-11/etc-hosts"));
        assert_eq!(pod_containers_dir(&node, uid), PathBuf::from("/var/lib/kubelet/pods/0b6a-11/containers"));
        assert_eq!(
            termination_log_path(&node, uid, "app", 0xbeef),
            PathBuf::from("/var/lib/kubelet/pods/0b6a-11/containers/app/0000beef")
        );
    }

    #[test]
    fn logs() {
        let node = NodeContext::default();
        assert_eq!(
            pod_log_dir(&node, "default", "web", "u-1"),
            PathBuf::from("/var/log/pods/default_web_u-1")
        );
        assert_eq!(
            container_log_dir(&node, "default", "web", "u-1", "app"),
            PathBuf::from("/var/log/pods/default_web_u-1/app")
        );
        assert_eq!(container_log_path("app", 3), "app/3.log");
        assert_eq!(pod_uid_from_log_dir("default_web_u-1"), "u-1");
        assert_eq!(pod_uid_from_log_dir("u-1"), "u-1");
    }
}
