//! Termination messages of exited containers, as upstream reads them: the host file mounted
//! at `terminationMessagePath` (at most 4 KiB, its end), or with `FallbackToLogsOnError` and a
//! failure, the end of the container's log (80 lines, at most 2 KiB of their text).
//!
//! Container logs are in the CRI format, one line per chunk:
//! `2016-10-06T00:17:09.669794202Z stdout F the text` (`P` marks a partial line whose text
//! goes on in the next chunk); `logs::format` parses them.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use crate::cri;
use crate::logs::format::Format;

/// Upstream's `MaxContainerTerminationMessageLength`.
pub const MAX_MESSAGE_BYTES: u64 = 4 * 1024;
/// Upstream's `MaxContainerTerminationMessageLogLength` and `...LogLines`.
pub const MAX_LOG_BYTES: usize = 2 * 1024;
pub const MAX_LOG_LINES: usize = 80;
/// How far back from the end of a log we look for those lines.
const MAX_LOG_SCAN: u64 = 2 * 1024 * 1024;

/// The end of a file: its last `max` bytes.
fn read_at_most(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let mut f = File::open(path)?;
    let len = f.metadata()?.len();
    if len > max {
        f.seek(SeekFrom::Start(len - max))?;
    }
    let mut buf = Vec::new();
    f.take(max).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The termination message of an exited container, or `""`.
///
/// `path`/`policy` are the container's `terminationMessagePath`/`Policy` (read back from its
/// annotations); the message file is found through the container's mounts.
pub fn termination_message(status: &cri::ContainerStatus, path: &str, policy: &str) -> String {
    let fallback =
        policy == "FallbackToLogsOnError" && status.exit_code != 0 && status.reason != "ContainerCannotRun";
    let (message, check_logs) = from_file(status, path, fallback);
    if check_logs { from_logs(Path::new(&status.log_path)) } else { message }
}

fn from_file(status: &cri::ContainerStatus, path: &str, fallback: bool) -> (String, bool) {
    if path.is_empty() {
        return (String::new(), fallback);
    }
    let Some(mount) = status.mounts.iter().find(|m| m.container_path == path) else {
        return (String::new(), fallback);
    };
    match read_at_most(Path::new(&mount.host_path), MAX_MESSAGE_BYTES) {
        Ok(data) => {
            let empty = data.is_empty();
            (String::from_utf8_lossy(&data).into_owned(), fallback && empty)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => (String::new(), fallback),
        Err(e) => (format!("Error on reading termination log {}: {e}", mount.host_path), false),
    }
}

fn from_logs(path: &Path) -> String {
    match tail_cri_log(path, MAX_LOG_LINES, MAX_LOG_BYTES) {
        Ok(text) => text,
        Err(e) => format!("Error on reading termination message from logs: {e}"),
    }
}

/// The text of the last `lines` lines of a CRI-format log, keeping at most its last `bytes`
/// bytes. Full lines end in a newline, partial chunks do not.
pub fn tail_cri_log(path: &Path, lines: usize, bytes: usize) -> io::Result<String> {
    let raw = read_at_most(path, MAX_LOG_SCAN)?;
    let mut all: Vec<&[u8]> = raw.split(|b| *b == b'\n').collect();
    if all.last().is_some_and(|l| l.is_empty()) {
        all.pop();
    }
    let start = all.len().saturating_sub(lines);
    let mut out = Vec::new();
    for line in all.get(start..).unwrap_or_default() {
        // The logs parser takes the line with its newline: a full line's content keeps it, a
        // partial one's does not.
        if let Ok(message) = Format::Cri.parse(&[line, &b"\n"[..]].concat()) {
            out.extend_from_slice(&message.content);
        }
    }
    let keep = out.len().saturating_sub(bytes);
    Ok(String::from_utf8_lossy(out.get(keep..).unwrap_or_default()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch directory removed when dropped.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(test: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!("rk-term-{}-{test}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("tmp dir");
            Scratch(dir)
        }

        fn file(&self, name: &str, content: &[u8]) -> std::path::PathBuf {
            let p = self.0.join(name);
            std::fs::write(&p, content).expect("write");
            p
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn status(exit_code: i32, mount_to: Option<&Path>, log: &Path) -> cri::ContainerStatus {
        cri::ContainerStatus {
            exit_code,
            mounts: mount_to
                .map(|p| cri::Mount {
                    container_path: "/dev/termination-log".into(),
                    host_path: p.to_string_lossy().into_owned(),
                    ..Default::default()
                })
                .into_iter()
                .collect(),
            log_path: log.to_string_lossy().into_owned(),
            ..Default::default()
        }
    }

    const LOG: &[u8] = b"2024-01-01T00:00:00.1Z stdout F hello\n\
        2024-01-01T00:00:00.2Z stderr P par\n\
        2024-01-01T00:00:00.3Z stderr F tial\n\
        garbage line\n\
        2024-01-01T00:00:00.4Z stdout F bye\n";

    #[test]
    fn cri_log_tail_joins_partial_lines() {
        let scratch = Scratch::new("tail");
        let p = scratch.file("log", LOG);
        assert_eq!(tail_cri_log(&p, 80, 2048).expect("read"), "hello\npartial\nbye\n");
        assert_eq!(tail_cri_log(&p, 2, 2048).expect("read"), "bye\n");
        assert_eq!(tail_cri_log(&p, 80, 6).expect("read"), "l\nbye\n");
    }

    #[test]
    fn message_from_the_file_or_the_logs() {
        let scratch = Scratch::new("message");
        let log = scratch.file("log", LOG);
        let file = scratch.file("msg", b"all done");
        let empty = scratch.file("empty", b"");
        let path = "/dev/termination-log";
        assert_eq!(termination_message(&status(0, Some(&file), &log), path, "File"), "all done");
        // FallbackToLogsOnError: only for failures, and only when the file says nothing.
        assert_eq!(
            termination_message(&status(1, Some(&file), &log), path, "FallbackToLogsOnError"),
            "all done"
        );
        assert_eq!(
            termination_message(&status(1, Some(&empty), &log), path, "FallbackToLogsOnError"),
            "hello\npartial\nbye\n"
        );
        assert_eq!(termination_message(&status(0, Some(&empty), &log), path, "FallbackToLogsOnError"), "");
        assert_eq!(
            termination_message(&status(1, None, &log), "", "FallbackToLogsOnError"),
            "hello\npartial\nbye\n"
        );
        let gone = Path::new("/nonexistent/rk/term");
        assert_eq!(termination_message(&status(0, Some(gone), &log), path, "File"), "");
        let missing_log = termination_message(&status(1, None, gone), "", "FallbackToLogsOnError");
        assert!(missing_log.starts_with("Error on reading termination message from logs: "), "{missing_log}");
    }

    #[test]
    fn long_messages_keep_their_end() {
        let mut big = vec![b'a'; 5000];
        big.extend_from_slice(b"END");
        let scratch = Scratch::new("long");
        let file = scratch.file("big", &big);
        let m = termination_message(&status(0, Some(&file), Path::new("")), "/dev/termination-log", "File");
        assert_eq!(m.len(), 4096);
        assert!(m.ends_with("END"));
    }
}
