//! Reading a container's log file as `kubectl logs` sees it (upstream's `ReadLogs`): tail,
//! since, limitBytes, timestamps and follow.
//!
//! ```text
//!  open ─► seek to the start of the last `tail` lines ─► read a line ─► parse ─► since? ─► LogLine
//!                                                          │ end of file
//!                          not following: End ◄────────────┤
//!                          following: container stopped ─► read what is left, then End
//!                                     file replaced (rotation) ─► continue in the new file
//!                                     else wait for inotify or 1 s (Idle after `wait`)
//! ```
//!
//! Each raw file line yields at most one [`LogLine`]; a partial (`P`) line has no `\n` and
//! the line that continues it gets no timestamp prefix, so writing the lines one after the
//! other joins them, as upstream writes them.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::LogError;
use super::format::{Format, Stream, Timestamp};
use super::watch::DirWatch;

/// A raw line longer than this is cut: the runtime splits long lines far below it.
const MAX_RAW_LINE: u64 = 1024 * 1024;
/// How often a follower asks whether the container still runs.
const ALIVE_CHECK: Duration = Duration::from_secs(1);
/// The longest a follower waits before looking again (upstream's forced check period).
const FORCE_CHECK: Duration = Duration::from_secs(1);
/// How long the old file is still read after a rotation (its writer moves over just after
/// creating the new file).
const ROTATION_DRAIN: Duration = Duration::from_millis(250);

/// What to read (upstream's `LogOptions`, from the API's `PodLogOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Only the last N lines of the file (`tailLines`); negative or `None`: all.
    pub tail_lines: Option<i64>,
    /// Stop after this many bytes (`limitBytes`).
    pub limit_bytes: Option<i64>,
    /// Skip lines written before this time (see [`ReadOptions::since`]).
    pub since: Option<SystemTime>,
    /// Prefix each line with its RFC 3339 time and a space (`timestamps`).
    pub timestamps: bool,
    /// Keep reading as the file grows, across rotations, until the container stops.
    pub follow: bool,
}

impl ReadOptions {
    /// The `since` of a request, as upstream derives it: `sinceSeconds` back from `now`, or
    /// `sinceTime` when that is later.
    pub fn since(
        since_seconds: Option<i64>,
        since_time: Option<SystemTime>,
        now: SystemTime,
    ) -> Option<SystemTime> {
        let from_seconds = since_seconds
            .map(|s| now.checked_sub(Duration::from_secs(s.max(0).unsigned_abs())).unwrap_or(now));
        match (from_seconds, since_time) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
}

/// One piece of output: what to write, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub stream: Stream,
    pub timestamp: Timestamp,
    /// The bytes to send: the optional timestamp prefix and the content, cut at `limitBytes`.
    pub bytes: Vec<u8>,
}

/// What [`LogReader::next_line`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    Line(LogLine),
    /// Following, and nothing new within the wait: a caller can check its client and call again.
    Idle,
    /// Nothing more will come.
    End,
}

/// Answers whether the container still runs (a follower stops after it does not).
pub type Liveness = Box<dyn FnMut() -> bool + Send>;

/// A log file being read; see [`read`].
pub struct LogReader {
    path: PathBuf,
    file: BufReader<File>,
    /// Device and inode of the open file, to notice a rotation.
    id: (u64, u64),
    opts: ReadOptions,
    format: Option<Format>,
    remain: i64,
    /// Lines left to read in tail mode without follow.
    left: Option<i64>,
    new_line: bool,
    raw: Vec<u8>,
    done: bool,
    watch: Option<DirWatch>,
    alive: Option<Liveness>,
    alive_checked: Option<Instant>,
    /// The container stopped: read to the end once more, then stop.
    draining: bool,
    /// When the path was first seen naming a new file: the old one is read until
    /// [`ROTATION_DRAIN`] after that, then the reader switches.
    rotation_seen: Option<Instant>,
}

