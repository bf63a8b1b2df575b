//! The watch-based strategy (upstream's `watch_based_manager.go`): each referenced object has
//! a reflector of its own that lists and watches just that object
//! (`fieldSelector=metadata.name=<name>` in its namespace), because the Node authorizer lets a
//! node read only the individual objects its pods reference: a namespace-wide list or watch
//! is refused.
//!
//! One object's life on the `rk-secrets`/`rk-configmaps` thread:
//!
//! ```text
//!   first reference ──► Watching, unsynced ──snapshot──► Watching, synced ◄──events──┐
//!                            ▲      (gets wait, up to sync_wait)    │  │            │
//!                            │                                      │  └────────────┘
//!                     get ───┤   not read for max_idle (5 × syncFrequency)          │
//!                            └──────────────── Idle (watch stopped) ◄───────────────┘
//!   read while immutable ──► Immutable (watch stopped for good, object kept)
//!   last reference gone ──► dropped at once (waiters get "not registered")
//! ```
//!
//! Threads: one reflector thread (and one HTTPS connection) per distinct object being watched,
//! not per reference. Pods of a namespace share `kube-root-ca.crt`; immutable objects and
//! objects nobody read for `max_idle` are not watched. Change notes go to subscribers.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Select, Sender};

use super::ObjectError;
use super::kinds::CachedObject;
use super::manager::{Command, Lookup, Subscribers};
use super::registry::{Key, Registry};
use crate::kubeclient::{
    Client, KubeObject, ReflectorConfig, ReflectorEvent, ReflectorHandle, ResourcePath, reflector,
};

/// How often idle watches are looked for (upstream: every minute).
const IDLE_CHECK: Duration = Duration::from_secs(60);

/// A running watch of one object: its events, and the reflector to stop by dropping.
pub(crate) struct ActiveWatch<T> {
    pub events: Receiver<ReflectorEvent<T>>,
    /// Held only to stop the reflector when dropped.
    pub _reflector: Option<ReflectorHandle>,
}

/// Starts per-object watches: reflectors for real, channels in tests.
pub(crate) trait WatchStarter<T>: Send {
    fn start(&mut self, key: &Key) -> Option<ActiveWatch<T>>;
}

pub(crate) struct ReflectorStarter {
    pub client: Client,
}

impl<T: CachedObject> WatchStarter<T> for ReflectorStarter {
    fn start(&mut self, key: &Key) -> Option<ActiveWatch<T>> {
        let (tx, rx) = crossbeam_channel::bounded(16);
        let path = ResourcePath::core(T::KIND.resource()).namespace(&key.namespace);
        let mut config = ReflectorConfig::new(&format!("{}-{key}", T::KIND.short()), path);
        config.field_selector = Some(format!("metadata.name={}", key.name));
        match reflector::spawn(self.client.clone(), config, tx) {
            Ok(handle) => Some(ActiveWatch { events: rx, _reflector: Some(handle) }),
            Err(e) => {
                log::error!("cannot start a watch of {} {key}: {e}", T::KIND);
                None
            }
        }
    }
}

struct Item<T> {
    object: Option<T>,
    synced: bool,
    /// Whether a list ever answered: only then is a new version a change worth a note.
    ever_synced: bool,
    immutable: bool,
    watch: Option<ActiveWatch<T>>,
    last_access: Instant,
    waiters: Vec<(Sender<Lookup<T>>, Instant)>,
}

impl<T> Item<T> {
    fn new(now: Instant) -> Self {
        Item {
            object: None,
            synced: false,
            ever_synced: false,
            immutable: false,
            watch: None,
            last_access: now,
            waiters: Vec::new(),
        }
    }
}

/// The watch-based manager's state, owned by its thread.
pub(crate) struct WatchState<T: CachedObject> {
    registry: Registry,
    items: HashMap<Key, Item<T>>,
    starter: Box<dyn WatchStarter<T>>,
    subscribers: Subscribers,
    sync_wait: Duration,
    max_idle: Duration,
    next_idle_check: Instant,
}

impl<T: CachedObject> WatchState<T> {
    pub(crate) fn new(starter: Box<dyn WatchStarter<T>>, sync_wait: Duration, max_idle: Duration) -> Self {
        WatchState {
            registry: Registry::default(),
            items: HashMap::new(),
            starter,
            subscribers: Subscribers::default(),
            sync_wait,
            max_idle,
            next_idle_check: Instant::now() + IDLE_CHECK,
        }
    }

    pub(crate) fn command(&mut self, command: Command<T>, now: Instant) {
        match command {
            Command::Register { pod, namespace, names } => {
                let change = self.registry.register(&pod, &namespace, names);
                for key in change.first {
                    let mut item = Item::new(now);
                    item.watch = self.starter.start(&key);
                    self.items.insert(key, item);
                }
                self.drop_items(change.released);
            }
            Command::Unregister { pod } => {
                let released = self.registry.unregister(&pod);
                self.drop_items(released);
            }
            Command::Get { key, reply } => self.get(key, reply, now),
            Command::Subscribe(tx) => self.subscribers.add(tx),
            // Cache-mode commands mean nothing here.
            Command::Fetched { reply, .. } => drop(reply.send(Err(ObjectError::Stopped { kind: T::KIND }))),
            Command::SetTtl(_) => {}
        }
    }

