use super::*;

const FULL: &str = r#"
apiVersion: v1
kind: Config
preferences: {}
current-context: kubelet@edge
clusters:
- name: edge
  cluster:
    server: https://api.edge.example:6443/
    certificate-authority: pki/ca.crt
    tls-server-name: kubernetes.default.svc
- name: inline
  cluster:
    server: https://10.0.0.1
    certificate-authority-data: LS0tLS1CRUdJTg==
- name: insecure
  cluster:
    server: http://127.0.0.1:8080
    insecure-skip-tls-verify: true
users:
- name: kubelet
  user:
    client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem
    client-key: kubelet.key
    token: should-win
    tokenFile: ignored-because-token-is-set
- name: data-user
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
    tokenFile: tokens/sa
contexts:
- name: kubelet@edge
  context:
    cluster: edge
    user: kubelet
    namespace: kube-system
- name: data
  context:
    cluster: inline
    user: data-user
- name: anonymous
  context:
    cluster: insecure
"#;

fn parse(text: &str) -> Kubeconfig {
    Kubeconfig::parse(text, Path::new("/etc/kubernetes/kubelet.conf")).expect("parse")
}

#[test]
fn current_context_with_file_references() {
    let rest = parse(FULL).rest_config(None).expect("resolve");
    assert_eq!(rest.server, "https://api.edge.example:6443");
    assert_eq!(rest.certificate_authority, Some(PemSource::File("/etc/kubernetes/pki/ca.crt".into())));
    assert_eq!(rest.tls_server_name.as_deref(), Some("kubernetes.default.svc"));
    assert!(!rest.insecure_skip_tls_verify);
    assert_eq!(
        rest.client_certificate,
        Some(PemSource::File("/var/lib/kubelet/pki/kubelet-client-current.pem".into()))
    );
    assert_eq!(rest.client_key, Some(PemSource::File("/etc/kubernetes/kubelet.key".into())));
    assert_eq!(rest.token.as_deref(), Some("should-win"));
    assert_eq!(rest.token_file, None);
    assert_eq!(rest.namespace.as_deref(), Some("kube-system"));
}

#[test]
fn inline_data_and_token_file() {
    let rest = parse(FULL).rest_config(Some("data")).expect("resolve");
    assert_eq!(rest.server, "https://10.0.0.1");
    match &rest.certificate_authority {
        Some(PemSource::Inline { data, origin }) => {
            assert_eq!(data, b"-----BEGIN");
            assert!(origin.contains("certificate-authority-data") && origin.contains("kubelet.conf"), "{origin}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(&rest.client_certificate, Some(PemSource::Inline { data, .. }) if data == b"cert"));
    assert!(matches!(&rest.client_key, Some(PemSource::Inline { data, .. }) if data == b"key"));
    assert_eq!(rest.token, None);
    assert_eq!(rest.token_file, Some(PathBuf::from("/etc/kubernetes/tokens/sa")));
}

#[test]
fn context_without_user() {
    let rest = parse(FULL).rest_config(Some("anonymous")).expect("resolve");
    assert_eq!(rest.server, "http://127.0.0.1:8080");
    assert!(rest.insecure_skip_tls_verify);
    assert_eq!((rest.client_certificate, rest.token), (None, None));
}

#[test]
fn json_kubeconfig() {
    let json = r#"{"kind":"Config","apiVersion":"v1","current-context":"c",
        "clusters":[{"name":"k","cluster":{"server":"https://127.0.0.1:6443","insecure-skip-tls-verify":true}}],
        "users":[{"name":"u","user":{"token":"abc"}}],
        "contexts":[{"name":"c","context":{"cluster":"k","user":"u"}}]}"#;
    let rest = parse(json).rest_config(None).expect("resolve");
    assert_eq!(rest.server, "https://127.0.0.1:6443");
    assert_eq!(rest.token.as_deref(), Some("abc"));
}

fn error_of(text: &str, context: Option<&str>) -> String {
    match Kubeconfig::parse(text, Path::new("/k/config")) {
        Ok(k) => k.rest_config(context).expect_err("should fail").to_string(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_pieces_are_named() {
    assert_eq!(error_of("clusters: []\n", None), "kubeconfig /k/config: no current-context");
    assert_eq!(error_of(FULL, Some("nope")), "kubeconfig /k/config: no context \"nope\"");
    let no_cluster = "current-context: c\ncontexts:\n- name: c\n  context:\n    cluster: gone\n";
    assert_eq!(error_of(no_cluster, None), "kubeconfig /k/config: no cluster \"gone\" (used by context \"c\")");
    let no_user = "current-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://x\n\
                   contexts:\n- name: c\n  context:\n    cluster: k\n    user: who\n";
    assert_eq!(error_of(no_user, None), "kubeconfig /k/config: no user \"who\" (used by context \"c\")");
    let no_server = "current-context: c\nclusters:\n- name: k\n  cluster: {}\n\
                     contexts:\n- name: c\n  context:\n    cluster: k\n";
    assert_eq!(error_of(no_server, None), "kubeconfig /k/config: no server in cluster \"k\"");
    let half_pair = "current-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://x\n\
                     users:\n- name: u\n  user:\n    client-certificate: a.crt\n\
                     contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n";
    assert!(error_of(half_pair, None).contains("no client-key for the client-certificate of user \"u\""));
}

#[test]
fn bad_fields_are_named() {
    let bad_b64 = FULL.replace("LS0tLS1CRUdJTg==", "not*base64");
    let e = error_of(&bad_b64, Some("data"));
    assert!(
        e.starts_with("kubeconfig /k/config: clusters[\"inline\"].certificate-authority-data: invalid base64"),
        "{e}"
    );

    let bad_server = FULL.replace("https://10.0.0.1", "ftp://10.0.0.1");
    let e = error_of(&bad_server, Some("data"));
    assert!(e.contains("clusters[\"inline\"].server") && e.contains("scheme"), "{e}");

    let both = FULL.replace(
        "    certificate-authority: pki/ca.crt\n",
        "    certificate-authority: pki/ca.crt\n    insecure-skip-tls-verify: true\n",
    );
    let e = error_of(&both, None);
    assert!(e.contains("insecure-skip-tls-verify") && e.contains("not allowed"), "{e}");

    let exec = "current-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://x\n\
                users:\n- name: u\n  user:\n    exec:\n      command: aws\n\
                contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n";
    assert!(error_of(exec, None).contains("users[\"u\"].exec: credential plugins are not supported"));
}

#[test]
fn syntax_errors_name_the_file() {
    let e = error_of("clusters: [unclosed\n", None);
    assert!(e.starts_with("parsing kubeconfig /k/config:"), "{e}");
    let e = error_of("{\"clusters\": 5}", None);
    assert!(e.starts_with("parsing kubeconfig /k/config:"), "{e}");
    let e = Kubeconfig::load(Path::new("/nonexistent/kubeconfig")).expect_err("missing file").to_string();
    assert!(e.starts_with("reading /nonexistent/kubeconfig:"), "{e}");
}
