//! The reflector: list, then watch from the list's version, forever; what every cache of API
//! objects (pods of this node, Secrets, ConfigMaps, Services, the Node) is fed by.
//!
//! ```text
//!            ┌──────────────────────── 410 Gone / too old ◄──────────────────┐
//!            ▼                                                               │
//!   ┌──► List ──ok──► send Snapshot(items) ──► Watch(from rv) ──events──► send Added/Modified/
//!   │     │                                      ▲    │                  Deleted, rv = object's
//!   │     │ error                                │    │ stream ended     (BOOKMARK: rv only)
//!   │     ▼                                      │    ▼ normally
//!   └── Backoff ◄──────────── error ─────────────┴── Watch again from rv
//! ```
//!
//! - The first list asks for resourceVersion "0" (the watch cache may answer), as client-go
//!   does; after 410 Gone it lists at "" (most recent, paged by 500).
//! - Backoff: 800 ms doubling to 30 s, with up to 50% jitter, reset by a successful list or
//!   a watch that delivered events or ended normally.
//! - Logging: the first failure after a success is a warning, then one warning every five
//!   minutes while it lasts (debug lines in between), and an info line on recovery.
//! - Stopping: [`ReflectorHandle::stop`] or dropping the handle. The call in flight (a list
//!   or a watch stream) is cancelled by shutting its socket down, a backoff sleep is woken,
//!   and a send blocked on a full channel is abandoned.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, select};
use serde::de::DeserializeOwned;

use super::client::{Canceller, Client};
use super::error::Error;
use super::path::{ListOptions, ResourcePath, WatchOptions};
use super::watch::WatchEvent;

mod retry;
use retry::{Backoff, FailureLog};

/// What the reflector needs to know about an object.
pub trait KubeObject {
    fn namespace(&self) -> Option<&str>;
    fn name(&self) -> Option<&str>;
    fn uid(&self) -> Option<&str>;
    fn resource_version(&self) -> Option<&str>;
}

/// The API types the agent watches: all keep these in their `metadata` (an `ObjectMeta`).
macro_rules! kube_object {
    ($($ty:ty),* $(,)?) => {$(
        impl KubeObject for $ty {
            fn namespace(&self) -> Option<&str> {
                self.metadata.namespace.as_deref()
            }
            fn name(&self) -> Option<&str> {
                self.metadata.name.as_deref()
            }
            fn uid(&self) -> Option<&str> {
                self.metadata.uid.as_deref()
            }
            fn resource_version(&self) -> Option<&str> {
                self.metadata.resource_version.as_deref()
            }
        }
    )*};
}

kube_object!(
    crate::api::core::Pod,
    crate::api::core::ConfigMap,
    crate::api::core::Secret,
    crate::api::core::Service,
);

/// What a reflector sends. After every (re)list comes a `Snapshot` of everything there is:
/// replace the cache with it (objects missing from it were deleted meanwhile).
#[derive(Debug, Clone, PartialEq)]
pub enum ReflectorEvent<T> {
    Snapshot(Vec<T>),
    Added(T),
    Modified(T),
    Deleted(T),
}

/// What to list and watch.
#[derive(Debug, Clone)]
pub struct ReflectorConfig {
    /// For the thread name (`rk-reflect-<name>`) and log lines, e.g. "pods".
    pub name: String,
    /// The collection, e.g. `ResourcePath::core("pods")` or `.namespace(ns)`.
    pub path: ResourcePath,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    /// Page size of lists at the most recent version.
    pub page_size: u32,
}

impl ReflectorConfig {
    pub fn new(name: &str, path: ResourcePath) -> Self {
        ReflectorConfig { name: name.to_string(), path, label_selector: None, field_selector: None, page_size: 500 }
    }
}

/// Stops the reflector when stopped or dropped.
pub struct ReflectorHandle {
    stop: Arc<StopState>,
    wake: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ReflectorHandle {
    /// Stops the reflector and waits for its thread to end.
    pub fn stop(mut self) {
        self.signal();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            log::error!("reflector thread panicked");
        }
    }

    /// Whether the thread has ended (stopped, or its receiver went away).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    fn signal(&mut self) {
        self.stop.stopped.store(true, Ordering::SeqCst);
        self.wake.take(); // disconnects: wakes a sleep or a blocked send
        if let Some(c) = self.stop.inflight.lock().unwrap_or_else(|p| p.into_inner()).take() {
            c.cancel();
        }
    }
}

