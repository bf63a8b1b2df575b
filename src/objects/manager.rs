//! [`ObjectManager`]: the handle of one manager (Secrets or ConfigMaps), whatever its
//! change-detection strategy, and the commands its thread takes.
//!
//! ```text
//!  Watch: handle ──Get──► rk-secrets ──(synced)──► object          one reflector per object
//!  Cache: handle ──Get──► rk-secrets ──fresh?──► object
//!                                    └─stale──► handle GETs it ──Fetched──► rk-secrets merges ──► object
//!  Get:   handle ──GET──► API server (no thread, no state)
//! ```
//!
//! In Cache mode the GET runs on the caller's thread, so one slow object never holds up the
//! manager (upstream locks per object for the same reason).

use std::collections::BTreeSet;
use std::time::Duration;

use crossbeam_channel::{Sender, TrySendError};

use super::kinds::CachedObject;
use super::registry::Key;
use super::watch::ReflectorStarter;
use super::{ObjectChanged, ObjectError, ObjectKind, ObjectsConfig, Strategy, ttl, watch};
use crate::api::core::Pod;
use crate::kubeclient::{Client, ResourcePath};

/// Beyond the bounded sync wait, how long a caller waits for the manager thread to answer.
const REPLY_MARGIN: Duration = Duration::from_secs(2);

/// What a manager thread is asked.
pub(crate) enum Command<T> {
    Register {
        pod: String,
        namespace: String,
        names: BTreeSet<String>,
    },
    Unregister {
        pod: String,
    },
    Get {
        key: Key,
        reply: Sender<Lookup<T>>,
    },
    /// Cache mode: what the caller's GET returned.
    Fetched {
        key: Key,
        result: Result<Option<T>, ObjectError>,
        reply: Sender<Result<Option<T>, ObjectError>>,
    },
    Subscribe(Sender<ObjectChanged>),
    /// Cache mode: the node's `node.alpha.kubernetes.io/ttl` annotation, if any.
    SetTtl(Option<Duration>),
}

/// The answer to a `Get`.
pub(crate) enum Lookup<T> {
    Done(Result<Option<T>, ObjectError>),
    /// Cache mode: the cached copy is missing or stale; GET it and send `Fetched`.
    Fetch,
}

/// Who wants to hear about changes.
#[derive(Default)]
pub(crate) struct Subscribers(Vec<Sender<ObjectChanged>>);

impl Subscribers {
    pub(crate) fn add(&mut self, tx: Sender<ObjectChanged>) {
        self.0.push(tx);
    }

    /// Never blocks: a full subscriber misses the note (give an unbounded channel), a gone
    /// one is forgotten.
    pub(crate) fn notify(&mut self, kind: ObjectKind, key: &Key) {
        log::debug!("{kind} {key} changed");
        self.0.retain(|tx| {
            let note = ObjectChanged { kind, namespace: key.namespace.clone(), name: key.name.clone() };
            match tx.try_send(note) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    log::warn!("{kind} {key} changed, but a subscriber's channel is full");
                    true
                }
                Err(TrySendError::Disconnected(_)) => false,
            }
        });
    }
}

/// The handle of a Secret or ConfigMap manager. Clones share the thread.
pub struct ObjectManager<T> {
    client: Client,
    tx: Option<Sender<Command<T>>>,
    sync_wait: Duration,
}

impl<T> Clone for ObjectManager<T> {
    fn clone(&self) -> Self {
        ObjectManager { client: self.client.clone(), tx: self.tx.clone(), sync_wait: self.sync_wait }
    }
}

impl<T> std::fmt::Debug for ObjectManager<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectManager").field("threaded", &self.tx.is_some()).finish_non_exhaustive()
    }
}

