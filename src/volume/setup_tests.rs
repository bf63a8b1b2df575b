use std::collections::BTreeMap;
use std::fs;

use serde_json::json;

use super::*;
use crate::api::core::{ConfigMap, Secret, Service};
use crate::volume::hostpath::RealHost;
use crate::volume::mount::MountTable;
use crate::volume::testutil::{Scratch, can_mount, pod};

struct Objects(BTreeMap<String, ConfigMap>);

impl EnvSources for Objects {
    fn config_map(&self, _: &str, name: &str) -> Result<Option<ConfigMap>, String> {
        Ok(self.0.get(name).cloned())
    }
    fn secret(&self, _: &str, name: &str) -> Result<Option<Secret>, String> {
        Ok((name == "s").then(|| serde_json::from_value(json!({"data": {"k": "dg=="}})).expect("secret")))
    }
    fn services(&self, _: &str) -> Vec<Service> {
        Vec::new()
    }
}

fn objects(value: &str) -> Objects {
    let cm: ConfigMap = serde_json::from_value(json!({"data": {"key": value}})).expect("cm");
    Objects(BTreeMap::from([("cm".to_string(), cm)]))
}

fn node(root: &Path) -> NodeContext {
    NodeContext { root_dir: root.to_path_buf(), ..NodeContext::default() }
}

#[test]
fn config_map_and_empty_dir_on_disk() {
    let s = Scratch::new("setup-disk");
    let node = node(s.path());
    let o = objects("v1");
    let ctx = SetupContext { node: &node, objects: &o, tokens: None, host: &RealHost, noswap: false };
    let p = pod(
        json!([
            {"name": "cfg", "configMap": {"name": "cm", "defaultMode": 0o644}},
            {"name": "scratch", "emptyDir": {}},
            {"name": "missing", "configMap": {"name": "nope"}},
            {"name": "nfs", "nfs": {"server": "x", "path": "/"}},
            {"name": "unused", "emptyDir": {}},
        ]),
        json!([
            {"name": "cfg", "mountPath": "/etc/cfg"}, {"name": "scratch", "mountPath": "/etc/cfg/scratch"},
            {"name": "missing", "mountPath": "/m"}, {"name": "nfs", "mountPath": "/n"},
        ]),
    );
    let out = setup_pod(&ctx, &p, TokenCache::default(), false);
    assert_eq!(out.mounted.keys().collect::<Vec<_>>(), ["cfg", "scratch"]);
    let cfg = &out.mounted["cfg"];
    assert_eq!(cfg.host_path, s.path().join("pods/u-1/volumes/kubernetes.io~configmap/cfg"));
    assert!(cfg.read_only && cfg.selinux_relabel);
    assert_eq!(fs::read_to_string(cfg.host_path.join("key")).expect("key"), "v1");
    assert!(cfg.host_path.join("scratch").is_dir(), "nested mount point made");
    assert!(s.path().join("pods/u-1/plugins/kubernetes.io~empty-dir/wrapped_cfg/ready").is_file());
    assert!(s.path().join("pods/u-1/plugins/kubernetes.io~empty-dir/scratch/ready").is_file());
    assert_eq!(out.failed["missing"], "MountVolume.SetUp failed for volume \"missing\" : configmap \"nope\" not found");
    assert!(!s.path().join("pods/u-1/volumes/kubernetes.io~configmap/missing").exists(), "nothing on disk");
    assert!(out.unsupported["nfs"].contains("no volume plugin matched"));
    assert!(!out.failed.contains_key("unused") && !out.mounted.contains_key("unused"));

    // A refresh rewrites only the refreshable volumes.
    let o = objects("v2");
    let ctx = SetupContext { node: &node, objects: &o, tokens: None, host: &RealHost, noswap: false };
    let out = setup_pod(&ctx, &p, TokenCache::default(), true);
    assert_eq!(out.mounted.keys().collect::<Vec<_>>(), ["cfg"]);
    assert_eq!(fs::read_to_string(cfg.host_path.join("key")).expect("key"), "v2");
}

#[test]
fn host_path_type_errors_are_setup_failures() {
    let s = Scratch::new("setup-host");
    let node = node(s.path());
    let o = objects("v");
    let ctx = SetupContext { node: &node, objects: &o, tokens: None, host: &RealHost, noswap: false };
    let missing = s.path().join("nope").to_string_lossy().into_owned();
    let made = s.path().join("made/here").to_string_lossy().into_owned();
    let p = pod(
        json!([
            {"name": "dir", "hostPath": {"path": missing, "type": "Directory"}},
            {"name": "create", "hostPath": {"path": made, "type": "DirectoryOrCreate"}},
        ]),
        json!([{"name": "dir", "mountPath": "/d"}, {"name": "create", "mountPath": "/c"}]),
    );
    let out = setup_pod(&ctx, &p, TokenCache::default(), false);
    assert_eq!(
        out.failed["dir"],
        format!(
            "MountVolume.SetUp failed for volume \"dir\" : hostPath type check failed, {missing} is not a directory, unable to determine its type: path {missing:?} does not exist"
        )
    );
    assert_eq!(out.mounted["create"].host_path, PathBuf::from(&made));
    assert!(!out.mounted["create"].read_only && !out.mounted["create"].selinux_relabel);
    assert!(Path::new(&made).is_dir());
}

#[test]
fn secret_is_on_tmpfs() {
    if !can_mount() {
        return;
    }
    let s = Scratch::new("setup-secret");
    let node = node(s.path());
    let o = objects("v");
    let ctx = SetupContext { node: &node, objects: &o, tokens: None, host: &RealHost, noswap: false };
    let p = pod(json!([{"name": "sec", "secret": {"secretName": "s"}}]), json!([{"name": "sec", "mountPath": "/s"}]));
    let out = setup_pod(&ctx, &p, TokenCache::default(), false);
    let dir = &out.mounted["sec"].host_path;
    assert!(crate::volume::mount::is_tmpfs(dir).expect("statfs"));
    assert_eq!(fs::read_to_string(dir.join("k")).expect("k"), "v");
    let out = setup_pod(&ctx, &p, out.tokens, false);
    assert!(out.failed.is_empty());
    assert_eq!(MountTable::read().expect("table").mounts_under(s.path()).len(), 1, "no second mount");
    crate::volume::teardown::teardown_pod(&node, "u-1").expect("teardown");
    assert!(MountTable::read().expect("table").mounts_under(s.path()).is_empty());
}

#[test]
fn nested_and_owner() {
    let mut p = pod(
        json!([]),
        json!([{"name": "a", "mountPath": "/data"}, {"name": "b", "mountPath": "/data/b"}, {"name": "c", "mountPath": "/data/b/c"}, {"name": "d", "mountPath": "/database"}]),
    );
    assert_eq!(nested_mount_points("a", &p), Ok(vec!["b".to_string()]));
    assert_eq!(nested_mount_points("b", &p), Ok(vec!["c".to_string()]));
    assert_eq!(nested_mount_points("d", &p), Ok(vec![]));
    assert_eq!(fs_user(&p), None);
    p.spec.security_context = Some(serde_json::from_value(json!({"runAsUser": 1000})).expect("psc"));
    assert_eq!(fs_user(&p), Some(1000));
    p.spec.init_containers = vec![serde_json::from_value(json!({"name": "i", "securityContext": {"runAsUser": 0}})).expect("c")];
    assert_eq!(fs_user(&p), None, "two different users");
    assert_eq!(clean("/a//b/./c/../d/"), "/a/b/d");
}
