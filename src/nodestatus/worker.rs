//! The `rk-node-status` thread: registers the Node, then keeps its status current.
//!
//! ```text
//!   Unregistered ──register (backoff 100 ms → 7 s)──► Registered
//!        ▲                                               │ regular update every
//!        └──────── 404 on GET or PATCH ──────────────────┘ nodeStatusUpdateFrequency;
//!                  (the Node was deleted)                   fast checks every 100 ms in
//!                                                           between until it is Ready (2 min
//!                                                           at most)
//! ```
//! A fast check asks the runtime's status at most every 5 s and works on the host and
//! version as last read; see [`super::cadence`].
//! A regular update reads the host and the runtime, computes the status on top of the Node
//! as the API server has it, and PATCHes `nodes/<name>/status` when it changed or the report
//! period ran out (up to five tries, each on a freshly read Node). Upstream reads the Node
//! from a watch cache; we GET it, once per update. A fast check (upstream's start-up path)
//! works on the Node of the last answer and sends only a status that makes the node Ready.
//! Events are posted once the status carrying their transition was accepted.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, select};

use crate::api::Time;
use crate::api::core::Node;
use crate::cri;
use crate::kubeclient::{Client, PatchKind, PatchParams, ResourcePath};

use super::cadence::Cadence;
use super::conditions::{self, NodeEvent};
use super::machine::{Host, MachineInfo};
use super::report::ReportClock;
use super::runtime::RuntimeState;
use super::status::{self, Memory, Observed};
use super::{Command, Config, Deps, NodeError, UidCell, events, lease, patch, register};

/// Upstream's nodeStatusUpdateRetry.
const UPDATE_RETRIES: usize = 5;
/// Upstream's nodeReadyGracePeriod: how long the fast start-up path lasts at most.
const FAST_PERIOD: Duration = Duration::from_secs(120);
const FAST_TICK: Duration = Duration::from_millis(100);
const MAX_REGISTER_BACKOFF: Duration = Duration::from_secs(7);

/// What one tick came to.
enum Outcome {
    Done,
    /// The Node is gone from the API server.
    Deleted,
}

pub(crate) struct StatusLoop {
    cfg: Config,
    client: Client,
    deps: Deps,
    uid: UidCell,
    commands: Receiver<Command>,
    stop: Receiver<()>,
    host: Host,
    runtime: RuntimeState,
    memory: Memory,
    report: ReportClock,
    images: Vec<cri::Image>,
    /// The host as last read.
    machine: Option<MachineInfo>,
    cadence: Cadence,
    /// The Node as last returned by the API server.
    node: Option<Node>,
    /// Fast ticks until the Node is reported Ready or this passes.
    fast_until: Option<Instant>,
    /// When the next regular update is due.
    regular_due: Instant,
    started_event_sent: bool,
}

impl StatusLoop {
    pub fn new(
        cfg: Config,
        client: Client,
        deps: Deps,
        uid: UidCell,
        commands: Receiver<Command>,
        stop: Receiver<()>,
    ) -> Self {
        let report = ReportClock::new(cfg.report_frequency);
        StatusLoop {
            cfg,
            client,
            deps,
            uid,
            commands,
            stop,
            host: Host::real(),
            runtime: RuntimeState::default(),
            memory: Memory::default(),
            report,
            images: Vec::new(),
            machine: None,
            cadence: Cadence::default(),
            node: None,
            fast_until: None,
            regular_due: Instant::now(),
            started_event_sent: false,
        }
    }

    pub fn run(mut self) {
        loop {
            if self.node.is_none() && !self.register() {
                return;
            }
            if let Outcome::Deleted = self.tick() {
                log::warn!(
                    "Node {} was deleted from the API server; registering it again (beyond upstream, which registers only at start)",
                    self.cfg.node_name
                );
                self.node = None;
                self.uid.set(None);
                continue;
            }
            if !self.wait(self.next_tick()) {
                return;
            }
        }
    }

