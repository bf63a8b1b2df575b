//! The file source: reading `staticPodPath` (ManifestReader) and the `rk-src-file` thread
//! reacting to changes through inotify.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, unbounded};
use rkubelet::api::core::Pod;
use rkubelet::source::file::{self, FileConfig, FileDeps, ManifestReader};
use rkubelet::source::{CONFIG_SEEN_ANNOTATION, Source, SourceUpdate};

const NODE: &str = "node-a";

fn manifest(name: &str, image: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  \
         - name: c\n    image: {image}\n"
    )
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("rk-{tag}-{}-{nanos}", std::process::id()));
        fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn names(pods: &[Pod]) -> Vec<String> {
    pods.iter().map(|p| p.metadata.name().to_string()).collect()
}

/// Warnings logged on this thread (tests run in parallel; each reads its own).
static WARNINGS: Mutex<Vec<(ThreadId, String)>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        if record.level() <= log::Level::Warn
            && let Ok(mut w) = WARNINGS.lock()
        {
            w.push((std::thread::current().id(), record.args().to_string()));
        }
    }
    fn flush(&self) {}
}

fn warnings_here(containing: &str) -> usize {
    let _ = log::set_logger(&Capture);
    log::set_max_level(log::LevelFilter::Warn);
    let me = std::thread::current().id();
    let w = WARNINGS.lock().expect("warnings lock");
    w.iter()
        .filter(|(t, m)| *t == me && m.contains(containing))
        .count()
}

#[test]
fn reads_a_directory_like_upstream() {
    warnings_here("");
    let dir = TempDir::new("read-dir");
    write(&dir.path("web.yaml"), &manifest("web", "busybox:1.35"));
    let json = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"api"},
        "spec":{"containers":[{"name":"c","image":"busybox:1.35"}]}}"#;
    write(&dir.path("api.json"), json);
    write(
        &dir.path(".hidden.yaml"),
        &manifest("hidden", "busybox:1.35"),
    );
    write(
        &dir.path("broken.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n",
    );
    write(
        &dir.path("noimage.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c}]}\n",
    );
    fs::create_dir(dir.path("sub")).expect("mkdir sub");
    write(
        &dir.path("sub/inner.yaml"),
        &manifest("inner", "busybox:1.35"),
    );

    let mut reader = ManifestReader::new(&dir.0, NODE);
    let pods = reader.read().expect("a directory always gives a set");
    assert_eq!(
        names(&pods),
        ["api-node-a", "web-node-a"],
        "sorted by file name"
    );
    assert!(
        pods.iter()
            .all(|p| p.metadata.annotation("kubernetes.io/config.source") == Some("file"))
    );
    assert_eq!(warnings_here("broken.yaml"), 1);
    let noimage = format!(
        "{}: invalid pod: spec.containers[0].image: Required value",
        dir.path("noimage.yaml").display()
    );
    assert_eq!(warnings_here(&noimage), 1, "names the file and the field");
    assert_eq!(warnings_here("not recursing"), 1);

    // Reading again parses nothing anew: same pods (same config.seen), no new warnings.
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(reader.read().as_ref(), Some(&pods));
    assert_eq!(
        warnings_here("broken.yaml"),
        1,
        "a broken file is reported once"
    );
    assert_eq!(warnings_here("not recursing"), 1);

    // A new version of the broken file is reported again; fixing it adds its pod.
    write(
        &dir.path("broken.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: [[\n",
    );
    assert_eq!(reader.read().map(|p| p.len()), Some(2));
    assert_eq!(warnings_here("broken.yaml"), 2);
    write(&dir.path("broken.yaml"), &manifest("fixed", "busybox:1.35"));
    let pods = reader.read().expect("set");
    assert_eq!(names(&pods), ["api-node-a", "fixed-node-a", "web-node-a"]);
}

#[test]
fn edits_change_the_uid_and_unchanged_files_keep_their_pod() {
    let dir = TempDir::new("edit");
    let web = dir.path("web.yaml");
    write(&web, &manifest("web", "busybox:1.35"));
    let mut reader = ManifestReader::new(&dir.0, NODE);
    let before = reader.read().expect("set");
    write(&web, &manifest("web", "busybox:1.36"));
    let after = reader.read().expect("set");
    assert_ne!(before[0].metadata.uid, after[0].metadata.uid);
    // The same content again is the same pod as the first time (same UID; a new config.seen).
    write(&web, &manifest("web", "busybox:1.35"));
    let again = reader.read().expect("set");
    assert_eq!(before[0].metadata.uid, again[0].metadata.uid);
    assert!(
        again[0]
            .metadata
            .annotation(CONFIG_SEEN_ANNOTATION)
            .is_some()
    );
    // A fresh reader (a restart) derives the same UID.
    let restarted = ManifestReader::new(&dir.0, NODE).read().expect("set");
    assert_eq!(restarted[0].metadata.uid, before[0].metadata.uid);
}

#[test]
fn missing_path_is_an_empty_set_and_single_files_work() {
    let dir = TempDir::new("single");
    let mut missing = ManifestReader::new(&dir.path("nope"), NODE);
    assert_eq!(missing.read(), Some(vec![]));

    let file = dir.path("etcd.yaml");
    write(&file, &manifest("etcd", "busybox:1.35"));
    let mut reader = ManifestReader::new(&file, NODE);
    assert_eq!(
        reader.read().map(|p| names(&p)),
        Some(vec!["etcd-node-a".to_string()])
    );
    // A broken single file sends nothing (its pod keeps running), as upstream.
    write(&file, "kind: [");
    assert_eq!(reader.read(), None);
    fs::remove_file(&file).expect("rm");
    assert_eq!(reader.read(), Some(vec![]));
}

/// Receives updates until one satisfies `want`; panics after `secs` seconds.
fn recv_until(
    rx: &Receiver<SourceUpdate>,
    secs: u64,
    what: &str,
    want: impl Fn(&[Pod]) -> bool,
) -> Vec<Pod> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(update) => {
                assert_eq!(update.source, Source::File);
                if want(&update.pods) {
                    return update.pods;
                }
            }
            Err(_) => panic!("timed out waiting for: {what}"),
        }
    }
}

