//! A certificate's subject as the authenticator needs it: common name, organizations and the
//! Kubernetes UID attribute, with Go's string types. The DER is read by `pki::der`'s
//! bounds-checked [`Reader`]; any malformation is an error.

#![forbid(unsafe_code)]

use crate::pki::der::{DerError, Problem, Reader, tag};

/// id-at-commonName 2.5.4.3, id-at-organizationName 2.5.4.10, and Kubernetes' UID attribute
/// 1.3.6.1.4.1.57683.2, as DER OID contents.
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
const OID_K8S_UID: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xc2, 0x53, 0x02];

/// The parts of a subject the authenticator uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// The last common name, as Go keeps it.
    pub common_name: String,
    pub organizations: Vec<String>,
    pub uids: Vec<String>,
}

/// The subject of a DER certificate (the rest of it is rustls' to check).
pub fn subject(cert: &[u8]) -> Result<Subject, DerError> {
    let mut certificate = Reader::new(cert).nested(tag::SEQUENCE, "Certificate")?;
    let mut tbs = certificate.nested(tag::SEQUENCE, "tbsCertificate")?;
    tbs.read_optional(tag::context(0, true), "version")?;
    for field in ["serialNumber", "signature", "issuer", "validity"] {
        tbs.read_any(field)?;
    }
    parse_name(tbs.read(tag::SEQUENCE, "subject")?)
}

fn parse_name(content: &[u8]) -> Result<Subject, DerError> {
    let mut subject = Subject::default();
    let mut rdns = Reader::new(content);
    while !rdns.is_empty() {
        let mut attrs = rdns.nested(tag::SET, "relative distinguished name")?;
        while !attrs.is_empty() {
            let mut attr = attrs.nested(tag::SEQUENCE, "attribute")?;
            let oid = attr.read(tag::OID, "attribute type")?;
            let value = attr.read_any("attribute value")?;
            if oid == OID_CN {
                subject.common_name = string(value.tag, value.content)?;
            } else if oid == OID_O {
                subject.organizations.push(string(value.tag, value.content)?);
            } else if oid == OID_K8S_UID {
                subject.uids.push(string(value.tag, value.content)?);
            }
        }
    }
    Ok(subject)
}

fn bad(why: &'static str) -> DerError {
    DerError { field: "subject attribute value", problem: Problem::BadValue(why) }
}

/// The directory string types Go reads.
fn string(tag: u8, contents: &[u8]) -> Result<String, DerError> {
    match tag {
        // UTF8String, PrintableString, IA5String
        tag::UTF8_STRING | tag::PRINTABLE_STRING | tag::IA5_STRING => {
            String::from_utf8(contents.to_vec()).map_err(|_| bad("string is not UTF-8"))
        }
        // T61String: Go takes the bytes as ISO 8859-1.
        tag::T61_STRING => Ok(contents.iter().map(|&b| char::from(b)).collect()),
        // BMPString: UTF-16BE.
        0x1e => {
            if !contents.len().is_multiple_of(2) {
                return Err(bad("odd BMPString"));
            }
            let units: Vec<u16> = contents.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
            String::from_utf16(&units).map_err(|_| bad("invalid BMPString"))
        }
        _ => Err(bad("unsupported string type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEQUENCE: u8 = tag::SEQUENCE;
    const SET: u8 = tag::SET;
    const OID: u8 = tag::OID;
    const CONTEXT_0: u8 = tag::context(0, true);

    fn tlv_bytes(tag: u8, contents: &[u8]) -> Vec<u8> {
        crate::pki::der::tlv(tag, contents)
    }

    fn attr(oid: &[u8], tag: u8, value: &[u8]) -> Vec<u8> {
        let inner = [tlv_bytes(OID, oid), tlv_bytes(tag, value)].concat();
        tlv_bytes(SET, &tlv_bytes(SEQUENCE, &inner))
    }

    fn cert_with_subject(name: &[u8]) -> Vec<u8> {
        let tbs = [
            tlv_bytes(CONTEXT_0, &tlv_bytes(0x02, &[2])),
            tlv_bytes(0x02, &[1, 2, 3]),
            tlv_bytes(SEQUENCE, &[]),
            tlv_bytes(SEQUENCE, &attr(OID_CN, 0x13, b"issuer")),
            tlv_bytes(SEQUENCE, &[]),
            tlv_bytes(SEQUENCE, name),
            tlv_bytes(SEQUENCE, &[0u8; 200]),
        ]
        .concat();
        tlv_bytes(SEQUENCE, &[tlv_bytes(SEQUENCE, &tbs), tlv_bytes(SEQUENCE, &[])].concat())
    }

    #[test]
    fn reads_cn_organizations_and_uid() {
        let name = [
            attr(OID_O, 0x13, b"system:masters"),
            attr(OID_O, 0x0c, b"team \xc3\xa9"),
            attr(OID_CN, 0x0c, b"first"),
            attr(OID_CN, 0x1e, &[0, b'a', 0, b'd', 0, b'm']),
            attr(OID_K8S_UID, 0x0c, b"uid-1"),
            attr(&[0x55, 0x04, 0x06], 0x13, b"DE"),
        ]
        .concat();
        let s = subject(&cert_with_subject(&name));
        let want = Subject {
            common_name: "adm".into(),
            organizations: vec!["system:masters".into(), "team é".into()],
            uids: vec!["uid-1".into()],
        };
        assert_eq!(s, Ok(want));
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let cert = cert_with_subject(&attr(OID_CN, 0x13, b"kubernetes-admin"));
        assert!(subject(&cert).is_ok());
        for cut in 0..cert.len() {
            // The outer SEQUENCE's length covers everything: any cut is caught there.
            assert!(subject(&cert[..cut]).is_err(), "cut at {cut}");
        }
        for bad in [&[0x30, 0x85, 0, 0, 0, 0, 0][..], &[0x1f, 0], &[0x30, 0x81], &[0x31, 0]] {
            assert!(subject(bad).is_err());
        }
    }
}
