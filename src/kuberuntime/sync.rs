//! One sync of a pod (upstream's `SyncPod`): compute the actions, then carry them out in
//! order, stopping at the first step that fails.
//!
//! ```text
//!  1 compute actions                     (actions.rs)
//!  2 kill the pod when it must go / get a new sandbox (then purge init containers),
//!    else kill the containers to kill
//!  3 prune old exited init containers
//!  4 create the sandbox: pod dirs, log dir, RunPodSandbox, its IPs
//!  5 start ephemeral containers, then init containers in order (a failing one ends the sync, a sidecar does not)
//!  6 start app containers               (start.rs, each into the reason cache)
//! ```
//! `cancel` is checked between steps: a kill that arrives mid-sync stops it early.

use std::fs;

use super::actions::compute_pod_actions;
use super::container::ContainerKind;
use super::error::cri_error_text;
use super::inspect::{sandbox_ips, sandbox_status};
use super::kill::KillRequest;
use super::model::{ContainerState, PodStatus, SandboxState};
use super::paths::{plugins_dir, pod_dir, volumes_dir};
use super::runtime::{Runtime, SyncContext, SyncResult};
use super::sandbox::sandbox_config;
use super::start::{StartCtx, sync_error};
use crate::api::core::Pod;
use crate::cri;
use crate::events::{EventType, reason};
use crate::status::reason::pod_desc;

impl Runtime {
    /// Brings `pod` one step towards its spec, given the runtime's (fresh) view `status`.
    pub fn sync_pod(&self, pod: &Pod, status: &PodStatus, ctx: &mut SyncContext) -> SyncResult {
        let mut result = SyncResult::default();
        let desc = pod_desc(pod);
        let actions = compute_pod_actions(pod, status, ctx.verdicts);
        log::trace!("pod {desc}: {actions:?}");
        if actions.create_sandbox && !actions.sandbox_id.is_empty() {
            let why = "Pod sandbox changed, it will be killed and re-created.";
            self.recorder.pod_event(pod, "", EventType::Normal, reason::SANDBOX_CHANGED, why);
        }

        if actions.kill_pod {
            let anything = status.running().next().is_some()
                || status.sandboxes.iter().any(|s| s.state == SandboxState::Ready);
            if anything {
                if let Err(e) = self.kill_pod(Some(pod), status, None) {
                    result.fail(sync_error("KillPodSandbox", &desc, "KillPodSandboxError", &e.to_string()));
                    return result;
                }
                result.changed = true;
            }
            if actions.create_sandbox {
                self.purge_init_containers(pod, status);
            }
        } else {
            for (id, k) in &actions.containers_to_kill {
                let req = KillRequest {
                    pod: Some(pod),
                    id,
                    name: &k.name,
                    message: &k.message,
                    reason: k.reason,
                    grace_override: None,
                    pod_ips: &status.ips,
                };
                if let Err(e) = self.kill_container(&req, None) {
                    result.fail(sync_error("KillContainer", &k.name, "KillContainerError", &e.to_string()));
                    return result;
                }
                result.changed = true;
            }
        }
        self.prune_init_containers(pod, status);

        let mut pod_ips = status.ips.clone();
        let mut sandbox_id = actions.sandbox_id.clone();
        if actions.create_sandbox {
            if (ctx.cancel)() {
                return result;
            }
            match self.create_sandbox(pod, actions.attempt) {
                Ok(id) => sandbox_id = id,
                Err(message) => {
                    result.fail(sync_error("CreatePodSandbox", &desc, "CreatePodSandboxError", &message));
                    return result;
                }
            }
            result.changed = true;
            match sandbox_status(&self.cri, &sandbox_id) {
                Ok(Some(s)) => {
                    if !pod.spec.host_network.unwrap_or(false) {
                        pod_ips = sandbox_ips(&s);
                    }
                }
                Ok(None) => {
                    result.fail(format!("sandbox {sandbox_id} of pod {desc} vanished after it was created"));
                    return result;
                }
                Err(e) => {
                    result.fail(e.to_string());
                    return result;
                }
            }
        }

        let nothing_to_start = actions.ephemeral_containers_to_start.is_empty()
            && actions.init_containers_to_start.is_empty()
            && actions.containers_to_start.is_empty();
        if nothing_to_start {
            return result;
        }
        let config = match sandbox_config(pod, actions.attempt, &self.node) {
            Ok(c) => c,
            Err(e) => {
                result.fail(format!("GeneratePodSandboxConfig for pod {desc:?} failed: {e}"));
                return result;
            }
        };
        let start = StartCtx {
            pod,
            status,
            sandbox_id: &sandbox_id,
            sandbox_config: &config,
            pod_ips: &pod_ips,
            target: None,
        };
        // Ephemeral containers first: they may debug a pod whose init containers fail.
        for &idx in &actions.ephemeral_containers_to_start {
            let Some(ec) = pod.spec.ephemeral_containers.get(idx) else { continue };
            if (ctx.cancel)() {
                return result;
            }
            let s =
                StartCtx { target: ec.target_container_name.as_deref().filter(|t| !t.is_empty()), ..start };
            self.start_container(&s, &ec.common, ContainerKind::Ephemeral, ctx, &mut result);
        }
        for &idx in &actions.init_containers_to_start {
            let Some(c) = pod.spec.init_containers.get(idx) else { continue };
            if (ctx.cancel)() {
                return result;
            }
            if !self.start_container(&start, c, ContainerKind::Init, ctx, &mut result)
                && !c.is_restartable_init()
            {
                // The next init container waits for this one.
                return result;
            }
        }
        for &idx in &actions.containers_to_start {
            let Some(c) = pod.spec.containers.get(idx) else { continue };
            if (ctx.cancel)() {
                return result;
            }
            self.start_container(&start, c, ContainerKind::App, ctx, &mut result);
        }
        result
    }

