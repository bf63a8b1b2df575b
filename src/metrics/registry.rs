//! Labelled counters, gauges and histograms, and their Prometheus text exposition (0.0.4).
//!
//! Every metric is a `static` declared with a `const fn` constructor; values live behind a
//! small mutex per metric (updates are rare: a CRI call, a relist, a pod sync). A metric with
//! labels appears in the output only once it has a sample, as Go's client shows vectors; one
//! without labels always appears.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard};

/// Name, help text and label names of one metric family.
#[derive(Debug)]
pub struct Desc {
    pub name: &'static str,
    pub help: &'static str,
    pub labels: &'static [&'static str],
}

/// Something that writes one family in the text format.
pub trait Family: Sync {
    fn encode(&self, out: &mut String);
}

type Key = Vec<String>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain numbers behind: still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The label values for `desc`, padded or cut to its label names.
fn key(desc: &Desc, values: &[&str]) -> Key {
    (0..desc.labels.len()).map(|i| values.get(i).copied().unwrap_or_default().to_string()).collect()
}

/// A counter or gauge family: one float per label set.
#[derive(Debug)]
pub struct Scalar {
    desc: Desc,
    kind: &'static str,
    values: Mutex<BTreeMap<Key, f64>>,
}

pub type Counter = Scalar;
pub type Gauge = Scalar;

impl Scalar {
    pub const fn counter(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Scalar {
        Scalar { desc: Desc { name, help, labels }, kind: "counter", values: Mutex::new(BTreeMap::new()) }
    }

    pub const fn gauge(name: &'static str, help: &'static str, labels: &'static [&'static str]) -> Scalar {
        Scalar { desc: Desc { name, help, labels }, kind: "gauge", values: Mutex::new(BTreeMap::new()) }
    }

    pub fn inc(&self, labels: &[&str]) {
        self.add(labels, 1.0);
    }

    pub fn add(&self, labels: &[&str], v: f64) {
        *lock(&self.values).entry(key(&self.desc, labels)).or_insert(0.0) += v;
    }

    pub fn set(&self, labels: &[&str], v: f64) {
        lock(&self.values).insert(key(&self.desc, labels), v);
    }

    pub fn get(&self, labels: &[&str]) -> Option<f64> {
        lock(&self.values).get(&key(&self.desc, labels)).copied()
    }
}

