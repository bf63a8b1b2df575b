//! KubeletConfiguration `kubelet.config.k8s.io/v1beta1`, field for field as upstream v1.37.2
//! defines it, with the values after defaulting.
//!
//! Upstream's v1beta1 type uses Go pointers where "unset" and "zero" differ; once defaults are
//! applied (which is all the rest of rkubelet ever sees) most of those are plain values here.
//! Only fields that upstream leaves unset by default stay `Option`.
//!
//! Two sets of defaults exist upstream, and both are here:
//! - [`KubeletConfiguration::default`]: what a `--config` file gets for every field it leaves
//!   out (`SetDefaults_KubeletConfiguration`, plus the default `evictionHard` the kubelet adds
//!   to a file that has none).
//! - [`KubeletConfiguration::flag_defaults`]: what the kubelet runs with when no `--config` is
//!   given: the same, except four "legacy" flag defaults (anonymous auth on, token webhook off,
//!   `AlwaysAllow`, read-only port 10255) and no `evictionHard`.

use super::config_types::*;
use super::duration::GoDuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub type StringMap = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubeletConfiguration {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    #[serde(rename = "kind")]
    pub kind: String,
    #[serde(rename = "enableServer")]
    pub enable_server: bool,
    #[serde(rename = "staticPodPath")]
    pub static_pod_path: String,
    #[serde(rename = "podLogsDir")]
    pub pod_logs_dir: String,
    #[serde(rename = "syncFrequency")]
    pub sync_frequency: GoDuration,
    #[serde(rename = "fileCheckFrequency")]
    pub file_check_frequency: GoDuration,
    #[serde(rename = "httpCheckFrequency")]
    pub http_check_frequency: GoDuration,
    #[serde(rename = "staticPodURL")]
    pub static_pod_url: String,
    #[serde(rename = "staticPodURLHeader")]
    pub static_pod_url_header: BTreeMap<String, Vec<String>>,
    #[serde(rename = "address")]
    pub address: String,
    #[serde(rename = "port")]
    pub port: i32,
    #[serde(rename = "readOnlyPort")]
    pub read_only_port: i32,
    #[serde(rename = "tlsCertFile")]
    pub tls_cert_file: String,
    #[serde(rename = "tlsPrivateKeyFile")]
    pub tls_private_key_file: String,
    #[serde(rename = "tlsCipherSuites")]
    pub tls_cipher_suites: Vec<String>,
    #[serde(rename = "tlsCurvePreferences")]
    pub tls_curve_preferences: Vec<i32>,
    #[serde(rename = "tlsMinVersion")]
    pub tls_min_version: String,
    #[serde(rename = "rotateCertificates")]
    pub rotate_certificates: bool,
    #[serde(rename = "serverTLSBootstrap")]
    pub server_tls_bootstrap: bool,
    #[serde(rename = "authentication")]
    pub authentication: KubeletAuthentication,
    #[serde(rename = "authorization")]
    pub authorization: KubeletAuthorization,
    #[serde(rename = "registryPullQPS")]
    pub registry_pull_qps: i32,
    #[serde(rename = "registryBurst")]
    pub registry_burst: i32,
    #[serde(rename = "imagePullCredentialsVerificationPolicy")]
    pub image_pull_credentials_verification_policy: String,
    #[serde(rename = "preloadedImagesVerificationAllowlist")]
    pub preloaded_images_verification_allowlist: Vec<String>,
    #[serde(rename = "eventRecordQPS")]
    pub event_record_qps: i32,
    #[serde(rename = "eventBurst")]
    pub event_burst: i32,
    #[serde(rename = "enableDebuggingHandlers")]
    pub enable_debugging_handlers: bool,
    #[serde(rename = "enableContentionProfiling")]
    pub enable_contention_profiling: bool,
    #[serde(rename = "healthzPort")]
    pub healthz_port: i32,
    #[serde(rename = "healthzBindAddress")]
    pub healthz_bind_address: String,
    #[serde(rename = "oomScoreAdj")]
    pub oom_score_adj: i32,
    #[serde(rename = "clusterDomain")]
    pub cluster_domain: String,
    #[serde(rename = "clusterDNS")]
    pub cluster_dns: Vec<String>,
    #[serde(rename = "streamingConnectionIdleTimeout")]
    pub streaming_connection_idle_timeout: GoDuration,
    #[serde(rename = "nodeStatusUpdateFrequency")]
    pub node_status_update_frequency: GoDuration,
    #[serde(rename = "nodeStatusReportFrequency")]
    pub node_status_report_frequency: GoDuration,
    #[serde(rename = "nodeLeaseDurationSeconds")]
    pub node_lease_duration_seconds: i32,
    #[serde(rename = "imageMinimumGCAge")]
    pub image_minimum_gc_age: GoDuration,
    #[serde(rename = "imageMaximumGCAge")]
    pub image_maximum_gc_age: GoDuration,
    #[serde(rename = "imageGCHighThresholdPercent")]
    pub image_gc_high_threshold_percent: i32,
    #[serde(rename = "imageGCLowThresholdPercent")]
    pub image_gc_low_threshold_percent: i32,
    #[serde(rename = "volumeStatsAggPeriod")]
    pub volume_stats_agg_period: GoDuration,
    #[serde(rename = "kubeletCgroups")]
    pub kubelet_cgroups: String,
    #[serde(rename = "systemCgroups")]
    pub system_cgroups: String,
    #[serde(rename = "cgroupRoot")]
    pub cgroup_root: String,
    #[serde(rename = "cgroupsPerQOS")]
    pub cgroups_per_qos: bool,
    #[serde(rename = "cgroupDriver")]
    pub cgroup_driver: String,
    #[serde(rename = "cpuManagerPolicy")]
    pub cpu_manager_policy: String,
    #[serde(rename = "singleProcessOOMKill")]
    pub single_process_oom_kill: Option<bool>,
    #[serde(rename = "cpuManagerPolicyOptions")]
    pub cpu_manager_policy_options: StringMap,
    #[serde(rename = "cpuManagerReconcilePeriod")]
    pub cpu_manager_reconcile_period: GoDuration,
    #[serde(rename = "memoryManagerPolicy")]
    pub memory_manager_policy: String,
    #[serde(rename = "topologyManagerPolicy")]
    pub topology_manager_policy: String,
    #[serde(rename = "topologyManagerScope")]
    pub topology_manager_scope: String,
    #[serde(rename = "topologyManagerPolicyOptions")]
    pub topology_manager_policy_options: StringMap,
    #[serde(rename = "qosReserved")]
    pub qos_reserved: StringMap,
    #[serde(rename = "runtimeRequestTimeout")]
    pub runtime_request_timeout: GoDuration,
    #[serde(rename = "hairpinMode")]
    pub hairpin_mode: String,
    #[serde(rename = "maxPods")]
    pub max_pods: i32,
    #[serde(rename = "podCIDR")]
    pub pod_cidr: String,
    #[serde(rename = "podPidsLimit")]
    pub pod_pids_limit: i64,
    /// Empty means "no resolver file": pods get no DNS configuration from the host.
    #[serde(rename = "resolvConf")]
    pub resolv_conf: String,
    #[serde(rename = "runOnce")]
    pub run_once: bool,
    #[serde(rename = "cpuCFSQuota")]
    pub cpu_cfs_quota: bool,
    #[serde(rename = "cpuCFSQuotaPeriod")]
    pub cpu_cfs_quota_period: GoDuration,
    #[serde(rename = "nodeStatusMaxImages")]
    pub node_status_max_images: i32,
    #[serde(rename = "maxOpenFiles")]
    pub max_open_files: i64,
    #[serde(rename = "contentType")]
    pub content_type: String,
    #[serde(rename = "kubeAPIQPS")]
    pub kube_api_qps: i32,
    #[serde(rename = "kubeAPIBurst")]
    pub kube_api_burst: i32,
    #[serde(rename = "serializeImagePulls")]
    pub serialize_image_pulls: bool,
    #[serde(rename = "maxParallelImagePulls")]
    pub max_parallel_image_pulls: Option<i32>,
    #[serde(rename = "evictionHard")]
    pub eviction_hard: StringMap,
    #[serde(rename = "evictionSoft")]
    pub eviction_soft: StringMap,
    #[serde(rename = "evictionSoftGracePeriod")]
    pub eviction_soft_grace_period: StringMap,
    #[serde(rename = "evictionPressureTransitionPeriod")]
    pub eviction_pressure_transition_period: GoDuration,
    #[serde(rename = "evictionMaxPodGracePeriod")]
    pub eviction_max_pod_grace_period: i32,
    #[serde(rename = "evictionMinimumReclaim")]
    pub eviction_minimum_reclaim: StringMap,
    #[serde(rename = "mergeDefaultEvictionSettings")]
    pub merge_default_eviction_settings: bool,
    #[serde(rename = "podsPerCore")]
    pub pods_per_core: i32,
    #[serde(rename = "enableControllerAttachDetach")]
    pub enable_controller_attach_detach: bool,
    #[serde(rename = "protectKernelDefaults")]
    pub protect_kernel_defaults: bool,
    #[serde(rename = "makeIPTablesUtilChains")]
    pub make_iptables_util_chains: bool,
    #[serde(rename = "iptablesMasqueradeBit")]
    pub iptables_masquerade_bit: i32,
    #[serde(rename = "iptablesDropBit")]
    pub iptables_drop_bit: i32,
    #[serde(rename = "featureGates")]
    pub feature_gates: BTreeMap<String, bool>,
    #[serde(rename = "failSwapOn")]
    pub fail_swap_on: bool,
    #[serde(rename = "memorySwap")]
    pub memory_swap: MemorySwapConfiguration,
    #[serde(rename = "containerLogMaxSize")]
    pub container_log_max_size: String,
    #[serde(rename = "containerLogMaxFiles")]
    pub container_log_max_files: i32,
    #[serde(rename = "containerLogMaxWorkers")]
    pub container_log_max_workers: i32,
    #[serde(rename = "containerLogMonitorInterval")]
    pub container_log_monitor_interval: GoDuration,
    #[serde(rename = "configMapAndSecretChangeDetectionStrategy")]
    pub config_map_and_secret_change_detection_strategy: String,
    #[serde(rename = "systemReserved")]
    pub system_reserved: StringMap,
    #[serde(rename = "kubeReserved")]
    pub kube_reserved: StringMap,
    #[serde(rename = "reservedSystemCPUs")]
    pub reserved_system_cpus: String,
    #[serde(rename = "showHiddenMetricsForVersion")]
    pub show_hidden_metrics_for_version: String,
    #[serde(rename = "systemReservedCgroup")]
    pub system_reserved_cgroup: String,
    #[serde(rename = "kubeReservedCgroup")]
    pub kube_reserved_cgroup: String,
    #[serde(rename = "enforceNodeAllocatable")]
    pub enforce_node_allocatable: Vec<String>,
    #[serde(rename = "allowedUnsafeSysctls")]
    pub allowed_unsafe_sysctls: Vec<String>,
    #[serde(rename = "defaultPodSysctls")]
    pub default_pod_sysctls: StringMap,
    #[serde(rename = "volumePluginDir")]
    pub volume_plugin_dir: String,
    #[serde(rename = "providerID")]
    pub provider_id: String,
    #[serde(rename = "kernelMemcgNotification")]
    pub kernel_memcg_notification: bool,
    #[serde(rename = "logging")]
    pub logging: LoggingConfiguration,
    #[serde(rename = "enableSystemLogHandler")]
    pub enable_system_log_handler: bool,
    #[serde(rename = "enableSystemLogQuery")]
    pub enable_system_log_query: bool,
    #[serde(rename = "shutdownGracePeriod")]
    pub shutdown_grace_period: GoDuration,
    #[serde(rename = "shutdownGracePeriodCriticalPods")]
    pub shutdown_grace_period_critical_pods: GoDuration,
    #[serde(rename = "shutdownGracePeriodByPodPriority")]
    pub shutdown_grace_period_by_pod_priority: Vec<ShutdownGracePeriodByPodPriority>,
    #[serde(rename = "crashLoopBackOff")]
    pub crash_loop_back_off: CrashLoopBackOffConfig,
    #[serde(rename = "reservedMemory")]
    pub reserved_memory: Vec<MemoryReservation>,
    #[serde(rename = "enableProfilingHandler")]
    pub enable_profiling_handler: bool,
    #[serde(rename = "enableDebugFlagsHandler")]
    pub enable_debug_flags_handler: bool,
    #[serde(rename = "seccompDefault")]
    pub seccomp_default: bool,
    #[serde(rename = "memoryThrottlingFactor")]
    pub memory_throttling_factor: Option<f64>,
    #[serde(rename = "memoryReservationPolicy")]
    pub memory_reservation_policy: String,
    #[serde(rename = "registerWithTaints")]
    pub register_with_taints: Vec<Taint>,
    #[serde(rename = "registerNode")]
    pub register_node: bool,
    #[serde(rename = "tracing")]
    pub tracing: Option<TracingConfiguration>,
    #[serde(rename = "localStorageCapacityIsolation")]
    pub local_storage_capacity_isolation: bool,
    #[serde(rename = "containerRuntimeEndpoint")]
    pub container_runtime_endpoint: String,
    /// Empty means: the same as `containerRuntimeEndpoint` (see [`Self::image_endpoint`]).
    #[serde(rename = "imageServiceEndpoint")]
    pub image_service_endpoint: String,
    #[serde(rename = "failCgroupV1")]
    pub fail_cgroup_v1: bool,
    #[serde(rename = "userNamespaces")]
    pub user_namespaces: Option<UserNamespaces>,
}

