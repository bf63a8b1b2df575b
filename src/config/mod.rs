//! Command-line flags and KubeletConfiguration: what rkubelet runs with.
//!
//! ```text
//!   argv ──flags::parse──> CommandLine ─┬─ --config given ──> decode file ──> defaults::apply
//!                                       └─ no --config ────> KubeletConfiguration::flag_defaults
//!                                                    │
//!          flags that set config fields, in order ───┤ (flags beat the file)
//!                                                    v
//!                          KubeletConfiguration ──> validate ──> Loaded { config, warnings }
//! ```
//!
//! Precedence is upstream's: defaults < config file < flags given on the command line. A flag's
//! default never overrides the file: without `--config` the flag defaults apply (e.g.
//! readOnlyPort 10255, anonymous auth on), with it the file's v1beta1 defaults (readOnlyPort 0).
//!
//! Nothing here logs: problems that do not stop rkubelet come back as [`Warning`]s for the
//! caller to log once logging is set up (its verbosity is part of the result).

pub mod config_types;
pub mod decode;
pub mod defaults;
pub mod duration;
pub mod error;
pub mod feature_gates;
pub mod fields;
pub mod flag_table;
pub mod flag_values;
pub mod flags;
pub mod help;
pub mod implemented;
pub mod kubelet_config;
pub mod labels;
pub mod man;
pub mod quantity;
pub mod validate;

pub use config_types::*;
pub use duration::GoDuration;
pub use error::{ConfigError, FlagError, Violation};
pub use feature_gates::FeatureGates;
pub use flags::{CommandLine, KubeletFlags, VersionRequest};
pub use kubelet_config::KubeletConfiguration;

use implemented::Status;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

pub const API_VERSION: &str = "kubelet.config.k8s.io/v1beta1";
pub const KIND: &str = "KubeletConfiguration";

/// Everything rkubelet runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub kubelet: KubeletConfiguration,
    pub flags: KubeletFlags,
    /// The gates in effect (defaults, then the file's featureGates, then --feature-gates).
    pub feature_gates: FeatureGates,
}

/// A loaded configuration and what is worth a warning about it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Warning>,
}

/// Something accepted that the operator should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The config file has a field upstream v1.37.2 does not know (ignored, as upstream's
    /// lenient decoding ignores it).
    UnknownField { file: PathBuf, field: String },
    /// A known field the config file sets, that rkubelet does not act on yet.
    FieldNotImplemented { field: &'static str },
    /// A flag given that rkubelet does not act on yet.
    FlagNotImplemented { flag: &'static str },
    /// A flag upstream has deprecated.
    DeprecatedFlag { flag: &'static str, hint: &'static str },
    /// A feature gate name v1.37.2 does not know.
    UnknownFeatureGate { name: String },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UnknownField { file, field } => {
                write!(f, "unknown field {field:?} in kubelet config file {}: ignored", file.display())
            }
            Warning::FieldNotImplemented { field } => {
                write!(f, "field {field} is accepted but not implemented by rkubelet yet")
            }
            Warning::FlagNotImplemented { flag } => {
                write!(f, "flag --{flag} is accepted but not implemented by rkubelet yet")
            }
            Warning::DeprecatedFlag { flag, hint } => write!(f, "flag --{flag} has been deprecated: {hint}"),
            Warning::UnknownFeatureGate { name } => write!(f, "unrecognized feature gate {name:?}: ignored"),
        }
    }
}

/// Parse the arguments after the program name (for `--help` and `--version` before loading).
pub fn parse_command_line(args: &[String]) -> Result<CommandLine, ConfigError> {
    Ok(flags::parse(args)?)
}

/// Parse the arguments after the program name and load the configuration they name.
pub fn load(args: &[String]) -> Result<Loaded, ConfigError> {
    load_command_line(&parse_command_line(args)?)
}