    /// Waits for the next tick or a command; false once stopped.
    fn wait(&self, period: Duration) -> bool {
        select! {
            recv(self.stop) -> _ => false,
            recv(self.commands) -> command => command.is_ok(),
            default(period) => true,
        }
    }

    /// Sleeps unless stopped; false once stopped.
    fn sleep(&self, period: Duration) -> bool {
        matches!(self.stop.recv_timeout(period), Err(RecvTimeoutError::Timeout))
    }

    fn next_tick(&self) -> Duration {
        let regular = self.regular_due.saturating_duration_since(Instant::now());
        if self.fast() { regular.min(FAST_TICK) } else { regular }
    }

    fn node_path(&self) -> ResourcePath {
        ResourcePath::core("nodes").name(&self.cfg.node_name)
    }

    /// Reads what is due of the host, the runtime and the image list (see [`super::cadence`];
    /// `regular`: not a fast check), pressure and health, and computes the status on top of
    /// `node`; the events of the transitions it saw.
    fn compute(&mut self, node: &mut Node, regular: bool) -> Vec<NodeEvent> {
        let now = Instant::now();
        let reads = self.cadence.due(now, regular);
        if reads.runtime_status {
            self.runtime.refresh_status(&self.deps.cri, now);
        }
        if reads.images {
            match self.deps.cri.list_images(&cri::ListImagesRequest::default()) {
                Ok(list) => {
                    self.images = list.images;
                    status::sort_images(&mut self.images);
                }
                Err(e) => {
                    self.cadence.images_failed();
                    log::info!("Failed to update the image list: {e}");
                }
            }
        }
        let machine = match self.machine.take() {
            Some(machine) if !reads.version_and_machine => machine,
            _ => {
                self.runtime.refresh_version(&self.deps.cri);
                self.host.machine_info(&self.cfg.root_dir)
            }
        };
        let seen = Observed {
            machine: &machine,
            runtime: &self.runtime,
            images: &self.images,
            pressure: (self.deps.pressure)(),
            health: (self.deps.health)(),
            now: Time::now(),
            instant: now,
        };
        let node_events = status::set_node_status(node, &self.cfg, &seen, &mut self.memory);
        self.machine = Some(machine);
        node_events
    }

    /// Registers (or, without registerNode, waits for) the Node; false once stopped.
    fn register(&mut self) -> bool {
        let mut step = FAST_TICK;
        loop {
            match self.try_register() {
                Ok(node) => {
                    let uid = node.metadata.uid.clone().filter(|u| !u.is_empty());
                    log::info!(
                        "Successfully registered node {} (uid {})",
                        self.cfg.node_name,
                        uid.as_deref().unwrap_or("?")
                    );
                    self.uid.set(uid.clone());
                    self.node = Some(node);
                    self.report.reset();
                    self.fast_until = Some(Instant::now() + FAST_PERIOD);
                    self.regular_due = Instant::now();
                    if !self.started_event_sent {
                        self.started_event_sent = true;
                        let starting = NodeEvent {
                            warning: false,
                            reason: crate::events::reason::STARTING,
                            message: "Starting kubelet.".into(),
                        };
                        events::post(&self.client, &self.cfg.node_name, uid.as_deref(), &[starting]);
                    }
                    return true;
                }
                Err(e) => {
                    log::error!("Unable to register node {} with the API server: {e}", self.cfg.node_name)
                }
            }
            if !self.sleep(step) {
                return false;
            }
            step = (step * 2).min(MAX_REGISTER_BACKOFF);
        }
    }

