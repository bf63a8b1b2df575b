//! TLS bootstrap (`--bootstrap-kubeconfig`), as upstream's `LoadClientCert`:
//!
//! ```text
//! --kubeconfig exists, its client certificate is readable and not expired ──► use it
//!        │ no
//!        ▼
//! key: the current pair's key in --cert-dir, else kubelet-client.key.tmp (made once, kept
//!      until the certificate is stored, so a restart asks again with the same key and the
//!      same node-csr-<digest> name)
//!        ▼
//! wait (up to 1 min) for /healthz ─► POST CSR (signer kube-apiserver-client-kubelet) ─► wait
//! for Approved + certificate ─► kubelet-client-<time>.pem + kubelet-client-current.pem
//!        ▼
//! write --kubeconfig: the bootstrap kubeconfig's cluster, user cert/key = the -current file
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::request::{self, CLIENT_USAGES, CsrRequest};
use super::store::{FileStore, check_pair};
use super::{CLIENT_SIGNER, CertError, config_err, pki_err};
use crate::kubeclient::{Client, ClientOptions, Kubeconfig, PemSource, RestConfig};
use crate::pki::csr::{self, CsrTemplate};
use crate::pki::x509::AltNames;
use crate::pki::{KeyPair, files, pem};

/// The pending bootstrap key (upstream's name).
pub const TMP_KEY_FILE: &str = "kubelet-client.key.tmp";
/// The prefix of client certificate files in `--cert-dir`.
pub const CLIENT_PREFIX: &str = "kubelet-client";

/// What bootstrap needs.
#[derive(Debug, Clone)]
pub struct BootstrapConfig {
    /// `--kubeconfig`: used if valid, written otherwise.
    pub kubeconfig: PathBuf,
    /// `--bootstrap-kubeconfig`.
    pub bootstrap_kubeconfig: PathBuf,
    /// `--cert-dir`.
    pub cert_dir: PathBuf,
    pub node_name: String,
    /// How long to wait for the certificate (upstream: one hour).
    pub wait: Duration,
    /// How long to wait for the API server's /healthz first (upstream: one minute).
    pub wait_for_server: Duration,
    pub client_options: ClientOptions,
}

impl BootstrapConfig {
    pub fn new(kubeconfig: &Path, bootstrap_kubeconfig: &Path, cert_dir: &Path, node_name: &str) -> Self {
        BootstrapConfig {
            kubeconfig: kubeconfig.to_path_buf(),
            bootstrap_kubeconfig: bootstrap_kubeconfig.to_path_buf(),
            cert_dir: cert_dir.to_path_buf(),
            node_name: node_name.to_string(),
            wait: Duration::from_secs(3600),
            wait_for_server: Duration::from_secs(60),
            client_options: ClientOptions::default(),
        }
    }
}

/// Makes sure `--kubeconfig` holds a valid client certificate, bootstrapping one if not;
/// returns the kubeconfig to run with.
pub fn bootstrap(cfg: &BootstrapConfig) -> Result<PathBuf, CertError> {
    if kubeconfig_still_valid(&cfg.kubeconfig, SystemTime::now()) {
        log::debug!("kubeconfig {} exists and is valid, skipping bootstrap", cfg.kubeconfig.display());
        return Ok(cfg.kubeconfig.clone());
    }
    log::info!(
        "using bootstrap kubeconfig {} to get a client certificate for node {}",
        cfg.bootstrap_kubeconfig.display(),
        cfg.node_name
    );
    let rest = Kubeconfig::load(&cfg.bootstrap_kubeconfig)
        .and_then(|k| k.rest_config(None))
        .map_err(config_err("loading the bootstrap kubeconfig"))?;
    let client =
        Client::new(&rest, cfg.client_options.clone()).map_err(config_err("making the bootstrap client"))?;
    let store = FileStore::new(CLIENT_PREFIX, &cfg.cert_dir, None)?;
    let tmp_key = cfg.cert_dir.join(TMP_KEY_FILE);
    let key = match current_key(&store) {
        Some(key) => key,
        None => load_or_generate_key(&tmp_key)?,
    };
    wait_for_server(&client, cfg.wait_for_server);

    let template = CsrTemplate { subject: csr::node_subject(&cfg.node_name), alt_names: AltNames::default() };
    let usages: Vec<String> = CLIENT_USAGES.iter().map(|u| u.to_string()).collect();
    let req = CsrRequest {
        name: Some(request::digested_name(&key.spki(), &template.subject, &usages)),
        signer_name: CLIENT_SIGNER,
        request_der: csr::create(&template, &key)
            .map_err(pki_err("making the certificate signing request"))?,
        usages,
    };
    let (name, uid) = request::create(&client, &req)?;
    log::info!("waiting for client certificate signing request {name} to be approved and issued");
    let cert_pem = request::wait_for_certificate(&client, &name, &uid, cfg.wait, None)?;
    let stored = store.update(&cert_pem, key.to_pem().as_bytes(), SystemTime::now())?;
    log::info!("client certificate stored in {}", stored.display());
    if let Err(e) = std::fs::remove_file(&tmp_key)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        log::warn!("removing the pending key {}: {e}", tmp_key.display());
    }
    let current = std::path::absolute(store.current_path()).unwrap_or_else(|_| store.current_path());
    write_kubeconfig(&rest, &cfg.kubeconfig, &current)?;
    log::info!("wrote kubeconfig {} for the bootstrapped client certificate", cfg.kubeconfig.display());
    Ok(cfg.kubeconfig.clone())
}

