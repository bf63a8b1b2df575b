//! Validation of the merged configuration (file + flags), as upstream's
//! `ValidateKubeletConfiguration` and `ValidateKubeletFlags`, plus a few checks upstream makes
//! later at start-up (IP addresses, cgroup driver, authorization mode) or never makes and then
//! crashes on (non-positive periods).
//!
//! Every broken rule is reported, not just the first. Host checks (cgroup v1 with
//! failCgroupV1, swap with failSwapOn) belong to the agent's start-up, not here.

#![forbid(unsafe_code)]

use super::duration::GoDuration;
use super::error::Violation;
use super::feature_gates::FeatureGates;
use super::flags::KubeletFlags;
use super::kubelet_config::KubeletConfiguration;
use super::{labels, quantity};

struct Checks(Vec<Violation>);

impl Checks {
    fn check(&mut self, ok: bool, field: &str, problem: impl FnOnce() -> String) {
        if !ok {
            self.0.push(Violation { field: field.to_string(), problem: problem() });
        }
    }

    fn range(&mut self, field: &str, value: i64, low: i64, high: i64) {
        self.check((low..=high).contains(&value), field, || format!("{value} must be between {low} and {high}, inclusive"));
    }

    fn non_negative(&mut self, field: &str, value: i64) {
        self.check(value >= 0, field, || format!("{value} must not be a negative number"));
    }

    fn one_of(&mut self, field: &str, value: &str, allowed: &[&str]) {
        self.check(allowed.contains(&value), field, || format!("{value:?} must be one of {allowed:?}"));
    }

    fn positive_duration(&mut self, field: &str, value: GoDuration) {
        self.check(value.nanos() > 0, field, || format!("{value} must be greater than 0"));
    }

    fn ip(&mut self, field: &str, value: &str) {
        self.check(value.parse::<std::net::IpAddr>().is_ok(), field, || format!("{value:?} is not a valid IP address"));
    }
}

