//! PKCS#10 certification requests (RFC 2986) for an ECDSA P-256 key, signed with
//! ecdsa-with-SHA256, as client-go's `cert.MakeCSRFromTemplate` makes them for the kubelet.
//!
//! ```text
//! CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm, signature }
//! CertificationRequestInfo ::= SEQUENCE { version INTEGER (0), subject Name,
//!     subjectPKInfo, attributes [0] IMPLICIT SET OF Attribute }
//! ```
//! Requested SANs travel as a PKCS#9 extensionRequest attribute holding one subjectAltName
//! extension; without SANs the attribute set is empty (it is not optional).
#![forbid(unsafe_code)]

use ring::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};

use super::der::{self, DerError, Problem, Reader, tag};
use super::key::{KeyPair, ecdsa_sha256_algorithm};
use super::x509::{self, AltNames, Name};
use super::{PkiError, oid, pem};

/// What a request asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsrTemplate {
    pub subject: Name,
    pub alt_names: AltNames,
}

/// The subject of a node's certificates: `CN=system:node:<node>, O=system:nodes`.
pub fn node_subject(node_name: &str) -> Name {
    Name {
        common_name: Some(format!("system:node:{node_name}")),
        organizations: vec!["system:nodes".to_string()],
    }
}

/// The DER of a request for `template`, signed by `key`.
pub fn create(template: &CsrTemplate, key: &KeyPair) -> Result<Vec<u8>, PkiError> {
    let attributes = if template.alt_names.is_empty() {
        Vec::new()
    } else {
        let san = x509::encode_extension(
            oid::SUBJECT_ALT_NAME,
            false,
            &x509::encode_alt_names(&template.alt_names),
        );
        let extensions = der::sequence(&[san]);
        vec![der::sequence(&[der::oid(oid::EXTENSION_REQUEST), der::set_of(&[extensions])])]
    };
    let info = der::sequence(&[
        der::integer_u64(0),
        x509::encode_name(&template.subject),
        key.spki(),
        der::constructed(tag::context(0, true), &attributes),
    ]);
    let signature = key.sign(&info)?;
    Ok(der::sequence(&[info, ecdsa_sha256_algorithm(), der::bit_string(&signature)]))
}

/// PEM `CERTIFICATE REQUEST`, what `spec.request` of a CertificateSigningRequest holds.
pub fn to_pem(der_bytes: &[u8]) -> String {
    pem::encode(pem::CERTIFICATE_REQUEST, der_bytes)
}

/// A decoded request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrInfo {
    pub subject: Name,
    /// The DER SubjectPublicKeyInfo.
    pub spki: Vec<u8>,
    pub alt_names: AltNames,
    /// Whether the signature checks out (known only for P-256 keys; false for others).
    pub signature_valid: bool,
}

/// Reads a DER request (its structure; the signature when the key is P-256).
pub fn parse(der_bytes: &[u8]) -> Result<CsrInfo, DerError> {
    let mut csr = der::single(der_bytes, tag::SEQUENCE, "CertificationRequest")?;
    let info_tlv = csr.read_tlv(tag::SEQUENCE, "certificationRequestInfo")?;
    csr.read(tag::SEQUENCE, "signatureAlgorithm")?;
    let signature = der::parse_bit_string_bytes(csr.read(tag::BIT_STRING, "signature")?, "signature")?;
    csr.finish("CertificationRequest")?;

    let mut info = Reader::new(info_tlv.content);
    if der::parse_small_uint(info.read(tag::INTEGER, "version")?, "version")? != 0 {
        return Err(DerError { field: "version", problem: Problem::BadValue("not version 1 (0)") });
    }
    let subject = x509::parse_name(info.read(tag::SEQUENCE, "subject")?)?;
    let spki_tlv = info.read_tlv(tag::SEQUENCE, "subjectPKInfo")?;
    let mut alt_names = AltNames::default();
    let mut attributes = info.nested(tag::context(0, true), "attributes")?;
    info.finish("certificationRequestInfo")?;
    while !attributes.is_empty() {
        let mut attribute = attributes.nested(tag::SEQUENCE, "attribute")?;
        let kind = attribute.read(tag::OID, "attribute.type")?;
        let mut values = attribute.nested(tag::SET, "attribute.values")?;
        if !oid::is(kind, oid::EXTENSION_REQUEST) {
            continue;
        }
        while !values.is_empty() {
            let mut extensions = values.nested(tag::SEQUENCE, "extensionRequest")?;
            while !extensions.is_empty() {
                let (id, value) = x509::read_extension(&mut extensions)?;
                if oid::is(id, oid::SUBJECT_ALT_NAME) {
                    alt_names = x509::parse_alt_names(value)?;
                }
            }
        }
    }
    let signature_valid = match p256_point(spki_tlv.raw) {
        Some(point) => {
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, point).verify(info_tlv.raw, signature).is_ok()
        }
        None => false,
    };
    Ok(CsrInfo { subject, spki: spki_tlv.raw.to_vec(), alt_names, signature_valid })
}

