use super::*;
use crate::api::decode;
use crate::source::defaults;

/// Decodes, defaults and validates; returns the errors as `field: reason` strings.
fn errors(yaml: &str) -> Vec<String> {
    let mut pod: Pod = decode(yaml.as_bytes(), "test").expect("test pod decodes");
    pod.metadata
        .namespace
        .get_or_insert_with(|| "default".into());
    defaults::apply(&mut pod);
    validate_pod(&pod).iter().map(ToString::to_string).collect()
}

const OK: &str = "metadata: {name: web-node1}\nspec:\n  containers: [{name: c, image: busybox}]\n";

#[test]
fn valid_pod_has_no_errors() {
    assert_eq!(errors(OK), Vec::<String>::new());
    let full = "metadata:\n  name: web.node-1\n  labels: {app.kubernetes.io/name: web, tier: \"\"}\n  \
                annotations: {example.com/note: anything at all}\n\
                spec:\n  restartPolicy: OnFailure\n  volumes: [{name: data}, {name: host, hostPath: {path: /tmp, type: Directory}}]\n  \
                initContainers: [{name: init, image: busybox, restartPolicy: Always}]\n  \
                containers:\n  - name: c\n    image: busybox\n    imagePullPolicy: Never\n    \
                ports: [{containerPort: 80, protocol: UDP}]\n    \
                volumeMounts: [{name: data, mountPath: /data}, {name: host, mountPath: /host}]\n";
    assert_eq!(errors(full), Vec::<String>::new());
}

#[test]
fn each_rule_names_its_field() {
    // (manifest, an expected error, as `field: reason` prefix)
    let cases = [
        (
            "metadata: {name: Web}\nspec: {containers: [{name: c, image: i}]}",
            "metadata.name: Invalid value: \"Web\"",
        ),
        (
            "metadata: {name: w, namespace: Kube_System}\nspec: {containers: [{name: c, image: i}]}",
            "metadata.namespace: Invalid value",
        ),
        (
            "metadata: {name: w, labels: {\"bad key!\": v}}\nspec: {containers: [{name: c, image: i}]}",
            "metadata.labels: Invalid value: \"bad key!\"",
        ),
        (
            "metadata: {name: w, labels: {k: \"-v\"}}\nspec: {containers: [{name: c, image: i}]}",
            "metadata.labels: Invalid value: \"-v\"",
        ),
        (
            "metadata: {name: w, annotations: {\"/x\": v}}\nspec: {containers: [{name: c, image: i}]}",
            "metadata.annotations: Invalid value",
        ),
        (
            "metadata: {name: w}\nspec: {containers: []}",
            "spec.containers: Required value",
        ),
        (
            "metadata: {name: w}\nspec: {containers: [{name: C, image: i}]}",
            "spec.containers[0].name: Invalid value: \"C\"",
        ),
        (
            "metadata: {name: w}\nspec: {containers: [{image: i}]}",
            "spec.containers[0].name: Required value",
        ),
        (
            "metadata: {name: w}\nspec: {containers: [{name: c}]}",
            "spec.containers[0].image: Required value",
        ),
        (
            "metadata: {name: w}\nspec: {containers: [{name: c, image: \" i\"}]}",
            "spec.containers[0].image: Invalid value",
        ),
        (
            "metadata: {name: w}\nspec: {initContainers: [{name: c, image: i}], containers: [{name: c, image: i}]}",
            "spec.containers[0].name: Duplicate value: \"c\"",
        ),
        (
            "metadata: {name: w}\nspec: {restartPolicy: Sometimes, containers: [{name: c, image: i}]}",
            "spec.restartPolicy: Unsupported value: \"Sometimes\"",
        ),
        (
            "metadata: {name: w}\nspec: {dnsPolicy: Google, containers: [{name: c, image: i}]}",
            "spec.dnsPolicy: Unsupported value",
        ),
        (
            "metadata: {name: w}\nspec: {dnsPolicy: None, containers: [{name: c, image: i}]}",
            "spec.dnsConfig: Required value",
        ),
        (
            "metadata: {name: w}\nspec: {activeDeadlineSeconds: 0, containers: [{name: c, image: i}]}",
            "spec.activeDeadlineSeconds",
        ),
        (
            "metadata: {name: w}\nspec: {containers: [{name: c, image: i, imagePullPolicy: Sometimes}]}",
            "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
        ),
        (
            "metadata: {name: w}\nspec: {initContainers: [{name: i, image: i, restartPolicy: Maybe}], containers: [{name: c, image: i}]}",
            "spec.initContainers[0].restartPolicy",
        ),
        (
            "metadata: {name: w}\nspec: {containers: [{name: c, image: i, terminationMessagePolicy: Log}]}",
            "spec.containers[0].terminationMessagePolicy",
        ),
        (
            "metadata: {name: w}\nspec: {containers: [{name: c, image: i, ports: [{containerPort: 0}]}]}",
            "spec.containers[0].ports[0].containerPort",
        ),
        (
            "metadata: {name: w}\nspec: {containers: [{name: c, image: i, ports: [{containerPort: 80, hostPort: 70000}]}]}",
            "spec.containers[0].ports[0].hostPort",
        ),
        (
            "metadata: {name: w}\nspec: {containers: [{name: c, image: i, ports: [{containerPort: 80, protocol: ICMP}]}]}",
            "spec.containers[0].ports[0].protocol",
        ),
        (
            "metadata: {name: w}\nspec: {hostNetwork: true, containers: [{name: c, image: i, ports: [{containerPort: 80, hostPort: 81}]}]}",
            "spec.containers[0].ports[0].hostPort: must match `containerPort`",
        ),
        (
            "metadata: {name: w}\nspec: {volumes: [{name: v}, {name: v}], containers: [{name: c, image: i}]}",
            "spec.volumes[1].name: Duplicate value: \"v\"",
        ),
        (
            "metadata: {name: w}\nspec: {volumes: [{name: V_1}], containers: [{name: c, image: i}]}",
            "spec.volumes[0].name: Invalid value",
        ),
        (
            "metadata: {name: w}\nspec: {volumes: [{name: v, emptyDir: {}, hostPath: {path: /x}}], containers: [{name: c, image: i}]}",
            "spec.volumes[0]: Forbidden: may not specify more than 1 volume type",
        ),
        (
            "metadata: {name: w}\nspec: {volumes: [{name: v, hostPath: {path: /x, type: Pipe}}], containers: [{name: c, image: i}]}",
            "spec.volumes[0].hostPath.type",
        ),
        (
            "metadata: {name: w}\nspec: {volumes: [{name: v, hostPath: {}}], containers: [{name: c, image: i}]}",
            "spec.volumes[0].hostPath.path: Required value",
        ),
        (
            "metadata: {name: w}\nspec: {containers: [{name: c, image: i, volumeMounts: [{name: nope, mountPath: /x}]}]}",
            "spec.containers[0].volumeMounts[0].name: Not found: \"nope\"",
        ),
        (
            "metadata: {name: w}\nspec: {volumes: [{name: v}], containers: [{name: c, image: i, volumeMounts: [{name: v}]}]}",
            "spec.containers[0].volumeMounts[0].mountPath: Required value",
        ),
        (
            "metadata: {name: w}\nspec: {volumes: [{name: v}], containers: [{name: c, image: i, volumeMounts: [{name: v, mountPath: /x}, {name: v, mountPath: /x}]}]}",
            "spec.containers[0].volumeMounts[1].mountPath: must be unique",
        ),
    ];
    for (yaml, want) in cases {
        let errs = errors(yaml);
        assert!(
            errs.iter().any(|e| e.starts_with(want)),
            "want {want:?} in {errs:#?}\nfor {yaml}"
        );
    }
}

