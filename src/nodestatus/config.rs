//! The settings the node status and lease threads run with, taken from the kubelet's
//! configuration and checked once at start (as upstream checks them when it starts).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::api::Quantity;
use crate::api::core::Taint;
use crate::config::{self, FeatureGates};

use super::NodeError;
use super::capacity::Limits;

/// How the Node is registered and reported.
#[derive(Debug, Clone)]
pub struct Config {
    pub node_name: String,
    /// The `kubernetes.io/hostname` label and the `Hostname` address (upstream: the lowercased
    /// host name or `--hostname-override`, which is also the node name without a cloud provider).
    pub hostname: String,
    /// `InternalIP` addresses, primary first (at most one per family).
    pub node_ips: Vec<IpAddr>,
    /// `--node-labels`, checked by [`Config::check`].
    pub node_labels: BTreeMap<String, String>,
    /// registerNode: create the Node; without it only an existing Node is reported on.
    pub register_node: bool,
    /// registerWithTaints: spec taints of a Node we create.
    pub register_with_taints: Vec<Taint>,
    /// enableControllerAttachDetach: the `volumes.kubernetes.io/controller-managed-attach-detach`
    /// annotation.
    pub controller_attach_detach: bool,
    /// `port`: daemonEndpoints.kubeletEndpoint.Port.
    pub port: i32,
    pub max_pods: i32,
    pub pods_per_core: i32,
    /// nodeStatusUpdateFrequency: how often status is computed (and sent if it changed).
    pub update_frequency: Duration,
    /// nodeStatusReportFrequency: the longest time between two status reports.
    pub report_frequency: Duration,
    /// nodeStatusMaxImages; -1 reports every image.
    pub max_images: i32,
    /// nodeLeaseDurationSeconds; the lease is renewed every quarter of it.
    pub lease_duration_seconds: i32,
    /// localStorageCapacityIsolation: ephemeral-storage is reported and required for Ready.
    pub local_storage_capacity_isolation: bool,
    pub reservations: Reservations,
    /// `--root-dir`: ephemeral-storage is the size of its filesystem.
    pub root_dir: PathBuf,
    /// For the gated parts of status (declaredFeatures).
    pub feature_gates: FeatureGates,
}

/// What is held back from capacity to make allocatable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reservations {
    /// kubeReserved (cpu, memory, ephemeral-storage, pid).
    pub kube_reserved: BTreeMap<String, Quantity>,
    /// systemReserved; its cpu is the size of reservedSystemCPUs when that is set.
    pub system_reserved: BTreeMap<String, Quantity>,
    /// evictionHard's memory.available.
    pub memory_available: Option<Threshold>,
    /// evictionHard's nodefs.available.
    pub nodefs_available: Option<Threshold>,
}

/// An eviction threshold: an amount, or a share of capacity.
#[derive(Debug, Clone, PartialEq)]
pub enum Threshold {
    Quantity(Quantity),
    /// Upstream parses percentages as 32-bit floats; kept so, for the same rounding.
    Fraction(f32),
}

impl Config {
    /// Upstream's defaults for a node: the values a KubeletConfiguration defaults to.
    pub fn new(node_name: &str, node_ips: Vec<IpAddr>) -> Config {
        Config {
            node_name: node_name.to_string(),
            hostname: node_name.to_string(),
            node_ips,
            node_labels: BTreeMap::new(),
            register_node: true,
            register_with_taints: Vec::new(),
            controller_attach_detach: true,
            port: 10250,
            max_pods: 110,
            pods_per_core: 0,
            update_frequency: Duration::from_secs(10),
            report_frequency: Duration::from_secs(300),
            max_images: 50,
            lease_duration_seconds: 40,
            local_storage_capacity_isolation: true,
            reservations: Reservations::default(),
            root_dir: PathBuf::from(config::flags::DEFAULT_ROOT_DIR),
            feature_gates: FeatureGates::default(),
        }
    }

