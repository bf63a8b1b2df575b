//! X.509 v3 certificates we sign ourselves: the kubelet's self-signed serving certificate.
//!
//! Upstream (`InitializeTLS` → client-go `cert.GenerateSelfSignedCertKey(hostname, nil, nil)`)
//! makes a throwaway CA `CN=<host>-ca@<unix time>` and with it signs a leaf
//! `CN=<host>@<unix time>`, both valid from an hour ago (clock skew) for a year; the leaf has
//! keyUsage digitalSignature + keyEncipherment, extKeyUsage serverAuth, and the host as its
//! only SAN (an IP SAN if the host is an address, else a DNS SAN). The certificate file holds
//! the leaf and then the CA. Upstream's keys are RSA 2048; ours are ECDSA P-256 (ring makes no
//! RSA keys), so keyEncipherment, which means nothing for ECDSA, is left out.
#![forbid(unsafe_code)]

use std::net::IpAddr;

use ring::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use ring::rand::{SecureRandom, SystemRandom};

use super::der;
use super::key::{KeyPair, ecdsa_sha256_algorithm};
use super::x509::{self, AltNames, Name};
use super::{PkiError, oid, pem};

/// KeyUsage bit numbers (RFC 5280 §4.2.1.3).
pub const DIGITAL_SIGNATURE: u8 = 0;
pub const KEY_ENCIPHERMENT: u8 = 2;
pub const KEY_CERT_SIGN: u8 = 5;

const HOUR: i64 = 3600;
const YEAR: i64 = 365 * 24 * HOUR;

/// Everything that goes into one certificate.
#[derive(Debug, Clone)]
pub struct CertTemplate {
    pub subject: Name,
    /// Validity in seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    pub is_ca: bool,
    /// KeyUsage bit numbers.
    pub key_usage: Vec<u8>,
    /// Extended key usages (OIDs such as [`oid::SERVER_AUTH`]).
    pub ext_key_usage: Vec<&'static [u32]>,
    pub alt_names: AltNames,
}

/// The signer of a certificate: its name, key and key identifier.
pub struct Issuer<'a> {
    pub name: &'a Name,
    pub key: &'a KeyPair,
    pub key_id: &'a [u8],
}

/// A key identifier (RFC 5280 §4.2.1.2 method 1): SHA-1 of the public key bits.
pub fn key_id(key: &KeyPair) -> Vec<u8> {
    digest(&SHA1_FOR_LEGACY_USE_ONLY, key.public_key()).as_ref().to_vec()
}

/// A random positive serial number below 2^63, as Go picks them.
fn serial() -> Result<Vec<u8>, PkiError> {
    let mut bytes = [0u8; 8];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PkiError::Crypto { what: "choosing a serial number" })?;
    bytes[0] &= 0x7f;
    let value = u64::from_be_bytes(bytes).max(1);
    Ok(value.to_be_bytes().to_vec())
}

/// The DER certificate for `template` and `subject_key`, signed by `issuer`.
pub fn sign(
    template: &CertTemplate,
    subject_key: &KeyPair,
    issuer: &Issuer<'_>,
) -> Result<Vec<u8>, PkiError> {
    let mut extensions =
        vec![x509::encode_extension(oid::KEY_USAGE, true, &der::named_bits(&template.key_usage))];
    if !template.ext_key_usage.is_empty() {
        let usages: Vec<Vec<u8>> = template.ext_key_usage.iter().map(|u| der::oid(u)).collect();
        extensions.push(x509::encode_extension(oid::EXT_KEY_USAGE, false, &der::sequence(&usages)));
    }
    let constraints = if template.is_ca { vec![der::boolean(true)] } else { Vec::new() };
    extensions.push(x509::encode_extension(oid::BASIC_CONSTRAINTS, true, &der::sequence(&constraints)));
    let own_id = key_id(subject_key);
    if template.is_ca {
        extensions.push(x509::encode_extension(oid::SUBJECT_KEY_ID, false, &der::octet_string(&own_id)));
    }
    if own_id != issuer.key_id {
        let aki = der::sequence(&[der::implicit(0, issuer.key_id)]);
        extensions.push(x509::encode_extension(oid::AUTHORITY_KEY_ID, false, &aki));
    }
    if !template.alt_names.is_empty() {
        let san = x509::encode_alt_names(&template.alt_names);
        extensions.push(x509::encode_extension(oid::SUBJECT_ALT_NAME, false, &san));
    }
    let tbs = der::sequence(&[
        der::explicit(0, &der::integer_u64(2)),
        der::integer_unsigned(&serial()?),
        ecdsa_sha256_algorithm(),
        x509::encode_name(issuer.name),
        der::sequence(&[der::time(template.not_before), der::time(template.not_after)]),
        x509::encode_name(&template.subject),
        subject_key.spki(),
        der::explicit(3, &der::sequence(&extensions)),
    ]);
    let signature = issuer.key.sign(&tbs)?;
    Ok(der::sequence(&[tbs, ecdsa_sha256_algorithm(), der::bit_string(&signature)]))
}

/// A serving certificate chain (leaf, then CA) and the leaf's key, as PEM.
#[derive(Debug)]
pub struct SelfSigned {
    pub cert_pem: String,
    pub key: KeyPair,
}

