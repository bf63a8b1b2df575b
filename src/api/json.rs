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