/// Opens a container log file (symlinks resolved) for reading with `opts`.
pub fn read(path: &Path, opts: &ReadOptions) -> Result<LogReader, LogError> {
    let io = |op: &'static str| move |error| LogError::Io { op, path: path.to_path_buf(), error };
    let path = std::fs::canonicalize(path).map_err(io("resolve"))?;
    let mut file = File::open(&path).map_err(io("open"))?;
    let meta = file.metadata().map_err(io("stat"))?;
    let tail = opts.tail_lines.unwrap_or(-1);
    let start = tail_start(&mut file, tail).map_err(io("tail"))?;
    file.seek(SeekFrom::Start(start)).map_err(io("seek"))?;
    Ok(LogReader {
        path,
        file: BufReader::new(file),
        id: (meta.dev(), meta.ino()),
        opts: opts.clone(),
        format: None,
        remain: opts.limit_bytes.unwrap_or(i64::MAX),
        left: opts.tail_lines.filter(|_| !opts.follow),
        new_line: true,
        raw: Vec::new(),
        done: false,
        watch: None,
        alive: None,
        alive_checked: None,
        draining: false,
        rotation_seen: None,
    })
}

/// Where the last `n` lines of `f` start: just after the `n+1`-th newline from the end
/// (so that `n` newlines follow), or 0. Negative `n`: 0.
pub(crate) fn tail_start<F: Read + Seek>(f: &mut F, n: i64) -> std::io::Result<u64> {
    let Ok(n) = u64::try_from(n) else { return Ok(0) };
    const BLOCK: u64 = 4096;
    let mut right = f.seek(SeekFrom::End(0))?;
    let mut seen = 0u64;
    let mut buf = vec![0u8; 4096];
    while right > 0 {
        let left = right.saturating_sub(BLOCK);
        let len = usize::try_from(right - left).unwrap_or(4096);
        f.seek(SeekFrom::Start(left))?;
        f.read_exact(&mut buf[..len])?;
        for (i, &b) in buf[..len].iter().enumerate().rev() {
            if b == b'\n' {
                seen += 1;
                if seen > n {
                    return Ok(left + i as u64 + 1);
                }
            }
        }
        right = left;
    }
    Ok(0)
}

impl LogReader {
    /// Stop following once `alive` says the container no longer runs (upstream asks the
    /// runtime's ContainerStatus). Without it a follower follows until dropped.
    pub fn with_liveness(mut self, alive: Liveness) -> LogReader {
        self.alive = Some(alive);
        self
    }

