//! The container runtime as node status sees it (upstream's `runtimeState` and
//! `updateRuntimeUp`): whether it answered lately and says it is ready, its network's
//! readiness, its handlers and features, and its version (`containerd://1.6.20`).

use std::time::{Duration, Instant};

use crate::api::core::{NodeFeatures, NodeRuntimeHandler, NodeRuntimeHandlerFeatures};
use crate::cri;

/// Past this long without a good CRI Status answer, the runtime counts as down (upstream's
/// maxWaitForContainerRuntime).
pub(crate) const RUNTIME_SYNC_THRESHOLD: Duration = Duration::from_secs(30);

/// What the last CRI Status and Version calls said.
#[derive(Debug, Clone)]
pub(crate) struct RuntimeState {
    last_sync: Option<Instant>,
    runtime_error: Option<String>,
    network_error: Option<String>,
    pub handlers: Vec<NodeRuntimeHandler>,
    pub features: Option<cri::RuntimeFeatures>,
    /// `<runtime name>://<version>`, or `<name>://Unknown` when Version fails.
    pub version: String,
    runtime_name: String,
}

impl Default for RuntimeState {
    fn default() -> Self {
        RuntimeState {
            last_sync: None,
            runtime_error: None,
            network_error: Some("network state unknown".to_string()),
            handlers: Vec::new(),
            features: None,
            version: String::new(),
            runtime_name: String::new(),
        }
    }
}

impl RuntimeState {
    /// Asks the runtime for its version.
    pub fn refresh_version(&mut self, cri: &cri::Client) {
        match cri.version(&cri::VersionRequest { version: "v1".into() }) {
            Ok(v) => {
                self.runtime_name = v.runtime_name.clone();
                self.version = format!("{}://{}", v.runtime_name, version_string(&v.runtime_version));
            }
            Err(e) => {
                log::debug!("CRI Version failed: {e}");
                self.version = format!("{}://Unknown", self.runtime_name);
            }
        }
    }

    /// Asks the runtime for its status (upstream's `updateRuntimeUp`).
    pub fn refresh_status(&mut self, cri: &cri::Client, now: Instant) {
        match cri.status(&cri::StatusRequest::default()) {
            Ok(status) => self.apply_status(&status, now),
            Err(e) => log::warn!("Container runtime sanity check failed: {e}"),
        }
    }

