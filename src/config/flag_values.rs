//! Turning a flag's text into the JSON value of the field it sets, with pflag's rules for
//! repeated flags (see [`FlagKind`]).

#![forbid(unsafe_code)]

use super::duration::GoDuration;
use super::error::FlagError;
use super::flag_table::FlagKind;
use super::labels;
use serde_json::{Map, Value, json};

/// Go's `strconv.ParseBool`.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseInt(text, 0, bits)`: decimal, or 0x / 0o / 0b / leading-0 octal.
pub fn parse_int(text: &str, bits: u32) -> Result<i64, String> {
    let syntax = || format!("strconv.ParseInt: parsing {text:?}: invalid syntax");
    let range = || format!("strconv.ParseInt: parsing {text:?}: value out of range");
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match lower.as_deref() {
        Some("0x") => (16, &body[2..]),
        Some("0o") => (8, &body[2..]),
        Some("0b") => (2, &body[2..]),
        _ if body.len() > 1 && body.starts_with('0') => (8, &body[1..]),
        _ => (10, body),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(syntax());
    }
    let magnitude = i128::from_str_radix(digits, radix).map_err(|_| range())?;
    let value = if negative { -magnitude } else { magnitude };
    let max = (1i128 << (bits - 1)) - 1;
    if value > max || value < -max - 1 {
        return Err(range());
    }
    i64::try_from(value).map_err(|_| range())
}

fn split_pair(item: &str, sep: char, expect: &str) -> Result<(String, String), String> {
    item.split_once(sep)
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .ok_or_else(|| format!("malformed pair, expect {expect}"))
}

/// The new value of the field after one use of the flag. `current` is the field's value
/// before it; `first_use` is whether this flag was already given earlier on the command line.
/// `None` means "leave the field as it is".
pub fn apply(kind: FlagKind, flag: &str, text: &str, current: &Value, first_use: bool) -> Result<Option<Value>, FlagError> {
    let invalid = |reason: String| FlagError::InvalidValue { flag: flag.to_string(), value: text.to_string(), reason };
    // Collection flags start over on their first use, and extend what is there afterwards.
    let base_object = || if first_use { Map::new() } else { current.as_object().cloned().unwrap_or_default() };
    let base_list = || if first_use { Vec::new() } else { current.as_array().cloned().unwrap_or_default() };
    let items = || text.split(',').filter(|s| !s.is_empty());
    let value = match kind {
        FlagKind::Bool => Value::Bool(parse_bool(text).ok_or_else(|| invalid(format!("strconv.ParseBool: parsing {text:?}: invalid syntax")))?),
        FlagKind::Int32 => json!(parse_int(text, 32).map_err(invalid)?),
        FlagKind::Int64 => json!(parse_int(text, 64).map_err(invalid)?),
        FlagKind::UInt32 => {
            let n = parse_int(text, 64).map_err(&invalid)?;
            json!(u32::try_from(n).map_err(|_| invalid(format!("strconv.ParseUint: parsing {text:?}: value out of range")))?)
        }
        FlagKind::String => Value::String(text.to_string()),
        FlagKind::Duration => {
            let d = GoDuration::parse(text).map_err(|_| invalid(format!("time: invalid duration {text:?}")))?;
            Value::String(d.to_string())
        }
        FlagKind::Ip => {
            if text.is_empty() {
                return Ok(None);
            }
            text.parse::<std::net::IpAddr>().map_err(|_| invalid(format!("{text:?} is not a valid IP address")))?;
            Value::String(text.to_string())
        }
        FlagKind::Quantity => {
            super::quantity::parse_whole(text).ok_or_else(|| invalid("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'".to_string()))?;
            Value::String(text.to_string())
        }
        FlagKind::Strings => {
            let mut list = base_list();
            list.extend(items().map(|s| Value::String(s.to_string())));
            Value::Array(list)
        }
        FlagKind::Map | FlagKind::LangleMap => {
            let (sep, expect) = if kind == FlagKind::Map { ('=', "string=string") } else { ('<', "string<string") };
            let mut map = base_object();
            for item in items() {
                let (k, v) = split_pair(item, sep, expect).map_err(&invalid)?;
                map.insert(k, Value::String(v));
            }
            Value::Object(map)
        }
        FlagKind::MapNoSplit => {
            let mut map = base_object();
            let (k, v) = split_pair(text, '=', "string=string").map_err(invalid)?;
            map.insert(k, Value::String(v));
            Value::Object(map)
        }
        FlagKind::ColonMultimap => {
            let mut map = base_object();
            for item in items() {
                let (k, v) = split_pair(item, ':', "string:string").map_err(&invalid)?;
                let entry = map.entry(k).or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(values) = entry {
                    values.push(Value::String(v));
                }
            }
            Value::Object(map)
        }
        FlagKind::BoolMap => {
            // Feature gates from flags are merged over the file's, never replace them.
            let mut map = current.as_object().cloned().unwrap_or_default();
            for item in items() {
                let (k, v) = split_pair(item, '=', "string=bool").map_err(&invalid)?;
                let b = parse_bool(&v).ok_or_else(|| invalid(format!("invalid value of {k}: {v}")))?;
                map.insert(k, Value::Bool(b));
            }
            Value::Object(map)
        }
        FlagKind::Taints => {
            let taints = labels::parse_taints(text).map_err(invalid)?;
            Value::Array(taints.into_iter().map(|t| json!({"key": t.key, "value": t.value, "effect": t.effect})).collect())
        }
        FlagKind::VModule => {
            let mut list = base_list();
            for item in items() {
                let (pattern, level) = split_pair(item, '=', "pattern=N").map_err(&invalid)?;
                let level = u32::try_from(parse_int(&level, 64).map_err(&invalid)?)
                    .map_err(|_| invalid(format!("verbosity {level} is out of range")))?;
                list.push(json!({"filePattern": pattern, "verbosity": level}));
            }
            Value::Array(list)
        }
        FlagKind::ReservedMemory => {
            if text.is_empty() {
                return Ok(None);
            }
            let mut list = base_list();
            for reservation in text.split(';') {
                list.push(parse_reserved_memory(reservation).map_err(&invalid)?);
            }
            Value::Array(list)
        }
        // Handled by the parser itself: they set no field.
        FlagKind::Labels | FlagKind::Version => return Ok(None),
    };
    Ok(Some(value))
}