pub fn validate(kc: &KubeletConfiguration, flags: &KubeletFlags, gates: &FeatureGates) -> Vec<Violation> {
    let mut c = Checks(Vec::new());
    c.check(kc.node_lease_duration_seconds > 0, "nodeLeaseDurationSeconds", || "must be greater than 0".into());
    c.check(kc.system_cgroups.is_empty() || !kc.cgroup_root.is_empty(), "systemCgroups", || "needs cgroupRoot (--cgroup-root)".into());
    for (field, value) in [
        ("eventBurst", kc.event_burst),
        ("eventRecordQPS", kc.event_record_qps),
        ("kubeAPIBurst", kc.kube_api_burst),
        ("kubeAPIQPS", kc.kube_api_qps),
        ("maxPods", kc.max_pods),
        ("podsPerCore", kc.pods_per_core),
        ("registryBurst", kc.registry_burst),
        ("registryPullQPS", kc.registry_pull_qps),
    ] {
        c.non_negative(field, i64::from(value));
    }
    c.non_negative("maxOpenFiles", kc.max_open_files);
    if kc.healthz_port != 0 {
        c.range("healthzPort", i64::from(kc.healthz_port), 1, 65535);
    }
    c.range("port", i64::from(kc.port), 1, 65535);
    c.range("readOnlyPort", i64::from(kc.read_only_port), 0, 65535);
    c.range("imageGCHighThresholdPercent", i64::from(kc.image_gc_high_threshold_percent), 0, 100);
    c.range("imageGCLowThresholdPercent", i64::from(kc.image_gc_low_threshold_percent), 0, 100);
    c.check(kc.image_gc_low_threshold_percent < kc.image_gc_high_threshold_percent, "imageGCLowThresholdPercent", || {
        format!(
            "{} must be less than imageGCHighThresholdPercent {}",
            kc.image_gc_low_threshold_percent, kc.image_gc_high_threshold_percent
        )
    });
    c.check(!kc.image_minimum_gc_age.is_negative(), "imageMinimumGCAge", || "must not be negative".into());
    c.check(!kc.image_maximum_gc_age.is_negative(), "imageMaximumGCAge", || "must not be negative".into());
    c.check(kc.image_maximum_gc_age.nanos() <= 0 || kc.image_maximum_gc_age > kc.image_minimum_gc_age, "imageMaximumGCAge", || {
        format!("{} must be greater than imageMinimumGCAge {}", kc.image_maximum_gc_age, kc.image_minimum_gc_age)
    });
    if gates.enabled("CustomCPUCFSQuotaPeriod") {
        let p = kc.cpu_cfs_quota_period;
        c.check(p >= GoDuration::from_millis(1) && p <= GoDuration::from_secs(1), "cpuCFSQuotaPeriod", || format!("{p} must be between 1ms and 1s, inclusive"));
    } else {
        c.check(kc.cpu_cfs_quota_period == GoDuration::from_millis(100), "cpuCFSQuotaPeriod", || "needs the CustomCPUCFSQuotaPeriod feature gate".into());
    }
    c.range("iptablesDropBit", i64::from(kc.iptables_drop_bit), 0, 31);
    c.range("iptablesMasqueradeBit", i64::from(kc.iptables_masquerade_bit), 0, 31);
    c.check(kc.node_status_max_images >= -1, "nodeStatusMaxImages", || format!("{} must be -1 or greater", kc.node_status_max_images));
    c.range("oomScoreAdj", i64::from(kc.oom_score_adj), -1000, 1000);
    if let Some(n) = kc.max_parallel_image_pulls {
        c.check(n >= 1, "maxParallelImagePulls", || format!("{n} must be a positive number"));
        c.check(!(kc.serialize_image_pulls && n > 1), "maxParallelImagePulls", || "cannot be larger than 1 unless serializeImagePulls is false".into());
    }
    c.check(!kc.server_tls_bootstrap || gates.enabled("RotateKubeletServerCertificate"), "serverTLSBootstrap", || "needs the RotateKubeletServerCertificate feature gate".into());
    c.check(!kc.run_once, "runOnce", || "the run-once mode has been removed".into());
    for taint in &kc.register_with_taints {
        if let Some(problem) = labels::check_taint(taint) {
            c.check(false, "registerWithTaints", || problem);
        }
    }
    c.one_of("topologyManagerPolicy", &kc.topology_manager_policy, &["none", "best-effort", "restricted", "single-numa-node"]);
    c.one_of("topologyManagerScope", &kc.topology_manager_scope, &["container", "pod"]);
    shutdown(&mut c, kc, gates);
    c.one_of("memorySwap.swapBehavior", &kc.memory_swap.swap_behavior, &["", "NoSwap", "LimitedSwap"]);
    match (gates.enabled("KubeletCrashLoopBackOffMax"), kc.crash_loop_back_off.max_container_restart_period) {
        (true, Some(p)) => c.check(p >= GoDuration::from_secs(1) && p <= GoDuration::from_secs(300), "crashLoopBackOff.maxContainerRestartPeriod", || format!("{p} must be between 1s and 300s")),
        (true, None) => c.check(false, "crashLoopBackOff.maxContainerRestartPeriod", || "must be set while the KubeletCrashLoopBackOffMax feature gate is on".into()),
        (false, Some(_)) => c.check(false, "crashLoopBackOff.maxContainerRestartPeriod", || "needs the KubeletCrashLoopBackOffMax feature gate".into()),
        (false, None) => {}
    }
    node_allocatable(&mut c, kc);
    c.one_of("hairpinMode", &kc.hairpin_mode, &["none", "hairpin-veth", "promiscuous-bridge"]);
    image_credentials(&mut c, kc, gates);
    if let Some(f) = kc.memory_throttling_factor {
        c.check(f > 0.0 && f <= 1.0, "memoryThrottlingFactor", || format!("{f} must be greater than 0 and at most 1.0"));
    }
    c.one_of("memoryReservationPolicy", &kc.memory_reservation_policy, &["None", "TieredReservation"]);
    c.check(!kc.container_runtime_endpoint.is_empty(), "containerRuntimeEndpoint", || "must not be empty".into());
    c.check(!kc.enable_system_log_query || kc.enable_system_log_handler, "enableSystemLogQuery", || "needs enableSystemLogHandler".into());
    c.check(kc.container_log_max_workers >= 1, "containerLogMaxWorkers", || "must be at least 1".into());
    c.check(kc.container_log_monitor_interval >= GoDuration::from_secs(3), "containerLogMonitorInterval", || "must be at least 3s".into());
    c.check(kc.container_log_max_files > 1, "containerLogMaxFiles", || "must be greater than 1".into());
    pod_logs_dir(&mut c, &kc.pod_logs_dir);
    if let Some(ids) = kc.user_namespaces.as_ref().and_then(|u| u.ids_per_pod) {
        c.check(ids >= 65536 && ids % 65536 == 0 && ids <= i64::from(u32::MAX), "userNamespaces.idsPerPod", || format!("{ids} must be a multiple of 65536, at least 65536 and at most {}", u32::MAX));
    }
    c.one_of("logging.format", &kc.logging.format, &["text", "json"]);
    rkubelet_checks(&mut c, kc);
    flag_checks(&mut c, flags);
    c.0
}

