//! Builders shared by the status tests.

use crate::api::ObjectMeta;
use crate::api::core::{
    Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
    ContainerStateWaiting, ContainerStatus, Pod,
};
use crate::api::time::Time;
use crate::kuberuntime::{self as rt, ContainerState as RtState, SandboxState};

pub const UID: &str = "uid-1";
pub const SANDBOX: &str = "sb1";
pub const SEC: i64 = 1_000_000_000;

/// A pod `web` in `default` with app containers of the given names (image `busybox`).
pub fn pod(containers: &[&str]) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some("web".into()),
            namespace: Some("default".into()),
            uid: Some(UID.into()),
            ..Default::default()
        },
        spec: crate::api::core::PodSpec {
            containers: containers.iter().map(|n| container(n)).collect(),
            ..Default::default()
        },
        ..Default::default()
    }
}

pub fn container(name: &str) -> Container {
    Container {
        name: name.into(),
        image: Some("busybox".into()),
        ..Default::default()
    }
}

pub fn with_policy(mut pod: Pod, policy: &str) -> Pod {
    pod.spec.restart_policy = Some(policy.into());
    pod
}

pub fn with_init(mut pod: Pod, name: &str) -> Pod {
    pod.spec.init_containers.push(container(name));
    pod
}

pub fn with_sidecar(mut pod: Pod, name: &str) -> Pod {
    let mut c = container(name);
    c.restart_policy = Some("Always".into());
    pod.spec.init_containers.push(c);
    pod
}

fn status(name: &str, state: ContainerState) -> ContainerStatus {
    ContainerStatus {
        name: name.into(),
        state: Some(state),
        last_state: Some(Default::default()),
        ..Default::default()
    }
}

pub fn running(name: &str) -> ContainerStatus {
    let r = ContainerStateRunning {
        started_at: Some(Time::from_unix(100)),
    };
    status(
        name,
        ContainerState {
            running: Some(r),
            ..Default::default()
        },
    )
}

pub fn running_started(name: &str, started: bool) -> ContainerStatus {
    ContainerStatus {
        started: Some(started),
        ..running(name)
    }
}

pub fn terminated_state(code: i32) -> ContainerState {
    let t = ContainerStateTerminated {
        exit_code: code,
        ..Default::default()
    };
    ContainerState {
        terminated: Some(t),
        ..Default::default()
    }
}

pub fn exited(name: &str, code: i32) -> ContainerStatus {
    status(name, terminated_state(code))
}

pub fn waiting(name: &str) -> ContainerStatus {
    let w = ContainerStateWaiting {
        reason: Some("ContainerCreating".into()),
        message: None,
    };
    status(
        name,
        ContainerState {
            waiting: Some(w),
            ..Default::default()
        },
    )
}

/// Waiting to restart after exiting with `code`.
pub fn waiting_after(name: &str, code: i32) -> ContainerStatus {
    ContainerStatus {
        last_state: Some(terminated_state(code)),
        ..waiting(name)
    }
}

/// A container record in sandbox [`SANDBOX`], created at `created` seconds.
pub fn rt_container(name: &str, id: &str, created: i64, state: RtState) -> rt::ContainerStatus {
    rt::ContainerStatus {
        id: id.into(),
        name: name.into(),
        sandbox_id: SANDBOX.into(),
        state: Some(state),
        created_at: created * SEC,
        started_at: (created + 1) * SEC,
        image: "docker.io/library/busybox:latest".into(),
        image_ref: "docker.io/library/busybox@sha256:abc".into(),
        image_id: "sha256:abc".into(),
        ..Default::default()
    }
}

pub fn rt_running(name: &str, id: &str, created: i64, restarts: u32) -> rt::ContainerStatus {
    rt::ContainerStatus {
        restart_count: restarts,
        ..rt_container(name, id, created, RtState::Running)
    }
}

pub fn rt_exited(
    name: &str,
    id: &str,
    created: i64,
    code: i32,
    reason: &str,
) -> rt::ContainerStatus {
    rt::ContainerStatus {
        exit_code: code,
        reason: reason.into(),
        finished_at: (created + 5) * SEC,
        ..rt_container(name, id, created, RtState::Exited)
    }
}

/// A runtime status with one ready sandbox (IP 10.0.0.5) and the given containers.
pub fn runtime(containers: Vec<rt::ContainerStatus>) -> rt::PodStatus {
    rt::PodStatus {
        uid: UID.into(),
        name: "web".into(),
        namespace: "default".into(),
        ips: vec!["10.0.0.5".into()],
        sandboxes: vec![sandbox(SANDBOX, SandboxState::Ready, vec!["10.0.0.5"])],
        containers,
    }
}

pub fn sandbox(id: &str, state: SandboxState, ips: Vec<&str>) -> rt::SandboxStatus {
    rt::SandboxStatus {
        id: id.into(),
        state,
        created_at: SEC,
        attempt: 0,
        ips: ips.into_iter().map(String::from).collect(),
        host_network: false,
    }
}

pub fn state_of(s: &ContainerStatus) -> &ContainerState {
    s.state.as_ref().expect("a status always has a state")
}

pub fn waiting_reason(s: &ContainerStatus) -> Option<&str> {
    state_of(s).waiting.as_ref()?.reason.as_deref()
}

pub fn terminated_of(s: &ContainerStatus) -> &ContainerStateTerminated {
    state_of(s).terminated.as_ref().expect("terminated")
}

pub fn last_term(s: &ContainerStatus) -> Option<&ContainerStateTerminated> {
    s.last_state.as_ref()?.terminated.as_ref()
}