/// Upstream's `isClientConfigStillValid`: the kubeconfig loads, has a client certificate and
/// key that go together, and no certificate in it is expired. Problems are logged.
pub fn kubeconfig_still_valid(path: &Path, now: SystemTime) -> bool {
    if !path.exists() {
        return false;
    }
    let check = || -> Result<bool, String> {
        let rest = Kubeconfig::load(path).and_then(|k| k.rest_config(None)).map_err(|e| e.to_string())?;
        let (Some(cert), Some(key)) = (&rest.client_certificate, &rest.client_key) else {
            return Err("no client certificate".into());
        };
        let cert_pem = cert.read().map_err(|e| e.to_string())?;
        check_pair(&cert_pem, &key.read().map_err(|e| e.to_string())?, &cert.to_string())
            .map_err(|e| e.to_string())?;
        for der in pem::certificates(&cert_pem, &cert.to_string()).map_err(|e| e.to_string())? {
            let info = crate::pki::x509::parse_certificate(&der).map_err(|e| e.to_string())?;
            if info.is_expired_at(now) {
                return Err(format!(
                    "a certificate expired at {}",
                    crate::api::time::Time::from_unix(info.not_after)
                ));
            }
        }
        Ok(true)
    };
    check().unwrap_or_else(|why| {
        log::warn!("existing kubeconfig {} cannot be used: {why}", path.display());
        false
    })
}

/// The key of the current pair, if it is one we can sign with.
fn current_key(store: &FileStore) -> Option<KeyPair> {
    let pair = store.current().ok().flatten()?;
    let text = pair.key.read().ok()?;
    KeyPair::from_pem(&text, &pair.key.to_string()).ok()
}

/// The key in `path`, or a new one written there (0600).
pub fn load_or_generate_key(path: &Path) -> Result<KeyPair, CertError> {
    if let Ok(text) = std::fs::read(path) {
        match KeyPair::from_pem(&text, &path.display().to_string()) {
            Ok(key) => return Ok(key),
            Err(e) => log::warn!("{e}; making a new key"),
        }
    }
    let key = KeyPair::generate().map_err(pki_err("making a key"))?;
    files::write_private(path, key.to_pem().as_bytes()).map_err(pki_err("writing the pending key"))?;
    Ok(key)
}

/// Waits until /healthz answers or `limit` passes; failures are only logged (the CSR call
/// that follows reports the real error).
fn wait_for_server(client: &Client, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        match client.raw("/healthz") {
            Ok(_) => return,
            Err(e) => log::info!("waiting for the API server: {e}"),
        }
        if Instant::now() + Duration::from_secs(2) > deadline {
            log::warn!("the API server did not answer /healthz within {}s; trying anyway", limit.as_secs());
            return;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// Writes the kubeconfig upstream's `writeKubeconfigFromBootstrapping` writes: the bootstrap
/// cluster (server, CA file or data, TLS options) and a user with `pem` as certificate and key.
pub fn write_kubeconfig(bootstrap: &RestConfig, path: &Path, pem_path: &Path) -> Result<(), CertError> {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let mut cluster = String::new();
    match &bootstrap.certificate_authority {
        Some(PemSource::File(ca)) => {
            cluster += &format!("    certificate-authority: {}\n", q(&ca.to_string_lossy()))
        }
        Some(PemSource::Inline { data, .. }) => {
            cluster += &format!("    certificate-authority-data: {}\n", pem::base64(data));
        }
        None => {}
    }
    if bootstrap.insecure_skip_tls_verify {
        cluster += "    insecure-skip-tls-verify: true\n";
    }
    cluster += &format!("    server: {}\n", q(&bootstrap.server));
    if let Some(name) = &bootstrap.tls_server_name {
        cluster += &format!("    tls-server-name: {}\n", q(name));
    }
    let pem_path = q(&pem_path.to_string_lossy());
    let text = format!(
        "apiVersion: v1\nclusters:\n- cluster:\n{cluster}  name: default-cluster\ncontexts:\n- context:\n    \
         cluster: default-cluster\n    namespace: default\n    user: default-auth\n  name: default-context\n\
         current-context: default-context\nkind: Config\npreferences: {{}}\nusers:\n- name: default-auth\n  user:\n    \
         client-certificate: {pem_path}\n    client-key: {pem_path}\n"
    );
    files::write_private(path, text.as_bytes()).map_err(pki_err("writing the kubeconfig"))
}

/// The client configuration to run with: `--kubeconfig`, and with `rotate_certificates` the
/// store's `kubelet-client-current.pem` as the client certificate. The first time, the
/// kubeconfig's own pair is copied into the store, so that the client reads the file the
/// rotation thread replaces (upstream swaps the transport's certificate in memory instead).
pub fn client_rest_config(
    kubeconfig: &Path,
    cert_dir: &Path,
    rotate_certificates: bool,
) -> Result<RestConfig, CertError> {
    let mut rest = Kubeconfig::load(kubeconfig)
        .and_then(|k| k.rest_config(None))
        .map_err(config_err("loading the kubeconfig"))?;
    if !rotate_certificates {
        return Ok(rest);
    }
    let fallback = rest.client_certificate.clone().zip(rest.client_key.clone());
    let store = FileStore::new(CLIENT_PREFIX, cert_dir, fallback)?;
    let current = store.current_path();
    let Some(pair) = store.current()? else {
        log::warn!("certificate rotation is on but there is no client certificate yet");
        return Ok(rest);
    };
    if pair.cert != PemSource::File(current.clone()) {
        let read = |s: &PemSource| s.read().map_err(config_err("reading the client certificate"));
        store.update(&read(&pair.cert)?, &read(&pair.key)?, SystemTime::now())?;
    }
    rest.client_certificate = Some(PemSource::File(current.clone()));
    rest.client_key = Some(PemSource::File(current));
    Ok(rest)
}