fn shutdown(c: &mut Checks, kc: &KubeletConfiguration, gates: &FeatureGates) {
    let (total, critical) = (kc.shutdown_grace_period, kc.shutdown_grace_period_critical_pods);
    if gates.enabled("GracefulNodeShutdown") {
        c.check(critical <= total, "shutdownGracePeriodCriticalPods", || format!("{critical} must be at most shutdownGracePeriod {total}"));
        for (field, d) in [("shutdownGracePeriod", total), ("shutdownGracePeriodCriticalPods", critical)] {
            c.check(d.is_zero() || d >= GoDuration::from_secs(1), field, || format!("{d} must be 0 or at least 1s"));
        }
    } else {
        c.check(total.is_zero() && critical.is_zero(), "shutdownGracePeriod", || "needs the GracefulNodeShutdown feature gate".into());
    }
    let by_priority = !kc.shutdown_grace_period_by_pod_priority.is_empty();
    if gates.enabled("GracefulNodeShutdownBasedOnPodPriority") {
        c.check(!(by_priority && (!total.is_zero() || !critical.is_zero())), "shutdownGracePeriodByPodPriority", || "cannot be set together with shutdownGracePeriod".into());
    } else {
        c.check(!by_priority, "shutdownGracePeriodByPodPriority", || "needs the GracefulNodeShutdownBasedOnPodPriority feature gate".into());
    }
}

fn node_allocatable(c: &mut Checks, kc: &KubeletConfiguration) {
    let list = &kc.enforce_node_allocatable;
    let has = |k: &str| list.iter().any(|v| v == k);
    c.check(!(has("system-reserved") && has("system-reserved-compressible")), "enforceNodeAllocatable", || "system-reserved and system-reserved-compressible exclude each other".into());
    c.check(!(has("kube-reserved") && has("kube-reserved-compressible")), "enforceNodeAllocatable", || "kube-reserved and kube-reserved-compressible exclude each other".into());
    for (i, value) in list.iter().enumerate() {
        c.check(!list[..i].contains(value), "enforceNodeAllocatable", || format!("{value:?} is listed twice"));
        match value.as_str() {
            "none" => {
                c.check(list.len() == 1, "enforceNodeAllocatable", || "none cannot be combined with other values".into());
                continue;
            }
            "pods" => {}
            "system-reserved" | "system-reserved-compressible" => {
                c.check(!kc.system_reserved_cgroup.is_empty(), "systemReservedCgroup", || format!("must be set when enforceNodeAllocatable has {value}"));
            }
            "kube-reserved" | "kube-reserved-compressible" => {
                c.check(!kc.kube_reserved_cgroup.is_empty(), "kubeReservedCgroup", || format!("must be set when enforceNodeAllocatable has {value}"));
            }
            other => {
                c.check(false, "enforceNodeAllocatable", || format!("unknown value {other:?}"));
                continue;
            }
        }
        c.check(kc.cgroups_per_qos, "cgroupsPerQOS", || format!("must be true when enforceNodeAllocatable has {value}"));
    }
}

