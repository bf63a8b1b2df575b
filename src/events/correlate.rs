//! What client-go's event correlator does before an event reaches the API server, so a
//! crash-looping pod does not write one Event object per restart:
//!
//! ```text
//! event ──► aggregate ──────────────► observe ─────────────────► spam filter ──► Create / Patch / Skip
//!           ≥10 distinct messages       same event seen before?    per object:
//!           for the same object and     → reuse its name,          25 at once, then
//!           reason within 10 min →      count+1, PATCH count,      one per 5 minutes
//!           one "(combined from         lastTimestamp, message
//!           similar events)" event
//! ```
//!
//! - "The same event" is the same source, object (kind, namespace, name, uid, apiVersion,
//!   fieldPath), type, reason and message. Its record lives until evicted from an LRU of 4096
//!   entries; it has no time limit, as upstream.
//! - After the server answers, [`Correlator::update_state`] records the name, resourceVersion
//!   and count the server returned, so the next repeat patches the right object.
//! - Time is passed in, so tests drive it.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use super::lru::Lru;
use crate::api::core::Event;
use crate::api::time::Time;

/// client-go's `maxLruCacheEntries`.
const CACHE_ENTRIES: usize = 4096;
/// Distinct messages for one object and reason before they are combined.
const AGGREGATE_MAX_EVENTS: usize = 10;
const AGGREGATE_INTERVAL: Duration = Duration::from_secs(600);
/// The per-object spam filter: a token bucket of 25 refilled at one per 5 minutes.
const SPAM_BURST: f64 = 25.0;
const SPAM_QPS: f64 = 1.0 / 300.0;
const COMBINED_PREFIX: &str = "(combined from similar events): ";

/// What to do with an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Correlated {
    /// Dropped by the spam filter.
    Skip,
    /// New: POST it.
    Create(Event),
    /// Seen before: PATCH `patch` (a strategic merge patch) onto the existing `event.metadata.name`;
    /// if that object is gone, POST `event`.
    Patch { event: Event, patch: Value },
}

#[derive(Debug, Clone, Default)]
struct AggregateRecord {
    messages: BTreeSet<String>,
    last: Option<SystemTime>,
}

#[derive(Debug, Clone)]
struct Observation {
    count: i32,
    first: Option<Time>,
    name: Option<String>,
    resource_version: Option<String>,
}

#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    last: SystemTime,
}

/// The correlator's state: three bounded caches.
#[derive(Debug)]
pub struct Correlator {
    aggregates: Lru<AggregateRecord>,
    observations: Lru<Observation>,
    spam: Lru<Bucket>,
}

impl Default for Correlator {
    fn default() -> Self {
        Correlator {
            aggregates: Lru::new(CACHE_ENTRIES),
            observations: Lru::new(CACHE_ENTRIES),
            spam: Lru::new(CACHE_ENTRIES),
        }
    }
}

impl Correlator {
    pub fn correlate(&mut self, event: Event, now: SystemTime) -> Correlated {
        let (event, key) = self.aggregate(event, now);
        let (event, patch) = self.observe(event, &key);
        if !self.spam_accepts(&event, now) {
            return Correlated::Skip;
        }
        match patch {
            Some(patch) => Correlated::Patch { event, patch },
            None => Correlated::Create(event),
        }
    }

    /// Records what the server returned for an event it created or patched.
    pub fn update_state(&mut self, stored: &Event) {
        self.observations.insert(&event_key(stored), observation(stored));
    }

    fn aggregate(&mut self, event: Event, now: SystemTime) -> (Event, String) {
        let aggregate_key = aggregate_key(&event);
        let mut record = self.aggregates.get(&aggregate_key).cloned().unwrap_or_default();
        let expired =
            record.last.is_none_or(|last| now.duration_since(last).unwrap_or_default() > AGGREGATE_INTERVAL);
        if expired {
            record.messages.clear();
        }
        record.messages.insert(event.message.clone().unwrap_or_default());
        record.last = Some(now);
        if record.messages.len() < AGGREGATE_MAX_EVENTS {
            self.aggregates.insert(&aggregate_key, record);
            let key = event_key(&event);
            return (event, key);
        }
        // Keep the set just under the limit, so every further distinct message combines too.
        record.messages.pop_first();
        self.aggregates.insert(&aggregate_key, record);
        let stamp = Time::from(now);
        let name = event.involved_object.name.as_deref().unwrap_or("");
        let mut combined = Event {
            involved_object: event.involved_object.clone(),
            message: Some(format!("{COMBINED_PREFIX}{}", event.message.as_deref().unwrap_or(""))),
            type_: event.type_.clone(),
            reason: event.reason.clone(),
            source: event.source.clone(),
            count: Some(1),
            first_timestamp: Some(stamp),
            last_timestamp: Some(stamp),
            ..Event::default()
        };
        combined.metadata.name = Some(event_name(name, now));
        combined.metadata.namespace = event.metadata.namespace.clone();
        (combined, aggregate_key)
    }