impl Drop for ReflectorHandle {
    fn drop(&mut self) {
        self.signal();
    }
}

/// Shared between the handle and the thread: the stop flag and the call to interrupt.
struct StopState {
    stopped: AtomicBool,
    inflight: Mutex<Option<Canceller>>,
}

/// Starts a reflector on its own thread, sending to `tx`.
pub fn spawn<T>(
    client: Client,
    config: ReflectorConfig,
    tx: Sender<ReflectorEvent<T>>,
) -> std::io::Result<ReflectorHandle>
where
    T: KubeObject + DeserializeOwned + Send + 'static,
{
    let stop = Arc::new(StopState { stopped: AtomicBool::new(false), inflight: Mutex::new(None) });
    let (wake_tx, wake_rx) = crossbeam_channel::bounded::<()>(0);
    let mut reflector = Reflector {
        client,
        config,
        tx,
        stop: stop.clone(),
        wake: wake_rx,
        backoff: Backoff::new(),
        failures: FailureLog::default(),
    };
    let thread = std::thread::Builder::new()
        .name(format!("rk-reflect-{}", reflector.config.name))
        .spawn(move || reflector.run())?;
    Ok(ReflectorHandle { stop, wake: Some(wake_tx), thread: Some(thread) })
}

/// A watch that ends sooner than this without events counts as a failure.
const MIN_WATCH_DURATION: Duration = Duration::from_secs(1);

/// Why a list or a watch ended.
enum Outcome {
    /// The server closed the watch (its timeout): watch again at once.
    Closed,
    /// The version is too old: list again.
    Gone,
    Failed(Error),
    Stopped,
}

struct Reflector<T> {
    client: Client,
    config: ReflectorConfig,
    tx: Sender<ReflectorEvent<T>>,
    stop: Arc<StopState>,
    wake: Receiver<()>,
    backoff: Backoff,
    failures: FailureLog,
}

