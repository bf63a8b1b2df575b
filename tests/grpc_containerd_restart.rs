//! The runtime restarts under our client: calls fail `Unavailable` fast, and the client
//! reconnects once the runtime is back. Uses a private containerd that this test starts and
//! kills itself (its own root, state and socket under a temp dir, CRI plugin disabled), so it
//! never touches another containerd. Needs root and `containerd` in PATH.

#![allow(clippy::unwrap_used)]

mod containerd_support;

use std::time::{Duration, Instant};

use containerd_support::{Containerd, Plugins};
use rkubelet::grpc::{Channel, Code, Unary};

/// containerd's own version service: an empty request, a reply naming the version.
const VERSION: &str = "/containerd.services.version.v1.Version/Version";

#[test]
fn client_recovers_after_the_runtime_restarts() {
    let Some(mut rt) = Containerd::new("restart", Plugins::Core) else { return };
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
        // Well under the call timeout: the failure is not waited out (slack for a loaded machine).
        assert!(t.elapsed() < Duration::from_secs(2), "took {:?}", t.elapsed());
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
