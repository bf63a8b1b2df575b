//! `rkubelet --help`, generated from the flag table.

#![forbid(unsafe_code)]

use super::flag_table::{FLAGS, FlagKind, FlagSpec, Own, Target};
use super::flags::KubeletFlags;
use super::kubelet_config::KubeletConfiguration;
use serde_json::Value;

pub const SUMMARY: &str = "rkubelet is a Kubernetes node agent (kubelet) for edge and IoT nodes, a drop-in \
replacement for the upstream kubelet v1.37.2: same flags, configuration file, defaults, ports and \
file layout, in one static binary.";

pub const DESCRIPTION: &str = "It runs pods through a CRI container runtime (such as containerd): static pods \
from files (--pod-manifest-path) or a URL (--manifest-url) and, with --kubeconfig, the pods the API \
server assigns to this node. Most settings belong in the KubeletConfiguration file named by --config; \
flags given on the command line override it.";

/// The default a flag shows, as text; `None` when it has none worth showing (empty).
pub fn default_text(spec: &FlagSpec) -> Option<String> {
    match spec.target {
        Target::Config(path) => {
            let defaults = crate::api::json::to_value(&KubeletConfiguration::flag_defaults()).unwrap_or_default();
            let value = defaults.pointer(&format!("/{}", path.replace('.', "/")))?;
            render(spec.kind, value)
        }
        Target::Own(Own::CertDir) => Some(KubeletFlags::default().cert_dir.display().to_string()),
        Target::Own(Own::RootDir) => Some(KubeletFlags::default().root_dir.display().to_string()),
        Target::Own(_) => None,
    }
}

fn render(kind: FlagKind, value: &Value) -> Option<String> {
    let sep = if kind == FlagKind::LangleMap { "<" } else { "=" };
    match value {
        // As pflag: zero values are not shown.
        Value::Null | Value::Bool(false) => None,
        Value::Number(n) if n.as_i64() == Some(0) => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) => Some(items.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).collect::<Vec<_>>().join(",")),
        Value::Object(map) if map.is_empty() => None,
        Value::Object(map) => Some(
            map.iter()
                .map(|(k, v)| format!("{k}{sep}{}", v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                .collect::<Vec<_>>()
                .join(","),
        ),
        other => Some(other.to_string()),
    }
}

/// Words of `text` in lines of at most `width` characters, each prefixed by `indent`.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > width {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The full `--help` text.
pub fn render_help() -> String {
    let mut out = String::new();
    out.push_str(&wrap(SUMMARY, "", 80));
    out.push('\n');
    out.push_str(&wrap(DESCRIPTION, "", 80));
    out.push_str("\nUsage:\n  rkubelet [flags]\n  rkubelet cri version|pods|ps|images\n\nFlags:\n");
    for spec in FLAGS {
        let short = spec.shorthand.map(|c| format!("-{c}, ")).unwrap_or_default();
        let placeholder = spec.kind.placeholder();
        let sep = if placeholder.is_empty() { "" } else { " " };
        out.push_str(&format!("  {short:>4}--{}{sep}{placeholder}\n", spec.name));
        let mut text = spec.help.to_string();
        if let Some(default) = default_text(spec) {
            text.push_str(&format!(" (default {default})"));
        }
        if let Some(hint) = spec.deprecation() {
            text.push_str(&format!(" (DEPRECATED: {hint})"));
        }
        out.push_str(&wrap(&text, "        ", 80));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_flag_with_its_default() {
        let help = render_help();
        let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
        for spec in FLAGS {
            assert!(help.contains(&format!("--{}", spec.name)), "--{} missing", spec.name);
        }
        assert!(help.contains("  -h, --help\n"));
        assert!(help.contains("  -v, --v level\n"));
        assert!(flat.contains("(default 10255)"), "read-only port default without --config");
        assert!(flat.contains("(default 1m0s)"));
        assert!(!flat.contains("(default false)"));
        assert!(!flat.contains("--pods-per-core int32 The most pods per CPU core (capped by --max-pods); 0 means no such limit. (default 0)"));
        assert!(flat.contains("(default /var/lib/kubelet)"));
        assert!(flat.contains("(default unix:///run/containerd/containerd.sock)"));
        assert!(!help.contains("pod-infra-container-image"));
        assert!(help.lines().all(|l| l.len() <= 80 || !l.contains(' ')), "lines wrap at 80 columns");
    }

    #[test]
    fn defaults_render_as_flags_take_them() {
        let spec = super::super::flag_table::lookup("enforce-node-allocatable");
        assert_eq!(spec.and_then(default_text).as_deref(), Some("pods"));
        let spec = super::super::flag_table::lookup("eviction-hard");
        assert_eq!(spec.and_then(default_text), None, "no hard eviction thresholds without --config");
        assert_eq!(render(FlagKind::LangleMap, &serde_json::json!({"memory.available": "100Mi"})).as_deref(), Some("memory.available<100Mi"));
    }
}
