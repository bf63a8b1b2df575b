//! What rkubelet honours today, and what the open issues will add.
//!
//! Every KubeletConfiguration field and every flag is accepted (as upstream accepts it), but
//! most have no effect yet. These tables decide three things, so they stay in step:
//! - the start-up warning "field X is accepted but not implemented by rkubelet yet" for each
//!   field a config file sets (and each flag given) that is not in an `IMPLEMENTED_*` table;
//! - the "rkubelet:" line of each field in `man/kubelet-config.5` and each flag in
//!   `man/rkubelet.8` ("implemented", "planned (issue #N), not implemented yet" or "not
//!   implemented");
//! - nothing else: no code reads them to change behaviour.
//!
//! When a feature lands, move its paths from `PLANNED_*` to `IMPLEMENTED_*` and regenerate the
//! man pages (`RKUBELET_BLESS_MAN=1 cargo test --lib config::man`).

/// KubeletConfiguration paths (as in `fields::FIELDS`) the running agent honours. Setting a
/// parent object counts field by field, so list leaves.
pub const IMPLEMENTED_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "logging.verbosity",
    "staticPodPath",
    "fileCheckFrequency",
    "staticPodURL",
    "staticPodURLHeader",
    "httpCheckFrequency",
    "containerRuntimeEndpoint",
    "syncFrequency",
    "runtimeRequestTimeout",
    "maxPods",
    "allowedUnsafeSysctls",
    "serializeImagePulls",
    "podLogsDir",
    "healthzPort",
    "healthzBindAddress",
    "readOnlyPort",
    "cgroupDriver",
    "cgroupsPerQOS",
    "cgroupRoot",
    "resolvConf",
    "clusterDNS",
    "clusterDomain",
    "failSwapOn",
    "failCgroupV1",
    "kubeAPIQPS",
    "kubeAPIBurst",
    "registerNode",
    "registerWithTaints",
    "nodeStatusUpdateFrequency",
    "nodeStatusReportFrequency",
    "nodeLeaseDurationSeconds",
    "nodeStatusMaxImages",
    "eventRecordQPS",
    "eventBurst",
    "configMapAndSecretChangeDetectionStrategy",
    "maxParallelImagePulls",
    "registryPullQPS",
    "registryBurst",
    "podsPerCore",
    "kubeReserved",
    "systemReserved",
    "evictionHard",
    "enableControllerAttachDetach",
    "localStorageCapacityIsolation",
    "reservedSystemCPUs",
    "enableServer",
    "address",
    "port",
    "tlsCertFile",
    "tlsPrivateKeyFile",
    "tlsCipherSuites",
    "tlsMinVersion",
    "authentication.x509.clientCAFile",
    "authentication.webhook.enabled",
    "authentication.webhook.cacheTTL",
    "authentication.anonymous.enabled",
    "authorization.mode",
    "authorization.webhook.cacheAuthorizedTTL",
    "authorization.webhook.cacheUnauthorizedTTL",
    "enableDebuggingHandlers",
    "enableSystemLogHandler",
    "containerLogMaxSize",
    "containerLogMaxFiles",
    "containerLogMaxWorkers",
    "containerLogMonitorInterval",
    "imageGCHighThresholdPercent",
    "imageGCLowThresholdPercent",
    "imageMinimumGCAge",
    "imageMaximumGCAge",
    "streamingConnectionIdleTimeout",
    "rotateCertificates",
    "serverTLSBootstrap",
];

/// Fields the open issues deliver, with the issue number.
pub const PLANNED_FIELDS: &[(&str, u32)] = &[
    // Issue 3: the standalone node agent.
    ("imageServiceEndpoint", 3),
    ("crashLoopBackOff.maxContainerRestartPeriod", 3),
    // Issue 4: API-server mode.
    ("providerID", 4),
];

/// Flags that are not KubeletConfiguration fields and that the agent honours.
pub const IMPLEMENTED_FLAGS: &[&str] = &[
    "config",
    "help",
    "version",
    "root-dir",
    "hostname-override",
    "node-ip",
    "kubeconfig",
    "node-labels",
    "bootstrap-kubeconfig",
    "cert-dir",
    "v",
];

/// Flags that are not KubeletConfiguration fields, with the issue that delivers them.
pub const PLANNED_FLAGS: &[(&str, u32)] = &[];

/// Where a field or flag stands in rkubelet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Implemented,
    Planned(u32),
    NotImplemented,
}

impl Status {
    /// The text the man pages print.
    pub fn describe(self) -> String {
        match self {
            Status::Implemented => "implemented".to_string(),
            Status::Planned(issue) => format!("planned (issue #{issue}), not implemented yet"),
            Status::NotImplemented => "not implemented; accepted and ignored".to_string(),
        }
    }
}

/// The status of a KubeletConfiguration field. A parent object is implemented when all its
/// leaves are, planned when any is.
pub fn field_status(path: &str) -> Status {
    if IMPLEMENTED_FIELDS.contains(&path) {
        return Status::Implemented;
    }
    if let Some((_, issue)) = PLANNED_FIELDS.iter().find(|(p, _)| *p == path) {
        return Status::Planned(*issue);
    }
    let prefix = format!("{path}.");
    let leaves: Vec<&str> = super::fields::FIELDS
        .iter()
        .filter(|f| f.path.starts_with(&prefix) && f.kind != super::fields::Kind::Object)
        .map(|f| f.path)
        .collect();
    if !leaves.is_empty() && leaves.iter().all(|l| IMPLEMENTED_FIELDS.contains(l)) {
        return Status::Implemented;
    }
    leaves
        .iter()
        .find_map(|l| PLANNED_FIELDS.iter().find(|(p, _)| p == l).map(|(_, issue)| Status::Planned(*issue)))
        .unwrap_or(Status::NotImplemented)
}

/// The status of a flag that is not a KubeletConfiguration field.
pub fn flag_status(name: &str) -> Status {
    if IMPLEMENTED_FLAGS.contains(&name) {
        Status::Implemented
    } else if let Some((_, issue)) = PLANNED_FLAGS.iter().find(|(n, _)| *n == name) {
        Status::Planned(*issue)
    } else {
        Status::NotImplemented
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::fields;

    #[test]
    fn every_listed_field_exists() {
        for path in IMPLEMENTED_FIELDS.iter().chain(PLANNED_FIELDS.iter().map(|(p, _)| p)) {
            assert!(fields::lookup(path).is_some(), "{path} is not a KubeletConfiguration field");
        }
        for path in IMPLEMENTED_FIELDS {
            assert!(!PLANNED_FIELDS.iter().any(|(p, _)| p == path), "{path} is both planned and implemented");
        }
    }

    #[test]
    fn every_listed_flag_exists() {
        for name in IMPLEMENTED_FLAGS.iter().chain(PLANNED_FLAGS.iter().map(|(n, _)| n)) {
            assert!(crate::config::flag_table::lookup(name).is_some(), "--{name} is not in the flag table");
        }
    }

    #[test]
    fn parents_summarise_their_leaves() {
        assert_eq!(field_status("logging.verbosity"), Status::Implemented);
        assert_eq!(field_status("authentication"), Status::Implemented);
        assert_eq!(field_status("maxPods"), Status::Implemented);
        assert_eq!(field_status("providerID"), Status::Planned(4));
        assert_eq!(field_status("cpuManagerPolicy"), Status::NotImplemented);
        assert_eq!(field_status("logging"), Status::NotImplemented);
    }
}
