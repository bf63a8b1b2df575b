//! The seam between the kubelet API server and the stats provider: `/stats/summary` and
//! `/metrics/resource`, served on the authenticated port and the read-only port.
//!
//! | path | method | answer |
//! | --- | --- | --- |
//! | `/stats/summary[?only_cpu_and_memory=true]` | GET, POST | 200 JSON `summary(..)`; 500 `Internal Error: <e>` on error |
//! | `/metrics/resource` | GET | 200 Prometheus text `resource_metrics()`; 500 on error |
//!
//! `only_cpu_and_memory` is true only when given exactly once as `true` (query or form), as
//! upstream reads it. Until a provider is installed both answer 503.

/// Implemented by the stats module; installed with `server::secure::Deps::stats`.
pub trait StatsProvider: Send + Sync {
    /// The `stats/v1alpha1` Summary (node and pods), or only CPU and memory figures.
    fn summary(&self, only_cpu_and_memory: bool) -> Result<serde_json::Value, String>;
    /// The Prometheus text exposition of the resource metrics (`node_cpu_usage_seconds_total`,
    /// `container_memory_working_set_bytes`, ... as metrics-server reads them).
    fn resource_metrics(&self) -> Result<String, String>;
    /// False until real figures exist: the server then answers 503 without asking.
    fn available(&self) -> bool {
        true
    }
}

/// No provider yet: both endpoints answer 503.
pub struct Unavailable;

const UNAVAILABLE: &str = "stats are not available on this kubelet yet";

impl StatsProvider for Unavailable {
    fn summary(&self, _only_cpu_and_memory: bool) -> Result<serde_json::Value, String> {
        Err(UNAVAILABLE.to_string())
    }

    fn resource_metrics(&self) -> Result<String, String> {
        Err(UNAVAILABLE.to_string())
    }

    fn available(&self) -> bool {
        false
    }
}
