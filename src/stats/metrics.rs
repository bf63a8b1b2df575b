//! `/metrics/resource`: the CPU and memory summary in the Prometheus text format (0.0.4),
//! named, labelled and ordered as upstream's resource metrics collector and
//! client_golang write them. This is what metrics-server reads (`kubectl top`, the HPA).
//!
//! Families are sorted by name and left out when empty; samples within a family are sorted
//! by their label values (labels in name order: `container`, `namespace`, `pod`). Usage
//! samples carry their measurement time in milliseconds. Values are written as Go's
//! `strconv.FormatFloat(v, 'g', -1, 64)` writes them (`2.84672e+06`). `scrape_error`
//! (deprecated in 1.29) is hidden upstream in 1.37 and is not written.
#![forbid(unsafe_code)]

use std::fmt::Write;

use super::summary::{ContainerStats, CpuStats, MemoryStats, PodStats, Summary, SwapStats, Time};

/// Label names and values, in label-name order.
type Labels = Vec<(&'static str, String)>;

/// One metric family.
struct Family {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    samples: Vec<Sample>,
}

struct Sample {
    labels: Labels,
    value: f64,
    timestamp_ms: Option<i64>,
}

/// Name, help (with upstream's stability prefix) and type of each family we write.
const FAMILIES: [(&str, &str, &str); 12] = [
    (
        "node_cpu_usage_seconds_total",
        "[STABLE] Cumulative cpu time consumed by the node in core-seconds",
        "counter",
    ),
    ("node_memory_working_set_bytes", "[STABLE] Current working set of the node in bytes", "gauge"),
    (
        "node_swap_usage_bytes",
        "[ALPHA] Current swap usage of the node in bytes. Reported only on non-windows systems",
        "gauge",
    ),
    (
        "container_start_time_seconds",
        "[STABLE] Start time of the container since unix epoch in seconds",
        "gauge",
    ),
    (
        "container_cpu_usage_seconds_total",
        "[STABLE] Cumulative cpu time consumed by the container in core-seconds",
        "counter",
    ),
    ("container_memory_working_set_bytes", "[STABLE] Current working set of the container in bytes", "gauge"),
    (
        "container_swap_usage_bytes",
        "[ALPHA] Current amount of the container swap usage in bytes. Reported only on non-windows systems",
        "gauge",
    ),
    (
        "container_swap_limit_bytes",
        "[ALPHA] Current amount of the container swap limit in bytes. Reported only on non-windows systems",
        "gauge",
    ),
    (
        "pod_cpu_usage_seconds_total",
        "[STABLE] Cumulative cpu time consumed by the pod in core-seconds",
        "counter",
    ),
    ("pod_memory_working_set_bytes", "[STABLE] Current working set of the pod in bytes", "gauge"),
    (
        "pod_swap_usage_bytes",
        "[ALPHA] Current amount of the pod swap usage in bytes. Reported only on non-windows systems",
        "gauge",
    ),
    (
        "resource_scrape_error",
        "[STABLE] 1 if there was an error while getting container metrics, 0 otherwise",
        "gauge",
    ),
];
const NODE_CPU: usize = 0;
const NODE_MEMORY: usize = 1;
const NODE_SWAP: usize = 2;
const CONTAINER_START: usize = 3;
const CONTAINER_CPU: usize = 4;
const CONTAINER_MEMORY: usize = 5;
const CONTAINER_SWAP: usize = 6;
const CONTAINER_SWAP_LIMIT: usize = 7;
const POD_CPU: usize = 8;
const POD_MEMORY: usize = 9;
const POD_SWAP: usize = 10;
const SCRAPE_ERROR: usize = 11;

/// A value and when it was measured (`None`: written without a timestamp).
type Value = Option<(f64, Option<Time>)>;

#[allow(clippy::cast_precision_loss)]
fn seconds(nanos: u64) -> f64 {
    nanos as f64 / 1e9
}

#[allow(clippy::cast_precision_loss)]
fn float(v: u64) -> f64 {
    v as f64
}

fn cpu_seconds(c: Option<&CpuStats>) -> Value {
    c.and_then(|c| Some((seconds(c.usage_core_nano_seconds?), Some(c.time))))
}

fn working_set(m: Option<&MemoryStats>) -> Value {
    m.and_then(|m| Some((float(m.working_set_bytes?), Some(m.time))))
}

fn swap_usage(s: Option<&SwapStats>) -> Value {
    s.and_then(|s| Some((float(s.swap_usage_bytes?), Some(s.time))))
}

/// Upstream reports the swap limit as what is available plus what is used.
fn swap_limit(s: Option<&SwapStats>) -> Value {
    s.and_then(|s| {
        let limit = float(s.swap_available_bytes?) + s.swap_usage_bytes.map_or(0.0, float);
        Some((limit, Some(s.time)))
    })
}

fn add(families: &mut [Family; 12], which: usize, labels: &Labels, value: Value) {
    if let (Some(f), Some((value, time))) = (families.get_mut(which), value) {
        let timestamp_ms = time.map(|t| t.unix_nanos().div_euclid(1_000_000));
        f.samples.push(Sample { labels: labels.clone(), value, timestamp_ms });
    }
}

fn container_labels(pod: &PodStats, c: &ContainerStats) -> Labels {
    vec![
        ("container", c.name.clone()),
        ("namespace", pod.pod_ref.namespace.clone()),
        ("pod", pod.pod_ref.name.clone()),
    ]
}

fn pod_labels(pod: &PodStats) -> Labels {
    vec![("namespace", pod.pod_ref.namespace.clone()), ("pod", pod.pod_ref.name.clone())]
}

/// The exposition of a CPU-and-memory summary; `None` writes only the scrape error.
pub fn render(summary: Option<&Summary>) -> String {
    let mut f = FAMILIES.map(|(name, help, kind)| Family { name, help, kind, samples: Vec::new() });
    let none = Labels::new();
    if let Some(s) = summary {
        let n = &s.node;
        add(&mut f, NODE_CPU, &none, cpu_seconds(n.cpu.as_ref()));
        add(&mut f, NODE_MEMORY, &none, working_set(n.memory.as_ref()));
        add(&mut f, NODE_SWAP, &none, swap_usage(n.swap.as_ref()));
        for pod in &s.pods {
            for c in &pod.containers {
                let labels = container_labels(pod, c);
                let start = (c.start_time.unix_seconds() > 0)
                    .then(|| (seconds(c.start_time.unix_nanos().unsigned_abs()), None));
                add(&mut f, CONTAINER_START, &labels, start);
                add(&mut f, CONTAINER_CPU, &labels, cpu_seconds(c.cpu.as_ref()));
                add(&mut f, CONTAINER_MEMORY, &labels, working_set(c.memory.as_ref()));
                add(&mut f, CONTAINER_SWAP, &labels, swap_usage(c.swap.as_ref()));
                add(&mut f, CONTAINER_SWAP_LIMIT, &labels, swap_limit(c.swap.as_ref()));
            }
            let labels = pod_labels(pod);
            add(&mut f, POD_CPU, &labels, cpu_seconds(pod.cpu.as_ref()));
            add(&mut f, POD_MEMORY, &labels, working_set(pod.memory.as_ref()));
            add(&mut f, POD_SWAP, &labels, swap_usage(pod.swap.as_ref()));
        }
    }
    add(&mut f, SCRAPE_ERROR, &none, Some((if summary.is_some() { 0.0 } else { 1.0 }, None)));

    f.sort_by_key(|f| f.name);
    let mut out = String::new();
    for family in &mut f {
        if family.samples.is_empty() {
            continue;
        }
        family.samples.sort_by(|a, b| {
            let values = |s: &Sample| s.labels.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>();
            values(a).cmp(&values(b)).then(a.timestamp_ms.cmp(&b.timestamp_ms))
        });
        let _ = writeln!(out, "# HELP {} {}", family.name, family.help);
        let _ = writeln!(out, "# TYPE {} {}", family.name, family.kind);
        for s in &family.samples {
            out.push_str(family.name);
            if !s.labels.is_empty() {
                let labels: Vec<String> =
                    s.labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape_label(v))).collect();
                let _ = write!(out, "{{{}}}", labels.join(","));
            }
            let _ = write!(out, " {}", go_float(s.value));
            if let Some(ts) = s.timestamp_ms {
                let _ = write!(out, " {ts}");
            }
            out.push('\n');
        }
    }
    out
}

