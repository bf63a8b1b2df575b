//! Field shapes: a singular, optional, repeated or map field of some [`Kind`], with its key.
//!
//! `message!` picks one shape per declared field; the shape knows proto3's rules: defaults are
//! not written, repeated scalars are written packed but read packed or not, map entries are
//! small messages `{1: key, 2: value}` whose missing parts take their defaults.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use super::Nested;
use super::error::{DecodeError, DecodeErrorKind};
use super::kind::Kind;
use super::reader::{Reader, WireType};
use super::writer::{Writer, key_len, len_delimited_len};

/// How one field of a message is encoded and decoded, key included.
pub trait Field {
    type Value;
    fn encode(number: u32, value: &Self::Value, w: &mut Writer<'_>);
    fn encoded_len(number: u32, value: &Self::Value) -> usize;
    /// Reads one occurrence of the field (the key is already read).
    fn merge(value: &mut Self::Value, wire: WireType, r: &mut Reader<'_>) -> Result<(), DecodeError>;
    fn nested() -> Nested;
}

fn expect_wire(found: WireType, expected: WireType) -> Result<(), DecodeError> {
    if found == expected {
        Ok(())
    } else {
        Err(DecodeErrorKind::WireTypeMismatch { expected: expected as u8, found: found as u8 }.into())
    }
}

/// A plain proto3 field: omitted when default, last occurrence wins.
pub struct Singular<K>(PhantomData<K>);
impl<K: Kind> Field for Singular<K> {
    type Value = K::Value;
    fn encode(number: u32, value: &K::Value, w: &mut Writer<'_>) {
        if !K::is_default(value) {
            w.put_key(number, K::WIRE);
            K::put(value, w);
        }
    }
    fn encoded_len(number: u32, value: &K::Value) -> usize {
        if K::is_default(value) { 0 } else { key_len(number) + K::value_len(value) }
    }
    fn merge(value: &mut K::Value, wire: WireType, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        expect_wire(wire, K::WIRE)?;
        K::merge(value, r)
    }
    fn nested() -> Nested {
        K::nested()
    }
}

/// A field with presence (message fields): written whenever it is `Some`, even if empty.
pub struct Optional<K>(PhantomData<K>);
impl<K: Kind> Field for Optional<K> {
    type Value = Option<K::Value>;
    fn encode(number: u32, value: &Option<K::Value>, w: &mut Writer<'_>) {
        if let Some(v) = value {
            w.put_key(number, K::WIRE);
            K::put(v, w);
        }
    }
    fn encoded_len(number: u32, value: &Option<K::Value>) -> usize {
        value.as_ref().map_or(0, |v| key_len(number) + K::value_len(v))
    }
    fn merge(value: &mut Option<K::Value>, wire: WireType, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        expect_wire(wire, K::WIRE)?;
        K::merge(value.get_or_insert_with(K::Value::default), r)
    }
    fn nested() -> Nested {
        K::nested()
    }
}

/// A repeated field: scalars packed into one length-delimited run, others one key each.
pub struct Repeated<K>(PhantomData<K>);
impl<K: Kind> Field for Repeated<K> {
    type Value = Vec<K::Value>;
    fn encode(number: u32, values: &Vec<K::Value>, w: &mut Writer<'_>) {
        if values.is_empty() {
            return;
        }
        if K::packable() {
            w.put_key(number, WireType::Len);
            w.put_varint(values.iter().map(K::value_len).sum::<usize>() as u64);
            values.iter().for_each(|v| K::put(v, w));
        } else {
            for v in values {
                w.put_key(number, K::WIRE);
                K::put(v, w);
            }
        }
    }
    fn encoded_len(number: u32, values: &Vec<K::Value>) -> usize {
        if values.is_empty() {
            return 0;
        }
        let body: usize = values.iter().map(K::value_len).sum();
        if K::packable() { key_len(number) + len_delimited_len(body) } else { key_len(number) * values.len() + body }
    }
    fn merge(values: &mut Vec<K::Value>, wire: WireType, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        if wire == K::WIRE {
            values.push(K::get(r)?);
            return Ok(());
        }
        // Decoders must accept both encodings of repeated scalars.
        if !K::packable() || wire != WireType::Len {
            return expect_wire(wire, K::WIRE);
        }
        let mut packed = r.read_nested()?;
        while !packed.is_empty() {
            values.push(K::get(&mut packed)?);
        }
        Ok(())
    }
    fn nested() -> Nested {
        K::nested()
    }
}

/// `map<K, V>`: one `{1: key, 2: value}` entry per pair; both parts are always written, as the
/// reference implementation does. A repeated key keeps the last value.
pub struct Map<K, V>(PhantomData<(K, V)>);

impl<K: Kind, V: Kind> Map<K, V> {
    fn entry_len(key: &K::Value, value: &V::Value) -> usize {
        key_len(1) + K::value_len(key) + key_len(2) + V::value_len(value)
    }
}

impl<K: Kind, V: Kind> Field for Map<K, V>
where
    K::Value: Ord,
{
    type Value = BTreeMap<K::Value, V::Value>;
    fn encode(number: u32, map: &Self::Value, w: &mut Writer<'_>) {
        for (key, value) in map {
            w.put_key(number, WireType::Len);
            w.put_varint(Self::entry_len(key, value) as u64);
            w.put_key(1, K::WIRE);
            K::put(key, w);
            w.put_key(2, V::WIRE);
            V::put(value, w);
        }
    }
    fn encoded_len(number: u32, map: &Self::Value) -> usize {
        map.iter().map(|(k, v)| key_len(number) + len_delimited_len(Self::entry_len(k, v))).sum()
    }
    fn merge(map: &mut Self::Value, wire: WireType, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        expect_wire(wire, WireType::Len)?;
        let mut entry = r.read_nested()?;
        let mut key = K::Value::default();
        let mut value = V::Value::default();
        while !entry.is_empty() {
            match entry.read_key()? {
                (1, wire) => Singular::<K>::merge(&mut key, wire, &mut entry)?,
                (2, wire) => Singular::<V>::merge(&mut value, wire, &mut entry)?,
                (other, wire) => entry.skip(other, wire)?,
            }
        }
        map.insert(key, value);
        Ok(())
    }
    fn nested() -> Nested {
        V::nested()
    }
}
