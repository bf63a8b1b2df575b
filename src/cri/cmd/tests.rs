//! The subcommands against a fake runtime: what they ask, what they print, how they fail.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::args::{Command, Invocation, Output};
use super::commands::{Sinks, run};
use super::*;
use crate::cri::*;
use crate::grpc::{Code, Status, Unary};
use crate::proto::Message;

/// Answers by method name; records the paths and requests it was given.
#[derive(Default)]
struct FakeRuntime {
    replies: BTreeMap<&'static str, Result<Vec<u8>, Status>>,
    calls: Mutex<Vec<(String, Vec<u8>)>>,
}

impl FakeRuntime {
    fn answer<M: Message>(mut self, method: &'static str, m: M) -> Self {
        self.replies.insert(method, Ok(m.encode_to_vec()));
        self
    }

    fn fail(mut self, method: &'static str, code: Code) -> Self {
        self.replies.insert(method, Err(Status::new(code, format!("{method} says no"))));
        self
    }

    fn methods(&self) -> Vec<String> {
        let calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        calls.iter().map(|(p, _)| p.rsplit('/').next().unwrap_or("").to_string()).collect()
    }
}

impl Unary for FakeRuntime {
    fn unary(&self, path: &str, request: &[u8], _: Option<Duration>) -> Result<Vec<u8>, Status> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner()).push((path.to_string(), request.to_vec()));
        let method = path.rsplit('/').next().unwrap_or("");
        self.replies.get(method).cloned().unwrap_or_else(|| Err(Status::new(Code::Unimplemented, method)))
    }
}

fn invocation(command: Command, output: Output, all: bool) -> Invocation {
    Invocation { endpoint: "unix:///fake.sock".into(), timeout: Duration::from_secs(3), output, all, command }
}

/// Runs a command: (result, stdout, stderr).
fn exec(rt: &Arc<FakeRuntime>, inv: &Invocation) -> (Result<i32, CmdError>, String, String) {
    let client = Client::new(rt.clone());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let result = run(inv, &client, &mut Sinks { out: &mut out, err: &mut err });
    (result, String::from_utf8_lossy(&out).into_owned(), String::from_utf8_lossy(&err).into_owned())
}

fn sandbox(id: &str, name: &str, created_at: i64) -> PodSandbox {
    PodSandbox {
        id: id.into(),
        metadata: Some(PodSandboxMetadata {
            name: name.into(),
            uid: "u".into(),
            namespace: "ns".into(),
            attempt: 1,
        }),
        state: PodSandboxState::READY,
        created_at,
        ..Default::default()
    }
}

fn two_pods() -> Arc<FakeRuntime> {
    let list = ListPodSandboxResponse {
        items: vec![sandbox("0123456789abcdef-old", "old", 1), sandbox("fedcba9876543210-new", "new", 2)],
    };
    Arc::new(FakeRuntime::default().answer("ListPodSandbox", list))
}

#[test]
fn pods_table_newest_first() {
    let (result, out, _) = exec(&two_pods(), &invocation(Command::Pods, Output::Table, false));
    assert_eq!(result.ok(), Some(0));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("POD ID") && lines[0].contains("NAMESPACE") && lines[0].ends_with("ATTEMPT")
    );
    assert!(lines[1].starts_with("fedcba9876543 ") && lines[1].contains("Ready") && lines[1].contains("new"));
    assert!(lines[2].starts_with("0123456789abc ") && lines[2].contains(" old "));
    assert!(lines[2].contains("years ago"), "{out}");
}

