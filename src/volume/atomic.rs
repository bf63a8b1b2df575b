//! The atomic writer (upstream's `AtomicWriter`): configMap, secret, downwardAPI and
//! projected volumes change all their files at once, so a reader never sees half an update.
//!
//! ```text
//! <volume>/
//!     ..2026_11_23_10_00_00.123456789/     the real files of the current version
//!         key1
//!         dir/key2
//!     ..data -> ..2026_11_23_10_00_00.123456789
//!     key1 -> ..data/key1                  user-visible names: symlinks through ..data
//!     dir  -> ..data/dir
//! ```
//!
//! A write, step by step ([`Step`]); a crash between any two steps leaves every visible name
//! pointing at a complete version (the old one up to the rename, the new one after it):
//!
//! 1. validate the payload (relative paths, no `..`, names ≤ 255, paths ≤ 4096);
//! 2. read `..data` to find the current version; nothing to do if it already holds exactly
//!    this payload (the visible symlinks are still made sure of);
//! 3. write the payload into a new timestamped directory (mode 0755), files with their mode
//!    (and owner), then apply the caller's permission hook (fsGroup);
//! 4. symlink `..data_tmp` to it and rename that over `..data`: the one atomic switch;
//! 5. create visible symlinks for new top-level names, remove those of names that are gone;
//! 6. remove the previous timestamped directory.
//!
//! Beyond upstream, a write first removes a `..data_tmp` and timestamped directories that a
//! crash left behind (upstream would fail every later write on the stale `..data_tmp`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::api::Time;

const MAX_FILE_NAME: usize = 255;
const MAX_PATH: usize = 4096;
pub const DATA_DIR: &str = "..data";
const NEW_DATA_DIR: &str = "..data_tmp";

/// One file of a payload: its content, mode and (optionally) owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProjection {
    pub data: Vec<u8>,
    pub mode: u32,
    pub fs_user: Option<u32>,
}

/// Relative path → file.
pub type Payload = BTreeMap<String, FileProjection>;

/// Why a write failed.
#[derive(Debug)]
pub enum AtomicError {
    InvalidPath(String),
    Io { what: &'static str, path: PathBuf, error: io::Error },
}

impl fmt::Display for AtomicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AtomicError::InvalidPath(m) => write!(f, "invalid path: {m}"),
            AtomicError::Io { what, path, error } => write!(f, "{what} {}: {error}", path.display()),
        }
    }
}

impl std::error::Error for AtomicError {}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> AtomicError {
    let path = path.to_path_buf();
    move |error| AtomicError::Io { what, path, error }
}

/// The points a write passes; tests stop after one of them to play a crash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    NewDirWritten,
    TmpLinkMade,
    Swapped,
    VisibleLinksMade,
    OldPathsRemoved,
}

/// Writes payloads into one volume directory (which must exist).
pub struct AtomicWriter {
    target: PathBuf,
}

impl AtomicWriter {
    pub fn new(target: &Path) -> Result<AtomicWriter, AtomicError> {
        fs::metadata(target).map_err(io_err("stat", target))?;
        Ok(AtomicWriter { target: target.to_path_buf() })
    }

    /// Project `payload` into the volume. `set_perms` runs on the new version before it is
    /// published (upstream passes it the timestamped directory's name; ours get the volume).
    pub fn write(&self, payload: &Payload, set_perms: Option<&dyn Fn() -> io::Result<()>>) -> Result<(), AtomicError> {
        self.write_until(payload, set_perms, None)
    }

