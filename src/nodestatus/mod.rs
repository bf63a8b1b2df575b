//! The Node object in API-server mode: registration, status and the node Lease.
//!
//! ```text
//!            ┌──────────────────── rk-node-status ──────────────────────┐
//!  spawn ──► │ register (create; on AlreadyExists take the Node over;   │── UID ──► UidCell
//!            │   retry 100 ms doubling to 7 s)                          │           │
//!            │ every nodeStatusUpdateFrequency (100 ms until Ready):    │           │ node_uid()
//!            │ GET Node, compute status, PATCH nodes/<name>/status      │           ▼
//!            │ if changed or nodeStatusReportFrequency passed;          │       NodeHandle
//!            │ 404 ──► register again (beyond upstream) ; post events   │           ▲
//!            └──────────────────────────────────────────────────────────┘           │
//!            ┌──────────────────── rk-node-lease ───────────────────────┐           │
//!            │ every leaseDuration/4: renew kube-node-lease/<node>,     │ ◄── UID ──┘
//!            │ create it (owned by the Node) once the UID is known      │
//!            └──────────────────────────────────────────────────────────┘
//! ```
//!
//! | module | what |
//! | --- | --- |
//! | [`config`] | [`Config`] from the kubelet configuration, checked |
//! | `machine` | CPUs, memory, huge pages, root filesystem, machine/boot IDs, kernel, OS |
//! | `capacity` | capacity and allocatable |
//! | `runtime` | runtime readiness, handlers, features and version from CRI |
//! | `cadence` | how often the runtime and the host are asked afresh |
//! | `conditions` | MemoryPressure, DiskPressure, PIDPressure, Ready; node events |
//! | `status` | the whole status (upstream's setters in order); change detection |
//! | `patch` | the strategic merge patch between two Nodes |
//! | `register` | the Node to create, and taking over an existing one |
//! | `report` | when a status is sent |
//! | `worker`, `lease`, `events` | the two threads; posting events |
//!
//! Beyond upstream: a Node deleted while rkubelet runs is registered again (upstream only
//! registers at start). Node events (`Starting`, the condition transitions) are posted once
//! the Node (and its UID) is known, and once the status carrying them was accepted, so that
//! `kubectl describe node` (which matches events by UID) shows them and failed attempts do not
//! repeat them.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, bounded};

use crate::api::Quantity;
use crate::cri;
use crate::kubeclient::{Canceller, Client};

mod cadence;
mod capacity;
mod conditions;
pub mod config;
mod error;
mod events;
mod lease;
pub(crate) mod machine;
mod patch;
mod register;
mod report;
mod runtime;
mod status;
mod worker;

pub use config::{Config, Reservations, Threshold};
pub use error::NodeError;

/// The runtime's health besides CRI Status (PLEG): `Err` carries the Ready condition's text,
/// upstream's being `PLEG is not healthy: <why>`.
pub type HealthCheck = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// The eviction manager's verdicts, read at every status computation.
pub type PressureCheck = Arc<dyn Fn() -> Pressure + Send + Sync>;

/// Which resources the node is short of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pressure {
    pub memory: bool,
    pub disk: bool,
    pub pid: bool,
}

/// What the threads talk to.
pub struct Deps {
    /// A client with the kubelet's credentials.
    pub client: Client,
    /// For Status, Version and ListImages.
    pub cri: cri::Client,
    pub health: HealthCheck,
    pub pressure: PressureCheck,
}

impl Deps {
    /// Deps without pressure (until the eviction manager exists).
    pub fn new(client: Client, cri: cri::Client, health: HealthCheck) -> Deps {
        Deps { client, cri, health, pressure: Arc::new(Pressure::default) }
    }
}

/// The Node's UID as the threads learn it: `None` before registration and while a deleted
/// Node is being registered again. Shared by this module's two threads and its handle only.
#[derive(Debug, Clone, Default)]
pub(crate) struct UidCell {
    inner: Arc<(Mutex<Option<String>>, Condvar)>,
}

