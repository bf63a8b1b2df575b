//! Service links: the Docker-link style environment variables a container gets for the
//! services it may talk to (upstream's `envvars.FromServices`).
//!
//! For a service `my-svc` with cluster IP `10.0.0.11` and ports `8080/TCP` (unnamed) and
//! `9090/UDP` named `metrics`:
//!
//! ```text
//! MY_SVC_SERVICE_HOST=10.0.0.11
//! MY_SVC_SERVICE_PORT=8080
//! MY_SVC_SERVICE_PORT_METRICS=9090
//! MY_SVC_PORT=tcp://10.0.0.11:8080
//! MY_SVC_PORT_8080_TCP=tcp://10.0.0.11:8080
//! MY_SVC_PORT_8080_TCP_PROTO=tcp
//! MY_SVC_PORT_8080_TCP_PORT=8080
//! MY_SVC_PORT_8080_TCP_ADDR=10.0.0.11
//! MY_SVC_PORT_9090_UDP=udp://10.0.0.11:9090
//! ... (_PROTO, _PORT, _ADDR)
//! ```
//!
//! Only services with a cluster IP count (not headless `None`, not empty). The `kubernetes`
//! service of the `default` namespace is always included, even with `enableServiceLinks:
//! false`; a service of the pod's own namespace with the same name wins over it. Upstream
//! emits the variables in map order; ours are sorted by service name, then as listed above.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::api::core::Service;

/// The namespace and name of the service every pod learns about.
const MASTER_NAMESPACE: &str = "default";
const MASTER_SERVICE: &str = "kubernetes";

/// The service-link variables for a pod in `namespace`. `services` are the services of that
/// namespace, `master_services` those of `default` (only `kubernetes` is taken from them).
pub fn service_env(
    services: &[Service],
    enable_service_links: bool,
    namespace: &str,
    master_services: &[Service],
) -> Vec<(String, String)> {
    let mut chosen: BTreeMap<&str, &Service> = BTreeMap::new();
    for svc in master_services {
        if svc.metadata.namespace() == MASTER_NAMESPACE
            && svc.metadata.name() == MASTER_SERVICE
            && has_cluster_ip(svc)
        {
            chosen.entry(MASTER_SERVICE).or_insert(svc);
        }
    }
    if enable_service_links {
        for svc in services {
            let in_namespace = svc.metadata.namespace() == namespace;
            let is_master =
                svc.metadata.namespace() == MASTER_NAMESPACE && svc.metadata.name() == MASTER_SERVICE;
            if in_namespace && !is_master && has_cluster_ip(svc) {
                chosen.insert(svc.metadata.name(), svc);
            }
        }
    }
    chosen.values().flat_map(|svc| service_vars(svc)).collect()
}

/// A service has a cluster IP: neither headless (`None`) nor unset.
pub fn has_cluster_ip(svc: &Service) -> bool {
    !matches!(svc.spec.cluster_ip.as_deref(), None | Some("") | Some("None"))
}

/// Upper-cased, `-` → `_`: `my-svc` → `MY_SVC`.
pub fn env_name(name: &str) -> String {
    name.replace('-', "_").to_uppercase()
}

/// The variables of one service, in upstream's order.
fn service_vars(svc: &Service) -> Vec<(String, String)> {
    let ip = svc.spec.cluster_ip.as_deref().unwrap_or_default();
    let prefix = env_name(svc.metadata.name());
    let mut vars = vec![(format!("{prefix}_SERVICE_HOST"), ip.to_string())];
    let Some(first) = svc.spec.ports.first() else {
        // Validation requires ports for a service with a cluster IP; nothing more to say.
        return vars;
    };
    let port_var = format!("{prefix}_SERVICE_PORT");
    vars.push((port_var.clone(), first.port.to_string()));
    for p in &svc.spec.ports {
        if let Some(name) = p.name.as_deref().filter(|n| !n.is_empty()) {
            vars.push((format!("{port_var}_{}", env_name(name)), p.port.to_string()));
        }
    }
    for (i, p) in svc.spec.ports.iter().enumerate() {
        let protocol = p.protocol.as_deref().filter(|s| !s.is_empty()).unwrap_or("TCP");
        let lower = protocol.to_lowercase();
        let url = format!("{lower}://{}", join_host_port(ip, p.port));
        if i == 0 {
            vars.push((format!("{prefix}_PORT"), url.clone()));
        }
        let port_prefix = format!("{prefix}_PORT_{}_{}", p.port, protocol.to_uppercase());
        vars.push((port_prefix.clone(), url));
        vars.push((format!("{port_prefix}_PROTO"), lower));
        vars.push((format!("{port_prefix}_PORT"), p.port.to_string()));
        vars.push((format!("{port_prefix}_ADDR"), ip.to_string()));
    }
    vars
}

