use super::*;
use crate::api::IntOrString;
use crate::api::core::Pod;
use crate::api::meta::List;

/// A static pod manifest as people write them: comments, anchors and merge keys, block
/// scalars, numbers where strings go, an octal mode, YAML 1.1 booleans.
const MANIFEST: &str = r#"# web server
---
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web, tier: "1"}
  annotations:
    note: >
      folded
      text
spec:
  hostNetwork: yes
  containers:
  - &base
    name: web
    image: busybox:1.36
    command: ["/bin/sh", "-c"]
    args:
    - |
      echo hello
      exec httpd -f -p 8080
    env:
    - name: PORT
      value: 8080
    - name: QUOTED
      value: "0x1F"
    ports:
    - containerPort: 8080
      name: http
    resources:
      requests: {cpu: 0.5, memory: 64Mi}
      limits: {cpu: "1", memory: 128Mi}
    livenessProbe:
      httpGet: {path: /, port: http}
      initialDelaySeconds: 3
    readinessProbe:
      tcpSocket: {port: 8080}
  - <<: *base
    name: sidecar
    args: []
  volumes:
  - name: config
    configMap:
      name: web-config
      defaultMode: 0644
  - name: scratch
    emptyDir: {sizeLimit: 1Gi}
  unknownField: ignored
"#;

