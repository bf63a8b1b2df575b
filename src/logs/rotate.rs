//! Rotating one container log file, as upstream's container log manager does.
//!
//! For `0.log` with `containerLogMaxFiles` N:
//! ```text
//!  0.log.20240501-100000.gz   older rotations, compressed   ┐ at most N-2 kept before
//!  0.log.20240501-100500.gz                                 ┘ the next rotation
//!  0.log.20240501-101000      the newest rotation, plain (the runtime may still be writing it)
//!  0.log                      the file the runtime writes
//! ```
//! A rotation: drop leftovers (`*.tmp`, a plain file whose `.gz` exists), remove the oldest
//! rotated files beyond N-2, compress the plain rotated ones, rename `0.log` to
//! `0.log.<local time>` and ask the runtime to reopen (ReopenContainerLog); when that fails
//! the rename is undone. So at most N files exist after each rotation.

use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::LogError;
use super::gzip::GzipWriter;

const GZ: &str = ".gz";
const TMP: &str = ".tmp";

/// When and how far to rotate (containerLogMaxSize, containerLogMaxFiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub max_size: u64,
    /// At least 2 (the current file and the newest rotation).
    pub max_files: usize,
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> LogError + 'a {
    move |error| LogError::Io { op, path: path.to_path_buf(), error }
}

/// `20060102-150405` in the node's local time, as upstream names rotated files.
pub fn rotation_stamp(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let secs = libc::time_t::try_from(secs).unwrap_or(0);
    // SAFETY: tm is plain old data; all zeroes is a valid value.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; localtime_r is thread-safe.
    if unsafe { libc::localtime_r(&secs, &mut tm) }.is_null() {
        return "19700101-000000".to_string();
    }
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec
    )
}

/// Rotates `log` when it reached `policy.max_size`; `reopen` asks the runtime to reopen the
/// container's log (also when the file is missing, as upstream does). True when rotated.
pub fn rotate_if_needed(
    log: &Path,
    policy: Policy,
    stamp: &str,
    reopen: &mut dyn FnMut() -> Result<(), LogError>,
) -> Result<bool, LogError> {
    let size = match fs::metadata(log) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            reopen()?;
            fs::metadata(log).map_err(io_err("stat", log))?.len()
        }
        Err(e) => return Err(io_err("stat", log)(e)),
    };
    if size < policy.max_size {
        return Ok(false);
    }
    rotate(log, policy.max_files, stamp, reopen)
}

/// The rotated files of `log` (`<log>.*`), sorted by name, so oldest first.
fn rotated_files(log: &Path) -> Result<Vec<PathBuf>, LogError> {
    let dir = log.parent().unwrap_or(Path::new("."));
    let prefix = format!("{}.", log.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(io_err("list", dir))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    out.sort();
    Ok(out)
}

fn has_suffix(p: &Path, suffix: &str) -> bool {
    p.as_os_str().to_string_lossy().ends_with(suffix)
}

fn with_suffix(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn remove(p: &Path) -> Result<(), LogError> {
    match fs::remove_file(p) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err("remove", p)(e)),
        _ => Ok(()),
    }
}

/// Rotates `log` now (see the module docs). A second rotation within the same second would
/// take the name of the first: it waits for the next check instead (false).
pub fn rotate(
    log: &Path,
    max_files: usize,
    stamp: &str,
    reopen: &mut dyn FnMut() -> Result<(), LogError>,
) -> Result<bool, LogError> {
    let rotated = with_suffix(log, &format!(".{stamp}"));
    if rotated.exists() || with_suffix(&rotated, GZ).exists() {
        log::debug!("{} exists: rotating {} later", rotated.display(), log.display());
        return Ok(false);
    }
    let all = rotated_files(log)?;
    // Leftovers of an interrupted compression.
    let (unused, mut kept): (Vec<PathBuf>, Vec<PathBuf>) = all
        .iter()
        .cloned()
        .partition(|p| has_suffix(p, TMP) || (!has_suffix(p, GZ) && all.contains(&with_suffix(p, GZ))));
    for p in &unused {
        remove(p)?;
    }
    let excess = kept.len().saturating_sub(max_files.saturating_sub(2));
    for p in kept.drain(..excess) {
        log::debug!("removing old rotated log {}", p.display());
        remove(&p)?;
    }
    for p in kept.iter().filter(|p| !has_suffix(p, GZ)) {
        compress(p)?;
    }
    fs::rename(log, &rotated).map_err(io_err("rename", log))?;
    if let Err(e) = reopen() {
        if let Err(undo) = fs::rename(&rotated, log) {
            log::error!("cannot rename {} back to {}: {undo}", rotated.display(), log.display());
        }
        return Err(e);
    }
    Ok(true)
}

