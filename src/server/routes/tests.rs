use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::api::authentication::{TokenReviewStatus, UserInfo};
use crate::api::authorization::{SubjectAccessReviewSpec, SubjectAccessReviewStatus};
use crate::api::core::{ContainerState as ApiState, ContainerStateRunning, ContainerStatus};
use crate::kuberuntime::{ContainerState, ContainerStatus as RtContainer, SandboxState, SandboxStatus};
use crate::server::auth::authz::{AccessReviewer, WebhookAuthorizer};
use crate::server::auth::cache::SystemClock;
use crate::server::auth::token::{TokenAuthenticator, TokenReviewer};
use crate::server::stats_api::Unavailable;
use crate::server::streaming_api::NotWired;

struct FakeHost;

impl Host for FakeHost {
    fn running_pods(&self) -> Result<Vec<PodStatus>, String> {
        let c = |name: &str, id: &str, state| RtContainer {
            name: name.into(),
            id: id.into(),
            image: "busybox".into(),
            state: Some(state),
            ..Default::default()
        };
        Ok(vec![
            PodStatus {
                uid: "uid-web".into(),
                name: "web".into(),
                namespace: "default".into(),
                sandboxes: vec![SandboxStatus { id: "sb".into(), state: SandboxState::Ready, created_at: 0, attempt: 0, ips: Vec::new(), host_network: false }],
                containers: vec![c("app", "c-app", ContainerState::Running), c("old", "c-old", ContainerState::Exited)],
                ..Default::default()
            },
            PodStatus { uid: "uid-gone".into(), name: "gone".into(), namespace: "default".into(), ..Default::default() },
        ])
    }

    fn container_log(&self, container_id: &str) -> Result<ContainerLog, String> {
        Err(format!("no log for {container_id}"))
    }

    fn exec_sync(&self, container_id: &str, cmd: &[String]) -> Result<ExecOutput, String> {
        match cmd.first().map(String::as_str) {
            Some("false") => Ok(ExecOutput { stderr: b"nope".to_vec(), exit_code: 1, ..Default::default() }),
            _ => Ok(ExecOutput { stdout: format!("{container_id}: {}\n", cmd.join("|")).into_bytes(), ..Default::default() }),
        }
    }
}

fn web_pod() -> Pod {
    let mut p = Pod::default();
    p.metadata.name = Some("web".into());
    p.metadata.namespace = Some("default".into());
    p.metadata.uid = Some("uid-web".into());
    p.spec.containers = vec![crate::api::core::Container { name: "app".into(), ..Default::default() }];
    p.status.container_statuses = vec![ContainerStatus {
        name: "app".into(),
        container_id: Some("containerd://c-app".into()),
        state: Some(ApiState { running: Some(ContainerStateRunning::default()), ..Default::default() }),
        ..Default::default()
    }];
    p
}

fn deps(debugging: bool) -> Deps {
    Deps {
        node_name: "node-1".into(),
        checks: Checks::default().add("ping", Arc::new(|| Ok(()))).add("syncloop", Arc::new(|| Err("stuck".into()))),
        pods: Arc::new(|| vec![web_pod()]),
        host: Arc::new(FakeHost),
        stats: Arc::new(Unavailable),
        streaming: Arc::new(NotWired),
        config: serde_json::json!({"kind": "KubeletConfiguration", "port": 10250}),
        machine: Arc::new(|| serde_json::json!({"num_cores": 2})),
        node_log_dir: std::env::temp_dir(),
        debugging_handlers: debugging,
        system_log_handler: true,
    }
}

fn peer() -> Peer {
    Peer { addr: SocketAddr::from(([127, 0, 0, 1], 1)), certs: Vec::new() }
}

fn reply(o: Outcome) -> Response {
    match o {
        Outcome::Reply(r) => r,
        Outcome::Stream { status, .. } => Response::text(status, "<stream>"),
        Outcome::Upgrade(_) => Response::text(101, "<upgrade>"),
    }
}

fn body(r: &Response) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

fn open_auth() -> Auth {
    Auth { authn: Authenticator { x509: None, token: None, anonymous: true }, authz: Authorizer::AlwaysAllow, node_name: "node-1".into() }
}

