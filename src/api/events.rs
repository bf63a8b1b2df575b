//! `events.k8s.io/v1` Event, the newer event API (core/v1 Event is in `core`).

use serde::{Deserialize, Serialize};

use crate::api::core::{EventSource, ObjectReference};
use crate::api::meta::{ObjectMeta, resource};
use crate::api::time::{MicroTime, Time};

/// An events.k8s.io/v1 event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Event {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub metadata: ObjectMeta,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_time: Option<MicroTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<EventSeries>,
    pub reporting_controller: String,
    pub reporting_instance: String,
    pub action: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub regarding: Option<ObjectReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related: Option<ObjectReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub type_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecated_source: Option<EventSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecated_first_timestamp: Option<Time>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecated_last_timestamp: Option<Time>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecated_count: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EventSeries {
    pub count: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_observed_time: Option<MicroTime>,
}

resource!(Event, "events.k8s.io", "v1", "Event", "events", true);
