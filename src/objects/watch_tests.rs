use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use super::*;
use crate::api::core::ConfigMap;
use crate::objects::{ObjectChanged, ObjectKind};

type Feeds = Arc<Mutex<Vec<(Key, Sender<ReflectorEvent<ConfigMap>>)>>>;

/// Hands out channels instead of reflectors; the test feeds them.
#[derive(Clone, Default)]
struct FakeStarter(Feeds);

impl FakeStarter {
    fn started(&self) -> Vec<Key> {
        self.0.lock().expect("feeds").iter().map(|(k, _)| k.clone()).collect()
    }
    /// The newest feed of `name`.
    fn feed(&self, name: &str) -> Sender<ReflectorEvent<ConfigMap>> {
        let feeds = self.0.lock().expect("feeds");
        feeds
            .iter()
            .rev()
            .find(|(k, _)| k.name == name)
            .map(|(_, tx)| tx.clone())
            .expect("a watch of that name")
    }
}

impl WatchStarter<ConfigMap> for FakeStarter {
    fn start(&mut self, key: &Key) -> Option<ActiveWatch<ConfigMap>> {
        let (tx, rx) = crossbeam_channel::unbounded();
        self.0.lock().expect("feeds").push((key.clone(), tx));
        Some(ActiveWatch { events: rx, _reflector: None })
    }
}

const WAIT: Duration = Duration::from_secs(5);
const IDLE: Duration = Duration::from_secs(300);

fn cm(name: &str, rv: &str) -> ConfigMap {
    let mut c = ConfigMap::default();
    c.metadata.namespace = Some("ns".into());
    c.metadata.name = Some(name.into());
    c.metadata.resource_version = Some(rv.into());
    c.data.insert("k".into(), format!("v{rv}"));
    c
}

fn setup() -> (WatchState<ConfigMap>, FakeStarter, Receiver<ObjectChanged>) {
    let starter = FakeStarter::default();
    let mut state = WatchState::new(Box::new(starter.clone()), WAIT, IDLE);
    let (tx, changes) = crossbeam_channel::unbounded();
    state.command(Command::Subscribe(tx), Instant::now());
    (state, starter, changes)
}

fn register(s: &mut WatchState<ConfigMap>, pod: &str, names: &[&str], now: Instant) {
    let names: BTreeSet<String> = names.iter().map(|n| n.to_string()).collect();
    s.command(Command::Register { pod: pod.into(), namespace: "ns".into(), names }, now);
}

/// Asks for `name`; `None` if the answer has to wait.
fn get(
    s: &mut WatchState<ConfigMap>,
    name: &str,
    now: Instant,
) -> (Receiver<Lookup<ConfigMap>>, Option<GetResult>) {
    let (tx, rx) = crossbeam_channel::bounded(1);
    s.command(Command::Get { key: Key::new("ns", name), reply: tx }, now);
    let now_answer = rx.try_recv().ok().map(done);
    (rx, now_answer)
}

type GetResult = Result<Option<ConfigMap>, ObjectError>;

fn done(l: Lookup<ConfigMap>) -> GetResult {
    match l {
        Lookup::Done(r) => r,
        Lookup::Fetch => panic!("the watch strategy never asks to fetch"),
    }
}

fn data(r: &GetResult) -> Option<&str> {
    r.as_ref().ok()?.as_ref()?.data.get("k").map(String::as_str)
}

#[test]
fn one_watch_per_object_and_reads_wait_for_its_first_list() {
    let (mut s, starter, changes) = setup();
    let t0 = Instant::now();
    register(&mut s, "p1", &["a", "b"], t0);
    register(&mut s, "p2", &["b"], t0);
    assert_eq!(starter.started(), [Key::new("ns", "a"), Key::new("ns", "b")], "b is watched once");
    assert_eq!(s.watch_count(), 2);

    let (pending, now) = get(&mut s, "a", t0);
    assert!(now.is_none(), "not listed yet: the read waits");
    s.on_event(&Key::new("ns", "a"), Some(ReflectorEvent::Snapshot(vec![cm("a", "1")])));
    assert_eq!(data(&done(pending.try_recv().expect("answered by the list"))), Some("v1"));
    assert_eq!(data(&get(&mut s, "a", t0).1.expect("synced: at once")), Some("v1"));
    assert!(changes.try_recv().is_err(), "the first list is no change");

    s.on_event(&Key::new("ns", "a"), Some(ReflectorEvent::Modified(cm("a", "2"))));
    assert_eq!(
        changes.try_recv().ok(),
        Some(ObjectChanged { kind: ObjectKind::ConfigMap, namespace: "ns".into(), name: "a".into() })
    );
    assert_eq!(data(&get(&mut s, "a", t0).1.expect("at once")), Some("v2"));
}

#[test]
fn missing_objects_are_none_until_created() {
    let (mut s, _, changes) = setup();
    let t0 = Instant::now();
    register(&mut s, "p1", &["later"], t0);
    s.on_event(&Key::new("ns", "later"), Some(ReflectorEvent::Snapshot(vec![])));
    assert_eq!(get(&mut s, "later", t0).1, Some(Ok(None)));
    s.on_event(&Key::new("ns", "later"), Some(ReflectorEvent::Added(cm("later", "3"))));
    assert!(changes.try_recv().is_ok(), "creation is a change");
    assert_eq!(data(&get(&mut s, "later", t0).1.expect("at once")), Some("v3"));
    s.on_event(&Key::new("ns", "later"), Some(ReflectorEvent::Deleted(cm("later", "4"))));
    assert!(changes.try_recv().is_ok(), "deletion is a change");
    assert_eq!(get(&mut s, "later", t0).1, Some(Ok(None)));
}

