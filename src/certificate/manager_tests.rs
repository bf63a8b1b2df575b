use std::time::UNIX_EPOCH;

use super::*;
use crate::kubeclient::{ClientOptions, RestConfig};
use crate::pki::csr::node_subject;
use crate::pki::testutil::temp_dir;
use crate::pki::x509::Name;

fn cert(not_before: i64, not_after: i64, cn: &str, alt_names: AltNames) -> CertInfo {
    CertInfo {
        serial: vec![1],
        issuer: Name::default(),
        subject: node_subject(cn),
        not_before,
        not_after,
        spki: Vec::new(),
        alt_names,
        is_ca: false,
        key_usage: Vec::new(),
        ext_key_usage: Vec::new(),
    }
}

fn at(unix: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix)
}

#[test]
fn deadline_is_70_to_90_percent_of_the_lifetime() {
    assert_eq!(rotation_deadline(1000, 2000, 0.0), at(1700));
    assert_eq!(rotation_deadline(1000, 2000, 0.5), at(1800));
    assert_eq!(rotation_deadline(1000, 2000, 1.0), at(1900));
    // One year: between day 255.5 and day 328.5.
    let year = 365 * 86_400;
    let early = rotation_deadline(0, year, 0.0).duration_since(UNIX_EPOCH).expect("after epoch").as_secs();
    assert_eq!(early, (year as u64) * 7 / 10);
    // A certificate whose notAfter is before notBefore rotates at notBefore.
    assert_eq!(rotation_deadline(1000, 500, 0.5), at(1000));
}

#[test]
fn next_rotation_follows_the_template_and_an_injected_clock() {
    let now = at(1500);
    let client = CsrTemplate { subject: node_subject("n1"), alt_names: AltNames::default() };
    assert_eq!(next_rotation(None, &client, now, 0.5), now, "no certificate: now");
    assert_eq!(
        next_rotation(Some(&cert(1000, 2000, "n1", AltNames::default())), &client, now, 0.5),
        at(1800)
    );
    assert_eq!(
        next_rotation(Some(&cert(1000, 2000, "n2", AltNames::default())), &client, now, 0.5),
        now,
        "other CN"
    );

    let ip = "192.0.2.5".parse().expect("ip");
    let serving = CsrTemplate {
        subject: node_subject("n1"),
        alt_names: AltNames { dns_names: vec!["n1".into()], ips: vec![ip] },
    };
    let covering = AltNames { dns_names: vec!["n1".into(), "extra".into()], ips: vec![ip] };
    assert_eq!(next_rotation(Some(&cert(1000, 2000, "n1", covering)), &serving, now, 0.0), at(1700));
    let missing_ip = AltNames { dns_names: vec!["n1".into()], ips: Vec::new() };
    assert_eq!(next_rotation(Some(&cert(1000, 2000, "n1", missing_ip)), &serving, now, 0.0), now);
    // An expired certificate's deadline is long past: rotate at once.
    assert!(next_rotation(Some(&cert(0, 1000, "n1", AltNames::default())), &client, now, 1.0) < now);
}

#[test]
fn retries_back_off_to_32_seconds() {
    let delays: Vec<u64> = (1..=7).map(|f| retry_delay(f).as_secs()).collect();
    assert_eq!(delays, vec![2, 4, 8, 16, 32, 32, 32]);
    assert_eq!(retry_delay(u32::MAX).as_secs(), 32);
}

fn unreachable_client() -> Client {
    let mut rest = RestConfig::new("https://127.0.0.1:1");
    rest.insecure_skip_tls_verify = true;
    let options = ClientOptions { timeout: Duration::from_secs(2), ..ClientOptions::default() };
    Client::new(&rest, options).expect("client")
}

#[test]
fn the_thread_answers_rotate_now_with_the_failing_step_and_stops() {
    let dir = temp_dir("manager");
    let cfg = ManagerConfig {
        kind: CertKind::Client,
        cert_dir: dir.clone(),
        node_name: "n1".into(),
        fallback: None,
        alt_names: AltNames::default(),
        wait: Duration::from_secs(1),
    };
    let handle = spawn(cfg, unreachable_client()).expect("spawn");
    assert_eq!(
        handle.current_path(),
        std::path::absolute(dir.join("kubelet-client-current.pem")).expect("abs")
    );
    let e = handle.rotate_now().expect_err("no API server");
    assert!(e.to_string().starts_with("creating the certificate signing request"), "{e}");
    handle.stop();
}

#[test]
fn a_serving_manager_without_addresses_makes_no_request() {
    let dir = temp_dir("manager-serving");
    let cfg = ManagerConfig {
        kind: CertKind::Serving,
        cert_dir: dir,
        node_name: "n1".into(),
        fallback: None,
        alt_names: AltNames::default(),
        wait: Duration::from_secs(1),
    };
    let handle = spawn(cfg, unreachable_client()).expect("spawn");
    let e = handle.rotate_now().expect_err("no SANs");
    assert!(e.to_string().contains("no addresses"), "{e}");
    assert!(handle.current().expect("current").is_none());
    handle.stop();
}
