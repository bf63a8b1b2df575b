//! Starting one container (upstream's `doBackOff` + `startContainer`):
//!
//! ```text
//!  exited before and in restart backoff ─► BackOff event ───────────────► CrashLoopBackOff
//!  image (policy, pull, backoff) ─────── fails ─► Failed "Error: <reason>" ─► ErrImagePull, ...
//!  termination-log file, managed /etc/hosts, container config ─ fails ─► CreateContainerConfigError
//!  CreateContainer ─ fails ─► CreateContainerError    ─► Created "Container created"
//!  StartContainer  ─ fails ─► RunContainerError       ─► Started "Container started"
//!  postStart hook  ─ fails ─► FailedPostStartHook, container killed ─► PostStartHookError
//! ```
//! Every outcome goes into the pod's reason cache (a success clears the container's entry).

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::actions::KillReason;
use super::backoff::container_backoff_key;
use super::container::{ContainerInputs, ContainerKind, container_config};
use super::error::cri_message;
use super::hooks;
use super::hosts::{
    etc_hosts_content, host_network_etc_hosts_content, needs_managed_etc_hosts, pod_hostname_and_domain,
};
use super::image::EnsureImage;
use super::kill::{KillRequest, field_path};
use super::labels::termination_message_path;
use super::logsymlink;
use super::model::{ContainerState, PodStatus};
use super::paths::{container_log_dir, etc_hosts_path, termination_log_path};
use super::runtime::{Runtime, SyncContext, SyncResult};
use super::security::ImageUser;
use crate::api::core::{Container, Pod};
use crate::cri;
use crate::events::{EventType, reason};
use crate::status::StartFailure;
use crate::status::reason::{crash_loop_message, pod_desc};

type Failure = (StartFailure, String);

/// The node's own hosts file, which host-network pods see.
const NODE_ETC_HOSTS: &str = "/etc/hosts";

/// What every container start of one sync shares.
#[derive(Clone, Copy)]
pub(crate) struct StartCtx<'a> {
    pub pod: &'a Pod,
    pub status: &'a PodStatus,
    pub sandbox_id: &'a str,
    pub sandbox_config: &'a cri::PodSandboxConfig,
    pub pod_ips: &'a [String],
    /// For an ephemeral container: its `targetContainerName`.
    pub target: Option<&'a str>,
}

/// Upstream's sync result error text: `failed to "StartContainer" for "app" with
/// CrashLoopBackOff: "back-off 10s ..."`.
pub(crate) fn sync_error(action: &str, target: &str, error: &str, message: &str) -> String {
    format!("failed to {action:?} for {target:?} with {error}: {message:?}")
}

fn from_unix_nanos(nanos: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
}

/// A random number for a termination-log file name (upstream's `makeUID`), from the
/// kernel's random source.
fn random_u32() -> u32 {
    let mut b = [0u8; 4];
    let read = fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut b));
    if read.is_err() {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().subsec_nanos();
        b = (nanos ^ std::process::id().rotate_left(16)).to_le_bytes();
    }
    u32::from_le_bytes(b)
}

/// The restart count of a container with no status left: one more than the highest
/// `<n>.log` in its log directory (upstream's `calcRestartCountByLogDir`).
fn restart_count_from_logs(dir: &Path) -> u32 {
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let (digits, rest) =
                name.split_at(name.find(|c: char| !c.is_ascii_digit()).unwrap_or(name.len()));
            let is_log = rest == ".log" || rest.starts_with(".log.");
            if digits.is_empty() || !is_log { None } else { digits.parse::<u32>().ok()?.checked_add(1) }
        })
        .max()
        .unwrap_or(0)
}

impl Runtime {
    /// Starts container `c` and records the outcome in the reason cache; true on success.
    pub(crate) fn start_container(
        &self,
        s: &StartCtx,
        c: &Container,
        kind: ContainerKind,
        ctx: &mut SyncContext,
        result: &mut SyncResult,
    ) -> bool {
        let outcome = self.try_start(s, c, kind, ctx, result);
        if let Err((failure, message)) = &outcome {
            log::debug!("pod {}: container {} not started: {failure}: {message}", pod_desc(s.pod), c.name);
            result.fail(sync_error("StartContainer", &c.name, failure.as_str(), message));
        }
        let ok = outcome.is_ok();
        ctx.reasons.record(&c.name, outcome);
        ok
    }

    fn event(&self, pod: &Pod, c: &Container, kind: EventType, why: &str, message: &str) {
        self.recorder.pod_event(pod, &field_path(pod, &c.name), kind, why, message);
    }

