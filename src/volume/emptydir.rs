//! emptyDir volumes, and the emptyDir inside configMap, secret, downwardAPI and projected
//! volumes (upstream wraps those plugins around an emptyDir named `wrapped_<volume>`).
//!
//! SetUp is idempotent, so a restarted agent recognises what is there and remounts nothing:
//! a volume whose `plugins/kubernetes.io~empty-dir/<name>/ready` file exists is done (for
//! `medium: Memory`, if its tmpfs is still mounted); otherwise the directory is made (mode
//! 0777 whatever the umask) or the tmpfs mounted (unless one is already there), fsGroup is
//! applied, and the ready file written.
//!
//! A memory-backed volume is a tmpfs of `size=` the smallest of the node's allocatable
//! memory, the pod's memory limit and the volume's `sizeLimit` (each counted only when
//! positive), with `noswap` where the kernel has it. HugePages media are not supported.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::api::core::Pod;
use crate::api::quantity::Quantity;
use crate::stats::host::Proc;
use crate::kuberuntime::NodeContext;
use crate::kuberuntime::resources::pod_resource_config;
use crate::volume::mount::{self, MountTable};
use crate::volume::ownership;

const DIR_MODE: u32 = 0o777;
const READY: &str = "ready";

/// Where an emptyDir's data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Medium {
    Disk,
    /// tmpfs of this many bytes (`None`: the kernel's default, half the memory).
    Memory(Option<i64>),
}

impl Medium {
    /// The medium of an emptyDir spec (`""`, `Memory`, `HugePages*`).
    pub fn parse(medium: Option<&str>, size: Option<i64>) -> Result<Medium, String> {
        match medium.unwrap_or_default() {
            "" => Ok(Medium::Disk),
            "Memory" => Ok(Medium::Memory(size)),
            m if m.starts_with("HugePages") => Err(format!("medium {m}: hugePages storage is not supported by rkubelet")),
            m => Err(format!("unknown storage medium {m:?}")),
        }
    }
}

/// The tmpfs size of a memory-backed volume (upstream's `calculateEmptyDirMemorySize`).
pub fn memory_size(pod: &Pod, size_limit: Option<&Quantity>, node: &NodeContext) -> Option<i64> {
    let mut size = node_allocatable_memory(node)?;
    if let Some(limit) = pod_resource_config(pod, node).memory.filter(|m| *m > 0 && *m <= size) {
        size = limit;
    }
    if let Some(limit) = size_limit.and_then(Quantity::value).filter(|m| *m > 0 && *m <= size) {
        size = limit;
    }
    Some(size)
}

/// Allocatable memory as known to the node context, else the machine's memory.
fn node_allocatable_memory(node: &NodeContext) -> Option<i64> {
    if let Some(m) = node.allocatable_memory.filter(|m| *m > 0) {
        return Some(m);
    }
    if node.memory_capacity > 0 {
        return Some(node.memory_capacity);
    }
    let meminfo = Proc::new(Path::new("/proc")).meminfo()?;
    i64::try_from(*meminfo.get("MemTotal")?).ok()
}

/// What SetUp of one emptyDir needs.
pub struct EmptyDir<'a> {
    /// The volume's directory.
    pub dir: &'a Path,
    /// Its `plugins/kubernetes.io~empty-dir/<name>` directory (the ready file).
    pub meta_dir: &'a Path,
    pub medium: Medium,
    pub fs_group: Option<i64>,
    pub noswap: bool,
}

impl EmptyDir<'_> {
    pub fn setup(&self) -> Result<(), String> {
        let table = MountTable::read().map_err(|e| format!("reading the mount table: {e}"))?;
        let mounted = table.is_mount_point(self.dir);
        if self.meta_dir.join(READY).is_file() {
            match self.medium {
                Medium::Memory(_) if mounted => return Ok(()),
                Medium::Disk if self.dir.is_dir() => return Ok(()),
                Medium::Disk => {
                    log::warn!("volume ready file exists in {} but {} does not", self.meta_dir.display(), self.dir.display());
                    let _ = fs::remove_dir_all(self.meta_dir);
                }
                Medium::Memory(_) => {}
            }
        }
        setup_dir(self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        if let Medium::Memory(size) = self.medium {
            let is_tmpfs = mounted && mount::is_tmpfs(self.dir).unwrap_or(false);
            if !is_tmpfs {
                log::debug!("mounting tmpfs at {}", self.dir.display());
                mount::mount_tmpfs(self.dir, size, self.noswap).map_err(|e| format!("mount tmpfs at {}: {e}", self.dir.display()))?;
            }
        }
        // Upstream ignores ownership errors of emptyDirs.
        if let Err(e) = ownership::set_volume_ownership(self.dir, self.fs_group, None, false) {
            log::warn!("fsGroup ownership of {}: {e}", self.dir.display());
        }
        set_ready(self.meta_dir);
        Ok(())
    }
}

/// Creates `dir` (and parents) with mode 0777 whatever the umask.
fn setup_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let meta = fs::symlink_metadata(dir)?;
    if meta.permissions().mode() & 0o777 != DIR_MODE {
        fs::set_permissions(dir, fs::Permissions::from_mode(DIR_MODE))?;
    }
    Ok(())
}