fn parse_reserved_memory(reservation: &str) -> Result<Value, String> {
    let format = || format!("the reserved memory has incorrect format, expected numaNodeID:type=quantity[,type=quantity...], got {reservation}");
    let (node, limits) = reservation.split_once(':').ok_or_else(format)?;
    if limits.contains(':') {
        return Err(format());
    }
    let node: i32 = node.parse().map_err(|_| format!("failed to convert the NUMA node ID, expected integer, got {node}"))?;
    let mut map = Map::new();
    for limit in limits.split(',') {
        let (name, quantity) = limit.split_once('=').ok_or_else(|| format!("the reserved limit has incorrect value, expected type=quantity, got {limit}"))?;
        if name != "memory" && !name.starts_with("hugepages-") {
            return Err(format!("memory type conversion error, unknown type: {name:?}"));
        }
        super::quantity::parse_whole(quantity).ok_or_else(|| format!("failed to parse the quantity: {quantity}"))?;
        map.insert(name.to_string(), Value::String(quantity.to_string()));
    }
    Ok(json!({"numaNode": node, "limits": map}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: FlagKind, text: &str, current: Value, first: bool) -> Option<Value> {
        apply(kind, "f", text, &current, first).ok().flatten()
    }

    #[test]
    fn go_integers() {
        assert_eq!(parse_int("110", 32), Ok(110));
        assert_eq!(parse_int("-1", 64), Ok(-1));
        assert_eq!(parse_int("0x10", 32), Ok(16));
        assert_eq!(parse_int("010", 32), Ok(8));
        assert_eq!(parse_int("0", 32), Ok(0));
        assert!(parse_int("2147483648", 32).is_err_and(|e| e.contains("out of range")));
        assert!(parse_int("abc", 32).is_err_and(|e| e.contains("invalid syntax")));
        assert!(parse_int("08", 32).is_err());
        assert!(parse_int("", 32).is_err());
    }

    #[test]
    fn scalars() {
        assert_eq!(run(FlagKind::Bool, "F", Value::Null, true), Some(json!(false)));
        assert_eq!(run(FlagKind::Duration, "90s", Value::Null, true), Some(json!("1m30s")));
        assert_eq!(run(FlagKind::Ip, "", json!("1.2.3.4"), true), None);
        assert_eq!(run(FlagKind::Ip, "::1", Value::Null, true), Some(json!("::1")));
        assert!(apply(FlagKind::Ip, "address", "nope", &Value::Null, true).is_err());
        assert!(apply(FlagKind::Duration, "sync-frequency", "1", &Value::Null, true).is_err());
    }

    #[test]
    fn collections_restart_on_first_use_then_extend() {
        let file = json!({"memory.available": "100Mi"});
        assert_eq!(run(FlagKind::LangleMap, "nodefs.available<5%", file.clone(), true), Some(json!({"nodefs.available": "5%"})));
        assert_eq!(run(FlagKind::LangleMap, "nodefs.available<5%", file, false), Some(json!({"memory.available": "100Mi", "nodefs.available": "5%"})));
        assert_eq!(run(FlagKind::Strings, "10.0.0.10,10.0.0.11", json!(["1.1.1.1"]), true), Some(json!(["10.0.0.10", "10.0.0.11"])));
        let headers = run(FlagKind::ColonMultimap, "a:hello,b:again", Value::Null, true).unwrap_or_default();
        assert_eq!(run(FlagKind::ColonMultimap, "b:beautiful", headers, false), Some(json!({"a": ["hello"], "b": ["again", "beautiful"]})));
        assert!(apply(FlagKind::ColonMultimap, "manifest-url-header", "nocolon", &Value::Null, true).is_err());
    }

    #[test]
    fn feature_gates_merge_over_the_file() {
        let file = json!({"A": true, "B": true});
        assert_eq!(run(FlagKind::BoolMap, "B=false, C=1", file, true), Some(json!({"A": true, "B": false, "C": true})));
        assert!(apply(FlagKind::BoolMap, "feature-gates", "A=maybe", &Value::Null, true).is_err());
    }

    #[test]
    fn structured_lists() {
        assert_eq!(
            run(FlagKind::Taints, "dedicated=edge:NoSchedule,spot:NoExecute", Value::Null, true),
            Some(json!([{"key": "dedicated", "value": "edge", "effect": "NoSchedule"}, {"key": "spot", "value": "", "effect": "NoExecute"}]))
        );
        assert_eq!(run(FlagKind::VModule, "pleg*=4", Value::Null, true), Some(json!([{"filePattern": "pleg*", "verbosity": 4}])));
        assert_eq!(
            run(FlagKind::ReservedMemory, "0:memory=1Gi,hugepages-1Mi=2Gi", Value::Null, true),
            Some(json!([{"numaNode": 0, "limits": {"memory": "1Gi", "hugepages-1Mi": "2Gi"}}]))
        );
        assert!(apply(FlagKind::ReservedMemory, "reserved-memory", "0:cpu=1", &Value::Null, true).is_err());
    }
}
