//! What a pod worker does for one pod: the agent's [`PodSyncer`].
//!
//! One sync, as upstream's `SyncPod`: compute the API status from the runtime's view and hand
//! it to the status manager; a pod in a terminal phase stops here (the worker then terminates
//! it); otherwise wait for its volumes, then let the runtime manager act (sandbox, images, containers), and ask PLEG to
//! look again at once when something changed, so the next sync sees it without waiting a tick.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::api::Time;
use crate::api::core::{Container, Pod};
use crate::events::{EventType, Recorder, reason};
use crate::kuberuntime::{self, Backoff, ContainerVerdict, EnvSources, PodStatus, Runtime, SyncContext};
use crate::pleg::PlegHandle;
use crate::podworker::{Cancel, PodSyncer, SyncOutcome};
use crate::status::{self, GenerateInput, ReasonCache};
use crate::volume::{PodVolumes, VolumeError};

/// How long a worker waits for PLEG to produce a fresh view before trying again.
const STATUS_WAIT: Duration = Duration::from_secs(10);
/// After volumes failed, sync again after this long (upstream's pod worker backoff).
const VOLUME_RETRY: Duration = Duration::from_secs(10);

pub struct Config {
    /// syncFrequency: the longest a running pod goes without a sync.
    pub sync_frequency: Duration,
    /// The node's IPs for `hostIP(s)`; empty on a standalone node, as upstream.
    pub host_ips: Vec<String>,
    /// The runtime's name, the prefix of container IDs (`containerd://...`).
    pub runtime_name: String,
    /// When this agent started (readiness of adopted containers).
    pub started: Time,
}

pub struct Deps {
    pub runtime: Arc<Runtime>,
    pub pleg: PlegHandle,
    pub status: status::Handle,
    pub env: Arc<dyn EnvSources + Send + Sync>,
    pub recorder: Arc<dyn Recorder>,
    /// The volume manager; `None` runs pods without volumes (tests).
    pub volumes: Option<crate::volume::VolumeHandle>,
    /// API mode: static pods get mirror pods.
    pub mirror: Option<crate::mirror::MirrorHandle>,
    /// The prober; `None` runs no probes (every container counts as healthy).
    pub prober: Option<crate::prober::Handle>,
}

pub struct Syncer {
    cfg: Config,
    deps: Deps,
}

/// What a worker remembers about its pod between syncs.
#[derive(Default)]
pub struct PodMemory {
    backoff: Backoff,
    reasons: ReasonCache,
}

impl Syncer {
    pub fn new(cfg: Config, deps: Deps) -> Syncer {
        Syncer { cfg, deps }
    }

    /// Compute the API status and hand it to the status manager; returns its phase and pod IPs.
    fn publish_status(
        &self,
        mem: &PodMemory,
        pod: &Pod,
        runtime: &PodStatus,
        probes: Option<&crate::prober::PodProbes>,
        terminal: bool,
    ) -> Published {
        let uid = pod.metadata.uid.as_deref().unwrap_or_default();
        let previous = self.deps.status.get(uid);
        let probes = probes.map(|p| p.status_results(runtime)).unwrap_or_default();
        let input = GenerateInput {
            pod,
            runtime,
            reasons: &mem.reasons,
            previous: previous.as_ref(),
            host_ips: &self.cfg.host_ips,
            probes: &probes,
            pod_is_terminal: terminal,
            runtime_name: &self.cfg.runtime_name,
            agent_start: Some(self.cfg.started),
            now: Time::now(),
        };
        let status = status::generate(&input);
        let phase = status.phase.clone();
        let pod_ips = status.pod_ips.iter().map(|ip| ip.ip.clone()).collect();
        let previous_phase = previous.as_ref().and_then(|p| p.phase.as_deref());
        crate::metrics::kubelet::pod_started(pod, previous_phase, phase.as_deref());
        self.deps.status.set(pod, status);
        Published { phase, pod_ips }
    }
}

/// What a sync needs of the status it published.
struct Published {
    phase: Option<String>,
    /// `status.podIPs`: a host network pod's are the node's.
    pod_ips: Vec<String>,
}

/// The runtime's view with the published pod IPs, as upstream hands its runtime the API
/// status's IPs: containers of a host network pod see the node's IPs as `status.podIP`.
fn with_pod_ips(runtime: &PodStatus, pod_ips: Vec<String>) -> Cow<'_, PodStatus> {
    if runtime.ips == pod_ips {
        Cow::Borrowed(runtime)
    } else {
        Cow::Owned(PodStatus { ips: pod_ips, ..runtime.clone() })
    }
}

impl Syncer {
    /// The prober's current results for the pod.
    fn probes(&self, uid: &str) -> Option<crate::prober::PodProbes> {
        self.deps.prober.as_ref().map(|p| p.results(uid))
    }

    /// Waits for the pod's volumes (upstream's `WaitForAttachAndMount`); on failure, the
    /// `FailedMount` event and when to sync again.
    fn ensure_volumes(&self, pod: &Pod, cancel: &dyn Fn() -> bool) -> Result<Option<PodVolumes>, Duration> {
        let Some(v) = &self.deps.volumes else { return Ok(None) };
        match v.ensure(pod, cancel) {
            Ok(volumes) => Ok(Some(volumes)),
            Err(VolumeError::Cancelled) => Err(Duration::ZERO),
            // Upstream's wait ends in a context deadline, which its `wait.Interrupted` check
            // keeps out of events: only the per-volume FailedMount events and this log line.
            Err(e @ VolumeError::Timeout { .. }) => {
                log::error!("pod {}: Error syncing pod, skipping: {e}", status::reason::pod_desc(pod));
                Err(VOLUME_RETRY)
            }
            Err(e) => {
                let message = format!("Unable to attach or mount volumes: {e}");
                log::warn!("pod {}: {message}", status::reason::pod_desc(pod));
                self.deps.recorder.pod_event(pod, "", EventType::Warning, reason::FAILED_MOUNT, &message);
                Err(VOLUME_RETRY)
            }
        }
    }
}

