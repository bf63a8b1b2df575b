//! The runtime restarts under our client: calls fail `Unavailable` fast, and the client
//! reconnects once the runtime is back. Uses a private containerd that this test starts and
//! kills itself (its own root, state and socket under a temp dir, CRI plugin disabled), so it
//! never touches another containerd. Needs root and `containerd` in PATH.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rkubelet::grpc::{Channel, Code, Unary};

/// containerd's own version service: an empty request, a reply naming the version.
const VERSION: &str = "/containerd.services.version.v1.Version/Version";

struct Containerd {
    dir: PathBuf,
    child: Option<Child>,
}

impl Containerd {
    fn new() -> Option<Containerd> {
        if !nix::unistd::Uid::effective().is_root() {
            println!("SKIPPED: needs root to run a private containerd");
            return None;
        }
        if Command::new("containerd").arg("--version").output().is_err() {
            println!("SKIPPED: containerd is not installed");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("rk-restart-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display();
        let config = format!(
            "version = 2\nroot = \"{d}/root\"\nstate = \"{d}/state\"\n\
             disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{d}/containerd.sock\"\n\
             [ttrpc]\n  address = \"{d}/containerd.sock.ttrpc\"\n\
             [debug]\n  address = \"{d}/debug.sock\"\n"
        );
        std::fs::write(dir.join("config.toml"), config).unwrap();
        Some(Containerd { dir, child: None })
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("containerd.sock")
    }

    fn start(&mut self) {
        let _ = std::fs::remove_file(self.socket());
        let log = std::fs::File::create(self.dir.join("containerd.log")).unwrap();
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

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
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

#[test]
fn client_recovers_after_the_runtime_restarts() {
    let Some(mut rt) = Containerd::new() else { return };
    rt.start();
    let ch = Channel::new(&format!("unix://{}", rt.socket().display())).unwrap();
    let timeout = Some(Duration::from_secs(5));
    let v = ch.unary(VERSION, b"", timeout).unwrap();
    assert!(v.windows(2).any(|w| w == b"1."), "{v:?}");

    rt.kill();
    // Calls fail Unavailable, and fast: connect failures are not waited out.
    for _ in 0..5 {
        let t = Instant::now();
        let e = ch.unary(VERSION, b"", timeout).unwrap_err();
        assert_eq!(e.code, Code::Unavailable, "{e}");
        assert!(t.elapsed() < Duration::from_millis(500), "took {:?}", t.elapsed());
    }

    rt.start();
    let back = Instant::now();
    let deadline = back + Duration::from_secs(10);
    loop {
        match ch.unary(VERSION, b"", timeout) {
            Ok(v) => {
                assert!(v.windows(2).any(|w| w == b"1."));
                break;
            }
            Err(e) => {
                assert_eq!(e.code, Code::Unavailable, "{e}");
                assert!(Instant::now() < deadline, "no recovery: {e}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    println!("recovered {:?} after the runtime was back", back.elapsed());
    // Still healthy afterwards, on one connection.
    for _ in 0..10 {
        ch.unary(VERSION, b"", timeout).unwrap();
    }
}
