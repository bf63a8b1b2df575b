//! `rkubelet cri ...` against the real containerd: what scripts read from `-o json`, the
//! tables, exec's streams and exit code, stopp and rmp on our own sandbox.
//!
//! Needs root and `CONTAINER_RUNTIME_ENDPOINT`; prints `SKIPPED` otherwise. Acts only on
//! the sandbox it makes (`rmp -a` is left to the unit tests: the runtime is shared).

#![allow(clippy::unwrap_used)]

mod cri_support;

use std::process::{Command, Output};

use cri_support::*;
use serde_json::Value;

fn rkubelet(endpoint: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rkubelet"));
    cmd.arg("cri").env_remove("CONTAINER_RUNTIME_ENDPOINT");
    if let Some(e) = endpoint {
        cmd.arg(format!("--container-runtime-endpoint={e}"));
    }
    cmd.args(args).output().unwrap()
}

/// Runs a command that must succeed; its standard output.
fn ok(endpoint: &str, args: &[&str]) -> String {
    let out = rkubelet(Some(endpoint), args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "rkubelet cri {args:?}: {:?}\n{stderr}", out.status);
    String::from_utf8(out.stdout).unwrap()
}

fn json(endpoint: &str, args: &[&str]) -> Value {
    let text = ok(endpoint, args);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}\n{text}"))
}

fn item<'a>(list: &'a Value, id: &str) -> Option<&'a Value> {
    list["items"].as_array().unwrap().iter().find(|i| i["id"] == id)
}

#[test]
fn subcommands_against_the_runtime() {
    let Some(endpoint) = endpoint() else { return };
    let _turn = serial();
    let client = client(&endpoint);
    let pod = TestPod::run(&client, "cri-cmd");
    let id = pod.create(pod.container_config("app", "sleep 3600")).unwrap();
    pod.start(&id);

    let version = json(&endpoint, &["version", "-o", "json"]);
    assert_eq!(
        (version["runtimeName"].as_str(), version["runtimeApiVersion"].as_str()),
        (Some("containerd"), Some("v1"))
    );
    assert!(ok(&endpoint, &["version"]).contains("RuntimeName:  containerd\n"));

    // What the project's shell tests select on.
    let pods = json(&endpoint, &["pods", "-o", "json"]);
    let p = item(&pods, &pod.id).unwrap_or_else(|| panic!("sandbox {} not listed: {pods}", pod.id));
    assert_eq!(p["metadata"]["name"], "cri-cmd");
    assert_eq!(p["metadata"]["namespace"], NAMESPACE);
    assert_eq!(p["metadata"]["uid"], pod.uid.as_str());
    assert_eq!(p["metadata"]["attempt"], 0);
    assert_eq!(p["state"], "SANDBOX_READY");
    assert_eq!(p["labels"]["rk-test"], "cri");
    assert_eq!(p["annotations"]["kubernetes.io/config.source"], "api");
    assert!(p["createdAt"].as_i64().unwrap() > 1_600_000_000_000_000_000);
    let table = ok(&endpoint, &["pods"]);
    let row = table.lines().find(|l| l.starts_with(&pod.id[..13])).unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains(" Ready ") && row.contains(" cri-cmd ") && row.contains(NAMESPACE), "{row}");

    let ps = json(&endpoint, &["ps", "-o", "json"]);
    let c = item(&ps, &id).unwrap_or_else(|| panic!("container {id} not listed: {ps}"));
    assert_eq!(
        (c["podSandboxId"].as_str(), c["state"].as_str()),
        (Some(pod.id.as_str()), Some("CONTAINER_RUNNING"))
    );
    assert_eq!((c["metadata"]["name"].as_str(), c["metadata"]["attempt"].as_u64()), (Some("app"), Some(0)));
    assert_eq!(c["image"], BUSYBOX);
    assert!(c["imageRef"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(c["labels"]["io.kubernetes.pod.uid"], pod.uid.as_str());
    assert!(ok(&endpoint, &["ps"]).lines().any(|l| l.starts_with(&id[..13]) && l.contains(" Running ")));

    let images = json(&endpoint, &["images", "-o", "json"]);
    let tags: Vec<&str> = images["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["repoTags"].as_array().unwrap())
        .filter_map(Value::as_str)
        .collect();
    assert!(tags.contains(&BUSYBOX), "{tags:?}");
    assert!(
        ok(&endpoint, &["images"])
            .lines()
            .any(|l| l.starts_with("docker.io/library/busybox ") && l.contains(" 1.35 "))
    );

    let inspect = json(&endpoint, &["inspect", &id]);
    assert_eq!(inspect["status"]["state"], "CONTAINER_RUNNING");
    assert!(inspect["info"]["info"]["pid"].as_u64().unwrap() > 1, "verbose info embedded as JSON: {inspect}");
    let inspectp = json(&endpoint, &["inspectp", &pod.id]);
    assert_eq!(inspectp["status"]["metadata"]["name"], "cri-cmd");
    assert!(ok(&endpoint, &["inspectp", "-o", "table", &pod.id]).contains("Status: Ready\n"));
    let info = json(&endpoint, &["info"]);
    assert!(
        info["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["type"] == "RuntimeReady" && c["status"] == true)
    );

    let out = rkubelet(Some(&endpoint), &["exec", &id, "--", "sh", "-c", "echo out; echo err >&2; exit 7"]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!((out.stdout.as_slice(), out.stderr.as_slice()), (&b"out\n"[..], &b"err\n"[..]));

    // The endpoint from the environment when the flag is absent.
    let from_env = Command::new(env!("CARGO_BIN_EXE_rkubelet"))
        .args(["cri", "ps", "-a", "-o", "json"])
        .env("CONTAINER_RUNTIME_ENDPOINT", &endpoint)
        .output()
        .unwrap();
    assert!(from_env.status.success());

    assert_eq!(ok(&endpoint, &["stopp", &pod.id]), format!("Stopped sandbox {}\n", pod.id));
    let stopped = json(&endpoint, &["pods", "-o", "json"]);
    assert_eq!(item(&stopped, &pod.id).unwrap()["state"], "SANDBOX_NOTREADY");
    assert_eq!(
        item(&json(&endpoint, &["ps", "-a", "-o", "json"]), &id).unwrap()["state"],
        "CONTAINER_EXITED"
    );
    assert_eq!(ok(&endpoint, &["rmp", &pod.id]), format!("Removed sandbox {}\n", pod.id));
    assert!(item(&json(&endpoint, &["pods", "-o", "json"]), &pod.id).is_none());
    assert!(item(&json(&endpoint, &["ps", "-a", "-o", "json"]), &id).is_none());
}

#[test]
fn errors_go_to_stderr_with_exit_1() {
    let cases: [(Option<&str>, &[&str], &str); 4] = [
        (Some("tcp://127.0.0.1:1"), &["pods"], "unsupported runtime endpoint \"tcp://127.0.0.1:1\""),
        (Some("unix:///nonexistent/rk.sock"), &["version"], "unix:///nonexistent/rk.sock is not reachable"),
        (None, &["frob"], "unknown command \"frob\""),
        (None, &["pods", "-o", "yaml"], "unknown output format"),
    ];
    for (endpoint, args, want) in cases {
        let out = rkubelet(endpoint, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.starts_with("rkubelet cri: ") && stderr.contains(want), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
    let Some(endpoint) = endpoint() else { return };
    let out = rkubelet(Some(&endpoint), &["inspect", "rk-no-such-container"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("CRI ContainerStatus") && stderr.contains("NotFound"), "{stderr}");
}
