//! Request paths and query strings of the Kubernetes REST API.
//!
//! ```text
//! /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}       core group ("v1")
//! /apis/{group}/{version}/namespaces/{ns}/{resource}/{name}/... named groups ("apps/v1")
//! ```
//! Cluster-scoped resources leave out `namespaces/{ns}`. Every segment is percent-escaped, so a
//! name can never add a segment of its own; `.`, `..` and empty names are refused, because the
//! server would clean them out of the path.
#![forbid(unsafe_code)]

use std::fmt::Write as _;

/// Where a resource lives: group/version, namespace, resource, name, subresource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePath {
    pub group_version: String,
    pub namespace: Option<String>,
    pub resource: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

impl ResourcePath {
    /// A resource of the core group, e.g. `ResourcePath::core("pods")`.
    pub fn core(resource: &str) -> Self {
        ResourcePath::new("v1", resource)
    }

    /// A resource of any group/version, e.g. `("coordination.k8s.io/v1", "leases")`.
    pub fn new(group_version: &str, resource: &str) -> Self {
        ResourcePath {
            group_version: group_version.to_string(),
            namespace: None,
            resource: resource.to_string(),
            name: None,
            subresource: None,
        }
    }

    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = Some(namespace.to_string());
        self
    }

    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    pub fn subresource(mut self, subresource: &str) -> Self {
        self.subresource = Some(subresource.to_string());
        self
    }

    /// The path, escaped; an error names the segment that cannot be a path segment.
    pub fn to_path(&self) -> Result<String, String> {
        let mut path = if self.group_version.contains('/') {
            format!("/apis/{}", self.group_version)
        } else {
            format!("/api/{}", self.group_version)
        };
        if self.group_version.split('/').any(|s| !is_valid_segment(s)) {
            return Err(format!("bad group/version {:?}", self.group_version));
        }
        let segments = [
            self.namespace.as_deref().map(|ns| ("namespaces", ns)),
            Some(("", self.resource.as_str())),
            self.name.as_deref().map(|n| ("", n)),
            self.subresource.as_deref().map(|s| ("", s)),
        ];
        for (prefix, value) in segments.into_iter().flatten() {
            if !is_valid_segment(value) {
                return Err(format!("{value:?} cannot be a path segment"));
            }
            if !prefix.is_empty() {
                path.push('/');
                path.push_str(prefix);
            }
            path.push('/');
            escape_into(&mut path, value);
        }
        Ok(path)
    }
}

fn is_valid_segment(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".."
}

/// RFC 3986 unreserved characters pass; everything else is percent-encoded. This is stricter
/// than needed for paths, and exactly what a query value needs.
fn escape_into(out: &mut String, value: &str) {
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// Escapes one path segment or query value.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    escape_into(&mut out, value);
    out
}

/// A query string under construction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(String);

impl Query {
    pub fn new() -> Self {
        Query::default()
    }

    /// Adds `key=value` (the key is ours and never needs escaping).
    pub fn push(&mut self, key: &str, value: &str) -> &mut Self {
        self.0.push(if self.0.is_empty() { '?' } else { '&' });
        self.0.push_str(key);
        self.0.push('=');
        escape_into(&mut self.0, value);
        self
    }

    pub fn push_opt(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.push(key, value);
        }
        self
    }

    /// `?a=b&c=d`, or nothing.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `metav1.ListOptions` for a list call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOptions {
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    /// "" (or None): most recent, from etcd; "0": any, from the watch cache.
    pub resource_version: Option<String>,
    /// `resourceVersionMatch`: NotOlderThan or Exact.
    pub resource_version_match: Option<String>,
    pub limit: Option<u32>,
    /// The `metadata.continue` of the previous page.
    pub continue_token: Option<String>,
}

impl ListOptions {
    pub fn to_query(&self) -> Query {
        let mut q = Query::new();
        q.push_opt("labelSelector", self.label_selector.as_deref())
            .push_opt("fieldSelector", self.field_selector.as_deref())
            .push_opt("resourceVersion", self.resource_version.as_deref())
            .push_opt("resourceVersionMatch", self.resource_version_match.as_deref())
            .push_opt("limit", self.limit.map(|l| l.to_string()).as_deref())
            .push_opt("continue", self.continue_token.as_deref());
        q
    }
}