fn image_credentials(c: &mut Checks, kc: &KubeletConfiguration, gates: &FeatureGates) {
    let policy = kc.image_pull_credentials_verification_policy.as_str();
    let allowlist = !kc.preloaded_images_verification_allowlist.is_empty();
    if gates.enabled("KubeletEnsureSecretPulledImages") {
        c.one_of("imagePullCredentialsVerificationPolicy", policy, &["NeverVerify", "NeverVerifyPreloadedImages", "NeverVerifyAllowlistedImages", "AlwaysVerify"]);
        c.check(!allowlist || policy == "NeverVerifyAllowlistedImages", "preloadedImagesVerificationAllowlist", || "needs imagePullCredentialsVerificationPolicy NeverVerifyAllowlistedImages".into());
    } else {
        c.check(policy.is_empty(), "imagePullCredentialsVerificationPolicy", || "needs the KubeletEnsureSecretPulledImages feature gate".into());
        c.check(!allowlist, "preloadedImagesVerificationAllowlist", || "needs the KubeletEnsureSecretPulledImages feature gate".into());
    }
}

fn pod_logs_dir(c: &mut Checks, dir: &str) {
    let path = std::path::Path::new(dir);
    c.check(path.is_absolute(), "podLogsDir", || format!("{dir:?} must be an absolute path"));
    // Clean as Go's filepath.Clean: no empty, "." or ".." parts and no trailing slash.
    let clean = dir == "/" || (!dir.ends_with('/') && dir.split('/').skip(1).all(|p| !p.is_empty() && p != "." && p != ".."));
    c.check(clean, "podLogsDir", || format!("{dir:?} must be normalized"));
    c.check(dir.is_ascii(), "podLogsDir", || format!("{dir:?} must be ASCII"));
}

/// Checks upstream makes at start-up (or misses), made here so a bad value fails at once.
fn rkubelet_checks(c: &mut Checks, kc: &KubeletConfiguration) {
    c.one_of("cgroupDriver", &kc.cgroup_driver, &["cgroupfs", "systemd"]);
    c.one_of("authorization.mode", &kc.authorization.mode, &[super::config_types::AUTHZ_ALWAYS_ALLOW, super::config_types::AUTHZ_WEBHOOK]);
    c.ip("address", &kc.address);
    c.ip("healthzBindAddress", &kc.healthz_bind_address);
    for (field, d) in [
        ("syncFrequency", kc.sync_frequency),
        ("fileCheckFrequency", kc.file_check_frequency),
        ("httpCheckFrequency", kc.http_check_frequency),
        ("nodeStatusUpdateFrequency", kc.node_status_update_frequency),
        ("nodeStatusReportFrequency", kc.node_status_report_frequency),
        ("runtimeRequestTimeout", kc.runtime_request_timeout),
    ] {
        c.positive_duration(field, d);
    }
    c.check(!kc.streaming_connection_idle_timeout.is_negative(), "streamingConnectionIdleTimeout", || "must not be negative".into());
    c.check(quantity::parse_bytes(&kc.container_log_max_size).is_some(), "containerLogMaxSize", || {
        format!("{:?} is not a quantity such as 10Mi", kc.container_log_max_size)
    });
    for dns in &kc.cluster_dns {
        c.ip("clusterDNS", dns);
    }
}