fn set_ready(meta_dir: &Path) {
    let made = fs::DirBuilder::new().recursive(true).create(meta_dir).and_then(|()| {
        fs::set_permissions(meta_dir, fs::Permissions::from_mode(0o750))?;
        fs::File::create(meta_dir.join(READY)).map(drop)
    });
    if let Err(e) = made {
        log::error!("cannot write the ready file in {}: {e}", meta_dir.display());
    }
}

/// TearDown of an emptyDir (or of a wrapper's): forget the ready file, unmount what is
/// mounted at `dir`, then delete it, never through a mount.
pub fn teardown(dir: &Path, meta_dir: &Path) -> Result<(), String> {
    match fs::remove_dir_all(meta_dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            return Err(format!("failed to remove ready dir [{}]: {e}", meta_dir.display()));
        }
        _ => {}
    }
    if fs::symlink_metadata(dir).is_err() {
        return Ok(());
    }
    let table = MountTable::read().map_err(|e| format!("reading the mount table: {e}"))?;
    if table.is_mount_point(dir) {
        mount::unmount(dir).map_err(|e| format!("unmount {}: {e}", dir.display()))?;
    }
    let table = MountTable::read().map_err(|e| format!("reading the mount table: {e}"))?;
    mount::remove_all_one_filesystem(dir, &table).map_err(|e| format!("remove {}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::volume::testutil::{Scratch, can_mount, pod};

    #[test]
    fn media() {
        assert_eq!(Medium::parse(None, None), Ok(Medium::Disk));
        assert_eq!(Medium::parse(Some("Memory"), Some(5)), Ok(Medium::Memory(Some(5))));
        assert_eq!(
            Medium::parse(Some("HugePages-2Mi"), None),
            Err("medium HugePages-2Mi: hugePages storage is not supported by rkubelet".into())
        );
        assert_eq!(Medium::parse(Some("Tape"), None), Err("unknown storage medium \"Tape\"".into()));
    }

    #[test]
    fn memory_size_is_the_smallest_bound() {
        let node = NodeContext { allocatable_memory: Some(8 << 30), ..NodeContext::default() };
        let mut p = pod(json!([]), json!([]));
        assert_eq!(memory_size(&p, None, &node), Some(8 << 30));
        let q = |s: &str| Quantity::parse(s).expect("quantity");
        assert_eq!(memory_size(&p, Some(&q("64Mi")), &node), Some(64 << 20));
        assert_eq!(memory_size(&p, Some(&q("16Gi")), &node), Some(8 << 30), "larger than allocatable: ignored");
        p.spec.containers[0].resources =
            serde_json::from_value(json!({"limits": {"memory": "256Mi"}, "requests": {"memory": "256Mi"}})).expect("res");
        assert_eq!(memory_size(&p, None, &node), Some(256 << 20));
        assert_eq!(memory_size(&p, Some(&q("1Gi")), &node), Some(256 << 20));
        assert_eq!(memory_size(&p, Some(&q("0")), &node), Some(256 << 20), "zero is no limit");
        assert!(memory_size(&p, None, &NodeContext::default()).is_some_and(|m| m > 0), "from /proc/meminfo");
    }

    #[test]
    fn disk_setup_is_idempotent_and_teardown_removes() {
        let s = Scratch::new("ed-disk");
        let (dir, meta) = (s.path().join("volumes/v"), s.path().join("plugins/v"));
        let ed = EmptyDir { dir: &dir, meta_dir: &meta, medium: Medium::Disk, fs_group: None, noswap: false };
        ed.setup().expect("setup");
        assert_eq!(fs::metadata(&dir).expect("dir").permissions().mode() & 0o777, 0o777);
        assert!(meta.join("ready").is_file());
        fs::write(dir.join("data"), "kept").expect("write");
        ed.setup().expect("again");
        assert_eq!(fs::read_to_string(dir.join("data")).expect("read"), "kept");
        teardown(&dir, &meta).expect("teardown");
        assert!(!dir.exists() && !meta.exists());
        teardown(&dir, &meta).expect("twice");
    }

    #[test]
    fn memory_setup_mounts_once() {
        if !can_mount() {
            return;
        }
        let s = Scratch::new("ed-mem");
        let (dir, meta) = (s.path().join("volumes/v"), s.path().join("plugins/v"));
        let ed = EmptyDir { dir: &dir, meta_dir: &meta, medium: Medium::Memory(Some(2 << 20)), fs_group: None, noswap: false };
        ed.setup().expect("setup");
        assert!(mount::is_tmpfs(&dir).expect("statfs"));
        fs::write(dir.join("data"), "kept").expect("write");
        ed.setup().expect("again: no second mount");
        let table = MountTable::read().expect("table");
        assert_eq!(table.mounts_under(&dir).len(), 1);
        assert_eq!(fs::read_to_string(dir.join("data")).expect("read"), "kept");
        teardown(&dir, &meta).expect("teardown");
        assert!(!dir.exists());
        assert!(MountTable::read().expect("table").mounts_under(s.path()).is_empty());
    }
}
