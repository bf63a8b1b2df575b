//! A certificate chain and its private key, from PEM, as rustls presents them: the serving
//! certificate, the API client's certificate and a rotated pair all load through here.
#![forbid(unsafe_code)]

use std::fmt;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::CertifiedKey;

/// Which half of a pair is unusable, and why (the caller knows the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairError {
    Certificate(String),
    /// Also a key that does not belong to the leaf certificate.
    Key(String),
}

impl fmt::Display for PairError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PairError::Certificate(detail) | PairError::Key(detail) => f.write_str(detail),
        }
    }
}

impl std::error::Error for PairError {}

/// Reads the CERTIFICATE blocks of `cert_pem` (leaf first) and the first private key of
/// `key_pem`, checking that the key is the leaf's (rustls' check: RSA, ECDSA, Ed25519).
pub fn certified_key(cert_pem: &[u8], key_pem: &[u8], provider: &CryptoProvider) -> Result<CertifiedKey, PairError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| PairError::Certificate(e.to_string()))?;
    if chain.is_empty() {
        return Err(PairError::Certificate("no CERTIFICATE block".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)
        .map_err(|e| PairError::Key(format!("no usable private key: {e}")))?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| PairError::Key(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::selfsigned;
    use crate::pki::x509::AltNames;

    fn provider() -> CryptoProvider {
        rustls::crypto::ring::default_provider()
    }

    #[test]
    fn a_matching_pair_loads_and_each_half_is_blamed_for_its_faults() {
        let (cert, key) = pair("a");
        assert!(certified_key(&cert, &key, &provider()).is_ok());
        let none = certified_key(b"", &key, &provider()).err();
        assert_eq!(none, Some(PairError::Certificate("no CERTIFICATE block".into())));
        assert!(matches!(certified_key(&cert, b"", &provider()), Err(PairError::Key(_))));
        let (_, other_key) = pair("b");
        assert!(matches!(certified_key(&cert, &other_key, &provider()), Err(PairError::Key(_))));
    }

    fn pair(host: &str) -> (Vec<u8>, Vec<u8>) {
        let made = selfsigned::generate(host, &AltNames::default(), 1_700_000_000);
        let made = made.unwrap_or_else(|e| panic!("generating a pair: {e}"));
        (made.cert_pem.into_bytes(), made.key.to_pem().into_bytes())
    }
}
