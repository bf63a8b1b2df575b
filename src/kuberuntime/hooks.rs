//! Lifecycle hooks (postStart, preStop), as upstream's `lifecycle.handlerRunner`: `exec`
//! through the runtime's ExecSync, `httpGet` as a plain GET whose answer (any status) counts
//! as success, `sleep`. `tcpSocket` is accepted by the API but never runs, as upstream.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::error::cri_error_text;
use crate::api::core::{Container, HTTPGetAction, LifecycleHandler, Pod};
use crate::api::intstr::IntOrString;
use crate::cri;
use crate::status::reason::pod_desc;

/// How long an HTTP hook may take to connect and to answer.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `handler` for container `container_id` of `pod`; `Err` carries upstream's message.
/// `pod_ips` are the pod's IPs (an HTTP hook without `host` goes to the first).
pub(crate) fn run(
    cri: &cri::Client,
    pod: &Pod,
    container: &Container,
    container_id: &str,
    handler: &LifecycleHandler,
    pod_ips: &[String],
) -> Result<(), String> {
    if let Some(exec) = &handler.exec {
        return run_exec(cri, container_id, &exec.command).map_err(|(err, output)| {
            format!(
                "Exec lifecycle hook ([{}]) for Container {:?} in Pod {:?} failed - error: {err}, message: {output:?}",
                exec.command.join(" "),
                container.name,
                pod_desc(pod)
            )
        });
    }
    if let Some(http) = &handler.http_get {
        return run_http(http, container, pod_ips).map_err(|err| {
            format!(
                "HTTP lifecycle hook ({}) for Container {:?} in Pod {:?} failed - error: {err}",
                http.path.as_deref().unwrap_or(""),
                container.name,
                pod_desc(pod)
            )
        });
    }
    if let Some(sleep) = &handler.sleep {
        std::thread::sleep(Duration::from_secs(u64::try_from(sleep.seconds).unwrap_or(0)));
        return Ok(());
    }
    Err(format!("Cannot run handler: invalid handler: {handler:?}"))
}

/// ExecSync without a timeout; a non-zero exit is an error, as the CRI client makes it.
fn run_exec(cri: &cri::Client, container_id: &str, cmd: &[String]) -> Result<(), (String, String)> {
    let req = cri::ExecSyncRequest { container_id: container_id.to_string(), cmd: cmd.to_vec(), timeout: 0 };
    let resp = cri.exec_sync(&req).map_err(|e| (cri_error_text(&e), String::new()))?;
    if resp.exit_code != 0 {
        let stderr = String::from_utf8_lossy(&resp.stderr);
        let err = format!("command '{}' exited with {}: {stderr}", cmd.join(" "), resp.exit_code);
        let mut output = resp.stdout.clone();
        output.extend_from_slice(&resp.stderr);
        return Err((err, String::from_utf8_lossy(&output).into_owned()));
    }
    Ok(())
}

/// A port number, or the named port of the container (upstream's `ResolveContainerPort`).
pub(crate) fn resolve_port(port: &IntOrString, container: &Container) -> Result<u16, String> {
    if let Some(n) = port.as_int() {
        return u16::try_from(n).ok().filter(|p| *p > 0).ok_or_else(|| format!("invalid port number: {n}"));
    }
    let name = port.as_str().unwrap_or("");
    let found = container.ports.iter().find(|p| p.name.as_deref() == Some(name)).map(|p| p.container_port);
    let n = found.ok_or_else(|| format!("couldn't find port: {name:?} in {:?}", container.name))?;
    u16::try_from(n).ok().filter(|p| *p > 0).ok_or_else(|| format!("invalid port number: {n}"))
}

