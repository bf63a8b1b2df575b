//! Tests of `config::load`: flags, files and their precedence, end to end.

use super::*;
use std::io::Write;

/// Every JSON path of the KubeletConfiguration struct, list items as `name[].field`.
pub(crate) fn struct_field_paths() -> Vec<String> {
    let mut kc = KubeletConfiguration::default();
    // One item in each list of objects and every optional object set, so that their fields show.
    kc.register_with_taints.push(Taint::default());
    kc.shutdown_grace_period_by_pod_priority.push(ShutdownGracePeriodByPodPriority::default());
    kc.reserved_memory.push(MemoryReservation::default());
    kc.logging.vmodule.push(VModuleItem::default());
    kc.tracing = Some(TracingConfiguration::default());
    kc.user_namespaces = Some(UserNamespaces::default());
    let value = serde_json::to_value(kc).unwrap_or_default();
    let mut paths = Vec::new();
    collect(&value, "", &mut paths);
    paths
}

fn collect(value: &Value, prefix: &str, out: &mut Vec<String>) {
    let Value::Object(map) = value else { return };
    for (key, child) in map {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        let kind = fields::lookup(&path).map(|f| f.kind);
        out.push(path.clone());
        match (kind, child) {
            (Some(fields::Kind::Object), _) => collect(child, &path, out),
            (Some(fields::Kind::ObjectList), Value::Array(items)) => {
                if let Some(first) = items.first() {
                    collect(first, &format!("{path}[]"), out);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn the_struct_and_the_field_table_agree() {
    let mut from_struct = struct_field_paths();
    let mut from_table: Vec<String> = fields::FIELDS.iter().map(|f| f.path.to_string()).collect();
    from_struct.sort();
    from_table.sort();
    assert_eq!(from_struct, from_table);
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, content: &str) -> TempFile {
        let dir = std::env::temp_dir().join(format!("rkubelet-config-test-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(name);
        let written = std::fs::File::create(&path).and_then(|mut f| f.write_all(content.as_bytes()));
        assert!(written.is_ok(), "cannot write {}", path.display());
        TempFile(path)
    }

    fn flag(&self) -> String {
        format!("--config={}", self.0.display())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const HEAD: &str = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

fn load_ok(list: &[String]) -> Loaded {
    match load(list) {
        Ok(l) => l,
        Err(e) => panic!("load failed: {e}"),
    }
}

#[test]
fn no_config_file_means_flag_defaults() {
    let loaded = load_ok(&[]);
    let kc = &loaded.config.kubelet;
    assert_eq!(kc.read_only_port, 10255);
    assert!(kc.authentication.anonymous.enabled);
    assert_eq!(kc.authorization.mode, "AlwaysAllow");
    assert!(kc.eviction_hard.is_empty());
    assert_eq!(kc.cgroup_root, "/", "filled in as upstream does at start-up");
    assert_eq!(loaded.config.flags.root_dir, std::path::PathBuf::from("/var/lib/kubelet"));
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn a_config_file_gets_file_defaults() {
    let file = TempFile::new("defaults.yaml", HEAD);
    let kc = load_ok(&[file.flag()]).config.kubelet;
    assert_eq!(kc.read_only_port, 0);
    assert!(!kc.authentication.anonymous.enabled);
    assert_eq!(kc.authorization.mode, "Webhook");
    assert_eq!(kc.eviction_hard.len(), 5);
}

#[test]
fn flags_beat_the_file_and_defaults_do_not() {
    let file = TempFile::new("precedence.yaml", &format!("{HEAD}maxPods: 50\nreadOnlyPort: 10255\nsyncFrequency: 30s\nfeatureGates:\n  GracefulNodeShutdown: false\n"));
    let loaded = load_ok(&[file.flag(), "--max-pods=20".into(), "--feature-gates=NodeLogQuery=true".into()]);
    let kc = &loaded.config.kubelet;
    assert_eq!(kc.max_pods, 20, "the flag wins");
    assert_eq!(kc.read_only_port, 10255, "the file's value stays: the flag was not given");
    assert_eq!(kc.sync_frequency, GoDuration::from_secs(30));
    assert_eq!(kc.feature_gates.get("GracefulNodeShutdown"), Some(&false), "file gates survive flag gates");
    assert_eq!(kc.feature_gates.get("NodeLogQuery"), Some(&true));
    assert!(!loaded.config.feature_gates.enabled("GracefulNodeShutdown"));

    let off = load_ok(&[file.flag(), "--read-only-port=0".into()]).config.kubelet;
    assert_eq!(off.read_only_port, 0);
}

#[test]
fn flag_order_and_repetition() {
    let loaded = load_ok(&args(&[
        "--manifest-url=http://192.0.2.1/pods",
        "--manifest-url-header=a:hello,b:again",
        "--manifest-url-header",
        "b:beautiful",
        "--max-pods=10",
        "--max-pods=12",
        "-v=3",
    ]));
    let kc = &loaded.config.kubelet;
    assert_eq!(kc.static_pod_url, "http://192.0.2.1/pods");
    assert_eq!(kc.static_pod_url_header.get("b").cloned().unwrap_or_default(), ["again", "beautiful"]);
    assert_eq!(kc.max_pods, 12, "the last use wins");
    assert_eq!(kc.logging.verbosity, 3);
}

#[test]
fn the_read_only_port_rule_from_upstream() {
    let file = TempFile::new("rop.yaml", HEAD);
    assert_eq!(load_ok(&[]).config.kubelet.read_only_port, 10255);
    assert_eq!(load_ok(&[file.flag()]).config.kubelet.read_only_port, 0);
    assert_eq!(load_ok(&[file.flag(), "--read-only-port=10255".into()]).config.kubelet.read_only_port, 10255);
}

#[test]
fn warnings_name_unknown_and_unimplemented_settings() {
    let file = TempFile::new("warn.yaml", &format!("{HEAD}maxPods: 50\nnotAField: 1\nlogging:\n  verbosity: 2\ncpuManagerPolicy: static\nfeatureGates:\n  FromTheFuture: true\n"));
    let loaded = load_ok(&[file.flag(), "--hostname-override=edge".into(), "--sync-frequency=1m".into()]);
    let texts: Vec<String> = loaded.warnings.iter().map(ToString::to_string).collect();
    let has = |needle: &str| texts.iter().any(|t| t.contains(needle));
    assert!(has("unknown field \"notAField\""), "{texts:?}");
    assert!(!has("field maxPods"), "implemented fields are not warned about");
    assert!(has("field cpuManagerPolicy is accepted but not implemented"));
    assert!(!has("logging.verbosity"), "implemented fields are not warned about");
    assert!(has("field featureGates is accepted but not implemented"));
    assert!(has("unrecognized feature gate \"FromTheFuture\""));
    assert!(!has("flag --hostname-override is accepted"), "implemented flags are not warned about");
    assert!(has("flag --sync-frequency has been deprecated"));
    assert!(!has("flag --config "), "implemented flags are not warned about");
}

#[test]
fn errors_are_specific() {
    let err = |list: Vec<String>| load(&list).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err(args(&["--bogus"])).contains("unknown flag: --bogus"));
    assert!(err(args(&["--config=/nonexistent/kubelet.yaml"])).contains("failed to read kubelet config file /nonexistent/kubelet.yaml"));
    let wrong = TempFile::new("wrongtype.yaml", &format!("{HEAD}port: http\n"));
    assert!(err(vec![wrong.flag()]).contains("field port: expected int32"));
    let kind = TempFile::new("kind.yaml", "apiVersion: v1\nkind: Pod\n");
    assert!(err(vec![kind.flag()]).contains("expected apiVersion \"kubelet.config.k8s.io/v1beta1\""));
    let invalid = TempFile::new("invalid.yaml", &format!("{HEAD}imageGCHighThresholdPercent: 50\nimageGCLowThresholdPercent: 60\nnodeLeaseDurationSeconds: -1\n"));
    let text = err(vec![invalid.flag()]);
    assert!(text.contains("imageGCLowThresholdPercent: 60 must be less than"), "{text}");
    assert!(text.contains("nodeLeaseDurationSeconds: must be greater than 0"), "{text}");
    assert!(err(args(&["--feature-gates=NodeSwap=false"])).contains("feature gate NodeSwap: locked to true"));
    assert!(err(args(&["--sync-frequency=0s"])).contains("syncFrequency: 0s must be greater than 0"));
    assert!(err(args(&["--node-labels=kubernetes.io/role=master"])).contains("--node-labels"));
}

#[test]
fn json_config_files_work() {
    let file = TempFile::new("kubelet.json", r#"{"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"KubeletConfiguration","staticPodPath":"manifests","clusterDNS":["10.96.0.10"]}"#);
    let kc = load_ok(&[file.flag()]).config.kubelet;
    let dir = file.0.parent().map(|d| d.join("manifests")).unwrap_or_default();
    assert_eq!(std::path::PathBuf::from(&kc.static_pod_path), dir, "relative to the file's directory");
    assert_eq!(kc.cluster_dns, ["10.96.0.10"]);
}

#[test]
fn a_kubeadm_style_config_loads() {
    let file = TempFile::new("kubeadm.yaml", &format!(
        "{HEAD}authentication:\n  anonymous:\n    enabled: false\n  webhook:\n    cacheTTL: 0s\n    enabled: true\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\n\
authorization:\n  mode: Webhook\n  webhook:\n    cacheAuthorizedTTL: 0s\n    cacheUnauthorizedTTL: 0s\ncgroupDriver: systemd\nclusterDNS:\n- 10.96.0.10\nclusterDomain: cluster.local\n\
containerRuntimeEndpint: \"\"\ncpuManagerReconcilePeriod: 0s\nevictionPressureTransitionPeriod: 0s\nfileCheckFrequency: 0s\nhealthzBindAddress: 127.0.0.1\nhealthzPort: 10248\n\
httpCheckFrequency: 0s\nimageMaximumGCAge: 0s\nimageMinimumGCAge: 0s\nlogging:\n  flushFrequency: 0\n  options:\n    json:\n      infoBufferSize: \"0\"\n    text:\n      infoBufferSize: \"0\"\n  verbosity: 0\n\
memorySwap: {{}}\nnodeStatusReportFrequency: 0s\nnodeStatusUpdateFrequency: 0s\nresolvConf: /run/systemd/resolve/resolv.conf\nrotateCertificates: true\nruntimeRequestTimeout: 0s\n\
shutdownGracePeriod: 0s\nshutdownGracePeriodCriticalPods: 0s\nstaticPodPath: /etc/kubernetes/manifests\nstreamingConnectionIdleTimeout: 0s\nsyncFrequency: 0s\nvolumeStatsAggPeriod: 0s\n"
    ));
    let loaded = load_ok(&[file.flag()]);
    let kc = &loaded.config.kubelet;
    assert_eq!(kc.sync_frequency, GoDuration::from_mins(1), "0s in a file means the default");
    assert_eq!(kc.authentication.webhook.cache_ttl, GoDuration::from_mins(2));
    assert_eq!(kc.logging.flush_frequency, GoDuration::from_secs(5));
    assert_eq!(kc.cgroup_driver, "systemd");
    assert!(loaded.warnings.contains(&Warning::UnknownField { file: file.0.clone(), field: "containerRuntimeEndpint".into() }));
}
