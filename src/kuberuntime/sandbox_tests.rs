use serde_json::json;

use super::*;
use crate::cri::{NamespaceMode, ProfileType};
use crate::kuberuntime::model::keys;
use crate::kuberuntime::node::CgroupDriver;
use crate::kuberuntime::testutil::{pod, pod_with, strs};

fn node() -> NodeContext {
    NodeContext {
        node_name: "edge-1".into(),
        host_ips: vec!["192.0.2.2".into()],
        cluster_dns: vec!["10.96.0.10".into()],
        cluster_domain: "cluster.local".into(),
        resolv_conf: "nameserver 192.0.2.53\nsearch lan\n".into(),
        ..NodeContext::default()
    }
}

#[test]
fn full_sandbox_config() {
    let p = pod_with(
        json!({"labels": {"app": "web"}, "annotations": {"kubernetes.io/config.source": "file"}}),
        json!({
            "hostname": "web-0", "subdomain": "web",
            "securityContext": {"runAsUser": 1000, "sysctls": [{"name": "net.ipv4.ip_forward", "value": "1"}]},
            "containers": [{"name": "app", "image": "nginx",
                "ports": [{"containerPort": 80, "hostPort": 8080, "protocol": "TCP", "hostIP": "127.0.0.1"},
                          {"containerPort": 53, "protocol": "UDP"}],
                "resources": {"requests": {"cpu": "250m"}, "limits": {"cpu": "1", "memory": "256Mi"}}}],
        }),
    );
    let cfg = sandbox_config(&p, 2, &node()).expect("ok");
    let meta = cfg.metadata.expect("metadata");
    assert_eq!(
        (meta.name.as_str(), meta.namespace.as_str(), meta.uid.as_str(), meta.attempt),
        ("web", "prod", "u-1", 2)
    );
    assert_eq!(cfg.hostname, "web-0");
    assert_eq!(cfg.log_directory, "/var/log/pods/prod_web_u-1");
    let dns = cfg.dns_config.expect("dns");
    assert_eq!(dns.servers, strs(&["10.96.0.10"]));
    assert_eq!(dns.searches, strs(&["prod.svc.cluster.local", "svc.cluster.local", "cluster.local", "lan"]));
    assert_eq!(dns.options, strs(&["ndots:5"]));
    assert_eq!(cfg.port_mappings.len(), 2, "upstream passes every port; the runtime maps host ports");
    let http = &cfg.port_mappings[0];
    assert_eq!(
        (http.protocol, http.container_port, http.host_port, http.host_ip.as_str()),
        (Protocol::TCP, 80, 8080, "127.0.0.1")
    );
    assert_eq!((cfg.port_mappings[1].protocol, cfg.port_mappings[1].host_port), (Protocol::UDP, 0));
    assert_eq!(cfg.labels["app"], "web");
    assert_eq!(cfg.labels[keys::POD_UID], "u-1");
    assert_eq!(cfg.annotations["kubernetes.io/config.source"], "file");

    let linux = cfg.linux.expect("linux");
    assert_eq!(linux.cgroup_parent, "/kubepods/burstable/podu-1");
    assert_eq!(linux.sysctls["net.ipv4.ip_forward"], "1");
    let sc = linux.security_context.expect("sc");
    assert_eq!(sc.run_as_user.map(|u| u.value), Some(1000));
    assert_eq!(sc.seccomp.map(|s| s.profile_type), Some(ProfileType::RUNTIME_DEFAULT));
    let ns = sc.namespace_options.expect("ns");
    assert_eq!(
        (ns.network, ns.pid, ns.ipc),
        (NamespaceMode::POD, NamespaceMode::CONTAINER, NamespaceMode::POD)
    );
    let res = linux.resources.expect("resources");
    assert_eq!((res.cpu_shares, res.cpu_quota, res.memory_limit_in_bytes), (256, 100_000, 256 << 20));
    assert_eq!(linux.overhead, Some(Default::default()));
}

#[test]
fn host_network_sandbox() {
    let p = pod(json!({"hostNetwork": true, "dnsPolicy": "ClusterFirst"}));
    let cfg = sandbox_config(&p, 0, &node()).expect("ok");
    assert_eq!(cfg.hostname, "", "the node's hostname");
    assert_eq!(cfg.dns_config.map(|d| d.servers), Some(strs(&["192.0.2.53"])));
    let ns = cfg.linux.and_then(|l| l.security_context).and_then(|s| s.namespace_options).expect("ns");
    assert_eq!(ns.network, NamespaceMode::NODE);
}

#[test]
fn fqdn_hostname_and_systemd() {
    let p = pod(json!({"hostname": "db", "subdomain": "web", "setHostnameAsFQDN": true}));
    let n = NodeContext { cgroup_driver: CgroupDriver::Systemd, ..node() };
    let cfg = sandbox_config(&p, 0, &n).expect("ok");
    assert_eq!(cfg.hostname, "db.web.prod.svc.cluster.local");
    assert_eq!(
        cfg.linux.map(|l| l.cgroup_parent),
        Some("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podu_1.slice".to_string())
    );
}

#[test]
fn errors_name_the_pod() {
    let p = pod(json!({"hostname": "Not_Valid"}));
    let err = sandbox_config(&p, 0, &node()).expect_err("invalid hostname");
    assert_eq!((err.pod.as_str(), err.container.as_deref()), ("prod/web", None));
    assert!(err.to_string().starts_with("pod prod/web: pod Hostname \"Not_Valid\" is not a valid DNS label"));
    let bad_dns = NodeContext { resolv_conf: "nameserver\n".into(), ..node() };
    assert!(sandbox_config(&pod(json!({})), 0, &bad_dns).is_err());
}

#[test]
fn duplicate_ports_are_taken_once() {
    let p = pod(json!({"containers": [
        {"name": "a", "ports": [
            {"name": "http", "containerPort": 80},
            {"name": "http", "containerPort": 81},
            {"containerPort": 53, "protocol": "UDP"},
            {"containerPort": 53, "protocol": "UDP"},
            {"containerPort": 53, "protocol": "TCP"},
        ]},
        {"name": "b", "ports": [{"name": "http", "containerPort": 80}]},
    ]}));
    let ports: Vec<(i32, Protocol)> =
        port_mappings(&p).iter().map(|m| (m.container_port, m.protocol)).collect();
    assert_eq!(ports, [(80, Protocol::TCP), (53, Protocol::UDP), (53, Protocol::TCP), (80, Protocol::TCP)]);
}
