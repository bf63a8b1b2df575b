use std::time::{Duration, UNIX_EPOCH};

use super::*;

const WEB: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: httpd
    image: docker.io/library/busybox:1.35
    command: [httpd, -f, -p, "8080"]
"#;

fn file_origin(path: &str) -> Origin<'_> {
    Origin {
        source: Source::File,
        location: path,
        node_name: "Node-1",
    }
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn web(path: &str) -> Pod {
    pod_from_manifest(WEB.as_bytes(), &file_origin(path), at(1)).expect("web manifest is valid")
}

fn uid_of(yaml: &str, origin: &Origin) -> String {
    let pod = pod_from_manifest(yaml.as_bytes(), origin, at(1)).expect("valid manifest");
    pod.metadata.uid().to_string()
}

#[test]
fn static_identity() {
    let pod = web("/etc/kubernetes/manifests/web.yaml");
    let uid = pod.metadata.uid();
    assert_eq!(uid.len(), 32);
    assert!(
        uid.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{uid}"
    );
    assert_eq!(pod.metadata.name(), "web-node-1");
    assert_eq!(pod.metadata.namespace(), "default");
    assert_eq!(pod.spec.node_name.as_deref(), Some("Node-1"));
    let ann = &pod.metadata.annotations;
    assert_eq!(ann[CONFIG_HASH_ANNOTATION], uid);
    assert_eq!(ann[CONFIG_SOURCE_ANNOTATION], "file");
    assert_eq!(
        ann[CONFIG_SEEN_ANNOTATION],
        "1970-01-01T00:00:01.000000000Z"
    );
    assert_eq!(pod.metadata.self_link, None);
    assert_eq!(pod.metadata.generate_name, None);
    assert_eq!(
        pod.spec.tolerations,
        [Toleration {
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            ..Toleration::default()
        }]
    );
    assert_eq!(pod.status.phase.as_deref(), Some("Pending"));
    assert_eq!(
        pod.spec.restart_policy.as_deref(),
        Some("Always"),
        "API defaults applied"
    );
    assert_eq!(pod.metadata.labels["app"], "web");
}

#[test]
fn uid_is_stable_and_ignores_formatting_and_time() {
    let origin = file_origin("/m/web.yaml");
    let first = pod_from_manifest(WEB.as_bytes(), &origin, at(1)).expect("valid");
    let later = pod_from_manifest(WEB.as_bytes(), &origin, at(999)).expect("valid");
    assert_eq!(first.metadata.uid, later.metadata.uid);
    let reformatted = format!(
        "# a comment\n{}\n\n",
        WEB.replace("{app: web}", "\n    app: web")
    );
    assert_eq!(uid_of(&reformatted, &origin), first.metadata.uid());
    let as_json = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"app":"web"},"name":"web"},
        "spec":{"containers":[{"name":"httpd","image":"docker.io/library/busybox:1.35",
        "command":["httpd","-f","-p","8080"]}]}}"#;
    assert_eq!(
        uid_of(as_json, &origin),
        first.metadata.uid(),
        "JSON and YAML agree"
    );
    // Spelling out a default is the same pod.
    let explicit = WEB.replace("spec:\n", "spec:\n  restartPolicy: Always\n");
    assert_eq!(uid_of(&explicit, &origin), first.metadata.uid());
}

#[test]
fn uid_changes_with_content_node_source_and_location() {
    let origin = file_origin("/m/web.yaml");
    let base = uid_of(WEB, &origin);
    for edit in [
        WEB.replace("busybox:1.35", "busybox:1.36"),
        WEB.replace("{app: web}", "{app: web2}"),
        WEB.replace("\"8080\"", "\"8081\""),
        WEB.replace("spec:\n", "spec:\n  restartPolicy: Never\n"),
        WEB.replace("name: web\n", "name: web\n  namespace: kube-system\n"),
    ] {
        assert_ne!(uid_of(&edit, &origin), base, "{edit}");
    }
    let other_node = Origin {
        node_name: "node-2",
        ..origin
    };
    assert_ne!(uid_of(WEB, &other_node), base, "per node");
    let other_file = file_origin("/m/web2.yaml");
    assert_ne!(uid_of(WEB, &other_file), base, "per file");
    let http = Origin {
        source: Source::Http,
        ..origin
    };
    assert_ne!(uid_of(WEB, &http), base, "per source");
}

#[test]
fn uid_derivation_is_pinned() {
    // Changing the derivation restarts every static pod on upgrade: do it on purpose only.
    // The value is SHA-256 over the length-prefixed parts, computed independently.
    let origin = Origin {
        source: Source::File,
        location: "/etc/kubernetes/manifests/web.yaml",
        node_name: "node-1",
    };
    assert_eq!(
        derive_uid(b"{}", &origin),
        "03b55354570461ab524f90c4afea7a2e"
    );
}

#[test]
fn manifest_uid_is_kept() {
    let yaml = WEB.replace("name: web\n", "name: web\n  uid: my-uid\n");
    let pod = pod_from_manifest(yaml.as_bytes(), &file_origin("/m/w"), at(1)).expect("valid");
    assert_eq!(pod.metadata.uid(), "my-uid");
    assert_eq!(
        pod.metadata.annotation(CONFIG_HASH_ANNOTATION),
        Some("my-uid")
    );
}

