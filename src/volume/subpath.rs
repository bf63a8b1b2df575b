//! subPath mounts without escaping the volume (upstream's `subpath_linux.go`).
//!
//! A container could replace a directory of its volume with a symlink to `/` between our
//! check and the runtime's mount. So the subPath is opened one component at a time with
//! `openat(O_PATH|O_NOFOLLOW)` from the volume's real path (refusing symlinks), and that
//! open file is bind-mounted through `/proc/self/fd/<n>` onto
//! `<pod>/volume-subpaths/<volume>/<container>/<mount index>`, which the container mounts:
//! what the runtime sees can no longer change. Symlinks inside the subPath are resolved
//! first and the result must stay inside the volume.
//!
//! A missing subPath directory is created the same careful way (`mkdirat` step by step),
//! with the mode of the volume's root. The bind mounts stay until the volume is torn down
//! ([`clean_subpaths`]), so a restarted container finds them ready.

use std::fs;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use nix::fcntl::{OFlag, openat};
use nix::sys::stat::{Mode, SFlag, fchmod, fstat, mkdirat};

use crate::volume::mount::{self, MountTable};

/// `<pod>/volume-subpaths`.
pub const SUBPATHS_DIR: &str = "volume-subpaths";

/// One subPath mount of a container.
pub struct Subpath<'a> {
    /// The index of the mount in the container's `volumeMounts`.
    pub index: usize,
    /// `<volume path>/<subPath>`.
    pub path: PathBuf,
    pub volume_name: &'a str,
    pub volume_path: &'a Path,
    pub pod_dir: &'a Path,
    pub container_name: &'a str,
}

/// Whether `path` is `base` or below it (both already free of `..` and symlinks).
pub fn within_base(path: &Path, base: &Path) -> bool {
    path.starts_with(base) && !path.components().any(|c| c == Component::ParentDir)
}

/// Opens `path` below `base` one component at a time, refusing symlinks; the `O_PATH` file.
fn safe_open(path: &Path, base: &Path) -> io::Result<OwnedFd> {
    let rel = path.strip_prefix(base).map_err(|_| io::Error::other(format!("path {} is outside of allowed base {}", path.display(), base.display())))?;
    let flags = OFlag::O_NOFOLLOW | OFlag::O_PATH | OFlag::O_CLOEXEC;
    let mut fd = nix::fcntl::open(base, flags, Mode::empty()).map_err(|e| io::Error::other(format!("cannot open directory {}: {e}", base.display())))?;
    let mut current = base.to_path_buf();
    for seg in rel.components() {
        let Component::Normal(seg) = seg else {
            return Err(io::Error::other(format!("path {} is outside of allowed base {}", path.display(), base.display())));
        };
        current.push(seg);
        let child = openat(&fd, seg, flags, Mode::empty()).map_err(|e| io::Error::other(format!("cannot open {}: {e}", current.display())))?;
        let st = fstat(&child).map_err(|e| io::Error::other(format!("error running fstat on {}: {e}", current.display())))?;
        if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK {
            return Err(io::Error::other(format!("unexpected symlink found {}", current.display())));
        }
        fd = child;
    }
    Ok(fd)
}

/// Creates `sub_dir` (and missing parents) below `base` with `perm`, never leaving `base`
/// (upstream's `SafeMakeDir`).
pub fn safe_make_dir(sub_dir: &str, base: &Path, perm: u32) -> io::Result<()> {
    let base = base.canonicalize()?;
    let target = base.join(sub_dir);
    if !within_base(&target, &base) {
        return Err(io::Error::other(format!("path {} is outside of allowed base {}", target.display(), base.display())));
    }
    match fs::metadata(&target) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(_) => return Err(io::Error::from_raw_os_error(libc::ENOTDIR)),
        Err(_) => {}
    }
    // The longest prefix that exists, and the names still to create.
    let rel: Vec<_> = target.strip_prefix(&base).map(|r| r.components().collect()).unwrap_or_default();
    let mut existing = base.clone();
    let mut to_create = Vec::new();
    for (i, c) in rel.iter().enumerate() {
        let next = existing.join(c);
        if fs::symlink_metadata(&next).is_err() {
            to_create = rel[i..].iter().map(|c| c.as_os_str().to_owned()).collect();
            break;
        }
        existing = next;
    }
    let existing = existing.canonicalize()?;
    if !within_base(&existing, &base) {
        return Err(io::Error::other(format!("path {} is outside of allowed base {}", existing.display(), base.display())));
    }
    let mut parent = safe_open(&existing, &base)?;
    let mode = Mode::from_bits_truncate(perm & 0o7777);
    for name in &to_create {
        mkdirat(&parent, name.as_os_str(), mode).map_err(|e| io::Error::other(format!("cannot create directory {}: {e}", name.to_string_lossy())))?;
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let child = openat(&parent, name.as_os_str(), flags, Mode::empty()).map_err(io::Error::from)?;
        // mkdirat's mode went through the umask.
        fchmod(&child, mode).map_err(io::Error::from)?;
        parent = child;
    }
    Ok(())
}

