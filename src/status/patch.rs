//! The strategic-merge patch of a pod's status, as upstream's `PatchPodStatus` builds it
//! (`pkg/util/pod`): a two-way diff of `{status: old}` against
//! `{metadata: {uid}, status: new}`, so that the UID travels in the patch as a precondition
//! (the API server refuses a patch whose UID differs from the stored pod's).
//!
//! The diff follows `strategicpatch.CreateTwoWayMergePatch` for the shape of `PodStatus`:
//!
//! | value | patch |
//! | --- | --- |
//! | field added or changed (scalar, or list without a merge key) | the new value |
//! | field removed | `null` |
//! | object (e.g. `allocatedResources`) | the diff of the two objects, if any |
//! | list with a merge key (`conditions` by `type`, `podIPs`/`hostIPs` by `ip`, ...) | changed or new items (changed ones as their own diff plus the key), `{"$patch": "delete", key}` for removed ones, and `$setElementOrder/<field>` listing the keys in the new order |
//!
//! Lists of container statuses have no merge key upstream: they are replaced whole.
#![forbid(unsafe_code)]

use serde_json::{Map, Value, json};

use crate::api::core::PodStatus;

/// The merge keys of the lists of `PodStatus` that upstream patches by key.
fn status_list_key(field: &str) -> Option<&'static str> {
    match field {
        "conditions" => Some("type"),
        "hostIPs" | "podIPs" => Some("ip"),
        "resourceClaimStatuses" => Some("name"),
        "nodeAllocatableResourceClaimStatuses" => Some("resourceClaimName"),
        _ => None,
    }
}

/// Inside list items and nested objects every list is replaced whole.
fn no_list_keys(_: &str) -> Option<&'static str> {
    None
}

/// The patch turning `old` into `new` for the pod with `uid`, or `None` when the statuses
/// do not differ (upstream's `unchanged`: the patch would only carry the UID).
pub fn status_patch(uid: &str, old: &PodStatus, new: &PodStatus) -> Result<Option<Value>, serde_json::Error> {
    let old = to_object(crate::api::json::to_value(old)?);
    let new = to_object(crate::api::json::to_value(new)?);
    let status = diff_objects(&old, &new, &status_list_key);
    if status.is_empty() {
        return Ok(None);
    }
    Ok(Some(json!({ "metadata": { "uid": uid }, "status": status })))
}

fn to_object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The two-way diff of two objects; `list_key` names the merge key of a list field.
pub fn diff_objects(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    list_key: &dyn Fn(&str) -> Option<&'static str>,
) -> Map<String, Value> {
    let mut patch = Map::new();
    for (field, new_value) in new {
        let Some(old_value) = old.get(field) else {
            patch.insert(field.clone(), new_value.clone());
            continue;
        };
        match (old_value, new_value) {
            (Value::Object(o), Value::Object(n)) => {
                let sub = diff_objects(o, n, &no_list_keys);
                if !sub.is_empty() {
                    patch.insert(field.clone(), Value::Object(sub));
                }
            }
            (Value::Array(o), Value::Array(n)) => match list_key(field) {
                Some(key) if keyed(o, key) && keyed(n, key) => diff_keyed_list(field, o, n, key, &mut patch),
                _ if o != n => {
                    patch.insert(field.clone(), new_value.clone());
                }
                _ => {}
            },
            (o, n) if o != n => {
                patch.insert(field.clone(), n.clone());
            }
            _ => {}
        }
    }
    for field in old.keys() {
        if !new.contains_key(field) {
            patch.insert(field.clone(), Value::Null);
        }
    }
    patch
}

/// Every item is an object carrying the merge key (else the list is replaced whole).
fn keyed(list: &[Value], key: &str) -> bool {
    list.iter().all(|item| item.get(key).is_some())
}

fn key_of<'a>(item: &'a Value, key: &str) -> &'a Value {
    item.get(key).unwrap_or(&Value::Null)
}

/// A merge list: the changed and added items in the new order, then delete directives for
/// the removed ones, and the `$setElementOrder` list when anything changed or moved.
fn diff_keyed_list(field: &str, old: &[Value], new: &[Value], key: &str, patch: &mut Map<String, Value>) {
    if old.is_empty() {
        if !new.is_empty() {
            patch.insert(field.to_string(), Value::Array(new.to_vec()));
        }
        return;
    }
    let mut items = Vec::new();
    for item in new {
        let k = key_of(item, key);
        match old.iter().find(|o| key_of(o, key) == k) {
            None => items.push(item.clone()),
            Some(before) => {
                let (Value::Object(o), Value::Object(n)) = (before, item) else { continue };
                let mut sub = diff_objects(o, n, &no_list_keys);
                if !sub.is_empty() {
                    sub.insert(key.to_string(), k.clone());
                    items.push(Value::Object(sub));
                }
            }
        }
    }
    for item in old {
        let k = key_of(item, key);
        if !new.iter().any(|n| key_of(n, key) == k) {
            items.push(json!({ "$patch": "delete", key: k }));
        }
    }
    let same_order =
        old.len() == new.len() && old.iter().zip(new).all(|(o, n)| key_of(o, key) == key_of(n, key));
    if items.is_empty() && same_order {
        return;
    }
    let order = new.iter().map(|n| json!({ key: key_of(n, key) })).collect();
    if !items.is_empty() {
        patch.insert(field.to_string(), Value::Array(items));
    }
    patch.insert(format!("$setElementOrder/{field}"), Value::Array(order));
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
