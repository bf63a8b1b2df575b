//! A private containerd that a test starts, kills and restarts itself: its own root, state
//! and sockets under a temp dir, so it never touches the shared instance or the host's.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which plugins the private instance runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plugins {
    /// containerd's own services only (no CRI).
    Core,
    /// With the CRI plugin, so the instance answers `runtime.v1` calls. Its CNI directory is
    /// empty and it uses the native snapshotter: enough for calls that run no pod.
    Cri,
}

pub struct Containerd {
    pub dir: PathBuf,
    child: Option<Child>,
}

impl Containerd {
    /// `None` (after printing why) when not root or containerd is not installed.
    pub fn new(name: &str, plugins: Plugins) -> Option<Containerd> {
        if !nix::unistd::Uid::effective().is_root() {
            println!("SKIPPED: needs root to run a private containerd");
            return None;
        }
        if Command::new("containerd").arg("--version").output().is_err() {
            println!("SKIPPED: containerd is not installed");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("rk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("cni/net.d")).unwrap();
        let d = dir.display();
        let mut config = format!(
            "version = 2\nroot = \"{d}/root\"\nstate = \"{d}/state\"\n\
             [grpc]\n  address = \"{d}/containerd.sock\"\n\
             [ttrpc]\n  address = \"{d}/containerd.sock.ttrpc\"\n\
             [debug]\n  address = \"{d}/debug.sock\"\n"
        );
        match plugins {
            Plugins::Core => config.insert_str(0, "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"),
            Plugins::Cri => config.push_str(&format!(
                "[plugins.\"io.containerd.grpc.v1.cri\"]\n  restrict_oom_score_adj = true\n  \
                 sandbox_image = \"registry.k8s.io/pause:3.10.2\"\n  stream_server_address = \"127.0.0.1\"\n  \
                 stream_server_port = \"0\"\n\
                 [plugins.\"io.containerd.grpc.v1.cri\".containerd]\n  snapshotter = \"native\"\n\
                 [plugins.\"io.containerd.grpc.v1.cri\".cni]\n  conf_dir = \"{d}/cni/net.d\"\n  bin_dir = \"/usr/lib/cni\"\n"
            )),
        }
        std::fs::write(dir.join("config.toml"), config).unwrap();
        Some(Containerd { dir, child: None })
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.join("containerd.sock")
    }

    pub fn endpoint(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// Starts containerd and waits until its socket accepts connections.
    pub fn start(&mut self) {
        let _ = std::fs::remove_file(self.socket());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("containerd.log"))
            .unwrap();
        let child = Command::new("containerd")
            .arg("--config")
            .arg(self.dir.join("config.toml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        wait_for_socket(&self.socket());
    }

    /// SIGKILL: the runtime dies without closing anything.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("containerd.log")).unwrap_or_default()
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn wait_for_socket(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::os::unix::net::UnixStream::connect(path).is_err() {
        assert!(Instant::now() < deadline, "containerd did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}
