use std::net::IpAddr;

use super::*;
use crate::pki::pem;

/// The test control plane's API server certificate: written by Go's crypto/x509, RSA key.
const GO_CERT: &str = include_str!("testdata/go-apiserver.pem");

fn go_cert_der() -> Vec<u8> {
    pem::certificates(GO_CERT.as_bytes(), "go-apiserver.pem").expect("PEM").remove(0)
}

#[test]
fn reads_a_certificate_written_by_go() {
    let info = parse_certificate(&go_cert_der()).expect("parses");
    assert_eq!(info.subject.common_name.as_deref(), Some("kube-apiserver"));
    assert_eq!(info.issuer.common_name.as_deref(), Some("kubernetes"));
    assert_eq!((info.not_before, info.not_after), (1_795_464_573, 1_827_004_173));
    assert_eq!(info.serial.first(), Some(&0x77));
    assert_eq!(info.serial.len(), 16);
    assert!(info.alt_names.dns_names.iter().any(|d| d == "kubernetes.default.svc.cluster.local"));
    assert!(info.alt_names.ips.contains(&"10.96.0.1".parse::<IpAddr>().expect("ip")));
    assert!(!info.is_ca);
    assert_eq!(info.key_usage, vec![0, 2]);
    assert_eq!(info.ext_key_usage, vec![ExtKeyUsage::ServerAuth]);
    assert!(info.is_expired_at(unix_to_system(1_827_004_174)));
    assert!(!info.is_expired_at(unix_to_system(1_827_004_173)));
}

#[test]
fn every_prefix_and_every_flipped_byte_is_an_error_or_a_value_never_a_panic() {
    let der_bytes = go_cert_der();
    for len in 0..der_bytes.len() {
        assert!(parse_certificate(&der_bytes[..len]).is_err(), "prefix of {len} bytes parsed");
    }
    for at in 0..der_bytes.len() {
        let mut mutated = der_bytes.clone();
        mutated[at] ^= 0xff;
        let _ = parse_certificate(&mutated);
    }
    let mut longer = der_bytes.clone();
    longer.push(0);
    assert_eq!(parse_certificate(&longer).expect_err("an error").problem, Problem::TrailingData);
}

#[test]
fn names_and_alt_names_round_trip() {
    let name = Name {
        common_name: Some("system:node:a".into()),
        organizations: vec!["system:nodes".into(), "x".into()],
    };
    let encoded = encode_name(&name);
    let mut again = Reader::new(&encoded);
    assert_eq!(parse_name(again.read(tag::SEQUENCE, "name").expect("name")).expect("parses"), name);
    let alt = AltNames {
        dns_names: vec!["a.example".into()],
        ips: vec!["192.0.2.1".parse().expect("v4"), "2001:db8::1".parse().expect("v6")],
    };
    assert_eq!(parse_alt_names(&encode_alt_names(&alt)).expect("parses"), alt);
    assert!(parse_alt_names(&der::sequence(&[der::implicit(7, &[1, 2, 3])])).is_err(), "3-byte IP");
}