fn run_http(action: &HTTPGetAction, container: &Container, pod_ips: &[String]) -> Result<(), String> {
    let host = match action.host.as_deref().filter(|h| !h.is_empty()) {
        Some(h) => h.to_string(),
        None => pod_ips.first().cloned().ok_or("failed to find networking container: the pod has no IP")?,
    };
    let port = resolve_port(&action.port, container)?;
    let scheme = action.scheme.as_deref().unwrap_or("HTTP").to_ascii_lowercase();
    if scheme != "http" {
        return Err(format!("{scheme} lifecycle hooks are not supported yet"));
    }
    let path = match action.path.as_deref() {
        Some(p) if p.starts_with('/') => p.to_string(),
        Some(p) => format!("/{p}"),
        None => "/".to_string(),
    };
    let authority = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let addr: SocketAddr = authority
        .to_socket_addrs()
        .map_err(|e| format!("dial tcp {authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("dial tcp {authority}: no address"))?;
    let mut stream =
        TcpStream::connect_timeout(&addr, HTTP_TIMEOUT).map_err(|e| format!("dial tcp {authority}: {e}"))?;
    let _ = stream.set_read_timeout(Some(HTTP_TIMEOUT));
    let _ = stream.set_write_timeout(Some(HTTP_TIMEOUT));
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    let has = |name: &str| action.http_headers.iter().any(|h| h.name.eq_ignore_ascii_case(name));
    if !has("User-Agent") {
        request.push_str("User-Agent: kube-lifecycle/1.37\r\n");
    }
    if !has("Accept") {
        request.push_str("Accept: */*\r\n");
    }
    for h in &action.http_headers {
        request.push_str(&format!("{}: {}\r\n", h.name, h.value));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| format!("write {authority}: {e}"))?;
    let mut head = [0u8; 12];
    let n = stream.read(&mut head).map_err(|e| format!("read {authority}: {e}"))?;
    if n == 0 || !head.starts_with(b"HTTP/") {
        return Err(format!("Get \"http://{authority}{path}\": malformed HTTP response"));
    }
    // Drain a little of the body, as upstream does, then close.
    let _ = stream.take(10 * 1024).read_to_end(&mut Vec::new());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::core::{ContainerPort, ExecAction, HTTPHeader, SleepAction, TCPSocketAction};
    use crate::kuberuntime::fake_runtime::FakeRuntime;
    use std::net::TcpListener;

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
            ports: vec![ContainerPort {
                name: Some("http".into()),
                container_port: 8080,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn exec_hooks_fail_on_a_non_zero_exit() {
        let fake = FakeRuntime::new();
        fake.lock().exec_exit.insert("sh -c exit 3".into(), 3);
        let ok = LifecycleHandler {
            exec: Some(ExecAction { command: vec!["true".into()] }),
            ..Default::default()
        };
        assert_eq!(run(&fake.client(), &pod(), &container(), "c1", &ok, &[]), Ok(()));
        let bad = LifecycleHandler {
            exec: Some(ExecAction { command: vec!["sh".into(), "-c".into(), "exit 3".into()] }),
            ..Default::default()
        };
        let e = run(&fake.client(), &pod(), &container(), "c1", &bad, &[]).expect_err("exit 3");
        assert_eq!(
            e,
            "Exec lifecycle hook ([sh -c exit 3]) for Container \"app\" in Pod \"web_default(u1)\" failed - \
             error: command 'sh -c exit 3' exited with 3: boom, message: \"boom\""
        );
    }

    #[test]
    fn http_hooks_accept_any_answer() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().expect("accept");
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).expect("read");
            s.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n").expect("write");
            String::from_utf8_lossy(&buf[..n]).into_owned()
        });
        let handler = LifecycleHandler {
            http_get: Some(HTTPGetAction {
                path: Some("/hook".into()),
                port: IntOrString::Int(i32::from(port)),
                http_headers: vec![HTTPHeader { name: "X-Test".into(), value: "1".into() }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let fake = FakeRuntime::new();
        assert_eq!(run(&fake.client(), &pod(), &container(), "c1", &handler, &["127.0.0.1".into()]), Ok(()));
        let request = server.join().expect("server");
        assert!(request.starts_with("GET /hook HTTP/1.1\r\n"), "{request}");
        assert!(
            request.contains("X-Test: 1\r\n") && request.contains("User-Agent: kube-lifecycle/1.37\r\n"),
            "{request}"
        );
    }

    #[test]
    fn http_hook_errors_and_other_handlers() {
        let fake = FakeRuntime::new();
        let http = |port: IntOrString| LifecycleHandler {
            http_get: Some(HTTPGetAction { port, ..Default::default() }),
            ..Default::default()
        };
        let no_ip = run(&fake.client(), &pod(), &container(), "c1", &http(IntOrString::Int(80)), &[]);
        assert!(no_ip.expect_err("no ip").contains("failed to find networking container"));
        let unnamed = run(
            &fake.client(),
            &pod(),
            &container(),
            "c1",
            &http(IntOrString::String("x".into())),
            &["127.0.0.1".into()],
        );
        assert!(unnamed.expect_err("no port").contains("couldn't find port"));
        assert_eq!(resolve_port(&IntOrString::String("http".into()), &container()), Ok(8080));
        let sleep = LifecycleHandler { sleep: Some(SleepAction { seconds: 0 }), ..Default::default() };
        assert_eq!(run(&fake.client(), &pod(), &container(), "c1", &sleep, &[]), Ok(()));
        let tcp = LifecycleHandler { tcp_socket: Some(TCPSocketAction::default()), ..Default::default() };
        let e = run(&fake.client(), &pod(), &container(), "c1", &tcp, &[]).expect_err("tcp");
        assert!(e.starts_with("Cannot run handler: invalid handler"), "{e}");
    }
}
