//! The command-line parser: pflag's syntax, our own code.
//!
//! Accepted forms, as the upstream kubelet accepts them:
//! - `--name=value`, `--name value`; boolean flags as `--name` or `--name=false` (never
//!   `--name false`: the `false` would be an argument);
//! - shorthands `-v=4`, `-v4`, `-v 4`, `-h`;
//! - `_` and `-` are the same in names (`--max_pods` is `--max-pods`);
//! - `--` ends the flags. The agent takes no arguments, so any argument is an error.
//!
//! Parsing checks every value's syntax at once (before any file is read), records the flags in
//! order, and fills [`KubeletFlags`]. Flags that set KubeletConfiguration fields are applied
//! later, over the config file (`mod.rs`), because they take precedence over it.

#![forbid(unsafe_code)]

use super::error::FlagError;
use super::flag_table::{self, FlagKind, FlagSpec, Own, Target};
use super::flag_values;
use super::labels;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Per-node settings that are flags only (upstream's `KubeletFlags`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeletFlags {
    /// `--config`: the KubeletConfiguration file.
    pub config: Option<PathBuf>,
    pub kubeconfig: Option<PathBuf>,
    pub bootstrap_kubeconfig: Option<PathBuf>,
    pub cert_dir: PathBuf,
    pub root_dir: PathBuf,
    pub hostname_override: Option<String>,
    /// One address, or two (IPv4 and IPv6) separated by a comma.
    pub node_ip: Option<String>,
    pub node_labels: BTreeMap<String, String>,
    /// `--seccomp-default`; upstream ORs it with the seccompDefault field (done in `load`).
    pub seccomp_default: bool,
    /// Flags accepted for compatibility that rkubelet does not use: (name, value).
    pub ignored: Vec<(String, String)>,
}

pub const DEFAULT_ROOT_DIR: &str = "/var/lib/kubelet";
pub const DEFAULT_CERT_DIR: &str = "/var/lib/kubelet/pki";

impl Default for KubeletFlags {
    fn default() -> Self {
        KubeletFlags {
            config: None,
            kubeconfig: None,
            bootstrap_kubeconfig: None,
            cert_dir: PathBuf::from(DEFAULT_CERT_DIR),
            root_dir: PathBuf::from(DEFAULT_ROOT_DIR),
            hostname_override: None,
            node_ip: None,
            node_labels: BTreeMap::new(),
            seccomp_default: false,
            ignored: Vec::new(),
        }
    }
}

/// How `--version` was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VersionRequest {
    /// `--version`: the single line tools such as kubeadm parse.
    Plain,
    /// `--version=raw`: more detail.
    Raw,
}

/// One flag as given, in command-line order.
#[derive(Debug, Clone)]
pub struct Occurrence {
    pub spec: &'static FlagSpec,
    pub value: String,
}

/// The parsed command line.
#[derive(Debug, Clone, Default)]
pub struct CommandLine {
    pub flags: KubeletFlags,
    /// Every flag given, in order (own and config-backed).
    pub given: Vec<Occurrence>,
    pub help: bool,
    pub version: Option<VersionRequest>,
}

impl CommandLine {
    /// The flags that set KubeletConfiguration fields, in order.
    pub fn config_flags(&self) -> impl Iterator<Item = (&'static FlagSpec, &'static str, &str)> + '_ {
        self.given.iter().filter_map(|o| match o.spec.target {
            Target::Config(path) => Some((o.spec, path, o.value.as_str())),
            Target::Own(_) => None,
        })
    }
}

fn normalize(name: &str) -> String {
    name.replace('_', "-")
}