/// Label values escape backslash, double quote and newline.
fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Go's `strconv.FormatFloat(v, 'g', -1, 64)`: the shortest digits that read back as `v`,
/// in exponent form when the decimal exponent is below -4 or at least 6 (`1.5e+09`,
/// `1.234e-05`, but `123456`).
pub fn go_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `1.5e9`, `-2.25e-5`.
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.unsigned_abs());
    }
    format!("{v}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::summary::*;

    #[test]
    fn floats_as_go_writes_them() {
        // Each pair checked against Go's strconv.FormatFloat(v, 'g', -1, 64).
        let cases: [(f64, &str); 13] = [
            (0.0, "0"),
            (1.0, "1"),
            (0.5, "0.5"),
            (123_456.0, "123456"),
            (1_234_567.0, "1.234567e+06"),
            (1e6, "1e+06"),
            (3.610_152_558, "3.610152558"),
            (1.5e9, "1.5e+09"),
            (0.0001, "0.0001"),
            (0.000_012_34, "1.234e-05"),
            (1_795_472_207.5, "1.7954722075e+09"),
            (0.012_425_354, "0.012425354"),
            (2_846_720.0, "2.84672e+06"),
        ];
        for (v, want) in cases {
            assert_eq!(go_float(v), want, "{v}");
        }
        assert_eq!(
            (go_float(f64::NAN), go_float(f64::INFINITY), go_float(-2.0)),
            ("NaN".into(), "+Inf".into(), "-2".into())
        );
    }

    fn container(name: &str, cpu_ns: u64, ws: u64) -> ContainerStats {
        ContainerStats {
            name: name.into(),
            start_time: Time::from_unix(1_700_000_000),
            cpu: Some(CpuStats {
                time: Time::from_unix(1_700_000_100),
                usage_core_nano_seconds: Some(cpu_ns),
                ..Default::default()
            }),
            memory: Some(MemoryStats {
                time: Time::from_unix(1_700_000_101),
                working_set_bytes: Some(ws),
                ..Default::default()
            }),
            swap: Some(SwapStats {
                time: Time::from_unix(1_700_000_101),
                swap_usage_bytes: Some(0),
                swap_available_bytes: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn exposition() {
        let pod = |name: &str, containers| PodStats {
            pod_ref: PodReference { name: name.into(), namespace: "default".into(), uid: "u".into() },
            containers,
            cpu: Some(CpuStats {
                time: Time::from_unix(1_700_000_100),
                usage_core_nano_seconds: Some(2_500_000_000),
                ..Default::default()
            }),
            ..Default::default()
        };
        let summary = Summary {
            node: NodeStats {
                cpu: Some(CpuStats {
                    time: Time::from_unix(1_700_000_100),
                    usage_core_nano_seconds: Some(1_000_000_000_000),
                    ..Default::default()
                }),
                memory: Some(MemoryStats {
                    time: Time::from_unix(1_700_000_100),
                    working_set_bytes: Some(1_517_244_416),
                    ..Default::default()
                }),
                ..Default::default()
            },
            pods: vec![
                pod("zeta", vec![container("app", 12_425_354, 1_966_080)]),
                pod("alpha", vec![container("b\"x", 0, 4096)]),
            ],
        };
        let text = render(Some(&summary));
        let want = r#"# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="app",namespace="default",pod="zeta"} 0.012425354 1700000100000
container_cpu_usage_seconds_total{container="b\"x",namespace="default",pod="alpha"} 0 1700000100000
# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes
# TYPE container_memory_working_set_bytes gauge
container_memory_working_set_bytes{container="app",namespace="default",pod="zeta"} 1.96608e+06 1700000101000
container_memory_working_set_bytes{container="b\"x",namespace="default",pod="alpha"} 4096 1700000101000
# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds
# TYPE container_start_time_seconds gauge
container_start_time_seconds{container="app",namespace="default",pod="zeta"} 1.7e+09
container_start_time_seconds{container="b\"x",namespace="default",pod="alpha"} 1.7e+09
# HELP container_swap_usage_bytes [ALPHA] Current amount of the container swap usage in bytes. Reported only on non-windows systems
# TYPE container_swap_usage_bytes gauge
container_swap_usage_bytes{container="app",namespace="default",pod="zeta"} 0 1700000101000
container_swap_usage_bytes{container="b\"x",namespace="default",pod="alpha"} 0 1700000101000
# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds
# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total 1000 1700000100000
# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes
# TYPE node_memory_working_set_bytes gauge
node_memory_working_set_bytes 1.517244416e+09 1700000100000
# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds
# TYPE pod_cpu_usage_seconds_total counter
pod_cpu_usage_seconds_total{namespace="default",pod="alpha"} 2.5 1700000100000
pod_cpu_usage_seconds_total{namespace="default",pod="zeta"} 2.5 1700000100000
# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise
# TYPE resource_scrape_error gauge
resource_scrape_error 0
"#;
        assert_eq!(text, want);
    }

    #[test]
    fn times_keep_their_fractions() {
        let mut c = container("app", 1, 1);
        c.start_time = Time::from_unix_nanos(1_700_000_000_250_000_000);
        c.cpu = Some(CpuStats {
            time: Time::from_unix_nanos(1_700_000_100_123_456_789),
            usage_core_nano_seconds: Some(1),
            ..Default::default()
        });
        let pod = PodStats { containers: vec![c], ..Default::default() };
        let text = render(Some(&Summary { pods: vec![pod], ..Default::default() }));
        // Go computes float64(UnixNano()) / 1e9 and prints this very value.
        assert!(text.contains("\"} 1.7000000002499998e+09\n"), "{text}");
        assert!(text.contains("\"} 1e-09 1700000100123\n"), "milliseconds: {text}");
    }

    #[test]
    fn failed_summary_is_a_scrape_error() {
        let text = render(None);
        assert_eq!(
            text,
            "# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise\n\
             # TYPE resource_scrape_error gauge\nresource_scrape_error 1\n"
        );
    }
}
