//! What the API-mode pod tests share: the test control plane's facts, kubectl, a node of
//! their own with its kubelet credentials, and a TCP proxy that can cut the kubelet off.

use std::io::Write;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rkubelet::kubeclient::kubeconfig::Kubeconfig;
use rkubelet::kubeclient::{Client, ClientOptions, DeleteOptions, ResourcePath};
use serde_json::{Value, json};

/// The running test control plane, from the environment `scripts/test-cluster.sh up` prints.
pub struct Cluster {
    pub admin: Client,
    /// The `rk-cluster` binary (kubectl, kubelet kubeconfigs).
    bin: PathBuf,
    dir: PathBuf,
    admin_kubeconfig: PathBuf,
}

impl Cluster {
    /// `None` (after a `SKIPPED:` line) when no control plane is configured.
    pub fn from_env() -> Option<Cluster> {
        let Some(kubeconfig) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()).map(PathBuf::from)
        else {
            println!(
                "SKIPPED: KUBECONFIG not set (source /var/lib/rk-cluster/env, or run scripts/test-cluster.sh up)"
            );
            return None;
        };
        let dir = kubeconfig.parent().map(Path::to_path_buf).unwrap_or_default();
        let Some(bin) = rk_cluster_binary(&dir) else {
            println!(
                "SKIPPED: no rk-cluster binary (set RK_CLUSTER_BIN, or KUBECTL to the cluster's kubectl wrapper)"
            );
            return None;
        };
        let admin =
            Client::from_kubeconfig(&kubeconfig, None, ClientOptions::default()).expect("admin client");
        Some(Cluster { admin, bin, dir, admin_kubeconfig: kubeconfig })
    }

    /// Runs the cluster's kubectl as admin; panics on failure.
    pub fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("kubectl").arg(format!("--kubeconfig={}", self.admin_kubeconfig.display())).args(args);
        cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run kubectl");
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes()).expect("kubectl stdin");
        }
        let out = child.wait_with_output().expect("kubectl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "kubectl {args:?}: {}{text}", String::from_utf8_lossy(&out.stderr));
        text
    }

    /// A kubeconfig with `system:node:<node>` credentials.
    pub fn kubelet_kubeconfig(&self, node: &str) -> PathBuf {
        let out = Command::new(&self.bin)
            .args(["kubelet-kubeconfig", "--dir"])
            .arg(&self.dir)
            .args(["--node-name", node])
            .output()
            .expect("rk-cluster kubelet-kubeconfig");
        assert!(out.status.success(), "kubelet-kubeconfig: {}", String::from_utf8_lossy(&out.stderr));
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    }

    /// Creates the Node object `name` (a leftover one is replaced); returns its UID.
    pub fn create_node(&self, name: &str) -> String {
        self.delete_node(name);
        let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name,
            "labels": {"kubernetes.io/hostname": name}}});
        let created: Value = self.admin.create(&ResourcePath::core("nodes"), &node).expect("create node");
        created["metadata"]["uid"].as_str().expect("node uid").to_string()
    }

    /// Deletes the Node `name` and waits until it is gone (best effort: never panics, so
    /// that cleanup can call it while unwinding).
    pub fn delete_node(&self, name: &str) {
        let path = ResourcePath::core("nodes").name(name);
        let _ = self.admin.delete(&path, &DeleteOptions::default());
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            match self.admin.get::<Value>(&path) {
                Err(e) if e.is_not_found() => return,
                Err(e) if !e.is_transient() => return,
                _ => thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// Deletes a pod at once (grace period 0), whoever's it is.
    pub fn force_delete_pod(&self, namespace: &str, name: &str) {
        let opts = DeleteOptions { grace_period_seconds: Some(0), ..Default::default() };
        let _ = self.admin.delete(&ResourcePath::core("pods").namespace(namespace).name(name), &opts);
    }

    /// The pod as the admin sees it, `None` when it does not exist.
    pub fn pod(&self, namespace: &str, name: &str) -> Option<Value> {
        self.get_pod_or_node(&ResourcePath::core("pods").namespace(namespace).name(name))
    }

    fn get_pod_or_node(&self, path: &ResourcePath) -> Option<Value> {
        match self.admin.get::<Value>(path) {
            Ok(v) => Some(v),
            Err(e) if e.is_not_found() => None,
            Err(e) => panic!("GET {path:?}: {e}"),
        }
    }
}

/// `RK_CLUSTER_BIN`, or the binary the kubectl wrapper (`$KUBECTL`, or `kubectl` beside the
/// admin kubeconfig) runs.
fn rk_cluster_binary(dir: &Path) -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("RK_CLUSTER_BIN").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(bin));
    }
    let wrapper = std::env::var_os("KUBECTL").map(PathBuf::from).unwrap_or_else(|| dir.join("kubectl"));
    let script = std::fs::read_to_string(wrapper).ok()?;
    let rest = script.lines().find_map(|l| l.trim().strip_prefix("exec "))?;
    let path = rest.trim_start_matches('"').split('"').next()?;
    Some(PathBuf::from(path)).filter(|p| p.is_file())
}

/// A client with `kubeconfig`'s credentials that talks through `proxy`.
pub fn client_via(kubeconfig: &Path, proxy: &Proxy) -> Client {
    let mut rest = Kubeconfig::load(kubeconfig).expect("kubeconfig").rest_config(None).expect("rest config");
    let host = server_host(&rest.server).0;
    rest.tls_server_name = Some(host);
    rest.server = format!("https://{}", proxy.addr);
    Client::new(&rest, ClientOptions::default()).expect("proxied client")
}

/// The host and the socket address of an `https://host:port` server URL.
pub fn server_host(server: &str) -> (String, SocketAddr) {
    let authority = server.trim_start_matches("https://").split('/').next().unwrap_or_default();
    let addr = authority.to_socket_addrs().ok().and_then(|mut a| a.next()).expect("server address");
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    (host.trim_start_matches('[').trim_end_matches(']').to_string(), addr)
}

/// Polls `check` every 200 ms for up to 30 s; panics naming `what` if it never holds.
pub fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(200));
    }
}

/// A TCP proxy to the API server. `cut` closes every open connection; while `down`, new
/// connections are closed as soon as they are accepted.
pub struct Proxy {
    pub addr: SocketAddr,
    down: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    pub fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let down = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (d, c) = (down.clone(), conns.clone());
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if d.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream) else { continue };
                let mut open = c.lock().expect("proxy connections");
                for s in [&client, &server] {
                    if let Ok(s) = s.try_clone() {
                        open.push(s);
                    }
                }
                drop(open);
                pipe(&client, &server);
                pipe(&server, &client);
            }
        });
        Proxy { addr, down, conns }
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn cut(&self) {
        for s in self.conns.lock().expect("proxy connections").drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

fn pipe(from: &TcpStream, to: &TcpStream) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else { return };
    thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}