/// Options of a watch call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchOptions {
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    /// Start after this version (the list's `metadata.resourceVersion`, or the last seen).
    pub resource_version: Option<String>,
    /// Server-side duration of the watch; None: 5 to 10 minutes at random, as client-go's
    /// reflector does, so that many watchers do not reconnect all at once.
    pub timeout_seconds: Option<u32>,
    pub allow_watch_bookmarks: bool,
}

impl WatchOptions {
    pub fn to_query(&self, timeout_seconds: u32) -> Query {
        let mut q = Query::new();
        q.push("watch", "1")
            .push_opt("labelSelector", self.label_selector.as_deref())
            .push_opt("fieldSelector", self.field_selector.as_deref())
            .push_opt("resourceVersion", self.resource_version.as_deref())
            .push("timeoutSeconds", &timeout_seconds.to_string());
        if self.allow_watch_bookmarks {
            q.push("allowWatchBookmarks", "true");
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_core_and_group_paths() {
        let pods = ResourcePath::core("pods");
        assert_eq!(pods.to_path().as_deref(), Ok("/api/v1/pods"));
        let status = pods.clone().namespace("kube-system").name("coredns-1").subresource("status");
        assert_eq!(status.to_path().as_deref(), Ok("/api/v1/namespaces/kube-system/pods/coredns-1/status"));
        let lease = ResourcePath::new("coordination.k8s.io/v1", "leases").namespace("kube-node-lease").name("n1");
        assert_eq!(lease.to_path().as_deref(), Ok("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1"));
        let node = ResourcePath::core("nodes").name("edge-1");
        assert_eq!(node.to_path().as_deref(), Ok("/api/v1/nodes/edge-1"));
    }

    #[test]
    fn escapes_segments() {
        let odd = ResourcePath::core("secrets").namespace("d").name("a/b c%d?e#f");
        assert_eq!(odd.to_path().as_deref(), Ok("/api/v1/namespaces/d/secrets/a%2Fb%20c%25d%3Fe%23f"));
        assert_eq!(escape("system:node:edge-1"), "system%3Anode%3Aedge-1");
        assert_eq!(escape("ünï"), "%C3%BCn%C3%AF");
    }

    #[test]
    fn refuses_segments_the_server_would_clean() {
        assert!(ResourcePath::core("pods").namespace("d").name("..").to_path().is_err());
        assert!(ResourcePath::core("pods").namespace("d").name(".").to_path().is_err());
        assert!(ResourcePath::core("pods").namespace("").to_path().is_err());
        assert!(ResourcePath::core("").to_path().is_err());
        assert!(ResourcePath::new("apps/", "deployments").to_path().is_err());
        assert!(ResourcePath::core("pods").name("a..b").to_path().is_ok());
    }

    #[test]
    fn list_query() {
        let opts = ListOptions {
            label_selector: Some("app in (a,b),!canary".into()),
            field_selector: Some("spec.nodeName=edge-1".into()),
            resource_version: Some("0".into()),
            limit: Some(500),
            continue_token: Some("eyJ2Ijoi+/=".into()),
            ..Default::default()
        };
        assert_eq!(
            opts.to_query().as_str(),
            "?labelSelector=app%20in%20%28a%2Cb%29%2C%21canary&fieldSelector=spec.nodeName%3Dedge-1\
             &resourceVersion=0&limit=500&continue=eyJ2Ijoi%2B%2F%3D"
        );
        assert_eq!(ListOptions::default().to_query().as_str(), "");
    }

    #[test]
    fn watch_query() {
        let opts = WatchOptions {
            field_selector: Some("metadata.name=x".into()),
            resource_version: Some("1234".into()),
            allow_watch_bookmarks: true,
            ..Default::default()
        };
        assert_eq!(
            opts.to_query(300).as_str(),
            "?watch=1&fieldSelector=metadata.name%3Dx&resourceVersion=1234&timeoutSeconds=300&allowWatchBookmarks=true"
        );
    }
}
