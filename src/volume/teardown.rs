//! Tearing volumes down, and removing the directories of pods that no longer exist.
//!
//! Teardown works from what is on disk, not from a pod spec, so it also serves pods known
//! only by their directory (deleted while the agent was down):
//!
//! 1. every subPath bind mount under `volume-subpaths/` is unmounted and removed;
//! 2. every volume under `volumes/<plugin>/<name>`: unmount what is mounted there (tmpfs),
//!    delete the directory without crossing into any mount, drop its ready file;
//! 3. an orphaned pod's directory goes last, only when nothing below it is mounted.
//!
//! A directory of a plugin rkubelet does not know is left alone unless it is empty (its
//! mounts are not ours to judge), which keeps the pod directory too.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::Path;

use crate::kuberuntime::{NodeContext, paths};
use crate::volume::emptydir;
use crate::volume::mount::{self, MountTable};
use crate::volume::spec::{self, Plugin};
use crate::volume::subpath::{self, SUBPATHS_DIR};

fn entries(dir: &Path) -> Result<Vec<String>, String> {
    match fs::read_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("reading {}: {e}", dir.display())),
        Ok(rd) => Ok(rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()),
    }
}

/// Unmounts and removes every volume of pod `uid` (the pod directory stays).
pub fn teardown_pod(node: &NodeContext, uid: &str) -> Result<(), String> {
    let pod_dir = paths::pod_dir(node, uid);
    let mut errors = Vec::new();
    for volume in entries(&pod_dir.join(SUBPATHS_DIR))? {
        if let Err(e) = subpath::clean_subpaths(&pod_dir, &volume) {
            errors.push(e);
        }
    }
    let volumes_dir = paths::volumes_dir(node, uid);
    for plugin_dir in entries(&volumes_dir)? {
        let dir = volumes_dir.join(&plugin_dir);
        for name in entries(&dir)? {
            let result = match Plugin::from_dir_name(&plugin_dir) {
                Some(Plugin::EmptyDir) => emptydir::teardown(&dir.join(&name), &spec::empty_dir_meta_dir(node, uid, &name)),
                Some(_) => emptydir::teardown(&dir.join(&name), &spec::empty_dir_meta_dir(node, uid, &format!("wrapped_{name}"))),
                None => fs::remove_dir(dir.join(&name)).map_err(|e| format!("volume {plugin_dir}/{name} of a plugin rkubelet does not know: {e}")),
            };
            if let Err(e) = result {
                errors.push(e);
            }
        }
        // Only empty directories: anything left means a volume failed above.
        let _ = fs::remove_dir(&dir);
    }
    let _ = fs::remove_dir(&volumes_dir);
    let plugins = paths::plugins_dir(node, uid);
    let _ = fs::remove_dir(plugins.join(Plugin::EmptyDir.dir_name()));
    let _ = fs::remove_dir(&plugins);
    if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
}

/// Tears down and deletes the directory of a pod that no longer exists.
pub fn remove_pod_dir(node: &NodeContext, uid: &str) -> Result<(), String> {
    teardown_pod(node, uid)?;
    let pod_dir = paths::pod_dir(node, uid);
    if paths::volumes_dir(node, uid).exists() {
        return Err(format!("orphaned pod {uid:?} found, but its volumes dir was not removed"));
    }
    let table = MountTable::read().map_err(|e| format!("reading the mount table: {e}"))?;
    mount::remove_all_one_filesystem(&pod_dir, &table)
        .map_err(|e| format!("orphaned pod {uid:?} found, but error occurred when trying to remove the pod directory: {e}"))
}

/// Pod UIDs that have a directory under `<root>/pods`.
pub fn pods_on_disk(node: &NodeContext) -> Vec<String> {
    let dir = node.root_dir.join("pods");
    entries(&dir).unwrap_or_default().into_iter().filter(|u| spec::safe_component(u) && dir.join(u).is_dir()).collect()
}

/// Removes the directories of pods on disk that are not in `known`; returns how many.
pub fn cleanup_orphans(node: &NodeContext, known: &HashSet<String>) -> usize {
    let mut removed = 0;
    for uid in pods_on_disk(node).into_iter().filter(|u| !known.contains(u)) {
        match remove_pod_dir(node, &uid) {
            Ok(()) => {
                log::info!("cleaned up orphaned pod directory of {uid}");
                removed += 1;
            }
            Err(e) => log::warn!("{e}"),
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::testutil::{Scratch, can_mount};

    fn node(root: &Path) -> NodeContext {
        NodeContext { root_dir: root.to_path_buf(), ..NodeContext::default() }
    }

    #[test]
    fn orphans_go_known_pods_stay() {
        let s = Scratch::new("td-orphans");
        let node = node(s.path());
        for uid in ["gone", "kept"] {
            let vol = spec::volume_dir(&node, uid, Plugin::EmptyDir, "data");
            fs::create_dir_all(&vol).expect("vol");
            fs::write(vol.join("f"), "x").expect("f");
            fs::create_dir_all(spec::empty_dir_meta_dir(&node, uid, "data")).expect("meta");
            fs::create_dir_all(paths::containers_dir(&node, uid, "app")).expect("containers");
            fs::write(paths::etc_hosts_path(&node, uid), "hosts").expect("hosts");
        }
        let known = HashSet::from(["kept".to_string()]);
        assert_eq!(cleanup_orphans(&node, &known), 1);
        assert!(!paths::pod_dir(&node, "gone").exists());
        assert!(spec::volume_dir(&node, "kept", Plugin::EmptyDir, "data").join("f").exists());
        assert_eq!(pods_on_disk(&node), ["kept"]);
    }

    #[test]
    fn unknown_plugin_dirs_keep_the_pod() {
        let s = Scratch::new("td-unknown");
        let node = node(s.path());
        let csi = paths::volumes_dir(&node, "u").join("kubernetes.io~csi/pv");
        fs::create_dir_all(&csi).expect("csi");
        fs::write(csi.join("data"), "x").expect("data");
        let e = remove_pod_dir(&node, "u").expect_err("left alone");
        assert!(e.contains("does not know"), "{e}");
        assert!(csi.join("data").exists());
        fs::remove_file(csi.join("data")).expect("rm");
        remove_pod_dir(&node, "u").expect("empty: removed");
        assert!(!paths::pod_dir(&node, "u").exists());
    }

    #[test]
    fn never_deletes_through_a_mount() {
        if !can_mount() {
            return;
        }
        let s = Scratch::new("td-mount");
        let node = node(s.path());
        // A tmpfs volume of a dead pod, and something mounted where we do not expect it.
        let vol = spec::volume_dir(&node, "dead", Plugin::Secret, "s");
        fs::create_dir_all(&vol).expect("vol");
        mount::mount_tmpfs(&vol, Some(1 << 20), false).expect("tmpfs");
        let odd = paths::containers_dir(&node, "dead", "app");
        fs::create_dir_all(&odd).expect("odd");
        mount::mount_tmpfs(&odd, Some(1 << 20), false).expect("tmpfs");
        fs::write(odd.join("precious"), "x").expect("write");
        let e = remove_pod_dir(&node, "dead").expect_err("a mount remains");
        assert!(e.contains("still mounted"), "{e}");
        assert!(odd.join("precious").exists(), "nothing deleted through the mount");
        assert!(!vol.exists(), "the volume itself was unmounted and removed");
        mount::unmount(&odd).expect("unmount");
        remove_pod_dir(&node, "dead").expect("now it goes");
        assert!(MountTable::read().expect("table").mounts_under(s.path()).is_empty());
    }
}