fn flag_checks(c: &mut Checks, flags: &KubeletFlags) {
    for problem in labels::check_node_labels(&flags.node_labels) {
        c.check(false, "--node-labels", || problem);
    }
    if let Some(ips) = &flags.node_ip {
        let parsed: Vec<Option<std::net::IpAddr>> = ips.split(',').map(|s| s.trim().parse().ok()).collect();
        let valid = parsed.iter().all(Option::is_some)
            && match parsed.as_slice() {
                [_] => true,
                [Some(a), Some(b)] => a.is_ipv4() != b.is_ipv4(),
                _ => false,
            };
        c.check(valid, "--node-ip", || format!("{ips:?} must be one IP address, or an IPv4 and an IPv6 address separated by a comma"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(edit: impl FnOnce(&mut KubeletConfiguration)) -> Vec<String> {
        let mut kc = KubeletConfiguration::default();
        edit(&mut kc);
        validate(&kc, &KubeletFlags::default(), &FeatureGates::default()).into_iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(problems(|_| {}), Vec::<String>::new());
        let kc = KubeletConfiguration::flag_defaults();
        assert!(validate(&kc, &KubeletFlags::default(), &FeatureGates::default()).is_empty());
    }

    #[test]
    fn upstream_rules() {
        assert_eq!(problems(|kc| kc.node_lease_duration_seconds = 0), ["nodeLeaseDurationSeconds: must be greater than 0"]);
        assert_eq!(problems(|kc| kc.image_gc_low_threshold_percent = 90), ["imageGCLowThresholdPercent: 90 must be less than imageGCHighThresholdPercent 85"]);
        assert_eq!(problems(|kc| kc.port = 70000), ["port: 70000 must be between 1 and 65535, inclusive"]);
        assert_eq!(problems(|kc| kc.read_only_port = -1).len(), 1);
        assert_eq!(problems(|kc| kc.healthz_port = 0), Vec::<String>::new());
        assert_eq!(problems(|kc| kc.max_pods = -1).len(), 1);
        assert_eq!(problems(|kc| kc.container_log_max_files = 1).len(), 1);
        assert_eq!(problems(|kc| kc.hairpin_mode = "sideways".into()).len(), 1);
        assert_eq!(problems(|kc| kc.enforce_node_allocatable = vec!["none".into(), "pods".into()]).len(), 1);
        assert_eq!(problems(|kc| kc.cgroups_per_qos = false), ["cgroupsPerQOS: must be true when enforceNodeAllocatable has pods"]);
        assert_eq!(problems(|kc| kc.run_once = true).len(), 1);
        assert_eq!(problems(|kc| kc.pod_logs_dir = "/var/log/pods/".into()).len(), 1);
        assert_eq!(problems(|kc| kc.shutdown_grace_period = GoDuration::from_millis(500)).len(), 1);
    }

    #[test]
    fn rkubelet_rules() {
        assert_eq!(problems(|kc| kc.cgroup_driver = "cgroupv2".into()).len(), 1);
        assert_eq!(problems(|kc| kc.sync_frequency = GoDuration::ZERO), ["syncFrequency: 0s must be greater than 0"]);
        assert_eq!(problems(|kc| kc.container_log_max_size = "lots".into()).len(), 1);
        assert_eq!(problems(|kc| kc.address = "localhost".into()).len(), 1);
    }

    #[test]
    fn flag_rules() {
        let mut flags = KubeletFlags { node_ip: Some("192.0.2.2,2001:db8::2".into()), ..KubeletFlags::default() };
        let kc = KubeletConfiguration::default();
        assert!(validate(&kc, &flags, &FeatureGates::default()).is_empty());
        flags.node_ip = Some("192.0.2.2,192.0.2.3".into());
        flags.node_labels.insert("kubernetes.io/role".into(), "x".into());
        assert_eq!(validate(&kc, &flags, &FeatureGates::default()).len(), 2);
    }
}