    fn try_start(
        &self,
        s: &StartCtx,
        c: &Container,
        kind: ContainerKind,
        ctx: &mut SyncContext,
        result: &mut SyncResult,
    ) -> Result<(), Failure> {
        let pod = s.pod;
        let last_exit =
            s.status.containers.iter().find(|x| x.name == c.name && x.state == Some(ContainerState::Exited));
        if let Some(exited) = last_exit {
            let key = container_backoff_key(pod, c);
            let finished = from_unix_nanos(exited.finished_at);
            if ctx.backoff.in_backoff_since(&key, finished) {
                let message =
                    format!("Back-off restarting failed container {} in pod {}", c.name, pod_desc(pod));
                self.event(pod, c, EventType::Warning, reason::BACKOFF, &message);
                result.requeue(ctx.backoff.remaining_since(&key, finished));
                return Err((
                    StartFailure::CrashLoopBackOff,
                    crash_loop_message(ctx.backoff.get(&key), &c.name, pod),
                ));
            }
            ctx.backoff.next(&key, finished);
        }

        let path = field_path(pod, &c.name);
        let ensure = EnsureImage {
            pod,
            container: c,
            field_path: &path,
            credentials: ctx.pull_secrets,
            sandbox_config: Some(s.sandbox_config),
        };
        let image_ref = self.images.ensure_image_exists(&ensure).map_err(|f| {
            self.event(pod, c, EventType::Warning, reason::FAILED, &format!("Error: {}", f.failure));
            if let Some(d) = f.retry_after {
                result.requeue(d);
            }
            (f.failure, f.message)
        })?;

        let m = &pod.metadata;
        let restart_count = match s.status.container(&c.name) {
            Some(prev) => prev.restart_count.saturating_add(1),
            None => restart_count_from_logs(&container_log_dir(
                &self.node,
                m.namespace(),
                m.name(),
                m.uid(),
                &c.name,
            )),
        };
        let config_error = |message: String| {
            self.event(pod, c, EventType::Warning, reason::FAILED, &format!("Error: {message}"));
            (StartFailure::CreateContainerConfigError, message)
        };
        let termination_log = self.termination_log_file(pod, c);
        let mounts = (ctx.mounts)(c, s.pod_ips).map_err(config_error)?;
        let etc_hosts = self.write_etc_hosts(pod, c, s.pod_ips).map_err(config_error)?;
        let image_user = self.image_user(&image_ref).map_err(config_error)?;
        let target_container_id = match (kind, s.target) {
            (ContainerKind::Ephemeral, Some(target)) => match s.status.container(target) {
                Some(t) => Some(t.id.clone()),
                None => return Err(config_error(format!("unable to find target container {target}"))),
            },
            _ => None,
        };
        let inputs = ContainerInputs {
            pod,
            container: c,
            kind,
            restart_count,
            image_ref: &image_ref,
            pod_ips: s.pod_ips,
            mounts,
            etc_hosts,
            termination_log,
            env: ctx.env,
            node: &self.node,
            image_user,
            target_container_id,
        };
        let config = container_config(&inputs).map_err(|e| config_error(e.message()))?;
        let log_file = Path::new(&s.sandbox_config.log_directory).join(&config.log_path);

        let create = cri::CreateContainerRequest {
            pod_sandbox_id: s.sandbox_id.to_string(),
            config: Some(config),
            sandbox_config: Some(s.sandbox_config.clone()),
        };
        let id = match self.cri.create_container(&create) {
            Ok(r) => r.container_id,
            Err(e) => {
                let message = cri_message(&e);
                self.event(pod, c, EventType::Warning, reason::FAILED, &format!("Error: {message}"));
                return Err((StartFailure::CreateContainerError, message));
            }
        };
        result.changed = true;
        self.event(pod, c, EventType::Normal, reason::CREATED, "Container created");
        if let Err(e) = self.cri.start_container(&cri::StartContainerRequest { container_id: id.clone() }) {
            let message = cri_message(&e);
            self.event(pod, c, EventType::Warning, reason::FAILED, &format!("Error: {message}"));
            return Err((StartFailure::RunContainerError, message));
        }
        self.event(pod, c, EventType::Normal, reason::STARTED, "Container started");
        let link = logsymlink::symlink_path(&self.node.container_logs_dir, m.name(), m.namespace(), &c.name, &id);
        logsymlink::create(&log_file, &link);

        let post_start = c.lifecycle.as_ref().and_then(|l| l.post_start.as_ref());
        let target = hooks::Target {
            cri: &self.cri,
            recorder: self.recorder.as_ref(),
            pod,
            container: c,
            container_id: &id,
            pod_ips: s.pod_ips,
        };
        if let Some(Err(message)) = post_start.map(|h| hooks::run(&target, h)) {
            log::warn!("postStart hook of container {} of pod {} failed: {message}", c.name, pod_desc(pod));
            // The message may carry secrets: the event does not.
            self.event(pod, c, EventType::Warning, reason::FAILED_POST_START_HOOK, "PostStartHook failed");
            let kill = KillRequest {
                pod: Some(pod),
                id: &id,
                name: &c.name,
                message: "FailedPostStartHook",
                reason: KillReason::FailedPostStartHook,
                grace_override: None,
                pod_ips: s.pod_ips,
            };
            if let Err(e) = self.kill_container(&kill, None) {
                log::error!("cannot kill container {} after its postStart hook failed: {e}", c.name);
            }
            return Err((StartFailure::PostStartHookError, message));
        }
        Ok(())
    }