    /// The settings from the kubelet's configuration, checked: a bad `--node-labels` entry,
    /// reservation or eviction threshold stops the start with an error naming it.
    pub fn from_kubelet(
        cfg: &config::Config,
        node_name: &str,
        node_ips: Vec<IpAddr>,
    ) -> Result<Config, NodeError> {
        let kc = &cfg.kubelet;
        let duration =
            |d: config::GoDuration, default: u64| d.to_std().unwrap_or(Duration::from_secs(default));
        let mut system_reserved = reserved_resources("systemReserved", &kc.system_reserved)?;
        if let Some(cpus) = cpu_list_size(&kc.reserved_system_cpus)? {
            system_reserved.insert("cpu".into(), Quantity::from_milli(i64::from(cpus) * 1000));
        }
        let config = Config {
            node_name: node_name.to_string(),
            hostname: node_name.to_string(),
            node_ips,
            node_labels: cfg.flags.node_labels.clone(),
            register_node: kc.register_node,
            register_with_taints: kc.register_with_taints.iter().map(api_taint).collect(),
            controller_attach_detach: kc.enable_controller_attach_detach,
            port: kc.port,
            max_pods: kc.max_pods,
            pods_per_core: kc.pods_per_core,
            update_frequency: duration(kc.node_status_update_frequency, 10),
            report_frequency: duration(kc.node_status_report_frequency, 300),
            max_images: kc.node_status_max_images,
            lease_duration_seconds: kc.node_lease_duration_seconds,
            local_storage_capacity_isolation: kc.local_storage_capacity_isolation,
            reservations: Reservations {
                kube_reserved: reserved_resources("kubeReserved", &kc.kube_reserved)?,
                system_reserved,
                memory_available: threshold(&kc.eviction_hard, "memory.available")?,
                nodefs_available: threshold(&kc.eviction_hard, "nodefs.available")?,
            },
            root_dir: cfg.flags.root_dir.clone(),
            feature_gates: cfg.feature_gates.clone(),
        };
        config.check()?;
        Ok(config)
    }

    /// What capacity and allocatable are computed with, besides the machine.
    pub(crate) fn capacity_limits(&self) -> Limits<'_> {
        Limits {
            max_pods: self.max_pods,
            pods_per_core: self.pods_per_core,
            local_storage_capacity_isolation: self.local_storage_capacity_isolation,
            reservations: &self.reservations,
        }
    }

    /// Refuses what the API server would refuse later: `kubernetes.io`/`k8s.io` labels a
    /// kubelet may not set on its Node (NodeRestriction), malformed keys and values.
    pub fn check(&self) -> Result<(), NodeError> {
        let problems = config::labels::check_node_labels(&self.node_labels);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(NodeError::Config { field: "--node-labels", detail: problems.join("; ") })
        }
    }
}

fn api_taint(t: &config::Taint) -> Taint {
    Taint {
        key: t.key.clone(),
        value: (!t.value.is_empty()).then(|| t.value.clone()),
        effect: t.effect.clone(),
        time_added: None,
    }
}

