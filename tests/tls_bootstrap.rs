//! TLS bootstrap, client certificate rotation and a kubelet-serving certificate against the
//! real test control plane (`scripts/test-cluster.sh up`). Reads `BOOTSTRAP_KUBECONFIG`,
//! `KUBECONFIG` (admin) and `KUBECTL` from the environment, else from the running instance's
//! `env` file (`$RK_CLUSTER_DIR`, default /var/lib/rk-cluster); without them, or with the
//! cluster down: SKIPPED.
//!
//! One test in steps on a node name of its own (`t-pki-<pid>`); the CSRs and the Node it
//! makes are deleted at the end, pass or fail.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rkubelet::api::certificates::CertificateSigningRequest;
use rkubelet::certificate::manager::{self, CertKind, ManagerConfig};
use rkubelet::certificate::{
    BootstrapConfig, bootstrap, bootstrap::kubeconfig_still_valid, client_rest_config,
};
use rkubelet::kubeclient::{Client, ClientOptions, DeleteOptions, ListOptions, ResourcePath};
use rkubelet::pki::x509::{AltNames, ExtKeyUsage};
use rkubelet::pki::{self, csr, pem};
use serde_json::json;

struct Cluster {
    bootstrap_kubeconfig: PathBuf,
    admin_kubeconfig: PathBuf,
    kubectl: PathBuf,
}

fn cluster() -> Option<Cluster> {
    let dir = std::env::var("RK_CLUSTER_DIR").unwrap_or_else(|_| "/var/lib/rk-cluster".into());
    let file = std::fs::read_to_string(Path::new(&dir).join("env")).unwrap_or_default();
    let get = |key: &str| {
        std::env::var(key).ok().filter(|v| !v.is_empty()).or_else(|| {
            file.lines()
                .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
                .map(str::to_string)
        })
    };
    match (get("BOOTSTRAP_KUBECONFIG"), get("KUBECONFIG"), get("KUBECTL")) {
        (Some(b), Some(k), Some(c)) => {
            Some(Cluster { bootstrap_kubeconfig: b.into(), admin_kubeconfig: k.into(), kubectl: c.into() })
        }
        _ => {
            println!(
                "SKIPPED: BOOTSTRAP_KUBECONFIG/KUBECONFIG/KUBECTL not set and no {dir}/env (run scripts/test-cluster.sh up)"
            );
            None
        }
    }
}

fn csrs() -> ResourcePath {
    ResourcePath::new("certificates.k8s.io/v1", "certificatesigningrequests")
}

/// The CSRs whose request is for `node` (client and serving alike).
fn csrs_of(admin: &Client, node: &str) -> Vec<CertificateSigningRequest> {
    let cn = format!("system:node:{node}");
    let list = admin.list::<CertificateSigningRequest>(&csrs(), &ListOptions::default()).expect("list CSRs");
    list.items
        .into_iter()
        .filter(|c| {
            let der = pem::blocks(c.spec.request.as_bytes(), "csr").ok().and_then(|b| b.into_iter().next());
            der.and_then(|(_, d)| csr::parse(&d).ok())
                .is_some_and(|info| info.subject.common_name.as_deref() == Some(&cn))
        })
        .collect()
}

fn approved(c: &CertificateSigningRequest) -> bool {
    c.status.conditions.iter().any(|cond| cond.type_ == "Approved")
}

