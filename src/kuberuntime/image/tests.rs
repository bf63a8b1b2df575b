//! The image manager against the in-memory runtime: policies, pulls, backoff, events.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::*;
use crate::cri::AuthConfig;
use crate::grpc::Code;
use crate::kuberuntime::backoff::FakeClock;
use crate::kuberuntime::fake_runtime::FakeRuntime;
use crate::kuberuntime::harness::Events;
use crate::proto::Message;

struct Setup {
    fake: Arc<FakeRuntime>,
    events: Arc<Events>,
    clock: Arc<FakeClock>,
    images: ImageManager,
    pod: Pod,
}

fn setup(serialize: bool) -> Setup {
    let fake = FakeRuntime::new();
    let events = Arc::new(Events::default());
    let clock = Arc::new(FakeClock::new(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)));
    let cfg = ImageConfig {
        serialize_image_pulls: serialize,
        max_parallel_image_pulls: Some(2),
        ..Default::default()
    };
    let images =
        ImageManager::new(fake.client(), events.clone(), &cfg, clock.clone()).expect("puller starts");
    let mut pod = Pod::default();
    pod.metadata.uid = Some("uid-1".into());
    Setup { fake, events, clock, images, pod }
}

fn container(image: &str, policy: Option<&str>) -> Container {
    Container {
        name: "app".into(),
        image: Some(image.into()),
        image_pull_policy: policy.map(str::to_string),
        ..Default::default()
    }
}

fn ensure(s: &Setup, c: &Container, creds: &[AuthConfig]) -> Result<String, ImageFailure> {
    s.images.ensure_image_exists(&EnsureImage {
        pod: &s.pod,
        container: c,
        field_path: "spec.containers{app}",
        credentials: creds,
        sandbox_config: None,
    })
}

fn reasons(events: &[(String, String)]) -> Vec<&str> {
    events.iter().map(|(r, _)| r.as_str()).collect()
}

#[test]
fn present_image_is_not_pulled() {
    let s = setup(true);
    s.fake.add_image("busybox:1.35");
    let got = ensure(&s, &container("busybox:1.35", Some("IfNotPresent")), &[]);
    assert_eq!(got, Ok("sha256:busybox:1.35-id".into()));
    let ev = s.events.take();
    assert_eq!(
        ev,
        vec![(
            "Pulled".into(),
            "Container image \"busybox:1.35\" already present on machine and can be accessed by the pod"
                .into()
        )]
    );
    assert_eq!(s.fake.count("PullImage"), 0);
}

#[test]
fn never_policy_with_an_absent_image() {
    let s = setup(true);
    let got = ensure(&s, &container("busybox:1.35", Some("Never")), &[]).expect_err("absent");
    assert_eq!(got.failure, StartFailure::ErrImageNeverPull);
    assert_eq!(got.message, "Container image \"busybox:1.35\" is not present with pull policy of Never");
    assert_eq!(reasons(&s.events.take()), vec!["ErrImageNeverPull"]);
}

#[test]
fn invalid_name() {
    let s = setup(true);
    let got = ensure(&s, &container("Bad Name", None), &[]).expect_err("invalid");
    assert_eq!(got.failure, StartFailure::InvalidImageName);
    assert!(
        got.message.starts_with("Failed to apply default image tag \"Bad Name\": couldn't parse image name"),
        "{}",
        got.message
    );
    assert_eq!(reasons(&s.events.take()), vec!["InspectFailed"]);
}