    fn try_register(&mut self) -> Result<Node, NodeError> {
        let name = self.cfg.node_name.clone();
        if !self.cfg.register_node {
            return self.client.get(&self.node_path()).map_err(|e| NodeError::api("get", &name, e));
        }
        let mut initial = register::initial_node(&self.cfg);
        let node_events = self.compute(&mut initial, true);
        log::info!("Attempting to register node {name}");
        let post = |node: &Node| events::post(&self.client, &name, Some(node.metadata.uid()), &node_events);
        let error = match self.client.create(&ResourcePath::core("nodes"), &initial) {
            Ok(node) => {
                post(&node);
                return Ok(node);
            }
            // A kubelet may not create Nodes, yet its own may exist: upstream then GETs it too.
            Err(e) if e.is_already_exists() || e.is_forbidden() => e,
            Err(e) => return Err(NodeError::api("create", &name, e)),
        };
        log::debug!("Creating node {name}: {error}");
        let mut existing: Node =
            self.client.get(&self.node_path()).map_err(|e| NodeError::api("get existing", &name, e))?;
        log::info!("Node {name} was previously registered");
        let original = existing.clone();
        if register::reconcile_existing(&initial, &mut existing) {
            existing = self.patch(&original, &existing)?;
        }
        post(&existing);
        Ok(existing)
    }

    fn patch(&self, original: &Node, node: &Node) -> Result<Node, NodeError> {
        let name = &self.cfg.node_name;
        let Some(body) = patch::node_status_patch(original, node)? else { return Ok(original.clone()) };
        log::trace!("Patching the status of node {name}: {body}");
        let path = self.node_path().subresource("status");
        self.client
            .patch(&path, PatchKind::StrategicMerge, &body, &PatchParams::default())
            .map_err(|e| NodeError::api("patch status", name, e))
    }

    fn fast(&self) -> bool {
        self.fast_until.is_some_and(|until| Instant::now() < until)
    }

    /// One round: the regular update when it is due, else a fast start-up check.
    fn tick(&mut self) -> Outcome {
        let now = Instant::now();
        if self.fast() && now < self.regular_due {
            return match self.try_update(true) {
                Ok(()) => Outcome::Done,
                Err(e) if e.is_not_found() => Outcome::Deleted,
                Err(e) => {
                    log::error!("Error in the fast node status update, will retry: {e}");
                    Outcome::Done
                }
            };
        }
        let period = self.cfg.update_frequency;
        self.regular_due = now + period + period.mul_f64(0.04 * lease::unit_random());
        for _ in 0..UPDATE_RETRIES {
            match self.try_update(false) {
                Ok(()) => return Outcome::Done,
                Err(e) if e.is_not_found() => return Outcome::Deleted,
                Err(e) => log::error!("Error updating node status, will retry: {e}"),
            }
            if self.stop.try_recv().is_ok() {
                return Outcome::Done;
            }
        }
        log::error!("Unable to update node status: update node status exceeds retry count");
        Outcome::Done
    }

    /// Computes the status and sends it if due. `fast`: on the Node of the last answer, and
    /// only a status that turns the node Ready; else on the Node read now, when it changed
    /// or the report period ran out.
    fn try_update(&mut self, fast: bool) -> Result<(), NodeError> {
        let original = match self.node.clone().filter(|_| fast) {
            Some(node) => node,
            None => self
                .client
                .get(&self.node_path())
                .map_err(|e| NodeError::api("get", &self.cfg.node_name, e))?,
        };
        if original.metadata.uid != self.node.as_ref().and_then(|n| n.metadata.uid.clone()) {
            self.uid.set(original.metadata.uid.clone().filter(|u| !u.is_empty()));
        }
        if conditions::ready_status(&original.status.conditions) == Some(conditions::TRUE) {
            self.fast_until = None;
        }
        let mut node = original.clone();
        let node_events = self.compute(&mut node, !fast);
        let changed = status::status_changed(&original.status, &node.status)
            || original.metadata.labels != node.metadata.labels;
        let send = if fast {
            changed && conditions::ready_status(&node.status.conditions) == Some(conditions::TRUE)
        } else {
            self.report.should_report(changed, Instant::now())
        };
        if !send {
            self.node = Some(original);
            return Ok(());
        }
        self.report.sending(changed, lease::unit_random());
        let updated = self.patch(&original, &node)?;
        self.report.sent(Instant::now());
        if conditions::ready_status(&updated.status.conditions) == Some(conditions::TRUE) {
            self.fast_until = None;
        }
        events::post(&self.client, &self.cfg.node_name, self.uid.get().as_deref(), &node_events);
        self.node = Some(updated);
        Ok(())
    }
}
