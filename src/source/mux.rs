//! `rk-mux`: merges the full sets the sources send into incremental pod updates.
//!
//! Each source sends its whole current set ([`SourceUpdate`]) on the channel from
//! [`MuxHandle::sender`]. The mux keeps each source's pods by UID, diffs the new set against
//! the previous one ([`merge`]) and sends, in upstream's order:
//! `Remove`, `Add`, `Update`, `Delete`, then [`ConfigEvent::SourceReady`] after the source's
//! first set, then `Reconcile`. Empty batches are not sent. The thread ends when every
//! sender (the handle's included) is gone, or when the receiver of its events is.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::thread::{self, JoinHandle};
use std::time::SystemTime;

use crossbeam_channel::{Receiver, Sender, unbounded};
use log::{debug, info};

use super::merge::{Changes, SourcePods, merge};
use super::static_pod::rfc3339_nano;
use super::{ConfigEvent, Op, PodUpdate, Source, SourceUpdate};

/// What the mux needs from the rest of the agent.
pub struct MuxDeps {
    /// Where pod updates and source-ready notes go (the sync loop).
    pub events: Sender<ConfigEvent>,
}

/// The running mux. Dropping it detaches the thread; the thread lives on while any source
/// still holds a sender.
pub struct MuxHandle {
    tx: Sender<SourceUpdate>,
    thread: JoinHandle<()>,
}

impl MuxHandle {
    /// A channel for one source (clone freely; every source may share it).
    pub fn sender(&self) -> Sender<SourceUpdate> {
        self.tx.clone()
    }

    /// Drops the handle's sender and waits for the thread, which ends once every source's
    /// sender is gone too.
    pub fn join(self) {
        drop(self.tx);
        // A panic on the mux thread was already reported by the panic hook.
        let _ = self.thread.join();
    }
}

/// Starts `rk-mux`.
pub fn spawn(deps: MuxDeps) -> io::Result<MuxHandle> {
    let (tx, rx) = unbounded();
    let thread = thread::Builder::new()
        .name("rk-mux".to_string())
        .spawn(move || run(&rx, &deps.events))?;
    Ok(MuxHandle { tx, thread })
}

fn run(rx: &Receiver<SourceUpdate>, events: &Sender<ConfigEvent>) {
    let mut state = MuxState::default();
    for update in rx {
        let seen = rfc3339_nano(SystemTime::now());
        for event in state.apply(update, &seen) {
            if events.send(event).is_err() {
                info!("config mux: receiver gone, stopping");
                return;
            }
        }
    }
    debug!("config mux: every source is gone, stopping");
}

/// The mux's state: each source's pods, and which sources have sent a set.
#[derive(Debug, Default)]
pub struct MuxState {
    pods: BTreeMap<Source, SourcePods>,
    seen_sources: HashSet<Source>,
}

impl MuxState {
    /// Merges one source's set and returns the events to send, in order.
    pub fn apply(&mut self, update: SourceUpdate, seen: &str) -> Vec<ConfigEvent> {
        let source = update.source;
        let previous = self.pods.remove(&source).unwrap_or_default();
        let (next, changes) = merge(&previous, update.pods, source, seen);
        self.pods.insert(source, next);
        let first_set = self.seen_sources.insert(source);
        log_changes(source, &changes);
        let Changes {
            removes,
            adds,
            updates,
            deletes,
            reconciles,
        } = changes;
        let mut events = Vec::new();
        let mut push = |op, pods: Vec<_>| {
            if !pods.is_empty() {
                events.push(ConfigEvent::Update(PodUpdate { op, source, pods }));
            }
        };
        push(Op::Remove, removes);
        push(Op::Add, adds);
        push(Op::Update, updates);
        push(Op::Delete, deletes);
        if first_set {
            events.push(ConfigEvent::SourceReady(source));
        }
        if !reconciles.is_empty() {
            events.push(ConfigEvent::Update(PodUpdate {
                op: Op::Reconcile,
                source,
                pods: reconciles,
            }));
        }
        events
    }

    /// Whether every one of `sources` has sent at least one set.
    pub fn seen_all(&self, sources: &[Source]) -> bool {
        sources.iter().all(|s| self.seen_sources.contains(s))
    }

    /// The pods a source currently has, by UID.
    pub fn pods(&self, source: Source) -> Option<&SourcePods> {
        self.pods.get(&source)
    }
}

fn log_changes(source: Source, changes: &Changes) {
    let names = |pods: &[crate::api::core::Pod]| {
        pods.iter()
            .map(|p| format!("{}/{}", p.metadata.namespace(), p.metadata.name()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (verb, pods) in [
        ("adding", &changes.adds),
        ("removing", &changes.removes),
        ("updating", &changes.updates),
        ("deleting", &changes.deletes),
    ] {
        if !pods.is_empty() {
            info!("source {source}: {verb} pods [{}]", names(pods));
        }
    }
    if !changes.reconciles.is_empty() {
        debug!(
            "source {source}: reconciling pods [{}]",
            names(&changes.reconciles)
        );
    }
}

#[cfg(test)]
#[path = "mux_tests.rs"]
mod tests;