#[test]
fn always_pulls_with_latest_added_and_reports_the_pull() {
    for serialize in [true, false] {
        let s = setup(serialize);
        s.fake.add_image("busybox:latest");
        s.fake.lock().registry.insert("busybox:latest".into(), "sha256:fresh".into());
        // No policy and no tag: the API default is Always.
        let got = ensure(&s, &container("busybox", None), &[]);
        assert_eq!(got, Ok("sha256:fresh".into()));
        let ev = s.events.take();
        assert_eq!(reasons(&ev), vec!["Pulling", "Pulled"]);
        assert_eq!(ev[0].1, "Pulling image \"busybox\"");
        assert!(ev[1].1.starts_with("Successfully pulled image \"busybox\" in "), "{}", ev[1].1);
        assert!(ev[1].1.ends_with("including waiting). Image size: 1234 bytes."), "{}", ev[1].1);
        assert_eq!(s.fake.count("ImageStatus"), 1, "only the size is asked");
    }
}

#[test]
fn failed_pulls_back_off_per_pod_and_image() {
    let s = setup(true);
    let c = container("registry:5000/app:v1", Some("IfNotPresent"));
    let first = ensure(&s, &c, &[]).expect_err("not in the registry");
    assert_eq!(
        (first.failure, first.retry_after),
        (StartFailure::ErrImagePull, Some(Duration::from_secs(10)))
    );
    assert_eq!(
        first.message,
        "rpc error: code = NotFound desc = failed to resolve reference \"registry:5000/app:v1\": not found"
    );
    assert_eq!(reasons(&s.events.take()), vec!["Pulling", "Failed"]);

    let second = ensure(&s, &c, &[]).expect_err("backing off");
    assert_eq!(second.failure, StartFailure::ImagePullBackOff);
    assert_eq!(
        second.message,
        format!("Back-off pulling image \"registry:5000/app:v1\": ErrImagePull: {}", first.message)
    );
    assert_eq!(second.retry_after, Some(Duration::from_secs(10)));
    assert_eq!(
        s.events.take(),
        vec![("BackOff".into(), "Back-off pulling image \"registry:5000/app:v1\"".into())]
    );
    assert_eq!(s.fake.count("PullImage"), 1);

    // Another pod is not held back by this one's failures.
    let mut other = Setup { pod: s.pod.clone(), ..setup(true) };
    other.pod.metadata.uid = Some("uid-2".into());
    assert_eq!(ensure(&other, &c, &[]).map_err(|e| e.failure), Err(StartFailure::ErrImagePull));

    s.clock.advance(Duration::from_secs(10));
    s.fake.lock().registry.insert("registry:5000/app:v1".into(), "sha256:app".into());
    assert_eq!(ensure(&s, &c, &[]), Ok("sha256:app".into()));
}

#[test]
fn credentials_for_the_registry_are_tried_in_turn() {
    let s = setup(false);
    s.fake.fail("PullImage", Code::Unknown, "unauthorized");
    let creds = vec![
        AuthConfig { username: "a".into(), server_address: "registry:5000".into(), ..Default::default() },
        AuthConfig { username: "b".into(), server_address: "registry:5000".into(), ..Default::default() },
        AuthConfig { username: "elsewhere".into(), server_address: "quay.io".into(), ..Default::default() },
    ];
    let e = ensure(&s, &container("registry:5000/app:v1", Some("Always")), &creds).expect_err("unauthorized");
    assert_eq!(
        e.message,
        "[rpc error: code = Unknown desc = unauthorized, rpc error: code = Unknown desc = unauthorized]"
    );
    let users: Vec<String> = s
        .fake
        .lock()
        .calls
        .iter()
        .filter(|(m, _)| m == "PullImage")
        .map(|(_, bytes)| cri::PullImageRequest::decode(bytes).expect("request").auth.unwrap_or_default())
        .map(|a| {
            assert!(a.server_address.is_empty());
            a.username
        })
        .collect();
    assert_eq!(users, vec!["a", "b"]);
}

#[test]
fn default_pull_policy_follows_the_tag() {
    assert_eq!(pull_policy(&container("busybox", None)), "Always");
    assert_eq!(pull_policy(&container("busybox:latest", None)), "Always");
    assert_eq!(pull_policy(&container("busybox:1.35", None)), "IfNotPresent");
    assert_eq!(pull_policy(&container("busybox:1.35", Some("Never"))), "Never");
}