/// The hard eviction thresholds a config file without `evictionHard` gets on Linux.
pub const DEFAULT_EVICTION_HARD: [(&str, &str); 5] = [
    ("memory.available", "100Mi"),
    ("nodefs.available", "10%"),
    ("nodefs.inodesFree", "5%"),
    ("imagefs.available", "15%"),
    ("imagefs.inodesFree", "5%"),
];

/// Upstream's kubelet port numbers (pkg/cluster/ports).
pub const KUBELET_PORT: i32 = 10250;
pub const KUBELET_READ_ONLY_PORT: i32 = 10255;
pub const KUBELET_HEALTHZ_PORT: i32 = 10248;

fn s(text: &str) -> String {
    text.to_string()
}

impl Default for KubeletConfiguration {
    /// Upstream's v1beta1 defaults for a config file that sets nothing, with the default
    /// feature gates of v1.37.2 (KubeletCrashLoopBackOffMax and
    /// KubeletEnsureSecretPulledImages are on, so their fields get defaults).
    fn default() -> Self {
        KubeletConfiguration {
            api_version: s(super::API_VERSION),
            kind: s(super::KIND),
            enable_server: true,
            static_pod_path: String::new(),
            pod_logs_dir: s("/var/log/pods"),
            sync_frequency: GoDuration::from_mins(1),
            file_check_frequency: GoDuration::from_secs(20),
            http_check_frequency: GoDuration::from_secs(20),
            static_pod_url: String::new(),
            static_pod_url_header: BTreeMap::new(),
            address: s("0.0.0.0"),
            port: KUBELET_PORT,
            read_only_port: 0,
            tls_cert_file: String::new(),
            tls_private_key_file: String::new(),
            tls_cipher_suites: Vec::new(),
            tls_curve_preferences: Vec::new(),
            tls_min_version: String::new(),
            rotate_certificates: false,
            server_tls_bootstrap: false,
            authentication: KubeletAuthentication::default(),
            authorization: KubeletAuthorization::default(),
            registry_pull_qps: 5,
            registry_burst: 10,
            image_pull_credentials_verification_policy: s("NeverVerifyPreloadedImages"),
            preloaded_images_verification_allowlist: Vec::new(),
            event_record_qps: 50,
            event_burst: 100,
            enable_debugging_handlers: true,
            enable_contention_profiling: false,
            healthz_port: KUBELET_HEALTHZ_PORT,
            healthz_bind_address: s("127.0.0.1"),
            oom_score_adj: -999,
            cluster_domain: String::new(),
            cluster_dns: Vec::new(),
            streaming_connection_idle_timeout: GoDuration::from_hours(4),
            node_status_update_frequency: GoDuration::from_secs(10),
            node_status_report_frequency: GoDuration::from_mins(5),
            node_lease_duration_seconds: 40,
            image_minimum_gc_age: GoDuration::from_mins(2),
            image_maximum_gc_age: GoDuration::ZERO,
            image_gc_high_threshold_percent: 85,
            image_gc_low_threshold_percent: 80,
            volume_stats_agg_period: GoDuration::from_mins(1),
            kubelet_cgroups: String::new(),
            system_cgroups: String::new(),
            cgroup_root: String::new(),
            cgroups_per_qos: true,
            cgroup_driver: s("cgroupfs"),
            cpu_manager_policy: s("none"),
            single_process_oom_kill: None,
            cpu_manager_policy_options: StringMap::new(),
            cpu_manager_reconcile_period: GoDuration::from_secs(10),
            memory_manager_policy: s("None"),
            topology_manager_policy: s("none"),
            topology_manager_scope: s("container"),
            topology_manager_policy_options: StringMap::new(),
            qos_reserved: StringMap::new(),
            runtime_request_timeout: GoDuration::from_mins(2),
            hairpin_mode: s("promiscuous-bridge"),
            max_pods: 110,
            pod_cidr: String::new(),
            pod_pids_limit: -1,
            resolv_conf: s("/etc/resolv.conf"),
            run_once: false,
            cpu_cfs_quota: true,
            cpu_cfs_quota_period: GoDuration::from_millis(100),
            node_status_max_images: 50,
            max_open_files: 1_000_000,
            content_type: s("application/vnd.kubernetes.protobuf"),
            kube_api_qps: 50,
            kube_api_burst: 100,
            serialize_image_pulls: true,
            max_parallel_image_pulls: None,
            eviction_hard: DEFAULT_EVICTION_HARD.iter().map(|(k, v)| (s(k), s(v))).collect(),
            eviction_soft: StringMap::new(),
            eviction_soft_grace_period: StringMap::new(),
            eviction_pressure_transition_period: GoDuration::from_mins(5),
            eviction_max_pod_grace_period: 0,
            eviction_minimum_reclaim: StringMap::new(),
            merge_default_eviction_settings: false,
            pods_per_core: 0,
            enable_controller_attach_detach: true,
            protect_kernel_defaults: false,
            make_iptables_util_chains: true,
            iptables_masquerade_bit: 14,
            iptables_drop_bit: 15,
            feature_gates: BTreeMap::new(),
            fail_swap_on: true,
            memory_swap: MemorySwapConfiguration::default(),
            container_log_max_size: s("10Mi"),
            container_log_max_files: 5,
            container_log_max_workers: 1,
            container_log_monitor_interval: GoDuration::from_secs(10),
            config_map_and_secret_change_detection_strategy: s("Watch"),
            system_reserved: StringMap::new(),
            kube_reserved: StringMap::new(),
            reserved_system_cpus: String::new(),
            show_hidden_metrics_for_version: String::new(),
            system_reserved_cgroup: String::new(),
            kube_reserved_cgroup: String::new(),
            enforce_node_allocatable: vec![s("pods")],
            allowed_unsafe_sysctls: Vec::new(),
            default_pod_sysctls: StringMap::new(),
            volume_plugin_dir: s("/usr/libexec/kubernetes/kubelet-plugins/volume/exec/"),
            provider_id: String::new(),
            kernel_memcg_notification: false,
            logging: LoggingConfiguration::default(),
            enable_system_log_handler: true,
            enable_system_log_query: false,
            shutdown_grace_period: GoDuration::ZERO,
            shutdown_grace_period_critical_pods: GoDuration::ZERO,
            shutdown_grace_period_by_pod_priority: Vec::new(),
            crash_loop_back_off: CrashLoopBackOffConfig { max_container_restart_period: Some(GoDuration::from_mins(5)) },
            reserved_memory: Vec::new(),
            enable_profiling_handler: true,
            enable_debug_flags_handler: true,
            seccomp_default: false,
            memory_throttling_factor: None,
            memory_reservation_policy: s("None"),
            register_with_taints: Vec::new(),
            register_node: true,
            tracing: None,
            local_storage_capacity_isolation: true,
            container_runtime_endpoint: s("unix:///run/containerd/containerd.sock"),
            image_service_endpoint: String::new(),
            fail_cgroup_v1: true,
            user_namespaces: None,
        }
    }
}

