//! CertificateSigningRequest calls, as client-go's `util/certificate/csr` makes them: create a
//! `certificates.k8s.io/v1` CSR (or, if one of the same name exists, reuse it when it is ours),
//! then wait until it is approved and carries a certificate; a Denied or Failed condition, a
//! deleted or replaced CSR, or the deadline ends the wait with an error naming the CSR.
//!
//! Waiting polls the CSR (GET each second) rather than watching it: one small object, and a
//! poll can be interrupted between two calls by the manager's stop channel.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};
use ring::digest::{SHA512_256, digest};

use super::{CertError, api_err};
use crate::api::certificates::{CertificateSigningRequest, CertificateSigningRequestSpec};
use crate::api::meta::ObjectMeta;
use crate::kubeclient::{Client, ResourcePath};
use crate::pki::{csr, pem, x509::Name};

/// Key usages (`spec.usages`) for ECDSA keys; RSA keys would add "key encipherment".
pub const CLIENT_USAGES: [&str; 2] = ["digital signature", "client auth"];
pub const SERVING_USAGES: [&str; 2] = ["digital signature", "server auth"];

const POLL: Duration = Duration::from_secs(1);
const PROGRESS_EVERY: Duration = Duration::from_secs(30);

fn csrs() -> ResourcePath {
    ResourcePath::new("certificates.k8s.io/v1", "certificatesigningrequests")
}

/// What to ask for.
#[derive(Debug, Clone)]
pub struct CsrRequest {
    /// A fixed name (bootstrap's `node-csr-<digest>`), or None for `generateName: csr-`.
    pub name: Option<String>,
    pub signer_name: &'static str,
    pub usages: Vec<String>,
    /// The PKCS#10 request, DER.
    pub request_der: Vec<u8>,
}

/// The name bootstrap gives its CSR (upstream's `digestedName`): `node-csr-` and the
/// unpadded URL-safe base64 of SHA-512/256 over the public key, CN, organizations and usages,
/// each base64-encoded and followed by `|`. The same key and subject give the same name, so
/// a restarted bootstrap finds its pending CSR again.
pub fn digested_name(spki: &[u8], subject: &Name, usages: &[String]) -> String {
    let mut stream = String::new();
    let mut write = |data: &[u8]| {
        stream.push_str(&pem::base64_raw_url(data));
        stream.push('|');
    };
    write(spki);
    write(subject.common_name.as_deref().unwrap_or("").as_bytes());
    for org in &subject.organizations {
        write(org.as_bytes());
    }
    for usage in usages {
        write(usage.as_bytes());
    }
    format!("node-csr-{}", pem::base64_raw_url(digest(&SHA512_256, stream.as_bytes()).as_ref()))
}

/// Creates the CSR, or reuses an existing one of the same name that asks for the same thing
/// with the same key. Returns its name and UID.
pub fn create(client: &Client, req: &CsrRequest) -> Result<(String, String), CertError> {
    let object = CertificateSigningRequest {
        api_version: Some("certificates.k8s.io/v1".into()),
        kind: Some("CertificateSigningRequest".into()),
        metadata: ObjectMeta {
            name: req.name.clone(),
            generate_name: if req.name.is_none() { Some("csr-".into()) } else { None },
            ..ObjectMeta::default()
        },
        spec: CertificateSigningRequestSpec {
            request: csr::to_pem(&req.request_der).into_bytes().into(),
            signer_name: req.signer_name.to_string(),
            usages: req.usages.clone(),
            ..CertificateSigningRequestSpec::default()
        },
        ..CertificateSigningRequest::default()
    };
    match client.create(&csrs(), &object) {
        Ok(created) => {
            let name = created.metadata.name().to_string();
            log::debug!("certificate signing request {name} created (signer {})", req.signer_name);
            Ok((name, created.metadata.uid.unwrap_or_default()))
        }
        Err(e) if e.is_already_exists() && req.name.is_some() => {
            let name = req.name.clone().unwrap_or_default();
            log::info!("certificate signing request {name} already exists; reusing it if it is compatible");
            let existing: CertificateSigningRequest = client
                .get(&csrs().name(&name))
                .map_err(api_err("reading the existing certificate signing request"))?;
            ensure_compatible(&existing, req)?;
            Ok((name, existing.metadata.uid.unwrap_or_default()))
        }
        Err(e) => Err(CertError::Api { step: "creating the certificate signing request", source: e }),
    }
}

/// The existing CSR must ask the same signer for the same usages, with our key and subject.
fn ensure_compatible(existing: &CertificateSigningRequest, req: &CsrRequest) -> Result<(), CertError> {
    let name = existing.metadata.name().to_string();
    let incompatible = |detail: String| CertError::Incompatible { csr: name.clone(), detail };
    let theirs = pem::blocks(existing.spec.request.as_bytes(), &name)
        .ok()
        .and_then(|blocks| blocks.into_iter().next())
        .and_then(|(_, der)| csr::parse(&der).ok())
        .ok_or_else(|| incompatible("its request does not parse".into()))?;
    let ours = csr::parse(&req.request_der).map_err(|e| incompatible(format!("our own request: {e}")))?;
    if theirs.spki != ours.spki {
        return Err(incompatible("another public key".into()));
    }
    if theirs.subject != ours.subject {
        return Err(incompatible(format!("subject {:?}", theirs.subject)));
    }
    if existing.spec.signer_name != req.signer_name {
        return Err(incompatible(format!("signer {}", existing.spec.signer_name)));
    }
    let mut wanted = req.usages.clone();
    let mut have = existing.spec.usages.clone();
    wanted.sort();
    have.sort();
    if wanted != have {
        return Err(incompatible(format!("usages {:?}", existing.spec.usages)));
    }
    Ok(())
}