    /// Creates the pod's directories and its sandbox; `Err` is upstream's message.
    fn create_sandbox(&self, pod: &Pod, attempt: u32) -> Result<String, String> {
        let desc = pod_desc(pod);
        // Every failure is a FailedCreatePodSandBox event with the bare cause, as upstream's
        // SyncPod records it (the node e2e FQDN spec reads that message).
        let fail = |cause: String, message: String| {
            let why = format!("Failed to create pod sandbox: {cause}");
            self.recorder.pod_event(pod, "", EventType::Warning, reason::FAILED_CREATE_POD_SANDBOX, &why);
            message
        };
        let config = sandbox_config(pod, attempt, &self.node).map_err(|e| {
            fail(e.kind.to_string(), format!("Failed to generate sandbox config for pod {desc:?}: {}", e.kind))
        })?;
        let uid = pod.metadata.uid();
        for d in [pod_dir(&self.node, uid), volumes_dir(&self.node, uid), plugins_dir(&self.node, uid)] {
            fs::create_dir_all(&d).map_err(|e| {
                fail(e.to_string(), format!("Failed to create pod directory {}: {e}", d.display()))
            })?;
        }
        fs::create_dir_all(&config.log_directory).map_err(|e| {
            fail(e.to_string(), format!("Failed to create log directory for pod {desc:?}: {e}"))
        })?;
        let req = cri::RunPodSandboxRequest { config: Some(config), runtime_handler: String::new() };
        self.cri.run_pod_sandbox(&req).map(|r| r.pod_sandbox_id).map_err(|e| {
            let err = cri_error_text(&e);
            fail(err.clone(), format!("Failed to create sandbox for pod {desc:?}: {err}"))
        })
    }

    /// Removes every instance of the pod's init containers (a new sandbox starts them over).
    fn purge_init_containers(&self, pod: &Pod, status: &PodStatus) {
        for c in &pod.spec.init_containers {
            for s in status.containers_named(&c.name) {
                self.remove_container_logged(pod, s);
            }
        }
    }

    /// Keeps only the newest exited instance of each init container.
    fn prune_init_containers(&self, pod: &Pod, status: &PodStatus) {
        for c in &pod.spec.init_containers {
            let dead = status
                .containers_named(&c.name)
                .filter(|s| matches!(s.state, Some(ContainerState::Exited | ContainerState::Unknown) | None));
            for s in dead.skip(1) {
                self.remove_container_logged(pod, s);
            }
        }
    }

    fn remove_container_logged(&self, pod: &Pod, c: &super::model::ContainerStatus) {
        if let Err(e) = self.remove_container(pod.metadata.name(), pod.metadata.namespace(), c) {
            log::error!("failed to remove init container {} of pod {}: {e}", c.id, pod_desc(pod));
        }
    }
}

#[cfg(test)]
#[path = "sync_tests.rs"]
mod tests;
