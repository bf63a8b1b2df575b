//! Decoding API objects from JSON or YAML bytes (manifest files, HTTP sources, kubeconfig,
//! KubeletConfiguration).
//!
//! As upstream does, input whose first non-blank character is `{` or `[` is JSON, anything
//! else YAML. YAML goes through serde-saphyr with limits sized for manifests: input size,
//! nesting depth, node and alias counts and alias replay are bounded, so a hostile file (an
//! alias bomb, a deep nest) fails fast instead of eating the node's memory. One document
//! per input: a leading `---` or trailing empty documents are fine, a second object is an
//! error. Errors name what was being decoded and where (line and column).
#![forbid(unsafe_code)]

use std::fmt;

use serde::de::DeserializeOwned;

/// Inputs larger than this are refused before parsing. The API server caps objects at
/// ~1.5 MiB and requests at 3 MiB; lists from an HTTP source may be larger.
pub const MAX_INPUT_BYTES: usize = 32 * 1024 * 1024;

/// The syntax an input was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Json => "JSON",
            Format::Yaml => "YAML",
        })
    }
}

/// Why an input did not decode. `what` names the input (`"static pod manifest
/// /etc/kubernetes/manifests/web.yaml"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Bad syntax, or well-formed input of the wrong shape (a string where a number goes).
    /// `line`/`column` are 1-based, when the parser knows them.
    Syntax {
        what: String,
        format: Format,
        line: Option<u64>,
        column: Option<u64>,
        message: String,
    },
    /// Nothing but whitespace, comments or empty documents.
    Empty { what: String },
    /// More than one YAML document.
    MultipleDocuments { what: String, count: usize },
    /// Over [`MAX_INPUT_BYTES`].
    TooLarge { what: String, len: usize },
    /// YAML input that is not UTF-8.
    NotUtf8 { what: String, offset: usize },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Syntax {
                what,
                format,
                line,
                column,
                message,
            } => {
                write!(f, "{what}: invalid {format}")?;
                match (line, column) {
                    (Some(l), Some(c)) => write!(f, " at line {l} column {c}")?,
                    (Some(l), None) => write!(f, " at line {l}")?,
                    _ => {}
                }
                write!(f, ": {message}")
            }
            Self::Empty { what } => write!(f, "{what}: empty document"),
            Self::MultipleDocuments { what, count } => {
                write!(
                    f,
                    "{what}: {count} YAML documents where one object was expected"
                )
            }
            Self::TooLarge { what, len } => {
                write!(
                    f,
                    "{what}: {len} bytes is over the limit of {MAX_INPUT_BYTES}"
                )
            }
            Self::NotUtf8 { what, offset } => write!(f, "{what}: not UTF-8 at byte {offset}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes one object of type `T` from JSON or YAML.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, DecodeError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(DecodeError::TooLarge {
            what: what.to_string(),
            len: bytes.len(),
        });
    }
    // Editors on some systems write a byte-order mark; neither parser wants it.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match sniff(bytes) {
        None => Err(DecodeError::Empty {
            what: what.to_string(),
        }),
        Some(Format::Json) => super::json::decode(bytes).map_err(|e| json_error(&e, what)),
        Some(Format::Yaml) => decode_yaml(bytes, what),
    }
}

/// Decodes JSON or YAML into an untyped value, for callers that inspect fields before (or
/// instead of) decoding strictly, such as KubeletConfiguration's unknown-field warnings.
pub fn decode_value(bytes: &[u8], what: &str) -> Result<serde_json::Value, DecodeError> {
    decode(bytes, what)
}

/// `Json` if the first non-blank byte opens a JSON object or array, `None` if all blank.
fn sniff(bytes: &[u8]) -> Option<Format> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    Some(if matches!(first, b'{' | b'[') {
        Format::Json
    } else {
        Format::Yaml
    })
}

fn json_error(e: &serde_json::Error, what: &str) -> DecodeError {
    if e.is_eof() && e.line() <= 1 && e.column() == 0 {
        return DecodeError::Empty {
            what: what.to_string(),
        };
    }
    // serde_json's Display appends " at line L column C"; keep the message alone.
    let message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = message
        .strip_suffix(&suffix)
        .unwrap_or(&message)
        .to_string();
    let line = u64::try_from(e.line()).ok().filter(|&l| l > 0);
    let column = u64::try_from(e.column()).ok().filter(|_| line.is_some());
    DecodeError::Syntax {
        what: what.to_string(),
        format: Format::Json,
        line,
        column,
        message,
    }
}

fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_reader_input_bytes = Some(MAX_INPUT_BYTES);
    budget.max_total_scalar_bytes = MAX_INPUT_BYTES;
    // Real objects nest about 15 deep (a pod's volume projection items); JSON in
    // annotations is a string, not structure.
    budget.max_depth = 64;
    budget.max_documents = 16;
    budget.max_nodes = 500_000;
    budget.max_events = 2_000_000;
    // Manifests rarely use anchors; these caps stop alias bombs long before memory goes.
    budget.max_anchors = 10_000;
    budget.max_aliases = 10_000;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = 200_000;
    options.alias_limits.max_replay_stack_depth = 16;
    options.alias_limits.max_alias_expansions_per_anchor = 1_000;
    options.with_snippet = false;
    // Upstream reads YAML 1.1 (go-yaml v2): `defaultMode: 0644` is octal, 420.
    options.legacy_octal_numbers = true;
    options
}

fn decode_yaml<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, DecodeError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(DecodeError::NotUtf8 {
            what: what.to_string(),
            offset: e.valid_up_to(),
        });
    }
    let docs: Vec<T> = serde_saphyr::from_slice_multiple_with_options(bytes, yaml_options())
        .map_err(|e| yaml_error(&e, what))?;
    let count = docs.len();
    let mut docs = docs.into_iter();
    match (docs.next(), count) {
        (Some(doc), 1) => Ok(doc),
        (None, _) => Err(DecodeError::Empty {
            what: what.to_string(),
        }),
        (Some(_), count) => Err(DecodeError::MultipleDocuments {
            what: what.to_string(),
            count,
        }),
    }
}

fn yaml_error(e: &serde_saphyr::Error, what: &str) -> DecodeError {
    let location = e.location();
    let line = location.map(|l| l.line()).filter(|&l| l > 0);
    let column = location.map(|l| l.column()).filter(|_| line.is_some());
    let message = e.to_string();
    // serde-saphyr appends " at line L, column C" when it knows them.
    let message = match (line, column) {
        (Some(l), Some(c)) => {
            let suffix = format!(" at line {l}, column {c}");
            message
                .strip_suffix(&suffix)
                .unwrap_or(&message)
                .to_string()
        }
        _ => message,
    };
    DecodeError::Syntax {
        what: what.to_string(),
        format: Format::Yaml,
        line,
        column,
        message,
    }
}

#[cfg(test)]
#[path = "decode_tests.rs"]
mod tests;
