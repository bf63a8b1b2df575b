use serde_json::json;

use super::*;
use crate::kuberuntime::testutil::{pod, strs};

const RESOLV: &str = "# generated\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch corp.example. lab.example .\noptions timeout:2 ndots:1\noptions timeout:3\n";

fn node() -> NodeContext {
    NodeContext {
        cluster_dns: vec!["10.96.0.10".into()],
        cluster_domain: "cluster.local".into(),
        resolv_conf: RESOLV.into(),
        host_ips: vec!["192.0.2.2".into()],
        ..NodeContext::default()
    }
}

#[test]
fn parses_resolv_conf() {
    let c = parse_resolv_conf(RESOLV).expect("ok");
    assert_eq!(c.servers, strs(&["192.0.2.53", "192.0.2.54"]));
    assert_eq!(c.searches, strs(&["corp.example", "lab.example"]));
    assert_eq!(c.options, strs(&["timeout:3", "ndots:1"]));
    let err = parse_resolv_conf("nameserver\n").expect_err("empty nameserver");
    assert_eq!(
        err.to_string(),
        "Encountered error while parsing resolv conf file. Error: nameserver list is empty "
    );
    let last = parse_resolv_conf("search a\nsearch b c\n").expect("ok");
    assert_eq!(last.searches, strs(&["b", "c"]), "the last search line wins");
}

#[test]
fn cluster_first() {
    let d = pod_dns_config(&pod(json!({})), &node()).expect("ok");
    assert_eq!(d.config.servers, strs(&["10.96.0.10"]));
    assert_eq!(
        d.config.searches,
        strs(&[
            "prod.svc.cluster.local",
            "svc.cluster.local",
            "cluster.local",
            "corp.example",
            "lab.example"
        ])
    );
    assert_eq!(d.config.options, strs(&["ndots:5"]));
    assert!(d.warnings.is_empty());
    let no_domain = NodeContext { cluster_domain: String::new(), ..node() };
    let d = pod_dns_config(&pod(json!({})), &no_domain).expect("ok");
    assert_eq!(d.config.searches, strs(&["corp.example", "lab.example"]));
}

#[test]
fn host_network_policies() {
    let d =
        pod_dns_config(&pod(json!({"hostNetwork": true, "dnsPolicy": "ClusterFirst"})), &node()).expect("ok");
    assert_eq!(
        d.config.servers,
        strs(&["192.0.2.53", "192.0.2.54"]),
        "ClusterFirst on the host network is Default"
    );
    assert_eq!(d.config.options, strs(&["timeout:3", "ndots:1"]));
    let d =
        pod_dns_config(&pod(json!({"hostNetwork": true, "dnsPolicy": "ClusterFirstWithHostNet"})), &node())
            .expect("ok");
    assert_eq!(d.config.servers, strs(&["10.96.0.10"]));
}

#[test]
fn default_and_none() {
    let d = pod_dns_config(&pod(json!({"dnsPolicy": "Default"})), &node()).expect("ok");
    assert_eq!(d.config.searches, strs(&["corp.example", "lab.example"]));
    let d = pod_dns_config(&pod(json!({"dnsPolicy": "None"})), &node()).expect("ok");
    assert_eq!(d.config, DNSConfig::default());
    let no_file =
        NodeContext { resolv_conf: String::new(), host_ips: strs(&["192.0.2.2", "2001:db8::2"]), ..node() };
    let d = pod_dns_config(&pod(json!({"dnsPolicy": "Default"})), &no_file).expect("ok");
    assert_eq!(d.config.servers, strs(&["127.0.0.1", "::1"]));
    assert_eq!(d.config.searches, strs(&["."]));
    let bad = NodeContext { resolv_conf: "nameserver\n".into(), ..node() };
    assert!(pod_dns_config(&pod(json!({"dnsPolicy": "None"})), &bad).is_err(), "read for every policy");
}

#[test]
fn cluster_first_without_cluster_dns_falls_back() {
    let n = NodeContext { cluster_dns: Vec::new(), ..node() };
    let d = pod_dns_config(&pod(json!({})), &n).expect("ok");
    assert_eq!(d.config.servers, strs(&["192.0.2.53", "192.0.2.54"]));
    assert_eq!(d.warnings.len(), 1);
    assert!(d.warnings[0].contains("Falling back to \"Default\" policy"), "{}", d.warnings[0]);
}

#[test]
fn pod_dns_config_merges() {
    let p = pod(json!({"dnsConfig": {
        "nameservers": ["10.96.0.10", "1.1.1.1"],
        "searches": ["svc.cluster.local", "extra.example"],
        "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}],
    }}));
    let d = pod_dns_config(&p, &node()).expect("ok");
    assert_eq!(d.config.servers, strs(&["10.96.0.10", "1.1.1.1"]));
    assert_eq!(
        d.config.searches,
        strs(&[
            "prod.svc.cluster.local",
            "svc.cluster.local",
            "cluster.local",
            "corp.example",
            "lab.example",
            "extra.example"
        ])
    );
    assert_eq!(d.config.options, strs(&["ndots:2", "edns0"]));
    let none =
        pod(json!({"dnsPolicy": "None", "dnsConfig": {"nameservers": ["9.9.9.9"], "searches": ["a.b"]}}));
    let d = pod_dns_config(&none, &node()).expect("ok");
    assert_eq!((d.config.servers, d.config.searches), (strs(&["9.9.9.9"]), strs(&["a.b"])));
}

#[test]
fn limits() {
    let servers: Vec<String> = (1..=5).map(|i| format!("10.0.0.{i}")).collect();
    let searches: Vec<String> = (0..40).map(|i| format!("d{i}.example")).collect();
    let p = pod(json!({"dnsPolicy": "None", "dnsConfig": {"nameservers": servers, "searches": searches}}));
    let d = pod_dns_config(&p, &node()).expect("ok");
    assert_eq!(d.config.servers.len(), 3);
    assert_eq!(d.config.searches.len(), 32);
    assert_eq!(d.warnings.len(), 2);
    assert!(d.warnings[1].starts_with("Search Line limits were exceeded"));

    let long: Vec<String> = (0..12).map(|i| format!("{i:02}{}", "x".repeat(198))).collect();
    let mut with_too_long = long.clone();
    with_too_long.insert(0, "y".repeat(254));
    let p = pod(json!({"dnsPolicy": "None", "dnsConfig": {"searches": with_too_long}}));
    let d = pod_dns_config(&p, &node()).expect("ok");
    assert!(!d.config.searches.iter().any(|s| s.starts_with('y')), "a 254-character path is dropped");
    assert_eq!(d.config.searches.len(), 10, "12 × 201 characters = 2411 > 2048: cut to 10 (2009)");
    assert!(d.config.searches.join(" ").len() <= 2048);
}
