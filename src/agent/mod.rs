//! Starting the agent: build every manager from the configuration, wire their channels, and
//! wait for a signal.
//!
//! ```text
//!   sources ─► mux ─► syncloop ─► pod workers ─► runtime (CRI)
//!                       ▲   ▲          │
//!                   PLEG ┘   └ reports ┘──► status manager ◄── servers (/pods, /healthz)
//! ```
//!
//! SIGTERM or SIGINT stops rkubelet and leaves the pods running, as upstream: the next start
//! adopts them.

mod apimode;
mod certs;
mod host;
mod signals;
mod wiring;

use crate::config::Config;

/// Run the node agent until a signal asks it to stop; returns the process exit code.
pub fn run(config: Config) -> i32 {
    // Block the stop signals in every thread (threads inherit the mask), so that only the
    // main thread's wait sees them.
    let stop = match signals::block_stop_signals() {
        Ok(s) => s,
        Err(e) => {
            log::error!("cannot set up signal handling: {e}");
            return 1;
        }
    };
    let agent = match wiring::start(&config) {
        Ok(a) => a,
        Err(e) => {
            log::error!("rkubelet cannot start: {e}");
            return 1;
        }
    };
    let sig = signals::wait(&stop);
    log::info!("received {sig}: stopping rkubelet; pods keep running");
    drop(agent);
    0
}
