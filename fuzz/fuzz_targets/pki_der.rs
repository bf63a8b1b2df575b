//! Arbitrary bytes as a DER certificate, a certification request, a SEC1/PKCS#8 key and a
//! PEM text: errors, never a panic. A certificate that parses survives its own Name and SAN
//! encoders.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rkubelet::pki::{KeyPair, csr, der, pem, x509};

fuzz_target!(|data: &[u8]| {
    if let Ok(info) = x509::parse_certificate(data) {
        let name = x509::encode_name(&info.subject);
        let mut r = der::Reader::new(&name);
        let content = r.read(der::tag::SEQUENCE, "name").expect("our own Name encoding");
        let again = x509::parse_name(content).expect("our own Name parses");
        assert_eq!(again, info.subject);
        let alt =
            x509::parse_alt_names(&x509::encode_alt_names(&info.alt_names)).expect("our own SANs parse");
        assert_eq!(alt, info.alt_names);
    }
    let _ = csr::parse(data);
    let _ = x509::parse_alt_names(data);
    let _ = csr::p256_point(data);
    let mut walker = der::Reader::new(data);
    while let Ok(tlv) = walker.read_any("any") {
        let _ = der::parse_oid(tlv.content, "oid");
        let _ = der::parse_time(&tlv, "time");
        let _ = der::parse_string(&tlv, "string");
        let _ = der::parse_named_bits(tlv.content, "bits");
        let _ = der::parse_small_uint(tlv.content, "int");
    }
    let _ = KeyPair::from_pem(data, "fuzz");
    let _ = pem::certificates(data, "fuzz");
    let _ = rkubelet::pki::leaf_of_pem(data, "fuzz");
    // SEC1 keys go through our DER reader before ring sees them.
    let _ = KeyPair::from_pem(pem::encode("EC PRIVATE KEY", data).as_bytes(), "fuzz");
});
