//! PEM text (RFC 7468) and the base64 it needs. Reading goes through rustls-pki-types'
//! `PemObject`; writing is ours: 64-character lines, a trailing newline, as Go writes it.
//! Standard base64 is `api::bytes`' encoder.
#![forbid(unsafe_code)]

use rustls::pki_types::pem::{PemObject, SectionKind};

use super::PkiError;

pub const CERTIFICATE: &str = "CERTIFICATE";
pub const CERTIFICATE_REQUEST: &str = "CERTIFICATE REQUEST";
pub const PRIVATE_KEY: &str = "PRIVATE KEY";

/// Standard base64 with padding (RFC 4648 §4).
pub fn base64(data: &[u8]) -> String {
    crate::api::bytes::base64_encode(data)
}

/// URL-safe base64 without padding (RFC 4648 §5; Go's `base64.RawURLEncoding`).
pub fn base64_raw_url(data: &[u8]) -> String {
    base64(data)
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            other => other,
        })
        .collect()
}

/// One PEM block with `label` around `der`.
pub fn encode(label: &str, der: &[u8]) -> String {
    let body = base64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Every block of `pem` that rustls-pki-types knows, in order (unknown labels are skipped).
pub fn blocks(pem: &[u8], what: &str) -> Result<Vec<(SectionKind, Vec<u8>)>, PkiError> {
    <(SectionKind, Vec<u8>)>::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PkiError::Pem { what: what.to_string(), detail: e.to_string() })
}

/// The DER of every CERTIFICATE block, in order; at least one.
pub fn certificates(pem: &[u8], what: &str) -> Result<Vec<Vec<u8>>, PkiError> {
    let certs: Vec<Vec<u8>> = blocks(pem, what)?
        .into_iter()
        .filter(|(k, _)| *k == SectionKind::Certificate)
        .map(|(_, d)| d)
        .collect();
    if certs.is_empty() {
        return Err(PkiError::Pem { what: what.to_string(), detail: "no CERTIFICATE block".into() });
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_url_base64_has_no_padding_and_the_url_alphabet() {
        assert_eq!(base64_raw_url(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64_raw_url(b"fo"), "Zm8");
    }

    #[test]
    fn encode_wraps_at_64_and_reads_back() {
        let der: Vec<u8> = (0..=255u8).collect();
        let text = encode(CERTIFICATE, &der);
        assert!(text.lines().all(|l| l.len() <= 64));
        assert_eq!(certificates(text.as_bytes(), "test").expect("decodes"), vec![der]);
    }
}