/// Replaces `p` by `p.gz` (through `p.tmp`, so a crash leaves no half `.gz`).
pub fn compress(p: &Path) -> Result<(), LogError> {
    let tmp = with_suffix(p, TMP);
    let result = (|| {
        let mut input = File::open(p).map_err(io_err("open", p))?;
        let perms = input.metadata().map_err(io_err("stat", p))?.permissions();
        let out = File::create(&tmp).map_err(io_err("create", &tmp))?;
        out.set_permissions(perms).map_err(io_err("chmod", &tmp))?;
        let mut gz = GzipWriter::new(BufWriter::new(out)).map_err(io_err("write", &tmp))?;
        io::copy(&mut input, &mut gz).map_err(io_err("compress", p))?;
        let out = gz.finish().map_err(io_err("write", &tmp))?;
        out.into_inner()
            .map_err(|e| io_err("write", &tmp)(e.into_error()))?
            .sync_all()
            .map_err(io_err("sync", &tmp))?;
        let gz_path = with_suffix(p, GZ);
        fs::rename(&tmp, &gz_path).map_err(io_err("rename", &tmp))?;
        remove(p)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::testutil::TempDir;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// A fake runtime: reopening creates the log file anew.
    fn reopener(log: &Path) -> impl FnMut() -> Result<(), LogError> + '_ {
        move || fs::write(log, b"").map_err(io_err("create", log))
    }

    #[test]
    fn stamp_shape() {
        let s = rotation_stamp(SystemTime::now());
        assert_eq!(s.len(), 15);
        assert!(
            s.chars().enumerate().all(|(i, c)| if i == 8 { c == '-' } else { c.is_ascii_digit() }),
            "{s}"
        );
    }

    #[test]
    fn rotations_keep_at_most_max_files() {
        let dir = TempDir::new("rotate");
        let log = dir.path().join("0.log");
        let mut reopen = reopener(&log);
        fs::write(&log, b"x").expect("log");
        fs::write(dir.path().join("1.log"), b"other container instance").expect("other");
        let policy = Policy { max_size: 10, max_files: 3 };
        assert!(!rotate_if_needed(&log, policy, "20240501-100000", &mut reopen).expect("small"));
        for (i, stamp) in
            ["20240501-100000", "20240501-100010", "20240501-100020", "20240501-100030"].iter().enumerate()
        {
            fs::write(&log, format!("2024-05-01T10:00:00Z stdout F rotation {i} {}\n", "y".repeat(20)))
                .expect("fill");
            assert!(rotate_if_needed(&log, policy, stamp, &mut reopen).expect("rotate"));
        }
        assert_eq!(
            names(dir.path()),
            ["0.log", "0.log.20240501-100020.gz", "0.log.20240501-100030", "1.log"],
            "current + one compressed + the newest plain = 3"
        );
        let plain = fs::read_to_string(dir.path().join("0.log.20240501-100030")).expect("plain");
        assert!(plain.contains("rotation 3"));
        assert_eq!(fs::read(&log).expect("reopened"), b"");
    }

    #[test]
    fn two_files_keep_no_compressed_ones() {
        let dir = TempDir::new("rotate-two");
        let log = dir.path().join("0.log");
        let mut reopen = reopener(&log);
        for stamp in ["20240501-100000", "20240501-100010"] {
            fs::write(&log, b"data").expect("fill");
            assert!(rotate(&log, 2, stamp, &mut reopen).expect("rotate"));
        }
        assert_eq!(names(dir.path()), ["0.log", "0.log.20240501-100010"]);
        // Twice in the same second: the second waits.
        fs::write(&log, b"more").expect("fill");
        assert!(!rotate(&log, 2, "20240501-100010", &mut reopen).expect("same second"));
        assert_eq!(fs::read(&log).expect("log"), b"more");
        assert_eq!(names(dir.path()), ["0.log", "0.log.20240501-100010"]);
    }

    #[test]
    fn leftovers_are_cleaned_and_a_missing_log_is_reopened() {
        let dir = TempDir::new("rotate-leftovers");
        let log = dir.path().join("0.log");
        for name in ["0.log.20240501-090000", "0.log.20240501-090000.gz", "0.log.20240501-091000.tmp"] {
            fs::write(dir.path().join(name), b"old").expect("leftover");
        }
        let mut reopened = 0;
        let mut reopen = || {
            reopened += 1;
            fs::write(&log, b"0123456789").map_err(io_err("create", &log))
        };
        let policy = Policy { max_size: 5, max_files: 5 };
        assert!(rotate_if_needed(&log, policy, "20240501-100000", &mut reopen).expect("rotate"));
        assert_eq!(reopened, 2, "once for the missing file, once after the rename");
        assert_eq!(names(dir.path()), ["0.log", "0.log.20240501-090000.gz", "0.log.20240501-100000"]);
    }

    #[test]
    fn a_failed_reopen_undoes_the_rename() {
        let dir = TempDir::new("rotate-fail");
        let log = dir.path().join("0.log");
        fs::write(&log, b"keep me").expect("log");
        let mut reopen = || {
            Err(LogError::Io {
                op: "reopen",
                path: PathBuf::from("0.log"),
                error: io::Error::other("runtime down"),
            })
        };
        assert!(rotate(&log, 5, "20240501-100000", &mut reopen).is_err());
        assert_eq!(names(dir.path()), ["0.log"]);
        assert_eq!(fs::read(&log).expect("log"), b"keep me");
    }

    #[test]
    fn compressed_files_hold_the_log() {
        let dir = TempDir::new("rotate-gz");
        let p = dir.path().join("0.log.20240501-100000");
        let text = "2024-05-01T10:00:00Z stdout F hello\n".repeat(1000);
        fs::write(&p, &text).expect("log");
        compress(&p).expect("compress");
        let gz = dir.path().join("0.log.20240501-100000.gz");
        assert!(!p.exists() && gz.exists());
        let len = fs::metadata(&gz).expect("gz").len();
        assert!(len * 10 < text.len() as u64, "{len} bytes");
        match std::process::Command::new("gzip").arg("-dc").arg(&gz).output() {
            Ok(out) => assert!(out.status.success() && out.stdout == text.as_bytes(), "gzip -dc disagrees"),
            Err(_) => println!("SKIPPED: no gzip binary to check the output with"),
        }
    }
}