    fn observe(&mut self, mut event: Event, key: &str) -> (Event, Option<Value>) {
        let mut patch = None;
        if let Some(seen) = self.observations.get(key).filter(|o| o.count > 0) {
            event.metadata.name.clone_from(&seen.name);
            event.metadata.resource_version.clone_from(&seen.resource_version);
            event.first_timestamp = seen.first;
            event.count = Some(seen.count.saturating_add(1));
            // What a two-way merge patch from (count 0, lastTimestamp epoch, no message) to
            // this event holds.
            let mut body = Map::new();
            body.insert("count".into(), json!(event.count));
            if let Some(last) = event.last_timestamp.filter(|t| t.unix_seconds() != 0) {
                body.insert("lastTimestamp".into(), json!(last));
            }
            if let Some(message) = event.message.as_ref().filter(|m| !m.is_empty()) {
                body.insert("message".into(), json!(message));
            }
            patch = Some(Value::Object(body));
        }
        self.observations.insert(key, observation(&event));
        (event, patch)
    }

    fn spam_accepts(&mut self, event: &Event, now: SystemTime) -> bool {
        let key = spam_key(event);
        let mut bucket = self.spam.get(&key).cloned().unwrap_or(Bucket { tokens: SPAM_BURST, last: now });
        let elapsed = now.duration_since(bucket.last).unwrap_or_default().as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * SPAM_QPS).min(SPAM_BURST);
        bucket.last = now;
        let accept = bucket.tokens >= 1.0;
        if accept {
            bucket.tokens -= 1.0;
        }
        self.spam.insert(&key, bucket);
        accept
    }
}

fn observation(event: &Event) -> Observation {
    Observation {
        count: event.count.unwrap_or(0),
        first: event.first_timestamp,
        name: event.metadata.name.clone(),
        resource_version: event.metadata.resource_version.clone(),
    }
}

/// `<object name>.<nanoseconds since the epoch in hex>`, as client-go names events; a random
/// UUID when that is not a valid DNS subdomain (too long).
pub fn event_name(object_name: &str, now: SystemTime) -> String {
    let nanos = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
    let name = format!("{object_name}.{nanos:x}");
    if is_dns_subdomain(&name) { name } else { random_uuid() }
}

fn is_dns_subdomain(s: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    !s.is_empty() && s.len() <= 253 && s.chars().all(ok_char) && s.starts_with(alnum) && s.ends_with(alnum)
}

fn random_uuid() -> String {
    let (a, b) =
        (crate::kubeclient::random_u64(), crate::kubeclient::random_u64().rotate_left(17) ^ 0x5bd1_e995);
    // Version 4, variant 10xx.
    let hi = (a & 0xffff_ffff_ffff_0fff) | 0x4000;
    let lo = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

/// The source and the object (`getSpamKey`): the spam filter limits all events about one
/// object; the other keys add to it.
fn object_parts(e: &Event) -> Vec<&str> {
    let source = e.source.as_ref();
    let o = &e.involved_object;
    [
        source.and_then(|s| s.component.as_deref()),
        source.and_then(|s| s.host.as_deref()),
        o.kind.as_deref(),
        o.namespace.as_deref(),
        o.name.as_deref(),
        o.uid.as_deref(),
        o.api_version.as_deref(),
        e.type_.as_deref(),
    ]
    .into_iter()
    .map(|part| part.unwrap_or(""))
    .collect()
}

fn key_of<'a>(mut parts: Vec<&'a str>, more: [Option<&'a str>; 3]) -> String {
    parts.extend(more.into_iter().map(|part| part.unwrap_or("")));
    parts.join("\u{0}")
}

/// Identifies an event exactly (client-go's `getEventKey`).
fn event_key(e: &Event) -> String {
    let more = [e.involved_object.field_path.as_deref(), e.reason.as_deref(), e.message.as_deref()];
    key_of(object_parts(e), more)
}

/// The object and reason, whatever the message (`EventAggregatorByReasonFunc`).
fn aggregate_key(e: &Event) -> String {
    let more = [e.reason.as_deref(), e.reporting_component.as_deref(), e.reporting_instance.as_deref()];
    key_of(object_parts(e), more)
}

fn spam_key(e: &Event) -> String {
    object_parts(e).join("\u{0}")
}

#[cfg(test)]
#[path = "correlate_tests.rs"]
mod tests;
