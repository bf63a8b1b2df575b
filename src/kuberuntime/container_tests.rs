use serde_json::json;

use super::*;
use crate::api::core::ConfigMap;
use crate::api::core::{Secret, Service};
use crate::cri::NamespaceMode;
use crate::kuberuntime::env::NoEnvSources;
use crate::kuberuntime::hash::{container_hash, hash_label};
use crate::kuberuntime::model::keys;
use crate::kuberuntime::testutil::{pod, strs};

fn node() -> NodeContext {
    NodeContext { host_ips: vec!["192.0.2.2".into()], memory_capacity: 8 << 30, ..NodeContext::default() }
}

fn inputs<'a>(p: &'a Pod, c: &'a Container, node: &'a NodeContext, ips: &'a [String]) -> ContainerInputs<'a> {
    ContainerInputs {
        pod: p,
        container: c,
        kind: ContainerKind::App,
        restart_count: 0,
        image_ref: "docker.io/library/nginx@sha256:abc",
        pod_ips: ips,
        mounts: Vec::new(),
        etc_hosts: None,
        termination_log: None,
        env: &NoEnvSources,
        node,
        image_user: None,
        target_container_id: None,
    }
}

#[test]
fn full_container_config() {
    let p = pod(json!({"terminationGracePeriodSeconds": 30, "containers": [{
        "name": "app", "image": "nginx:1.25",
        "command": ["/bin/sh", "-c"],
        "args": ["echo $(GREETING) $(MISSING) $$(GREETING)"],
        "workingDir": "/srv",
        "env": [{"name": "GREETING", "value": "hi"}, {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
        "stdin": true, "stdinOnce": true, "tty": true,
        "ports": [{"containerPort": 80}],
        "resources": {"requests": {"cpu": "100m", "memory": "1Gi"}, "limits": {"cpu": "200m"}},
    }]}));
    let c = &p.spec.containers[0];
    let n = node();
    let ips = strs(&["10.1.2.3"]);
    let mut input = inputs(&p, c, &n, &ips);
    input.restart_count = 3;
    input.mounts = vec![Mount {
        container_path: "/data".into(),
        host_path: "/var/lib/kubelet/pods/u-1/volumes/x".into(),
        ..Default::default()
    }];
    input.etc_hosts = Some("/var/lib/kubelet/pods/u-1/etc-hosts".into());
    input.termination_log = Some("/var/lib/kubelet/pods/u-1/containers/app/0000beef".into());
    let cfg = container_config(&input).expect("ok");

    assert_eq!(cfg.metadata, Some(ContainerMetadata { name: "app".into(), attempt: 3 }));
    let image = cfg.image.expect("image");
    assert_eq!(
        (image.image.as_str(), image.user_specified_image.as_str()),
        ("docker.io/library/nginx@sha256:abc", "nginx:1.25")
    );
    assert_eq!(cfg.command, strs(&["/bin/sh", "-c"]));
    assert_eq!(cfg.args, strs(&["echo hi $(MISSING) $(GREETING)"]));
    assert_eq!(cfg.working_dir, "/srv");
    let envs: Vec<(&str, &[u8])> = cfg.envs.iter().map(|kv| (kv.key.as_str(), kv.value.as_slice())).collect();
    assert_eq!(envs, [("GREETING", b"hi".as_slice()), ("POD_IP", b"10.1.2.3")]);
    let mounts: Vec<(&str, &str)> =
        cfg.mounts.iter().map(|m| (m.container_path.as_str(), m.host_path.as_str())).collect();
    assert_eq!(
        mounts,
        [
            ("/data", "/var/lib/kubelet/pods/u-1/volumes/x"),
            ("/etc/hosts", "/var/lib/kubelet/pods/u-1/etc-hosts"),
            ("/dev/termination-log", "/var/lib/kubelet/pods/u-1/containers/app/0000beef"),
        ]
    );
    assert!(cfg.mounts.iter().all(|m| !m.readonly && !m.selinux_relabel));
    assert_eq!(cfg.labels[keys::CONTAINER_NAME], "app");
    assert_eq!(cfg.annotations[keys::CONTAINER_HASH], hash_label(container_hash(c)));
    assert_eq!(cfg.annotations[keys::CONTAINER_RESTART_COUNT], "3");
    assert_eq!(cfg.annotations[keys::POD_TERMINATION_GRACE_PERIOD], "30");
    assert_eq!(cfg.annotations[keys::CONTAINER_PORTS], r#"[{"containerPort":80}]"#);
    assert_eq!(cfg.log_path, "app/3.log");
    assert!(cfg.stdin && cfg.stdin_once && cfg.tty);

    let linux = cfg.linux.expect("linux");
    let r = linux.resources.expect("resources");
    assert_eq!((r.cpu_shares, r.cpu_quota, r.cpu_period, r.memory_limit_in_bytes), (102, 20_000, 100_000, 0));
    assert_eq!(r.oom_score_adj, 875, "Burstable: 1000 - 1000 × 1/8");
    let sc = linux.security_context.expect("sc");
    assert_eq!(sc.namespace_options.map(|n| n.pid), Some(NamespaceMode::CONTAINER));
    assert!(!sc.masked_paths.is_empty());
}

#[test]
fn own_etc_hosts_and_custom_termination_path() {
    let p = pod(json!({"containers": [{
        "name": "app", "image": "nginx",
        "terminationMessagePath": "/tmp/msg",
        "volumeMounts": [{"name": "h", "mountPath": "/etc/hosts"}],
    }]}));
    let n = NodeContext { selinux_enabled: true, ..node() };
    let mut input = inputs(&p, &p.spec.containers[0], &n, &[]);
    input.etc_hosts = Some("/x/etc-hosts".into());
    input.termination_log = Some("/x/log".into());
    let cfg = container_config(&input).expect("ok");
    let mounts: Vec<(&str, bool)> =
        cfg.mounts.iter().map(|m| (m.container_path.as_str(), m.selinux_relabel)).collect();
    assert_eq!(mounts, [("/tmp/msg", true)], "the container's own /etc/hosts wins");
    assert_eq!(cfg.annotations[keys::TERMINATION_MESSAGE_PATH], "/tmp/msg");
}

#[test]
fn ephemeral_container_joins_its_target() {
    let p = pod(json!({}));
    let debug: Container =
        serde_json::from_value(json!({"name": "debugger", "image": "busybox"})).expect("c");
    let n = node();
    let mut input = inputs(&p, &debug, &n, &[]);
    input.kind = ContainerKind::Ephemeral;
    input.target_container_id = Some("c0ffee".into());
    let ns = container_config(&input)
        .expect("ok")
        .linux
        .and_then(|l| l.security_context)
        .and_then(|s| s.namespace_options)
        .expect("ns");
    assert_eq!((ns.pid, ns.target_id.as_str()), (NamespaceMode::TARGET, "c0ffee"));
    input.kind = ContainerKind::App;
    let ns = container_config(&input)
        .expect("ok")
        .linux
        .and_then(|l| l.security_context)
        .and_then(|s| s.namespace_options);
    assert_eq!(ns.map(|n| n.pid), Some(NamespaceMode::CONTAINER), "only ephemeral containers target");
}

#[test]
fn config_errors_are_create_container_config_errors() {
    let p = pod(json!({"containers": [{"name": "app", "image": "nginx",
        "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "FOO"}}}]}]}));
    let n = node();
    /// An API server where `cfg` exists without key `FOO`.
    struct OneMap;
    impl EnvSources for OneMap {
        fn config_map(&self, _: &str, _: &str) -> Result<Option<ConfigMap>, String> {
            Ok(Some(ConfigMap::default()))
        }
        fn secret(&self, _: &str, _: &str) -> Result<Option<Secret>, String> {
            Ok(None)
        }
        fn services(&self, _: &str) -> Vec<Service> {
            Vec::new()
        }
    }
    let mut input = inputs(&p, &p.spec.containers[0], &n, &[]);
    input.env = &OneMap;
    let err = container_config(&input).expect_err("missing key");
    assert_eq!(err.message(), "couldn't find key FOO in ConfigMap prod/cfg");
    assert_eq!(err.to_string(), "pod prod/web container app: couldn't find key FOO in ConfigMap prod/cfg");
    assert_eq!(BuildError::REASON, "CreateContainerConfigError");

    let strict = pod(json!({"securityContext": {"runAsNonRoot": true}}));
    let mut input = inputs(&strict, &strict.spec.containers[0], &n, &[]);
    input.image_user = Some(ImageUser::from_image(Some(0), ""));
    assert!(container_config(&input).expect_err("root image").message().contains("image will run as root"));
    input.image_user = Some(ImageUser::from_image(Some(1000), ""));
    let cfg = container_config(&input).expect("non-root image");
    let sc = cfg.linux.and_then(|l| l.security_context).expect("sc");
    assert_eq!(sc.run_as_user.map(|u| u.value), Some(1000), "the image's user is passed on");
}