/// `host:port`, with brackets around an IPv6 address (Go's `net.JoinHostPort`).
fn join_host_port(host: &str, port: i32) -> String {
    if host.contains(':') || matches!(host.parse::<IpAddr>(), Ok(IpAddr::V6(_))) {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn svc(ns: &str, name: &str, ip: &str, ports: serde_json::Value) -> Service {
        serde_json::from_value(json!({
            "metadata": {"name": name, "namespace": ns},
            "spec": {"clusterIP": ip, "ports": ports},
        }))
        .expect("service")
    }

    fn get<'a>(vars: &'a [(String, String)], name: &str) -> Option<&'a str> {
        vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn docker_link_variables() {
        let s = svc(
            "ns",
            "my-svc",
            "10.0.0.11",
            json!([{"port": 8080, "protocol": "TCP"}, {"name": "metrics", "port": 9090, "protocol": "UDP"}]),
        );
        let vars = service_env(&[s], true, "ns", &[]);
        let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "MY_SVC_SERVICE_HOST",
                "MY_SVC_SERVICE_PORT",
                "MY_SVC_SERVICE_PORT_METRICS",
                "MY_SVC_PORT",
                "MY_SVC_PORT_8080_TCP",
                "MY_SVC_PORT_8080_TCP_PROTO",
                "MY_SVC_PORT_8080_TCP_PORT",
                "MY_SVC_PORT_8080_TCP_ADDR",
                "MY_SVC_PORT_9090_UDP",
                "MY_SVC_PORT_9090_UDP_PROTO",
                "MY_SVC_PORT_9090_UDP_PORT",
                "MY_SVC_PORT_9090_UDP_ADDR",
            ]
        );
        assert_eq!(get(&vars, "MY_SVC_SERVICE_HOST"), Some("10.0.0.11"));
        assert_eq!(get(&vars, "MY_SVC_SERVICE_PORT"), Some("8080"));
        assert_eq!(get(&vars, "MY_SVC_SERVICE_PORT_METRICS"), Some("9090"));
        assert_eq!(get(&vars, "MY_SVC_PORT"), Some("tcp://10.0.0.11:8080"));
        assert_eq!(get(&vars, "MY_SVC_PORT_9090_UDP"), Some("udp://10.0.0.11:9090"));
        assert_eq!(get(&vars, "MY_SVC_PORT_9090_UDP_PROTO"), Some("udp"));
        assert_eq!(get(&vars, "MY_SVC_PORT_9090_UDP_ADDR"), Some("10.0.0.11"));
    }

    #[test]
    fn kubernetes_service_always_and_links_only_when_enabled() {
        let master = [svc("default", "kubernetes", "10.96.0.1", json!([{"name": "https", "port": 443}]))];
        let local = [svc("ns", "db", "10.0.0.5", json!([{"port": 5432}]))];
        let vars = service_env(&local, false, "ns", &master);
        assert_eq!(get(&vars, "KUBERNETES_SERVICE_HOST"), Some("10.96.0.1"));
        assert_eq!(get(&vars, "KUBERNETES_SERVICE_PORT"), Some("443"));
        assert_eq!(get(&vars, "KUBERNETES_SERVICE_PORT_HTTPS"), Some("443"));
        assert_eq!(get(&vars, "KUBERNETES_PORT"), Some("tcp://10.96.0.1:443"));
        assert_eq!(get(&vars, "DB_SERVICE_HOST"), None);
        let vars = service_env(&local, true, "ns", &master);
        assert_eq!(get(&vars, "DB_SERVICE_HOST"), Some("10.0.0.5"));
        assert_eq!(get(&vars, "DB_PORT_5432_TCP"), Some("tcp://10.0.0.5:5432"));
    }

    #[test]
    fn headless_other_namespaces_and_shadowing() {
        let local = [
            svc("ns", "headless", "None", json!([{"port": 80}])),
            svc("ns", "unset", "", json!([{"port": 80}])),
            svc("other", "elsewhere", "10.0.0.9", json!([{"port": 80}])),
            svc("ns", "kubernetes", "10.0.0.7", json!([{"port": 8443}])),
        ];
        let master = [svc("default", "kubernetes", "10.96.0.1", json!([{"port": 443}]))];
        let vars = service_env(&local, true, "ns", &master);
        assert_eq!(get(&vars, "HEADLESS_SERVICE_HOST"), None);
        assert_eq!(get(&vars, "UNSET_SERVICE_HOST"), None);
        assert_eq!(get(&vars, "ELSEWHERE_SERVICE_HOST"), None);
        assert_eq!(get(&vars, "KUBERNETES_SERVICE_HOST"), Some("10.0.0.7"), "the namespace's own wins");
        assert_eq!(vars.iter().filter(|(k, _)| k == "KUBERNETES_SERVICE_HOST").count(), 1);
        assert!(service_env(&[], true, "ns", &[]).is_empty(), "no API server, no variables");
    }

    #[test]
    fn ipv6_cluster_ip_is_bracketed() {
        let s = svc("ns", "v6", "fd00::1", json!([{"port": 80, "protocol": "SCTP"}]));
        let vars = service_env(&[s], true, "ns", &[]);
        assert_eq!(get(&vars, "V6_PORT"), Some("sctp://[fd00::1]:80"));
        assert_eq!(get(&vars, "V6_PORT_80_SCTP_ADDR"), Some("fd00::1"));
    }
}