    /// The next line; when following at the end of the file, waits up to `wait` for one.
    pub fn next_line(&mut self, wait: Duration) -> Result<Next, LogError> {
        let deadline = Instant::now() + wait;
        loop {
            if self.done || self.left == Some(0) {
                return Ok(Next::End);
            }
            if let Some(raw) = self.read_raw()? {
                if let Some(line) = self.process(&raw)? {
                    return Ok(Next::Line(line));
                }
                continue;
            }
            // End of file, `self.raw` holds what there is of an unfinished line.
            if !self.opts.follow {
                self.done = true;
                if self.raw.is_empty() {
                    return Ok(Next::End);
                }
                log::debug!("incomplete last line in {}", self.path.display());
                let raw = std::mem::take(&mut self.raw);
                return Ok(self.process(&raw)?.map_or(Next::End, Next::Line));
            }
            if self.draining {
                self.done = true;
                return Ok(Next::End);
            }
            if self.container_stopped() {
                self.draining = true;
                continue;
            }
            if self.reopen_if_rotated()? {
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Next::Idle);
            }
            let dir = self.path.parent().unwrap_or(Path::new("/"));
            self.watch.get_or_insert_with(|| DirWatch::new(dir)).wait((deadline - now).min(FORCE_CHECK));
        }
    }

    /// A whole raw line (with its `\n`), or `None` at the end of the file.
    fn read_raw(&mut self) -> Result<Option<Vec<u8>>, LogError> {
        let room = MAX_RAW_LINE.saturating_sub(self.raw.len() as u64);
        let mut limited = (&mut self.file).take(room);
        limited.read_until(b'\n', &mut self.raw).map_err(|error| LogError::Io {
            op: "read",
            path: self.path.clone(),
            error,
        })?;
        if self.raw.ends_with(b"\n") || self.raw.len() as u64 >= MAX_RAW_LINE {
            return Ok(Some(std::mem::take(&mut self.raw)));
        }
        Ok(None)
    }

    fn container_stopped(&mut self) -> bool {
        let Some(alive) = self.alive.as_mut() else { return false };
        if self.alive_checked.is_some_and(|t| t.elapsed() < ALIVE_CHECK) {
            return false;
        }
        self.alive_checked = Some(Instant::now());
        !alive()
    }

    /// After a rotation the path names a new file: continue there, from its start. The old
    /// file is read to its end once more first: the runtime writes to it until it reopens.
    fn reopen_if_rotated(&mut self) -> Result<bool, LogError> {
        let Ok(meta) = std::fs::metadata(&self.path) else { return Ok(false) };
        if (meta.dev(), meta.ino()) == self.id {
            return Ok(false);
        }
        // The runtime creates the new file before it stops writing to the old one: keep
        // draining the old file for a moment after the new one appears.
        match self.rotation_seen {
            None => {
                self.rotation_seen = Some(Instant::now());
                return Ok(true);
            }
            Some(seen) if seen.elapsed() < ROTATION_DRAIN => return Ok(false),
            Some(_) => {}
        }
        self.rotation_seen = None;
        let Ok(file) = File::open(&self.path) else { return Ok(false) };
        let meta =
            file.metadata().map_err(|error| LogError::Io { op: "stat", path: self.path.clone(), error })?;
        log::debug!("{} was rotated; following the new file", self.path.display());
        self.id = (meta.dev(), meta.ino());
        self.file = BufReader::new(file);
        self.raw.clear();
        Ok(true)
    }

    /// Upstream's `logWriter.write` for one raw line; `None` when it shows nothing.
    fn process(&mut self, raw: &[u8]) -> Result<Option<LogLine>, LogError> {
        let format = match self.format {
            Some(f) => f,
            None => {
                let f = Format::detect(raw).ok_or_else(|| LogError::Format {
                    path: self.path.clone(),
                    line: String::from_utf8_lossy(&raw[..raw.len().min(100)]).into_owned(),
                })?;
                *self.format.insert(f)
            }
        };
        let msg = match format.parse(raw) {
            Ok(m) => m,
            Err(e) => {
                log::warn!("skipping a line of {}: {e}", self.path.display());
                return Ok(None);
            }
        };
        if let Some(left) = self.left.as_mut() {
            *left -= 1;
        }
        let prefix = self.opts.timestamps && self.new_line;
        self.new_line = msg.content.last().is_none_or(|&b| b == b'\n');
        if self.opts.since.is_some_and(|since| msg.timestamp.before(since)) {
            return Ok(None);
        }
        let mut bytes = if prefix { format!("{} ", msg.timestamp).into_bytes() } else { Vec::new() };
        bytes.extend_from_slice(&msg.content);
        bytes.truncate(usize::try_from(self.remain.max(0)).unwrap_or(usize::MAX));
        self.remain -= i64::try_from(bytes.len()).unwrap_or(i64::MAX);
        if self.remain <= 0 {
            self.done = true;
        }
        if bytes.is_empty() {
            return Ok(None);
        }
        Ok(Some(LogLine { stream: msg.stream, timestamp: msg.timestamp, bytes }))
    }
}

/// Blocks until the next line or the end (a follower may block for long).
impl Iterator for LogReader {
    type Item = Result<LogLine, LogError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.next_line(Duration::from_secs(3600)) {
                Ok(Next::Line(l)) => return Some(Ok(l)),
                Ok(Next::Idle) => continue,
                Ok(Next::End) => return None,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