/// Parse the arguments after the program name.
pub fn parse(args: &[String]) -> Result<CommandLine, FlagError> {
    let mut cmd = CommandLine::default();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            return match rest.next() {
                Some(first) => Err(FlagError::UnexpectedArgument(first.clone())),
                None => Ok(cmd),
            };
        }
        if let Some(body) = arg.strip_prefix("--") {
            if body.starts_with('-') || body.starts_with('=') {
                return Err(FlagError::BadSyntax(arg.clone()));
            }
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (normalize(n), Some(v.to_string())),
                None => (normalize(body), None),
            };
            let spec = flag_table::lookup(&name).ok_or_else(|| FlagError::UnknownFlag(name.clone()))?;
            let value = value_for(spec, inline, &mut rest)?;
            record(&mut cmd, spec, value)?;
        } else if let Some(body) = arg.strip_prefix('-').filter(|b| !b.is_empty()) {
            parse_shorthands(&mut cmd, arg, body, &mut rest)?;
        } else {
            return Err(FlagError::UnexpectedArgument(arg.clone()));
        }
    }
    Ok(cmd)
}

/// `-h`, `-v4`, `-v=4`, `-v 4`; boolean shorthands may be followed by more (`-hv2`).
fn parse_shorthands<'a>(
    cmd: &mut CommandLine,
    arg: &str,
    mut body: &str,
    rest: &mut impl Iterator<Item = &'a String>,
) -> Result<(), FlagError> {
    while let Some(letter) = body.chars().next() {
        let spec = flag_table::lookup_short(letter).ok_or_else(|| FlagError::UnknownShorthand { letter, arg: arg.to_string() })?;
        let after = &body[letter.len_utf8()..];
        let (inline, remaining) = if let Some(v) = after.strip_prefix('=') {
            (Some(v.to_string()), "")
        } else if after.is_empty() || spec.kind.takes_no_value() {
            (None, after)
        } else {
            (Some(after.to_string()), "")
        };
        let value = value_for(spec, inline, rest)?;
        record(cmd, spec, value)?;
        body = remaining;
    }
    Ok(())
}

fn value_for<'a>(spec: &FlagSpec, inline: Option<String>, rest: &mut impl Iterator<Item = &'a String>) -> Result<String, FlagError> {
    match inline {
        Some(v) => Ok(v),
        None if spec.kind.takes_no_value() => Ok("true".to_string()),
        None => rest.next().cloned().ok_or_else(|| FlagError::MissingValue(spec.name.to_string())),
    }
}

