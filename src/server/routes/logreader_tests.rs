use std::io::Write;
use std::path::PathBuf;

use super::*;

const LOG: &str = "2024-05-01T10:00:01.000000001Z stdout F one\n\
2024-05-01T10:00:02.5Z stderr F two\n\
not a cri line\n\
2024-05-01T10:00:03Z stdout P thr\n\
2024-05-01T10:00:03.1Z stdout F ee\n\
2024-05-01T10:00:04Z stdout F four\n";

fn scratch(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rk-logreader-{}-{name}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("0.log");
    std::fs::write(&path, content).unwrap_or_default();
    path
}

fn read_all(content: &str, opts: ReadOptions) -> String {
    let path = scratch(&format!("{:?}{:?}{:?}{}", opts.tail, opts.limit, opts.since, opts.timestamps), content);
    let mut out = Vec::new();
    let result = read(&path, &opts, &mut out, &mut |_| false);
    assert!(result.is_ok(), "{result:?}");
    let _ = std::fs::remove_dir_all(path.parent().unwrap_or(&path));
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn whole_file_joins_partial_lines_and_skips_junk() {
    assert_eq!(read_all(LOG, ReadOptions::default()), "one\ntwo\nthree\nfour\n");
}

#[test]
fn timestamps_prefix_each_line_once() {
    let got = read_all(LOG, ReadOptions { timestamps: true, ..Default::default() });
    assert_eq!(
        got,
        "2024-05-01T10:00:01.000000001Z one\n2024-05-01T10:00:02.5Z two\n2024-05-01T10:00:03Z three\n2024-05-01T10:00:04Z four\n"
    );
}

#[test]
fn tail_counts_file_lines_from_the_end() {
    let tail = |n| read_all(LOG, ReadOptions { tail: Some(n), ..Default::default() });
    assert_eq!(tail(0), "");
    assert_eq!(tail(1), "four\n");
    assert_eq!(tail(3), "three\nfour\n");
    assert_eq!(tail(100), "one\ntwo\nthree\nfour\n");
    // A long file: the backwards scan crosses block boundaries.
    let long: String = (0..3000).map(|i| format!("2024-05-01T10:00:00Z stdout F line {i}\n")).collect();
    assert_eq!(read_all(&long, ReadOptions { tail: Some(2), ..Default::default() }), "line 2998\nline 2999\n");
}

#[test]
fn since_and_limit() {
    let since = MicroTime::parse("2024-05-01T10:00:02.5Z").ok();
    assert_eq!(read_all(LOG, ReadOptions { since, ..Default::default() }), "two\nthree\nfour\n");
    assert_eq!(read_all(LOG, ReadOptions { limit: Some(6), ..Default::default() }), "one\ntw");
    assert_eq!(read_all(LOG, ReadOptions { limit: Some(4), ..Default::default() }), "one\n");
}

#[test]
fn follow_sees_new_lines_until_told_to_stop() {
    let path = scratch("follow", "2024-05-01T10:00:01Z stdout F first\n2024-05-01T10:00:02Z stdout F hal");
    let opts = ReadOptions { follow: true, ..Default::default() };
    let mut out = Vec::new();
    let mut pauses = 0;
    let writer_path = path.clone();
    let result = read(&path, &opts, &mut out, &mut |_| {
        pauses += 1;
        match pauses {
            1 => {
                // The runtime finishes the half line and writes another.
                let mut f = std::fs::OpenOptions::new().append(true).open(&writer_path).expect("open");
                let _ = f.write_all(b"f\n2024-05-01T10:00:03Z stderr F second\n");
                true
            }
            2 => {
                // Rotated: the old file moves away, a new one takes its name.
                let _ = std::fs::rename(&writer_path, writer_path.with_extension("log.1"));
                let _ = std::fs::write(&writer_path, "2024-05-01T10:00:04Z stdout F after rotation\n");
                true
            }
            _ => false,
        }
    });
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(String::from_utf8_lossy(&out), "first\nhalf\nsecond\nafter rotation\n");
    let _ = std::fs::remove_dir_all(path.parent().unwrap_or(&path));
}
