//! Filesystem figures: a filesystem's size and free space (statvfs, as cAdvisor reads
//! them) and the disk usage of files (`du`: allocated blocks, one inode per file).

use std::path::Path;

use super::summary::Time;

use super::summary::FsStats;

/// Size and free space of one filesystem.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsInfo {
    pub capacity: u64,
    pub available: u64,
    /// Capacity minus free blocks (free includes the blocks reserved for root).
    pub used: u64,
    pub inodes: u64,
    pub inodes_free: u64,
}

/// The filesystem holding `path` (the one statvfs reader: stats, node capacity, image GC).
pub fn fs_info(path: &Path) -> std::io::Result<FsInfo> {
    let s = nix::sys::statvfs::statvfs(path)?;
    // The counts are 32-bit on some targets (32-bit ARM), 64-bit here.
    #[allow(clippy::useless_conversion)]
    let (frag, blocks, bfree, bavail, files, ffree) = (
        u64::from(s.fragment_size()),
        u64::from(s.blocks()),
        u64::from(s.blocks_free()),
        u64::from(s.blocks_available()),
        u64::from(s.files()),
        u64::from(s.files_free()),
    );
    Ok(FsInfo {
        capacity: frag.saturating_mul(blocks),
        available: frag.saturating_mul(bavail),
        used: frag.saturating_mul(blocks.saturating_sub(bfree)),
        inodes: files,
        inodes_free: ffree,
    })
}

impl FsInfo {
    /// The filesystem's figures with nothing counted as used yet (upstream's starting
    /// point for log and ephemeral-storage sums).
    pub fn base_stats(&self, time: Time) -> FsStats {
        FsStats {
            time,
            available_bytes: Some(self.available),
            capacity_bytes: Some(self.capacity),
            used_bytes: None,
            inodes_free: Some(self.inodes_free),
            inodes: Some(self.inodes),
            inodes_used: None,
        }
    }

    /// The whole filesystem, as the node's `fs`.
    pub fn node_stats(&self, time: Time) -> FsStats {
        FsStats {
            used_bytes: Some(self.used),
            inodes_used: Some(self.inodes.saturating_sub(self.inodes_free)),
            ..self.base_stats(time)
        }
    }
}

/// Disk usage of one path: allocated bytes and inodes, summed over a directory tree
/// (each inode once, hard links counted once per walk).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub bytes: u64,
    pub inodes: u64,
}

impl std::ops::Add for Usage {
    type Output = Usage;

    fn add(self, other: Usage) -> Usage {
        Usage {
            bytes: self.bytes.saturating_add(other.bytes),
            inodes: self.inodes.saturating_add(other.inodes),
        }
    }
}

/// `du` of a path (a file or a tree); `None` when it does not exist.
pub fn du(path: &Path) -> Option<Usage> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(path).ok()?;
    let mut seen = std::collections::HashSet::new();
    let mut total = Usage::default();
    let mut stack = vec![(path.to_path_buf(), meta)];
    while let Some((p, m)) = stack.pop() {
        if seen.insert((m.dev(), m.ino())) {
            total = total + Usage { bytes: m.blocks().saturating_mul(512), inodes: 1 };
        }
        if m.is_dir() {
            for entry in std::fs::read_dir(&p).into_iter().flatten().flatten() {
                if let Ok(m) = entry.metadata() {
                    stack.push((entry.path(), m));
                }
            }
        }
    }
    Some(total)
}

/// The usage of the files directly in `dir` (not its subdirectories), as upstream counts
/// log directories; `None` when the directory cannot be read.
pub fn files_in(dir: &Path) -> Option<Usage> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut total = Usage::default();
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| !t.is_dir()) {
            total = total + du(&entry.path()).unwrap_or_default();
        }
    }
    Some(total)
}

/// `base` (a filesystem's figures) with `usage` counted as used.
pub fn with_usage(base: FsStats, usage: Usage) -> FsStats {
    FsStats { used_bytes: Some(usage.bytes), inodes_used: Some(usage.inodes), ..base }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn statvfs_of_the_temp_dir() {
        let info = fs_info(&std::env::temp_dir()).unwrap();
        assert!(info.capacity > 0 && info.available <= info.capacity && info.used <= info.capacity);
        assert!(info.inodes >= info.inodes_free);
        let node = info.node_stats(Time::from_unix(5));
        assert_eq!(node.used_bytes, Some(info.used));
        assert_eq!(node.inodes_used, Some(info.inodes - info.inodes_free));
        assert_eq!(info.base_stats(Time::from_unix(5)).used_bytes, None);
    }

    #[test]
    fn du_counts_blocks_and_inodes() {
        let dir = std::env::temp_dir().join(format!("rk-stats-du-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("0.log"), vec![b'x'; 10_000]).unwrap();
        std::fs::write(dir.join("sub/1.log"), b"y").unwrap();
        std::fs::hard_link(dir.join("0.log"), dir.join("link.log")).unwrap();
        let top = files_in(&dir).unwrap();
        assert!(top.bytes >= 10_000, "{top:?}");
        assert_eq!(top.inodes, 2, "files directly in the dir; the hard link is a second file there");
        let all = du(&dir).unwrap();
        assert_eq!(all.inodes, 4, "dir, sub, 0.log (once), sub/1.log");
        assert_eq!(du(&dir.join("nope")), None);
        assert_eq!(files_in(&dir.join("nope")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