#[test]
fn bootstrap_rotation_and_serving_against_the_real_api_server() {
    let Some(cluster) = cluster() else { return };
    let admin =
        Client::from_kubeconfig(&cluster.admin_kubeconfig, None, ClientOptions::default()).expect("admin");
    if let Err(e) = admin.raw("/readyz") {
        println!(
            "SKIPPED: the test cluster in {} does not answer ({e}; run scripts/test-cluster.sh up)",
            cluster.admin_kubeconfig.display()
        );
        return;
    }
    let node = format!("t-pki-{}", std::process::id());
    let work = std::env::temp_dir().join(format!("rk-tls-bootstrap-{node}"));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("work dir");

    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| steps(&cluster, &admin, &node, &work)));

    for c in csrs_of(&admin, &node) {
        let name = c.metadata.name().to_string();
        if let Err(e) = admin.delete(&csrs().name(&name), &DeleteOptions::default()) {
            println!("cleanup: deleting CSR {name}: {e}");
        }
    }
    match admin.delete(&ResourcePath::core("nodes").name(&node), &DeleteOptions::default()) {
        Err(e) if !e.is_not_found() => println!("cleanup: deleting node {node}: {e}"),
        _ => {}
    }
    let _ = std::fs::remove_dir_all(&work);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn steps(cluster: &Cluster, admin: &Client, node: &str, work: &Path) {
    let cert_dir = work.join("pki");
    let kubeconfig = work.join("kubelet.conf");
    let mut cfg = BootstrapConfig::new(&kubeconfig, &cluster.bootstrap_kubeconfig, &cert_dir, node);
    cfg.wait = Duration::from_secs(120);

    // 1. Bootstrap: a CSR is made with the bootstrap token, auto-approved (nodeclient) and issued.
    let started = Instant::now();
    assert_eq!(bootstrap(&cfg).expect("bootstrap"), kubeconfig);
    println!("bootstrap took {:?}", started.elapsed());
    let current = cert_dir.join("kubelet-client-current.pem");
    let first_file = std::fs::read_link(&current).expect("current is a symlink");
    assert!(first_file.file_name().is_some_and(|n| n.to_string_lossy().starts_with("kubelet-client-20")));
    assert!(!cert_dir.join("kubelet-client.key.tmp").exists(), "the pending key is removed");
    let first = pki::leaf_of_pem(&std::fs::read(&current).expect("read"), "current").expect("leaf");
    assert_eq!(first.subject.common_name.as_deref(), Some(format!("system:node:{node}").as_str()));
    assert_eq!(first.subject.organizations, vec!["system:nodes"]);
    assert_eq!(first.ext_key_usage, vec![ExtKeyUsage::ClientAuth]);
    let issued = csrs_of(admin, node);
    assert_eq!(issued.len(), 1, "one CSR");
    let boot_csr = &issued[0];
    assert!(boot_csr.metadata.name().starts_with("node-csr-"), "{}", boot_csr.metadata.name());
    assert_eq!(boot_csr.spec.signer_name, "kubernetes.io/kube-apiserver-client-kubelet");
    assert_eq!(boot_csr.spec.usages, vec!["digital signature", "client auth"]);
    assert!(boot_csr.spec.username.as_deref().is_some_and(|u| u.starts_with("system:bootstrap:")));
    assert!(approved(boot_csr));
    assert!(kubeconfig_still_valid(&kubeconfig, std::time::SystemTime::now()));

    // 2. The written kubeconfig works: the node creates and reads its own Node.
    let client = Client::from_kubeconfig(&kubeconfig, None, ClientOptions::default()).expect("node client");
    let body = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}});
    let _: serde_json::Value =
        client.create(&ResourcePath::core("nodes"), &body).expect("a node creates its Node");
    let got: serde_json::Value = client.get(&ResourcePath::core("nodes").name(node)).expect("get own node");
    assert_eq!(got["metadata"]["name"], node);

    // 3. Again: the kubeconfig is valid, so no new CSR.
    assert_eq!(bootstrap(&cfg).expect("second bootstrap"), kubeconfig);
    assert_eq!(csrs_of(admin, node).len(), 1);

    // 4. Rotation with the node's own credentials (selfnodeclient): new file, symlink swapped.
    let rest = client_rest_config(&kubeconfig, &cert_dir, true).expect("rest config");
    let node_client = Client::new(&rest, ClientOptions::default()).expect("client");
    let rotation = ManagerConfig {
        kind: CertKind::Client,
        cert_dir: cert_dir.clone(),
        node_name: node.to_string(),
        fallback: None,
        alt_names: AltNames::default(),
        wait: Duration::from_secs(120),
    };
    let rotator = manager::spawn(rotation, node_client.clone()).expect("spawn rotation");
    std::thread::sleep(Duration::from_millis(1100)); // a new second: a new file name
    let second_file = rotator.rotate_now().expect("rotate");
    assert_ne!(std::path::absolute(&second_file).expect("abs"), first_file);
    assert_eq!(
        std::fs::read_link(&current).expect("symlink"),
        std::path::absolute(&second_file).expect("abs")
    );
    let second = pki::leaf_of_pem(&std::fs::read(&current).expect("read"), "current").expect("leaf");
    assert_ne!(second.serial, first.serial);
    assert_ne!(second.spki, first.spki, "a new key");
    let renewal = csrs_of(admin, node)
        .into_iter()
        .find(|c| c.metadata.name().starts_with("csr-"))
        .expect("renewal CSR");
    assert_eq!(renewal.spec.username.as_deref(), Some(format!("system:node:{node}").as_str()));
    assert!(approved(&renewal));
    let again: serde_json::Value =
        node_client.get(&ResourcePath::core("nodes").name(node)).expect("still works");
    assert_eq!(again["metadata"]["name"], node);
    rotator.stop();

    // 5. A serving certificate: nobody auto-approves kubelet-serving CSRs; the admin does.
    let serving = ManagerConfig {
        kind: CertKind::Serving,
        cert_dir: cert_dir.clone(),
        node_name: node.to_string(),
        fallback: None,
        alt_names: AltNames {
            dns_names: vec![node.to_string()],
            ips: vec!["192.0.2.55".parse().expect("ip")],
        },
        wait: Duration::from_secs(120),
    };
    // Without a certificate the manager requests one at once (no rotate_now: that would
    // queue a second CSR behind the first, which nobody approves).
    let server_manager = manager::spawn(serving, node_client).expect("spawn serving");
    let approved_name = approve_serving_csr(admin, node, &cluster.kubectl);
    let deadline = Instant::now() + Duration::from_secs(60);
    let pair = loop {
        if let Some(pair) = server_manager.current().expect("current") {
            break pair;
        }
        assert!(Instant::now() < deadline, "no serving certificate 60 s after approving {approved_name}");
        std::thread::sleep(Duration::from_millis(200));
    };
    println!(
        "serving CSR {approved_name} approved; certificate in {}",
        server_manager.current_path().display()
    );
    assert_eq!(
        csrs_of(admin, node).iter().filter(|c| c.spec.signer_name == "kubernetes.io/kubelet-serving").count(),
        1
    );
    let leaf = pair.leaf;
    assert_eq!(leaf.subject.common_name.as_deref(), Some(format!("system:node:{node}").as_str()));
    assert_eq!(leaf.subject.organizations, vec!["system:nodes"]);
    assert_eq!(leaf.alt_names.dns_names, vec![node.to_string()]);
    assert_eq!(leaf.alt_names.ips, vec!["192.0.2.55".parse::<std::net::IpAddr>().expect("ip")]);
    assert_eq!(leaf.ext_key_usage, vec![ExtKeyUsage::ServerAuth]);
    assert_eq!(leaf.issuer.common_name.as_deref(), Some("kubernetes"));
    assert!(cert_dir.join("kubelet-server-current.pem").exists());
    server_manager.stop();
}

/// Waits for the node's pending kubelet-serving CSR and approves it with kubectl; its name.
fn approve_serving_csr(admin: &Client, node: &str, kubectl: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let pending = csrs_of(admin, node)
            .into_iter()
            .find(|c| c.spec.signer_name == "kubernetes.io/kubelet-serving" && !approved(c));
        if let Some(c) = pending {
            let name = c.metadata.name().to_string();
            assert_eq!(c.spec.usages, vec!["digital signature", "server auth"]);
            let out =
                Command::new(kubectl).args(["certificate", "approve", &name]).output().expect("run kubectl");
            if out.status.success() {
                return name;
            }
            // e.g. a conflict with the controller-manager updating the CSR: try again.
            println!("kubectl certificate approve {name}: {}", String::from_utf8_lossy(&out.stderr));
        }
        assert!(Instant::now() < deadline, "no kubelet-serving CSR for {node} within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
}