#[test]
fn read_only_port_serves_reads_only() {
    let r = Router::read_only(deps(true));
    let get = |p: &str| reply(r.serve(Request::get(p), &peer()));
    let pods = get("/pods");
    assert_eq!(pods.status, 200);
    assert!(body(&pods).contains("\"kind\":\"PodList\"") && body(&pods).contains("\"name\":\"web\""));
    assert_eq!(get("/pods/").status, 200);
    let health = get("/healthz?exclude=syncloop");
    assert_eq!((health.status, body(&health)), (200, "ok".to_string()));
    assert_eq!(get("/healthz").status, 500);
    assert_eq!(body(&get("/healthz/ping")), "ok");
    assert_eq!((get("/healthz/syncloop").status, body(&get("/healthz/syncloop"))), (500, "internal server error: stuck\n".into()));
    assert_eq!(get("/stats/summary").status, 503);
    assert_eq!(get("/metrics/resource").status, 503);
    let metrics = get("/metrics");
    assert_eq!(metrics.header("Content-Type"), Some(crate::metrics::TEXT_FORMAT));
    assert!(body(&metrics).contains("# TYPE kubelet_running_pods gauge"));
    assert_eq!(get("/metrics/cadvisor").status, 200);
    for p in ["/exec/default/web/app", "/run/default/web/app", "/containerLogs/default/web/app", "/runningpods/", "/logs/syslog"] {
        let r = get(p);
        assert_eq!((r.status, body(&r)), (405, "Debug endpoints are disabled.\n".to_string()), "{p}");
    }
    for p in ["/configz", "/spec/", "/nothing", "/"] {
        assert_eq!(get(p).status, 404, "{p}");
    }
    assert_eq!(reply(r.serve(Request::with_method("POST", "/pods"), &peer())).status, 405);
}

#[test]
fn debugging_handlers_off_means_405_on_the_secure_port_too() {
    let r = Router::secure(deps(false), open_auth());
    let resp = reply(r.serve(Request::with_method("POST", "/run/default/web/app?cmd=ls"), &peer()));
    assert_eq!((resp.status, body(&resp)), (405, "Debug endpoints are disabled.\n".into()));
    assert_eq!(reply(r.serve(Request::get("/configz"), &peer())).status, 404);
    assert_eq!(reply(r.serve(Request::get("/pods"), &peer())).status, 200);
}

#[test]
fn secure_port_endpoints() {
    let r = Router::secure(deps(true), open_auth());
    let call = |m: &str, p: &str| reply(r.serve(Request::with_method(m, p), &peer()));
    let configz = call("GET", "/configz");
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&configz.body).ok(), Some(serde_json::json!({"kubeletconfig": {"kind": "KubeletConfiguration", "port": 10250}})));
    let running = body(&call("GET", "/runningpods/"));
    assert!(running.contains("\"uid\":\"uid-web\"") && running.contains("\"name\":\"app\"") && !running.contains("old"), "{running}");
    assert!(!running.contains("gone"), "{running}");
    assert_eq!(body(&call("GET", "/spec/")), "{\"num_cores\":2}");
    let run = call("POST", "/run/default/web/app?cmd=echo+a++b");
    assert_eq!((run.status, body(&run)), (200, "c-app: echo|a||b\n".into()));
    assert_eq!(call("POST", "/run/default/web/uid-web/app?cmd=ls").status, 200);
    assert_eq!(body(&call("POST", "/run/default/web/app?cmd=false")), "command 'false' exited with 1: nope");
    assert_eq!(body(&call("POST", "/run/default/web/sidecar?cmd=ls")), "container not found (\"sidecar\")");
    assert_eq!((call("POST", "/run/default/nope/app?cmd=ls").status), 404);
    assert_eq!(call("GET", "/run/default/web/app?cmd=ls").status, 405);
    assert_eq!(call("POST", "/exec/default/web/app?command=sh").status, 101);
    assert_eq!(call("GET", "/attach/default/web/uid-web/app").status, 101);
    assert_eq!(call("GET", "/portForward/default/web").status, 101);
    assert_eq!(body(&call("GET", "/portForward/default/web/other-uid")), "pod not found");
    assert_eq!(body(&call("GET", "/exec/default/nope/app")), "pod does not exist");
    assert_eq!(call("GET", "/exec/default/web").status, 404);
    assert_eq!(call("PUT", "/exec/default/web/app").status, 405);
}

