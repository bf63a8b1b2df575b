//! What we read from X.509 certificates (RFC 5280): validity, subject and issuer CN/O, SANs,
//! basic constraints, key usages and the public key; and the Name and SAN encodings that
//! certificates and CSRs share.
//!
//! Reading checks the structure, not the signature: the certificates we read are our own or
//! came from the API server over TLS; rustls verifies chains where trust matters.
//!
//! ```text
//! Certificate  ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
//! TBSCertificate ::= SEQUENCE { [0] version, serialNumber, signature, issuer, validity,
//!                               subject, subjectPublicKeyInfo, [1] [2] unique ids, [3] extensions }
//! ```
#![forbid(unsafe_code)]

use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::der::{self, DerError, Problem, Reader, tag};
use super::oid;

/// The parts of a distinguished name the Kubernetes API reads: CN is the user, O the groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Name {
    pub common_name: Option<String>,
    pub organizations: Vec<String>,
}

/// subjectAltName entries we use: DNS names and IP addresses (others are skipped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AltNames {
    pub dns_names: Vec<String>,
    pub ips: Vec<IpAddr>,
}

impl AltNames {
    pub fn is_empty(&self) -> bool {
        self.dns_names.is_empty() && self.ips.is_empty()
    }
}

/// Extended key usages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtKeyUsage {
    ServerAuth,
    ClientAuth,
    Other(Vec<u64>),
}

/// A decoded certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// The serial number's magnitude, big-endian.
    pub serial: Vec<u8>,
    pub issuer: Name,
    pub subject: Name,
    /// Validity, in seconds since the Unix epoch.
    pub not_before: i64,
    pub not_after: i64,
    /// The DER SubjectPublicKeyInfo, as it appears in the certificate.
    pub spki: Vec<u8>,
    pub alt_names: AltNames,
    pub is_ca: bool,
    /// KeyUsage bit numbers (0 digitalSignature, 2 keyEncipherment, 5 keyCertSign...).
    pub key_usage: Vec<u32>,
    pub ext_key_usage: Vec<ExtKeyUsage>,
}

impl CertInfo {
    pub fn not_after_time(&self) -> SystemTime {
        unix_to_system(self.not_after)
    }

    /// Whether `now` is past notAfter (as Go's `now.After(NotAfter)`).
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        now > self.not_after_time()
    }
}

pub fn unix_to_system(unix: i64) -> SystemTime {
    let magnitude = Duration::from_secs(unix.unsigned_abs());
    if unix >= 0 { UNIX_EPOCH + magnitude } else { UNIX_EPOCH - magnitude }
}

/// Reads one DER certificate.
pub fn parse_certificate(der_bytes: &[u8]) -> Result<CertInfo, DerError> {
    let mut cert = der::single(der_bytes, tag::SEQUENCE, "Certificate")?;
    let mut tbs = cert.nested(tag::SEQUENCE, "tbsCertificate")?;
    cert.read(tag::SEQUENCE, "signatureAlgorithm")?;
    cert.read(tag::BIT_STRING, "signatureValue")?;
    cert.finish("Certificate")?;

    if let Some(version) = tbs.read_optional(tag::context(0, true), "version")? {
        let mut v = Reader::new(version);
        let number = der::parse_small_uint(v.read(tag::INTEGER, "version")?, "version")?;
        v.finish("version")?;
        if number > 2 {
            return Err(DerError { field: "version", problem: Problem::BadValue("unknown version") });
        }
    }
    // Serial numbers are positive, but some CAs wrote negative ones: take the bytes as they are.
    let serial = tbs.read(tag::INTEGER, "serialNumber")?;
    if serial.is_empty() {
        return Err(DerError { field: "serialNumber", problem: Problem::BadValue("empty INTEGER") });
    }
    tbs.read(tag::SEQUENCE, "signature")?;
    let issuer = parse_name(tbs.read(tag::SEQUENCE, "issuer")?)?;
    let mut validity = tbs.nested(tag::SEQUENCE, "validity")?;
    let not_before = der::parse_time(&validity.read_any("validity.notBefore")?, "validity.notBefore")?;
    let not_after = der::parse_time(&validity.read_any("validity.notAfter")?, "validity.notAfter")?;
    validity.finish("validity")?;
    let subject = parse_name(tbs.read(tag::SEQUENCE, "subject")?)?;
    let spki = tbs.read_tlv(tag::SEQUENCE, "subjectPublicKeyInfo")?.raw.to_vec();
    tbs.read_optional(tag::context(1, false), "issuerUniqueID")?;
    tbs.read_optional(tag::context(2, false), "subjectUniqueID")?;

    let mut info = CertInfo {
        serial: serial.to_vec(),
        issuer,
        subject,
        not_before,
        not_after,
        spki,
        alt_names: AltNames::default(),
        is_ca: false,
        key_usage: Vec::new(),
        ext_key_usage: Vec::new(),
    };
    if let Some(wrapped) = tbs.read_optional(tag::context(3, true), "extensions")? {
        let mut outer = Reader::new(wrapped);
        let extensions = outer.read(tag::SEQUENCE, "extensions")?;
        outer.finish("extensions")?;
        read_extensions(extensions, &mut info)?;
    }
    tbs.finish("tbsCertificate")?;
    Ok(info)
}

