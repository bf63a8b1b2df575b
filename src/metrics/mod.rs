//! The agent's Prometheus metrics: a tiny registry of our own, the kubelet's families with
//! upstream's names, and the `process_*` families.
//!
//! | module | what |
//! | --- | --- |
//! | [`registry`] | labelled counters, gauges, histograms; the text exposition format |
//! | [`kubelet`] | the kubelet's metrics (runtime operations, PLEG, pod workers, HTTP, probes) |
//! | [`process`] | `process_cpu_seconds_total`, `process_resident_memory_bytes`, ... from `/proc` |
//!
//! Metrics are process-wide statics, as upstream's registry is: any thread records with a
//! call such as [`kubelet::runtime_operation`], and the server renders them per scrape.

pub mod kubelet;
pub mod process;
pub mod registry;

/// The content type of the text exposition format.
pub const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What `/metrics` serves: the kubelet's families, then the process ones.
pub fn kubelet_text() -> String {
    let mut out = String::new();
    for family in kubelet::KUBELET_FAMILIES {
        family.encode(&mut out);
    }
    process::encode(&mut out);
    out
}

/// What `/metrics/probes` serves: the prober's families and the process start time.
pub fn probes_text() -> String {
    let mut out = String::new();
    process::encode_start_time(&mut out);
    for family in kubelet::PROBE_FAMILIES {
        family.encode(&mut out);
    }
    out
}
