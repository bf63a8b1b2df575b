use std::io::{Cursor, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::UNIX_EPOCH;

use super::*;
use crate::logs::testutil::TempDir;

const LOG: &str = "\
2024-05-01T10:00:01.000000000Z stdout F one
2024-05-01T10:00:02.000000000Z stderr F two
2024-05-01T10:00:03.000000000Z stdout P thr
2024-05-01T10:00:03.500000000Z stdout F ee
2024-05-01T10:00:04.000000000Z stdout F four
";

fn write_log(dir: &TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("0.log");
    std::fs::write(&path, text).expect("write log");
    path
}

/// Everything the reader yields, concatenated, with `S:`/`E:` markers for stream changes.
fn collect(path: &Path, opts: &ReadOptions) -> String {
    let reader = read(path, opts).expect("open");
    let mut out = String::new();
    for line in reader {
        let line = line.expect("line");
        out.push_str(&String::from_utf8_lossy(&line.bytes));
    }
    out
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn partial_lines_join() {
    let dir = TempDir::new("read-partial");
    let path = write_log(&dir, LOG);
    assert_eq!(collect(&path, &ReadOptions::default()), "one\ntwo\nthree\nfour\n");
    let mut reader = read(&path, &ReadOptions::default()).expect("open");
    let streams: Vec<Stream> = reader.by_ref().map(|l| l.expect("line").stream).collect();
    assert_eq!(streams, [Stream::Stdout, Stream::Stderr, Stream::Stdout, Stream::Stdout, Stream::Stdout]);
    assert!(matches!(reader.next_line(Duration::ZERO), Ok(Next::End)));
}

#[test]
fn timestamps_prefix_whole_lines_only() {
    let dir = TempDir::new("read-ts");
    let path = write_log(&dir, LOG);
    let opts = ReadOptions { timestamps: true, ..Default::default() };
    assert_eq!(
        collect(&path, &opts),
        "2024-05-01T10:00:01.000000000Z one\n2024-05-01T10:00:02.000000000Z two\n\
         2024-05-01T10:00:03.000000000Z three\n2024-05-01T10:00:04.000000000Z four\n"
    );
}

#[test]
fn tail_counts_file_lines() {
    let dir = TempDir::new("read-tail");
    let path = write_log(&dir, LOG);
    let tail = |n| collect(&path, &ReadOptions { tail_lines: Some(n), ..Default::default() });
    assert_eq!(tail(0), "");
    assert_eq!(tail(1), "four\n");
    // The partial line's second half is a line of the file, as upstream counts.
    assert_eq!(tail(2), "ee\nfour\n");
    assert_eq!(tail(3), "three\nfour\n");
    assert_eq!(tail(100), "one\ntwo\nthree\nfour\n");
    assert_eq!(tail(-1), "one\ntwo\nthree\nfour\n");
}

#[test]
fn tail_start_across_blocks() {
    let text: String = (0..3000).map(|i| format!("line {i}\n")).collect();
    let mut f = Cursor::new(text.clone().into_bytes());
    let start = tail_start(&mut f, 2).expect("tail") as usize;
    assert_eq!(&text[start..], "line 2998\nline 2999\n");
    let start = tail_start(&mut f, 2999).expect("tail") as usize;
    assert_eq!(&text[start..start + 7], "line 1\n");
    assert_eq!(tail_start(&mut f, 3000).expect("tail"), 0);
    let mut no_newline = Cursor::new(b"a\nb".to_vec());
    assert_eq!(tail_start(&mut no_newline, 0).expect("tail"), 2, "0 lines: the unfinished one stays");
    assert_eq!(tail_start(&mut no_newline, 1).expect("tail"), 0);
}

#[test]
fn since_skips_older_lines() {
    let dir = TempDir::new("read-since");
    let path = write_log(&dir, LOG);
    let t = Timestamp::parse("2024-05-01T10:00:02.5Z").expect("t").to_system_time();
    assert_eq!(collect(&path, &ReadOptions { since: Some(t), ..Default::default() }), "three\nfour\n");
    // sinceTime wins when later than sinceSeconds.
    assert_eq!(ReadOptions::since(Some(10), None, at(100)), Some(at(90)));
    assert_eq!(ReadOptions::since(Some(10), Some(at(95)), at(100)), Some(at(95)));
    assert_eq!(ReadOptions::since(Some(10), Some(at(50)), at(100)), Some(at(90)));
    assert_eq!(ReadOptions::since(None, Some(at(50)), at(100)), Some(at(50)));
    assert_eq!(ReadOptions::since(None, None, at(100)), None);
}

#[test]
fn limit_bytes_cuts_and_stops() {
    let dir = TempDir::new("read-limit");
    let path = write_log(&dir, LOG);
    let limit = |n| collect(&path, &ReadOptions { limit_bytes: Some(n), ..Default::default() });
    assert_eq!(limit(6), "one\ntw");
    assert_eq!(limit(4), "one\n");
    assert_eq!(limit(1000), "one\ntwo\nthree\nfour\n");
    let opts = ReadOptions { limit_bytes: Some(35), timestamps: true, ..Default::default() };
    assert_eq!(collect(&path, &opts), "2024-05-01T10:00:01.000000000Z one\n");
}

#[test]
fn broken_lines_are_skipped_and_an_unknown_format_is_an_error() {
    let dir = TempDir::new("read-broken");
    let path =
        write_log(&dir, "2024-05-01T10:00:01Z stdout F a\nnot a log line\n2024-05-01T10:00:02Z stdout F b");
    // The last line has no newline: read as it is when not following.
    assert_eq!(collect(&path, &ReadOptions::default()), "a\nb");
    let path = write_log(&dir, "plain text\n");
    let mut reader = read(&path, &ReadOptions::default()).expect("open");
    assert!(matches!(reader.next(), Some(Err(LogError::Format { .. }))));
    assert!(reader.next().is_none());
    assert!(matches!(
        read(&dir.path().join("missing.log"), &ReadOptions::default()),
        Err(LogError::Io { .. })
    ));
}

fn next_text(reader: &mut LogReader) -> String {
    match reader.next_line(Duration::from_secs(5)).expect("next") {
        Next::Line(l) => String::from_utf8_lossy(&l.bytes).into_owned(),
        other => panic!("expected a line, got {other:?}"),
    }
}

#[test]
fn follow_reads_growth_and_rotation_until_the_container_stops() {
    let dir = TempDir::new("read-follow");
    let path = write_log(&dir, "2024-05-01T10:00:01Z stdout F a\n2024-05-01T10:00:02Z stdout F b\n");
    let running = Arc::new(AtomicBool::new(true));
    let alive = running.clone();
    let opts = ReadOptions { follow: true, tail_lines: Some(1), ..Default::default() };
    let mut reader =
        read(&path, &opts).expect("open").with_liveness(Box::new(move || alive.load(Ordering::SeqCst)));
    assert_eq!(next_text(&mut reader), "b\n");
    assert_eq!(reader.next_line(Duration::from_millis(50)).expect("idle"), Next::Idle);

    let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("append");
    // Half a raw line is not a line yet.
    f.write_all(b"2024-05-01T10:00:03Z stdout F c").expect("write");
    assert_eq!(reader.next_line(Duration::from_millis(50)).expect("idle"), Next::Idle);
    f.write_all(b"\n").expect("write");
    assert_eq!(next_text(&mut reader), "c\n");

    // Rotation: rename, a last line into the old file, then the new file.
    std::fs::rename(&path, dir.path().join("0.log.20240501-100004")).expect("rotate");
    f.write_all(b"2024-05-01T10:00:04Z stdout F d\n").expect("write");
    std::fs::write(&path, "2024-05-01T10:00:05Z stdout F e\n").expect("reopen");
    assert_eq!(next_text(&mut reader), "d\n");
    assert_eq!(next_text(&mut reader), "e\n");

    // The container stops: what it wrote last is still read, then the end.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(b"2024-05-01T10:00:06Z stdout F f\n"))
        .expect("write");
    running.store(false, Ordering::SeqCst);
    std::thread::sleep(ALIVE_CHECK);
    assert_eq!(next_text(&mut reader), "f\n");
    assert_eq!(reader.next_line(Duration::from_secs(5)).expect("end"), Next::End);
}