fn spawn(
    path: &Path,
    check_frequency: Duration,
) -> (file::FileSourceHandle, Receiver<SourceUpdate>) {
    let (tx, rx) = unbounded();
    let cfg = FileConfig {
        path: path.to_path_buf(),
        node_name: NODE.to_string(),
        check_frequency,
    };
    let handle = file::spawn(cfg, FileDeps { updates: tx }).expect("spawn rk-src-file");
    (handle, rx)
}

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn thread_follows_inotify_events() {
    let dir = TempDir::new("inotify");
    // An hour between periodic re-reads: every change below must come from inotify.
    let (source, rx) = spawn(&dir.0, HOUR);
    recv_until(&rx, 5, "the first (empty) set", |p| p.is_empty());

    write(&dir.path("web.yaml"), &manifest("web", "busybox:1.35"));
    let first = recv_until(&rx, 5, "web added", |p| p.len() == 1);
    write(&dir.path("web.yaml"), &manifest("web", "busybox:1.36"));
    let edited = recv_until(&rx, 5, "web edited", |p| {
        p.len() == 1 && p[0].metadata.uid != first[0].metadata.uid
    });
    assert_eq!(
        edited[0].spec.containers[0].image.as_deref(),
        Some("busybox:1.36")
    );

    // Editors write a hidden temporary file and rename it into place.
    write(&dir.path(".web.yaml.tmp"), &manifest("web", "busybox:1.37"));
    assert!(
        rx.recv_timeout(Duration::from_millis(400)).is_err(),
        "a hidden file adds no pod"
    );
    fs::rename(dir.path(".web.yaml.tmp"), dir.path("web.yaml")).expect("rename");
    recv_until(&rx, 5, "web renamed over", |p| {
        p.first()
            .and_then(|p| p.spec.containers[0].image.as_deref())
            == Some("busybox:1.37")
    });

    fs::rename(dir.path("web.yaml"), dir.path("web2.yaml")).expect("rename");
    let renamed = recv_until(&rx, 5, "rename keeps the pod", |p| p.len() == 1);
    assert_ne!(
        renamed[0].metadata.uid, edited[0].metadata.uid,
        "the path is part of the UID"
    );

    write(&dir.path("broken.yaml"), "kind: [");
    write(&dir.path("db.yaml"), &manifest("db", "busybox:1.35"));
    let both = recv_until(&rx, 5, "db added beside a broken file", |p| p.len() == 2);
    assert_eq!(names(&both), ["db-node-a", "web-node-a"]);

    // A manifest broken in place keeps its pod until the periodic read (an hour away).
    write(
        &dir.path("db.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: db",
    );
    assert!(
        rx.recv_timeout(Duration::from_millis(400)).is_err(),
        "a broken edit seen through inotify does not remove the pod"
    );
    write(&dir.path("db.yaml"), &manifest("db", "busybox:1.36"));
    recv_until(&rx, 5, "db fixed", |p| {
        p.iter()
            .any(|p| p.spec.containers[0].image.as_deref() == Some("busybox:1.36"))
    });

    fs::remove_file(dir.path("web2.yaml")).expect("rm");
    recv_until(&rx, 5, "web removed", |p| names(p) == ["db-node-a"]);

    let started = Instant::now();
    source.stop();
    assert!(started.elapsed() < Duration::from_secs(2), "stop is prompt");
}

#[test]
fn directory_created_late_and_replaced() {
    let dir = TempDir::new("late");
    let manifests = dir.path("manifests");
    let (source, rx) = spawn(&manifests, HOUR);
    recv_until(&rx, 5, "an empty set while the path is missing", |p| {
        p.is_empty()
    });

    fs::create_dir(&manifests).expect("mkdir");
    write(
        &manifests.join("web.yaml"),
        &manifest("web", "busybox:1.35"),
    );
    recv_until(&rx, 5, "pod from the new directory", |p| {
        names(p) == ["web-node-a"]
    });

    // Replace the whole directory (as a config management tool might).
    let staged = dir.path("staged");
    fs::create_dir(&staged).expect("mkdir staged");
    write(&staged.join("db.yaml"), &manifest("db", "busybox:1.35"));
    fs::rename(&manifests, dir.path("old")).expect("move old away");
    fs::rename(&staged, &manifests).expect("move new in");
    recv_until(&rx, 5, "pods of the replacement directory", |p| {
        names(p) == ["db-node-a"]
    });

    // The new directory is watched too.
    write(
        &manifests.join("web.yaml"),
        &manifest("web", "busybox:1.35"),
    );
    recv_until(&rx, 5, "a file in the replacement directory", |p| {
        p.len() == 2
    });

    fs::remove_dir_all(&manifests).expect("rm -r");
    recv_until(&rx, 5, "empty set after the directory is gone", |p| {
        p.is_empty()
    });
    source.stop();
}

#[test]
fn single_file_path_is_watched_through_its_directory() {
    let dir = TempDir::new("one-file");
    let file = dir.path("web.yaml");
    let (source, rx) = spawn(&file, HOUR);
    recv_until(&rx, 5, "empty set before the file exists", |p| p.is_empty());
    write(&dir.path("other.yaml"), &manifest("other", "busybox:1.35"));
    write(&file, &manifest("web", "busybox:1.35"));
    let pods = recv_until(&rx, 5, "the file's pod", |p| !p.is_empty());
    assert_eq!(names(&pods), ["web-node-a"], "only the named file counts");
    fs::remove_file(&file).expect("rm");
    recv_until(&rx, 5, "empty set after removal", |p| p.is_empty());
    source.stop();
}

#[test]
fn periodic_reread_heals_without_events() {
    // A path under a missing parent cannot be watched until the parent appears; changes
    // are still found by the periodic re-read (here every 200 ms) or the re-arm check.
    let dir = TempDir::new("periodic");
    let manifests = dir.path("a/b/manifests");
    let (source, rx) = spawn(&manifests, Duration::from_millis(200));
    recv_until(&rx, 5, "empty set", |p| p.is_empty());
    fs::create_dir_all(&manifests).expect("mkdir -p");
    write(
        &manifests.join("web.yaml"),
        &manifest("web", "busybox:1.35"),
    );
    recv_until(&rx, 5, "pod found by re-reading", |p| {
        names(p) == ["web-node-a"]
    });
    source.stop();
}

#[test]
fn examples_are_valid_static_pods() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/pods");
    let mut reader = ManifestReader::new(&examples, NODE);
    let pods = reader.read().expect("examples/pods is a directory");
    assert_eq!(
        names(&pods),
        ["crashloop-node-a", "with-init-node-a", "web-node-a"]
    );
    for pod in &pods {
        for c in pod.spec.init_containers.iter().chain(&pod.spec.containers) {
            assert_eq!(
                c.image.as_deref(),
                Some("docker.io/library/busybox:1.35"),
                "only local images"
            );
            assert_eq!(c.image_pull_policy.as_deref(), Some("IfNotPresent"));
        }
    }
}

#[test]
fn a_manifest_that_breaks_keeps_its_pod_until_the_periodic_read() {
    let dir = TempDir::new("breaks");
    let web = dir.path("web.yaml");
    write(&web, &manifest("web", "busybox:1.35"));
    write(&dir.path("db.yaml"), &manifest("db", "busybox:1.35"));
    let mut reader = ManifestReader::new(&dir.0, NODE);
    let good = reader.read().expect("set");
    assert_eq!(good.len(), 2);

    write(&web, "apiVersion: v1\nkind: Pod\nmetadata: {name: web");
    assert_eq!(
        reader.read_after_event().as_ref(),
        Some(&good),
        "event reads keep it"
    );
    assert_eq!(reader.read_after_event().as_ref(), Some(&good));
    let periodic = reader.read().expect("set");
    assert_eq!(
        names(&periodic),
        ["db-node-a"],
        "the periodic read drops it"
    );
    assert_eq!(
        reader.read_after_event(),
        Some(periodic),
        "and it stays dropped"
    );

    // A manifest broken from the start never had a pod to keep.
    write(&dir.path("new.yaml"), "kind: [");
    assert_eq!(reader.read_after_event().map(|p| p.len()), Some(1));
}
