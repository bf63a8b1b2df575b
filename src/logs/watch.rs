//! Waiting for a log directory to change (a follower at the end of its file).
//!
//! inotify on the directory: a write to the log, a rename (rotation) or a new file (the
//! runtime reopening the log) wakes the follower at once; without inotify it polls.

use std::os::fd::AsFd;
use std::path::Path;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

/// How often a follower looks again when inotify is not available.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

pub(crate) struct DirWatch {
    inotify: Option<Inotify>,
}

impl DirWatch {
    pub(crate) fn new(dir: &Path) -> DirWatch {
        let flags = AddWatchFlags::IN_MODIFY
            | AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_MOVED_FROM
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_CLOSE_WRITE;
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .and_then(|i| i.add_watch(dir, flags).map(|_| i))
            .map_err(|e| log::debug!("no inotify on {}: {e}; polling", dir.display()))
            .ok();
        DirWatch { inotify }
    }

    /// Returns when something in the directory changed, or after `timeout`.
    pub(crate) fn wait(&self, timeout: Duration) {
        let Some(inotify) = &self.inotify else {
            std::thread::sleep(timeout.min(POLL_INTERVAL));
            return;
        };
        let mut fds = [PollFd::new(inotify.as_fd(), PollFlags::POLLIN)];
        let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::MAX);
        if poll(&mut fds, timeout).is_ok_and(|n| n > 0) {
            // Drain: one wake-up per batch of events is enough.
            while inotify.read_events().is_ok_and(|e| !e.is_empty()) {}
        }
    }
}
