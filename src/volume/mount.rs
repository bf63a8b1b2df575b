//! The mount table and the few mount operations volumes need: tmpfs for memory-backed
//! volumes, bind mounts for subPaths, unmount, and making the root directory rshared.
//!
//! Whether a path is a mount point is read from `/proc/self/mountinfo` (an exact match of the
//! mount point), which also catches bind mounts within one filesystem that a device
//! comparison would miss.

use std::io;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};

const MOUNTINFO: &str = "/proc/self/mountinfo";
/// `statfs.f_type` of tmpfs.
const TMPFS_MAGIC: i64 = 0x0102_1994;

/// One line of `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    pub mount_point: PathBuf,
    pub fs_type: String,
    /// Optional fields (`shared:N`, `master:N`, ...).
    pub optional: Vec<String>,
}

/// The mount table of this process's mount namespace.
#[derive(Debug, Clone, Default)]
pub struct MountTable(pub Vec<MountEntry>);

impl MountTable {
    pub fn read() -> io::Result<MountTable> {
        Ok(MountTable::parse(&std::fs::read_to_string(MOUNTINFO)?))
    }

    pub fn parse(text: &str) -> MountTable {
        MountTable(text.lines().filter_map(parse_line).collect())
    }

    /// Whether something is mounted exactly at `path` (compared after resolving symlinks
    /// in its parent directories).
    pub fn is_mount_point(&self, path: &Path) -> bool {
        let path = resolved(path);
        self.0.iter().any(|m| m.mount_point == path)
    }

    /// Mount points at or below `dir`, deepest first (the order to unmount them in).
    pub fn mounts_under(&self, dir: &Path) -> Vec<PathBuf> {
        let dir = resolved(dir);
        let mut found: Vec<PathBuf> =
            self.0.iter().filter(|m| m.mount_point.starts_with(&dir)).map(|m| m.mount_point.clone()).collect();
        found.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        found.dedup();
        found
    }

    /// The mount that holds `path`: the longest mount point that is a prefix of it.
    pub fn mount_of(&self, path: &Path) -> Option<&MountEntry> {
        let path = resolved(path);
        self.0.iter().filter(|m| path.starts_with(&m.mount_point)).max_by_key(|m| m.mount_point.components().count())
    }
}

/// `path` with its parent's symlinks resolved, as the kernel reports mount points.
fn resolved(path: &Path) -> PathBuf {
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => parent.canonicalize().map_or_else(|_| path.to_path_buf(), |p| p.join(name)),
        _ => path.to_path_buf(),
    }
}

fn parse_line(line: &str) -> Option<MountEntry> {
    let (before, after) = line.split_once(" - ")?;
    let fields: Vec<&str> = before.split(' ').collect();
    let mount_point = unescape(fields.get(4)?);
    let optional = fields.get(6..).unwrap_or_default().iter().map(|s| s.to_string()).collect();
    let fs_type = after.split(' ').next()?.to_string();
    Some(MountEntry { mount_point: PathBuf::from(mount_point), fs_type, optional })
}

/// The kernel writes space, tab, newline and backslash in paths as `\ooo` octal escapes.
fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b.get(i + 1..i + 4).filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                out.push(d.iter().fold(0u8, |acc, c| acc.wrapping_mul(8).wrapping_add(c - b'0')));
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Mounts a tmpfs at `dir` (`size=<bytes>` when given, `noswap` when the kernel has it).
pub fn mount_tmpfs(dir: &Path, size: Option<i64>, noswap: bool) -> io::Result<()> {
    let mut options: Vec<String> = size.filter(|s| *s > 0).map(|s| format!("size={s}")).into_iter().collect();
    if noswap {
        options.push("noswap".into());
    }
    let data = options.join(",");
    let data = (!data.is_empty()).then_some(data.as_str());
    nix::mount::mount(Some("tmpfs"), dir, Some("tmpfs"), MsFlags::empty(), data).map_err(io::Error::from)
}

/// Bind-mounts `source` onto `target`.
pub fn bind_mount(source: &Path, target: &Path) -> io::Result<()> {
    nix::mount::mount(Some(source), target, None::<&str>, MsFlags::MS_BIND, None::<&str>).map_err(io::Error::from)
}

/// Unmounts `path`; not being mounted is not an error.
pub fn unmount(path: &Path) -> io::Result<()> {
    match nix::mount::umount2(path, MntFlags::empty()) {
        Ok(()) | Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOENT) => Ok(()),
        Err(e) => Err(io::Error::from(e)),
    }
}

/// Whether `path` lies on a tmpfs.
pub fn is_tmpfs(path: &Path) -> io::Result<bool> {
    let fs = nix::sys::statfs::statfs(path).map_err(io::Error::from)?;
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)] // f_type's width differs per target
    let kind = i64::from(fs.filesystem_type().0 as i64);
    Ok(kind == TMPFS_MAGIC)
}

/// Whether the kernel takes tmpfs's `noswap` option (6.4 and later; upstream also probes
/// older kernels with a trial mount, which a kernel this old on an edge device rarely needs).
pub fn tmpfs_noswap_supported() -> bool {
    let release = nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default();
    kernel_at_least(&release, 6, 4)
}

