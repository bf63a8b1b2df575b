//! The kubelet's certificates in the agent (`crate::certificate` does the work):
//!
//! ```text
//! --bootstrap-kubeconfig ─► bootstrap (blocks until the client CSR is issued) ─► --kubeconfig
//! --kubeconfig ─► rest config (rotateCertificates: client cert = kubelet-client-current.pem)
//!              ─► API clients ─► rotation thread (rotateCertificates) renews that file
//! serving: tlsCertFile/tlsPrivateKeyFile | self-signed kubelet.crt/.key | serverTLSBootstrap:
//!          kubelet-server-current.pem from a kubelet-serving CSR, renewed by its own thread
//! ```
//!
//! Upstream bootstraps in the background when rotateCertificates is on; rkubelet always
//! bootstraps first (LoadClientCert's way), then starts rotation: the node is the same.
//! With serverTLSBootstrap the authenticated port opens when the first serving certificate
//! is issued (upstream opens it at once and fails handshakes until then); tlsCertFile is not
//! served in the meantime.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::wiring::StartError;
use crate::certificate::{self, BootstrapConfig, CertKind, CertManagerHandle, ManagerConfig, ServingConfig};
use crate::config::Config;
use crate::kubeclient::{Client, RestConfig};
use crate::node::NodeIdentity;
use crate::pki::x509::AltNames;
use crate::server::{self, tls};

/// How long a rotation's CSR may wait to be issued (upstream's certificate manager: 15 min).
const CSR_WAIT: Duration = Duration::from_secs(15 * 60);

/// The certificate threads; dropping this stops them.
#[derive(Default)]
pub struct Certs {
    _client_rotation: Option<CertManagerHandle>,
    _serving: Option<CertManagerHandle>,
}

fn cert_err(what: &'static str) -> impl FnOnce(certificate::CertError) -> StartError {
    move |e| StartError::Api(format!("{what}: {e}"))
}

/// The API client configuration, after TLS bootstrap when `--bootstrap-kubeconfig` is given;
/// None when there is no `--kubeconfig` (standalone).
pub fn client_rest_config(
    config: &Config,
    identity: &NodeIdentity,
) -> Result<Option<RestConfig>, StartError> {
    let f = &config.flags;
    let Some(kubeconfig) = &f.kubeconfig else {
        if f.bootstrap_kubeconfig.is_some() {
            return Err(StartError::Api(
                "--bootstrap-kubeconfig needs --kubeconfig (where to write the result)".into(),
            ));
        }
        return Ok(None);
    };
    if let Some(bootstrap_kubeconfig) = &f.bootstrap_kubeconfig {
        let cfg = BootstrapConfig::new(kubeconfig, bootstrap_kubeconfig, &f.cert_dir, &identity.name);
        certificate::bootstrap(&cfg).map_err(cert_err("TLS bootstrap"))?;
    }
    let rest = certificate::client_rest_config(kubeconfig, &f.cert_dir, config.kubelet.rotate_certificates)
        .map_err(|e| StartError::Api(format!("kubeconfig {}: {e}", kubeconfig.display())))?;
    Ok(Some(rest))
}

impl Certs {
    /// rotateCertificates: renews `kubelet-client-current.pem`, which `client` (made from
    /// [`client_rest_config`]) reads again when it changes.
    pub fn start_client_rotation(
        &mut self,
        config: &Config,
        identity: &NodeIdentity,
        client: &Client,
    ) -> Result<(), StartError> {
        if !config.kubelet.rotate_certificates {
            return Ok(());
        }
        let cfg = ManagerConfig {
            kind: CertKind::Client,
            cert_dir: config.flags.cert_dir.clone(),
            node_name: identity.name.clone(),
            fallback: None,
            alt_names: AltNames::default(),
            wait: CSR_WAIT,
        };
        let handle =
            certificate::spawn(cfg, client.clone()).map_err(cert_err("client certificate rotation"))?;
        self._client_rotation = Some(handle);
        Ok(())
    }

    /// Chooses the serving certificate and starts the authenticated port with it (later, for
    /// a serving certificate not issued yet).
    pub fn start_secure_server(
        &mut self,
        config: &Config,
        identity: &NodeIdentity,
        deps: &server::secure::Deps,
    ) -> Result<(), StartError> {
        let alt_names = AltNames { dns_names: vec![identity.name.clone()], ips: identity.ips.clone() };
        let cfg = ServingConfig::from_kubelet_config(
            &config.kubelet,
            &config.flags.cert_dir,
            &identity.name,
            &identity.name,
            alt_names,
        );
        let chosen =
            certificate::serving_cert(&cfg, deps.client.as_ref()).map_err(cert_err("serving certificate"))?;
        log::debug!("serving certificate: {chosen:?}");
        match chosen {
            certificate::ServingCert::Files { cert, key, .. } => {
                server::secure::spawn_secure(config, deps, tls::ServingCert { cert, key })
                    .map_err(StartError::Server)?;
            }
            certificate::ServingCert::Bootstrap { manager } => {
                let current = manager.current_path();
                self._serving = Some(manager);
                if current.exists() {
                    let files = tls::ServingCert { cert: current.clone(), key: current };
                    server::secure::spawn_secure(config, deps, files).map_err(StartError::Server)?;
                } else {
                    spawn_when_issued(config.clone(), deps.clone(), current)?;
                }
            }
        }
        Ok(())
    }
}

/// Opens the authenticated port once `current` (the first issued serving certificate) exists.
fn spawn_when_issued(config: Config, deps: server::secure::Deps, current: PathBuf) -> Result<(), StartError> {
    log::info!(
        "kubelet API on port {} opens when the serving certificate is issued ({})",
        config.kubelet.port,
        current.display()
    );
    std::thread::Builder::new()
        .name("rk-serving-wait".into())
        .spawn(move || {
            while !is_file(&current) {
                std::thread::sleep(Duration::from_secs(1));
            }
            let files = tls::ServingCert { cert: current.clone(), key: current };
            if let Err(e) = server::secure::spawn_secure(&config, &deps, files) {
                log::error!("kubelet API on port {} not started: {e}", config.kubelet.port);
            }
        })
        .map(|_| ())
        .map_err(|error| StartError::Thread { what: "serving certificate wait", error })
}

/// Whether `path` leads to a file (a -current symlink with a target).
fn is_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Config {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        crate::config::load(&args).expect("config").config
    }

    fn node() -> NodeIdentity {
        NodeIdentity { name: "edge-1".into(), ips: vec!["192.0.2.7".parse().expect("ip")] }
    }

    fn error(args: &[&str]) -> String {
        client_rest_config(&config(args), &node()).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn standalone_has_no_client_and_bootstrap_needs_a_kubeconfig() {
        assert!(matches!(client_rest_config(&config(&[]), &node()), Ok(None)));
        assert!(error(&["--bootstrap-kubeconfig=/nonexistent"]).contains("needs --kubeconfig"));
    }

    #[test]
    fn a_failed_bootstrap_stops_the_start() {
        let dir = crate::pki::testutil::temp_dir("agent-certs");
        let kubeconfig = format!("--kubeconfig={}", dir.join("kubelet.conf").display());
        let cert_dir = format!("--cert-dir={}", dir.join("pki").display());
        let e = error(&[&kubeconfig, "--bootstrap-kubeconfig=/nonexistent/bootstrap.conf", &cert_dir]);
        assert!(e.contains("TLS bootstrap") && e.contains("/nonexistent/bootstrap.conf"), "{e}");
        assert!(!dir.join("kubelet.conf").exists());
    }
}
