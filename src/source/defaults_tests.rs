use super::*;
use crate::api::decode;

fn defaulted(yaml: &str) -> Pod {
    let mut pod: Pod = decode(yaml.as_bytes(), "test manifest").expect("test manifest decodes");
    apply(&mut pod);
    pod
}

const FULL: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers:
  - name: init
    image: busybox
    resources: {limits: {cpu: 100m}}
  containers:
  - name: c
    image: docker.io/library/busybox:1.35
    ports: [{containerPort: 8080}]
    resources: {limits: {cpu: 200m, memory: 64Mi}, requests: {cpu: 50m}}
    env: [{name: N, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
    livenessProbe: {httpGet: {port: 8080}}
    readinessProbe: {grpc: {port: 9000}, periodSeconds: 3}
    lifecycle: {preStop: {httpGet: {port: 80}}}
  volumes:
  - name: scratch
  - name: host
    hostPath: {path: /tmp}
  - name: cm
    configMap: {name: myconfig}
  - name: sec
    secret: {secretName: mysecret, defaultMode: 0400}
  - name: proj
    projected:
      sources:
      - serviceAccountToken: {path: token}
      - downwardAPI: {items: [{path: podname, fieldRef: {fieldPath: metadata.name}}]}
"#;

#[test]
fn pod_spec_defaults() {
    let spec = defaulted(FULL).spec;
    assert_eq!(spec.restart_policy.as_deref(), Some("Always"));
    assert_eq!(spec.dns_policy.as_deref(), Some("ClusterFirst"));
    assert_eq!(spec.termination_grace_period_seconds, Some(30));
    assert_eq!(spec.scheduler_name.as_deref(), Some("default-scheduler"));
    assert_eq!(spec.security_context, Some(PodSecurityContext::default()));
    assert_eq!(spec.enable_service_links, Some(true));
    assert_eq!(spec.service_account_name, None);
    assert_eq!(spec.priority, None);
}

#[test]
fn explicit_values_are_kept() {
    let spec = defaulted(
        "metadata: {name: p}\nspec:\n  restartPolicy: Never\n  dnsPolicy: Default\n  \
         terminationGracePeriodSeconds: 5\n  enableServiceLinks: false\n  containers: []\n",
    )
    .spec;
    assert_eq!(spec.restart_policy.as_deref(), Some("Never"));
    assert_eq!(spec.dns_policy.as_deref(), Some("Default"));
    assert_eq!(spec.termination_grace_period_seconds, Some(5));
    assert_eq!(spec.enable_service_links, Some(false));
}

#[test]
fn negative_grace_period_becomes_one() {
    let spec = defaulted("spec: {terminationGracePeriodSeconds: -3}").spec;
    assert_eq!(spec.termination_grace_period_seconds, Some(1));
}

#[test]
fn deprecated_service_account_alias() {
    let spec = defaulted("spec: {serviceAccount: old}").spec;
    assert_eq!(spec.service_account_name.as_deref(), Some("old"));
    assert_eq!(spec.service_account.as_deref(), Some("old"));
    let spec = defaulted("spec: {serviceAccount: old, serviceAccountName: new}").spec;
    assert_eq!(spec.service_account.as_deref(), Some("new"));
}

#[test]
fn container_defaults() {
    let pod = defaulted(FULL);
    let c = &pod.spec.containers[0];
    assert_eq!(c.image_pull_policy.as_deref(), Some("IfNotPresent"));
    assert_eq!(
        c.termination_message_path.as_deref(),
        Some("/dev/termination-log")
    );
    assert_eq!(c.termination_message_policy.as_deref(), Some("File"));
    assert_eq!(c.ports[0].protocol.as_deref(), Some("TCP"));
    assert_eq!(c.ports[0].host_port, None);
    let res = c.resources.as_ref().expect("resources");
    assert_eq!(
        res.requests["cpu"].to_string(),
        "50m",
        "explicit request kept"
    );
    assert_eq!(
        res.requests["memory"].to_string(),
        "64Mi",
        "request from limit"
    );
    let field = c.env[0]
        .value_from
        .as_ref()
        .and_then(|v| v.field_ref.as_ref());
    assert_eq!(field.and_then(|f| f.api_version.as_deref()), Some("v1"));
    let live = c.liveness_probe.as_ref().expect("liveness");
    assert_eq!(
        (
            live.timeout_seconds,
            live.period_seconds,
            live.success_threshold,
            live.failure_threshold
        ),
        (Some(1), Some(10), Some(1), Some(3))
    );
    let get = live.handler.http_get.as_ref().expect("httpGet");
    assert_eq!(
        (get.path.as_deref(), get.scheme.as_deref()),
        (Some("/"), Some("HTTP"))
    );
    let ready = c.readiness_probe.as_ref().expect("readiness");
    assert_eq!(ready.period_seconds, Some(3));
    assert_eq!(
        ready
            .handler
            .grpc
            .as_ref()
            .and_then(|g| g.service.as_deref()),
        Some("")
    );
    let pre_stop = c.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref());
    let get = pre_stop
        .and_then(|h| h.http_get.as_ref())
        .expect("preStop httpGet");
    assert_eq!(get.path.as_deref(), Some("/"));

    let init = &pod.spec.init_containers[0];
    assert_eq!(
        init.image_pull_policy.as_deref(),
        Some("Always"),
        "no tag means latest"
    );
    assert_eq!(init.termination_message_policy.as_deref(), Some("File"));
    let res = init.resources.as_ref().expect("init resources");
    assert_eq!(res.requests["cpu"].to_string(), "100m");
}

#[test]
fn host_network_defaults_host_ports() {
    let pod = defaulted(
        "spec:\n  hostNetwork: true\n  containers:\n  - {name: c, image: i, ports: [{containerPort: 80}]}\n",
    );
    assert_eq!(pod.spec.containers[0].ports[0].host_port, Some(80));
}

#[test]
fn volume_defaults() {
    let spec = defaulted(FULL).spec;
    let v = |name: &str| {
        &spec
            .volumes
            .iter()
            .find(|v| v.name == name)
            .expect(name)
            .source
    };
    assert!(v("scratch").empty_dir.is_some(), "no source means emptyDir");
    assert_eq!(
        v("scratch")
            .empty_dir
            .as_ref()
            .and_then(|e| e.medium.clone()),
        None
    );
    assert_eq!(
        v("host")
            .host_path
            .as_ref()
            .and_then(|h| h.type_.as_deref()),
        Some("")
    );
    assert_eq!(
        v("cm").config_map.as_ref().and_then(|c| c.default_mode),
        Some(0o644)
    );
    assert_eq!(
        v("sec").secret.as_ref().and_then(|s| s.default_mode),
        Some(0o400)
    );
    let proj = v("proj").projected.as_ref().expect("projected");
    assert_eq!(proj.default_mode, Some(0o644));
    let token = proj.sources[0]
        .service_account_token
        .as_ref()
        .expect("token");
    assert_eq!(token.expiration_seconds, Some(3600));
    let items = &proj.sources[1]
        .downward_api
        .as_ref()
        .expect("downwardAPI")
        .items;
    assert_eq!(
        items[0]
            .field_ref
            .as_ref()
            .and_then(|f| f.api_version.as_deref()),
        Some("v1")
    );
}

#[test]
fn image_pull_policy_by_tag() {
    let cases = [
        ("busybox", "Always"),
        ("busybox:latest", "Always"),
        ("docker.io/library/busybox:1.35", "IfNotPresent"),
        ("localhost:5000/busybox", "Always"),
        ("localhost:5000/busybox:v1", "IfNotPresent"),
        ("busybox@sha256:0123456789abcdef", "IfNotPresent"),
        ("busybox:latest@sha256:0123456789abcdef", "Always"),
        ("busybox:1.35@sha256:0123456789abcdef", "IfNotPresent"),
    ];
    for (image, want) in cases {
        let pod = defaulted(&format!(
            "spec: {{containers: [{{name: c, image: \"{image}\"}}]}}"
        ));
        let got = pod.spec.containers[0].image_pull_policy.clone();
        assert_eq!(got.as_deref(), Some(want), "{image}");
    }
    let pod = defaulted("spec: {containers: [{name: c, image: busybox, imagePullPolicy: Never}]}");
    assert_eq!(
        pod.spec.containers[0].image_pull_policy.as_deref(),
        Some("Never")
    );
}

#[test]
fn defaulting_twice_changes_nothing() {
    let once = defaulted(FULL);
    let mut twice = once.clone();
    apply(&mut twice);
    assert_eq!(once, twice);
}
