//! inotify watches for the file source: they only say *when* to re-read the manifests.
//!
//! Two watches cover every way the manifests can change: one on the parent directory of
//! `staticPodPath` (events for its name: the path created, deleted, renamed over, or, for a
//! single manifest file, written), and one on `staticPodPath` itself when it is a directory
//! (its entries, hidden names ignored). When the path appears, disappears or is replaced
//! by another inode, [`Watcher::ensure`] sets the watches up again. Missed events are
//! harmless: the file source also re-reads every `fileCheckFrequency`.
#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::fs;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use log::{debug, warn};
use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

/// What `staticPodPath` was when the watches were set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Identity {
    Missing,
    Dir { dev: u64, ino: u64 },
    Other { dev: u64, ino: u64 },
}

fn identity(path: &Path) -> Identity {
    match fs::metadata(path) {
        Ok(md) if md.is_dir() => Identity::Dir {
            dev: md.dev(),
            ino: md.ino(),
        },
        Ok(md) => Identity::Other {
            dev: md.dev(),
            ino: md.ino(),
        },
        Err(_) => Identity::Missing,
    }
}

fn entry_mask() -> AddWatchFlags {
    AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_DELETE
        | AddWatchFlags::IN_MOVED_FROM
        | AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_MODIFY
        | AddWatchFlags::IN_CLOSE_WRITE
        | AddWatchFlags::IN_ATTRIB
        | AddWatchFlags::IN_DELETE_SELF
        | AddWatchFlags::IN_MOVE_SELF
}

pub(super) struct Watcher {
    target: PathBuf,
    parent: PathBuf,
    name: Option<OsString>,
    inotify: Option<Inotify>,
    parent_wd: Option<WatchDescriptor>,
    target_wd: Option<WatchDescriptor>,
    /// The target and whether the parent existed when the watches were last set.
    armed_for: Option<(Identity, bool)>,
    last_error: Option<String>,
}

impl Watcher {
    pub(super) fn new(target: &Path) -> Watcher {
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Watcher {
            target: target.to_path_buf(),
            parent: parent.to_path_buf(),
            name: target.file_name().map(OsString::from),
            inotify: None,
            parent_wd: None,
            target_wd: None,
            armed_for: None,
            last_error: None,
        }
    }

    /// Sets the watches up again if the path appeared, vanished or was replaced since they
    /// were set. Returns true when it did: events may have been missed, so re-read.
    pub(super) fn ensure(&mut self) -> bool {
        let now = (identity(&self.target), self.parent.is_dir());
        if self.armed_for == Some(now) {
            return false;
        }
        debug!("watching {} ({:?})", self.target.display(), now.0);
        self.armed_for = Some(now);
        self.parent_wd = None;
        self.target_wd = None;
        self.inotify = None;
        let inotify = match Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC) {
            Ok(i) => i,
            Err(e) => {
                self.report(format!("cannot create an inotify instance: {e}"));
                return true;
            }
        };
        if now.1 {
            match inotify.add_watch(&self.parent, entry_mask() | AddWatchFlags::IN_ONLYDIR) {
                Ok(wd) => self.parent_wd = Some(wd),
                Err(e) => self.report(format!("cannot watch {}: {e}", self.parent.display())),
            }
        }
        if matches!(now.0, Identity::Dir { .. }) {
            match inotify.add_watch(&self.target, entry_mask() | AddWatchFlags::IN_ONLYDIR) {
                Ok(wd) => self.target_wd = Some(wd),
                Err(e) => self.report(format!("cannot watch {}: {e}", self.target.display())),
            }
        }
        self.inotify = Some(inotify);
        true
    }

    /// Whether the parent directory is watched; if not, the caller should call
    /// [`ensure`](Self::ensure) now and then, as no event will say it appeared.
    pub(super) fn armed(&self) -> bool {
        self.parent_wd.is_some()
    }

    pub(super) fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.inotify.as_ref().map(AsFd::as_fd)
    }

    /// Reads the pending events; true if any may concern the manifests.
    pub(super) fn drain(&mut self) -> bool {
        let Some(inotify) = self.inotify.as_ref() else {
            return false;
        };
        let mut relevant = false;
        loop {
            let events = match inotify.read_events() {
                Ok(events) => events,
                Err(Errno::EAGAIN) => break,
                Err(Errno::EINTR) => continue,
                Err(e) => {
                    self.report(format!("reading inotify events: {e}"));
                    // Start over with fresh watches at the next ensure().
                    self.armed_for = None;
                    return true;
                }
            };
            if events.is_empty() {
                break;
            }
            for event in events {
                relevant |= self.concerns_manifests(event.wd, &event.mask, event.name.as_ref());
            }
        }
        relevant
    }

    fn concerns_manifests(
        &self,
        wd: WatchDescriptor,
        mask: &AddWatchFlags,
        name: Option<&OsString>,
    ) -> bool {
        if mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
            return true;
        }
        let is_self_event = mask.intersects(
            AddWatchFlags::IN_DELETE_SELF | AddWatchFlags::IN_MOVE_SELF | AddWatchFlags::IN_IGNORED,
        );
        if Some(wd) == self.parent_wd {
            return is_self_event || (name.is_some() && name == self.name.as_ref());
        }
        if Some(wd) == self.target_wd {
            let hidden = name.is_some_and(|n| n.as_encoded_bytes().starts_with(b"."));
            return is_self_event || !hidden;
        }
        false
    }

    fn report(&mut self, message: String) {
        if self.last_error.as_ref() != Some(&message) {
            warn!("file source: {message}; relying on periodic re-reads");
            self.last_error = Some(message);
        }
    }
}
