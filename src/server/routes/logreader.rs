//! A reader of CRI container log files (`<RFC3339Nano> <stdout|stderr> <P|F> <text>`), as
//! upstream's `ReadLogs`: tail, since, byte limit, timestamps, follow (re-reading as the file
//! grows or is rotated, until the container stops or the client leaves).
//!
//! Stop-gap until the `logs` module's reader is wired in: the route calls [`read`] only.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use crate::api::MicroTime;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Skip lines older than this.
    pub since: Option<MicroTime>,
    /// Start this many lines before the end.
    pub tail: Option<u64>,
    /// Stop after this many bytes of output.
    pub limit: Option<u64>,
    pub follow: bool,
    /// Prefix each line with its timestamp.
    pub timestamps: bool,
}

/// How long a follower waits between looks at a file that has not grown.
const FOLLOW_POLL: Duration = Duration::from_millis(200);

/// One parsed line.
struct Line<'a> {
    timestamp: &'a [u8],
    partial: bool,
    text: &'a [u8],
}

fn field(rest: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = rest.iter().position(|&b| b == b' ')?;
    Some((rest.get(..i)?, rest.get(i + 1..)?))
}

fn parse(raw: &[u8]) -> Option<Line<'_>> {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let (timestamp, rest) = field(raw)?;
    let (stream, rest) = field(rest)?;
    if stream != b"stdout" && stream != b"stderr" {
        return None;
    }
    let (tag, text) = field(rest)?;
    let partial = tag.split(|&b| b == b':').next() == Some(b"P");
    Some(Line { timestamp, partial, text })
}

/// Where the last `n` lines of `file` begin.
fn tail_start(file: &mut File, n: u64) -> io::Result<u64> {
    let size = file.metadata()?.len();
    if n == 0 {
        return Ok(size);
    }
    let mut end = size;
    let mut seen = 0;
    let mut block = vec![0u8; 8192];
    while end > 0 {
        let len = usize::try_from(end.min(8192)).unwrap_or(8192);
        let start = end - len as u64;
        file.seek(SeekFrom::Start(start))?;
        let buf = block.get_mut(..len).unwrap_or_default();
        file.read_exact(buf)?;
        for (i, &b) in buf.iter().enumerate().rev() {
            let pos = start + i as u64;
            // The newline ending the file's last line does not start a line.
            if b == b'\n' && pos + 1 != size {
                seen += 1;
                if seen == n {
                    return Ok(pos + 1);
                }
            }
        }
        end = start;
    }
    Ok(0)
}

/// The writer side: the byte limit and the timestamp-at-line-start rule.
struct Output<'a, W: Write> {
    out: &'a mut W,
    opts: &'a ReadOptions,
    remaining: Option<u64>,
    at_line_start: bool,
}

impl<W: Write> Output<'_, W> {
    /// Writes one parsed line; `Ok(false)` once the byte limit is reached.
    fn line(&mut self, line: &Line<'_>) -> io::Result<bool> {
        if let Some(since) = self.opts.since {
            let t = std::str::from_utf8(line.timestamp).ok().and_then(|t| MicroTime::parse(t).ok());
            if t.is_some_and(|t| t < since) {
                return Ok(true);
            }
        }
        let mut bytes = Vec::with_capacity(line.text.len() + 40);
        if self.opts.timestamps && self.at_line_start {
            bytes.extend_from_slice(line.timestamp);
            bytes.push(b' ');
        }
        bytes.extend_from_slice(line.text);
        if !line.partial {
            bytes.push(b'\n');
        }
        self.at_line_start = !line.partial;
        if let Some(rem) = self.remaining {
            let cut = usize::try_from(rem).unwrap_or(usize::MAX).min(bytes.len());
            bytes.truncate(cut);
            self.remaining = Some(rem - cut as u64);
        }
        self.out.write_all(&bytes)?;
        Ok(self.remaining != Some(0))
    }
}

fn same_file(path: &Path, file: &File) -> bool {
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.ino() == b.ino() && a.dev() == b.dev(),
        // The path is gone for now (mid-rotation): keep reading what we have.
        _ => true,
    }
}

/// Streams the log at `path` into `out`. When following, `keep_following` is asked at
/// each pause whether to go on (the container still runs and the client is there).
pub fn read<W: Write>(path: &Path, opts: &ReadOptions, out: &mut W, keep_following: &mut dyn FnMut(&mut W) -> bool) -> io::Result<()> {
    let path = std::fs::canonicalize(path)?;
    let mut file = File::open(&path)?;
    let start = match opts.tail {
        Some(n) => tail_start(&mut file, n)?,
        None => 0,
    };
    file.seek(SeekFrom::Start(start))?;
    let mut reader = BufReader::new(file);
    let mut lines_left = opts.tail.filter(|_| !opts.follow);
    let mut output = Output { out, opts, remaining: opts.limit, at_line_start: true };
    let mut stopping = false;
    let mut raw = Vec::new();
    loop {
        if lines_left == Some(0) {
            return Ok(());
        }
        raw.clear();
        let n = reader.read_until(b'\n', &mut raw)?;
        let complete = raw.ends_with(b"\n");
        if !complete {
            if opts.follow && !stopping {
                // An incomplete last line is read again once the runtime finishes it.
                reader.seek_relative(-i64::try_from(n).unwrap_or(0))?;
                if !same_file(&path, reader.get_ref()) {
                    // Rotated: finish the old file, then go on with the new one.
                    drain(&mut reader, &mut output)?;
                    reader = BufReader::new(File::open(&path)?);
                    continue;
                }
                output.out.flush()?;
                if keep_following(output.out) {
                    std::thread::sleep(FOLLOW_POLL);
                } else {
                    // One more pass for what was written before the container stopped.
                    stopping = true;
                }
                continue;
            }
            if n == 0 {
                return Ok(());
            }
        }
        let Some(line) = parse(&raw) else {
            log::debug!("skipping a malformed line in {}", path.display());
            continue;
        };
        if !output.line(&line)? {
            return Ok(());
        }
        if let Some(left) = lines_left.as_mut() {
            *left -= 1;
        }
    }
}

fn drain<W: Write>(reader: &mut BufReader<File>, output: &mut Output<'_, W>) -> io::Result<()> {
    let mut raw = Vec::new();
    while reader.read_until(b'\n', &mut raw)? > 0 && raw.ends_with(b"\n") {
        if let Some(line) = parse(&raw)
            && !output.line(&line)?
        {
            return Ok(());
        }
        raw.clear();
    }
    Ok(())
}

#[cfg(test)]
#[path = "logreader_tests.rs"]
mod tests;
