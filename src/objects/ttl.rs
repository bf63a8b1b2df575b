//! The cache-based strategy (`configMapAndSecretChangeDetectionStrategy: Cache`, upstream's
//! `cache_based_manager.go`): a read GETs the object when its cached copy is older than the
//! TTL (one minute, or the node's `node.alpha.kubernetes.io/ttl` annotation).
//!
//! Rules kept from upstream:
//! - only an existing object is cached; "not found" and errors are asked again on every read;
//! - a pod registering a reference clears the cached copy, so a new pod sees fresh data;
//! - a failed refresh returns the last good copy; the very first failure is returned as is;
//! - a copy older (by resourceVersion) than the cached one does not replace it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use super::ObjectError;
use super::kinds::CachedObject;
use super::manager::{Command, Lookup, Subscribers};
use super::registry::{Key, Registry};
use crate::kubeclient::KubeObject;

struct Fetched<T> {
    result: Result<Option<T>, ObjectError>,
    at: Instant,
}

/// The cache-based manager's state, owned by its thread.
pub(crate) struct TtlState<T> {
    registry: Registry,
    /// A referenced object's last fetch, if any since it was (re)referenced.
    entries: HashMap<Key, Option<Fetched<T>>>,
    default_ttl: Duration,
    node_ttl: Option<Duration>,
    subscribers: Subscribers,
}

impl<T: CachedObject> TtlState<T> {
    pub(crate) fn new(default_ttl: Duration) -> Self {
        TtlState {
            registry: Registry::default(),
            entries: HashMap::new(),
            default_ttl,
            node_ttl: None,
            subscribers: Subscribers::default(),
        }
    }

    pub(crate) fn command(&mut self, command: Command<T>, now: Instant) {
        match command {
            Command::Register { pod, namespace, names } => {
                let change = self.registry.register(&pod, &namespace, names);
                for key in change.referenced {
                    self.entries.insert(key, None);
                }
                for key in change.released {
                    self.entries.remove(&key);
                }
            }
            Command::Unregister { pod } => {
                for key in self.registry.unregister(&pod) {
                    self.entries.remove(&key);
                }
            }
            Command::Get { key, reply } => {
                let _ = reply.send(self.lookup(key, now));
            }
            Command::Fetched { key, result, reply } => {
                let _ = reply.send(self.store(key, result, now));
            }
            Command::Subscribe(tx) => self.subscribers.add(tx),
            Command::SetTtl(ttl) => self.node_ttl = ttl,
        }
    }

    fn lookup(&self, key: Key, now: Instant) -> Lookup<T> {
        let Some(entry) = self.entries.get(&key) else {
            return Lookup::Done(Err(ObjectError::NotRegistered { kind: T::KIND, key }));
        };
        let ttl = self.node_ttl.unwrap_or(self.default_ttl);
        match entry {
            Some(Fetched { result: Ok(Some(object)), at }) if now < *at + ttl => {
                Lookup::Done(Ok(Some(object.clone())))
            }
            _ => Lookup::Fetch,
        }
    }

    fn store(
        &mut self,
        key: Key,
        result: Result<Option<T>, ObjectError>,
        now: Instant,
    ) -> Result<Option<T>, ObjectError> {
        // Unregistered while the GET ran: hand the answer through, keep nothing.
        let Some(entry) = self.entries.get_mut(&key) else { return result };
        let previous = entry.as_ref().map(|f| match &f.result {
            Ok(object) => Ok(object.as_ref().map(|o| o.resource_version().map(str::to_string))),
            Err(e) => Err(e.clone()),
        });
        let take = match (&result, entry.as_ref()) {
            // The first answer ever is an error: report it, cache nothing.
            (Err(_), None) => return result,
            (Err(_), Some(_)) => false,
            (Ok(None), _) => true,
            (Ok(Some(new)), Some(Fetched { result: Ok(Some(old)), .. })) => !is_older(new, old),
            (Ok(Some(_)), _) => true,
        };
        if take {
            let version_now =
                result.as_ref().ok().map(|o| o.as_ref().map(|o| o.resource_version().map(str::to_string)));
            let changed =
                matches!((&previous, &version_now), (Some(Ok(before)), Some(after)) if before != after);
            *entry = Some(Fetched { result, at: now });
            if changed {
                self.subscribers.notify(T::KIND, &key);
            }
        }
        match entry {
            Some(f) => f.result.clone(),
            None => Err(ObjectError::Stopped { kind: T::KIND }),
        }
    }
}

/// Upstream compares resourceVersions as integers; unparsable ones are never older.
fn is_older<T: KubeObject>(new: &T, old: &T) -> bool {
    let parse = |o: &T| o.resource_version().and_then(|v| v.parse::<u64>().ok());
    matches!((parse(new), parse(old)), (Some(n), Some(o)) if n < o)
}