/// kubeReserved/systemReserved as upstream reads them: only cpu, memory, ephemeral-storage
/// and pid; no negative amounts.
pub(crate) fn reserved_resources(
    field: &'static str,
    map: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Quantity>, NodeError> {
    let mut out = BTreeMap::new();
    for (name, text) in map {
        if !["cpu", "memory", "ephemeral-storage", "pid"].contains(&name.as_str()) {
            return Err(NodeError::Config { field, detail: format!("cannot reserve {name:?} resource") });
        }
        let q =
            Quantity::parse(text).map_err(|e| NodeError::Config { field, detail: format!("{name}: {e}") })?;
        if q < Quantity::default() {
            return Err(NodeError::Config {
                field,
                detail: format!("resource quantity for {name:?} cannot be negative: {text}"),
            });
        }
        out.insert(name.clone(), q);
    }
    Ok(out)
}

/// One evictionHard signal: `0%` and `100%` mean none, as upstream.
pub(crate) fn threshold(
    eviction_hard: &BTreeMap<String, String>,
    signal: &str,
) -> Result<Option<Threshold>, NodeError> {
    let Some(text) = eviction_hard.get(signal) else { return Ok(None) };
    let bad =
        |detail: String| NodeError::Config { field: "evictionHard", detail: format!("{signal}: {detail}") };
    if let Some(number) = text.strip_suffix('%') {
        if text == "0%" || text == "100%" {
            return Ok(None);
        }
        let percent: f32 = number.trim().parse().map_err(|_| bad(format!("{text:?} is not a percentage")))?;
        let fraction = percent / 100.0;
        if !(0.0..=1.0).contains(&fraction) {
            return Err(bad(format!("{text} must be between 0% and 100%")));
        }
        return Ok(Some(Threshold::Fraction(fraction)));
    }
    let q = Quantity::parse(text).map_err(|e| bad(e.to_string()))?;
    if q <= Quantity::default() {
        return Err(bad(format!("eviction threshold must be positive: {text}")));
    }
    Ok(Some(Threshold::Quantity(q)))
}

/// How many CPUs a Linux CPU list (`0-1,3`) names; `None` for an empty list.
pub(crate) fn cpu_list_size(list: &str) -> Result<Option<u32>, NodeError> {
    let list = list.trim();
    if list.is_empty() {
        return Ok(None);
    }
    let bad =
        || NodeError::Config { field: "reservedSystemCPUs", detail: format!("{list:?} is not a CPU list") };
    let mut cpus = std::collections::BTreeSet::new();
    for part in list.split(',') {
        let (first, last) = part.split_once('-').unwrap_or((part, part));
        let first: u32 = first.trim().parse().map_err(|_| bad())?;
        let last: u32 = last.trim().parse().map_err(|_| bad())?;
        if last < first || last - first > 65_535 {
            return Err(bad());
        }
        cpus.extend(first..=last);
    }
    Ok(Some(u32::try_from(cpus.len()).unwrap_or(u32::MAX)))
}

/// The architecture as Go names it (`GOARCH`), which is what the API expects.
pub(crate) fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm",
        "x86" => "386",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "loongarch64" => "loong64",
        "mips" if cfg!(target_endian = "little") => "mipsle",
        "mips64" if cfg!(target_endian = "little") => "mips64le",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn reservations_are_checked() {
        let ok =
            reserved_resources("kubeReserved", &map(&[("cpu", "100m"), ("memory", "1Gi"), ("pid", "100")]));
        assert_eq!(ok.map(|m| m.len()).ok(), Some(3));
        let gpu =
            reserved_resources("kubeReserved", &map(&[("nvidia.com/gpu", "1")])).err().map(|e| e.to_string());
        assert_eq!(gpu.as_deref(), Some("kubeReserved: cannot reserve \"nvidia.com/gpu\" resource"));
        assert!(reserved_resources("systemReserved", &map(&[("memory", "-1Mi")])).is_err());
        assert!(reserved_resources("systemReserved", &map(&[("memory", "lots")])).is_err());
    }

    #[test]
    fn eviction_thresholds() {
        let hard =
            map(&[("memory.available", "100Mi"), ("nodefs.available", "10%"), ("imagefs.available", "0%")]);
        let memory = threshold(&hard, "memory.available").ok().flatten();
        assert_eq!(memory, Some(Threshold::Quantity(Quantity::from_bytes(100 << 20))));
        assert_eq!(threshold(&hard, "nodefs.available").ok().flatten(), Some(Threshold::Fraction(0.1)));
        assert_eq!(threshold(&hard, "imagefs.available").ok().flatten(), None, "0% turns a signal off");
        assert_eq!(threshold(&hard, "pid.available").ok().flatten(), None);
        assert!(threshold(&map(&[("memory.available", "0")]), "memory.available").is_err());
        assert!(threshold(&map(&[("memory.available", "150%")]), "memory.available").is_err());
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(cpu_list_size("").ok().flatten(), None);
        assert_eq!(cpu_list_size("0").ok().flatten(), Some(1));
        assert_eq!(cpu_list_size("0-1,3,2").ok().flatten(), Some(4));
        assert!(cpu_list_size("3-1").is_err());
        assert!(cpu_list_size("a").is_err());
    }

    #[test]
    fn node_labels_outside_the_kubelet_namespaces_are_refused() {
        let mut cfg = Config::new("n1", Vec::new());
        cfg.node_labels = map(&[("role", "edge"), ("node.kubernetes.io/pool", "a")]);
        assert!(cfg.check().is_ok());
        cfg.node_labels.insert("node-role.kubernetes.io/control-plane".into(), String::new());
        let err = cfg.check().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            err.starts_with("--node-labels: ") && err.contains("node-role.kubernetes.io/control-plane"),
            "{err}"
        );
    }

    #[test]
    fn from_the_kubelet_configuration() {
        let taint = config::Taint {
            key: "k".into(),
            value: String::new(),
            effect: "NoSchedule".into(),
            time_added: None,
        };
        let kc = crate::config::KubeletConfiguration {
            kube_reserved: map(&[("memory", "1Gi")]),
            reserved_system_cpus: "0-1".into(),
            register_with_taints: vec![taint],
            eviction_hard: map(&[("memory.available", "100Mi")]),
            ..Default::default()
        };
        let cfg = config::Config {
            kubelet: kc,
            flags: config::KubeletFlags::default(),
            feature_gates: FeatureGates::default(),
        };
        let node = Config::from_kubelet(&cfg, "n1", Vec::new());
        let node = node.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(node.reservations.system_reserved.get("cpu"), Some(&Quantity::from_decimal(2)));
        assert_eq!(node.reservations.kube_reserved.get("memory"), Some(&Quantity::from_bytes(1 << 30)));
        assert_eq!(
            node.register_with_taints[0].value, None,
            "an empty value is left out, as upstream sends it"
        );
        assert!(node.reservations.memory_available.is_some() && node.reservations.nodefs_available.is_none());
    }
}