/// `<pod>/volume-subpaths/<volume>/<container>/<index>`.
fn bind_target(sp: &Subpath) -> PathBuf {
    sp.pod_dir.join(SUBPATHS_DIR).join(sp.volume_name).join(sp.container_name).join(sp.index.to_string())
}

/// Bind-mounts the subPath safely; the path the container should mount instead.
pub fn prepare(sp: &Subpath) -> Result<PathBuf, String> {
    let volume_path = sp.volume_path.canonicalize().map_err(|e| format!("error resolving symlinks in {:?}: {e}", sp.volume_path))?;
    let path = sp.path.canonicalize().map_err(|e| format!("error resolving symlinks in {:?}: {e}", sp.path))?;
    if !within_base(&path, &volume_path) {
        return Err(format!("subpath {path:?} not within volume path {volume_path:?}"));
    }
    let fd = safe_open(&path, &volume_path).map_err(|e| format!("error opening subpath {}: {e}", path.display()))?;
    let target = bind_target(sp);
    let table = MountTable::read().map_err(|e| format!("reading the mount table: {e}"))?;
    if table.is_mount_point(&target) {
        if same_file(&path, &target) {
            return Ok(target);
        }
        // Stale: bound to something else. Detach it and bind again.
        nix::mount::umount2(&target, nix::mount::MntFlags::MNT_DETACH)
            .map_err(|e| format!("error lazy-unmounting stale subpath mount {}: {e}", target.display()))?;
    }
    make_target(&path, &target)?;
    let source = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    if let Err(e) = mount::bind_mount(&source, &target) {
        if let Err(c) = clean_one(sp.pod_dir, &target) {
            log::error!("cleaning subpath {} after a failed mount: {c}", target.display());
        }
        return Err(format!("error mounting {}: {e}", path.display()));
    }
    log::debug!("bound subPath {} into {}", path.display(), target.display());
    Ok(target)
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::symlink_metadata(a), fs::symlink_metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// The mount point: a directory for a directory, an empty file for anything else.
fn make_target(source: &Path, target: &Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let parent = target.parent().unwrap_or(target);
    fs::DirBuilder::new().recursive(true).mode(0o750).create(parent).map_err(|e| format!("error creating directory {}: {e}", parent.display()))?;
    let is_dir = fs::symlink_metadata(source).map_err(|e| format!("lstat {} failed: {e}", source.display()))?.is_dir();
    let made = if is_dir {
        match fs::DirBuilder::new().mode(0o750).create(target) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            other => other,
        }
    } else {
        fs::OpenOptions::new().write(true).create(true).truncate(false).mode(0o640).open(target).map(drop)
    };
    made.map_err(|e| format!("error creating {}: {e}", target.display()))
}

/// Unmounts one subPath target and removes the directories it leaves empty.
fn clean_one(pod_dir: &Path, target: &Path) -> Result<(), String> {
    cleanup_mount_point(target)?;
    let mut dir = target.parent();
    while let Some(d) = dir.filter(|d| d.starts_with(pod_dir) && *d != pod_dir) {
        if fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    Ok(())
}

/// Unmounts `path` if mounted, then removes it (a directory or the file mount point).
fn cleanup_mount_point(path: &Path) -> Result<(), String> {
    let table = MountTable::read().map_err(|e| format!("reading the mount table: {e}"))?;
    if table.is_mount_point(path) {
        mount::unmount(path).map_err(|e| format!("error cleaning subpath mount {}: {e}", path.display()))?;
    }
    let removed = match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::remove_dir(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    };
    removed.map_err(|e| format!("error cleaning subpath mount {}: {e}", path.display()))
}

/// Tears down every subPath bind mount of one volume of a pod (upstream's
/// `CleanSubPaths`), then the directories.
pub fn clean_subpaths(pod_dir: &Path, volume_name: &str) -> Result<(), String> {
    let volume_dir = pod_dir.join(SUBPATHS_DIR).join(volume_name);
    let containers = match fs::read_dir(&volume_dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("error reading {}: {e}", volume_dir.display())),
        Ok(c) => c,
    };
    for container in containers.flatten() {
        let container_dir = container.path();
        if !container_dir.is_dir() {
            continue;
        }
        let entries = fs::read_dir(&container_dir).map_err(|e| format!("error reading {}: {e}", container_dir.display()))?;
        for entry in entries.flatten() {
            cleanup_mount_point(&entry.path())?;
        }
        fs::remove_dir(&container_dir).map_err(|e| format!("error deleting {}: {e}", container_dir.display()))?;
    }
    fs::remove_dir(&volume_dir).map_err(|e| format!("error deleting {}: {e}", volume_dir.display()))?;
    match fs::remove_dir(pod_dir.join(SUBPATHS_DIR)) {
        Ok(()) => Ok(()),
        // Other volumes still have subPaths.
        Err(e) if e.raw_os_error() == Some(libc::ENOTEMPTY) || e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("error deleting {}: {e}", pod_dir.join(SUBPATHS_DIR).display())),
    }
}

#[cfg(test)]
#[path = "subpath_tests.rs"]
mod tests;
