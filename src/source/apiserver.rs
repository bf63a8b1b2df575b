//! `rk-src-api`: the pods the API server binds to this node (upstream's
//! `NewSourceApiserver`), as full sets for the mux.
//!
//! ```text
//!  wait for node sync ──► reflector (rk-reflect-pods): list + watch pods in all namespaces,
//!  (node_synced)           fieldSelector=spec.nodeName=<node>; resumes from the last
//!                          resourceVersion, bookmarks, relist on 410, backoff on errors
//!                               │ Snapshot / Added / Modified / Deleted
//!                               ▼
//!                          PodSet (by UID) ──► Coalescer ──► SourceUpdate{Api, whole set}
//!                                              at once when idle, then at most one per
//!                                              `min_interval` while events keep coming
//! ```
//!
//! The first set (the first list's snapshot, even empty) is what makes the API source ready
//! in the mux. Each set sent also goes to the optional `observer` (the mirror manager keeps
//! the mirror pods from it).

use std::collections::BTreeMap;
use std::io;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, after, bounded, never, select};

use super::{Source, SourceUpdate};
use crate::api::core::Pod;
use crate::kubeclient::{Client, ReflectorConfig, ReflectorEvent, ResourcePath, reflector};

/// How the source runs.
#[derive(Debug, Clone)]
pub struct ApiSourceConfig {
    pub node_name: String,
    /// At most one set per this interval while events keep coming.
    pub min_interval: Duration,
}

impl ApiSourceConfig {
    pub fn new(node_name: &str) -> Self {
        ApiSourceConfig { node_name: node_name.to_string(), min_interval: Duration::from_millis(100) }
    }
}

/// Answers whether the node's own object has been seen (upstream waits for the node
/// informer's sync before watching pods).
pub type NodeSynced = Box<dyn Fn() -> bool + Send>;

/// What the source talks to.
pub struct ApiSourceDeps {
    /// The kubelet's client.
    pub client: Client,
    /// The mux ([`super::mux::MuxHandle::sender`]).
    pub updates: Sender<SourceUpdate>,
    /// `None`: watch at once.
    pub node_synced: Option<NodeSynced>,
    /// Also gets every set sent (e.g. `mirror::MirrorHandle::observer`).
    pub observer: Option<Sender<Vec<Pod>>>,
}

/// The running source; stopping (or dropping) it ends the reflector and the thread.
pub struct ApiSourceHandle {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ApiSourceHandle {
    pub fn stop(mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take()
            && t.join().is_err()
        {
            log::error!("API pod source thread panicked");
        }
    }

    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }
}

impl Drop for ApiSourceHandle {
    fn drop(&mut self) {
        self.stop.take(); // disconnects: the thread sees it and ends
    }
}

/// Starts `rk-src-api`.
pub fn spawn(cfg: ApiSourceConfig, deps: ApiSourceDeps) -> io::Result<ApiSourceHandle> {
    let (stop_tx, stop_rx) = bounded::<()>(0);
    let thread = thread::Builder::new().name("rk-src-api".into()).spawn(move || run(&cfg, deps, &stop_rx))?;
    Ok(ApiSourceHandle { stop: Some(stop_tx), thread: Some(thread) })
}

/// How often the node's sync is checked (upstream's `WaitForAPIServerSyncPeriod`).
const NODE_SYNC_POLL: Duration = Duration::from_secs(1);

fn run(cfg: &ApiSourceConfig, deps: ApiSourceDeps, stop: &Receiver<()>) {
    if let Some(synced) = &deps.node_synced {
        log::info!("waiting for node sync before watching apiserver pods");
        while !synced() {
            select! {
                recv(stop) -> _ => return,
                recv(after(NODE_SYNC_POLL)) -> _ => log::trace!("node sync has not completed yet"),
            }
        }
    }
    log::info!("watching apiserver pods of node {}", cfg.node_name);
    let (tx, events) = bounded(256);
    let mut rc = ReflectorConfig::new("pods", ResourcePath::core("pods"));
    rc.field_selector = Some(format!("spec.nodeName={}", cfg.node_name));
    let reflector = match reflector::spawn(deps.client.clone(), rc, tx) {
        Ok(r) => r,
        Err(e) => {
            log::error!("starting the API pod source's reflector: {e}");
            return;
        }
    };
    let mut set = PodSet::default();
    let mut pace = Coalescer::new(cfg.min_interval);
    loop {
        let wait = match pace.deadline() {
            Some(at) => after(at.saturating_duration_since(Instant::now())),
            None => never(),
        };
        select! {
            recv(events) -> ev => {
                let Ok(ev) = ev else { break };
                set.apply(ev);
                events.try_iter().for_each(|ev| set.apply(ev));
                pace.changed();
            }
            recv(wait) -> _ => {}
            recv(stop) -> _ => break,
        }
        if pace.due(Instant::now()) {
            if !send(&deps, set.pods()) {
                break;
            }
            pace.sent(Instant::now());
        }
    }
    reflector.stop();
    log::debug!("API pod source stopped");
}

/// False when the mux is gone.
fn send(deps: &ApiSourceDeps, pods: Vec<Pod>) -> bool {
    if let Some(observer) = &deps.observer {
        let _ = observer.send(pods.clone());
    }
    let sent = deps.updates.send(SourceUpdate { source: Source::Api, pods }).is_ok();
    if !sent {
        log::info!("API pod source: the mux is gone, stopping");
    }
    sent
}

/// The pods the API server has bound to the node, by UID.
#[derive(Debug, Default)]
pub struct PodSet {
    pods: BTreeMap<String, Pod>,
}

impl PodSet {
    pub fn apply(&mut self, event: ReflectorEvent<Pod>) {
        match event {
            ReflectorEvent::Snapshot(pods) => {
                self.pods = pods.into_iter().map(|p| (key(&p), p)).collect();
            }
            ReflectorEvent::Added(p) | ReflectorEvent::Modified(p) => {
                self.pods.insert(key(&p), p);
            }
            ReflectorEvent::Deleted(p) => {
                self.pods.remove(&key(&p));
            }
        }
    }

    /// The whole set, ordered by UID.
    pub fn pods(&self) -> Vec<Pod> {
        self.pods.values().cloned().collect()
    }
}

/// The UID (the API always sets one); namespace/name if not.
fn key(pod: &Pod) -> String {
    match pod.metadata.uid() {
        "" => format!("{}/{}", pod.metadata.namespace(), pod.metadata.name()),
        uid => uid.to_string(),
    }
}

/// When to send the set: at once after a quiet spell, else `interval` after the last send.
#[derive(Debug)]
pub struct Coalescer {
    interval: Duration,
    last_sent: Option<Instant>,
    pending: bool,
}

impl Coalescer {
    pub fn new(interval: Duration) -> Self {
        Coalescer { interval, last_sent: None, pending: false }
    }

    pub fn changed(&mut self) {
        self.pending = true;
    }

    /// When the pending set is to go; `None` when nothing is pending.
    pub fn deadline(&self) -> Option<Instant> {
        if !self.pending {
            return None;
        }
        Some(self.last_sent.map_or_else(Instant::now, |t| t + self.interval))
    }

    pub fn due(&self, now: Instant) -> bool {
        self.pending && self.last_sent.is_none_or(|t| now >= t + self.interval)
    }

    pub fn sent(&mut self, now: Instant) {
        self.pending = false;
        self.last_sent = Some(now);
    }
}

#[cfg(test)]
#[path = "apiserver_tests.rs"]
mod tests;
