use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, UNIX_EPOCH};

use super::*;
use crate::certificate::testutil::TestCa;
use crate::pki::KeyPair;
use crate::pki::csr::node_subject;
use crate::pki::testutil::temp_dir;
use crate::pki::x509::AltNames;

const T1: u64 = 1_795_464_573; // 2026-11-23T20:09:33Z

fn pair(ca: &TestCa, node: &str) -> (String, KeyPair) {
    let key = KeyPair::generate().expect("key");
    (ca.issue(&key, node_subject(node), AltNames::default(), (0, 4_000_000_000)), key)
}

#[test]
fn file_names_carry_the_utc_time() {
    assert_eq!(file_time(UNIX_EPOCH + Duration::from_secs(T1)), "2026-11-23-20-09-33");
}

#[test]
fn updates_write_0600_files_and_swap_the_current_symlink() {
    let dir = temp_dir("store");
    let ca = TestCa::new();
    let store = FileStore::new("kubelet-client", &dir, None).expect("store");
    assert!(store.current().expect("current").is_none());

    let (cert1, key1) = pair(&ca, "n1");
    let t1 = UNIX_EPOCH + Duration::from_secs(T1);
    let first = store.update(cert1.as_bytes(), key1.to_pem().as_bytes(), t1).expect("first");
    assert_eq!(first, dir.join("kubelet-client-2026-11-23-20-09-33.pem"));
    assert_eq!(fs::metadata(&first).expect("file").permissions().mode() & 0o777, 0o600);
    let link = fs::read_link(store.current_path()).expect("symlink");
    assert!(link.is_absolute() && link == std::path::absolute(&first).expect("abs"), "{link:?}");
    let text = fs::read_to_string(&first).expect("read");
    assert!(text.starts_with("-----BEGIN CERTIFICATE-----") && text.contains("-----BEGIN PRIVATE KEY-----"));
    let current = store.current().expect("current").expect("some");
    assert_eq!(current.leaf.subject.common_name.as_deref(), Some("system:node:n1"));
    assert_eq!(current.cert, PemSource::File(store.current_path()));

    let (cert2, key2) = pair(&ca, "n1");
    let second =
        store.update(cert2.as_bytes(), key2.to_pem().as_bytes(), t1 + Duration::from_secs(60)).expect("2nd");
    assert_eq!(
        fs::read_link(store.current_path()).expect("symlink"),
        std::path::absolute(&second).expect("abs")
    );
    assert!(first.exists(), "the previous pair is kept, as upstream");
    assert_eq!(store.current().expect("current").expect("some").leaf.spki, key2.spki());
    assert!(!dir.join("kubelet-client-updated.pem").exists());
}

#[test]
fn a_certificate_for_another_key_is_refused() {
    let dir = temp_dir("store-mismatch");
    let ca = TestCa::new();
    let store = FileStore::new("kubelet-client", &dir, None).expect("store");
    let (cert, _) = pair(&ca, "n1");
    let other = KeyPair::generate().expect("key");
    let e =
        store.update(cert.as_bytes(), other.to_pem().as_bytes(), SystemTime::now()).expect_err("mismatch");
    assert!(matches!(e, CertError::BadCertificate { .. }), "{e}");
    assert!(!store.current_path().exists());
}

#[test]
fn fallback_serves_until_a_pair_is_stored_and_a_stray_updated_link_is_recovered() {
    let dir = temp_dir("store-fallback");
    let ca = TestCa::new();
    let (cert, key) = pair(&ca, "old");
    fs::write(dir.join("given.crt"), &cert).expect("write");
    fs::write(dir.join("given.key"), key.to_pem()).expect("write");
    let fallback = Some((PemSource::File(dir.join("given.crt")), PemSource::File(dir.join("given.key"))));
    let store = FileStore::new("kubelet-server", &dir, fallback).expect("store");
    let used = store.current().expect("current").expect("fallback");
    assert_eq!(used.cert, PemSource::File(dir.join("given.crt")));

    // A crash after the new symlink but before the rename: the next start finishes it.
    let (cert2, key2) = pair(&ca, "new");
    let stored = store.update(cert2.as_bytes(), key2.to_pem().as_bytes(), SystemTime::now()).expect("update");
    fs::rename(store.current_path(), dir.join("kubelet-server-updated.pem")).expect("simulate");
    let reopened = FileStore::new("kubelet-server", &dir, None).expect("recovers");
    assert_eq!(
        fs::read_link(reopened.current_path()).expect("link"),
        std::path::absolute(&stored).expect("abs")
    );
}

#[test]
fn a_regular_file_in_place_of_the_symlink_is_an_error() {
    let dir = temp_dir("store-file");
    let ca = TestCa::new();
    let (cert, key) = pair(&ca, "n1");
    fs::write(dir.join("kubelet-client-current.pem"), format!("{cert}{}", key.to_pem())).expect("write");
    let store = FileStore::new("kubelet-client", &dir, None).expect("store");
    assert!(store.current().expect("a regular file still reads").is_some());
    let e =
        store.update(cert.as_bytes(), key.to_pem().as_bytes(), SystemTime::now()).expect_err("not a symlink");
    assert!(matches!(e, CertError::Store { .. }), "{e}");
}
