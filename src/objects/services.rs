//! Services, for the service-link environment variables (upstream's service informer in
//! `NewMainKubelet`): one reflector over the Services of every namespace (nodes may list and
//! watch them), without headless ones (`spec.clusterIP!=None`, as upstream, which never needs
//! them), cached by namespace on the `rk-services` thread.
//!
//! Upstream refuses to build the environment of an API pod until the informer has synced
//! once (`serviceHasSynced`), so a pod started right after a kubelet restart still gets
//! `KUBERNETES_SERVICE_HOST`. Here [`ServiceCache::wait_synced`] waits a bounded time for
//! that first list, then answers; [`ServiceCache::services`] never waits (static pods do not).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, select};

use crate::api::core::Service;
use crate::kubeclient::{Client, ReflectorConfig, ReflectorEvent, ReflectorHandle, ResourcePath, reflector};

/// Where the `kubernetes` service lives (upstream's `masterServiceNamespace`).
const MASTER_NAMESPACE: &str = "default";
const MASTER_SERVICE: &str = "kubernetes";

enum Command {
    List { namespace: String, reply: Sender<Vec<Service>> },
    WaitSynced { deadline: Instant, reply: Sender<bool> },
}

/// The handle of `rk-services`. Clones share the thread; it ends with the last clone.
#[derive(Debug, Clone)]
pub struct ServiceCache {
    tx: Sender<Command>,
    sync_wait: Duration,
}

impl ServiceCache {
    pub fn spawn(client: Client, sync_wait: Duration) -> std::io::Result<ServiceCache> {
        let (events_tx, events) = crossbeam_channel::bounded(64);
        let mut config = ReflectorConfig::new("services", ResourcePath::core("services"));
        config.field_selector = Some("spec.clusterIP!=None".into());
        let reflector = reflector::spawn(client, config, events_tx)?;
        ServiceCache::spawn_with(events, Some(reflector), sync_wait)
    }

    /// With any source of events (tests feed a channel).
    pub(crate) fn spawn_with(
        events: Receiver<ReflectorEvent<Service>>,
        reflector: Option<ReflectorHandle>,
        sync_wait: Duration,
    ) -> std::io::Result<ServiceCache> {
        let (tx, rx) = crossbeam_channel::unbounded();
        std::thread::Builder::new().name("rk-services".into()).spawn(move || {
            let _reflector = reflector; // stops with this thread
            run(ServiceState::default(), &rx, events);
        })?;
        Ok(ServiceCache { tx, sync_wait })
    }

    /// The Services of `namespace` and, for any other namespace, `default/kubernetes`: all the
    /// environment builder needs (it filters further). Empty if the thread is gone.
    pub fn services(&self, namespace: &str) -> Vec<Service> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        if self.tx.send(Command::List { namespace: namespace.to_string(), reply }).is_err() {
            log::error!("the service cache thread is gone");
            return Vec::new();
        }
        answer.recv().unwrap_or_default()
    }

    /// Whether the Services have been listed once, waiting for it up to the sync wait.
    pub fn wait_synced(&self) -> bool {
        let (reply, answer) = crossbeam_channel::bounded(1);
        let deadline = Instant::now() + self.sync_wait;
        self.tx.send(Command::WaitSynced { deadline, reply }).is_ok() && answer.recv().unwrap_or(false)
    }
}

/// `rk-services`' state.
#[derive(Default)]
struct ServiceState {
    by_namespace: HashMap<String, BTreeMap<String, Service>>,
    synced: bool,
    waiters: Vec<(Sender<bool>, Instant)>,
}

impl ServiceState {
    fn apply(&mut self, event: ReflectorEvent<Service>) {
        match event {
            ReflectorEvent::Snapshot(services) => {
                self.by_namespace.clear();
                for s in services {
                    self.insert(s);
                }
                self.synced = true;
                for (reply, _) in self.waiters.drain(..) {
                    let _ = reply.send(true);
                }
            }
            ReflectorEvent::Added(s) | ReflectorEvent::Modified(s) => self.insert(s),
            ReflectorEvent::Deleted(s) => {
                let ns = s.metadata.namespace();
                if let Some(services) = self.by_namespace.get_mut(ns) {
                    services.remove(s.metadata.name());
                    if services.is_empty() {
                        self.by_namespace.remove(ns);
                    }
                }
            }
        }
    }

    fn insert(&mut self, s: Service) {
        let (ns, name) = (s.metadata.namespace().to_string(), s.metadata.name().to_string());
        self.by_namespace.entry(ns).or_default().insert(name, s);
    }

