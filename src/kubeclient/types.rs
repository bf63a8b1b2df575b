//! The few `meta/v1` shapes the client itself needs, generic over the object type so that
//! this module does not depend on `crate::api`.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use super::path::Query;

/// A list answer: `{metadata: {resourceVersion, continue}, items: [...]}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
pub struct ObjectList<T> {
    #[serde(default)]
    pub metadata: ListMeta,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub items: Vec<T>,
}

/// `metav1.ListMeta`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    #[serde(default)]
    pub resource_version: String,
    /// Set when there are more pages (`limit` was given).
    #[serde(default, rename = "continue")]
    pub continue_token: Option<String>,
    #[serde(default)]
    pub remaining_item_count: Option<i64>,
}

fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// `metav1.DeleteOptions`, as sent in a DELETE body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preconditions: Option<Preconditions>,
    /// Orphan, Background or Foreground.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation_policy: Option<String>,
}

/// `metav1.Preconditions`: delete only this incarnation (uid) or version of the object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// The patch formats the API server takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    /// RFC 7386 JSON merge patch.
    Merge,
    /// Kubernetes' strategic merge patch (lists merged by key); built-in types only.
    StrategicMerge,
    /// RFC 6902 JSON patch (a list of operations).
    Json,
    /// Server-side apply; needs a field manager.
    Apply,
}

impl PatchKind {
    pub fn content_type(self) -> &'static str {
        match self {
            PatchKind::Merge => "application/merge-patch+json",
            PatchKind::StrategicMerge => "application/strategic-merge-patch+json",
            PatchKind::Json => "application/json-patch+json",
            PatchKind::Apply => "application/apply-patch+yaml",
        }
    }
}

/// Query parameters of a patch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatchParams {
    pub field_manager: Option<String>,
    /// Server-side apply: take over fields owned by other managers.
    pub force: bool,
}

impl PatchParams {
    pub fn apply(field_manager: &str) -> Self {
        PatchParams { field_manager: Some(field_manager.to_string()), force: false }
    }

    pub fn to_query(&self) -> Query {
        let mut q = Query::new();
        q.push_opt("fieldManager", self.field_manager.as_deref());
        if self.force {
            q.push("force", "true");
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_shapes() {
        let list: ObjectList<serde_json::Value> = serde_json::from_str(
            r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"abc","remainingItemCount":7},"items":[{"a":1}]}"#,
        )
        .expect("list");
        assert_eq!(list.metadata.resource_version, "42");
        assert_eq!(list.metadata.continue_token.as_deref(), Some("abc"));
        assert_eq!(list.metadata.remaining_item_count, Some(7));
        assert_eq!(list.items.len(), 1);
        let empty: ObjectList<serde_json::Value> =
            serde_json::from_str(r#"{"metadata":{"resourceVersion":"1"},"items":null}"#).expect("null items");
        assert!(empty.items.is_empty());
    }

    #[test]
    fn delete_options_body() {
        let opts = DeleteOptions {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions { uid: Some("u-1".into()), resource_version: None }),
            propagation_policy: None,
        };
        assert_eq!(
            serde_json::to_string(&opts).expect("json"),
            r#"{"gracePeriodSeconds":0,"preconditions":{"uid":"u-1"}}"#
        );
        assert_eq!(serde_json::to_string(&DeleteOptions::default()).expect("json"), "{}");
    }

    #[test]
    fn patch_params_query() {
        let mut p = PatchParams::apply("rkubelet");
        assert_eq!(p.to_query().as_str(), "?fieldManager=rkubelet");
        p.force = true;
        assert_eq!(p.to_query().as_str(), "?fieldManager=rkubelet&force=true");
        assert_eq!(PatchParams::default().to_query().as_str(), "");
        assert_eq!(PatchKind::Apply.content_type(), "application/apply-patch+yaml");
    }
}