/// Load the configuration for an already parsed command line.
pub fn load_command_line(cmd: &CommandLine) -> Result<Loaded, ConfigError> {
    let mut warnings = Vec::new();
    let flag_gates = gates_from_flags(cmd)?;

    let mut value = match &cmd.flags.config {
        Some(path) => {
            let file = decode::read_file(path)?;
            warnings.extend(file.unknown.iter().map(|field| Warning::UnknownField { file: path.clone(), field: field.clone() }));
            warnings.extend(
                file.set
                    .iter()
                    .filter(|f| implemented::field_status(f) != Status::Implemented)
                    .map(|f| Warning::FieldNotImplemented { field: f }),
            );
            // Upstream defaults the file with the command line's gates overlaid by the file's.
            let mut gates = flag_gates;
            if let Some(Value::Object(file_gates)) = file.value.get("featureGates") {
                gates.extend(file_gates.iter().filter_map(|(k, v)| Some((k.clone(), v.as_bool()?))));
            }
            let gates = FeatureGates::new(&gates).map(|(g, _)| g).unwrap_or_default();
            defaults::apply(&file.value, &gates)
        }
        None => crate::api::json::to_value(&KubeletConfiguration::flag_defaults()).unwrap_or_default(),
    };

    apply_config_flags(cmd, &mut value)?;
    let mut kubelet: KubeletConfiguration = serde_json::from_value(value).map_err(|e| {
        ConfigError::Invalid(vec![Violation { field: "KubeletConfiguration".to_string(), problem: e.to_string() }])
    })?;
    kubelet.seccomp_default |= cmd.flags.seccomp_default;
    if kubelet.cgroups_per_qos && kubelet.cgroup_root.is_empty() {
        // Upstream fills this in at start-up ("--cgroups-per-qos enabled, but --cgroup-root
        // was not specified. Defaulting to /").
        kubelet.cgroup_root = "/".to_string();
    }

    let (feature_gates, unknown) = FeatureGates::new(&kubelet.feature_gates).map_err(|locked| ConfigError::FeatureGate {
        problem: format!("locked to {}, cannot be set to {}", locked.default, !locked.default),
        name: locked.name,
    })?;
    warnings.extend(unknown.into_iter().map(|name| Warning::UnknownFeatureGate { name }));

    let violations = validate::validate(&kubelet, &cmd.flags, &feature_gates);
    if !violations.is_empty() {
        return Err(ConfigError::Invalid(violations));
    }
    warnings.extend(flag_warnings(cmd));
    Ok(Loaded { config: Config { kubelet, flags: cmd.flags.clone(), feature_gates }, warnings })
}

/// The gates `--feature-gates` sets (all uses merged).
fn gates_from_flags(cmd: &CommandLine) -> Result<BTreeMap<String, bool>, ConfigError> {
    let mut gates = Value::Null;
    for (spec, _, text) in cmd.config_flags().filter(|(_, path, _)| *path == "featureGates") {
        if let Some(v) = flag_values::apply(spec.kind, spec.name, text, &gates, false)? {
            gates = v;
        }
    }
    Ok(serde_json::from_value(gates).unwrap_or_default())
}

/// Set the fields that flags name, in command-line order, over the file (or flag defaults).
fn apply_config_flags(cmd: &CommandLine, value: &mut Value) -> Result<(), ConfigError> {
    let mut used = BTreeSet::new();
    for (spec, path, text) in cmd.config_flags() {
        let pointer = format!("/{}", path.replace('.', "/"));
        let current = value.pointer(&pointer).cloned().unwrap_or(Value::Null);
        let first_use = used.insert(spec.name);
        if let Some(new) = flag_values::apply(spec.kind, spec.name, text, &current, first_use)? {
            set_pointer(value, path, new);
        }
    }
    Ok(())
}

fn set_pointer(root: &mut Value, path: &str, new: Value) {
    let mut node = root;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if !node.is_object() {
            *node = Value::Object(serde_json::Map::new());
        }
        let Value::Object(map) = node else { return };
        if parts.peek().is_none() {
            map.insert(part.to_string(), new);
            return;
        }
        node = map.entry(part.to_string()).or_insert(Value::Null);
    }
}

fn flag_warnings(cmd: &CommandLine) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let mut seen = BTreeSet::new();
    for occurrence in &cmd.given {
        let spec = occurrence.spec;
        if !seen.insert(spec.name) {
            continue;
        }
        if let Some(hint) = spec.deprecation() {
            warnings.push(Warning::DeprecatedFlag { flag: spec.name, hint });
        }
        let status = match spec.target {
            flag_table::Target::Config(path) => implemented::field_status(path),
            flag_table::Target::Own(_) => implemented::flag_status(spec.name),
        };
        if status != Status::Implemented {
            warnings.push(Warning::FlagNotImplemented { flag: spec.name });
        }
    }
    warnings
}

#[cfg(test)]
mod tests;
