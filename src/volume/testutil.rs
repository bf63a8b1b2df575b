//! Helpers for the volume unit tests.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::api::core::Pod;

/// A scratch directory removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rk-volume-{tag}-{}-{:?}-{}",
            std::process::id(),
            std::thread::current().id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Pod `web` in `prod` (uid `u-1`) with the given volumes and one container `app` mounting
/// `mounts`.
pub fn pod(volumes: Value, mounts: Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "prod", "uid": "u-1", "labels": {"app": "web"}},
        "spec": {"volumes": volumes, "containers": [{"name": "app", "image": "busybox", "volumeMounts": mounts}]},
    }))
    .expect("test pod")
}

/// Whether this process may mount (root with CAP_SYS_ADMIN); tests that need it print
/// SKIPPED otherwise.
pub fn can_mount() -> bool {
    let probe = Scratch::new("probe");
    let target = probe.path().join("m");
    if std::fs::create_dir(&target).is_err() {
        return false;
    }
    let ok = nix::mount::mount(Some("tmpfs"), &target, Some("tmpfs"), nix::mount::MsFlags::empty(), Some("size=4k")).is_ok();
    if ok {
        let _ = nix::mount::umount2(&target, nix::mount::MntFlags::MNT_DETACH);
    } else {
        println!("SKIPPED: cannot mount here (needs root)");
    }
    ok
}
