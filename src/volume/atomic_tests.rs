use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use super::*;
use crate::volume::testutil::Scratch;

fn file(data: &str, mode: u32) -> FileProjection {
    FileProjection { data: data.as_bytes().to_vec(), mode, fs_user: None }
}

fn payload(entries: &[(&str, &str)]) -> Payload {
    entries.iter().map(|(k, v)| (k.to_string(), file(v, 0o644))).collect()
}

/// The names a reader sees at the top of the volume (not the `..` internals).
fn visible(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read volume")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with(".."))
        .collect();
    names.sort();
    names
}

fn read(dir: &Path, path: &str) -> Option<String> {
    fs::read_to_string(dir.join(path)).ok()
}

fn internals(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read volume")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".."))
        .collect();
    names.sort();
    names
}

#[test]
fn first_write_lays_out_data_dir_and_links() {
    let s = Scratch::new("aw-first");
    let w = AtomicWriter::new(s.path()).expect("writer");
    w.write(&payload(&[("a", "1"), ("dir/b", "2")]), None).expect("write");
    assert_eq!(visible(s.path()), ["a", "dir"]);
    assert_eq!(fs::read_link(s.path().join("a")).expect("link"), Path::new("..data/a"));
    assert_eq!(fs::read_link(s.path().join("dir")).expect("link"), Path::new("..data/dir"));
    let ts = fs::read_link(s.path().join(DATA_DIR)).expect("..data");
    let ts = ts.to_string_lossy();
    // ..YYYY_MM_DD_HH_MM_SS.<digits>
    assert!(ts.starts_with("..") && ts.len() > 22, "{ts}");
    assert_eq!(&ts[6..7], "_", "{ts}");
    assert_eq!(&ts[21..22], ".", "{ts}");
    let mode = fs::metadata(s.path().join(&*ts)).expect("ts dir").permissions().mode() & 0o7777;
    assert_eq!(mode, 0o755);
    assert_eq!(read(s.path(), "a").as_deref(), Some("1"));
    assert_eq!(read(s.path(), "dir/b").as_deref(), Some("2"));
    let mut want = vec!["..data".to_string(), ts.to_string()];
    want.sort();
    assert_eq!(internals(s.path()), want);
}

#[test]
fn modes_are_exact_whatever_the_umask() {
    let s = Scratch::new("aw-modes");
    let w = AtomicWriter::new(s.path()).expect("writer");
    let mut p = Payload::new();
    p.insert("open".into(), file("x", 0o777));
    p.insert("secret".into(), file("y", 0o400));
    w.write(&p, None).expect("write");
    let mode = |n: &str| fs::metadata(s.path().join(n)).expect("file").permissions().mode() & 0o777;
    assert_eq!((mode("open"), mode("secret")), (0o777, 0o400));
}

#[test]
fn update_swaps_version_and_removes_the_old_one() {
    let s = Scratch::new("aw-update");
    let w = AtomicWriter::new(s.path()).expect("writer");
    w.write(&payload(&[("a", "1"), ("gone", "x"), ("dir/b", "2")]), None).expect("write");
    let first = fs::read_link(s.path().join(DATA_DIR)).expect("..data");
    w.write(&payload(&[("a", "1b"), ("dir/c", "3"), ("new", "n")]), None).expect("rewrite");
    let second = fs::read_link(s.path().join(DATA_DIR)).expect("..data");
    assert_ne!(first, second);
    assert!(!s.path().join(&first).exists(), "old version removed");
    assert_eq!(visible(s.path()), ["a", "dir", "new"]);
    assert_eq!(read(s.path(), "a").as_deref(), Some("1b"));
    assert_eq!(read(s.path(), "dir/c").as_deref(), Some("3"));
    assert_eq!(read(s.path(), "dir/b"), None);
    assert_eq!(internals(s.path()).len(), 2);
}

#[test]
fn same_payload_writes_nothing_but_restores_links() {
    let s = Scratch::new("aw-same");
    let w = AtomicWriter::new(s.path()).expect("writer");
    let p = payload(&[("a", "1")]);
    w.write(&p, None).expect("write");
    let first = fs::read_link(s.path().join(DATA_DIR)).expect("..data");
    fs::remove_file(s.path().join("a")).expect("drop link");
    w.write(&p, None).expect("rewrite");
    assert_eq!(fs::read_link(s.path().join(DATA_DIR)).expect("..data"), first, "no new version");
    assert_eq!(read(s.path(), "a").as_deref(), Some("1"));
}