    fn list(&self, namespace: &str) -> Vec<Service> {
        let own = self.by_namespace.get(namespace).into_iter().flat_map(|m| m.values());
        let master = (namespace != MASTER_NAMESPACE)
            .then(|| self.by_namespace.get(MASTER_NAMESPACE)?.get(MASTER_SERVICE))
            .flatten();
        own.chain(master).cloned().collect()
    }

    fn command(&mut self, command: Command, now: Instant) {
        match command {
            Command::List { namespace, reply } => drop(reply.send(self.list(&namespace))),
            Command::WaitSynced { reply, .. } if self.synced => drop(reply.send(true)),
            Command::WaitSynced { deadline, reply } if deadline <= now => drop(reply.send(false)),
            Command::WaitSynced { deadline, reply } => self.waiters.push((reply, deadline)),
        }
    }

    fn expire(&mut self, now: Instant) {
        let (late, waiting): (Vec<_>, Vec<_>) =
            self.waiters.drain(..).partition(|(_, deadline)| *deadline <= now);
        self.waiters = waiting;
        for (reply, _) in late {
            let _ = reply.send(false);
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.waiters.iter().map(|(_, d)| *d).min()
    }
}

fn run(mut state: ServiceState, commands: &Receiver<Command>, events: Receiver<ReflectorEvent<Service>>) {
    let mut events = Some(events);
    let never = crossbeam_channel::never();
    loop {
        let timeout = state
            .next_deadline()
            .map_or(Duration::from_secs(3600), |d| d.saturating_duration_since(Instant::now()));
        select! {
            recv(commands) -> command => match command {
                Ok(command) => state.command(command, Instant::now()),
                Err(_) => break,
            },
            recv(events.as_ref().unwrap_or(&never)) -> event => match event {
                Ok(event) => state.apply(event),
                Err(_) => {
                    log::error!("the Service reflector ended; service links stay as last seen");
                    events = None;
                }
            },
            default(timeout) => {}
        }
        state.expire(Instant::now());
    }
    log::debug!("service cache: all handles dropped; stopping");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(ns: &str, name: &str) -> Service {
        let mut s = Service::default();
        s.metadata.namespace = Some(ns.into());
        s.metadata.name = Some(name.into());
        s.spec.cluster_ip = Some("10.96.0.10".into());
        s
    }

    fn names(list: &[Service]) -> Vec<String> {
        list.iter().map(|s| format!("{}/{}", s.metadata.namespace(), s.metadata.name())).collect()
    }

    #[test]
    fn namespace_services_plus_the_kubernetes_service() {
        let mut s = ServiceState::default();
        s.apply(ReflectorEvent::Snapshot(vec![
            svc("default", "kubernetes"),
            svc("default", "other"),
            svc("app", "web"),
        ]));
        assert_eq!(names(&s.list("app")), ["app/web", "default/kubernetes"]);
        assert_eq!(
            names(&s.list("default")),
            ["default/kubernetes", "default/other"],
            "no duplicate in default"
        );
        assert_eq!(names(&s.list("empty")), ["default/kubernetes"]);
        s.apply(ReflectorEvent::Added(svc("app", "db")));
        s.apply(ReflectorEvent::Deleted(svc("app", "web")));
        assert_eq!(names(&s.list("app")), ["app/db", "default/kubernetes"]);
        // A relist replaces everything.
        s.apply(ReflectorEvent::Snapshot(vec![svc("app", "api")]));
        assert_eq!(names(&s.list("app")), ["app/api"]);
    }

    #[test]
    fn wait_synced_waits_for_the_first_list_but_not_forever() {
        let (events_tx, events) = crossbeam_channel::unbounded();
        let cache = ServiceCache::spawn_with(events, None, Duration::from_millis(200)).expect("spawn");
        let started = Instant::now();
        assert!(!cache.wait_synced(), "nothing listed yet");
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert!(cache.services("app").is_empty(), "services() answers at once");
        let waiter = {
            let cache = cache.clone();
            std::thread::spawn(move || cache.wait_synced())
        };
        std::thread::sleep(Duration::from_millis(50));
        events_tx.send(ReflectorEvent::Snapshot(vec![svc("default", "kubernetes")])).expect("send");
        assert!(waiter.join().expect("join"), "the first list wakes the waiter");
        assert!(cache.wait_synced());
        assert_eq!(names(&cache.services("app")), ["default/kubernetes"]);
    }
}