    /// Takes in one CRI Status answer (upstream's `updateRuntimeUp`).
    pub fn apply_status(&mut self, status: &cri::StatusResponse, now: Instant) {
        let conditions = status.status.as_ref().map(|s| s.conditions.as_slice()).unwrap_or_default();
        let find = |t: &str| conditions.iter().find(|c| c.r#type == t);
        let network = find("NetworkReady");
        self.network_error = match network {
            Some(c) if c.status => None,
            other => Some(format!("container runtime network not ready: {}", describe(other))),
        };
        let runtime = find("RuntimeReady");
        if !runtime.is_some_and(|c| c.status) {
            self.runtime_error = Some(format!("container runtime not ready: {}", describe(runtime)));
            return;
        }
        self.runtime_error = None;
        let mut handlers: Vec<NodeRuntimeHandler> = status
            .runtime_handlers
            .iter()
            .map(|h| {
                let features = h.features.clone().unwrap_or_default();
                NodeRuntimeHandler {
                    name: Some(h.name.clone()),
                    features: Some(NodeRuntimeHandlerFeatures {
                        recursive_read_only_mounts: Some(features.recursive_read_only_mounts),
                        user_namespaces: Some(features.user_namespaces),
                    }),
                }
            })
            .collect();
        handlers.sort_by(|a, b| a.name.cmp(&b.name));
        self.handlers = handlers;
        self.features = status.features.clone();
        self.last_sync = Some(now);
    }

    /// Why the runtime is not ready, in upstream's words and order (sync, health checks such
    /// as PLEG, the runtime condition), then the network's.
    pub fn errors(&self, now: Instant, health: Result<(), String>) -> Vec<String> {
        let mut errors = Vec::new();
        match self.last_sync {
            None => errors.push("container runtime status check may not have completed yet".to_string()),
            Some(t) if now.saturating_duration_since(t) >= RUNTIME_SYNC_THRESHOLD => {
                errors.push("container runtime is down".to_string());
            }
            Some(_) => {}
        }
        if let Err(e) = health {
            errors.push(e);
        }
        errors.extend(self.runtime_error.clone());
        errors.extend(self.network_error.clone());
        errors
    }

    /// `features` of the node status (gated by SupplementalGroupsPolicy, GA in 1.37).
    pub fn node_features(&self) -> Option<NodeFeatures> {
        self.features
            .as_ref()
            .map(|f| NodeFeatures { supplemental_groups_policy: Some(f.supplemental_groups_policy) })
    }
}

/// A runtime condition as upstream prints it (`RuntimeReady=false reason:X message:Y`).
fn describe(condition: Option<&cri::RuntimeCondition>) -> String {
    match condition {
        None => "<nil>".to_string(),
        Some(c) => format!("{}={} reason:{} message:{}", c.r#type, c.status, c.reason, c.message),
    }
}

/// The runtime's version as upstream prints it: semantic versions whole (`1.7.0-rc.1`),
/// anything else cut to its leading numbers (`1.6.20~ds1` → `1.6.20`), `Unknown` if there are
/// fewer than two.
pub(crate) fn version_string(raw: &str) -> String {
    let text = raw.trim_start();
    let text = text.strip_prefix('v').unwrap_or(text);
    let numeric_end = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (numbers, rest) = text.split_at(numeric_end);
    let parts: Vec<&str> = numbers.split('.').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty() || p.parse::<u64>().is_err()) {
        return "Unknown".to_string();
    }
    let is_semver =
        parts.len() == 3 && parts.iter().all(|p| p.len() == 1 || !p.starts_with('0')) && semver_suffix(rest);
    if is_semver {
        return format!("{numbers}{rest}");
    }
    parts
        .iter()
        .map(|p| p.parse::<u64>().map(|n| n.to_string()).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(".")
}

/// `-pre.release` and/or `+build` made of `[0-9A-Za-z.-]`.
fn semver_suffix(rest: &str) -> bool {
    let ok = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let (pre, build) = match rest.split_once('+') {
        Some((pre, build)) => (pre, Some(build)),
        None => (rest, None),
    };
    let pre_ok = pre.is_empty() || pre.strip_prefix('-').is_some_and(ok);
    pre_ok && build.is_none_or(ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(t: &str, status: bool, reason: &str) -> cri::RuntimeCondition {
        cri::RuntimeCondition { r#type: t.into(), status, reason: reason.into(), message: "m".into() }
    }

    fn status(runtime: bool, network: bool) -> cri::StatusResponse {
        cri::StatusResponse {
            status: Some(cri::RuntimeStatus {
                conditions: vec![
                    condition("RuntimeReady", runtime, ""),
                    condition("NetworkReady", network, "NetworkPluginNotReady"),
                ],
            }),
            runtime_handlers: vec![
                cri::RuntimeHandler { name: "runc".into(), features: None },
                cri::RuntimeHandler { name: String::new(), features: None },
            ],
            ..cri::StatusResponse::default()
        }
    }

    #[test]
    fn versions() {
        assert_eq!(version_string("1.6.20"), "1.6.20");
        assert_eq!(version_string("v1.7.0-rc.1+abc"), "1.7.0-rc.1+abc");
        assert_eq!(version_string("1.6.20~ds1"), "1.6.20");
        assert_eq!(version_string("2.0"), "2.0");
        assert_eq!(version_string("1.06.2"), "1.6.2");
        assert_eq!(version_string("1"), "Unknown");
        assert_eq!(version_string("dev"), "Unknown");
    }

    #[test]
    fn not_checked_yet_then_ready() {
        let t0 = Instant::now();
        let mut state = RuntimeState::default();
        assert_eq!(
            state.errors(t0, Ok(())),
            ["container runtime status check may not have completed yet", "network state unknown"]
        );
        state.apply_status(&status(true, true), t0);
        assert!(state.errors(t0, Ok(())).is_empty());
        let names: Vec<Option<&str>> = state.handlers.iter().map(|h| h.name.as_deref()).collect();
        assert_eq!(names, [Some(""), Some("runc")], "sorted by name, the default handler named \"\"");
    }

    #[test]
    fn network_and_runtime_not_ready_in_upstream_words() {
        let t0 = Instant::now();
        let mut state = RuntimeState::default();
        state.apply_status(&status(true, false), t0);
        assert_eq!(
            state.errors(t0, Err("PLEG is not healthy: pleg has yet to be successful".into())),
            [
                "PLEG is not healthy: pleg has yet to be successful",
                "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:m",
            ]
        );
        state.apply_status(&status(false, true), t0 + Duration::from_secs(1));
        assert_eq!(
            state.errors(t0, Ok(())),
            ["container runtime not ready: RuntimeReady=false reason: message:m"]
        );
        state.apply_status(&cri::StatusResponse::default(), t0);
        assert_eq!(
            state.errors(t0, Ok(())),
            ["container runtime not ready: <nil>", "container runtime network not ready: <nil>"]
        );
    }

    #[test]
    fn silence_means_down() {
        let t0 = Instant::now();
        let mut state = RuntimeState::default();
        state.apply_status(&status(true, true), t0);
        assert!(state.errors(t0 + Duration::from_secs(29), Ok(())).is_empty());
        assert_eq!(state.errors(t0 + RUNTIME_SYNC_THRESHOLD, Ok(())), ["container runtime is down"]);
    }
}
