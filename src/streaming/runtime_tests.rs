//! Request to runtime URL with a fake runtime, and `Handler::serve` end to end.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::sync::Mutex;
use std::time::Duration;

use super::proxy_tests::{Fake, client_pair, fake_runtime, head, spdy_head};
use super::*;
use crate::api::core::{Container, Pod};
use crate::cri::{AttachRequest, CriError, ExecRequest, PortForwardRequest};
use crate::grpc::{Code, Status};

#[derive(Default)]
struct FakeRuntime {
    pod: RuntimePod,
    url: String,
    fail: Option<Code>,
    calls: Mutex<Vec<String>>,
}

impl FakeRuntime {
    fn answer(&self, method: &'static str, call: String) -> Result<String, CriError> {
        self.calls.lock().unwrap().push(call);
        match self.fail {
            Some(code) => Err(CriError::Rpc { method, status: Status::new(code, "no luck") }),
            None => Ok(self.url.clone()),
        }
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

impl StreamingRuntime for FakeRuntime {
    fn runtime_pod(&self, uid: &str) -> Result<RuntimePod, CriError> {
        assert_eq!(uid, "uid-1");
        Ok(self.pod.clone())
    }
    fn exec(&self, r: &ExecRequest) -> Result<String, CriError> {
        let call = format!(
            "exec {} {:?} i{} o{} e{} t{}",
            r.container_id, r.cmd, r.stdin, r.stdout, r.stderr, r.tty
        );
        self.answer("Exec", call)
    }
    fn attach(&self, r: &AttachRequest) -> Result<String, CriError> {
        let call = format!("attach {} i{} o{} e{} t{}", r.container_id, r.stdin, r.stdout, r.stderr, r.tty);
        self.answer("Attach", call)
    }
    fn port_forward(&self, r: &PortForwardRequest) -> Result<String, CriError> {
        self.answer("PortForward", format!("portforward {} {:?}", r.pod_sandbox_id, r.port))
    }
}

fn running() -> FakeRuntime {
    FakeRuntime {
        pod: RuntimePod {
            running: vec![("app".into(), "c-app".into()), ("shell".into(), "c-shell".into())],
            sandboxes: vec![("s-new".into(), true), ("s-old".into(), false)],
        },
        url: "http://127.0.0.1:1/x".into(),
        ..Default::default()
    }
}

fn web() -> Pod {
    let mut pod = Pod::default();
    pod.metadata.name = Some("web".into());
    pod.metadata.namespace = Some("default".into());
    pod.metadata.uid = Some("uid-1".into());
    let shell = Container { name: "shell".into(), tty: Some(true), ..Default::default() };
    pod.spec.containers = vec![Container { name: "app".into(), ..Default::default() }, shell];
    pod
}

/// The URL, or (status, body) of the error.
fn url_for(
    target: &str,
    headers: &[(&str, &str)],
    pod: Option<&Pod>,
    rt: &FakeRuntime,
) -> Result<String, (u16, String)> {
    let head = head("POST", target, headers);
    let t = Target::parse(head.path()).unwrap();
    runtime_stream(&t, &head, pod, rt).map(|s| s.url).map_err(|e| (e.status(), e.to_string()))
}

const WS: [(&str, &str); 2] = [("Connection", "Upgrade"), ("Upgrade", "websocket")];

#[test]
fn exec_asks_the_runtime_for_the_running_container() {
    let rt = running();
    let url = url_for(
        "/exec/default/web/app?command=sh&command=-c&command=id&input=1&output=1&error=1",
        &[],
        Some(&web()),
        &rt,
    );
    assert_eq!(url.unwrap(), "http://127.0.0.1:1/x");
    assert_eq!(rt.calls(), [r#"exec c-app ["sh", "-c", "id"] itrue otrue etrue tfalse"#]);
    // The UID in the path does not matter to exec (upstream looks the pod up by name).
    url_for("/exec/default/web/other-uid/shell?output=1&tty=1&error=1", &[], Some(&web()), &rt).unwrap();
    assert_eq!(rt.calls()[1], "exec c-shell [] ifalse otrue efalse ttrue");
}

#[test]
fn exec_errors_are_upstreams() {
    let rt = running();
    let pod = Some(web());
    let err = |target: &str, pod: Option<&Pod>, rt: &FakeRuntime| url_for(target, &[], pod, rt).unwrap_err();
    // Options come first, even for an unknown pod.
    assert_eq!(err("/exec/default/gone/app?command=ls", None, &rt).0, 400);
    assert_eq!(err("/exec/default/gone/app?output=1", None, &rt), (404, "pod does not exist".into()));
    assert_eq!(
        err("/exec/default/web/nope?output=1", pod.as_ref(), &rt),
        (500, r#"container not found ("nope")"#.into())
    );
    let failing = |code| FakeRuntime { fail: Some(code), ..running() };
    assert_eq!(
        err("/exec/default/web/app?output=1", pod.as_ref(), &failing(Code::NotFound)),
        (404, "rpc error: code = NotFound desc = no luck".into())
    );
    assert_eq!(err("/exec/default/web/app?output=1", pod.as_ref(), &failing(Code::ResourceExhausted)).0, 429);
    assert_eq!(err("/exec/default/web/app?output=1", pod.as_ref(), &failing(Code::Unavailable)).0, 500);
    assert!(rt.calls().is_empty());
    let e = StreamError::Runtime(CriError::Rpc {
        method: "Exec",
        status: Status::new(Code::ResourceExhausted, "x"),
    });
    let response = String::from_utf8(e.response()).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 429 Too Many Requests\r\n")
            && response.contains("\r\nRetry-After: 60\r\n")
    );
}

#[test]
fn attach_takes_the_tty_from_the_spec() {
    let rt = running();
    let pod = Some(web());
    url_for("/attach/default/web/shell?input=1&output=1", &[], pod.as_ref(), &rt).unwrap();
    url_for("/attach/default/web/uid-1/app?output=1&tty=1", &[], pod.as_ref(), &rt).unwrap();
    assert_eq!(
        rt.calls(),
        ["attach c-shell itrue otrue efalse ttrue", "attach c-app ifalse otrue efalse tfalse"]
    );
    let err = |target: &str| url_for(target, &[], pod.as_ref(), &rt).unwrap_err();
    assert_eq!(err("/attach/default/web/uid-2/app?output=1"), (500, "pod web_default not found".into()));
    assert_eq!(
        err("/attach/default/web/nope?output=1"),
        (500, "container nope not found in pod web_default".into())
    );
    assert_eq!(
        err("/attach/default/web/app?"),
        (400, "you must specify at least 1 of stdin, stdout, stderr".into())
    );
    // Running but not in the spec (a container of an older pod with the same name).
    let stray = FakeRuntime {
        pod: RuntimePod { running: vec![("stray".into(), "c-stray".into())], ..Default::default() },
        ..running()
    };
    let e = url_for("/attach/default/web/stray?output=1", &[], pod.as_ref(), &stray).unwrap_err();
    assert_eq!(e, (500, "container stray not found in pod web_default".into()));
}

#[test]
fn port_forward_uses_the_newest_sandbox() {
    let rt = running();
    let pod = Some(web());
    url_for("/portForward/default/web?port=x", &[], pod.as_ref(), &rt).unwrap();
    url_for("/portForward/default/web/uid-1?port=80,8080", &WS, pod.as_ref(), &rt).unwrap();
    // kubectl's SPDY-in-WebSocket tunnel names its ports inside, as SPDY does.
    let tunnel = [WS[0], WS[1], ("Sec-WebSocket-Protocol", "SPDY/3.1+portforward.k8s.io")];
    url_for("/portForward/default/web", &tunnel, pod.as_ref(), &rt).unwrap();
    assert_eq!(rt.calls(), ["portforward s-new []", "portforward s-new [80, 8080]", "portforward s-new []"]);
    let err = |target: &str, rt: &FakeRuntime| url_for(target, &WS, pod.as_ref(), rt).unwrap_err();
    assert_eq!(err("/portForward/default/web", &rt), (400, "query parameter \"port\" is required".into()));
    assert_eq!(err("/portForward/default/web/uid-2?port=80", &rt), (404, "pod not found".into()));
    let idle = FakeRuntime {
        pod: RuntimePod { running: vec![], sandboxes: vec![("s".into(), false)] },
        ..running()
    };
    assert_eq!(
        err("/portForward/default/web?port=80", &idle),
        (500, "pod not found (\"web_default\")".into())
    );
    let odd = FakeRuntime {
        pod: RuntimePod { running: vec![("a".into(), "c".into())], sandboxes: vec![] },
        ..running()
    };
    assert_eq!(
        err("/portForward/default/web?port=80", &odd),
        (500, "failed to find sandboxID for pod web_default(uid-1)".into())
    );
    let e = url_for("/portForward/default/gone?port=80", &WS, None, &rt).unwrap_err();
    assert_eq!(e, (404, "pod does not exist".into()));
}

fn handler(rt: FakeRuntime) -> Handler<FakeRuntime> {
    Handler {
        runtime: rt,
        proxy: ProxyConfig { idle_timeout: None, handshake_timeout: Duration::from_secs(5) },
        translate_websockets: true,
    }
}

/// The pod for a path, as the server finds it.
fn lookup(head: &RequestHead) -> Option<Pod> {
    let t = Target::parse(head.path())?;
    (t.namespace == "default" && t.pod == "web").then(web)
}

#[test]
fn serve_proxies_a_session_end_to_end() {
    let (url, seen) = fake_runtime(Fake::Echo { early: "" });
    let h = handler(FakeRuntime { url, ..running() });
    let (mut api, mut kubelet) = client_pair();
    let mut head = spdy_head();
    head.target = "/exec/default/web/app?command=cat&input=1&output=1".into();
    let server = std::thread::spawn(move || {
        let status = h.serve(&head, lookup(&head).as_ref(), &mut kubelet).status();
        (status, h.runtime.calls())
    });
    api.write_all(b"ping").unwrap();
    api.shutdown(std::net::Shutdown::Write).unwrap();
    let mut got = String::new();
    api.read_to_string(&mut got).unwrap();
    assert!(
        got.starts_with("HTTP/1.1 101 Switching Protocols\r\n") && got.ends_with("\r\n\r\npingbye"),
        "{got}"
    );
    let (status, calls) = server.join().unwrap();
    assert_eq!(status, 101);
    assert_eq!(calls, [r#"exec c-app ["cat"] itrue otrue efalse tfalse"#]);
    assert!(seen.recv().unwrap().starts_with("POST /exec/TOKEN HTTP/1.1\r\n"));
}

#[test]
fn serve_answers_errors_itself() {
    let h = handler(running());
    for (target, status, body) in [
        ("/exec/default/gone/c?output=1", 404, "pod does not exist"),
        ("/exec/default/web", 404, "404: Page Not Found"),
        ("/exec/default/web/app?input=0", 400, "you must specify at least 1 of stdin, stdout, stderr"),
    ] {
        let (mut api, mut kubelet) = client_pair();
        let head = head("GET", target, &[]);
        let served = h.serve(&head, lookup(&head).as_ref(), &mut kubelet);
        assert_eq!(served.status(), status, "{target}");
        drop(kubelet);
        let mut got = String::new();
        api.read_to_string(&mut got).unwrap();
        assert!(got.starts_with(&format!("HTTP/1.1 {status} ")), "{got}");
        assert!(got.ends_with(&format!("\r\n\r\n{body}")), "{got}");
    }
    // A plain GET to a known container: the runtime is asked, then the proxy wants an upgrade.
    let (mut api, mut kubelet) = client_pair();
    let plain = head("GET", "/exec/default/web/app?output=1", &[]);
    assert_eq!(h.serve(&plain, lookup(&plain).as_ref(), &mut kubelet).status(), 500);
    drop(kubelet);
    let mut got = String::new();
    api.read_to_string(&mut got).unwrap();
    assert!(got.ends_with("\r\n\r\nUpgrade request required\n"), "{got}");
    assert_eq!(h.runtime.calls().len(), 1);
}