impl<T: CachedObject> ObjectManager<T> {
    /// Starts the manager (`rk-secrets` / `rk-configmaps`; none for the Get strategy). The
    /// thread ends when the last handle is dropped.
    pub fn spawn(client: Client, config: &ObjectsConfig) -> std::io::Result<Self> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let name = T::KIND.thread_name().to_string();
        match config.strategy {
            Strategy::Get => return Ok(ObjectManager { client, tx: None, sync_wait: config.sync_wait }),
            Strategy::Watch => {
                let starter = Box::new(ReflectorStarter { client: client.clone() });
                let state = watch::WatchState::<T>::new(starter, config.sync_wait, config.max_idle);
                std::thread::Builder::new().name(name).spawn(move || watch::run(state, &rx))?;
            }
            Strategy::Cache => {
                let state = ttl::TtlState::<T>::new(config.ttl);
                std::thread::Builder::new().name(name).spawn(move || ttl::run(state, &rx))?;
            }
        }
        Ok(ObjectManager { client, tx: Some(tx), sync_wait: config.sync_wait })
    }

    /// Starts caching what `pod` references (call on every add and update of a pod).
    pub fn register_pod(&self, pod: &Pod) {
        let (pod_key, namespace) = pod_key(pod);
        self.send(Command::Register { pod: pod_key, namespace, names: T::referenced_names(pod) });
    }

    /// Releases what `pod` referenced (call once the pod is gone from the node).
    pub fn unregister_pod(&self, pod: &Pod) {
        self.send(Command::Unregister { pod: pod_key(pod).0 });
    }

    /// Tells `tx` about every change of a cached object (Watch: as the watch sees it; Cache:
    /// when a refresh finds a new version; Get: never).
    pub fn subscribe(&self, tx: Sender<ObjectChanged>) {
        self.send(Command::Subscribe(tx));
    }

    /// Cache mode: the TTL from the node's `node.alpha.kubernetes.io/ttl` annotation (see
    /// [`super::ttl_from_node`]); `None` goes back to the default of one minute.
    pub fn set_ttl(&self, ttl: Option<Duration>) {
        self.send(Command::SetTtl(ttl));
    }

    /// The object: `Ok(None)` if it does not exist. Only objects referenced by a registered
    /// pod can be read (Watch and Cache modes). A freshly registered object is waited for
    /// (up to the configured sync wait).
    pub fn get(&self, namespace: &str, name: &str) -> Result<Option<T>, ObjectError> {
        let Some(tx) = &self.tx else { return self.fetch(namespace, name) };
        let key = Key::new(namespace, name);
        let stopped = || ObjectError::Stopped { kind: T::KIND };
        let (reply, answer) = crossbeam_channel::bounded(1);
        tx.send(Command::Get { key: key.clone(), reply }).map_err(|_| stopped())?;
        match answer.recv_timeout(self.sync_wait + REPLY_MARGIN).map_err(|_| stopped())? {
            Lookup::Done(result) => result,
            Lookup::Fetch => {
                let result = self.fetch(namespace, name);
                let (reply, answer) = crossbeam_channel::bounded(1);
                tx.send(Command::Fetched { key, result, reply }).map_err(|_| stopped())?;
                answer.recv_timeout(REPLY_MARGIN).map_err(|_| stopped())?
            }
        }
    }

    /// One GET from the API server.
    fn fetch(&self, namespace: &str, name: &str) -> Result<Option<T>, ObjectError> {
        let path = ResourcePath::core(T::KIND.resource()).namespace(namespace).name(name);
        match self.client.get::<T>(&path) {
            Ok(object) => Ok(Some(object)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => {
                Err(ObjectError::Api { kind: T::KIND, key: Key::new(namespace, name), detail: e.to_string() })
            }
        }
    }

    fn send(&self, command: Command<T>) {
        if let Some(tx) = &self.tx
            && tx.send(command).is_err()
        {
            log::error!("the {} manager thread is gone", T::KIND);
        }
    }
}

/// Pods are registered by UID (static pods have one too); `namespace/name` only if it is unset.
fn pod_key(pod: &Pod) -> (String, String) {
    let m = &pod.metadata;
    let key =
        if m.uid().is_empty() { format!("{}/{}", m.namespace(), m.name()) } else { m.uid().to_string() };
    (key, m.namespace().to_string())
}
