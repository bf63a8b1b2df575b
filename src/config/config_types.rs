//! The nested types of KubeletConfiguration (`authentication`, `authorization`, `logging`,
//! taints, ...), with upstream v1beta1's JSON names.
//!
//! Their `Default` is upstream's v1beta1 default where upstream defines one (the parts of
//! `authentication`, `authorization` and `logging` that `SetDefaults_KubeletConfiguration`
//! fills), and Go's zero value otherwise.

use super::duration::GoDuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubeletAuthentication {
    #[serde(rename = "x509")]
    pub x509: KubeletX509Authentication,
    #[serde(rename = "webhook")]
    pub webhook: KubeletWebhookAuthentication,
    #[serde(rename = "anonymous")]
    pub anonymous: KubeletAnonymousAuthentication,
}

impl Default for KubeletAuthentication {
    fn default() -> Self {
        KubeletAuthentication {
            x509: KubeletX509Authentication::default(),
            webhook: KubeletWebhookAuthentication { enabled: true, cache_ttl: GoDuration::from_mins(2) },
            anonymous: KubeletAnonymousAuthentication { enabled: false },
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KubeletX509Authentication {
    #[serde(rename = "clientCAFile")]
    pub client_ca_file: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KubeletWebhookAuthentication {
    #[serde(rename = "enabled")]
    pub enabled: bool,
    #[serde(rename = "cacheTTL")]
    pub cache_ttl: GoDuration,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KubeletAnonymousAuthentication {
    #[serde(rename = "enabled")]
    pub enabled: bool,
}

/// `authorization.mode` values.
pub const AUTHZ_ALWAYS_ALLOW: &str = "AlwaysAllow";
pub const AUTHZ_WEBHOOK: &str = "Webhook";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KubeletAuthorization {
    #[serde(rename = "mode")]
    pub mode: String,
    #[serde(rename = "webhook")]
    pub webhook: KubeletWebhookAuthorization,
}

impl Default for KubeletAuthorization {
    fn default() -> Self {
        KubeletAuthorization {
            mode: AUTHZ_WEBHOOK.to_string(),
            webhook: KubeletWebhookAuthorization {
                cache_authorized_ttl: GoDuration::from_mins(5),
                cache_unauthorized_ttl: GoDuration::from_secs(30),
            },
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KubeletWebhookAuthorization {
    #[serde(rename = "cacheAuthorizedTTL")]
    pub cache_authorized_ttl: GoDuration,
    #[serde(rename = "cacheUnauthorizedTTL")]
    pub cache_unauthorized_ttl: GoDuration,
}

/// A node taint as `registerWithTaints` holds it (core/v1 Taint).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Taint {
    #[serde(rename = "key")]
    pub key: String,
    #[serde(rename = "value")]
    pub value: String,
    #[serde(rename = "effect")]
    pub effect: String,
    #[serde(rename = "timeAdded")]
    pub time_added: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ShutdownGracePeriodByPodPriority {
    #[serde(rename = "priority")]
    pub priority: i32,
    #[serde(rename = "shutdownGracePeriodSeconds")]
    pub shutdown_grace_period_seconds: i64,
}

/// Memory reserved on one NUMA node; limits are resource quantities as text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemoryReservation {
    #[serde(rename = "numaNode")]
    pub numa_node: i32,
    #[serde(rename = "limits")]
    pub limits: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemorySwapConfiguration {
    #[serde(rename = "swapBehavior")]
    pub swap_behavior: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrashLoopBackOffConfig {
    #[serde(rename = "maxContainerRestartPeriod")]
    pub max_container_restart_period: Option<GoDuration>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TracingConfiguration {
    #[serde(rename = "endpoint")]
    pub endpoint: Option<String>,
    #[serde(rename = "samplingRatePerMillion")]
    pub sampling_rate_per_million: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserNamespaces {
    #[serde(rename = "idsPerPod")]
    pub ids_per_pod: Option<i64>,
}

/// component-base's LoggingConfiguration, as the kubelet embeds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggingConfiguration {
    #[serde(rename = "format")]
    pub format: String,
    /// Upstream accepts a duration string or a number of nanoseconds; decoding turns the
    /// number into a string.
    #[serde(rename = "flushFrequency")]
    pub flush_frequency: GoDuration,
    /// klog verbosity: what `-v` sets.
    #[serde(rename = "verbosity")]
    pub verbosity: u32,
    #[serde(rename = "vmodule")]
    pub vmodule: Vec<VModuleItem>,
    #[serde(rename = "options")]
    pub options: LoggingFormatOptions,
}

impl Default for LoggingConfiguration {
    fn default() -> Self {
        LoggingConfiguration {
            format: "text".to_string(),
            flush_frequency: GoDuration::from_secs(5),
            verbosity: 0,
            vmodule: Vec::new(),
            options: LoggingFormatOptions::default(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VModuleItem {
    #[serde(rename = "filePattern")]
    pub file_pattern: String,
    #[serde(rename = "verbosity")]
    pub verbosity: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggingFormatOptions {
    #[serde(rename = "text")]
    pub text: OutputRoutingOptions,
    #[serde(rename = "json")]
    pub json: OutputRoutingOptions,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputRoutingOptions {
    #[serde(rename = "splitStream")]
    pub split_stream: bool,
    /// A resource quantity as text ("0", "64Ki").
    #[serde(rename = "infoBufferSize")]
    pub info_buffer_size: String,
}

impl Default for OutputRoutingOptions {
    fn default() -> Self {
        OutputRoutingOptions { split_stream: false, info_buffer_size: "0".to_string() }
    }
}
