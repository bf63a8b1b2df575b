//! The strategic merge patch from one Node to another, as upstream's `PatchNodeStatus` builds
//! it (a two-way merge patch of the whole object, the spec left out):
//!
//! - objects are diffed key by key; a key gone from the new object becomes `null`;
//! - `status.conditions` and `metadata.ownerReferences` are lists merged by key (`type`,
//!   `uid`): only changed elements are sent, removed ones as `{"$patch": "delete", ...}`, and
//!   `$setElementOrder/<list>` gives the new order;
//! - `status.addresses` is declared merge-by-type but several addresses share a type, so
//!   upstream sends the whole new list ending in `{"$patch": "replace"}` when it changed;
//! - every other list is replaced whole.
#![forbid(unsafe_code)]

use serde_json::{Map, Value, json};

use crate::api::core::Node;

use super::NodeError;

/// Lists merged by a key, by their path from the object's root.
const MERGE_KEYS: &[(&str, &str)] = &[("status.conditions", "type"), ("metadata.ownerReferences", "uid")];

/// The patch taking `old` to `new` for a PATCH of `nodes/<name>/status`; `None` when they do
/// not differ (outside the spec).
pub(crate) fn node_status_patch(old: &Node, new: &Node) -> Result<Option<Value>, NodeError> {
    let encode = |n: &Node| {
        crate::api::json::to_value(n).map_err(|e| NodeError::Encode { what: "a Node", detail: e.to_string() })
    };
    let addresses_changed = !old.status.addresses.is_empty() && old.status.addresses != new.status.addresses;
    let mut target = new.clone();
    target.spec = old.spec.clone();
    if addresses_changed {
        target.status.addresses.clone_from(&old.status.addresses);
    }
    let (Value::Object(old_map), Value::Object(new_map)) = (encode(old)?, encode(&target)?) else {
        return Err(NodeError::Encode { what: "a Node", detail: "not a JSON object".into() });
    };
    let mut patch = diff_objects(&old_map, &new_map, "");
    if addresses_changed {
        let mut list = match crate::api::json::to_value(&new.status.addresses) {
            Ok(Value::Array(list)) => list,
            _ => return Err(NodeError::Encode { what: "node addresses", detail: "not a JSON list".into() }),
        };
        list.push(json!({"$patch": "replace"}));
        let status = patch.entry("status").or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(status) = status {
            status.insert("addresses".into(), Value::Array(list));
        }
    }
    Ok((!patch.is_empty()).then_some(Value::Object(patch)))
}

/// The two-way diff of two JSON objects at `path` (`""` for the root).
pub(crate) fn diff_objects(
    old: &Map<String, Value>,
    new: &Map<String, Value>,
    path: &str,
) -> Map<String, Value> {
    let mut out = Map::new();
    for (key, new_value) in new {
        let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        match old.get(key) {
            Some(old_value) if old_value == new_value => {}
            Some(Value::Object(o)) if new_value.is_object() => {
                if let Value::Object(n) = new_value {
                    let sub = diff_objects(o, n, &child);
                    if !sub.is_empty() {
                        out.insert(key.clone(), Value::Object(sub));
                    }
                }
            }
            Some(Value::Array(o)) if new_value.is_array() => {
                let merge_key = MERGE_KEYS.iter().find(|(p, _)| *p == child).map(|(_, k)| *k);
                match (merge_key, new_value) {
                    (Some(merge_key), Value::Array(n)) => match diff_keyed_lists(o, n, merge_key) {
                        Some((changes, order)) => {
                            out.insert(format!("$setElementOrder/{key}"), Value::Array(order));
                            if !changes.is_empty() {
                                out.insert(key.clone(), Value::Array(changes));
                            }
                        }
                        None => {
                            out.insert(key.clone(), new_value.clone());
                        }
                    },
                    _ => {
                        out.insert(key.clone(), new_value.clone());
                    }
                }
            }
            _ => {
                out.insert(key.clone(), new_value.clone());
            }
        }
    }
    for key in old.keys().filter(|k| !new.contains_key(*k)) {
        out.insert(key.clone(), Value::Null);
    }
    out
}

/// Changed and deleted elements of a list merged by `key`, and the new order. `None` if an
/// element is not an object with that key (then the list is replaced whole).
fn diff_keyed_lists(old: &[Value], new: &[Value], key: &str) -> Option<(Vec<Value>, Vec<Value>)> {
    let key_of = |v: &Value| v.as_object().and_then(|o| o.get(key)).cloned();
    let mut changes = Vec::new();
    let mut order = Vec::new();
    for element in new {
        let id = key_of(element)?;
        order.push(keyed(key, id.clone(), None));
        let previous = old.iter().find(|o| key_of(o).as_ref() == Some(&id));
        match (previous, element) {
            (Some(p), e) if p == e => {}
            (Some(Value::Object(p)), Value::Object(e)) => {
                let mut sub = diff_objects(p, e, "");
                sub.insert(key.to_string(), id);
                changes.push(Value::Object(sub));
            }
            _ => changes.push(element.clone()),
        }
    }
    for element in old {
        let id = key_of(element)?;
        if !new.iter().any(|n| key_of(n).as_ref() == Some(&id)) {
            changes.push(keyed(key, id, Some("delete")));
        }
    }
    Some((changes, order))
}

/// `{"<key>": id}`, with a `$patch` directive if given.
fn keyed(key: &str, id: Value, directive: Option<&str>) -> Value {
    let mut object = Map::new();
    if let Some(directive) = directive {
        object.insert("$patch".into(), Value::String(directive.into()));
    }
    object.insert(key.into(), id);
    Value::Object(object)
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
