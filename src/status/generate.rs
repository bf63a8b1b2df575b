//! The API `PodStatus` from the runtime's view: upstream's `generateAPIPodStatus` with the
//! parts of its status manager that shape the stored status (`lastTransitionTime`,
//! `startTime`, `observedGeneration`, message truncation), as one pure function.
//!
//! ```text
//!  runtime PodStatus ─┐
//!  previous status ───┼─► container statuses ─► phase ─► terminal guard, deadline ─► probes
//!  reason cache ──────┘        (containers)     (phase)                              (probes)
//!                                                   └──────► conditions ─► IPs, times ─► status
//! ```

use std::net::IpAddr;

use crate::api::core::{HostIP, Pod, PodIP, PodStatus};
use crate::api::helpers::pod_qos;
use crate::api::time::Time;
use crate::kuberuntime::{self as rt, SandboxState};

use super::conditions;
use super::containers::{self, Source};
use super::phase::{self, Phase, is_terminal_phase};
use super::probes::{self, ProbeResults};
use super::reason::ReasonCache;

/// Everything [`generate`] reads.
#[derive(Debug, Clone, Copy)]
pub struct GenerateInput<'a> {
    /// The pod as its source has it now (for API pods, `status` is the API server's).
    pub pod: &'a Pod,
    /// The runtime's view of the pod (PLEG's cache entry).
    pub runtime: &'a rt::PodStatus,
    /// The worker's start failures by container name.
    pub reasons: &'a ReasonCache,
    /// The status last computed for this pod (the status manager's); `None` falls back to
    /// `pod.status`, as upstream does.
    pub previous: Option<&'a PodStatus>,
    /// The node's IPs, primary first (`hostIP`/`hostIPs`; host-network pods' `podIPs`). Empty:
    /// no host IPs are reported, as upstream without an API server.
    pub host_ips: &'a [String],
    /// Readiness and startup probe results by container name.
    pub probes: &'a ProbeResults,
    /// The worker has stopped the pod for good (upstream's `podIsTerminal`): containers will
    /// not restart, so an API pod whose containers all stopped becomes Succeeded or Failed.
    pub pod_is_terminal: bool,
    /// The runtime's name for container IDs (`containerd` → `containerd://<id>`).
    pub runtime_name: &'a str,
    /// When this rkubelet started: containers running since before it keep the pod's readiness
    /// until probed. `None` disables that rule.
    pub agent_start: Option<Time>,
    pub now: Time,
}

/// Upstream's reason and message for a pod past `activeDeadlineSeconds`.
pub const DEADLINE_EXCEEDED: &str = "DeadlineExceeded";
const DEADLINE_MESSAGE: &str = "Pod was active on the node longer than the specified deadline";
/// Total bytes of termination messages a pod status carries, split between its containers.
const MAX_TERMINATION_MESSAGES: usize = 12 * 1024;

/// The API status of `input.pod`.
pub fn generate(input: &GenerateInput) -> PodStatus {
    let pod = input.pod;
    let old = input.previous.unwrap_or(&pod.status);
    let src = Source::new(pod, input.runtime, input.reasons, input.runtime_name);
    let mut init = containers::convert(
        &src,
        &pod.spec.init_containers,
        &old.init_container_statuses,
        true,
    );
    let mut app = containers::convert(&src, &pod.spec.containers, &old.container_statuses, false);
    // Ephemeral containers: like app containers (sorted by name), but no part of the phase,
    // the conditions or the probes.
    let ephemeral: Vec<_> = pod.spec.ephemeral_containers.iter().map(|e| e.common.clone()).collect();
    let ephemeral = containers::convert(&src, &ephemeral, &old.ephemeral_container_statuses, false);

    let initialized = app_container_in_newest_sandbox(pod, input.runtime);
    let mut s = PodStatus {
        phase: Some(
            phase::get_phase(pod, &init, &app, input.pod_is_terminal, initialized)
                .as_str()
                .to_string(),
        ),
        qos_class: Some(pod_qos(pod).as_str().to_string()),
        ..Default::default()
    };
    settle_phase(&mut s, input, old);
    probes::apply(pod, &mut init, &mut app, input.probes, input.agent_start);

    let phase = s
        .phase
        .as_deref()
        .and_then(Phase::parse)
        .unwrap_or(Phase::Pending);
    let inputs = conditions::Inputs {
        pod,
        runtime: input.runtime,
        old,
        init: &init,
        app: &app,
        phase,
        now: input.now,
    };
    s.conditions = conditions::build(&inputs);
    s.init_container_statuses = init;
    s.container_statuses = app;
    s.ephemeral_container_statuses = ephemeral;

    set_ips(&mut s, input, old);
    s.start_time = Some(
        old.start_time
            .or(pod.status.start_time)
            .unwrap_or(input.now),
    );
    let generation = pod
        .metadata
        .generation
        .unwrap_or(0)
        .max(old.observed_generation.unwrap_or(0));
    s.observed_generation = (generation != 0).then_some(generation);
    if s.volume_health.is_empty() {
        s.volume_health = old.volume_health.clone();
    }
    truncate_messages(&mut s, pod);
    s
}