impl PodSyncer for Syncer {
    type State = PodMemory;

    fn runtime_status(&self, pod: &Pod, since: Option<Instant>) -> Option<PodStatus> {
        let uid = pod.metadata.uid.as_deref().unwrap_or_default();
        self.deps.pleg.newer_than(uid, since, STATUS_WAIT)
    }

    fn sync_pod(&self, mem: &mut PodMemory, pod: &Pod, runtime: &PodStatus, cancel: &Cancel) -> SyncOutcome {
        if let Some(mirror) = &self.deps.mirror
            && crate::source::is_static_pod(pod)
        {
            mirror.ensure(pod);
        }
        // One snapshot of the probe results per sync (a round trip to the prober thread).
        let probes = self.probes(pod.metadata.uid());
        let published = self.publish_status(mem, pod, runtime, probes.as_ref(), false);
        if crate::status::phase::is_terminal_phase(published.phase.as_deref()) {
            return SyncOutcome::Terminal;
        }
        let runtime = &*with_pod_ips(runtime, published.pod_ips);
        if let Some(p) = &self.deps.prober {
            p.add_pod(pod);
        }
        let stop = || cancel.is_set();
        let volumes = match self.ensure_volumes(pod, &stop) {
            Ok(v) => v,
            Err(after) => return SyncOutcome::Requeue(after),
        };
        let mounts = |c: &Container, pod_ips: &[String]| match &volumes {
            None => Ok(Vec::new()),
            Some(v) => {
                let node = self.deps.runtime.node();
                let env = || kuberuntime::env::container_env(pod, c, pod_ips, node, self.deps.env.as_ref()).map_err(|e| e.to_string());
                v.container_mounts(c, &env)
            }
        };
        let verdicts = |id: &str| probes.as_ref().map_or(ContainerVerdict::HEALTHY, |p| p.verdict(id));
        let mut ctx = SyncContext {
            backoff: &mut mem.backoff,
            reasons: &mut mem.reasons,
            mounts: &mounts,
            env: self.deps.env.as_ref(),
            pull_secrets: &[],
            verdicts: &verdicts,
            cancel: &stop,
        };
        let result = self.deps.runtime.sync_pod(pod, runtime, &mut ctx);
        if let Some(e) = &result.error {
            log::debug!("sync of pod {} did not finish: {e}", status::reason::pod_desc(pod));
            // The failure is in the reason cache now (CrashLoopBackOff, ErrImagePull...): show
            // it at once rather than at the next sync, which may be a whole backoff away.
            self.publish_status(mem, pod, runtime, probes.as_ref(), false);
        }
        if result.changed {
            self.deps.pleg.refresh(pod.metadata.uid.as_deref().unwrap_or_default());
        }
        let after = result.requeue_after.map_or(self.cfg.sync_frequency, |d| d.min(self.cfg.sync_frequency));
        SyncOutcome::Requeue(after)
    }

    fn terminate_pod(&self, mem: &mut PodMemory, pod: &Pod, runtime: &PodStatus, grace: Option<i64>) -> Result<(), String> {
        let known = pod.metadata.name.as_deref().is_some_and(|n| !n.is_empty()) && !pod.spec.containers.is_empty();
        // A pod being stopped is not restarted for failing probes (upstream's
        // SyncTerminatingPod); once it is stopped, nothing is probed.
        if let Some(p) = &self.deps.prober {
            p.stop_liveness_and_startup(pod.metadata.uid());
        }
        self.deps.runtime.kill_pod(known.then_some(pod), runtime, grace).map_err(|e| e.to_string())?;
        if let Some(p) = &self.deps.prober {
            p.remove_pod(pod.metadata.uid());
        }
        if known {
            // The final status: every container stopped, the phase settled.
            let uid = pod.metadata.uid.as_deref().unwrap_or_default();
            let since = Instant::now();
            self.deps.pleg.refresh(uid);
            let after = self.deps.pleg.newer_than(uid, Some(since), STATUS_WAIT);
            self.publish_status(mem, pod, after.as_ref().unwrap_or(runtime), self.probes(uid).as_ref(), true);
        }
        // Nothing runs any more: unmount now, as upstream does for a terminated pod (the
        // cleanup retries if this fails).
        if let Some(Err(e)) = self.deps.volumes.as_ref().map(|v| v.teardown(pod.metadata.uid())) {
            log::warn!("pod {}: {e}", status::reason::pod_desc(pod));
        }
        Ok(())
    }

    fn cleanup_pod(&self, _mem: &mut PodMemory, pod: &Pod, runtime: &PodStatus) -> Result<(), String> {
        self.deps.runtime.remove_pod(runtime).map_err(|e| e.to_string())?;
        match &self.deps.volumes {
            Some(v) => v.teardown(pod.metadata.uid()).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_sees_the_published_pod_ips() {
        let runtime = PodStatus { uid: "u1".into(), ips: vec!["10.0.0.5".into()], ..PodStatus::default() };
        assert!(matches!(with_pod_ips(&runtime, vec!["10.0.0.5".into()]), Cow::Borrowed(_)), "unchanged: no copy");
        // A host network pod's sandbox has no IP; its published IPs are the node's.
        let host_network = PodStatus { uid: "u2".into(), ..PodStatus::default() };
        let seen = with_pod_ips(&host_network, vec!["192.0.2.2".into()]);
        assert_eq!(seen.ips, vec!["192.0.2.2".to_string()]);
        assert_eq!(seen.uid, "u2");
    }
}
