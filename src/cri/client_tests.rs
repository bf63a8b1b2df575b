//! The client against a fake transport: paths, request and response bytes, deadlines, errors.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::grpc::{Code, Status, Unary};
use crate::proto::{DecodeErrorKind, Message};

type Reply = Box<dyn Fn(&str, &[u8]) -> Result<Vec<u8>, Status> + Send + Sync>;
/// What the transport was given: path, request bytes, timeout.
type Call = (String, Vec<u8>, Option<Duration>);

struct Fake {
    calls: Mutex<Vec<Call>>,
    reply: Reply,
}

impl Unary for Fake {
    fn unary(&self, path: &str, request: &[u8], timeout: Option<Duration>) -> Result<Vec<u8>, Status> {
        self.calls.lock().expect("lock").push((path.to_string(), request.to_vec(), timeout));
        (self.reply)(path, request)
    }
}

impl Fake {
    fn last(&self) -> Call {
        self.calls.lock().expect("lock").last().cloned().expect("a call was made")
    }
}

fn fake(reply: impl Fn(&str, &[u8]) -> Result<Vec<u8>, Status> + Send + Sync + 'static) -> (Client, Arc<Fake>) {
    let fake = Arc::new(Fake { calls: Mutex::new(Vec::new()), reply: Box::new(reply) });
    (Client::new(fake.clone()), fake)
}

fn answering<M: Message>(response: M) -> (Client, Arc<Fake>) {
    let bytes = response.encode_to_vec();
    fake(move |_, _| Ok(bytes.clone()))
}

fn failing(code: Code, message: &str) -> (Client, Arc<Fake>) {
    let status = Status::new(code, message);
    fake(move |_, _| Err(status.clone()))
}

#[test]
fn every_rpc_uses_its_method_path() {
    let (c, fake) = failing(Code::Unimplemented, "no");
    let calls: Vec<(&str, Option<CriError>)> = vec![
        ("RuntimeService/Version", c.version(&Default::default()).err()),
        ("RuntimeService/Status", c.status(&Default::default()).err()),
        ("RuntimeService/UpdateRuntimeConfig", c.update_runtime_config(&Default::default()).err()),
        ("RuntimeService/RuntimeConfig", c.runtime_config(&Default::default()).err()),
        ("RuntimeService/RunPodSandbox", c.run_pod_sandbox(&Default::default()).err()),
        ("RuntimeService/StopPodSandbox", c.stop_pod_sandbox(&Default::default()).err()),
        ("RuntimeService/RemovePodSandbox", c.remove_pod_sandbox(&Default::default()).err()),
        ("RuntimeService/PodSandboxStatus", c.pod_sandbox_status(&Default::default()).err()),
        ("RuntimeService/ListPodSandbox", c.list_pod_sandbox(&Default::default()).err()),
        ("RuntimeService/UpdatePodSandboxResources", c.update_pod_sandbox_resources(&Default::default()).err()),
        ("RuntimeService/CreateContainer", c.create_container(&Default::default()).err()),
        ("RuntimeService/StartContainer", c.start_container(&Default::default()).err()),
        ("RuntimeService/StopContainer", c.stop_container(&Default::default()).err()),
        ("RuntimeService/RemoveContainer", c.remove_container(&Default::default()).err()),
        ("RuntimeService/ListContainers", c.list_containers(&Default::default()).err()),
        ("RuntimeService/ContainerStatus", c.container_status(&Default::default()).err()),
        ("RuntimeService/UpdateContainerResources", c.update_container_resources(&Default::default()).err()),
        ("RuntimeService/ReopenContainerLog", c.reopen_container_log(&Default::default()).err()),
        ("RuntimeService/ExecSync", c.exec_sync(&Default::default()).err()),
        ("RuntimeService/Exec", c.exec(&Default::default()).err()),
        ("RuntimeService/Attach", c.attach(&Default::default()).err()),
        ("RuntimeService/PortForward", c.port_forward(&Default::default()).err()),
        ("RuntimeService/ContainerStats", c.container_stats(&Default::default()).err()),
        ("RuntimeService/ListContainerStats", c.list_container_stats(&Default::default()).err()),
        ("RuntimeService/PodSandboxStats", c.pod_sandbox_stats(&Default::default()).err()),
        ("RuntimeService/ListPodSandboxStats", c.list_pod_sandbox_stats(&Default::default()).err()),
        ("ImageService/ListImages", c.list_images(&Default::default()).err()),
        ("ImageService/ImageStatus", c.image_status(&Default::default()).err()),
        ("ImageService/PullImage", c.pull_image(&Default::default()).err()),
        ("ImageService/RemoveImage", c.remove_image(&Default::default()).err()),
        ("ImageService/ImageFsInfo", c.image_fs_info(&Default::default()).err()),
    ];
    let paths: Vec<String> = fake.calls.lock().expect("lock").iter().map(|(p, _, _)| p.clone()).collect();
    assert_eq!(paths.len(), calls.len());
    assert_eq!(calls.len(), super::client::RPCS.len(), "a client method without a test line");
    for ((want, err), path) in calls.iter().zip(&paths) {
        assert_eq!(path, &format!("/runtime.v1.{want}"));
        let err = err.as_ref().expect("the fake fails every call");
        assert!(err.is_unimplemented());
        assert_eq!(Some(err.method()), want.split('/').nth(1));
    }
}