    /// A fresh, empty, world-writable file for the container's termination message
    /// (`<pod dir>/containers/<name>/<random>`), or `None` without a message path.
    fn termination_log_file(&self, pod: &Pod, c: &Container) -> Option<PathBuf> {
        if termination_message_path(c).is_empty() {
            return None;
        }
        let path = termination_log_path(&self.node, pod.metadata.uid(), &c.name, random_u32());
        let made = path
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| fs::File::create(&path))
            .and_then(|_| fs::set_permissions(&path, fs::Permissions::from_mode(0o666)));
        match made {
            Ok(()) => Some(path),
            Err(e) => {
                log::error!("cannot create termination-log file {}: {e}", path.display());
                None
            }
        }
    }

    /// The user the image runs as, from the runtime's image status (upstream's
    /// `getImageUser`).
    fn image_user(&self, image_ref: &str) -> Result<Option<ImageUser>, String> {
        let req = cri::ImageStatusRequest {
            image: Some(cri::ImageSpec { image: image_ref.to_string(), ..Default::default() }),
            verbose: false,
        };
        let status = self.cri.image_status(&req).map_err(|e| super::error::cri_error_text(&e))?;
        Ok(status.image.map(|i| ImageUser::from_image(i.uid.map(|u| u.value), &i.username)))
    }

    /// Writes the pod's managed /etc/hosts when the container gets one: the pod's names and
    /// IPs, or for a host-network pod the node's own hosts file.
    fn write_etc_hosts(
        &self,
        pod: &Pod,
        c: &Container,
        pod_ips: &[String],
    ) -> Result<Option<PathBuf>, String> {
        if !needs_managed_etc_hosts(pod, c, pod_ips) {
            return Ok(None);
        }
        let content = if pod.spec.host_network == Some(true) {
            let node_hosts =
                fs::read_to_string(NODE_ETC_HOSTS).map_err(|e| format!("open {NODE_ETC_HOSTS}: {e}"))?;
            host_network_etc_hosts_content(&node_hosts, &pod.spec.host_aliases)
        } else {
            let (hostname, domain) =
                pod_hostname_and_domain(pod, &self.node.cluster_domain).map_err(|e| e.to_string())?;
            etc_hosts_content(pod, pod_ips, &hostname, domain.as_deref())
        };
        let path = etc_hosts_path(&self.node, pod.metadata.uid());
        let written = path
            .parent()
            .map_or(Ok(()), fs::create_dir_all)
            .and_then(|()| fs::write(&path, content))
            .and_then(|()| fs::set_permissions(&path, fs::Permissions::from_mode(0o644)));
        written.map(|()| Some(path.clone())).map_err(|e| format!("write {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_count_continues_after_the_highest_log() {
        let dir = std::env::temp_dir().join(format!("rk-restart-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("dir");
        assert_eq!(restart_count_from_logs(&dir.join("none")), 0);
        for f in ["0.log", "3.log", "7.log.20240101-000000", "x.log", "12.txt"] {
            fs::write(dir.join(f), "").expect("write");
        }
        fs::create_dir_all(dir.join("99.log")).expect("a dir named like a log");
        assert_eq!(restart_count_from_logs(&dir), 8);
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn sync_error_text_is_upstreams() {
        assert_eq!(
            sync_error("StartContainer", "app", "CrashLoopBackOff", "back-off 10s"),
            "failed to \"StartContainer\" for \"app\" with CrashLoopBackOff: \"back-off 10s\""
        );
    }
}
