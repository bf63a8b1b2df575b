//! Reading a KubeletConfiguration file: YAML or JSON to a JSON value, checked against the
//! field table.
//!
//! As upstream: unknown fields are not an error (they are reported, and ignored); a known field
//! with a value of the wrong type is an error naming the field; relative paths in the file are
//! taken relative to the file's directory. Defaults are applied afterwards (`defaults.rs`).

#![forbid(unsafe_code)]

use super::duration::GoDuration;
use super::error::ConfigError;
use super::fields::{self, Field, Kind};
use super::quantity;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// A config file as written, with its values checked and normalized.
#[derive(Debug, Clone)]
pub struct FileConfig {
    /// The document, with numbers in quantity and flushFrequency fields turned into text and
    /// relative paths resolved.
    pub value: Value,
    /// Paths of fields the field table does not know, as written (`foo`, `authentication.bar`,
    /// `registerWithTaints[0].baz`).
    pub unknown: Vec<String>,
    /// Field-table paths of every non-object field the file sets (not null).
    pub set: Vec<&'static str>,
}

/// Fields holding paths that upstream resolves against the config file's directory.
const PATH_FIELDS: &[&str] = &[
    "staticPodPath",
    "authentication.x509.clientCAFile",
    "tlsCertFile",
    "tlsPrivateKeyFile",
    "resolvConf",
    "volumePluginDir",
    "podLogsDir",
];

pub fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::ReadFile { path: path.to_path_buf(), source })?;
    let dir = std::path::absolute(path).ok().and_then(|p| p.parent().map(Path::to_path_buf)).unwrap_or_default();
    decode(path, &bytes, &dir)
}

/// Decode a config document; `dir` is what relative paths are relative to.
pub fn decode(path: &Path, bytes: &[u8], dir: &Path) -> Result<FileConfig, ConfigError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ConfigError::EmptyFile { path: path.to_path_buf() });
    }
    let mut value = parse_document(path, bytes)?;
    check_kind(path, &value)?;
    let Value::Object(top) = &mut value else {
        return Err(ConfigError::NotAnObject { path: path.to_path_buf() });
    };
    let mut walk = Walk { file: path, unknown: Vec::new(), set: Vec::new() };
    walk.object(top, "", "")?;
    resolve_relative_paths(&mut value, dir);
    Ok(FileConfig { value, unknown: walk.unknown, set: walk.set })
}

fn parse_document(path: &Path, bytes: &[u8]) -> Result<Value, ConfigError> {
    let syntax = |reason: String| ConfigError::Syntax { path: path.to_path_buf(), reason };
    let text = std::str::from_utf8(bytes).map_err(|e| syntax(format!("not UTF-8: {e}")))?;
    if text.trim_start().starts_with('{') {
        // JSON is YAML too, but serde_json reports JSON mistakes more precisely.
        crate::api::json::decode(text.as_bytes()).map_err(|e| syntax(e.to_string()))
    } else {
        serde_saphyr::from_str(text).map_err(|e| syntax(e.to_string()))
    }
}

fn check_kind(path: &Path, value: &Value) -> Result<(), ConfigError> {
    if !(value.is_object() || value.is_null()) {
        return Err(ConfigError::NotAnObject { path: path.to_path_buf() });
    }
    let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    let (api_version, kind) = (text("apiVersion"), text("kind"));
    if api_version != super::API_VERSION || kind != super::KIND {
        return Err(ConfigError::WrongKind { path: path.to_path_buf(), api_version, kind });
    }
    Ok(())
}

struct Walk<'a> {
    file: &'a Path,
    unknown: Vec<String>,
    set: Vec<&'static str>,
}