#[test]
fn unreferenced_objects_are_dropped_and_cannot_be_read() {
    let (mut s, _, _) = setup();
    let t0 = Instant::now();
    assert!(matches!(get(&mut s, "a", t0).1, Some(Err(ObjectError::NotRegistered { .. }))));
    register(&mut s, "p1", &["a"], t0);
    let (pending, _) = get(&mut s, "a", t0);
    s.command(Command::Unregister { pod: "p1".into() }, t0);
    assert_eq!(s.watch_count(), 0);
    assert!(matches!(done(pending.try_recv().expect("told")), Err(ObjectError::NotRegistered { .. })));
    assert!(matches!(get(&mut s, "a", t0).1, Some(Err(ObjectError::NotRegistered { .. }))));
}

#[test]
fn a_read_gives_up_after_the_sync_wait() {
    let (mut s, _, _) = setup();
    let t0 = Instant::now();
    register(&mut s, "p1", &["slow"], t0);
    let (pending, _) = get(&mut s, "slow", t0);
    assert!(s.next_deadline() <= t0 + WAIT);
    s.expire(t0 + WAIT - Duration::from_millis(1));
    assert!(pending.try_recv().is_err(), "still waiting");
    s.expire(t0 + WAIT);
    assert!(matches!(done(pending.try_recv().expect("gave up")), Err(ObjectError::NotSynced { .. })));
}

#[test]
fn idle_watches_stop_and_restart_on_the_next_read() {
    let (mut s, starter, changes) = setup();
    let t0 = Instant::now();
    register(&mut s, "p1", &["a"], t0);
    s.on_event(&Key::new("ns", "a"), Some(ReflectorEvent::Snapshot(vec![cm("a", "1")])));
    s.stop_idle(t0 + IDLE - Duration::from_secs(1));
    assert_eq!(s.watch_count(), 1, "read recently enough");
    s.stop_idle(t0 + IDLE);
    assert_eq!(s.watch_count(), 0, "not read for max_idle: no longer watched");

    let later = t0 + IDLE + Duration::from_secs(10);
    let (pending, now) = get(&mut s, "a", later);
    assert!(now.is_none(), "the restarted watch must list first");
    assert_eq!(starter.started().len(), 2);
    // It changed while nobody watched: the new list tells.
    starter.feed("a").send(ReflectorEvent::Snapshot(vec![cm("a", "5")])).expect("feed");
    let (key, events) = s.watches().pop().expect("watched again");
    s.on_event(&key, events.try_recv().ok());
    assert_eq!(data(&done(pending.try_recv().expect("answered"))), Some("v5"));
    assert!(changes.try_recv().is_ok());
}

#[test]
fn immutable_objects_are_no_longer_watched_once_read() {
    let (mut s, _, _) = setup();
    let t0 = Instant::now();
    register(&mut s, "p1", &["frozen"], t0);
    let mut frozen = cm("frozen", "1");
    frozen.immutable = Some(true);
    s.on_event(&Key::new("ns", "frozen"), Some(ReflectorEvent::Snapshot(vec![frozen])));
    assert_eq!(data(&get(&mut s, "frozen", t0).1.expect("at once")), Some("v1"));
    assert_eq!(s.watch_count(), 0);
    assert_eq!(data(&get(&mut s, "frozen", t0 + IDLE * 2).1.expect("still served")), Some("v1"));
}

#[test]
fn an_ended_watch_restarts_on_the_next_read() {
    let (mut s, starter, _) = setup();
    let t0 = Instant::now();
    register(&mut s, "p1", &["a"], t0);
    s.on_event(&Key::new("ns", "a"), Some(ReflectorEvent::Snapshot(vec![cm("a", "1")])));
    s.on_event(&Key::new("ns", "a"), None);
    assert_eq!(s.watch_count(), 0);
    assert!(get(&mut s, "a", t0).1.is_none(), "waits for the new watch's list");
    assert_eq!(starter.started().len(), 2);
}

#[test]
fn the_thread_serves_reads_and_events_of_many_watches() {
    let starter = FakeStarter::default();
    let state = WatchState::new(Box::new(starter.clone()), WAIT, IDLE);
    let (tx, rx) = crossbeam_channel::unbounded();
    let thread = std::thread::spawn(move || run(state, &rx));
    let names: BTreeSet<String> = (0..50).map(|i| format!("cm{i}")).collect();
    tx.send(Command::Register { pod: "p".into(), namespace: "ns".into(), names }).expect("send");
    let (reply, answer) = crossbeam_channel::bounded(1);
    tx.send(Command::Get { key: Key::new("ns", "cm42"), reply }).expect("send");
    // The thread starts the watches when it gets to the registration.
    let deadline = Instant::now() + Duration::from_secs(5);
    while starter.started().len() < 50 {
        assert!(Instant::now() < deadline, "watches not started");
        std::thread::sleep(Duration::from_millis(5));
    }
    starter.feed("cm42").send(ReflectorEvent::Snapshot(vec![cm("cm42", "9")])).expect("feed");
    let got = done(answer.recv_timeout(Duration::from_secs(5)).expect("answered"));
    assert_eq!(data(&got), Some("v9"));
    drop(tx);
    thread.join().expect("the thread ends with its handles");
}
