//! `rk-src-file`: static pods from `staticPodPath` (`--pod-manifest-path`).
//!
//! The path is a directory (every regular file in it whose name does not start with `.`,
//! not recursive, one Pod per file, YAML or JSON) or a single manifest file, as upstream.
//! The thread re-reads it on inotify events (after a 100 ms pause that lets a burst of
//! events settle) and every `fileCheckFrequency`, and sends the full set to the mux when it
//! changed (the first read is always sent).
//!
//! ```text
//!   ┌──────────── wait: stop | inotify | next re-read ◄─────────────┐
//!   ▼                                                               │
//!  event ── deadline = min(deadline, now + 100 ms) ─────────────────┤
//!  deadline passed ── re-arm watches ── read ── send if changed ────┘
//! ```
//!
//! Reading follows upstream: a missing path is an empty set (so the source counts as
//! seen); a broken manifest in a directory is logged and left out while the others are
//! sent, except that a read after inotify events keeps the last valid pod of a manifest
//! that broke (upstream's watch path does; the next periodic read drops it), so a
//! half-written file does not stop a running pod; a broken single-file path sends nothing
//! (its pod keeps running). Files are read each time but parsed only when their bytes
//! changed, so a broken file is logged once per version, and an unchanged file keeps its
//! pod (and `config.seen`) as it was.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::Sender;
use log::{debug, info, warn};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::static_pod::{MAX_MANIFEST_BYTES, Origin, pod_from_manifest};
use super::watch::Watcher;
use super::{Source, SourceUpdate};
use crate::api::core::Pod;

/// How long a burst of inotify events may go on before the manifests are read.
pub const DEBOUNCE: Duration = Duration::from_millis(100);
/// How often to retry watching while the parent directory of the path is missing.
const REARM_INTERVAL: Duration = Duration::from_secs(1);

pub struct FileConfig {
    /// `staticPodPath`: a directory or a single manifest.
    pub path: PathBuf,
    pub node_name: String,
    /// `fileCheckFrequency` (upstream default 20 s).
    pub check_frequency: Duration,
}

pub struct FileDeps {
    /// The mux's input ([`super::mux::MuxHandle::sender`]).
    pub updates: Sender<SourceUpdate>,
}

/// The running file source. Dropping it detaches the thread (it runs while the mux does).
pub struct FileSourceHandle {
    stop: UnixStream,
    thread: JoinHandle<()>,
}

impl FileSourceHandle {
    /// Stops the thread and waits for it.
    pub fn stop(mut self) {
        // If the write fails the thread is already gone.
        let _ = self.stop.write_all(b"s");
        let _ = self.thread.join();
    }
}

/// Starts `rk-src-file`.
pub fn spawn(cfg: FileConfig, deps: FileDeps) -> io::Result<FileSourceHandle> {
    let (stop, stop_rx) = UnixStream::pair()?;
    stop_rx.set_nonblocking(true)?;
    let thread = thread::Builder::new()
        .name("rk-src-file".to_string())
        .spawn(move || run(&cfg, &deps, stop_rx))?;
    Ok(FileSourceHandle { stop, thread })
}

