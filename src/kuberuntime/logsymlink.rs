//! The legacy container log symlinks: `/var/log/containers/<pod>_<namespace>_<container>-<id>.log`
//! pointing at the container's log file under the pod logs directory, which log shippers
//! read (upstream's `legacy.go`).
//!
//! ```text
//!  container started ──► symlink made (only when the log file exists: a dangling one is useless)
//!  container removed ──► symlink removed
//!  container GC      ──► dangling symlinks of containers that are gone or exited removed
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Upstream's fixed directory for the symlinks.
pub const CONTAINER_LOGS_DIR: &str = "/var/log/containers";
const SUFFIX: &str = ".log";
/// ext4's longest file name; upstream cuts the name (before the suffix) to fit.
const MAX_FILE_NAME: usize = 255;
/// Upstream does not trust a container ID shorter than this from a symlink's name.
const MIN_ID_LEN: usize = 6;

/// `<dir>/<pod>_<namespace>_<container>-<id>.log`, the name cut to 255 bytes.
pub fn symlink_path(dir: &Path, pod: &str, namespace: &str, container: &str, id: &str) -> PathBuf {
    let mut name = format!("{pod}_{namespace}_{container}-{id}");
    let max = MAX_FILE_NAME - SUFFIX.len();
    if name.len() > max {
        let mut end = max;
        // Names are ASCII in practice (DNS labels, hex IDs); never cut inside a character.
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    dir.join(name + SUFFIX)
}

/// The container ID a symlink's file name ends with (`...-<id>.log`), if plausible.
pub fn container_id_of(file_name: &str) -> Option<&str> {
    let id = file_name.rsplit('-').next()?.strip_suffix(SUFFIX)?;
    (id.len() >= MIN_ID_LEN).then_some(id)
}

/// Links `link` to `log` when `log` exists; failures are logged, as upstream (a container
/// runs without its symlink).
pub fn create(log: &Path, link: &Path) {
    if matches!(fs::symlink_metadata(log), Err(e) if e.kind() == io::ErrorKind::NotFound) {
        return;
    }
    let made = link.parent().map_or(Ok(()), fs::create_dir_all).and_then(|()| {
        // A leftover of an earlier attempt (same container ID) is replaced.
        match fs::remove_file(link) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        std::os::unix::fs::symlink(log, link)
    });
    if let Err(e) = made {
        log::error!("cannot make the container log symlink {} -> {}: {e}", link.display(), log.display());
    }
}

/// Removes one symlink; a missing one counts as removed.
pub fn remove(link: &Path) -> io::Result<()> {
    match fs::remove_file(link) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Removes the symlinks in `dir` whose target is gone, unless `alive(id)` says their container
/// still runs (its log may be between rotation steps). Returns how many went.
pub fn remove_dangling(dir: &Path, alive: &dyn Fn(&str) -> bool) -> usize {
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !name.ends_with(SUFFIX) || entry.path().exists() {
            continue;
        }
        if container_id_of(&name).is_some_and(alive) {
            continue;
        }
        match remove(&entry.path()) {
            Ok(()) => removed += 1,
            Err(e) => log::warn!("cannot remove the dangling log symlink {}: {e}", entry.path().display()),
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::testutil::TempDir;

    #[test]
    fn the_name_is_pod_namespace_container_and_id() {
        let p = symlink_path(Path::new("/var/log/containers"), "web", "default", "app", "abcdef0123");
        assert_eq!(p, PathBuf::from("/var/log/containers/web_default_app-abcdef0123.log"));
        assert_eq!(container_id_of("web_default_app-abcdef0123.log"), Some("abcdef0123"));
        assert_eq!(container_id_of("my-pod_default_my-app-abcdef0123.log"), Some("abcdef0123"));
        assert_eq!(container_id_of("web_default_app-abc.log"), None, "too short");
        assert_eq!(container_id_of("web_default_app-abcdef0123.txt"), None);
    }

    #[test]
    fn long_names_are_cut_to_fit_ext4() {
        let pod = "p".repeat(253);
        let p = symlink_path(Path::new("/d"), &pod, "ns", "c", "0123456789");
        let name = p.file_name().expect("test setup").to_string_lossy().into_owned();
        assert_eq!(name.len(), 255);
        assert!(name.ends_with("pp.log"));
    }

    #[test]
    fn made_only_for_an_existing_log_and_removed() {
        let dir = TempDir::new("logsymlink-create");
        let log = dir.path().join("pods/ns_web_u/app/0.log");
        let link = symlink_path(&dir.path().join("containers"), "web", "ns", "app", "abcdef0123");
        create(&log, &link);
        assert!(fs::symlink_metadata(&link).is_err(), "no log, no symlink");
        fs::create_dir_all(log.parent().expect("test setup")).expect("test setup");
        fs::write(&log, "hello\n").expect("test setup");
        create(&log, &link);
        assert_eq!(fs::read_link(&link).expect("test setup"), log);
        assert_eq!(fs::read_to_string(&link).expect("test setup"), "hello\n");
        create(&log, &link);
        assert_eq!(fs::read_link(&link).expect("test setup"), log, "made again over the old one");
        remove(&link).expect("test setup");
        assert!(fs::symlink_metadata(&link).is_err());
        remove(&link).expect("test setup");
    }

    #[test]
    fn dangling_symlinks_of_dead_containers_go() {
        let dir = TempDir::new("logsymlink-gc");
        let links = dir.path().join("containers");
        let live_log = dir.path().join("live.log");
        fs::write(&live_log, "x").expect("test setup");
        let live = symlink_path(&links, "a", "ns", "c", "111111aaaa");
        create(&live_log, &live);
        // Targets gone: one container still runs (log rotation), one exited.
        let gone = dir.path().join("gone.log");
        let running = symlink_path(&links, "b", "ns", "c", "222222bbbb");
        let exited = symlink_path(&links, "c", "ns", "c", "333333cccc");
        std::os::unix::fs::symlink(&gone, &running).expect("test setup");
        std::os::unix::fs::symlink(&gone, &exited).expect("test setup");
        let n = remove_dangling(&links, &|id| id == "222222bbbb");
        assert_eq!(n, 1);
        assert!(fs::symlink_metadata(&live).is_ok());
        assert!(fs::symlink_metadata(&running).is_ok());
        assert!(fs::symlink_metadata(&exited).is_err());
        assert_eq!(remove_dangling(&dir.path().join("none"), &|_| false), 0);
    }
}