#[test]
fn requests_are_encoded_and_responses_decoded() {
    let response = VersionResponse {
        version: "0.1.0".into(),
        runtime_name: "containerd".into(),
        runtime_version: "1.6.20".into(),
        runtime_api_version: "v1".into(),
    };
    let (c, fake) = answering(response.clone());
    let got = c.version(&VersionRequest { version: "v1".into() }).expect("version");
    assert_eq!(got, response);
    assert_eq!(fake.last().1, [0x0a, 0x02, b'v', b'1']);

    let list = ListContainersResponse {
        containers: vec![Container {
            id: "c1".into(),
            state: ContainerState::RUNNING,
            metadata: Some(ContainerMetadata { name: "app".into(), attempt: 2 }),
            labels: [("io.kubernetes.pod.name".to_string(), "web".to_string())].into(),
            ..Default::default()
        }],
    };
    let (c, fake) = answering(list.clone());
    let filter = ContainerFilter { pod_sandbox_id: "p1".into(), ..Default::default() };
    let request = ListContainersRequest { filter: Some(filter) };
    assert_eq!(c.list_containers(&request), Ok(list));
    assert_eq!(ListContainersRequest::decode(&fake.last().1), Ok(request));
}

#[test]
fn status_errors_name_the_call() {
    let (c, _) = failing(Code::NotFound, "container \"abc\" not found");
    let err = c.container_status(&ContainerStatusRequest::default()).expect_err("not found");
    assert!(err.is_not_found() && !err.is_unavailable());
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(err.method(), "ContainerStatus");
    assert_eq!(err.status().map(|s| s.message.as_str()), Some("container \"abc\" not found"));
    assert_eq!(err.to_string(), "CRI ContainerStatus: rpc error: code = NotFound desc = container \"abc\" not found");

    let (c, _) = failing(Code::Unavailable, "connection refused");
    let err = c.list_pod_sandbox(&ListPodSandboxRequest::default()).expect_err("down");
    assert!(err.is_unavailable());
    let (c, _) = failing(Code::DeadlineExceeded, "too slow");
    assert!(c.image_fs_info(&ImageFsInfoRequest {}).expect_err("slow").is_deadline_exceeded());
}