impl UidCell {
    pub fn get(&self) -> Option<String> {
        self.inner.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn set(&self, uid: Option<String>) {
        let (lock, changed) = &*self.inner;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = uid;
        changed.notify_all();
    }

    /// The UID once there is one, or `None` after `timeout`.
    pub fn wait(&self, timeout: Duration) -> Option<String> {
        let (lock, changed) = &*self.inner;
        let deadline = Instant::now() + timeout;
        let mut uid = lock.lock().unwrap_or_else(PoisonError::into_inner);
        while uid.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            uid = changed.wait_timeout(uid, left).unwrap_or_else(PoisonError::into_inner).0;
        }
        uid.clone()
    }
}

/// Requests to the `rk-node-status` thread.
#[derive(Debug)]
pub(crate) enum Command {
    /// Compute and (if changed) send the status now, e.g. after a pressure change.
    SyncNow,
}

/// The running node status and lease threads.
pub struct NodeHandle {
    uid: UidCell,
    commands: Sender<Command>,
    stop: Vec<Sender<()>>,
    cancellers: Vec<Canceller>,
    threads: Vec<JoinHandle<()>>,
}

impl NodeHandle {
    /// The Node's UID, if it is registered (mirror pods' owner references need it).
    pub fn node_uid(&self) -> Option<String> {
        self.uid.get()
    }

    /// A way for other managers to read the Node's UID without holding the handle.
    pub fn uid_source(&self) -> impl Fn() -> Option<String> + Send + Sync + Clone + 'static {
        let uid = self.uid.clone();
        move || uid.get()
    }

    /// Waits until the Node is registered; its UID, or `None` after `timeout`.
    pub fn wait_registered(&self, timeout: Duration) -> Option<String> {
        self.uid.wait(timeout)
    }

    /// Asks for a status computation now (sent if something changed).
    pub fn sync_now(&self) {
        // A full queue already holds a request; that one will do.
        let _ = self.commands.try_send(Command::SyncNow);
    }

    /// Stops both threads, interrupting calls in flight. The Node and Lease stay.
    pub fn stop(mut self) {
        for stop in self.stop.drain(..) {
            let _ = stop.send(());
        }
        for canceller in &self.cancellers {
            canceller.cancel();
        }
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                log::error!("a node status thread panicked");
            }
        }
    }
}

/// The node's allocatable (capacity minus kubeReserved, systemReserved and the hard eviction
/// thresholds) from the host as it is now, as the status reports it. The downward API gives
/// it to containers without a limit; upstream reads it off its Node (or, standalone, off the
/// Node it would register), which this status keeps equal to it.
pub fn local_allocatable(cfg: &Config) -> BTreeMap<String, Quantity> {
    let machine = machine::Host::real().machine_info(&cfg.root_dir);
    capacity::allocatable(&machine, cfg.capacity_limits())
}

/// Starts `rk-node-status` and `rk-node-lease`. Fails at once on settings the API server
/// would refuse (`--node-labels`) or if a thread cannot start.
pub fn spawn(cfg: Config, deps: Deps) -> Result<NodeHandle, NodeError> {
    cfg.check()?;
    let uid = UidCell::default();
    let (status_client, status_cancel) = deps.client.cancellable();
    let (lease_client, lease_cancel) = deps.client.cancellable();
    let (commands_tx, commands_rx) = bounded(1);
    let (status_stop_tx, status_stop_rx) = bounded(1);
    let (lease_stop_tx, lease_stop_rx) = bounded(1);

    let lease = lease::LeaseLoop::new(
        cfg.node_name.clone(),
        cfg.lease_duration_seconds,
        lease_client,
        uid.clone(),
        lease_stop_rx,
    );
    let worker = worker::StatusLoop::new(cfg, status_client, deps, uid.clone(), commands_rx, status_stop_rx);
    let status_thread = std::thread::Builder::new()
        .name("rk-node-status".into())
        .spawn(move || worker.run())
        .map_err(|source| NodeError::Spawn { thread: "rk-node-status", source })?;
    let mut handle = NodeHandle {
        uid,
        commands: commands_tx,
        stop: vec![status_stop_tx],
        cancellers: vec![status_cancel, lease_cancel],
        threads: vec![status_thread],
    };
    match std::thread::Builder::new().name("rk-node-lease".into()).spawn(move || lease.run()) {
        Ok(thread) => {
            handle.stop.push(lease_stop_tx);
            handle.threads.push(thread);
            Ok(handle)
        }
        Err(source) => {
            handle.stop();
            Err(NodeError::Spawn { thread: "rk-node-lease", source })
        }
    }
}
