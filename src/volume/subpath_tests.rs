use std::os::unix::fs::{PermissionsExt, symlink};

use super::*;
use crate::volume::testutil::{Scratch, can_mount};

fn mode(p: &Path) -> u32 {
    fs::metadata(p).expect("stat").permissions().mode() & 0o7777
}

#[test]
fn safe_open_refuses_symlinks_and_escapes() {
    let s = Scratch::new("sp-open");
    let base = s.path().join("vol");
    fs::create_dir_all(base.join("a/b")).expect("dirs");
    symlink("/etc", base.join("a/esc")).expect("link");
    assert!(safe_open(&base.join("a/b"), &base).is_ok());
    let e = safe_open(&base.join("a/esc"), &base).expect_err("symlink");
    assert!(e.to_string().contains("unexpected symlink found"), "{e}");
    let e = safe_open(&base.join("a/esc/passwd"), &base).expect_err("through a symlink");
    assert!(e.to_string().contains("unexpected symlink found"), "{e}");
    assert!(safe_open(Path::new("/etc"), &base).is_err());
    assert!(within_base(Path::new("/v/a"), Path::new("/v")) && within_base(Path::new("/v"), Path::new("/v")));
    assert!(!within_base(Path::new("/v/../etc"), Path::new("/v")) && !within_base(Path::new("/vx"), Path::new("/v")));
}

#[test]
fn safe_make_dir_stays_inside() {
    let s = Scratch::new("sp-mkdir");
    let base = s.path().join("vol");
    let outside = s.path().join("outside");
    fs::create_dir_all(&base).expect("vol");
    fs::create_dir_all(&outside).expect("outside");
    symlink(&outside, base.join("esc")).expect("link");

    safe_make_dir("a/b/c", &base, 0o2775).expect("mkdir");
    assert_eq!((mode(&base.join("a")), mode(&base.join("a/b/c"))), (0o2775, 0o2775));
    safe_make_dir("a/b/c", &base, 0o700).expect("exists: nothing to do");
    assert_eq!(mode(&base.join("a/b/c")), 0o2775);

    assert!(safe_make_dir("../x", &base, 0o755).is_err());
    let e = safe_make_dir("esc/new", &base, 0o755).expect_err("through a symlink");
    assert!(e.to_string().contains("outside of allowed base"), "{e}");
    assert!(!outside.join("new").exists());
    fs::write(base.join("file"), "x").expect("file");
    assert!(safe_make_dir("file", &base, 0o755).is_err());
}

#[test]
fn bind_mounts_the_subpath_and_cleans_up() {
    if !can_mount() {
        return;
    }
    let s = Scratch::new("sp-bind");
    let pod_dir = s.path().join("pod");
    let vol = pod_dir.join("volumes/kubernetes.io~empty-dir/data");
    fs::create_dir_all(vol.join("sub")).expect("dirs");
    fs::write(vol.join("file"), "content").expect("file");
    symlink("/etc", vol.join("esc")).expect("link");
    symlink("file", vol.join("inside-link")).expect("link");
    let sp = |index: usize, rel: &str| Subpath {
        index,
        path: vol.join(rel),
        volume_name: "data",
        volume_path: &vol,
        pod_dir: &pod_dir,
        container_name: "app",
    };
    let dir_target = prepare(&sp(0, "sub")).expect("dir subpath");
    assert_eq!(dir_target, pod_dir.join("volume-subpaths/data/app/0"));
    fs::write(vol.join("sub/seen"), "yes").expect("write");
    assert_eq!(fs::read_to_string(dir_target.join("seen")).expect("through the bind"), "yes");
    assert_eq!(prepare(&sp(0, "sub")).expect("again"), dir_target, "already mounted");
    let file_target = prepare(&sp(1, "inside-link")).expect("symlink inside the volume");
    assert_eq!(fs::read_to_string(&file_target).expect("file"), "content");

    let e = prepare(&sp(2, "esc")).expect_err("escape");
    assert!(e.contains("not within volume path"), "{e}");
    let e = prepare(&sp(3, "esc/passwd")).expect_err("escape");
    assert!(e.contains("not within volume path"), "{e}");

    assert_eq!(MountTable::read().expect("table").mounts_under(&pod_dir).len(), 2);
    clean_subpaths(&pod_dir, "data").expect("clean");
    assert!(MountTable::read().expect("table").mounts_under(&pod_dir).is_empty());
    assert!(!pod_dir.join(SUBPATHS_DIR).exists());
    assert_eq!(fs::read_to_string(vol.join("sub/seen")).expect("volume data kept"), "yes");
    clean_subpaths(&pod_dir, "data").expect("nothing left: fine");
}
