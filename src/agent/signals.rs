//! SIGTERM/SIGINT: blocked everywhere, awaited by the main thread.

use nix::sys::signal::{SigSet, Signal};

pub fn block_stop_signals() -> nix::Result<SigSet> {
    let mut set = SigSet::empty();
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGINT);
    set.thread_block()?;
    Ok(set)
}

/// Wait for one of the blocked signals; returns its name.
pub fn wait(set: &SigSet) -> &'static str {
    loop {
        match set.wait() {
            Ok(sig) => return sig.as_str(),
            // EINTR and the like: keep waiting.
            Err(_) => continue,
        }
    }
}