impl<T: KubeObject + DeserializeOwned + Send + 'static> Reflector<T> {
    fn run(&mut self) {
        log::debug!("reflector {}: starting", self.config.name);
        // "0" first (any version, cheap), "" (most recent) after a 410.
        let mut list_version = String::from("0");
        'relist: loop {
            let mut version = match self.list(&list_version) {
                Ok(version) => version,
                Err(Outcome::Stopped) => break,
                Err(Outcome::Gone) => {
                    list_version.clear();
                    continue;
                }
                Err(Outcome::Failed(e)) => {
                    if !self.fail(&e) {
                        break;
                    }
                    continue;
                }
                Err(Outcome::Closed) => continue,
            };
            loop {
                match self.watch(&mut version) {
                    Outcome::Closed => {}
                    Outcome::Gone => {
                        log::debug!("reflector {}: resource version {version} is too old; relisting", self.config.name);
                        list_version.clear();
                        continue 'relist;
                    }
                    Outcome::Failed(e) => {
                        if !self.fail(&e) {
                            break 'relist;
                        }
                    }
                    Outcome::Stopped => break 'relist,
                }
            }
        }
        log::debug!("reflector {}: stopped", self.config.name);
    }

    /// Lists everything (following pages), sends the snapshot, returns the list's version.
    fn list(&mut self, version: &str) -> Result<String, Outcome> {
        let (client, canceller) = self.client.cancellable();
        if !self.register(canceller) {
            return Err(Outcome::Stopped);
        }
        let mut opts = ListOptions {
            label_selector: self.config.label_selector.clone(),
            field_selector: self.config.field_selector.clone(),
            resource_version: Some(version.to_string()).filter(|v| !v.is_empty()),
            limit: version.is_empty().then_some(self.config.page_size).filter(|&l| l > 0),
            ..Default::default()
        };
        let mut items = Vec::new();
        let list_version = loop {
            let page = match client.list::<T>(&self.config.path, &opts) {
                Ok(page) => page,
                Err(e) if self.stopped() => return Err(self.stopped_after(e)),
                // An expired continue token: list again in one piece.
                Err(e) if e.is_gone() && opts.continue_token.is_some() => {
                    (opts.limit, opts.continue_token) = (None, None);
                    items.clear();
                    continue;
                }
                Err(e) if e.is_gone() => return Err(Outcome::Gone),
                Err(e) => return Err(Outcome::Failed(e)),
            };
            items.extend(page.items);
            match page.metadata.continue_token.filter(|c| !c.is_empty()) {
                Some(token) => opts.continue_token = Some(token),
                None => break page.metadata.resource_version,
            }
        };
        log::debug!("reflector {}: listed {} objects at version {list_version}", self.config.name, items.len());
        self.succeeded();
        if !self.send(ReflectorEvent::Snapshot(items)) {
            return Err(Outcome::Stopped);
        }
        Ok(list_version)
    }

    /// One watch from `version`, sending its events and moving `version` along.
    fn watch(&mut self, version: &mut String) -> Outcome {
        let opts = WatchOptions {
            label_selector: self.config.label_selector.clone(),
            field_selector: self.config.field_selector.clone(),
            resource_version: Some(version.clone()),
            timeout_seconds: None,
            allow_watch_bookmarks: true,
        };
        let (client, canceller) = self.client.cancellable();
        if !self.register(canceller) {
            return Outcome::Stopped;
        }
        let started = Instant::now();
        let mut events = 0usize;
        let watch = match client.watch::<T>(&self.config.path, &opts) {
            Ok(watch) => watch,
            Err(e) if self.stopped() => return self.stopped_after(e),
            Err(e) if e.is_gone() => return Outcome::Gone,
            Err(e) => return Outcome::Failed(e),
        };
        for event in watch {
            events += 1;
            let sent = match event {
                Ok(WatchEvent::Added(o)) => self.deliver(version, o, ReflectorEvent::Added),
                Ok(WatchEvent::Modified(o)) => self.deliver(version, o, ReflectorEvent::Modified),
                Ok(WatchEvent::Deleted(o)) => self.deliver(version, o, ReflectorEvent::Deleted),
                Ok(WatchEvent::Bookmark { resource_version }) => {
                    if !resource_version.is_empty() {
                        *version = resource_version;
                    }
                    true
                }
                Ok(WatchEvent::Error(status)) => {
                    let e = Error::from_status("GET", &self.path_text(), &status);
                    return if e.is_gone() { Outcome::Gone } else { Outcome::Failed(e) };
                }
                Err(e) => return Outcome::Failed(e),
            };
            if !sent {
                return Outcome::Stopped;
            }
            self.succeeded();
        }
        if self.stopped() {
            return Outcome::Stopped;
        }
        if events == 0 && started.elapsed() < MIN_WATCH_DURATION {
            // A watch the server (or a proxy) ends at once: do not spin on it.
            let detail = format!("watch closed after {:?} without events", started.elapsed());
            return Outcome::Failed(Error::Transport { method: "GET", path: self.path_text(), detail });
        }
        self.succeeded();
        Outcome::Closed
    }

    fn deliver(&self, version: &mut String, object: T, wrap: fn(T) -> ReflectorEvent<T>) -> bool {
        if let Some(rv) = object.resource_version().filter(|rv| !rv.is_empty()) {
            rv.clone_into(version);
        }
        log::trace!(
            "reflector {}: {}/{} at {version}",
            self.config.name,
            object.namespace().unwrap_or_default(),
            object.name().unwrap_or_default()
        );
        self.send(wrap(object))
    }

    /// Sends unless stopped meanwhile; false when the reflector must end.
    fn send(&self, event: ReflectorEvent<T>) -> bool {
        select! {
            send(self.tx, event) -> sent => sent.is_ok(),
            recv(self.wake) -> _ => false,
        }
    }

    /// The watched path, for errors made up here.
    fn path_text(&self) -> String {
        self.config.path.to_path().unwrap_or_default() + "?watch=1"
    }

    fn stopped(&self) -> bool {
        self.stop.stopped.load(Ordering::SeqCst)
    }

    fn stopped_after(&self, e: Error) -> Outcome {
        log::trace!("reflector {}: interrupted: {e}", self.config.name);
        Outcome::Stopped
    }

    /// Makes `canceller` the call to interrupt on stop; false if already stopped.
    fn register(&self, canceller: Canceller) -> bool {
        let mut slot = self.stop.inflight.lock().unwrap_or_else(|p| p.into_inner());
        *slot = Some(canceller.clone());
        drop(slot);
        if self.stopped() {
            canceller.cancel();
            return false;
        }
        true
    }

    fn succeeded(&mut self) {
        self.backoff.reset();
        self.failures.recovered(&self.config.name);
    }

    /// Logs `e` and sleeps the backoff; false if stopped meanwhile.
    fn fail(&mut self, e: &Error) -> bool {
        let delay = self.backoff.next_delay();
        self.failures.failed(&self.config.name, e, delay);
        matches!(self.wake.recv_timeout(delay), Err(RecvTimeoutError::Timeout))
    }
}