/// Waits up to `timeout` for the CSR `name` (with `uid`) to be approved and issued; the
/// certificate PEM. `stop` (a message, or all senders gone) ends the wait with `Stopped`.
pub fn wait_for_certificate(
    client: &Client,
    name: &str,
    uid: &str,
    timeout: Duration,
    stop: Option<&Receiver<()>>,
) -> Result<Vec<u8>, CertError> {
    let start = Instant::now();
    let mut next_progress = start + PROGRESS_EVERY;
    loop {
        match client.get::<CertificateSigningRequest>(&csrs().name(name)) {
            Ok(csr) => {
                if let Some(certificate) = issued(&csr, name, uid)? {
                    log::info!("certificate signing request {name} is approved and issued");
                    return Ok(certificate);
                }
            }
            Err(e) if e.is_not_found() => {
                return Err(CertError::Vanished { csr: name.to_string(), detail: "was deleted" });
            }
            // Transient trouble (the API server restarting): keep trying until the deadline.
            Err(e) => log::warn!("waiting for certificate signing request {name}: {e}"),
        }
        let now = Instant::now();
        if now.duration_since(start) >= timeout {
            return Err(CertError::Timeout { csr: name.to_string(), waited: timeout });
        }
        if now >= next_progress {
            log::info!(
                "still waiting for certificate signing request {name} to be approved and issued ({}s)",
                now.duration_since(start).as_secs()
            );
            next_progress = now + PROGRESS_EVERY;
        }
        let pause = POLL.min(timeout.saturating_sub(now.duration_since(start)));
        match stop {
            Some(stop) => match stop.recv_timeout(pause) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return Err(CertError::Stopped),
            },
            None => std::thread::sleep(pause),
        }
    }
}

/// The certificate if the CSR is approved and issued; an error if it is denied or failed.
fn issued(csr: &CertificateSigningRequest, name: &str, uid: &str) -> Result<Option<Vec<u8>>, CertError> {
    if !uid.is_empty() && csr.metadata.uid.as_deref().is_some_and(|u| u != uid) {
        return Err(CertError::Vanished { csr: name.to_string(), detail: "was replaced (its UID changed)" });
    }
    let mut approved = false;
    for condition in &csr.status.conditions {
        match condition.type_.as_str() {
            "Denied" | "Failed" => {
                return Err(CertError::Denied {
                    csr: name.to_string(),
                    condition: condition.type_.to_lowercase(),
                    reason: condition.reason.clone().unwrap_or_default(),
                    message: condition.message.clone().unwrap_or_default(),
                });
            }
            "Approved" => approved = true,
            _ => {}
        }
    }
    Ok(match &csr.status.certificate {
        Some(cert) if approved && !cert.as_bytes().is_empty() => Some(cert.as_bytes().to_vec()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::certificates::{CertificateSigningRequestCondition, CertificateSigningRequestStatus};

    fn with_conditions(types: &[&str], certificate: Option<&[u8]>) -> CertificateSigningRequest {
        CertificateSigningRequest {
            metadata: ObjectMeta {
                name: Some("csr-x".into()),
                uid: Some("u1".into()),
                ..ObjectMeta::default()
            },
            status: CertificateSigningRequestStatus {
                conditions: types
                    .iter()
                    .map(|t| CertificateSigningRequestCondition {
                        type_: t.to_string(),
                        status: "True".into(),
                        reason: Some("R".into()),
                        ..CertificateSigningRequestCondition::default()
                    })
                    .collect(),
                certificate: certificate.map(Into::into),
            },
            ..CertificateSigningRequest::default()
        }
    }

    #[test]
    fn issued_needs_approval_and_a_certificate() {
        assert_eq!(issued(&with_conditions(&[], None), "csr-x", "u1").expect("pending"), None);
        assert_eq!(issued(&with_conditions(&["Approved"], None), "csr-x", "u1").expect("approved"), None);
        let done = issued(&with_conditions(&["Approved"], Some(b"PEM")), "csr-x", "u1").expect("issued");
        assert_eq!(done.as_deref(), Some(&b"PEM"[..]));
        let denied = issued(&with_conditions(&["Denied"], None), "csr-x", "u1").expect_err("denied");
        assert!(denied.to_string().contains("csr-x denied"), "{denied}");
        let failed =
            issued(&with_conditions(&["Approved", "Failed"], None), "csr-x", "u1").expect_err("failed");
        assert!(failed.to_string().contains("csr-x failed"), "{failed}");
        let replaced = issued(&with_conditions(&[], None), "csr-x", "u2").expect_err("uid");
        assert!(matches!(replaced, CertError::Vanished { .. }));
    }

    #[test]
    fn digested_name_is_stable_and_depends_on_every_input() {
        let subject = crate::pki::csr::node_subject("n1");
        let usages: Vec<String> = CLIENT_USAGES.iter().map(|u| u.to_string()).collect();
        let a = digested_name(b"key-1", &subject, &usages);
        // The name Go's digestedName gives the same inputs (computed with Go's crypto/sha512).
        assert_eq!(a, "node-csr-yhrOkH32AR7mOJ4JpWndGRtbLZW5Y7HlG944KW98r7I");
        assert!(a.starts_with("node-csr-") && a.len() == "node-csr-".len() + 43, "{a}");
        assert_ne!(a, digested_name(b"key-2", &subject, &usages));
        assert_ne!(a, digested_name(b"key-1", &crate::pki::csr::node_subject("n2"), &usages));
        assert_ne!(a, digested_name(b"key-1", &subject, &usages[..1]));
    }
}