#[test]
fn existing_no_execute_toleration_is_not_doubled() {
    let yaml = WEB.replace(
        "spec:\n",
        "spec:\n  tolerations: [{operator: Exists, effect: NoExecute, tolerationSeconds: 5}]\n",
    );
    let pod = pod_from_manifest(yaml.as_bytes(), &file_origin("/m/w"), at(1)).expect("valid");
    assert_eq!(pod.spec.tolerations.len(), 1);
    assert_eq!(pod.spec.tolerations[0].toleration_seconds, None);
}

#[test]
fn http_pods_have_no_toleration_added() {
    let origin = Origin {
        source: Source::Http,
        location: "http://x/pods",
        node_name: "n",
    };
    let pods = pods_from_body(WEB.as_bytes(), &origin, at(1)).expect("valid");
    assert!(pods[0].spec.tolerations.is_empty());
    assert_eq!(
        pods[0].metadata.annotation(CONFIG_SOURCE_ANNOTATION),
        Some("http")
    );
}

fn err_of(yaml: &str) -> String {
    match pod_from_manifest(yaml.as_bytes(), &file_origin("/m/bad.yaml"), at(1)) {
        Ok(pod) => panic!("accepted: {pod:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn errors_name_the_file_and_the_problem() {
    let cases = [
        (
            "kind: Deployment\napiVersion: apps/v1\nmetadata: {name: d}\n",
            "found apiVersion \"apps/v1\" and kind \"Deployment\"",
        ),
        (
            "metadata: {name: x}\nspec: {containers: [{name: c, image: i}]}\n",
            "found apiVersion (none) and kind (none)",
        ),
        (
            "apiVersion: v1\nkind: Pod\nspec: {containers: [{name: c, image: i}]}\n",
            "metadata.name: Required value",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: []}\n",
            "spec.containers: Required value",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n",
            "invalid YAML",
        ),
        (
            "{\"apiVersion\": \"v1\", \"kind\": \"Pod\",",
            "invalid JSON",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c, image: i, ports: [{containerPort: many}]}]}\n",
            "invalid YAML",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c, image: i, envFrom: [{secretRef: {name: s}}]}]}\n",
            "static pods may not reference secrets",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {serviceAccountName: sa, containers: [{name: c, image: i}]}\n",
            "may not reference serviceaccounts",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers: [{name: c, image: i}]\n  volumes: [{name: v, configMap: {name: m}}]\n",
            "may not reference configmaps (via configmap volumes)",
        ),
        ("", "empty document"),
    ];
    for (yaml, want) in cases {
        let err = err_of(yaml);
        assert!(err.contains("static pod manifest /m/bad.yaml"), "{err}");
        assert!(err.contains(want), "want {want:?} in {err:?}");
    }
}

#[test]
fn body_may_be_a_pod_list_or_list() {
    let origin = Origin {
        source: Source::Http,
        location: "http://x/pods",
        node_name: "n",
    };
    let item = |name: &str| {
        format!(
            r#"{{"metadata":{{"name":"{name}"}},"spec":{{"containers":[{{"name":"c","image":"i"}}]}}}}"#
        )
    };
    let pod_list = format!(
        r#"{{"apiVersion":"v1","kind":"PodList","items":[{},{}]}}"#,
        item("a"),
        item("b")
    );
    let pods = pods_from_body(pod_list.as_bytes(), &origin, at(1)).expect("PodList");
    let names: Vec<&str> = pods.iter().map(|p| p.metadata.name()).collect();
    assert_eq!(names, ["a-n", "b-n"]);
    assert_ne!(pods[0].metadata.uid, pods[1].metadata.uid);

    let list = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: [{name: c, image: i}]}}\n";
    assert_eq!(
        pods_from_body(list.as_bytes(), &origin, at(1))
            .expect("List")
            .len(),
        1
    );

    let empty = r#"{"apiVersion":"v1","kind":"PodList","items":[]}"#;
    assert!(
        pods_from_body(empty.as_bytes(), &origin, at(1))
            .expect("empty list")
            .is_empty()
    );

    let other = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n";
    let err = pods_from_body(other.as_bytes(), &origin, at(1)).expect_err("ConfigMap item");
    assert!(err.to_string().contains("kind \"ConfigMap\""), "{err}");

    let one_bad = format!(
        r#"{{"apiVersion":"v1","kind":"PodList","items":[{},{{"metadata":{{"name":"b"}}}}]}}"#,
        item("a")
    );
    let err = pods_from_body(one_bad.as_bytes(), &origin, at(1)).expect_err("bad item");
    assert!(
        err.to_string()
            .contains("static pod URL http://x/pods: invalid pod: spec.containers: Required value"),
        "{err}"
    );
}

#[test]
fn seen_is_rfc3339_with_nanoseconds() {
    let t = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
    assert_eq!(rfc3339_nano(t), "2023-11-14T22:13:20.000000005Z");
}

#[test]
fn name_suffix_is_lowercased() {
    assert_eq!(static_pod_name("etcd", "Master-0"), "etcd-master-0");
}