/// The public point of a P-256 SubjectPublicKeyInfo, or None for any other key.
pub fn p256_point(spki: &[u8]) -> Option<&[u8]> {
    let mut r = der::single(spki, tag::SEQUENCE, "subjectPublicKeyInfo").ok()?;
    let mut algorithm = r.nested(tag::SEQUENCE, "algorithm").ok()?;
    let key_type = algorithm.read(tag::OID, "algorithm").ok()?;
    let curve = algorithm.read(tag::OID, "parameters").ok()?;
    let bits = r.read(tag::BIT_STRING, "subjectPublicKey").ok()?;
    (oid::is(key_type, oid::EC_PUBLIC_KEY) && oid::is(curve, oid::P256))
        .then(|| der::parse_bit_string_bytes(bits, "subjectPublicKey").ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::pki::testutil::openssl;

    fn serving_template() -> CsrTemplate {
        CsrTemplate {
            subject: node_subject("edge-1"),
            alt_names: AltNames {
                dns_names: vec!["edge-1".into(), "edge-1.example".into()],
                ips: vec!["192.0.2.7".parse::<IpAddr>().expect("ip"), "2001:db8::7".parse().expect("ip")],
            },
        }
    }

    #[test]
    fn client_request_has_node_subject_no_sans_and_a_good_signature() {
        let key = KeyPair::generate().expect("key");
        let template = CsrTemplate { subject: node_subject("edge-1"), alt_names: AltNames::default() };
        let info = parse(&create(&template, &key).expect("csr")).expect("parses");
        assert_eq!(info.subject.common_name.as_deref(), Some("system:node:edge-1"));
        assert_eq!(info.subject.organizations, vec!["system:nodes"]);
        assert!(info.alt_names.is_empty());
        assert_eq!(info.spki, key.spki());
        assert!(info.signature_valid);
    }

    #[test]
    fn serving_request_carries_sans_and_a_tampered_one_fails_the_signature() {
        let key = KeyPair::generate().expect("key");
        let mut bytes = create(&serving_template(), &key).expect("csr");
        let info = parse(&bytes).expect("parses");
        assert_eq!(info.alt_names, serving_template().alt_names);
        assert!(info.signature_valid);
        // Flip a byte of the subject's CN text ("edge-1" → "edge-2"): the structure stays valid.
        let at = bytes.windows(6).position(|w| w == b"edge-1").expect("CN text");
        bytes[at + 5] = b'2';
        assert!(!parse(&bytes).expect("still parses").signature_valid);
    }

    #[test]
    fn openssl_verifies_the_request() {
        let key = KeyPair::generate().expect("key");
        let pem_text = to_pem(&create(&serving_template(), &key).expect("csr"));
        let Some(text) = openssl(&["req", "-verify", "-noout", "-text"], pem_text.as_bytes()) else { return };
        assert!(
            text.contains("verify OK") || text.contains("Certificate request self-signature verify OK"),
            "{text}"
        );
        assert!(text.contains("O = system:nodes, CN = system:node:edge-1"), "{text}");
        assert!(
            text.contains("DNS:edge-1, DNS:edge-1.example, IP Address:192.0.2.7, IP Address:2001:DB8"),
            "{text}"
        );
        assert!(text.contains("ecdsa-with-SHA256") && text.contains("prime256v1"), "{text}");
    }
}
