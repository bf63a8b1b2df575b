//! ECDSA P-256 keys: made with ring, kept as PKCS#8 (`PRIVATE KEY`), and read back from
//! PKCS#8 or SEC1 (`EC PRIVATE KEY`, what Go's kubelet writes) PEM.
//!
//! Only P-256 keys sign here (CSRs, self-signed certificates). RSA keys a user gives for
//! `tlsPrivateKeyFile` or a kubeconfig are for TLS only, where rustls reads them itself.
#![forbid(unsafe_code)]

use std::fmt;

use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use rustls::pki_types::pem::SectionKind;

use super::der::{self, tag};
use super::{PkiError, oid, pem};

/// A P-256 key pair and its PKCS#8 encoding (what is saved).
pub struct KeyPair {
    pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
}

impl fmt::Debug for KeyPair {
    // The key stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyPair(P-256)")
    }
}

fn key_error(what: &str, detail: impl fmt::Display) -> PkiError {
    PkiError::Key { what: what.to_string(), detail: detail.to_string() }
}

impl KeyPair {
    /// A new random key (what client-go makes for every CSR: ECDSA P-256).
    pub fn generate() -> Result<KeyPair, PkiError> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .map_err(|_| PkiError::Crypto { what: "generating a P-256 key" })?;
        KeyPair::from_pkcs8(doc.as_ref(), "a new key")
    }

    /// A key from PKCS#8 DER; `what` names its source for errors.
    pub fn from_pkcs8(pkcs8: &[u8], what: &str) -> Result<KeyPair, PkiError> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &rng)
            .map_err(|e| key_error(what, format!("not a usable ECDSA P-256 key: {e}")))?;
        Ok(KeyPair { pair, pkcs8: pkcs8.to_vec() })
    }

    /// The first private key in `pem`: PKCS#8 or SEC1, P-256 only.
    pub fn from_pem(pem_text: &[u8], what: &str) -> Result<KeyPair, PkiError> {
        for (kind, der) in pem::blocks(pem_text, what)? {
            match kind {
                SectionKind::PrivateKey => return KeyPair::from_pkcs8(&der, what),
                SectionKind::EcPrivateKey => return KeyPair::from_pkcs8(&sec1_to_pkcs8(&der, what)?, what),
                SectionKind::RsaPrivateKey => {
                    return Err(key_error(what, "an RSA key cannot sign requests here"));
                }
                _ => {}
            }
        }
        Err(key_error(what, "no PRIVATE KEY or EC PRIVATE KEY block"))
    }

    /// PEM `PRIVATE KEY` (PKCS#8).
    pub fn to_pem(&self) -> String {
        pem::encode(pem::PRIVATE_KEY, &self.pkcs8)
    }

    /// The public point, uncompressed (65 bytes).
    pub fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// The DER SubjectPublicKeyInfo of the public key.
    pub fn spki(&self) -> Vec<u8> {
        spki_p256(self.public_key())
    }

    /// An ecdsa-with-SHA256 signature of `message`, DER-encoded.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, PkiError> {
        let rng = SystemRandom::new();
        let sig = self
            .pair
            .sign(&rng, message)
            .map_err(|_| PkiError::Crypto { what: "signing with the P-256 key" })?;
        Ok(sig.as_ref().to_vec())
    }
}

/// AlgorithmIdentifier of an EC public key on P-256.
fn ec_p256_algorithm() -> Vec<u8> {
    der::sequence(&[der::oid(oid::EC_PUBLIC_KEY), der::oid(oid::P256)])
}

/// SubjectPublicKeyInfo of a P-256 public point.
pub fn spki_p256(point: &[u8]) -> Vec<u8> {
    der::sequence(&[ec_p256_algorithm(), der::bit_string(point)])
}

/// AlgorithmIdentifier ecdsa-with-SHA256 (no parameters, RFC 5758).
pub fn ecdsa_sha256_algorithm() -> Vec<u8> {
    der::sequence(&[der::oid(oid::ECDSA_WITH_SHA256)])
}

/// Wraps a SEC1 ECPrivateKey (RFC 5915) in PKCS#8, checking that it is on P-256.
fn sec1_to_pkcs8(sec1: &[u8], what: &str) -> Result<Vec<u8>, PkiError> {
    let der_error = |source| PkiError::Der { what: what.to_string(), source };
    let mut r = der::single(sec1, tag::SEQUENCE, "ECPrivateKey").map_err(der_error)?;
    r.read(tag::INTEGER, "ECPrivateKey.version").map_err(der_error)?;
    r.read(tag::OCTET_STRING, "ECPrivateKey.privateKey").map_err(der_error)?;
    if let Some(params) =
        r.read_optional(tag::context(0, true), "ECPrivateKey.parameters").map_err(der_error)?
    {
        let mut p = der::Reader::new(params);
        let curve = p.read(tag::OID, "ECPrivateKey.parameters").map_err(der_error)?;
        if !oid::is(curve, oid::P256) {
            return Err(key_error(what, "an EC key on another curve than P-256"));
        }
    }
    Ok(der::sequence(&[der::integer_u64(0), ec_p256_algorithm(), der::octet_string(sec1)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_round_trips_through_pem() {
        let key = KeyPair::generate().expect("generate");
        let pem_text = key.to_pem();
        assert!(pem_text.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let again = KeyPair::from_pem(pem_text.as_bytes(), "test").expect("reads back");
        assert_eq!(again.public_key(), key.public_key());
        assert_eq!(key.public_key().len(), 65);
    }

    #[test]
    fn openssl_sec1_and_pkcs8_keys_are_read() {
        let Some(sec1) =
            crate::pki::testutil::openssl(&["ecparam", "-name", "prime256v1", "-genkey", "-noout"], b"")
        else {
            return;
        };
        assert!(sec1.contains("BEGIN EC PRIVATE KEY"), "{sec1}");
        let key = KeyPair::from_pem(sec1.as_bytes(), "sec1.key").expect("SEC1 key");
        let pkcs8 =
            crate::pki::testutil::openssl(&["pkcs8", "-topk8", "-nocrypt"], sec1.as_bytes()).expect("pkcs8");
        let same = KeyPair::from_pem(pkcs8.as_bytes(), "pkcs8.key").expect("PKCS#8 key");
        assert_eq!(key.public_key(), same.public_key());
        let other =
            crate::pki::testutil::openssl(&["ecparam", "-name", "secp384r1", "-genkey", "-noout"], b"")
                .expect("P-384 key");
        let e = KeyPair::from_pem(other.as_bytes(), "p384.key").expect_err("P-384 refused");
        assert!(e.to_string().contains("P-256"), "{e}");
    }

    #[test]
    fn rsa_and_garbage_are_errors() {
        let rsa = pem::encode("RSA PRIVATE KEY", &[0x30, 0x00]);
        let e = KeyPair::from_pem(rsa.as_bytes(), "rsa.key").expect_err("RSA refused");
        assert!(e.to_string().contains("rsa.key"), "{e}");
        assert!(KeyPair::from_pem(b"nothing", "x").is_err());
        let bad_sec1 = pem::encode("EC PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01]);
        assert!(KeyPair::from_pem(bad_sec1.as_bytes(), "x").is_err());
    }
}