fn pod(text: &str) -> Pod {
    decode(text.as_bytes(), "test manifest").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn yaml_manifest_with_anchors_block_scalars_and_loose_scalars() {
    let p = pod(MANIFEST);
    assert_eq!(p.metadata.name(), "web");
    assert_eq!(p.metadata.label("tier"), Some("1"));
    assert_eq!(p.metadata.annotation("note"), Some("folded text\n"));
    assert_eq!(p.spec.host_network, Some(true));
    let [web, sidecar] = p.spec.containers.as_slice() else {
        panic!("two containers expected")
    };
    assert_eq!(
        web.args,
        vec!["echo hello\nexec httpd -f -p 8080\n".to_string()]
    );
    assert_eq!(web.env[0].value.as_deref(), Some("8080"));
    assert_eq!(web.env[1].value.as_deref(), Some("0x1F"));
    assert_eq!(web.ports[0].container_port, 8080);
    let resources = web.resource_requirements();
    assert_eq!(resources.cpu_request_millis(), Some(500));
    assert_eq!(resources.memory_limit_bytes(), Some(128 << 20));
    let live = web
        .liveness_probe
        .as_ref()
        .and_then(|p| p.handler.http_get.as_ref());
    assert_eq!(
        live.map(|h| &h.port),
        Some(&IntOrString::String("http".into()))
    );
    let ready = web
        .readiness_probe
        .as_ref()
        .and_then(|p| p.handler.tcp_socket.as_ref());
    assert_eq!(ready.map(|t| &t.port), Some(&IntOrString::Int(8080)));
    // The merge key copied everything but what the sidecar overrides.
    assert_eq!(sidecar.name, "sidecar");
    assert_eq!(sidecar.image, web.image);
    assert!(sidecar.args.is_empty());
    assert_eq!(sidecar.env, web.env);
    let config = p.spec.volumes[0].source.config_map.as_ref();
    assert_eq!(config.and_then(|c| c.default_mode), Some(0o644));
    assert_eq!(config.and_then(|c| c.name.as_deref()), Some("web-config"));
    let scratch = p.spec.volumes[1].source.empty_dir.as_ref();
    assert_eq!(
        scratch
            .and_then(|e| e.size_limit.as_ref())
            .and_then(|q| q.value()),
        Some(1 << 30)
    );
}

#[test]
fn json_manifest_and_bom() {
    let json = "\u{feff} {\"metadata\":{\"name\":\"j\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}";
    let p = pod(json);
    assert_eq!(p.metadata.name(), "j");
    assert_eq!(p.spec.containers[0].image.as_deref(), Some("i"));
}

#[test]
fn v1_list_of_pods_in_yaml() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- metadata: {name: a}\n- metadata: {name: b}\n";
    let list: List<Pod> = decode(text.as_bytes(), "list").unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = list.items.iter().map(|p| p.metadata.name()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(list.kind.as_deref(), Some("List"));
}

fn syntax(result: Result<Pod, DecodeError>) -> (Format, Option<u64>, Option<u64>, String) {
    match result {
        Err(DecodeError::Syntax {
            format,
            line,
            column,
            message,
            ..
        }) => (format, line, column, message),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn malformed_yaml_reports_position_and_name() {
    let text = "metadata:\n  name: web\nspec:\n  containers:\n  - name: c\n    ports:\n    - containerPort: eighty\n";
    let err = decode::<Pod>(text.as_bytes(), "manifest web.yaml");
    let shown = err
        .as_ref()
        .err()
        .map(ToString::to_string)
        .unwrap_or_default();
    let (format, line, column, _) = syntax(err);
    assert_eq!((format, line, column), (Format::Yaml, Some(7), Some(22)));
    assert!(
        shown.starts_with("manifest web.yaml: invalid YAML at line 7 column 22: "),
        "{shown}"
    );

    let (_, line, _, _) = syntax(decode("metadata:\n  name: [unclosed\n".as_bytes(), "x"));
    assert!(line.is_some());
    let (_, line, _, message) = syntax(decode("a: b\n c: d\n".as_bytes(), "x"));
    assert_eq!(line, Some(2), "{message}");
    let (_, line, _, message) = syntax(decode(
        "spec:\n  containers:\n  - resources: {limits: {cpu: lots}}\n".as_bytes(),
        "x",
    ));
    assert_eq!(line, Some(3));
    assert!(message.contains("lots"), "{message}");
    let (_, line, _, message) = syntax(decode(
        "metadata: {name: a}\nmetadata: {name: b}\n".as_bytes(),
        "x",
    ));
    assert_eq!(line, Some(2), "duplicate keys are refused: {message}");
}

#[test]
fn malformed_json_reports_position() {
    let (format, line, column, message) =
        syntax(decode(b"{\n  \"metadata\": {\"name\": 5}\n}", "j"));
    assert_eq!((format, line), (Format::Json, Some(2)));
    assert!(column.is_some());
    assert!(message.contains("invalid type"), "{message}");
    let (_, line, _, _) = syntax(decode(b"{\"metadata\": ", "j"));
    assert_eq!(line, Some(1));
}

#[test]
fn empty_and_multiple_documents() {
    for text in ["", "  \n", "# only a comment\n", "---\n", "--- \n...\n"] {
        assert!(
            matches!(
                decode::<Pod>(text.as_bytes(), "e"),
                Err(DecodeError::Empty { .. })
            ),
            "{text:?}"
        );
    }
    assert_eq!(pod("---\nmetadata: {name: a}\n---\n").metadata.name(), "a");
    let two = decode::<Pod>(b"metadata: {name: a}\n---\nmetadata: {name: b}\n", "two");
    assert!(
        matches!(two, Err(DecodeError::MultipleDocuments { count: 2, .. })),
        "{two:?}"
    );
}

#[test]
fn hostile_inputs_fail_fast() {
    // Billion laughs: each level multiplies by ten.
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for level in 1..12 {
        let prev = level - 1;
        bomb.push_str(&format!("l{level}: &l{level} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n").replace("*a0", "*a").replace(&format!("&l{level}"), &format!("&a{level}")));
    }
    // Refused by the parser's alias budget; how fast is a benchmark's business, not a test's.
    let result = decode_value(bomb.as_bytes(), "bomb");
    let Err(DecodeError::Syntax { message, .. }) = result else {
        panic!("alias bomb accepted")
    };
    assert!(
        message.contains("alias") || message.contains("budget") || message.contains("limit"),
        "{message}"
    );

    let deep = format!("{}x{}", "[".repeat(1000), "]".repeat(1000));
    assert!(decode_value(format!("a: {deep}").as_bytes(), "deep yaml").is_err());
    assert!(decode_value(deep.as_bytes(), "deep json").is_err());

    let huge = vec![b' '; MAX_INPUT_BYTES + 1];
    assert!(matches!(
        decode_value(&huge, "huge"),
        Err(DecodeError::TooLarge { .. })
    ));
    assert!(matches!(
        decode_value(b"a: \xff\xfe\n", "latin1"),
        Err(DecodeError::NotUtf8 { offset: 3, .. })
    ));
}

#[test]
fn untyped_values_from_yaml() {
    let v = decode_value(b"kind: KubeletConfiguration\nmaxPods: 50\nfailSwapOn: false\nevictionHard: {memory.available: 100Mi}\n", "config")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["maxPods"], serde_json::json!(50));
    assert_eq!(v["failSwapOn"], serde_json::json!(false));
    assert_eq!(
        v["evictionHard"]["memory.available"],
        serde_json::json!("100Mi")
    );
    let j = decode_value(b"{\"maxPods\": 50}", "config").unwrap_or_default();
    assert_eq!(j["maxPods"], serde_json::json!(50));
}