fn kernel_at_least(release: &str, major: u32, minor: u32) -> bool {
    let mut parts = release.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(ma), Some(mi)) => (ma, mi) >= (major, minor),
        _ => false,
    }
}

/// Makes `dir` a shared mount (upstream's `MakeRShared` of the root directory), so that
/// `HostToContainer` and `Bidirectional` mount propagation work: nothing when the mount that
/// holds it is already shared, else a recursive bind of `dir` onto itself, made rshared.
pub fn make_rshared(dir: &Path) -> io::Result<()> {
    let table = MountTable::read()?;
    if table.mount_of(dir).is_some_and(|m| m.optional.iter().any(|o| o.starts_with("shared:"))) {
        return Ok(());
    }
    log::info!("bind-mounting {} onto itself with shared mount propagation", dir.display());
    let flags = MsFlags::MS_BIND | MsFlags::MS_REC;
    nix::mount::mount(Some(dir), dir, None::<&str>, flags, None::<&str>).map_err(io::Error::from)?;
    let flags = MsFlags::MS_SHARED | MsFlags::MS_REC;
    nix::mount::mount(None::<&str>, dir, None::<&str>, flags, None::<&str>).map_err(io::Error::from)
}

/// Removes `path` and everything below it, refusing to step into anything mounted below
/// it (another device, or a mount point in `table`): a volume's data is never deleted
/// through a mount that is still there (upstream's `RemoveAllOneFilesystem`).
pub fn remove_all_one_filesystem(path: &Path, table: &MountTable) -> io::Result<()> {
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    if !meta.is_dir() {
        return std::fs::remove_file(path);
    }
    let mounted = table.mounts_under(path);
    if let Some(m) = mounted.first() {
        return Err(io::Error::other(format!("refusing to remove {}: {} is still mounted", path.display(), m.display())));
    }
    remove_tree(path, std::os::unix::fs::MetadataExt::dev(&meta))
}

fn remove_tree(dir: &Path, dev: u64) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.is_dir() {
            if std::os::unix::fs::MetadataExt::dev(&meta) != dev {
                return Err(io::Error::other(format!("refusing to remove {}: another filesystem", path.display())));
            }
            remove_tree(&path, dev)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    std::fs::remove_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n\
        42 27 0:39 / /var/lib/kubelet/pods/u/volumes/kubernetes.io~secret/my\\040vol rw - tmpfs tmpfs rw,size=65536k\n\
        43 27 0:40 / /var/lib/kubelet/pods/u/volume-subpaths/v/c/0 rw - ext4 /dev/vda rw\n\
        garbage line\n";

    #[test]
    fn parses_mountinfo() {
        let t = MountTable::parse(SAMPLE);
        assert_eq!(t.0.len(), 3);
        assert_eq!(t.0[1].mount_point, Path::new("/var/lib/kubelet/pods/u/volumes/kubernetes.io~secret/my vol"));
        assert_eq!(t.0[1].fs_type, "tmpfs");
        assert_eq!(t.0[0].optional, ["shared:1"]);
        assert!(t.0[1].optional.is_empty());
        assert_eq!(
            t.mounts_under(Path::new("/var/lib/kubelet/pods/u")),
            [
                PathBuf::from("/var/lib/kubelet/pods/u/volume-subpaths/v/c/0"),
                PathBuf::from("/var/lib/kubelet/pods/u/volumes/kubernetes.io~secret/my vol"),
            ]
        );
        assert!(t.mounts_under(Path::new("/var/lib/kubelet/pods/other")).is_empty());
        assert_eq!(t.mount_of(Path::new("/etc/hosts")).map(|m| m.fs_type.as_str()), Some("ext4"));
    }

    #[test]
    fn kernel_versions() {
        assert!(kernel_at_least("6.18.44-fc-v595", 6, 4));
        assert!(kernel_at_least("6.4.0", 6, 4));
        assert!(!kernel_at_least("6.1.0-18-amd64", 6, 4));
        assert!(!kernel_at_least("5.15.0", 6, 4));
        assert!(!kernel_at_least("", 6, 4));
    }

    #[test]
    fn tmpfs_mount_and_unmount() {
        if !crate::volume::testutil::can_mount() {
            return;
        }
        let s = crate::volume::testutil::Scratch::new("mount");
        let dir = s.path().join("t");
        std::fs::create_dir(&dir).expect("dir");
        mount_tmpfs(&dir, Some(1 << 20), tmpfs_noswap_supported()).expect("mount");
        assert!(MountTable::read().expect("table").is_mount_point(&dir));
        assert!(is_tmpfs(&dir).expect("statfs"));
        std::fs::write(dir.join("data"), "keep").expect("write");
        let e = remove_all_one_filesystem(s.path(), &MountTable::read().expect("table")).expect_err("mounted");
        assert!(e.to_string().contains("is still mounted"), "{e}");
        assert!(dir.join("data").exists(), "nothing deleted through the mount");
        unmount(&dir).expect("unmount");
        assert!(!MountTable::read().expect("table").is_mount_point(&dir));
        unmount(&dir).expect("unmounting twice is fine");
        remove_all_one_filesystem(s.path(), &MountTable::read().expect("table")).expect("remove");
        assert!(!s.path().exists());
    }
}