    /// [`Self::write`], stopping after `stop` as if the process died there.
    pub(crate) fn write_until(
        &self,
        payload: &Payload,
        set_perms: Option<&dyn Fn() -> io::Result<()>>,
        stop: Option<Step>,
    ) -> Result<(), AtomicError> {
        let payload = validate_payload(payload)?;
        let data_link = self.target.join(DATA_DIR);
        let old = match fs::read_link(&data_link) {
            Ok(p) => Some(p.to_string_lossy().into_owned()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err("readlink", &data_link)(e)),
        };
        self.remove_leftovers(old.as_deref())?;
        let mut replace_old = None;
        let write_new = match &old {
            None => true,
            Some(old) => {
                let old_dir = self.target.join(old);
                let to_remove = paths_to_remove(&payload, &old_dir)?;
                let changed = payload_differs(&payload, &old_dir)?;
                if changed || !to_remove.is_empty() {
                    replace_old = Some(old_dir);
                    true
                } else {
                    false
                }
            }
        };
        if write_new {
            let ts_dir = self.new_timestamp_dir()?;
            write_payload(&payload, &ts_dir)?;
            if let Some(hook) = set_perms {
                hook().map_err(io_err("set permissions of", &ts_dir))?;
            }
            if stop == Some(Step::NewDirWritten) {
                return Ok(());
            }
            let tmp_link = self.target.join(NEW_DATA_DIR);
            let ts_name = ts_dir.file_name().map(PathBuf::from).unwrap_or_default();
            if let Err(e) = std::os::unix::fs::symlink(&ts_name, &tmp_link) {
                let _ = fs::remove_dir_all(&ts_dir);
                return Err(io_err("symlink", &tmp_link)(e));
            }
            if stop == Some(Step::TmpLinkMade) {
                return Ok(());
            }
            if let Err(e) = fs::rename(&tmp_link, &data_link) {
                let _ = fs::remove_file(&tmp_link);
                let _ = fs::remove_dir_all(&ts_dir);
                return Err(io_err("rename to", &data_link)(e));
            }
            if stop == Some(Step::Swapped) {
                return Ok(());
            }
        }
        self.create_visible(&payload)?;
        if stop == Some(Step::VisibleLinksMade) {
            return Ok(());
        }
        self.remove_visible(&payload)?;
        if stop == Some(Step::OldPathsRemoved) {
            return Ok(());
        }
        if let Some(old_dir) = replace_old {
            fs::remove_dir_all(&old_dir).map_err(io_err("remove old data directory", &old_dir))?;
        }
        Ok(())
    }

    /// A fresh `..<UTC timestamp>.<random>` directory, mode 0755 whatever the umask.
    fn new_timestamp_dir(&self) -> Result<PathBuf, AtomicError> {
        let stamp: String = Time::from(SystemTime::now())
            .to_string()
            .trim_end_matches('Z')
            .chars()
            .map(|c| if c.is_ascii_digit() { c } else { '_' })
            .collect();
        for _ in 0..10 {
            let dir = self.target.join(format!("..{stamp}.{}", random_digits()));
            match fs::create_dir(&dir) {
                Ok(()) => {
                    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).map_err(io_err("chmod", &dir))?;
                    return Ok(dir);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_err("create directory", &dir)(e)),
            }
        }
        Err(io_err("create directory", &self.target)(io::Error::from(io::ErrorKind::AlreadyExists)))
    }

    /// Symlinks `<name> -> ..data/<name>` for each top-level name of the payload.
    fn create_visible(&self, payload: &Payload) -> Result<(), AtomicError> {
        for (path, file) in payload {
            let top = path.split('/').next().unwrap_or(path);
            let visible = self.target.join(top);
            if fs::symlink_metadata(&visible).is_ok() {
                continue;
            }
            std::os::unix::fs::symlink(Path::new(DATA_DIR).join(top), &visible).map_err(io_err("symlink", &visible))?;
            if let Some(uid) = file.fs_user {
                std::os::unix::fs::lchown(&visible, Some(uid), None).map_err(io_err("chown", &visible))?;
            }
        }
        Ok(())
    }

    /// Removes the visible top-level links into `..data` that the payload no longer has
    /// (upstream removes the old version's names; looking at the links themselves also
    /// catches those a crash after the swap left dangling).
    fn remove_visible(&self, payload: &Payload) -> Result<(), AtomicError> {
        let keep: BTreeSet<&str> = payload.keys().map(|p| p.split('/').next().unwrap_or(p)).collect();
        let entries = fs::read_dir(&self.target).map_err(io_err("read", &self.target))?;
        let mut last = Ok(());
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let into_data = fs::read_link(entry.path()).is_ok_and(|t| t.starts_with(DATA_DIR));
            if name.starts_with("..") || keep.contains(name.as_str()) || !into_data {
                continue;
            }
            let visible = entry.path();
            if let Err(e) = fs::remove_file(&visible) {
                log::warn!("cannot prune old visible path {}: {e}", visible.display());
                last = Err(io_err("remove", &visible)(e));
            }
        }
        last
    }

    /// A `..data_tmp` and timestamped directories that no `..data` points at: what a crash
    /// in the middle of an earlier write leaves.
    fn remove_leftovers(&self, current: Option<&str>) -> Result<(), AtomicError> {
        let entries = fs::read_dir(&self.target).map_err(io_err("read", &self.target))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let stale_dir = is_timestamp_dir(&name) && Some(name.as_str()) != current;
            if name == NEW_DATA_DIR {
                fs::remove_file(entry.path()).map_err(io_err("remove", &entry.path()))?;
            } else if stale_dir {
                log::debug!("removing {} left by an interrupted write", entry.path().display());
                fs::remove_dir_all(entry.path()).map_err(io_err("remove", &entry.path()))?;
            }
        }
        Ok(())
    }
}