#[test]
fn api_references() {
    let cases = [
        ("spec: {containers: [{name: c, image: i}]}", None),
        (
            "spec: {serviceAccountName: default}",
            Some("serviceaccounts"),
        ),
        (
            "spec: {containers: [{name: c, env: [{name: E, valueFrom: {secretKeyRef: {name: s, key: k}}}]}]}",
            Some("secrets"),
        ),
        (
            "spec: {initContainers: [{name: c, envFrom: [{configMapRef: {name: m}}]}]}",
            Some("configmaps"),
        ),
        (
            "spec: {resourceClaims: [{name: gpu}]}",
            Some("resourceclaims"),
        ),
        (
            "spec: {volumes: [{name: v, secret: {secretName: s}}]}",
            Some("secrets (via secret volumes)"),
        ),
        (
            "spec: {volumes: [{name: v, persistentVolumeClaim: {claimName: c}}]}",
            Some("persistentvolumeclaims"),
        ),
        (
            "spec: {volumes: [{name: v, csi: {driver: d}}]}",
            Some("csidrivers (via CSI volumes)"),
        ),
        (
            "spec: {volumes: [{name: v, projected: {sources: [{serviceAccountToken: {path: t}}]}}]}",
            Some("serviceaccounts (via projected volumes)"),
        ),
        (
            "spec: {volumes: [{name: v, projected: {sources: [{downwardAPI: {items: []}}]}}]}",
            None,
        ),
        (
            "spec: {volumes: [{name: v, hostPath: {path: /x}}, {name: w, emptyDir: {}}, {name: d, downwardAPI: {}}]}",
            None,
        ),
    ];
    for (yaml, want) in cases {
        let pod: Pod = decode(yaml.as_bytes(), "test").expect("decodes");
        assert_eq!(api_reference(&pod), want, "{yaml}");
    }
}

#[test]
fn dns_names() {
    for ok in ["a", "a-b", "0", "a1", &"a".repeat(63)] {
        assert!(is_dns1123_label(ok), "{ok}");
    }
    for bad in ["", "-a", "a-", "A", "a.b", "a_b", &"a".repeat(64)] {
        assert!(!is_dns1123_label(bad), "{bad}");
    }
    for ok in [
        "a.b",
        "web-node-1",
        "a.b-c.d",
        &format!("{}.b", "a".repeat(100)),
    ] {
        assert!(is_dns1123_subdomain(ok), "{ok}");
    }
    for bad in ["", "a..b", ".a", "a.", "a.-b", "A.b", &"a".repeat(254)] {
        assert!(!is_dns1123_subdomain(bad), "{bad}");
    }
    for ok in ["", "a", "A_b.c-D", "9"] {
        assert!(is_label_value(ok), "{ok}");
    }
    for bad in ["_a", "a.", "a b", &"a".repeat(64)] {
        assert!(!is_label_value(bad), "{bad}");
    }
}