    fn get(&mut self, key: Key, reply: Sender<Lookup<T>>, now: Instant) {
        let Some(item) = self.items.get_mut(&key) else {
            let _ = reply.send(Lookup::Done(Err(ObjectError::NotRegistered { kind: T::KIND, key })));
            return;
        };
        item.last_access = now;
        if !item.synced && item.watch.is_none() {
            log::debug!("{} {key}: read again; watching it again", T::KIND);
            item.watch = self.starter.start(&key);
        }
        if item.synced {
            if item.object.as_ref().is_some_and(T::is_immutable) && !item.immutable {
                log::debug!("{} {key} is immutable; no longer watching it", T::KIND);
                item.immutable = true;
                item.watch = None;
            }
            let _ = reply.send(Lookup::Done(Ok(item.object.clone())));
        } else {
            item.waiters.push((reply, now + self.sync_wait));
        }
    }

    /// A watch's event (`None`: its reflector ended on its own).
    pub(crate) fn on_event(&mut self, key: &Key, event: Option<ReflectorEvent<T>>) {
        let Some(item) = self.items.get_mut(key) else { return };
        let Some(event) = event else {
            log::warn!("the watch of {} {key} ended; it restarts on the next read", T::KIND);
            (item.watch, item.synced) = (None, false);
            return;
        };
        let before = version(item.object.as_ref());
        match event {
            ReflectorEvent::Snapshot(objects) => {
                item.object = objects.into_iter().find(|o| o.name() == Some(key.name.as_str()));
                item.synced = true;
                for (reply, _) in item.waiters.drain(..) {
                    let _ = reply.send(Lookup::Done(Ok(item.object.clone())));
                }
            }
            ReflectorEvent::Added(o) | ReflectorEvent::Modified(o) => item.object = Some(o),
            ReflectorEvent::Deleted(_) => item.object = None,
        }
        let changed = item.ever_synced && before != version(item.object.as_ref());
        item.ever_synced |= item.synced;
        if changed {
            self.subscribers.notify(T::KIND, key);
        }
    }

    /// Answers waiters whose time is up, and stops idle watches.
    pub(crate) fn expire(&mut self, now: Instant) {
        for (key, item) in &mut self.items {
            let (late, waiting): (Vec<_>, Vec<_>) =
                item.waiters.drain(..).partition(|(_, deadline)| *deadline <= now);
            item.waiters = waiting;
            for (reply, _) in late {
                let error =
                    ObjectError::NotSynced { kind: T::KIND, key: key.clone(), waited: self.sync_wait };
                let _ = reply.send(Lookup::Done(Err(error)));
            }
        }
        if now >= self.next_idle_check {
            self.next_idle_check = now + IDLE_CHECK;
            self.stop_idle(now);
        }
    }

    /// Stops the watches of synced objects nobody read for `max_idle` (the object is kept, to
    /// tell whether it changed meanwhile once the next read watches it again).
    pub(crate) fn stop_idle(&mut self, now: Instant) {
        for (key, item) in &mut self.items {
            if item.watch.is_some()
                && item.synced
                && !item.immutable
                && now >= item.last_access + self.max_idle
            {
                log::debug!("{} {key} not read for {:?}; no longer watching it", T::KIND, self.max_idle);
                (item.watch, item.synced) = (None, false);
            }
        }
    }

    /// When `expire` next has something to do.
    pub(crate) fn next_deadline(&self) -> Instant {
        let waiters = self.items.values().flat_map(|i| i.waiters.iter().map(|(_, d)| *d));
        waiters.min().map_or(self.next_idle_check, |d| d.min(self.next_idle_check))
    }

    /// The running watches, for the thread's select.
    pub(crate) fn watches(&self) -> Vec<(Key, Receiver<ReflectorEvent<T>>)> {
        let running =
            self.items.iter().filter_map(|(k, i)| Some((k.clone(), i.watch.as_ref()?.events.clone())));
        running.collect()
    }

    /// How many objects are watched right now (each is one reflector thread).
    pub(crate) fn watch_count(&self) -> usize {
        self.items.values().filter(|i| i.watch.is_some()).count()
    }

    fn drop_items(&mut self, keys: Vec<Key>) {
        for key in keys {
            if let Some(item) = self.items.remove(&key) {
                for (reply, _) in item.waiters {
                    let error = ObjectError::NotRegistered { kind: T::KIND, key: key.clone() };
                    let _ = reply.send(Lookup::Done(Err(error)));
                }
            }
        }
    }
}

fn version<T: KubeObject>(object: Option<&T>) -> Option<Option<String>> {
    object.map(|o| o.resource_version().map(str::to_string))
}

/// The manager thread: commands, the events of every running watch, and deadlines.
pub(crate) fn run<T: CachedObject>(mut state: WatchState<T>, commands: &Receiver<Command<T>>) {
    loop {
        let watches = state.watches();
        let mut select = Select::new();
        select.recv(commands);
        for (_, events) in &watches {
            select.recv(events);
        }
        let timeout = state.next_deadline().saturating_duration_since(Instant::now());
        if let Ok(op) = select.select_timeout(timeout) {
            match op.index() {
                0 => match op.recv(commands) {
                    Ok(command) => state.command(command, Instant::now()),
                    Err(_) => break,
                },
                i => {
                    let (key, events) = &watches[i - 1];
                    let event = op.recv(events).ok();
                    state.on_event(key, event);
                }
            }
        }
        state.expire(Instant::now());
    }
    log::debug!("{} manager: all handles dropped; stopping {} watches", T::KIND, state.watch_count());
}

#[cfg(test)]
#[path = "watch_tests.rs"]
mod tests;
