//! Just enough DER to read a certificate's subject: common name, organizations and the
//! Kubernetes UID attribute. Every read is bounds-checked; any malformation is an error.

#![forbid(unsafe_code)]

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const CONTEXT_0: u8 = 0xa0;

/// id-at-commonName 2.5.4.3, id-at-organizationName 2.5.4.10, and Kubernetes' UID attribute
/// 1.3.6.1.4.1.57683.2, as DER OID contents.
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
const OID_K8S_UID: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xc2, 0x53, 0x02];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerError(pub &'static str);

impl std::fmt::Display for DerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed certificate: {}", self.0)
    }
}

impl std::error::Error for DerError {}

/// The parts of a subject the authenticator uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// The last common name, as Go keeps it.
    pub common_name: String,
    pub organizations: Vec<String>,
    pub uids: Vec<String>,
}

/// Reads one TLV off the front of `input`: (tag, contents, rest).
fn tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), DerError> {
    let (&tag, rest) = input.split_first().ok_or(DerError("truncated tag"))?;
    if tag & 0x1f == 0x1f {
        return Err(DerError("high tag numbers are not used in certificates"));
    }
    let (&first, mut rest) = rest.split_first().ok_or(DerError("truncated length"))?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(DerError("unsupported length form"));
        }
        let (bytes, after) = (rest.get(..n).ok_or(DerError("truncated length"))?, rest.get(n..).unwrap_or_default());
        rest = after;
        bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    let contents = rest.get(..len).ok_or(DerError("length beyond the input"))?;
    Ok((tag, contents, rest.get(len..).unwrap_or_default()))
}

fn expect<'a>(input: &'a [u8], want: u8, what: &'static str) -> Result<(&'a [u8], &'a [u8]), DerError> {
    let (tag, contents, rest) = tlv(input)?;
    if tag != want {
        return Err(DerError(what));
    }
    Ok((contents, rest))
}

/// The subject of a DER certificate.
pub fn subject(cert: &[u8]) -> Result<Subject, DerError> {
    let (certificate, _) = expect(cert, SEQUENCE, "certificate is not a SEQUENCE")?;
    let (tbs, _) = expect(certificate, SEQUENCE, "tbsCertificate is not a SEQUENCE")?;
    let mut rest = tbs;
    // [0] version (optional), serialNumber, signature, issuer, validity, then subject.
    if rest.first() == Some(&CONTEXT_0) {
        rest = tlv(rest)?.2;
    }
    for _ in 0..4 {
        rest = tlv(rest)?.2;
    }
    let (name, _) = expect(rest, SEQUENCE, "subject is not a SEQUENCE")?;
    parse_name(name)
}

fn parse_name(mut rdns: &[u8]) -> Result<Subject, DerError> {
    let mut subject = Subject::default();
    while !rdns.is_empty() {
        let (set, after) = expect(rdns, SET, "relative distinguished name is not a SET")?;
        rdns = after;
        let mut attrs = set;
        while !attrs.is_empty() {
            let (attr, after) = expect(attrs, SEQUENCE, "attribute is not a SEQUENCE")?;
            attrs = after;
            let (oid, value) = expect(attr, OID, "attribute type is not an OID")?;
            let (tag, contents, _) = tlv(value)?;
            if oid == OID_CN {
                subject.common_name = string(tag, contents)?;
            } else if oid == OID_O {
                subject.organizations.push(string(tag, contents)?);
            } else if oid == OID_K8S_UID {
                subject.uids.push(string(tag, contents)?);
            }
        }
    }
    Ok(subject)
}

/// The directory string types Go reads.
fn string(tag: u8, contents: &[u8]) -> Result<String, DerError> {
    match tag {
        // UTF8String, PrintableString, IA5String
        0x0c | 0x13 | 0x16 => String::from_utf8(contents.to_vec()).map_err(|_| DerError("string is not UTF-8")),
        // T61String: Go takes the bytes as ISO 8859-1.
        0x14 => Ok(contents.iter().map(|&b| char::from(b)).collect()),
        // BMPString: UTF-16BE.
        0x1e => {
            if !contents.len().is_multiple_of(2) {
                return Err(DerError("odd BMPString"));
            }
            let units: Vec<u16> = contents.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
            String::from_utf16(&units).map_err(|_| DerError("invalid BMPString"))
        }
        _ => Err(DerError("unsupported string type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv_bytes(tag: u8, contents: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        if contents.len() < 0x80 {
            out.push(contents.len() as u8);
        } else {
            out.extend_from_slice(&[0x82, (contents.len() >> 8) as u8, contents.len() as u8]);
        }
        out.extend_from_slice(contents);
        out
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
