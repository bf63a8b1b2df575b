use serde_json::json;

use super::*;
use crate::volume::mount::MountTable;
use crate::volume::testutil::{Scratch, can_mount};

fn volumes(root: &Path) -> PodVolumes {
    let vol = |plugin, dir: &str, read_only, relabel| MountedVolume { plugin, host_path: root.join(dir), read_only, selinux_relabel: relabel };
    PodVolumes {
        pod_dir: root.to_path_buf(),
        volumes: BTreeMap::from([
            ("cache".to_string(), vol(Plugin::EmptyDir, "volumes/kubernetes.io~empty-dir/cache", false, true)),
            ("cfg".to_string(), vol(Plugin::ConfigMap, "volumes/kubernetes.io~configmap/cfg", true, true)),
            ("host".to_string(), vol(Plugin::HostPath, "host", false, false)),
        ]),
        supports_rro: false,
    }
}

fn container(mounts: serde_json::Value) -> Container {
    serde_json::from_value(json!({"name": "app", "volumeMounts": mounts})).expect("container")
}

fn no_env() -> Result<Vec<EnvPair>, String> {
    panic!("env is only built for subPathExpr")
}

#[test]
fn plain_mounts() {
    let s = Scratch::new("mounts");
    let v = volumes(s.path());
    let c = container(json!([
        {"name": "cache", "mountPath": "/cache/"},
        {"name": "cfg", "mountPath": "etc/app"},
        {"name": "host", "mountPath": "/host", "readOnly": true, "mountPropagation": "HostToContainer"},
        {"name": "cache", "mountPath": "/shared", "mountPropagation": "Bidirectional"},
    ]));
    let m = v.container_mounts(&c, &no_env).expect("mounts");
    let summary: Vec<_> = m.iter().map(|m| (m.container_path.as_str(), m.readonly, m.selinux_relabel, m.propagation)).collect();
    assert_eq!(
        summary,
        [
            ("/cache", false, true, MountPropagation::PRIVATE),
            ("/etc/app", true, true, MountPropagation::PRIVATE),
            ("/host", true, false, MountPropagation::HOST_TO_CONTAINER),
            ("/shared", false, true, MountPropagation::BIDIRECTIONAL),
        ]
    );
    assert_eq!(m[0].host_path, s.path().join("volumes/kubernetes.io~empty-dir/cache").to_string_lossy());
}

#[test]
fn upstream_errors() {
    let s = Scratch::new("mounts-err");
    let v = volumes(s.path());
    let cases = [
        (json!([{"name": "nope", "mountPath": "/x"}]), "cannot find volume \"nope\" to mount into container \"app\""),
        (json!([{"name": "cache", "mountPath": "/x", "mountPropagation": "Sideways"}]), "invalid MountPropagation mode: \"Sideways\""),
        (json!([{"name": "cache", "mountPath": "/x", "subPath": "/etc"}]), "error SubPath `/etc` must not be an absolute path"),
        (json!([{"name": "cache", "mountPath": "/x", "subPath": "a/../../b"}]), "unable to provision SubPath `a/../../b`: must not contain '..'"),
        (
            json!([{"name": "cache", "mountPath": "/x", "recursiveReadOnly": "Enabled"}]),
            "volume \"cache\" requested recursive read-only mode, but it is not read-only",
        ),
        (
            json!([{"name": "cache", "mountPath": "/x", "readOnly": true, "recursiveReadOnly": "Enabled"}]),
            "volume \"cache\" requested recursive read-only mode, but it is not supported by the runtime",
        ),
    ];
    for (mounts, want) in cases {
        assert_eq!(v.container_mounts(&container(mounts.clone()), &no_env).err().as_deref(), Some(want), "{mounts}");
    }
    let c = container(json!([{"name": "cache", "mountPath": "/x", "readOnly": true, "recursiveReadOnly": "IfPossible"}]));
    assert!(!v.container_mounts(&c, &no_env).expect("if possible")[0].recursive_read_only);
    let rro = PodVolumes { supports_rro: true, ..volumes(s.path()) };
    assert!(rro.container_mounts(&c, &no_env).expect("supported")[0].recursive_read_only);
}

#[test]
fn sub_path_expr_needs_its_variables() {
    let s = Scratch::new("mounts-expr");
    let v = volumes(s.path());
    let c = container(json!([{"name": "cache", "mountPath": "/x", "subPathExpr": "$(POD)/$(EMPTY)/$(NONE)"}]));
    let env = || Ok(vec![("POD".to_string(), b"web".to_vec()), ("EMPTY".to_string(), Vec::new())]);
    assert_eq!(v.container_mounts(&c, &env).err().as_deref(), Some("missing value for EMPTY, NONE"));
    assert_eq!(expand_sub_path_expr("logs/$(POD)", &env().expect("env")).as_deref(), Ok("logs/web"));
    assert_eq!(expand_sub_path_expr("$$(POD)", &[]).as_deref(), Ok("$(POD)"));
}

#[test]
fn sub_paths_are_bind_mounted() {
    if !can_mount() {
        return;
    }
    let s = Scratch::new("mounts-sub");
    let v = volumes(s.path());
    let vol = s.path().join("volumes/kubernetes.io~empty-dir/cache");
    std::fs::create_dir_all(&vol).expect("vol");
    std::os::unix::fs::PermissionsExt::set_mode(&mut std::fs::metadata(&vol).expect("m").permissions(), 0o777);
    let c = container(json!([
        {"name": "cache", "mountPath": "/a", "subPath": "made/here"},
        {"name": "cache", "mountPath": "/b", "subPathExpr": "logs/$(POD)"},
    ]));
    let env = || Ok(vec![("POD".to_string(), b"web".to_vec())]);
    let m = v.container_mounts(&c, &env).expect("mounts");
    assert_eq!(m[0].host_path, s.path().join("volume-subpaths/cache/app/0").to_string_lossy());
    assert_eq!(m[1].host_path, s.path().join("volume-subpaths/cache/app/1").to_string_lossy());
    assert!(vol.join("made/here").is_dir() && vol.join("logs/web").is_dir());
    std::fs::write(vol.join("logs/web/f"), "1").expect("write");
    assert_eq!(std::fs::read_to_string(s.path().join("volume-subpaths/cache/app/1/f")).expect("via bind"), "1");
    subpath::clean_subpaths(s.path(), "cache").expect("clean");
    assert!(MountTable::read().expect("table").mounts_under(s.path()).is_empty());
}
