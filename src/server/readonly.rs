//! The read-only port (10255): unauthenticated reads, off when readOnlyPort is 0.
//!
//! Serves what upstream serves there without authentication: `/healthz` and `/pods` (a v1
//! PodList of the pods this node runs, with their statuses); later issues add `/spec/` and
//! `/stats/`.

use std::net::SocketAddr;
use std::sync::Arc;

use super::{Checks, Reply, path_of, serve};
use crate::api::List;
use crate::api::core::Pod;

/// What the read-only endpoints read from.
pub struct Sources {
    pub checks: Checks,
    /// The node's pods with their current statuses.
    pub pods: Arc<dyn Fn() -> Vec<Pod> + Send + Sync>,
}

pub fn spawn(addr: SocketAddr, sources: Sources) -> std::io::Result<SocketAddr> {
    let sources = Arc::new(sources);
    serve("readonly", addr, Arc::new(move |method, url| handle(&sources, method, url)))
}

fn handle(s: &Sources, method: &str, url: &str) -> Reply {
    if method != "GET" && method != "HEAD" {
        return Reply::text(405, "method not allowed\n");
    }
    match path_of(url) {
        "/healthz" | "/healthz/" => s.checks.reply(url.contains("verbose")),
        "/pods" | "/pods/" => pod_list(&(s.pods)()),
        _ => Reply::not_found(),
    }
}

/// A `v1 PodList`, as upstream's /pods returns it.
pub fn pod_list(pods: &[Pod]) -> Reply {
    let mut list = List::<Pod> { items: pods.to_vec(), ..Default::default() };
    list.api_version = Some("v1".into());
    list.kind = Some("PodList".into());
    match serde_json::to_vec(&list) {
        Ok(body) => Reply::json(body),
        Err(e) => Reply::text(500, format!("cannot encode pods: {e}\n")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pods_is_a_pod_list_and_other_paths_404() {
        let mut p = Pod::default();
        p.metadata.name = Some("web-n1".into());
        let s = Sources { checks: Checks::default(), pods: Arc::new(move || vec![p.clone()]) };
        let r = handle(&s, "GET", "/pods?x=1");
        assert_eq!(r.status, 200);
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap_or_default();
        assert_eq!(v["kind"], "PodList");
        assert_eq!(v["apiVersion"], "v1");
        assert_eq!(v["items"][0]["metadata"]["name"], "web-n1");
        assert_eq!(handle(&s, "GET", "/exec/x").status, 404);
        assert_eq!(handle(&s, "POST", "/pods").status, 405);
    }
}