/// The manager thread: commands only (the GETs run on the callers' threads).
pub(crate) fn run<T: CachedObject>(mut state: TtlState<T>, commands: &Receiver<Command<T>>) {
    for command in commands {
        state.command(command, Instant::now());
    }
    log::debug!("{} manager: all handles dropped; stopping", T::KIND);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::core::ConfigMap;

    fn cm(rv: &str) -> ConfigMap {
        let mut c = ConfigMap::default();
        c.metadata.name = Some("cm".into());
        c.metadata.resource_version = Some(rv.into());
        c
    }

    fn lookup(s: &mut TtlState<ConfigMap>, now: Instant) -> Lookup<ConfigMap> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        s.command(Command::Get { key: Key::new("ns", "cm"), reply: tx }, now);
        rx.recv().expect("answer")
    }

    fn fetched(
        s: &mut TtlState<ConfigMap>,
        result: Result<Option<ConfigMap>, ObjectError>,
        now: Instant,
    ) -> Result<Option<ConfigMap>, ObjectError> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        s.command(Command::Fetched { key: Key::new("ns", "cm"), result, reply: tx }, now);
        rx.recv().expect("answer")
    }

    fn register(s: &mut TtlState<ConfigMap>, pod: &str, now: Instant) {
        let names = ["cm".to_string()].into();
        s.command(Command::Register { pod: pod.into(), namespace: "ns".into(), names }, now);
    }

    fn rv(r: &Result<Option<ConfigMap>, ObjectError>) -> Option<&str> {
        r.as_ref().ok()?.as_ref()?.metadata.resource_version.as_deref()
    }

    #[test]
    fn fresh_copies_are_served_stale_ones_fetched() {
        let t0 = Instant::now();
        let mut s = TtlState::<ConfigMap>::new(Duration::from_secs(60));
        let (tx, changes) = crossbeam_channel::unbounded();
        s.command(Command::Subscribe(tx), t0);
        assert!(matches!(lookup(&mut s, t0), Lookup::Done(Err(ObjectError::NotRegistered { .. }))));
        register(&mut s, "p1", t0);
        assert!(matches!(lookup(&mut s, t0), Lookup::Fetch));
        assert_eq!(rv(&fetched(&mut s, Ok(Some(cm("5"))), t0)), Some("5"));
        assert!(matches!(lookup(&mut s, t0 + Duration::from_secs(59)), Lookup::Done(Ok(Some(_)))));
        let later = t0 + Duration::from_secs(60);
        assert!(matches!(lookup(&mut s, later), Lookup::Fetch), "expired after the TTL");
        // An older copy (a lagging cache) does not replace the newer one.
        assert_eq!(rv(&fetched(&mut s, Ok(Some(cm("4"))), later)), Some("5"));
        assert!(changes.try_recv().is_err());
        assert_eq!(rv(&fetched(&mut s, Ok(Some(cm("6"))), later)), Some("6"));
        assert_eq!(changes.try_recv().map(|c| c.name).ok().as_deref(), Some("cm"));
        // The node's TTL annotation wins over the default.
        s.command(Command::SetTtl(Some(Duration::from_secs(5))), later);
        assert!(matches!(lookup(&mut s, later + Duration::from_secs(5)), Lookup::Fetch));
    }

    #[test]
    fn errors_fall_back_to_the_last_good_copy_and_not_found_is_never_cached() {
        let t0 = Instant::now();
        let mut s = TtlState::<ConfigMap>::new(Duration::from_secs(60));
        register(&mut s, "p1", t0);
        let err = || ObjectError::Api {
            kind: super::super::ObjectKind::ConfigMap,
            key: Key::new("ns", "cm"),
            detail: "503".into(),
        };
        assert!(fetched(&mut s, Err(err()), t0).is_err(), "the first failure is reported");
        assert_eq!(fetched(&mut s, Ok(None), t0), Ok(None));
        assert!(matches!(lookup(&mut s, t0), Lookup::Fetch), "not found is asked again");
        fetched(&mut s, Ok(Some(cm("7"))), t0).expect("stored");
        let later = t0 + Duration::from_secs(120);
        assert_eq!(
            rv(&fetched(&mut s, Err(err()), later)),
            Some("7"),
            "a failed refresh serves the last copy"
        );
        // A new pod referencing it clears the copy: it is fetched again at once.
        register(&mut s, "p2", t0);
        assert!(matches!(lookup(&mut s, t0), Lookup::Fetch));
        s.command(Command::Unregister { pod: "p1".into() }, t0);
        assert!(matches!(lookup(&mut s, t0), Lookup::Fetch), "still referenced by p2");
        s.command(Command::Unregister { pod: "p2".into() }, t0);
        assert!(matches!(lookup(&mut s, t0), Lookup::Done(Err(ObjectError::NotRegistered { .. }))));
    }
}
