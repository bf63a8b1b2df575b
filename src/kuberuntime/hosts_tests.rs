use serde_json::json;

use super::*;
use crate::kuberuntime::testutil::pod_with;

fn pod(spec: serde_json::Value) -> Pod {
    pod_with(json!({"name": "web-0"}), spec)
}

#[test]
fn hostname_rules() {
    let (h, d) = pod_hostname_and_domain(&pod(json!({})), "cluster.local").expect("ok");
    assert_eq!((h.as_str(), d), ("web-0", None));
    let p = pod(json!({"hostname": "db", "subdomain": "web"}));
    let (h, d) = pod_hostname_and_domain(&p, "cluster.local").expect("ok");
    assert_eq!(h, "db");
    assert_eq!(d.as_deref(), Some("web.prod.svc.cluster.local"));
    let p = pod(json!({"hostnameOverride": "my.host.example", "subdomain": "web"}));
    let (h, d) = pod_hostname_and_domain(&p, "cluster.local").expect("ok");
    assert_eq!((h.as_str(), d), ("my.host.example", None), "an override has no domain");
}

#[test]
fn invalid_names_are_errors_with_upstream_words() {
    let err = pod_hostname_and_domain(&pod(json!({"hostname": "a.b"})), "c").expect_err("dots");
    assert_eq!(err.to_string(), "pod Hostname \"a.b\" is not a valid DNS label: must not contain dots");
    let err = pod_hostname_and_domain(&pod(json!({"subdomain": "Bad"})), "c").expect_err("upper");
    assert!(
        err.to_string()
            .starts_with("pod Subdomain \"Bad\" is not a valid DNS label: a lowercase RFC 1123 label")
    );
    let err = pod_hostname_and_domain(&pod(json!({"hostnameOverride": "-x"})), "c").expect_err("dash");
    assert!(
        err.to_string().starts_with("pod HostnameOverride \"-x\" is not a valid DNS subdomain: a lowercase")
    );
}

#[test]
fn long_pod_names_are_cut_to_63() {
    let mut p = pod(json!({}));
    let name = format!("{}-{}", "a".repeat(62), "b".repeat(10));
    p.metadata.name = Some(name);
    let (h, _) = pod_hostname_and_domain(&p, "").expect("ok");
    assert_eq!(h, "a".repeat(62), "63 characters, then the trailing '-' is trimmed");
}

#[test]
fn fqdn_as_kernel_hostname() {
    let p = pod(json!({"setHostnameAsFQDN": true}));
    assert_eq!(
        kernel_hostname(&p, "db", Some("web.prod.svc.cluster.local")).expect("ok"),
        "db.web.prod.svc.cluster.local"
    );
    assert_eq!(kernel_hostname(&p, "db", None).expect("ok"), "db");
    let long_domain = format!("{}.svc.local", "x".repeat(60));
    let err = kernel_hostname(&p, "db", Some(&long_domain)).expect_err("too long");
    assert!(err.to_string().contains("is too long (64 characters is the max, 73 characters requested)"));
    assert_eq!(kernel_hostname(&pod(json!({})), "db", Some("d")).expect("ok"), "db");
}

#[test]
fn managed_hosts_file_exact() {
    let p = pod(json!({"hostAliases": [
        {"ip": "10.9.9.9", "hostnames": ["foo", "bar"]},
        {"ip": "fd00::9", "hostnames": ["baz"]},
    ]}));
    let ips = vec!["10.1.2.3".to_string(), "fd00::3".to_string()];
    let content = etc_hosts_content(&p, &ips, "web-0", Some("web.prod.svc.cluster.local"));
    assert_eq!(
        content,
        "# Kubernetes-managed hosts file.\n\
         127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         fe00::0\tip6-mcastprefix\n\
         fe00::1\tip6-allnodes\n\
         fe00::2\tip6-allrouters\n\
         10.1.2.3\tweb-0.web.prod.svc.cluster.local\tweb-0\n\
         fd00::3\tweb-0.web.prod.svc.cluster.local\tweb-0\n\
         \n\
         # Entries added by HostAliases.\n\
         10.9.9.9\tfoo\tbar\n\
         fd00::9\tbaz\n"
    );
    let plain = etc_hosts_content(&pod(json!({})), &ips[..1], "web-0", None);
    assert!(plain.ends_with("fe00::2\tip6-allrouters\n10.1.2.3\tweb-0\n"), "{plain}");
}

#[test]
fn host_network_hosts_file() {
    let aliases = vec![HostAlias { ip: "1.2.3.4".into(), hostnames: vec!["a".into()] }];
    assert_eq!(
        host_network_etc_hosts_content("127.0.0.1 localhost\n", &aliases),
        "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n\n# Entries added by HostAliases.\n1.2.3.4\ta\n"
    );
}

#[test]
fn when_etc_hosts_is_mounted() {
    let p = pod(json!({}));
    let c = &p.spec.containers[0];
    let ips = vec!["10.1.2.3".to_string()];
    assert!(needs_managed_etc_hosts(&p, c, &ips));
    assert!(!needs_managed_etc_hosts(&p, c, &[]), "no pod IP yet");
    let host = pod(json!({"hostNetwork": true}));
    assert!(needs_managed_etc_hosts(&host, &host.spec.containers[0], &[]));
    let own = pod(
        json!({"containers": [{"name": "app", "volumeMounts": [{"name": "h", "mountPath": "/etc/hosts"}]}]}),
    );
    assert!(!needs_managed_etc_hosts(&own, &own.spec.containers[0], &ips));
}

#[test]
fn dns_name_checks() {
    assert!(dns1123_label_errors("my-name").is_empty());
    assert!(dns1123_label_errors("123-abc").is_empty());
    assert_eq!(dns1123_label_errors(&"a".repeat(64)), ["must be no more than 63 characters"]);
    assert!(!dns1123_label_errors("").is_empty());
    assert!(dns1123_subdomain_errors("example.com").is_empty());
    assert!(!dns1123_subdomain_errors("example..com").is_empty());
}