#[test]
fn undecodable_responses_are_decode_errors() {
    let (c, _) = fake(|_, _| Ok(vec![0x0a, 0x05, b'x']));
    let err = c.list_containers(&ListContainersRequest::default()).expect_err("truncated");
    match &err {
        CriError::Decode { method, error } => {
            assert_eq!(*method, "ListContainers");
            assert_eq!(error.kind(), DecodeErrorKind::Truncated);
            assert_eq!(error.path(), "ListContainersResponse.containers");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert_eq!(err.code(), Code::Internal);
    assert!(err.status().is_none());
    assert_eq!(
        err.to_string(),
        "CRI ListContainers: undecodable response: protobuf: input ends inside a field at ListContainersResponse.containers"
    );
}

fn invalid_reason(err: CriError) -> String {
    match err {
        CriError::InvalidResponse { reason, .. } => reason,
        other => panic!("expected an invalid response, got {other:?}"),
    }
}

#[test]
fn responses_missing_what_callers_need_are_rejected() {
    let (c, _) = answering(RunPodSandboxResponse::default());
    let config = PodSandboxConfig {
        metadata: Some(PodSandboxMetadata { name: "web".into(), namespace: "default".into(), ..Default::default() }),
        ..Default::default()
    };
    let err = c.run_pod_sandbox(&RunPodSandboxRequest { config: Some(config), ..Default::default() });
    assert_eq!(invalid_reason(err.expect_err("no id")), "no sandbox id for pod default/web");

    let one_condition = StatusResponse {
        status: Some(RuntimeStatus { conditions: vec![RuntimeCondition::default()] }),
        ..Default::default()
    };
    let (c, _) = answering(one_condition);
    assert!(invalid_reason(c.status(&StatusRequest::default()).expect_err("1 condition")).contains("NetworkReady"));

    let status = ContainerStatus {
        id: "c1".into(),
        metadata: Some(ContainerMetadata { name: "app".into(), attempt: 0 }),
        created_at: 1,
        image: Some(ImageSpec { image: "busybox".into(), ..Default::default() }),
        ..Default::default()
    };
    let (c, _) = answering(ContainerStatusResponse { status: Some(status.clone()), info: Default::default() });
    let err = c.container_status(&ContainerStatusRequest::default()).expect_err("no image_ref");
    assert_eq!(invalid_reason(err), "ContainerStatus lacks image_ref");
    let complete = ContainerStatus { image_ref: "sha256:1".into(), ..status };
    let (c, _) = answering(ContainerStatusResponse { status: Some(complete), info: Default::default() });
    assert!(c.container_status(&ContainerStatusRequest::default()).is_ok());

    // Absent images and sandboxes are answers, not errors.
    let (c, _) = answering(ImageStatusResponse::default());
    assert_eq!(c.image_status(&ImageStatusRequest::default()), Ok(ImageStatusResponse::default()));
    let (c, _) = answering(ImageStatusResponse { image: Some(Image::default()), ..Default::default() });
    let spec = ImageSpec { image: "busybox".into(), ..Default::default() };
    let err = c.image_status(&ImageStatusRequest { image: Some(spec), verbose: false }).expect_err("no id");
    assert_eq!(invalid_reason(err), "id or size of image \"busybox\" is not set");

    let (c, _) = answering(PullImageResponse::default());
    assert!(matches!(c.pull_image(&PullImageRequest::default()), Err(CriError::InvalidResponse { .. })));
    let (c, _) = answering(ExecResponse::default());
    assert_eq!(invalid_reason(c.exec(&ExecRequest::default()).expect_err("no url")), "url is not set");
}

#[test]
fn deadlines_follow_upstream() {
    let (c, fake) = failing(Code::Unavailable, "down");
    let timeout_of = |call: &dyn Fn(&Client)| {
        call(&c);
        fake.last().2
    };
    let secs = |s| Some(Duration::from_secs(s));
    assert_eq!(timeout_of(&|c| drop(c.version(&VersionRequest::default()))), secs(120));
    assert_eq!(timeout_of(&|c| drop(c.pull_image(&PullImageRequest::default()))), None);
    assert_eq!(timeout_of(&|c| drop(c.run_pod_sandbox(&RunPodSandboxRequest::default()))), secs(240));
    let stop = StopContainerRequest { container_id: "c".into(), timeout: 30 };
    assert_eq!(timeout_of(&|c| drop(c.stop_container(&stop))), secs(150));
    let exec = |timeout| ExecSyncRequest { timeout, ..Default::default() };
    assert_eq!(timeout_of(&|c| drop(c.exec_sync(&exec(0)))), None);
    assert_eq!(timeout_of(&|c| drop(c.exec_sync(&exec(5)))), secs(125));

    let short = c.clone().with_request_timeout(Duration::from_secs(10));
    assert_eq!(short.request_timeout(), Duration::from_secs(10));
    assert_eq!(timeout_of(&|_| drop(short.list_images(&ListImagesRequest::default()))), secs(10));
    let five = c.with_call_timeout(secs(5));
    assert_eq!(timeout_of(&|_| drop(five.pull_image(&PullImageRequest::default()))), secs(5));
    let unbounded = c.with_call_timeout(None);
    assert_eq!(timeout_of(&|_| drop(unbounded.version(&VersionRequest::default()))), None);
    // The original handle keeps its defaults.
    assert_eq!(timeout_of(&|c| drop(c.version(&VersionRequest::default()))), secs(120));
}

#[test]
fn one_client_serves_many_threads() {
    let (c, fake) = answering(ListPodSandboxResponse::default());
    std::thread::scope(|s| {
        for _ in 0..8 {
            let c = c.clone();
            s.spawn(move || {
                for _ in 0..10 {
                    assert_eq!(c.list_pod_sandbox(&ListPodSandboxRequest::default()), Ok(Default::default()));
                }
            });
        }
    });
    assert_eq!(fake.calls.lock().expect("lock").len(), 80);
}