#[test]
fn container_logs_errors_are_upstreams() {
    let r = Router::secure(deps(true), open_auth());
    let get = |p: &str| reply(r.serve(Request::get(p), &peer()));
    let cases = [
        ("/containerLogs/default/web/app?tailLines=x", 400, "{\"message\": \"Unable to decode query.\"}"),
        ("/containerLogs/default/web/app?limitBytes=0", 422, "{\"message\": \"Invalid request.\"}"),
        ("/containerLogs/default//app", 400, "{\"message\": \"Missing podID.\"}"),
        ("/containerLogs/default/web/app?stream=Stderr", 400, "unable to return the given log stream: \"Stderr\". Please enable PodLogsQuerySplitStreams feature gate in kubelet"),
        ("/containerLogs/default/nope/app", 404, "pod \"nope\" does not exist"),
        ("/containerLogs/default/web/db", 404, "container \"db\" not found in pod \"web\""),
        ("/containerLogs/default/web/app?previous=true", 400, "previous terminated container \"app\" in pod \"web\" not found"),
        ("/containerLogs/default/web/app", 400, "no log for c-app"),
    ];
    for (path, status, text) in cases {
        let resp = get(path);
        assert_eq!((resp.status, body(&resp).as_str()), (status, text), "{path}");
    }
    assert_eq!(reply(r.serve(Request::with_method("POST", "/containerLogs/default/web/app"), &peer())).status, 405);
}

struct Reviews;

impl TokenReviewer for Reviews {
    fn review(&self, token: &str) -> Result<TokenReviewStatus, String> {
        let user = |name: &str| UserInfo { username: Some(name.into()), ..Default::default() };
        Ok(match token {
            "admin" | "viewer" => TokenReviewStatus { authenticated: Some(true), user: Some(user(token)), ..Default::default() },
            _ => TokenReviewStatus::default(),
        })
    }
}

impl AccessReviewer for Reviews {
    fn review(&self, spec: &SubjectAccessReviewSpec) -> Result<SubjectAccessReviewStatus, String> {
        let sub = spec.resource_attributes.as_ref().and_then(|r| r.subresource.as_deref()).unwrap_or_default();
        let allowed = spec.user.as_deref() == Some("admin") || (spec.user.as_deref() == Some("viewer") && sub == "proxy");
        if spec.user.as_deref() == Some("system:anonymous") {
            return Err("webhook down".into());
        }
        Ok(SubjectAccessReviewStatus { allowed, ..Default::default() })
    }
}

#[test]
fn authentication_and_authorization() {
    let clock = Arc::new(SystemClock);
    let auth = |anonymous| Auth {
        authn: Authenticator { x509: None, token: Some(TokenAuthenticator::new(Arc::new(Reviews), Duration::from_secs(120), clock.clone())), anonymous },
        authz: Authorizer::Webhook(WebhookAuthorizer::new(Arc::new(Reviews), Duration::from_secs(300), Duration::from_secs(30), clock.clone())),
        node_name: "node-1".into(),
    };
    let r = Router::secure(deps(true), auth(false));
    let as_user = |token: &str, p: &str| reply(r.serve(Request::get(p).with_header("Authorization", &format!("Bearer {token}")), &peer()));
    let anon = reply(r.serve(Request::get("/pods"), &peer()));
    assert_eq!((anon.status, body(&anon)), (401, "Unauthorized".into()));
    assert_eq!(as_user("stranger", "/pods").status, 401);
    assert_eq!(as_user("admin", "/pods").status, 200);
    assert_eq!(as_user("viewer", "/pods").status, 200, "nodes/proxy is enough for /pods");
    let denied = as_user("viewer", "/stats/summary");
    assert_eq!(
        (denied.status, body(&denied)),
        (403, "Forbidden (user=viewer, verb=get, resource=nodes, subresource(s)=[stats])\n".into())
    );
    let r = Router::secure(deps(true), auth(true));
    let broken = reply(r.serve(Request::get("/healthz"), &peer()));
    assert_eq!(
        (broken.status, body(&broken)),
        (500, "Authorization error (user=system:anonymous, verb=get, resource=nodes, subresource=healthz)".into())
    );
}
