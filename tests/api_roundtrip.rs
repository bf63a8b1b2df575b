//! Every upstream fixture object (one of each kind, every field set) decodes into our types
//! and encodes back to exactly the same JSON: proof that no field is lost or misnamed. The
//! YAML twin of each fixture decodes to the same object.
//!
//! The fixtures are kubernetes/api's testdata (Apache-2.0), kept as data in
//! `tests/fixtures/k8s-api/`; `RKUBELET_K8S_TESTDATA` points elsewhere if wanted.

use std::fmt::Debug;
use std::path::PathBuf;

use rkubelet::api::{
    self, authentication, authorization, certificates, coordination, core, events,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn testdata() -> Option<PathBuf> {
    let dir = std::env::var_os("RKUBELET_K8S_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/k8s-api")));
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "SKIPPED: fixture directory {} not found (set RKUBELET_K8S_TESTDATA)",
            dir.display()
        );
        None
    }
}

/// Paths where two JSON values differ, for a readable failure.
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => diff(&format!("{path}.{k}"), v, w, out),
                    None => out.push(format!("{path}.{k}: lost")),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{path}.{k}: added"));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), v, w, out);
            }
        }
        _ if a != b => out.push(format!("{path}: {a} became {b}")),
        _ => {}
    }
}

fn assert_same(what: &str, original: &Value, encoded: &Value) {
    let mut differences = Vec::new();
    diff("", original, encoded, &mut differences);
    assert!(
        differences.is_empty(),
        "{what} does not round-trip:\n{}",
        differences.join("\n")
    );
}

fn round_trip<T: DeserializeOwned + Serialize + PartialEq + Debug>(fixture: &str) {
    let Some(dir) = testdata() else { return };
    let json_path = dir.join(format!("{fixture}.json"));
    let json = std::fs::read(&json_path).unwrap_or_else(|e| panic!("{}: {e}", json_path.display()));
    let original: Value =
        serde_json::from_slice(&json).unwrap_or_else(|e| panic!("{fixture}: {e}"));

    let typed: T = api::decode(&json, fixture).unwrap_or_else(|e| panic!("{e}"));
    let encoded = serde_json::to_value(&typed).unwrap_or_else(|e| panic!("{fixture}: encode: {e}"));
    assert_same(&format!("{fixture}.json"), &original, &encoded);

    let yaml_path = dir.join(format!("{fixture}.yaml"));
    let yaml = std::fs::read(&yaml_path).unwrap_or_else(|e| panic!("{}: {e}", yaml_path.display()));
    let from_yaml: T = api::decode(&yaml, fixture).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        from_yaml, typed,
        "{fixture}.yaml decodes differently from the JSON"
    );
    let untyped = api::decode_value(&yaml, fixture).unwrap_or_else(|e| panic!("{e}"));
    assert_same(&format!("{fixture}.yaml as a value"), &original, &untyped);
}

/// One test per fixture, and the list of fixtures covered.
macro_rules! round_trip_tests {
    ($($test:ident: $ty:ty = $fixture:literal,)*) => {
        $(
            #[test]
            fn $test() {
                round_trip::<$ty>($fixture);
            }
        )*
        const COVERED: &[&str] = &[$($fixture),*];
    };
}

round_trip_tests! {
    pod: core::Pod = "core.v1.Pod",
    node: core::Node = "core.v1.Node",
    config_map: core::ConfigMap = "core.v1.ConfigMap",
    secret: core::Secret = "core.v1.Secret",
    core_event: core::Event = "core.v1.Event",
    binding: core::Binding = "core.v1.Binding",
    lease: coordination::Lease = "coordination.k8s.io.v1.Lease",
    certificate_signing_request: certificates::CertificateSigningRequest =
        "certificates.k8s.io.v1.CertificateSigningRequest",
    token_request: authentication::TokenRequest = "authentication.k8s.io.v1.TokenRequest",
    token_review: authentication::TokenReview = "authentication.k8s.io.v1.TokenReview",
    subject_access_review: authorization::SubjectAccessReview =
        "authorization.k8s.io.v1.SubjectAccessReview",
}

#[test]
fn every_fixture_is_covered() {
    let Some(dir) = testdata() else { return };
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".json") {
            assert!(
                COVERED.contains(&stem),
                "fixture {name} has no round-trip test"
            );
        }
    }
}

/// events.k8s.io/v1 has no fixture; check it against the core one's shape by hand.
#[test]
fn events_v1_event_round_trips() {
    let text = r#"{"apiVersion":"events.k8s.io/v1","kind":"Event",
        "metadata":{"name":"web.17a","namespace":"default"},
        "eventTime":"2024-05-01T10:00:00.123456Z",
        "series":{"count":3,"lastObservedTime":"2024-05-01T10:05:00.000001Z"},
        "reportingController":"kubelet","reportingInstance":"node-1","action":"Pulling",
        "reason":"Pulling","regarding":{"kind":"Pod","name":"web","namespace":"default","uid":"u1",
        "fieldPath":"spec.containers{web}"},"related":{"kind":"Node","name":"node-1"},
        "note":"Pulling image \"nginx\"","type":"Normal",
        "deprecatedSource":{"component":"kubelet","host":"node-1"},
        "deprecatedFirstTimestamp":"2024-05-01T10:00:00Z","deprecatedLastTimestamp":"2024-05-01T10:05:00Z",
        "deprecatedCount":3}"#;
    let original: Value = serde_json::from_str(text).unwrap_or_default();
    let event: events::Event =
        api::decode(text.as_bytes(), "event").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(event.series.as_ref().map(|s| s.count), Some(3));
    let encoded = serde_json::to_value(&event).unwrap_or_default();
    assert_same("events.k8s.io/v1 Event", &original, &encoded);
}