#[test]
fn pods_json_is_an_item_list() {
    let (result, out, _) = exec(&two_pods(), &invocation(Command::Pods, Output::Json, false));
    assert_eq!(result.ok(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
    assert_eq!(v["items"][0]["metadata"]["name"], "new");
    assert_eq!(v["items"][1]["state"], "SANDBOX_READY");
    assert_eq!(v["items"][1]["createdAt"], 1);
}

#[test]
fn ps_asks_for_running_containers_unless_all() {
    let rt = Arc::new(FakeRuntime::default().answer("ListContainers", ListContainersResponse::default()));
    let (result, out, _) = exec(&rt, &invocation(Command::Ps, Output::Table, false));
    assert_eq!(result.ok(), Some(0));
    assert!(out.starts_with("CONTAINER") && out.trim_end().ends_with("POD ID"), "{out}");
    let (_, out_all, _) = exec(&rt, &invocation(Command::Ps, Output::Json, true));
    assert_eq!(out_all.trim(), "{\n  \"items\": []\n}");
    let calls = rt.calls.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let running = ListContainersRequest::decode(&calls[0].1).unwrap_or_default();
    assert_eq!(running.filter.and_then(|f| f.state).map(|s| s.state), Some(ContainerState::RUNNING));
    let all = ListContainersRequest::decode(&calls[1].1).unwrap_or_default();
    assert_eq!(all.filter, None);
}

#[test]
fn images_one_row_per_tag() {
    let image = Image {
        id: "sha256:e6544f8217dcb5bc092ada62d302436cf7ade12b7d864d6d42b88793026a560c".into(),
        repo_tags: vec!["docker.io/library/busybox:1.35".into(), "localhost:5000/bb:x".into()],
        size: 1_234_567,
        ..Default::default()
    };
    let rt =
        Arc::new(FakeRuntime::default().answer("ListImages", ListImagesResponse { images: vec![image] }));
    let (_, out, _) = exec(&rt, &invocation(Command::Images, Output::Table, false));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let cells: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(cells, ["docker.io/library/busybox", "1.35", "e6544f8217dcb", "1.23MB"]);
    assert!(lines[2].starts_with("localhost:5000/bb "));
}

#[test]
fn version_table() {
    let v = VersionResponse {
        version: "0.1.0".into(),
        runtime_name: "containerd".into(),
        runtime_version: "1.6.20".into(),
        runtime_api_version: "v1".into(),
    };
    let rt = Arc::new(FakeRuntime::default().answer("Version", v));
    let (_, out, _) = exec(&rt, &invocation(Command::Version, Output::Table, false));
    assert_eq!(
        out,
        "Version:  0.1.0\nRuntimeName:  containerd\nRuntimeVersion:  1.6.20\nRuntimeApiVersion:  v1\n"
    );
}

#[test]
fn exec_prints_both_streams_and_returns_the_exit_code() {
    let reply = ExecSyncResponse { stdout: b"out\n".to_vec(), stderr: b"err\n".to_vec(), exit_code: 3 };
    let rt = Arc::new(FakeRuntime::default().answer("ExecSync", reply));
    let cmd = Command::Exec { id: "c1".into(), cmd: vec!["sh".into(), "-c".into(), "exit 3".into()] };
    let (result, out, err) = exec(&rt, &invocation(cmd, Output::Table, false));
    assert_eq!((result.ok(), out.as_str(), err.as_str()), (Some(3), "out\n", "err\n"));
    let calls = rt.calls.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let req = ExecSyncRequest::decode(&calls[0].1).unwrap_or_default();
    assert_eq!((req.container_id.as_str(), req.cmd.len(), req.timeout), ("c1", 3, 3));
}

#[test]
fn rmp_all_stops_and_removes_each_and_reports_failures() {
    let rt = FakeRuntime::default()
        .answer(
            "ListPodSandbox",
            ListPodSandboxResponse { items: vec![sandbox("a", "a", 1), sandbox("b", "b", 2)] },
        )
        .answer("StopPodSandbox", StopPodSandboxResponse {})
        .answer("RemovePodSandbox", RemovePodSandboxResponse {});
    let rt = Arc::new(rt);
    let (result, out, _) = exec(&rt, &invocation(Command::Rmp(vec![]), Output::Table, true));
    assert_eq!(result.ok(), Some(0));
    assert_eq!(out, "Removed sandbox a\nRemoved sandbox b\n");
    assert_eq!(
        rt.methods(),
        ["ListPodSandbox", "StopPodSandbox", "RemovePodSandbox", "StopPodSandbox", "RemovePodSandbox"]
    );

    let broken = Arc::new(FakeRuntime::default().fail("StopPodSandbox", Code::NotFound));
    let (result, out, err) =
        exec(&broken, &invocation(Command::Stopp(vec!["x".into(), "y".into()]), Output::Table, false));
    assert!(matches!(result, Err(CmdError::Partial { failed: 2, total: 2 })), "{result:?}");
    assert_eq!(out, "");
    assert!(err.contains("sandbox x: CRI StopPodSandbox: ") && err.contains("sandbox y"), "{err}");
}

#[test]
fn errors_name_the_call_and_the_endpoint() {
    let rt = Arc::new(FakeRuntime::default().fail("ContainerStatus", Code::NotFound));
    let (result, _, _) = exec(&rt, &invocation(Command::Inspect("nope".into()), Output::Json, false));
    let e = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.starts_with("CRI ContainerStatus: ") && e.contains("ContainerStatus says no"), "{e}");

    let down = with_endpoint(
        CmdError::Call(CriError::Rpc {
            method: "Version",
            status: Status::new(Code::Unavailable, "refused"),
        }),
        "unix:///x.sock",
    );
    assert!(down.to_string().contains("unix:///x.sock is not reachable"), "{down}");
}

#[test]
fn bad_command_lines_and_endpoints_fail_before_any_call() {
    let mut sinks_out = Vec::new();
    let mut sinks_err = Vec::new();
    let mut io = Sinks { out: &mut sinks_out, err: &mut sinks_err };
    let r = super::run(&["frob".to_string()], None, &mut io);
    assert!(matches!(r, Err(CmdError::Usage(_))), "{r:?}");
    let r = super::run(
        &["--container-runtime-endpoint=tcp://1.2.3.4:5".to_string(), "pods".to_string()],
        None,
        &mut io,
    );
    let e = r.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("tcp://1.2.3.4:5") && e.contains("unix:///path"), "{e}");
    let r = super::run(&["--help".to_string()], None, &mut io);
    assert_eq!(r.ok(), Some(0));
    assert!(String::from_utf8_lossy(&sinks_out).contains("Usage: rkubelet cri"));
}