fn run(cfg: &FileConfig, deps: &FileDeps, mut stop: UnixStream) {
    info!(
        "file source: watching {} (re-read every {:?})",
        cfg.path.display(),
        cfg.check_frequency
    );
    let mut reader = ManifestReader::new(&cfg.path, &cfg.node_name);
    let mut watcher = Watcher::new(&cfg.path);
    let mut last_sent: Option<Vec<Pod>> = None;
    let mut next_periodic = Instant::now();
    // When to read after inotify events (the first event of a burst + DEBOUNCE).
    let mut pending: Option<Instant> = None;
    let mut stop_open = true;
    loop {
        let now = Instant::now();
        let periodic = now >= next_periodic;
        if periodic || pending.is_some_and(|p| now >= p) {
            watcher.ensure();
            let read = if periodic {
                next_periodic = now + cfg.check_frequency;
                reader.read()
            } else {
                reader.read_after_event()
            };
            pending = None;
            if let Some(pods) = read
                && last_sent.as_ref() != Some(&pods)
            {
                debug!("file source: sending {} pods", pods.len());
                let update = SourceUpdate {
                    source: Source::File,
                    pods: pods.clone(),
                };
                if deps.updates.send(update).is_err() {
                    debug!("file source: mux gone, stopping");
                    return;
                }
                last_sent = Some(pods);
            }
        }

        let deadline = pending.map_or(next_periodic, |p| p.min(next_periodic));
        let mut wait = deadline.saturating_duration_since(now);
        if !watcher.armed() {
            wait = wait.min(REARM_INTERVAL);
        }
        let timeout = PollTimeout::try_from(wait).unwrap_or(PollTimeout::MAX);
        let (stop_ready, watch_ready) = {
            let mut fds = Vec::with_capacity(2);
            if stop_open {
                fds.push(PollFd::new(stop.as_fd(), PollFlags::POLLIN));
            }
            let watch_index = watcher.fd().map(|fd| {
                fds.push(PollFd::new(fd, PollFlags::POLLIN));
                fds.len() - 1
            });
            match poll(&mut fds, timeout) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => {
                    // Should not happen; pace the loop and keep re-reading on schedule.
                    warn!("file source: poll: {e}");
                    thread::sleep(REARM_INTERVAL);
                }
            }
            let ready = |i: usize| {
                fds.get(i)
                    .and_then(PollFd::revents)
                    .is_some_and(|r| !r.is_empty())
            };
            (stop_open && ready(0), watch_index.is_some_and(ready))
        };
        if stop_ready {
            let mut byte = [0u8; 1];
            match stop.read(&mut byte) {
                Ok(0) => stop_open = false, // handle dropped: keep running
                Ok(_) => {
                    debug!("file source: stopped");
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => stop_open = false,
            }
        }
        let now = Instant::now();
        if watch_ready && watcher.drain() {
            pending.get_or_insert(now + DEBOUNCE);
        }
        if !watcher.armed() && watcher.ensure() {
            pending = Some(now);
        }
    }
}

/// One manifest file as last read.
struct Cached {
    bytes: Vec<u8>,
    /// `None` when broken (and already reported).
    pod: Option<Pod>,
    /// While broken: the pod of its last valid version, kept by reads after events.
    last_good: Option<Pod>,
}

/// Reads `staticPodPath` into pods, remembering each file's last content and result.
pub struct ManifestReader {
    path: PathBuf,
    node_name: String,
    files: HashMap<PathBuf, Cached>,
    /// The last problem reported per path (the top-level path or an entry), so each is
    /// logged once until it changes.
    problems: HashMap<PathBuf, String>,
    /// Whether the current read keeps the last valid pod of a file that broke.
    keep_last_good: bool,
}

impl ManifestReader {
    pub fn new(path: &Path, node_name: &str) -> ManifestReader {
        ManifestReader {
            path: path.to_path_buf(),
            node_name: node_name.to_string(),
            files: HashMap::new(),
            problems: HashMap::new(),
            keep_last_good: false,
        }
    }

    /// Like [`read`](Self::read), but a manifest that was valid and is now broken still
    /// yields its last valid pod, as upstream's watch path keeps it until the next periodic
    /// list: a half-written file seen through inotify does not remove a running pod.
    pub fn read_after_event(&mut self) -> Option<Vec<Pod>> {
        self.keep_last_good = true;
        let pods = self.read();
        self.keep_last_good = false;
        pods
    }

