//! Why loading the configuration failed: each variant says which flag, file or field.

use std::fmt;
use std::path::PathBuf;

/// A command line that cannot be parsed (upstream reports these as "failed to parse kubelet
/// flag" and exits 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlagError {
    /// `--name` that is not in the flag table.
    UnknownFlag(String),
    /// `-x` whose letter is not a known shorthand; `arg` is the whole argument.
    UnknownShorthand { letter: char, arg: String },
    /// A flag that takes a value came last without one.
    MissingValue(String),
    /// The value does not parse as the flag's type.
    InvalidValue { flag: String, value: String, reason: String },
    /// `---x`, `--=x` and the like.
    BadSyntax(String),
    /// A positional argument: the agent takes none.
    UnexpectedArgument(String),
}

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlagError::UnknownFlag(name) => write!(f, "unknown flag: --{name}"),
            FlagError::UnknownShorthand { letter, arg } => write!(f, "unknown shorthand flag: '{letter}' in {arg}"),
            FlagError::MissingValue(name) => write!(f, "flag needs an argument: --{name}"),
            FlagError::InvalidValue { flag, value, reason } => {
                write!(f, "invalid argument {value:?} for \"--{flag}\" flag: {reason}")
            }
            FlagError::BadSyntax(arg) => write!(f, "bad flag syntax: {arg}"),
            FlagError::UnexpectedArgument(arg) => write!(f, "unknown command {arg}"),
        }
    }
}

impl std::error::Error for FlagError {}

/// One broken rule of KubeletConfiguration validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The field (JSON path) or flag the rule is about.
    pub field: String,
    pub problem: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

/// Everything that stops rkubelet from starting with the given flags and config file.
#[derive(Debug)]
pub enum ConfigError {
    Flag(FlagError),
    /// The `--config` file cannot be read.
    ReadFile { path: PathBuf, source: std::io::Error },
    EmptyFile { path: PathBuf },
    /// Neither valid YAML nor valid JSON.
    Syntax { path: PathBuf, reason: String },
    /// The document is not a mapping (e.g. a list or a scalar).
    NotAnObject { path: PathBuf },
    /// apiVersion/kind are not `kubelet.config.k8s.io/v1beta1` / `KubeletConfiguration`.
    WrongKind { path: PathBuf, api_version: String, kind: String },
    /// A known field holds a value of the wrong type.
    FieldType { path: PathBuf, field: String, expected: &'static str, found: String },
    /// The merged configuration breaks validation rules (all of them are listed).
    Invalid(Vec<Violation>),
    /// A feature gate set to a value it cannot take.
    FeatureGate { name: String, problem: String },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Flag(e) => write!(f, "failed to parse kubelet flag: {e}"),
            ConfigError::ReadFile { path, source } => {
                write!(f, "failed to read kubelet config file {}: {source}", path.display())
            }
            ConfigError::EmptyFile { path } => write!(f, "kubelet config file {} is empty", path.display()),
            ConfigError::Syntax { path, reason } => {
                write!(f, "kubelet config file {} is not valid YAML or JSON: {reason}", path.display())
            }
            ConfigError::NotAnObject { path } => {
                write!(f, "kubelet config file {} does not hold an object", path.display())
            }
            ConfigError::WrongKind { path, api_version, kind } => write!(
                f,
                "kubelet config file {}: expected apiVersion {:?} and kind {:?}, got apiVersion {api_version:?} and kind {kind:?}",
                path.display(),
                super::API_VERSION,
                super::KIND,
            ),
            ConfigError::FieldType { path, field, expected, found } => {
                write!(f, "kubelet config file {}: field {field}: expected {expected}, got {found}", path.display())
            }
            ConfigError::Invalid(violations) => {
                f.write_str("invalid configuration: ")?;
                for (i, v) in violations.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
            ConfigError::FeatureGate { name, problem } => write!(f, "feature gate {name}: {problem}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Flag(e) => Some(e),
            ConfigError::ReadFile { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<FlagError> for ConfigError {
    fn from(e: FlagError) -> Self {
        ConfigError::Flag(e)
    }
}
