//! `intstr.IntOrString`: a JSON number or string (probe ports: `8080` or `"http"`).
#![forbid(unsafe_code)]

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An `int32` or a string, kept as written: `"8080"` stays a string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IntOrString {
    Int(i32),
    String(String),
}

impl Default for IntOrString {
    fn default() -> Self {
        IntOrString::Int(0)
    }
}

impl IntOrString {
    pub fn as_int(&self) -> Option<i32> {
        match self {
            IntOrString::Int(i) => Some(*i),
            IntOrString::String(_) => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            IntOrString::Int(_) => None,
            IntOrString::String(s) => Some(s),
        }
    }
}

impl From<i32> for IntOrString {
    fn from(i: i32) -> Self {
        IntOrString::Int(i)
    }
}

impl From<&str> for IntOrString {
    fn from(s: &str) -> Self {
        IntOrString::String(s.to_string())
    }
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(i) => write!(f, "{i}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

impl Serialize for IntOrString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            IntOrString::Int(i) => serializer.serialize_i32(*i),
            IntOrString::String(s) => serializer.serialize_str(s),
        }
    }
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IntOrStringVisitor)
    }
}

struct IntOrStringVisitor;

impl Visitor<'_> for IntOrStringVisitor {
    type Value = IntOrString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an int32 or a string")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrString, E> {
        i32::try_from(v)
            .map(IntOrString::Int)
            .map_err(|_| E::custom(format!("{v} does not fit in an int32")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrString, E> {
        i32::try_from(v)
            .map(IntOrString::Int)
            .map_err(|_| E::custom(format!("{v} does not fit in an int32")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrString, E> {
        Ok(IntOrString::String(v.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_forms() {
        let parse = |s: &str| serde_json::from_str::<IntOrString>(s).ok();
        assert_eq!(parse("8080"), Some(IntOrString::Int(8080)));
        assert_eq!(parse("-1"), Some(IntOrString::Int(-1)));
        assert_eq!(parse("\"http\""), Some(IntOrString::String("http".into())));
        assert_eq!(parse("\"8080\""), Some(IntOrString::String("8080".into())));
        assert_eq!(parse("2147483648"), None);
        assert_eq!(parse("1.5"), None);
        assert_eq!(parse("true"), None);
        for v in [IntOrString::Int(80), IntOrString::from("web")] {
            let text = serde_json::to_string(&v).unwrap_or_default();
            assert_eq!(parse(&text), Some(v));
        }
        assert_eq!(IntOrString::from(3).as_int(), Some(3));
        assert_eq!(IntOrString::from("x").as_str(), Some("x"));
        assert_eq!(IntOrString::from("x").to_string(), "x");
    }
}