    /// The current pods, or `None` when nothing should be sent (upstream's error cases:
    /// the path is unreadable, neither a directory nor a file, or a broken single file).
    pub fn read(&mut self) -> Option<Vec<Pod>> {
        let top = self.path.clone();
        match fs::metadata(&top) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.report(&top, "path does not exist, no static pods".to_string());
                self.files.clear();
                Some(Vec::new())
            }
            Err(e) => {
                self.report(&top, format!("cannot read: {e}"));
                None
            }
            Ok(md) if md.is_dir() => {
                self.problems.remove(&top);
                Some(self.read_dir(&top))
            }
            Ok(md) if md.is_file() => {
                self.problems.remove(&top);
                self.files.retain(|p, _| *p == top);
                self.read_file(&top).map(|pod| vec![pod])
            }
            Ok(_) => {
                self.report(
                    &top,
                    "path is not a directory or a regular file".to_string(),
                );
                None
            }
        }
    }

    fn read_dir(&mut self, dir: &Path) -> Vec<Pod> {
        let mut paths: Vec<PathBuf> = match fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .filter(|e| !e.file_name().as_encoded_bytes().starts_with(b"."))
                .map(|e| e.path())
                .collect(),
            Err(e) => {
                self.report(dir, format!("cannot list directory: {e}"));
                Vec::new()
            }
        };
        paths.sort();
        self.files.retain(|p, _| paths.contains(p));
        self.problems.retain(|p, _| *p == *dir || paths.contains(p));
        let mut pods = Vec::with_capacity(paths.len());
        for path in paths {
            match fs::metadata(&path) {
                Ok(md) if md.is_file() => pods.extend(self.read_file(&path)),
                Ok(md) if md.is_dir() => {
                    self.report(&path, "is a directory; not recursing into it".to_string());
                }
                Ok(_) => self.report(&path, "is not a regular file; ignoring it".to_string()),
                // Gone since listed, or a dangling symlink.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => self.report(&path, format!("cannot stat: {e}")),
            }
        }
        pods
    }

    /// The pod of one manifest, re-parsed only if its bytes changed.
    fn read_file(&mut self, path: &Path) -> Option<Pod> {
        let bytes = match read_limited(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.files.remove(path);
                return None;
            }
            Err(e) => {
                self.files.remove(path);
                self.report(path, format!("cannot read: {e}"));
                return None;
            }
        };
        let previous = self.files.remove(path);
        let mut cached = match previous {
            Some(cached) if cached.bytes == bytes => cached,
            previous => {
                self.problems.remove(path);
                let pod = self.parse(path, &bytes);
                let last_good = match (&pod, previous) {
                    (Some(_), _) | (None, None) => None,
                    (None, Some(p)) => p.pod.or(p.last_good),
                };
                Cached {
                    bytes,
                    pod,
                    last_good,
                }
            }
        };
        let pod = match (&cached.pod, self.keep_last_good) {
            (Some(pod), _) => Some(pod.clone()),
            (None, true) => cached.last_good.clone(),
            (None, false) => {
                // Dropped by a periodic read: later event reads must not bring it back.
                cached.last_good = None;
                None
            }
        };
        self.files.insert(path.to_path_buf(), cached);
        pod
    }

    fn parse(&self, path: &Path, bytes: &[u8]) -> Option<Pod> {
        let location = path.to_string_lossy();
        let origin = Origin {
            source: Source::File,
            location: &location,
            node_name: &self.node_name,
        };
        match pod_from_manifest(bytes, &origin, SystemTime::now()) {
            Ok(pod) => {
                debug!(
                    "static pod manifest {location}: pod {} uid {}",
                    pod.metadata.name(),
                    pod.metadata.uid()
                );
                Some(pod)
            }
            Err(e) => {
                warn!("{e}; skipping this manifest");
                None
            }
        }
    }

    fn report(&mut self, path: &Path, problem: String) {
        if self.problems.get(path) != Some(&problem) {
            warn!("static pod path {}: {problem}", path.display());
            self.problems.insert(path.to_path_buf(), problem);
        }
    }
}

/// Reads a file of at most [`MAX_MANIFEST_BYTES`].
fn read_limited(path: &Path) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    let limit = u64::try_from(MAX_MANIFEST_BYTES).unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {MAX_MANIFEST_BYTES} bytes"),
        ));
    }
    Ok(bytes)
}
