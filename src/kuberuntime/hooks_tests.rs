use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread::JoinHandle;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::*;
use crate::api::core::{ContainerPort, ExecAction, HTTPHeader, SleepAction, TCPSocketAction};
use crate::kuberuntime::fake_runtime::FakeRuntime;
use crate::kuberuntime::harness::Events;

fn pod() -> Pod {
    let mut p = Pod::default();
    p.metadata.name = Some("web".into());
    p.metadata.namespace = Some("default".into());
    p.metadata.uid = Some("u1".into());
    p
}

fn container() -> Container {
    Container {
        name: "app".into(),
        ports: vec![ContainerPort { name: Some("http".into()), container_port: 8080, ..Default::default() }],
        ..Default::default()
    }
}

/// Runs `handler` against container `c1` of [`pod`] with the given pod IPs.
fn run_hook(fake: &Arc<FakeRuntime>, events: &Events, handler: &LifecycleHandler, pod_ips: &[String]) -> Result<(), String> {
    let (client, p, c) = (fake.client(), pod(), container());
    let target =
        Target { cri: &client, recorder: events, pod: &p, container: &c, container_id: "c1", pod_ips };
    run(&target, handler)
}

fn http_hook(port: IntOrString, scheme: Option<&str>) -> LifecycleHandler {
    LifecycleHandler {
        http_get: Some(HTTPGetAction {
            path: Some("/hook".into()),
            port,
            scheme: scheme.map(str::to_string),
            http_headers: vec![HTTPHeader { name: "X-Test".into(), value: "1".into() }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Answers `connections` requests with a 500 (any answer is a success); returns the requests.
fn serve_plain(listener: TcpListener, connections: usize) -> JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        (0..connections)
            .map(|_| {
                let (mut s, _) = listener.accept().expect("accept");
                let mut buf = [0u8; 2048];
                let n = s.read(&mut buf).expect("read");
                let _ = s.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
                String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned()
            })
            .collect()
    })
}

fn listener() -> (TcpListener, i32) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    (listener, i32::from(port))
}

#[test]
fn exec_hooks_fail_on_a_non_zero_exit() {
    let (fake, events) = (FakeRuntime::new(), Events::default());
    fake.lock().exec_exit.insert("sh -c exit 3".into(), 3);
    let ok = LifecycleHandler { exec: Some(ExecAction { command: vec!["true".into()] }), ..Default::default() };
    assert_eq!(run_hook(&fake, &events, &ok, &[]), Ok(()));
    let bad = LifecycleHandler {
        exec: Some(ExecAction { command: vec!["sh".into(), "-c".into(), "exit 3".into()] }),
        ..Default::default()
    };
    let e = run_hook(&fake, &events, &bad, &[]).expect_err("exit 3");
    assert_eq!(
        e,
        "Exec lifecycle hook ([sh -c exit 3]) for Container \"app\" in Pod \"web_default(u1)\" failed - \
         error: command 'sh -c exit 3' exited with 3: boom, message: \"boom\""
    );
}

#[test]
fn http_hooks_accept_any_answer() {
    let (listener, port) = listener();
    let server = serve_plain(listener, 1);
    let (fake, events) = (FakeRuntime::new(), Events::default());
    assert_eq!(run_hook(&fake, &events, &http_hook(IntOrString::Int(port), None), &["127.0.0.1".into()]), Ok(()));
    let requests = server.join().expect("server");
    let request = requests.first().expect("one request");
    assert!(request.starts_with("GET /hook HTTP/1.1\r\n"), "{request}");
    assert!(request.contains("X-Test: 1\r\n") && request.contains("User-Agent: kube-lifecycle/1.37\r\n"), "{request}");
    assert!(events.take().is_empty());
}

#[test]
fn https_hooks_skip_certificate_checks() {
    let cert = crate::pki::selfsigned::generate("localhost", &Default::default(), crate::api::Time::now().unix_seconds())
        .expect("certificate");
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(cert.cert_pem.as_bytes()).collect::<Result<_, _>>().expect("chain");
    let key = PrivateKeyDer::from_pem_slice(cert.key.to_pem().as_bytes()).expect("key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server config");
    let (listener, port) = listener();
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().expect("accept");
        let conn = rustls::ServerConnection::new(Arc::new(config)).expect("tls");
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        let mut buf = [0u8; 2048];
        let n = tls.read(&mut buf).expect("read");
        let _ = tls.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        tls.conn.send_close_notify();
        let _ = tls.flush();
        String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).into_owned()
    });
    let (fake, events) = (FakeRuntime::new(), Events::default());
    let hook = http_hook(IntOrString::Int(port), Some("HTTPS"));
    assert_eq!(run_hook(&fake, &events, &hook, &["127.0.0.1".into()]), Ok(()));
    assert!(server.join().expect("server").starts_with("GET /hook HTTP/1.1\r\n"));
    assert!(events.take().is_empty(), "no fallback");
}

#[test]
fn https_hooks_answered_in_plain_http_are_retried_in_http() {
    let (listener, port) = listener();
    // The TLS handshake gets a plain HTTP answer; then the retry in HTTP.
    let server = serve_plain(listener, 2);
    let (fake, events) = (FakeRuntime::new(), Events::default());
    let mut hook = http_hook(IntOrString::Int(port), Some("HTTPS"));
    if let Some(get) = hook.http_get.as_mut() {
        get.http_headers.push(HTTPHeader { name: "Authorization".into(), value: "Bearer x".into() });
    }
    assert_eq!(run_hook(&fake, &events, &hook, &["127.0.0.1".into()]), Ok(()));
    let requests = server.join().expect("server");
    let retry = requests.get(1).expect("the retry");
    assert!(retry.starts_with("GET /hook HTTP/1.1\r\n") && !retry.contains("Authorization"), "{retry}");
    assert_eq!(
        events.take(),
        vec![(
            "LifecycleHTTPFallback".to_string(),
            format!("request to HTTPS lifecycle hook 127.0.0.1:{port} got HTTP response, retry with HTTP succeeded")
        )]
    );
}

#[test]
fn http_hook_errors_and_other_handlers() {
    let (fake, events) = (FakeRuntime::new(), Events::default());
    let no_ip = run_hook(&fake, &events, &http_hook(IntOrString::Int(80), None), &[]);
    assert!(no_ip.expect_err("no ip").contains("failed to find networking container"));
    let unnamed = run_hook(&fake, &events, &http_hook(IntOrString::String("x".into()), None), &["127.0.0.1".into()]);
    assert!(unnamed.expect_err("no port").contains("couldn't find port"));
    assert_eq!(resolve_port(&IntOrString::String("http".into()), &container()), Ok(8080));
    // Nothing listens on a port just freed.
    let (gone, port) = listener();
    drop(gone);
    let refused = run_hook(&fake, &events, &http_hook(IntOrString::Int(port), None), &["127.0.0.1".into()]);
    assert!(refused.expect_err("refused").contains("connection refused"));
    let sleep = LifecycleHandler { sleep: Some(SleepAction { seconds: 0 }), ..Default::default() };
    assert_eq!(run_hook(&fake, &events, &sleep, &[]), Ok(()));
    let tcp = LifecycleHandler { tcp_socket: Some(TCPSocketAction::default()), ..Default::default() };
    let e = run_hook(&fake, &events, &tcp, &[]).expect_err("tcp");
    assert!(e.starts_with("Cannot run handler: invalid handler"), "{e}");
}