/// Upstream's self-signed serving certificate for `host` (see the module docs), made at `now`
/// (seconds since the Unix epoch), with optional extra SANs.
pub fn generate(host: &str, alternate: &AltNames, now: i64) -> Result<SelfSigned, PkiError> {
    let valid_from = now - HOUR;
    let ca_key = KeyPair::generate()?;
    let ca_name = Name { common_name: Some(format!("{host}-ca@{now}")), organizations: Vec::new() };
    let ca_template = CertTemplate {
        subject: ca_name.clone(),
        not_before: valid_from,
        not_after: valid_from + YEAR,
        is_ca: true,
        key_usage: vec![DIGITAL_SIGNATURE, KEY_CERT_SIGN],
        ext_key_usage: Vec::new(),
        alt_names: AltNames::default(),
    };
    let ca_id = key_id(&ca_key);
    let ca_issuer = Issuer { name: &ca_name, key: &ca_key, key_id: &ca_id };
    let ca_der = sign(&ca_template, &ca_key, &ca_issuer)?;

    let mut alt_names = AltNames::default();
    match host.parse::<IpAddr>() {
        Ok(ip) => alt_names.ips.push(ip),
        Err(_) => alt_names.dns_names.push(host.to_string()),
    }
    alt_names.ips.extend(alternate.ips.iter().copied());
    alt_names.dns_names.extend(alternate.dns_names.iter().cloned());
    let leaf_key = KeyPair::generate()?;
    let leaf_template = CertTemplate {
        subject: Name { common_name: Some(format!("{host}@{now}")), organizations: Vec::new() },
        not_before: valid_from,
        not_after: valid_from + YEAR,
        is_ca: false,
        key_usage: vec![DIGITAL_SIGNATURE],
        ext_key_usage: vec![oid::SERVER_AUTH],
        alt_names,
    };
    let leaf_der = sign(&leaf_template, &leaf_key, &ca_issuer)?;
    let cert_pem = pem::encode(pem::CERTIFICATE, &leaf_der) + &pem::encode(pem::CERTIFICATE, &ca_der);
    Ok(SelfSigned { cert_pem, key: leaf_key })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::testutil::{openssl, write_temp};
    use crate::pki::x509::{ExtKeyUsage, parse_certificate};

    const NOW: i64 = 1_780_000_000; // 2026-05-28

    fn chain(made: &SelfSigned) -> Vec<Vec<u8>> {
        pem::certificates(made.cert_pem.as_bytes(), "test").expect("two certificates")
    }

    #[test]
    fn leaf_and_ca_look_like_upstreams() {
        let made = generate("edge-1", &AltNames::default(), NOW).expect("generate");
        let certs = chain(&made);
        assert_eq!(certs.len(), 2);
        let leaf = parse_certificate(&certs[0]).expect("leaf parses");
        let ca = parse_certificate(&certs[1]).expect("ca parses");
        assert_eq!(leaf.subject.common_name.as_deref(), Some("edge-1@1780000000"));
        assert_eq!(ca.subject.common_name.as_deref(), Some("edge-1-ca@1780000000"));
        assert_eq!(leaf.issuer, ca.subject);
        assert_eq!((leaf.not_before, leaf.not_after), (NOW - HOUR, NOW - HOUR + YEAR));
        assert_eq!(leaf.alt_names.dns_names, vec!["edge-1"]);
        assert!(leaf.alt_names.ips.is_empty());
        assert!(!leaf.is_ca && ca.is_ca);
        assert_eq!(leaf.key_usage, vec![0]);
        assert_eq!(ca.key_usage, vec![0, 5]);
        assert_eq!(leaf.ext_key_usage, vec![ExtKeyUsage::ServerAuth]);
        assert_eq!(leaf.spki, made.key.spki());
    }

    #[test]
    fn an_ip_host_becomes_an_ip_san() {
        let extra = AltNames { dns_names: vec!["localhost".into()], ips: vec!["::1".parse().expect("ip")] };
        let made = generate("192.0.2.9", &extra, NOW).expect("generate");
        let leaf = parse_certificate(&chain(&made)[0]).expect("parses");
        let ips: Vec<String> = leaf.alt_names.ips.iter().map(|ip| ip.to_string()).collect();
        assert_eq!(ips, vec!["192.0.2.9", "::1"]);
        assert_eq!(leaf.alt_names.dns_names, vec!["localhost"]);
    }

    #[test]
    fn validity_after_2049_is_generalized_time_and_reads_back() {
        let later = 2_600_000_000; // 2052
        let made = generate("edge-1", &AltNames::default(), later).expect("generate");
        let leaf = parse_certificate(&chain(&made)[0]).expect("parses");
        assert_eq!(leaf.not_after, later - HOUR + YEAR);
    }

    #[test]
    fn openssl_verifies_the_chain_and_shows_the_extensions() {
        let now =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
        let made =
            generate("edge-1", &AltNames::default(), i64::try_from(now).expect("now")).expect("generate");
        let certs = chain(&made);
        let ca_file = write_temp("ca.pem", &pem::encode(pem::CERTIFICATE, &certs[1]));
        let leaf_pem = pem::encode(pem::CERTIFICATE, &certs[0]);
        let ca_arg = ca_file.to_string_lossy().to_string();
        let Some(verified) =
            openssl(&["verify", "-CAfile", &ca_arg, "-purpose", "sslserver"], leaf_pem.as_bytes())
        else {
            return;
        };
        assert!(verified.contains("OK"), "{verified}");
        let text = openssl(&["x509", "-noout", "-text"], leaf_pem.as_bytes()).expect("openssl x509");
        for wanted in
            ["Version: 3", "DNS:edge-1", "TLS Web Server Authentication", "Digital Signature", "CA:FALSE"]
        {
            assert!(text.contains(wanted), "{wanted} missing in {text}");
        }
    }
}