fn is_timestamp_dir(name: &str) -> bool {
    name.len() > 2 && name.starts_with("..") && name.as_bytes().get(2).is_some_and(u8::is_ascii_digit)
}

fn random_digits() -> u32 {
    let mut b = [0u8; 4];
    if fs::File::open("/dev/urandom").and_then(|mut f| io::Read::read_exact(&mut f, &mut b)).is_err() {
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
        b = nanos.to_le_bytes();
    }
    u32::from_le_bytes(b)
}

/// The payload with cleaned paths, or the first invalid path (upstream's `validatePath`).
fn validate_payload(payload: &Payload) -> Result<Payload, AtomicError> {
    let mut clean = Payload::new();
    for (path, file) in payload {
        validate_path(path).map_err(AtomicError::InvalidPath)?;
        let cleaned: Vec<&str> = path.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
        if cleaned.is_empty() {
            return Err(AtomicError::InvalidPath(format!("must not be empty: {path:?}")));
        }
        clean.insert(cleaned.join("/"), file.clone());
    }
    Ok(clean)
}

pub fn validate_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err(format!("must not be empty: {path:?}"));
    }
    if path.starts_with('/') {
        return Err(format!("must be relative path: {path}"));
    }
    if path.len() > MAX_PATH {
        return Err(format!("must be less than or equal to {MAX_PATH} characters"));
    }
    for item in path.split('/') {
        if item == ".." {
            return Err(format!("must not contain '..': {path}"));
        }
        if item.len() > MAX_FILE_NAME {
            return Err(format!("filenames must be less than or equal to {MAX_FILE_NAME} characters"));
        }
    }
    let first = path.split('/').next().unwrap_or_default();
    if first.starts_with("..") && first.len() > 2 {
        return Err(format!("must not start with '..': {path}"));
    }
    Ok(())
}

/// Whether any file of the payload is missing from `old_dir` or has other content.
fn payload_differs(payload: &Payload, old_dir: &Path) -> Result<bool, AtomicError> {
    for (path, file) in payload {
        let on_disk = old_dir.join(path);
        match fs::symlink_metadata(&on_disk) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(true),
            _ => {}
        }
        let content = fs::read(&on_disk).map_err(io_err("read", &on_disk))?;
        if content != file.data {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Every path under `old_dir` that is neither a payload file nor one of its parents.
fn paths_to_remove(payload: &Payload, old_dir: &Path) -> Result<BTreeSet<String>, AtomicError> {
    let mut existing = BTreeSet::new();
    match walk(old_dir, "", &mut existing) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(e) => return Err(io_err("walk", old_dir)(e)),
        Ok(()) => {}
    }
    let mut wanted = BTreeSet::new();
    for path in payload.keys() {
        let mut p = path.as_str();
        loop {
            wanted.insert(p.to_string());
            match p.rsplit_once('/') {
                Some((parent, _)) => p = parent,
                None => break,
            }
        }
    }
    Ok(existing.difference(&wanted).cloned().collect())
}

/// Relative paths of everything below `dir` (symlinks are not followed).
fn walk(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        if entry.file_type()?.is_dir() {
            walk(&entry.path(), &rel, out)?;
        }
        out.insert(rel);
    }
    Ok(())
}

/// Writes every file under `dir`, with its exact mode and owner.
fn write_payload(payload: &Payload, dir: &Path) -> Result<(), AtomicError> {
    for (path, file) in payload {
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent).map_err(io_err("create directory", parent))?;
        }
        let mode = file.mode & 0o777;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&full)
            .map_err(io_err("create", &full))?;
        f.write_all(&file.data).map_err(io_err("write", &full))?;
        // The umask trimmed the mode given to open.
        fs::set_permissions(&full, fs::Permissions::from_mode(mode)).map_err(io_err("chmod", &full))?;
        if let Some(uid) = file.fs_user {
            std::os::unix::fs::lchown(&full, Some(uid), None).map_err(io_err("chown", &full))?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "atomic_tests.rs"]
mod tests;