fn read_extensions(content: &[u8], info: &mut CertInfo) -> Result<(), DerError> {
    let mut list = Reader::new(content);
    while !list.is_empty() {
        let (id, value) = read_extension(&mut list)?;
        if oid::is(id, oid::SUBJECT_ALT_NAME) {
            info.alt_names = parse_alt_names(value)?;
        } else if oid::is(id, oid::BASIC_CONSTRAINTS) {
            let mut bc = der::single(value, tag::SEQUENCE, "basicConstraints")?;
            if let Some(ca) = bc.read_optional(tag::BOOLEAN, "basicConstraints.cA")? {
                info.is_ca = der::parse_bool(ca, "basicConstraints.cA")?;
            }
        } else if oid::is(id, oid::KEY_USAGE) {
            let mut r = Reader::new(value);
            info.key_usage = der::parse_named_bits(r.read(tag::BIT_STRING, "keyUsage")?, "keyUsage")?;
            r.finish("keyUsage")?;
        } else if oid::is(id, oid::EXT_KEY_USAGE) {
            let mut usages = der::single(value, tag::SEQUENCE, "extKeyUsage")?;
            while !usages.is_empty() {
                let usage = usages.read(tag::OID, "extKeyUsage")?;
                info.ext_key_usage.push(if oid::is(usage, oid::SERVER_AUTH) {
                    ExtKeyUsage::ServerAuth
                } else if oid::is(usage, oid::CLIENT_AUTH) {
                    ExtKeyUsage::ClientAuth
                } else {
                    ExtKeyUsage::Other(der::parse_oid(usage, "extKeyUsage")?)
                });
            }
        }
    }
    Ok(())
}

/// One `Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }`:
/// the OID's content and the value's content.
pub(crate) fn read_extension<'a>(list: &mut Reader<'a>) -> Result<(&'a [u8], &'a [u8]), DerError> {
    let mut ext = list.nested(tag::SEQUENCE, "extension")?;
    let id = ext.read(tag::OID, "extension.extnID")?;
    if let Some(critical) = ext.read_optional(tag::BOOLEAN, "extension.critical")? {
        der::parse_bool(critical, "extension.critical")?;
    }
    let value = ext.read(tag::OCTET_STRING, "extension.extnValue")?;
    ext.finish("extension")?;
    Ok((id, value))
}

/// The CN and O values of a Name's content (a SEQUENCE OF SET OF AttributeTypeAndValue).
pub fn parse_name(content: &[u8]) -> Result<Name, DerError> {
    let mut name = Name::default();
    let mut rdns = Reader::new(content);
    while !rdns.is_empty() {
        let mut rdn = rdns.nested(tag::SET, "RelativeDistinguishedName")?;
        while !rdn.is_empty() {
            let mut atv = rdn.nested(tag::SEQUENCE, "AttributeTypeAndValue")?;
            let kind = atv.read(tag::OID, "AttributeTypeAndValue.type")?;
            let value = atv.read_any("AttributeTypeAndValue.value")?;
            atv.finish("AttributeTypeAndValue")?;
            if oid::is(kind, oid::COMMON_NAME) {
                name.common_name = Some(der::parse_string(&value, "commonName")?);
            } else if oid::is(kind, oid::ORGANIZATION) {
                name.organizations.push(der::parse_string(&value, "organizationName")?);
            }
        }
    }
    Ok(name)
}

/// The DNS names and IP addresses of a GeneralNames value (the SAN extension's content).
pub fn parse_alt_names(value: &[u8]) -> Result<AltNames, DerError> {
    let mut names = AltNames::default();
    let mut r = der::single(value, tag::SEQUENCE, "subjectAltName")?;
    while !r.is_empty() {
        let general = r.read_any("GeneralName")?;
        match general.tag {
            t if t == tag::context(2, false) => {
                let dns = std::str::from_utf8(general.content)
                    .ok()
                    .filter(|s| s.is_ascii())
                    .ok_or(DerError { field: "dNSName", problem: Problem::BadValue("not ASCII") })?;
                names.dns_names.push(dns.to_string());
            }
            t if t == tag::context(7, false) => {
                let ip = match general.content.len() {
                    4 => <[u8; 4]>::try_from(general.content).ok().map(IpAddr::from),
                    16 => <[u8; 16]>::try_from(general.content).ok().map(IpAddr::from),
                    _ => None,
                };
                let ip = ip.ok_or(DerError {
                    field: "iPAddress",
                    problem: Problem::BadValue("not 4 or 16 bytes"),
                })?;
                names.ips.push(ip);
            }
            _ => {} // e-mail, URI, directory names: not ours
        }
    }
    Ok(names)
}

/// A Name with O then CN, in that order, as Go writes `pkix.Name`.
pub fn encode_name(name: &Name) -> Vec<u8> {
    let attribute = |kind: &[u32], value: &str| {
        der::set_of(&[der::sequence(&[der::oid(kind), der::directory_string(value)])])
    };
    let mut rdns: Vec<Vec<u8>> = name.organizations.iter().map(|o| attribute(oid::ORGANIZATION, o)).collect();
    if let Some(cn) = &name.common_name {
        rdns.push(attribute(oid::COMMON_NAME, cn));
    }
    der::sequence(&rdns)
}

/// The subjectAltName extension value: DNS names, then IP addresses.
pub fn encode_alt_names(names: &AltNames) -> Vec<u8> {
    let dns = names.dns_names.iter().map(|d| der::implicit(2, d.as_bytes()));
    let ips = names.ips.iter().map(|ip| match ip {
        IpAddr::V4(v4) => der::implicit(7, &v4.octets()),
        IpAddr::V6(v6) => der::implicit(7, &v6.octets()),
    });
    der::sequence(&dns.chain(ips).collect::<Vec<_>>())
}

/// One Extension.
pub fn encode_extension(id: &[u32], critical: bool, value: &[u8]) -> Vec<u8> {
    let mut parts = vec![der::oid(id)];
    if critical {
        parts.push(der::boolean(true));
    }
    parts.push(der::octet_string(value));
    der::sequence(&parts)
}

#[cfg(test)]
#[path = "x509_tests.rs"]
mod tests;