fn record(cmd: &mut CommandLine, spec: &'static FlagSpec, value: String) -> Result<(), FlagError> {
    let invalid = |reason: &str| FlagError::InvalidValue { flag: spec.name.to_string(), value: value.clone(), reason: reason.to_string() };
    // Check the syntax now, so that a bad flag fails before any file is read.
    if !matches!(spec.kind, FlagKind::Labels | FlagKind::Version) {
        flag_values::apply(spec.kind, spec.name, &value, &Value::Null, true)?;
    }
    if let Target::Own(own) = spec.target {
        let f = &mut cmd.flags;
        let path = || (!value.is_empty()).then(|| PathBuf::from(&value));
        let text = || (!value.is_empty()).then(|| value.clone());
        match own {
            Own::Config => f.config = path(),
            Own::Kubeconfig => f.kubeconfig = path(),
            Own::BootstrapKubeconfig => f.bootstrap_kubeconfig = path(),
            Own::CertDir => f.cert_dir = PathBuf::from(&value),
            Own::RootDir => f.root_dir = PathBuf::from(&value),
            Own::HostnameOverride => f.hostname_override = text(),
            Own::NodeIp => f.node_ip = text(),
            Own::NodeLabels => labels::add_node_labels(&mut f.node_labels, &value),
            Own::SeccompDefault => f.seccomp_default = flag_values::parse_bool(&value).unwrap_or(false),
            Own::Help => cmd.help = flag_values::parse_bool(&value).unwrap_or(false),
            Own::Version => {
                cmd.version = match value.as_str() {
                    "raw" => Some(VersionRequest::Raw),
                    v => match flag_values::parse_bool(v) {
                        Some(true) => Some(VersionRequest::Plain),
                        Some(false) => None,
                        None => return Err(invalid("expected true, false or raw")),
                    },
                }
            }
            Own::Ignored => f.ignored.push((spec.name.to_string(), value.clone())),
        }
    }
    cmd.given.push(Occurrence { spec, value });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn given(cmd: &CommandLine) -> Vec<(&str, &str)> {
        cmd.given.iter().map(|o| (o.spec.name, o.value.as_str())).collect()
    }

    #[test]
    fn long_forms() {
        let cmd = parse(&args(&["--max-pods=50", "--sync-frequency", "30s", "--fail-swap-on", "--cgroups_per_qos=false"]));
        let cmd = cmd.unwrap_or_default();
        assert_eq!(given(&cmd), [("max-pods", "50"), ("sync-frequency", "30s"), ("fail-swap-on", "true"), ("cgroups-per-qos", "false")]);
    }

    #[test]
    fn shorthands_and_verbosity() {
        for form in [&["-v=4"][..], &["-v4"], &["-v", "4"], &["--v=4"], &["--v", "4"]] {
            let cmd = parse(&args(form)).unwrap_or_default();
            assert_eq!(given(&cmd), [("v", "4")], "{form:?}");
        }
        assert!(parse(&args(&["-h"])).is_ok_and(|c| c.help));
        assert!(parse(&args(&["-hv3"])).is_ok_and(|c| c.help && given(&c)[1] == ("v", "3")));
    }

    #[test]
    fn own_flags_fill_kubelet_flags() {
        let cmd = parse(&args(&[
            "--config=/etc/kubernetes/kubelet.yaml",
            "--kubeconfig",
            "/etc/kubernetes/kubelet.conf",
            "--hostname-override=edge-1",
            "--node-ip=192.0.2.2",
            "--node-labels=a=1,b=2",
            "--node-labels=c=3",
            "--root-dir=/data/kubelet",
            "--cloud-provider=external",
        ]))
        .unwrap_or_default();
        let f = &cmd.flags;
        assert_eq!(f.config.as_deref(), Some(std::path::Path::new("/etc/kubernetes/kubelet.yaml")));
        assert_eq!(f.kubeconfig.as_deref(), Some(std::path::Path::new("/etc/kubernetes/kubelet.conf")));
        assert_eq!(f.hostname_override.as_deref(), Some("edge-1"));
        assert_eq!(f.node_ip.as_deref(), Some("192.0.2.2"));
        assert_eq!(f.node_labels.len(), 3);
        assert_eq!(f.root_dir, PathBuf::from("/data/kubelet"));
        assert_eq!(f.cert_dir, PathBuf::from(DEFAULT_CERT_DIR));
        assert_eq!(f.ignored, [("cloud-provider".to_string(), "external".to_string())]);
    }

    #[test]
    fn version_forms() {
        assert_eq!(parse(&args(&["--version"])).map(|c| c.version).ok(), Some(Some(VersionRequest::Plain)));
        assert_eq!(parse(&args(&["--version=raw"])).map(|c| c.version).ok(), Some(Some(VersionRequest::Raw)));
        assert_eq!(parse(&args(&["--version=false"])).map(|c| c.version).ok(), Some(None));
        assert!(parse(&args(&["--version=maybe"])).is_err());
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let err = |list: &[&str]| parse(&args(list)).err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(err(&["--no-such-flag"]), "unknown flag: --no-such-flag");
        assert_eq!(err(&["--pod-infra-container-image=pause:3.10"]), "unknown flag: --pod-infra-container-image");
        assert_eq!(err(&["-x"]), "unknown shorthand flag: 'x' in -x");
        assert_eq!(err(&["--max-pods"]), "flag needs an argument: --max-pods");
        assert_eq!(err(&["--max-pods=lots"]), "invalid argument \"lots\" for \"--max-pods\" flag: strconv.ParseInt: parsing \"lots\": invalid syntax");
        assert_eq!(err(&["---x"]), "bad flag syntax: ---x");
        assert_eq!(err(&["run"]), "unknown command run");
        assert_eq!(err(&["--fail-swap-on", "false"]), "unknown command false");
        assert_eq!(err(&["--", "x"]), "unknown command x");
        assert!(parse(&args(&["--"])).is_ok());
    }
}
