//! A certificate authority for tests: issues certificates for our keys, as a cluster signer.

use crate::pki::selfsigned::{self, CertTemplate, DIGITAL_SIGNATURE, Issuer, KEY_CERT_SIGN};
use crate::pki::x509::{AltNames, Name};
use crate::pki::{KeyPair, oid, pem};

pub struct TestCa {
    pub key: KeyPair,
    pub name: Name,
    pub id: Vec<u8>,
}

impl TestCa {
    pub fn new() -> TestCa {
        let key = KeyPair::generate().expect("CA key");
        let name = Name { common_name: Some("test-ca".into()), organizations: Vec::new() };
        let id = selfsigned::key_id(&key);
        let template = CertTemplate {
            subject: name.clone(),
            not_before: 0,
            not_after: 4_000_000_000,
            is_ca: true,
            key_usage: vec![DIGITAL_SIGNATURE, KEY_CERT_SIGN],
            ext_key_usage: Vec::new(),
            alt_names: AltNames::default(),
        };
        selfsigned::sign(&template, &key, &Issuer { name: &name, key: &key, key_id: &id }).expect("CA");
        TestCa { key, name, id }
    }

    /// A client certificate for `key` (subject `subject`), valid over the given seconds.
    pub fn issue(&self, key: &KeyPair, subject: Name, alt_names: AltNames, validity: (i64, i64)) -> String {
        let usage = if alt_names.is_empty() { oid::CLIENT_AUTH } else { oid::SERVER_AUTH };
        let template = CertTemplate {
            subject,
            not_before: validity.0,
            not_after: validity.1,
            is_ca: false,
            key_usage: vec![DIGITAL_SIGNATURE],
            ext_key_usage: vec![usage],
            alt_names,
        };
        let issuer = Issuer { name: &self.name, key: &self.key, key_id: &self.id };
        pem::encode(pem::CERTIFICATE, &selfsigned::sign(&template, key, &issuer).expect("issue"))
    }
}
