//! The one place JSON is turned into typed values.
//!
//! serde generates a type's `Deserialize` code once per deserializer type it is used with:
//! `from_str`, `from_slice`, `from_reader` and `from_value` each instantiate it again, and a
//! `Pod`'s is large. Decoding every JSON document through this function (bytes in hand,
//! `serde_json`'s slice reader) keeps one copy per type in the binary.
#![forbid(unsafe_code)]

use serde::de::DeserializeOwned;

/// Decodes one JSON document (trailing whitespace allowed) as `T`.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(bytes)
}

/// Encodes `value` as compact JSON. `serde_json::to_string` is this plus a UTF-8 view, so
/// it shares the same code; `to_value` would not (see [`to_value`]).
pub fn encode<T: serde::Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(value)
}

/// `serde_json::to_value` through [`encode`] and [`decode`]: the types turned into a
/// `Value` are also encoded as bytes elsewhere, so this avoids a second copy of their
/// `Serialize` code (for the `Value` serializer) at the price of a parse.
pub fn to_value<T: serde::Serialize + ?Sized>(value: &T) -> Result<serde_json::Value, serde_json::Error> {
    decode(&encode(value)?)
}