/// The previous or the API's terminal phase wins, the phase's reason and message are kept
/// while the phase is, a passed active deadline fails the pod.
fn settle_phase(s: &mut PodStatus, input: &GenerateInput, old: &PodStatus) {
    let api = &input.pod.status;
    if !is_terminal_phase(s.phase.as_deref()) {
        if is_terminal_phase(old.phase.as_deref()) {
            s.phase = old.phase.clone();
        } else if is_terminal_phase(api.phase.as_deref()) {
            s.phase = api.phase.clone();
        }
    }
    if s.phase == old.phase {
        s.reason = old
            .reason
            .clone()
            .filter(|r| !r.is_empty())
            .or_else(|| api.reason.clone());
        s.message = old
            .message
            .clone()
            .filter(|m| !m.is_empty())
            .or_else(|| api.message.clone());
    }
    if past_active_deadline(input.pod, old, input.now) {
        s.phase = Some(Phase::Failed.as_str().to_string());
        s.reason = Some(DEADLINE_EXCEEDED.to_string());
        s.message = Some(DEADLINE_MESSAGE.to_string());
    }
    if is_terminal_phase(api.phase.as_deref()) && s.phase != api.phase {
        log::error!(
            "pod {} attempted illegal phase transition from {:?} to {:?}",
            input.pod.full_name(),
            api.phase,
            s.phase
        );
        s.phase = api.phase.clone();
    }
}

fn past_active_deadline(pod: &Pod, old: &PodStatus, now: Time) -> bool {
    let Some(deadline) = pod.spec.active_deadline_seconds else {
        return false;
    };
    let Some(start) = old.start_time.or(pod.status.start_time) else {
        return false;
    };
    now.unix_seconds().saturating_sub(start.unix_seconds()) >= deadline
}

/// An app container exists in the newest sandbox (upstream's
/// `HasAnyActiveRegularContainerStarted`).
fn app_container_in_newest_sandbox(pod: &Pod, runtime: &rt::PodStatus) -> bool {
    let Some(sandbox) = runtime.newest_sandbox() else {
        return false;
    };
    runtime
        .containers
        .iter()
        .filter(|c| c.sandbox_id == sandbox.id)
        .any(|c| pod.spec.containers.iter().any(|spec| spec.name == c.name))
}

/// The first IP of the node's family, then the first of the other family, normalised.
fn sort_pod_ips(ips: &[String], host_ips: &[String]) -> Vec<String> {
    let parsed: Vec<IpAddr> = ips.iter().filter_map(|ip| ip.trim().parse().ok()).collect();
    let node_v6 = host_ips
        .first()
        .and_then(|ip| ip.parse::<IpAddr>().ok())
        .is_some_and(|ip| ip.is_ipv6());
    let primary = parsed.iter().find(|ip| ip.is_ipv6() == node_v6);
    let secondary = parsed.iter().find(|ip| ip.is_ipv6() != node_v6);
    primary
        .into_iter()
        .chain(secondary)
        .map(IpAddr::to_string)
        .collect()
}

fn set_ips(s: &mut PodStatus, input: &GenerateInput, old: &PodStatus) {
    let mut ips = sort_pod_ips(&input.runtime.ips, input.host_ips);
    // Exited pods keep their last IPs (upstream's PLEG does this for its cache).
    let any_ready = input
        .runtime
        .sandboxes
        .iter()
        .any(|sb| sb.state == SandboxState::Ready);
    if ips.is_empty() && !any_ready {
        ips = old.pod_ips.iter().map(|p| p.ip.clone()).collect();
    }
    s.pod_ips = ips.into_iter().map(|ip| PodIP { ip }).collect();
    s.pod_ip = s.pod_ips.first().map(|p| p.ip.clone());

    let host: Vec<&String> = input.host_ips.iter().take(2).collect();
    let Some(primary) = host.first() else { return };
    s.host_ip = Some(primary.to_string());
    s.host_ips = host
        .iter()
        .map(|ip| HostIP { ip: ip.to_string() })
        .collect();
    if input.pod.spec.host_network == Some(true) {
        if s.pod_ip.is_none() {
            s.pod_ip = Some(primary.to_string());
            s.pod_ips = vec![PodIP {
                ip: primary.to_string(),
            }];
        }
        let family = |ip: &str| ip.parse::<IpAddr>().ok().map(|a| a.is_ipv6());
        if let (Some(second), [only]) = (host.get(1), s.pod_ips.as_slice())
            && family(&only.ip) != family(second)
        {
            s.pod_ips.push(PodIP {
                ip: second.to_string(),
            });
        }
    }
}

/// Caps each termination message at the pod's share of 12 KiB, as upstream's status manager.
fn truncate_messages(s: &mut PodStatus, pod: &Pod) {
    let spec = &pod.spec;
    let containers =
        spec.containers.len() + spec.init_containers.len() + spec.ephemeral_containers.len();
    let limit = MAX_TERMINATION_MESSAGES / containers.max(1);
    let all = s
        .init_container_statuses
        .iter_mut()
        .chain(s.container_statuses.iter_mut())
        .chain(s.ephemeral_container_statuses.iter_mut());
    for cs in all {
        for state in cs.state.iter_mut().chain(cs.last_state.iter_mut()) {
            if let Some(message) = state.terminated.as_mut().and_then(|t| t.message.as_mut()) {
                truncate_at_char(message, limit);
            }
        }
    }
}

/// Truncates to at most `max` bytes without splitting a UTF-8 character.
fn truncate_at_char(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
}

#[cfg(test)]
#[path = "generate_tests.rs"]
mod tests;
