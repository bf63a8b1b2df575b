//! What a request asks for, in authorization terms (upstream's
//! `NodeRequestAttributesGetter`): always the `nodes` resource named after this node, with
//! the verb from the HTTP method and the subresource(s) from the path.
//!
//! | path | subresources (tried in order; the first allowed wins) |
//! | --- | --- |
//! | `/pods`, `/runningpods/`, `/allocatedPods` | `pods`, `proxy` |
//! | `/healthz` | `healthz`, `proxy` |
//! | `/configz` | `configz`, `proxy` |
//! | `/stats/` | `stats` |
//! | `/metrics` | `metrics` |
//! | `/logs/` | `log` |
//! | `/checkpoint/` | `checkpoint` |
//! | `/statusz` | `statusz` |
//! | `/flagz` | `configz` |
//! | anything else (`/exec`, `/run`, `/containerLogs`, `/spec`, ...) | `proxy` |
//!
//! The first rows are `KubeletFineGrainedAuthz`, GA and locked on in v1.37.

use super::User;

/// One authorization question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributes {
    pub user: User,
    pub verb: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    pub api_version: String,
    /// The request path (for logs).
    pub path: String,
}

/// The API verb for an HTTP method; other methods get none (and are denied).
pub fn verb(method: &str) -> &'static str {
    match method {
        "POST" => "create",
        "GET" => "get",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" => "delete",
        _ => "",
    }
}

/// Whether `sub` is `path` or below it (`/stats` and `/stats/summary` are below `/stats/`;
/// `/statsx` is not).
pub fn is_subpath(sub: &str, path: &str) -> bool {
    let path = path.strip_suffix('/').unwrap_or(path);
    sub == path || sub.strip_prefix(path).is_some_and(|rest| rest.starts_with('/'))
}

/// The subresources to ask about for `path`, in order.
pub fn subresources(path: &str) -> Vec<&'static str> {
    let mut out = Vec::with_capacity(2);
    let fine_grained = [
        ("/allocatedPods", "pods"),
        ("/pods", "pods"),
        ("/healthz", "healthz"),
        ("/configz", "configz"),
        ("/runningpods/", "pods"),
    ];
    if let Some((_, sub)) = fine_grained.iter().find(|(p, _)| is_subpath(path, p)) {
        out.push(*sub);
    }
    let coarse = [
        ("/stats/", "stats"),
        ("/metrics", "metrics"),
        ("/logs/", "log"),
        ("/checkpoint/", "checkpoint"),
        ("/statusz", "statusz"),
        ("/flagz", "configz"),
    ];
    out.push(coarse.iter().find(|(p, _)| is_subpath(path, p)).map_or("proxy", |(_, sub)| *sub));
    out
}

/// The questions for one request, in the order they are asked.
pub fn for_request(user: &User, method: &str, path: &str, node_name: &str) -> Vec<Attributes> {
    subresources(path)
        .into_iter()
        .map(|sub| Attributes {
            user: user.clone(),
            verb: verb(method).to_string(),
            resource: "nodes".to_string(),
            subresource: sub.to_string(),
            name: node_name.to_string(),
            api_version: "v1".to_string(),
            path: path.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_upstreams_subresources() {
        let table: &[(&str, &[&str])] = &[
            ("/pods", &["pods", "proxy"]),
            ("/pods/", &["pods", "proxy"]),
            ("/podsx", &["proxy"]),
            ("/runningpods/", &["pods", "proxy"]),
            ("/runningpods", &["pods", "proxy"]),
            ("/allocatedPods/ns/p", &["pods", "proxy"]),
            ("/healthz", &["healthz", "proxy"]),
            ("/healthz/syncloop", &["healthz", "proxy"]),
            ("/configz", &["configz", "proxy"]),
            ("/stats/summary", &["stats"]),
            ("/stats", &["stats"]),
            ("/metrics", &["metrics"]),
            ("/metrics/cadvisor", &["metrics"]),
            ("/metrics/resource", &["metrics"]),
            ("/metricsx", &["proxy"]),
            ("/logs/", &["log"]),
            ("/logs/syslog", &["log"]),
            ("/checkpoint/ns/p/c", &["checkpoint"]),
            ("/statusz", &["statusz"]),
            ("/flagz", &["configz"]),
            ("/containerLogs/ns/p/c", &["proxy"]),
            ("/exec/ns/p/c", &["proxy"]),
            ("/run/ns/p/c", &["proxy"]),
            ("/portForward/ns/p", &["proxy"]),
            ("/spec/", &["proxy"]),
            ("/", &["proxy"]),
            ("", &["proxy"]),
        ];
        for (path, want) in table {
            assert_eq!(subresources(path), *want, "{path}");
        }
    }

    #[test]
    fn verbs_and_attributes() {
        assert_eq!([verb("GET"), verb("POST"), verb("PUT"), verb("PATCH"), verb("DELETE"), verb("HEAD")], ["get", "create", "update", "patch", "delete", ""]);
        let user = User { name: "alice".into(), ..Default::default() };
        let attrs = for_request(&user, "POST", "/exec/ns/p/c", "node-1");
        assert_eq!(attrs.len(), 1);
        let a = &attrs[0];
        assert_eq!((a.verb.as_str(), a.resource.as_str(), a.subresource.as_str(), a.name.as_str()), ("create", "nodes", "proxy", "node-1"));
        assert_eq!(a.api_version, "v1");
    }
}