impl KubeletConfiguration {
    /// What upstream runs with when no `--config` file is given (before any flag).
    pub fn flag_defaults() -> Self {
        let mut kc = KubeletConfiguration::default();
        kc.authentication.anonymous.enabled = true;
        kc.authentication.webhook.enabled = false;
        kc.authorization.mode = AUTHZ_ALWAYS_ALLOW.to_string();
        kc.read_only_port = KUBELET_READ_ONLY_PORT;
        // The default thresholds are added only to a loaded config file.
        kc.eviction_hard.clear();
        kc
    }

    /// The CRI image service endpoint: `imageServiceEndpoint`, or the runtime endpoint.
    pub fn image_endpoint(&self) -> &str {
        if self.image_service_endpoint.is_empty() {
            &self.container_runtime_endpoint
        } else {
            &self.image_service_endpoint
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The defaults upstream v1.37.2 documents and sets (staging/src/k8s.io/kubelet/config/
    // v1beta1/types.go, pkg/kubelet/apis/config/v1beta1/defaults.go).
    #[test]
    fn file_defaults_match_upstream() {
        let kc = KubeletConfiguration::default();
        assert_eq!(kc.sync_frequency.to_string(), "1m0s");
        assert_eq!(kc.file_check_frequency.to_string(), "20s");
        assert_eq!(kc.http_check_frequency.to_string(), "20s");
        assert_eq!(kc.address, "0.0.0.0");
        assert_eq!(kc.port, 10250);
        assert_eq!(kc.read_only_port, 0);
        assert_eq!(kc.healthz_port, 10248);
        assert_eq!(kc.healthz_bind_address, "127.0.0.1");
        assert_eq!(kc.max_pods, 110);
        assert_eq!(kc.pod_pids_limit, -1);
        assert_eq!(kc.runtime_request_timeout.to_string(), "2m0s");
        assert_eq!(kc.node_status_update_frequency.to_string(), "10s");
        assert_eq!(kc.node_status_report_frequency.to_string(), "5m0s");
        assert_eq!(kc.node_lease_duration_seconds, 40);
        assert_eq!(kc.image_minimum_gc_age.to_string(), "2m0s");
        assert_eq!(kc.image_gc_high_threshold_percent, 85);
        assert_eq!(kc.image_gc_low_threshold_percent, 80);
        assert_eq!(kc.eviction_hard.get("memory.available").map(String::as_str), Some("100Mi"));
        assert_eq!(kc.eviction_hard.get("nodefs.available").map(String::as_str), Some("10%"));
        assert_eq!(kc.eviction_hard.get("nodefs.inodesFree").map(String::as_str), Some("5%"));
        assert_eq!(kc.eviction_hard.get("imagefs.available").map(String::as_str), Some("15%"));
        assert_eq!(kc.eviction_hard.get("imagefs.inodesFree").map(String::as_str), Some("5%"));
        assert!(kc.serialize_image_pulls);
        assert_eq!((kc.registry_pull_qps, kc.registry_burst), (5, 10));
        assert_eq!((kc.event_record_qps, kc.event_burst), (50, 100));
        assert_eq!((kc.kube_api_qps, kc.kube_api_burst), (50, 100));
        assert_eq!(kc.container_log_max_size, "10Mi");
        assert_eq!(kc.container_log_max_files, 5);
        assert_eq!(kc.cgroup_driver, "cgroupfs");
        assert!(kc.cgroups_per_qos);
        assert_eq!(kc.enforce_node_allocatable, vec!["pods".to_string()]);
        assert!(!kc.authentication.anonymous.enabled);
        assert!(kc.authentication.webhook.enabled);
        assert_eq!(kc.authentication.webhook.cache_ttl.to_string(), "2m0s");
        assert_eq!(kc.authorization.mode, "Webhook");
        assert_eq!(kc.authorization.webhook.cache_authorized_ttl.to_string(), "5m0s");
        assert_eq!(kc.authorization.webhook.cache_unauthorized_ttl.to_string(), "30s");
        assert_eq!(kc.streaming_connection_idle_timeout.to_string(), "4h0m0s");
        assert_eq!(kc.container_runtime_endpoint, "unix:///run/containerd/containerd.sock");
        assert_eq!(kc.image_service_endpoint, "");
        assert_eq!(kc.image_endpoint(), "unix:///run/containerd/containerd.sock");
        assert_eq!(kc.hairpin_mode, "promiscuous-bridge");
        assert!(!kc.rotate_certificates && !kc.server_tls_bootstrap);
        assert!(kc.tls_cipher_suites.is_empty() && kc.tls_min_version.is_empty());
        assert_eq!(kc.shutdown_grace_period, GoDuration::ZERO);
        assert_eq!(kc.static_pod_path, "");
        assert_eq!(kc.static_pod_url, "");
        assert!(kc.static_pod_url_header.is_empty());
        assert_eq!(kc.resolv_conf, "/etc/resolv.conf");
        assert_eq!(kc.oom_score_adj, -999);
        assert_eq!(kc.pod_logs_dir, "/var/log/pods");
        assert!(kc.fail_swap_on && kc.fail_cgroup_v1 && kc.register_node);
        assert_eq!(kc.logging.format, "text");
        assert_eq!(kc.logging.flush_frequency.to_string(), "5s");
        assert_eq!(kc.crash_loop_back_off.max_container_restart_period, Some(GoDuration::from_mins(5)));
        assert_eq!(kc.cpu_cfs_quota_period.to_string(), "100ms");
        assert_eq!(kc.max_open_files, 1_000_000);
    }

    #[test]
    fn flag_defaults_differ_only_where_upstream_does() {
        let file = KubeletConfiguration::default();
        let flags = KubeletConfiguration::flag_defaults();
        assert_eq!(flags.read_only_port, 10255);
        assert!(flags.authentication.anonymous.enabled);
        assert!(!flags.authentication.webhook.enabled);
        assert_eq!(flags.authorization.mode, "AlwaysAllow");
        assert!(flags.eviction_hard.is_empty());
        let mut same = flags.clone();
        same.read_only_port = file.read_only_port;
        same.authentication = file.authentication.clone();
        same.authorization.mode = file.authorization.mode.clone();
        same.eviction_hard = file.eviction_hard.clone();
        assert_eq!(same, file);
    }
}
