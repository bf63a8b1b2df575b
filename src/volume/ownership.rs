//! fsGroup ownership of a volume (upstream's `SetVolumeOwnership`): every file and directory
//! gets the group, group read (and write unless the volume is read-only), directories also
//! group execute and the setgid bit, so that files made later inherit the group. Symlinks are
//! re-owned but never chmod-ed (that would change their target).
//!
//! `fsGroupChangePolicy: OnRootMismatch` skips the walk when the volume's root already has
//! the group, the permission bits and setgid. Upstream's emptyDir, configMap, secret,
//! downwardAPI and projected plugins pass no policy (always the full walk): so do we; the
//! policy matters for volumes with many files, which those plugins do not hold.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

const RW_MASK: u32 = 0o660;
const RO_MASK: u32 = 0o440;
const EXEC_MASK: u32 = 0o110;
const SETGID: u32 = 0o2000;

/// Applies `fs_group` to everything under `dir` (nothing without an fsGroup).
pub fn set_volume_ownership(dir: &Path, fs_group: Option<i64>, policy: Option<&str>, read_only: bool) -> io::Result<()> {
    let Some(group) = fs_group else { return Ok(()) };
    let gid = u32::try_from(group).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("fsGroup {group} out of range")))?;
    if policy == Some("OnRootMismatch") && !requires_change(dir, gid, read_only) {
        log::debug!("skipping ownership change of {}: its root already matches fsGroup {gid}", dir.display());
        return Ok(());
    }
    walk_deep(dir, &mut |path, meta| change(path, meta, gid, read_only))
}

/// Whether the volume's root lacks the group, the mode bits or setgid.
fn requires_change(dir: &Path, gid: u32, read_only: bool) -> bool {
    let Ok(meta) = fs::metadata(dir) else { return true };
    if meta.gid() != gid || !meta.is_dir() {
        return true;
    }
    let want = if read_only { RO_MASK } else { RW_MASK } | EXEC_MASK;
    let mode = meta.mode();
    mode & want != want || mode & SETGID == 0
}

fn change(path: &Path, meta: &fs::Metadata, gid: u32, read_only: bool) {
    if let Err(e) = std::os::unix::fs::lchown(path, None, Some(gid)) {
        log::error!("lchown {} to group {gid}: {e}", path.display());
    }
    if meta.file_type().is_symlink() {
        return;
    }
    let mut mask = if read_only { RO_MASK } else { RW_MASK };
    if meta.is_dir() {
        mask |= SETGID | EXEC_MASK;
    }
    let mode = (meta.mode() & 0o7777) | mask;
    if let Err(e) = fs::set_permissions(path, fs::Permissions::from_mode(mode)) {
        log::error!("chmod {}: {e}", path.display());
    }
}

/// Visits every entry below `root`, children before their directory, without following
/// symlinks (upstream's `walkDeep`).
fn walk_deep(root: &Path, visit: &mut dyn FnMut(&Path, &fs::Metadata)) -> io::Result<()> {
    let meta = fs::symlink_metadata(root)?;
    if meta.is_dir() {
        for entry in fs::read_dir(root)? {
            walk_deep(&entry?.path(), visit)?;
        }
    }
    visit(root, &meta);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::testutil::Scratch;

    fn mode(p: &Path) -> u32 {
        fs::symlink_metadata(p).expect("stat").mode() & 0o7777
    }

    #[test]
    fn group_bits_and_setgid() {
        let s = Scratch::new("own");
        let root = s.path().join("vol");
        fs::create_dir_all(root.join("sub")).expect("dirs");
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).expect("chmod");
        fs::set_permissions(root.join("sub"), fs::Permissions::from_mode(0o700)).expect("chmod");
        fs::write(root.join("sub/f"), "x").expect("file");
        fs::set_permissions(root.join("sub/f"), fs::Permissions::from_mode(0o600)).expect("chmod");
        std::os::unix::fs::symlink("sub/f", root.join("link")).expect("link");
        let link_mode = mode(&root.join("link"));
        // Our own group: changing to it needs no privilege.
        let gid = i64::from(nix::unistd::getegid().as_raw());
        set_volume_ownership(&root, Some(gid), None, false).expect("ownership");
        assert_eq!(mode(&root), 0o2775);
        assert_eq!(mode(&root.join("sub")), 0o2770);
        assert_eq!(mode(&root.join("sub/f")), 0o660);
        assert_eq!(mode(&root.join("link")), link_mode, "symlinks are not chmod-ed");

        fs::set_permissions(root.join("sub/f"), fs::Permissions::from_mode(0o600)).expect("chmod");
        set_volume_ownership(&root, Some(gid), Some("OnRootMismatch"), false).expect("ownership");
        assert_eq!(mode(&root.join("sub/f")), 0o600, "the root matches: no walk");
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).expect("chmod");
        set_volume_ownership(&root, Some(gid), Some("OnRootMismatch"), true).expect("ownership");
        assert_eq!(mode(&root.join("sub/f")), 0o640, "root lost setgid: full walk, read-only mask");

        set_volume_ownership(&root, None, None, false).expect("no fsGroup: nothing");
        assert!(set_volume_ownership(&root, Some(-1), None, false).is_err());
    }
}
