use serde_json::json;

use super::*;
use crate::kuberuntime::testutil::{pod, pod_with, strs};

fn container_sc(p: &Pod) -> LinuxContainerSecurityContext {
    container_security_context(p, &p.spec.containers[0], None, None, &NodeContext::default()).expect("ok")
}

#[test]
fn namespaces() {
    let ns = namespace_options(&pod(json!({}))).expect("ok");
    assert_eq!(
        (ns.network, ns.pid, ns.ipc),
        (NamespaceMode::POD, NamespaceMode::CONTAINER, NamespaceMode::POD)
    );
    assert_eq!(ns.userns_options.map(|u| u.mode), Some(NamespaceMode::NODE));
    let ns =
        namespace_options(&pod(json!({"hostNetwork": true, "hostPID": true, "hostIPC": true}))).expect("ok");
    assert_eq!((ns.network, ns.pid, ns.ipc), (NamespaceMode::NODE, NamespaceMode::NODE, NamespaceMode::NODE));
    let ns = namespace_options(&pod(json!({"shareProcessNamespace": true}))).expect("ok");
    assert_eq!(ns.pid, NamespaceMode::POD);
    let err = namespace_options(&pod(json!({"hostUsers": false}))).expect_err("userns");
    assert_eq!(err, BuildErrorKind::UserNamespacesUnsupported);
}

#[test]
fn sandbox_context() {
    let p = pod(json!({
        "securityContext": {
            "runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000, "supplementalGroups": [4000, 5000],
            "supplementalGroupsPolicy": "Strict",
            "seLinuxOptions": {"level": "s0:c1,c2"},
            "seccompProfile": {"type": "Unconfined"},
        },
        "initContainers": [{"name": "init", "image": "busybox", "securityContext": {"privileged": true}}],
    }));
    let sc = sandbox_security_context(&p).expect("ok");
    assert!(sc.privileged, "any privileged container makes the sandbox privileged");
    assert_eq!(sc.run_as_user, Some(Int64Value { value: 1000 }));
    assert_eq!(sc.run_as_group, Some(Int64Value { value: 3000 }));
    assert_eq!(sc.supplemental_groups, [2000, 4000, 5000]);
    assert_eq!(sc.supplemental_groups_policy, SupplementalGroupsPolicy::STRICT);
    assert_eq!(sc.selinux_options.map(|o| o.level), Some("s0:c1,c2".to_string()));
    assert_eq!(
        sc.seccomp.map(|s| s.profile_type),
        Some(ProfileType::RUNTIME_DEFAULT),
        "always for the sandbox"
    );
    assert!(!sandbox_security_context(&pod(json!({}))).expect("ok").privileged);
    let bad = pod(json!({"securityContext": {"supplementalGroupsPolicy": "Loose"}}));
    assert_eq!(
        sandbox_security_context(&bad).expect_err("bad").to_string(),
        "unsupported supplementalGroupsPolicy: Loose"
    );
}