#[test]
fn invalid_paths_are_refused() {
    for (path, want) in [
        ("", "must not be empty"),
        ("/abs", "must be relative path"),
        ("a/../b", "must not contain '..'"),
        ("..hidden", "must not start with '..'"),
    ] {
        let e = validate_path(path).expect_err(path);
        assert!(e.contains(want), "{path}: {e}");
    }
    assert!(validate_path(&"x".repeat(256)).is_err());
    assert!(validate_path(&"a/".repeat(2100)).is_err());
    assert!(validate_path("..").is_err());
    assert!(validate_path("a/b.c").is_ok());
    let s = Scratch::new("aw-invalid");
    let w = AtomicWriter::new(s.path()).expect("writer");
    let e = w.write(&payload(&[("ok", "1"), ("../escape", "x")]), None).expect_err("refused");
    assert!(e.to_string().contains("must not contain '..'"), "{e}");
    assert!(visible(s.path()).is_empty() && internals(s.path()).is_empty(), "nothing written");
}

#[test]
fn set_perms_runs_before_publishing() {
    let s = Scratch::new("aw-perms");
    let w = AtomicWriter::new(s.path()).expect("writer");
    let dir = s.path().to_path_buf();
    let hook = move || {
        // The new version exists but is not published yet.
        assert!(fs::read_link(dir.join(DATA_DIR)).is_err());
        Ok(())
    };
    w.write(&payload(&[("a", "1")]), Some(&hook)).expect("write");
    let failing = || Err(io::Error::other("no"));
    let e = w.write(&payload(&[("a", "2")]), Some(&failing)).expect_err("hook error");
    assert!(e.to_string().contains("set permissions"), "{e}");
    assert_eq!(read(s.path(), "a").as_deref(), Some("1"), "old version still visible");
}

/// A crash after each step leaves every visible name on one complete version, and the next
/// write converges to the new payload with nothing left behind.
#[test]
fn crash_between_steps_leaves_a_consistent_view() {
    let old = payload(&[("a", "old-a"), ("b", "old-b"), ("dir/c", "old-c")]);
    let new = payload(&[("a", "new-a"), ("dir/c", "new-c"), ("d", "new-d")]);
    for step in [Step::NewDirWritten, Step::TmpLinkMade, Step::Swapped, Step::VisibleLinksMade, Step::OldPathsRemoved] {
        let s = Scratch::new("aw-crash");
        let w = AtomicWriter::new(s.path()).expect("writer");
        w.write(&old, None).expect("old");
        w.write_until(&new, None, Some(step)).expect("partial write");
        let swapped = step >= Step::Swapped;
        let (a, c) = (read(s.path(), "a"), read(s.path(), "dir/c"));
        if swapped {
            assert_eq!((a.as_deref(), c.as_deref()), (Some("new-a"), Some("new-c")), "{step:?}");
            // `b` is gone from the data; its link (if still there) dangles rather than lying.
            assert_eq!(read(s.path(), "b"), None, "{step:?}");
        } else {
            assert_eq!((a.as_deref(), c.as_deref(), read(s.path(), "b").as_deref()), (Some("old-a"), Some("old-c"), Some("old-b")), "{step:?}");
            assert_eq!(read(s.path(), "d"), None, "{step:?}");
        }
        w.write(&new, None).expect("recovering write");
        assert_eq!(visible(s.path()), ["a", "d", "dir"], "{step:?}");
        assert_eq!(read(s.path(), "d").as_deref(), Some("new-d"), "{step:?}");
        assert_eq!(internals(s.path()).len(), 2, "{step:?}: only ..data and one version: {:?}", internals(s.path()));
    }
}

#[test]
fn owner_is_set_when_asked() {
    if !nix::unistd::Uid::effective().is_root() {
        println!("SKIPPED: chown needs root");
        return;
    }
    let s = Scratch::new("aw-owner");
    let w = AtomicWriter::new(s.path()).expect("writer");
    let mut p = Payload::new();
    p.insert("token".into(), FileProjection { data: b"t".to_vec(), mode: 0o600, fs_user: Some(1234) });
    w.write(&p, None).expect("write");
    assert_eq!(fs::metadata(s.path().join("token")).expect("file").uid(), 1234);
    assert_eq!(fs::symlink_metadata(s.path().join("token")).expect("link").uid(), 1234);
}