impl Walk<'_> {
    /// Check one object against the table entries below `schema` (`display` is the path as
    /// the user wrote it, with list indexes).
    fn object(&mut self, obj: &mut Map<String, Value>, schema: &str, display: &str) -> Result<(), ConfigError> {
        for (key, value) in obj.iter_mut() {
            let schema_path = join(schema, key);
            let display_path = join(display, key);
            let Some(field) = fields::lookup(&schema_path) else {
                self.unknown.push(display_path);
                continue;
            };
            if value.is_null() {
                continue;
            }
            self.value(field, value, &display_path)?;
            match field.kind {
                Kind::Object => {
                    if let Value::Object(inner) = value {
                        self.object(inner, field.path, &display_path)?;
                    }
                }
                Kind::ObjectList => {
                    self.note_set(field.path);
                    if let Value::Array(items) = value {
                        for (i, item) in items.iter_mut().enumerate() {
                            if let Value::Object(inner) = item {
                                self.object(inner, &format!("{}[]", field.path), &format!("{display_path}[{i}]"))?;
                            }
                        }
                    }
                }
                _ if !schema.ends_with("[]") => self.note_set(field.path),
                _ => {}
            }
        }
        Ok(())
    }

    fn note_set(&mut self, path: &'static str) {
        if !self.set.contains(&path) {
            self.set.push(path);
        }
    }

    /// Check (and normalize) a non-null value of a known field.
    fn value(&self, field: &Field, value: &mut Value, display: &str) -> Result<(), ConfigError> {
        let ok = match field.kind {
            Kind::Bool => value.is_boolean(),
            Kind::Int32 => is_int32(value),
            Kind::Int64 => value.is_i64() || value.as_u64().is_some_and(|n| i64::try_from(n).is_ok()),
            Kind::UInt32 => value.as_u64().is_some_and(|n| u32::try_from(n).is_ok()),
            Kind::Float64 => value.is_number(),
            Kind::String => value.is_string(),
            Kind::Duration => value.as_str().is_some_and(|s| GoDuration::parse(s).is_ok()),
            Kind::DurationOrNanos => {
                if let Some(n) = value.as_i64() {
                    *value = Value::String(GoDuration::from_nanos(n).to_string());
                }
                value.as_str().is_some_and(|s| GoDuration::parse(s).is_ok())
            }
            Kind::Quantity => normalize_quantity(value),
            Kind::StringList => value.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            Kind::Int32List => value.as_array().is_some_and(|a| a.iter().all(is_int32)),
            Kind::StringMap => value.as_object().is_some_and(|m| m.values().all(Value::is_string)),
            Kind::QuantityMap => value.as_object_mut().is_some_and(|m| m.values_mut().all(normalize_quantity)),
            Kind::StringListMap => value
                .as_object()
                .is_some_and(|m| m.values().all(|v| v.as_array().is_some_and(|a| a.iter().all(Value::is_string)))),
            Kind::BoolMap => value.as_object().is_some_and(|m| m.values().all(Value::is_boolean)),
            Kind::Object => value.is_object(),
            Kind::ObjectList => value.as_array().is_some_and(|a| a.iter().all(Value::is_object)),
        };
        if ok {
            return Ok(());
        }
        Err(ConfigError::FieldType {
            path: self.file.to_path_buf(),
            field: display.to_string(),
            expected: expected(field.kind),
            found: describe(value),
        })
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

fn is_int32(v: &Value) -> bool {
    v.as_i64().is_some_and(|n| i32::try_from(n).is_ok())
}

/// A quantity may be written as a number; keep it as text, as the struct holds it.
fn normalize_quantity(v: &mut Value) -> bool {
    if let Value::Number(n) = v {
        *v = Value::String(n.to_string());
    }
    v.as_str().is_some_and(|s| quantity::parse_whole(s).is_some())
}

fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Duration => "a duration such as \"1m30s\"",
        Kind::DurationOrNanos => "a duration such as \"5s\" or integer nanoseconds",
        Kind::Quantity => "a quantity such as \"10Mi\"",
        Kind::QuantityMap => "a map of quantities such as \"1Gi\"",
        other => other.name(),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

fn resolve_relative_paths(value: &mut Value, dir: &Path) {
    for field in PATH_FIELDS {
        let pointer = format!("/{}", field.replace('.', "/"));
        if let Some(Value::String(p)) = value.pointer_mut(&pointer)
            && !p.is_empty()
            && !Path::new(p.as_str()).is_absolute()
        {
            *p = PathBuf::from(dir).join(p.as_str()).to_string_lossy().into_owned();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_str(text: &str) -> Result<FileConfig, ConfigError> {
        decode(Path::new("/etc/kubelet/config.yaml"), text.as_bytes(), Path::new("/etc/kubelet"))
    }

    const HEAD: &str = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

    #[test]
    fn yaml_and_json_decode_alike() {
        let yaml = decode_str(&format!("{HEAD}maxPods: 50\nsyncFrequency: 30s\n")).map(|f| f.value).ok();
        let json = decode_str(r#"{"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"KubeletConfiguration","maxPods":50,"syncFrequency":"30s"}"#)
            .map(|f| f.value)
            .ok();
        assert!(yaml.is_some());
        assert_eq!(yaml, json);
    }

    #[test]
    fn kind_and_version_are_required() {
        let wrong = decode_str("apiVersion: v1\nkind: Pod\n");
        assert!(matches!(wrong, Err(ConfigError::WrongKind { ref kind, .. }) if kind == "Pod"));
        assert!(matches!(decode_str("maxPods: 5\n"), Err(ConfigError::WrongKind { .. })));
        assert!(matches!(decode_str("- a\n- b\n"), Err(ConfigError::NotAnObject { .. })));
        assert!(matches!(decode_str("  \n"), Err(ConfigError::EmptyFile { .. })));
        assert!(matches!(decode_str("a: [\n"), Err(ConfigError::Syntax { .. })));
    }

    #[test]
    fn unknown_fields_are_listed_not_fatal() {
        let f = decode_str(&format!(
            "{HEAD}maxPods: 5\nnoSuchField: 1\nauthentication:\n  webhook:\n    bogus: true\nregisterWithTaints:\n- key: a\n  effect: NoSchedule\n  extra: 1\n"
        ));
        let f = f.ok();
        let unknown = f.as_ref().map(|f| f.unknown.clone()).unwrap_or_default();
        // serde_json keeps object keys sorted.
        assert_eq!(unknown, ["authentication.webhook.bogus", "noSuchField", "registerWithTaints[0].extra"]);
        let set = f.map(|f| f.set).unwrap_or_default();
        assert_eq!(set, ["apiVersion", "kind", "maxPods", "registerWithTaints"]);
    }

    #[test]
    fn wrong_types_name_the_field() {
        let err = |body: &str| decode_str(&format!("{HEAD}{body}")).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err("maxPods: many\n").contains("field maxPods: expected int32, got string \"many\""));
        assert!(err("maxPods: 3000000000\n").contains("field maxPods"));
        assert!(err("maxPods: 1.5\n").contains("field maxPods"));
        assert!(err("syncFrequency: 60\n").contains("field syncFrequency: expected a duration"));
        assert!(err("syncFrequency: soon\n").contains("field syncFrequency"));
        assert!(err("authentication:\n  webhook:\n    enabled: 'yes'\n").contains("field authentication.webhook.enabled"));
        assert!(err("registerWithTaints:\n- key: 5\n").contains("field registerWithTaints[0].key"));
        assert!(err("clusterDNS: 10.0.0.10\n").contains("field clusterDNS: expected list of strings"));
        assert!(err("featureGates:\n  A: maybe\n").contains("field featureGates"));
    }

    #[test]
    fn normalizes_numbers_and_nulls() {
        let f = decode_str(&format!("{HEAD}logging:\n  flushFrequency: 2000000000\n  options:\n    text:\n      infoBufferSize: 0\nmaxPods: null\n"));
        let v = f.map(|f| f.value).unwrap_or_default();
        assert_eq!(v.pointer("/logging/flushFrequency"), Some(&Value::String("2s".into())));
        assert_eq!(v.pointer("/logging/options/text/infoBufferSize"), Some(&Value::String("0".into())));
    }

    #[test]
    fn relative_paths_follow_the_file() {
        let f = decode_str(&format!("{HEAD}staticPodPath: manifests\ntlsCertFile: /abs/cert.pem\nresolvConf: \"\"\n"));
        let v = f.map(|f| f.value).unwrap_or_default();
        assert_eq!(v["staticPodPath"], "/etc/kubelet/manifests");
        assert_eq!(v["tlsCertFile"], "/abs/cert.pem");
        assert_eq!(v["resolvConf"], "");
    }
}