#[test]
fn container_overrides_pod() {
    let p = pod(json!({
        "securityContext": {"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000, "runAsNonRoot": true},
        "containers": [{"name": "app", "image": "nginx", "securityContext": {
            "runAsUser": 1001,
            "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]},
            "readOnlyRootFilesystem": true,
            "allowPrivilegeEscalation": false,
        }}],
    }));
    let sc = container_sc(&p);
    assert_eq!(sc.run_as_user, Some(Int64Value { value: 1001 }));
    assert_eq!(sc.run_as_group, Some(Int64Value { value: 3000 }));
    assert_eq!(sc.supplemental_groups, [2000]);
    let caps = sc.capabilities.expect("caps");
    assert_eq!((caps.add_capabilities, caps.drop_capabilities), (strs(&["NET_ADMIN"]), strs(&["ALL"])));
    assert!(sc.readonly_rootfs && sc.no_new_privs && !sc.privileged);
    assert_eq!(sc.masked_paths.len(), DEFAULT_MASKED_PATHS.len());
    assert_eq!(sc.readonly_paths, strs(DEFAULT_READONLY_PATHS));
    assert_eq!(sc.namespace_options.map(|n| n.pid), Some(NamespaceMode::CONTAINER));
}

#[test]
fn privileged_and_unmasked() {
    let p = pod(json!({"containers": [{"name": "app", "securityContext": {"privileged": true}}]}));
    let sc = container_sc(&p);
    assert!(sc.privileged && !sc.no_new_privs);
    assert!(
        !sc.masked_paths.is_empty(),
        "upstream sends the defaults; the runtime ignores them when privileged"
    );
    let p = pod(json!({"containers": [{"name": "app", "securityContext": {"procMount": "Unmasked"}}]}));
    let sc = container_sc(&p);
    assert!(sc.masked_paths.is_empty() && sc.readonly_paths.is_empty());
}

#[test]
fn seccomp_profiles() {
    let node = NodeContext::default();
    let profile_of = |p: &Pod, n: &NodeContext| {
        container_security_context(p, &p.spec.containers[0], None, None, n)
            .map(|s| s.seccomp.unwrap_or_default())
    };
    let unconfined = profile_of(&pod(json!({})), &node).expect("ok");
    assert_eq!(unconfined.profile_type, ProfileType::UNCONFINED);
    let with_default = NodeContext { seccomp_default: true, ..NodeContext::default() };
    assert_eq!(
        profile_of(&pod(json!({})), &with_default).expect("ok").profile_type,
        ProfileType::RUNTIME_DEFAULT
    );
    let p = pod(json!({
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "app", "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "prof.json"}}}],
    }));
    let local = profile_of(&p, &node).expect("ok");
    assert_eq!(local.profile_type, ProfileType::LOCALHOST);
    assert_eq!(local.localhost_ref, "/var/lib/kubelet/seccomp/prof.json");
    let pod_level = pod(json!({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}));
    assert_eq!(profile_of(&pod_level, &node).expect("ok").profile_type, ProfileType::RUNTIME_DEFAULT);
    let missing = pod(json!({"securityContext": {"seccompProfile": {"type": "Localhost"}}}));
    assert_eq!(profile_of(&missing, &node).expect_err("no name"), BuildErrorKind::SeccompLocalhostMissing);
}

#[test]
fn apparmor_profiles() {
    let apparmor = |p: &Pod| container_sc(p).apparmor;
    assert_eq!(apparmor(&pod(json!({}))), None);
    let p = pod(json!({"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}}));
    assert_eq!(apparmor(&p).map(|a| a.profile_type), Some(ProfileType::RUNTIME_DEFAULT));
    let annotated = pod_with(
        json!({"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "localhost/k8s-nginx"}}),
        json!({"securityContext": {"appArmorProfile": {"type": "Unconfined"}}}),
    );
    let a = apparmor(&annotated).expect("set");
    assert_eq!(
        (a.profile_type, a.localhost_ref.as_str()),
        (ProfileType::LOCALHOST, "k8s-nginx"),
        "annotation before pod"
    );
    let own = pod(json!({
        "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "app", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}],
    }));
    assert_eq!(apparmor(&own).map(|a| a.profile_type), Some(ProfileType::UNCONFINED));
}

#[test]
fn image_user_and_ephemeral_target() {
    let p = pod(json!({}));
    let c = &p.spec.containers[0];
    let node = NodeContext::default();
    let user = ImageUser::from_image(None, "nginx");
    let sc = container_security_context(&p, c, Some(&user), Some("abc123"), &node).expect("ok");
    assert_eq!((sc.run_as_user, sc.run_as_username.as_str()), (None, "nginx"));
    let ns = sc.namespace_options.expect("ns");
    assert_eq!((ns.pid, ns.target_id.as_str()), (NamespaceMode::TARGET, "abc123"));
    let sc = container_security_context(&p, c, Some(&ImageUser::from_image(Some(101), "")), None, &node)
        .expect("ok");
    assert_eq!(sc.run_as_user, Some(Int64Value { value: 101 }));
    assert_eq!(
        ImageUser::from_image(None, ""),
        ImageUser { uid: Some(0), username: String::new() },
        "unknown is root"
    );
    let shared = pod(json!({"shareProcessNamespace": true}));
    let sc = container_security_context(&shared, &shared.spec.containers[0], None, Some("abc"), &node)
        .expect("ok");
    assert_eq!(sc.namespace_options.map(|n| n.pid), Some(NamespaceMode::POD), "a shared PID namespace stays");
}

#[test]
fn run_as_non_root() {
    let strict = |user: Option<i64>| {
        let mut sc = json!({"runAsNonRoot": true});
        if let Some(u) = user {
            sc["runAsUser"] = json!(u);
        }
        pod(json!({"securityContext": sc}))
    };
    let check =
        |p: &Pod, image: Option<ImageUser>| verify_run_as_non_root(p, &p.spec.containers[0], image.as_ref());
    assert!(
        check(&strict(Some(1000)), Some(ImageUser::from_image(Some(0), ""))).is_ok(),
        "runAsUser decides"
    );
    let err = check(&strict(Some(0)), None).expect_err("root");
    assert_eq!(
        err.to_string(),
        "container's runAsUser breaks non-root policy (pod: \"web_prod(u-1)\", container: app)"
    );
    let err = check(&strict(None), Some(ImageUser::from_image(None, ""))).expect_err("image root");
    assert_eq!(
        err.to_string(),
        "container has runAsNonRoot and image will run as root (pod: \"web_prod(u-1)\", container: app)"
    );
    let err = check(&strict(None), Some(ImageUser::from_image(None, "nginx"))).expect_err("name");
    assert!(err.to_string().starts_with("container has runAsNonRoot and image has non-numeric user (nginx)"));
    assert!(matches!(
        check(&strict(None), Some(ImageUser::from_image(Some(-5), ""))),
        Err(BuildErrorKind::ImageInvalidUid { uid: -5, .. })
    ));
    assert!(check(&strict(None), Some(ImageUser::from_image(Some(1000), ""))).is_ok());
    assert!(check(&strict(None), None).is_ok(), "nothing known about the image");
    assert!(check(&pod(json!({})), Some(ImageUser::from_image(Some(0), ""))).is_ok(), "no policy");
}