impl Family for Scalar {
    fn encode(&self, out: &mut String) {
        let values = lock(&self.values);
        if values.is_empty() && !self.desc.labels.is_empty() {
            return;
        }
        header(out, &self.desc, self.kind);
        if values.is_empty() {
            let _ = writeln!(out, "{} 0", self.desc.name);
        }
        for (k, v) in values.iter() {
            let _ = writeln!(out, "{}{} {}", self.desc.name, label_set(&self.desc, k, None), format_value(*v));
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Buckets {
    /// Non-cumulative counts, one per upper bound.
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

/// A histogram family with fixed upper bounds (`+Inf` is implied).
#[derive(Debug)]
pub struct Histogram {
    desc: Desc,
    bounds: &'static [f64],
    values: Mutex<BTreeMap<Key, Buckets>>,
}

impl Histogram {
    pub const fn new(name: &'static str, help: &'static str, labels: &'static [&'static str], bounds: &'static [f64]) -> Histogram {
        Histogram { desc: Desc { name, help, labels }, bounds, values: Mutex::new(BTreeMap::new()) }
    }

    pub fn observe(&self, labels: &[&str], v: f64) {
        let mut values = lock(&self.values);
        let b = values.entry(key(&self.desc, labels)).or_default();
        if b.counts.len() != self.bounds.len() {
            b.counts = vec![0; self.bounds.len()];
        }
        if let Some(i) = self.bounds.iter().position(|&upper| v <= upper)
            && let Some(c) = b.counts.get_mut(i)
        {
            *c += 1;
        }
        b.sum += v;
        b.count += 1;
    }

    /// How many observations the label set has.
    pub fn count(&self, labels: &[&str]) -> u64 {
        lock(&self.values).get(&key(&self.desc, labels)).map_or(0, |b| b.count)
    }
}

impl Family for Histogram {
    fn encode(&self, out: &mut String) {
        let values = lock(&self.values);
        let empty = BTreeMap::from([(key(&self.desc, &[]), Buckets { counts: vec![0; self.bounds.len()], ..Default::default() })]);
        let values = match (values.is_empty(), self.desc.labels.is_empty()) {
            (true, false) => return,
            (true, true) => &empty,
            _ => &*values,
        };
        header(out, &self.desc, "histogram");
        let name = self.desc.name;
        for (k, b) in values {
            let mut cumulative = 0;
            for (i, upper) in self.bounds.iter().enumerate() {
                cumulative += b.counts.get(i).copied().unwrap_or(0);
                let _ = writeln!(out, "{name}_bucket{} {cumulative}", label_set(&self.desc, k, Some(&format_value(*upper))));
            }
            let _ = writeln!(out, "{name}_bucket{} {}", label_set(&self.desc, k, Some("+Inf")), b.count);
            let _ = writeln!(out, "{name}_sum{} {}", label_set(&self.desc, k, None), format_value(b.sum));
            let _ = writeln!(out, "{name}_count{} {}", label_set(&self.desc, k, None), b.count);
        }
    }
}

fn header(out: &mut String, desc: &Desc, kind: &str) {
    let help = desc.help.replace('\\', "\\\\").replace('\n', "\\n");
    let _ = writeln!(out, "# HELP {} {help}", desc.name);
    let _ = writeln!(out, "# TYPE {} {kind}", desc.name);
}

pub(crate) fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// `{a="x",b="y"}` (empty when there are no labels), with `le` last for buckets.
fn label_set(desc: &Desc, values: &[String], le: Option<&str>) -> String {
    let mut pairs: Vec<String> =
        desc.labels.iter().zip(values).map(|(n, v)| format!("{n}=\"{}\"", escape_label(v))).collect();
    if let Some(le) = le {
        pairs.push(format!("le=\"{le}\""));
    }
    if pairs.is_empty() { String::new() } else { format!("{{{}}}", pairs.join(",")) }
}

/// Go's `%g`-like rendering Prometheus accepts: integers without a fraction, `+Inf`, `NaN`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// Exponential bucket bounds, as Prometheus' `ExponentialBuckets(start, factor, count)`.
pub const fn exponential<const N: usize>(start: f64, factor: f64) -> [f64; N] {
    let mut out = [0.0; N];
    let mut i = 0;
    let mut v = start;
    while i < N {
        out[i] = v;
        v *= factor;
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    static OPS: Counter = Counter::counter("t_ops_total", "[ALPHA] Ops by \"type\".\nSecond line", &["operation_type"]);
    static UP: Gauge = Gauge::gauge("t_up", "[ALPHA] Up.", &[]);
    static LAT: Histogram = Histogram::new("t_latency_seconds", "[ALPHA] Latency.", &["op"], &[0.1, 1.0]);
    static IDLE: Histogram = Histogram::new("t_idle_seconds", "[ALPHA] Idle.", &[], &[0.5]);
    static NONE: Counter = Counter::counter("t_none_total", "[ALPHA] Never.", &["x"]);

    fn text(f: &dyn Family) -> String {
        let mut out = String::new();
        f.encode(&mut out);
        out
    }

    #[test]
    fn counters_and_gauges() {
        OPS.inc(&["list_containers"]);
        OPS.add(&["exec \"q\"\\\n"], 2.0);
        OPS.inc(&["list_containers"]);
        assert_eq!(
            text(&OPS),
            "# HELP t_ops_total [ALPHA] Ops by \"type\".\\nSecond line\n# TYPE t_ops_total counter\n\
             t_ops_total{operation_type=\"exec \\\"q\\\"\\\\\\n\"} 2\n\
             t_ops_total{operation_type=\"list_containers\"} 2\n"
        );
        assert_eq!(text(&UP), "# HELP t_up [ALPHA] Up.\n# TYPE t_up gauge\nt_up 0\n");
        UP.set(&[], 0.25);
        assert!(text(&UP).ends_with("t_up 0.25\n"));
        assert_eq!(text(&NONE), "", "a vector without samples is not shown");
    }

    #[test]
    fn histograms_are_cumulative() {
        for v in [0.05, 0.1, 0.5, 3.0] {
            LAT.observe(&["sync"], v);
        }
        assert_eq!(LAT.count(&["sync"]), 4);
        assert_eq!(
            text(&LAT),
            "# HELP t_latency_seconds [ALPHA] Latency.\n# TYPE t_latency_seconds histogram\n\
             t_latency_seconds_bucket{op=\"sync\",le=\"0.1\"} 2\n\
             t_latency_seconds_bucket{op=\"sync\",le=\"1\"} 3\n\
             t_latency_seconds_bucket{op=\"sync\",le=\"+Inf\"} 4\n\
             t_latency_seconds_sum{op=\"sync\"} 3.65\n\
             t_latency_seconds_count{op=\"sync\"} 4\n"
        );
        assert!(text(&IDLE).contains("t_idle_seconds_bucket{le=\"+Inf\"} 0\nt_idle_seconds_sum 0\nt_idle_seconds_count 0\n"));
    }

    #[test]
    fn values_and_buckets() {
        assert_eq!(format_value(f64::INFINITY), "+Inf");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(3.0), "3");
        assert_eq!(format_value(1e20), "100000000000000000000");
        assert_eq!(exponential::<3>(0.005, 2.5), [0.005, 0.0125, 0.03125]);
    }
}
