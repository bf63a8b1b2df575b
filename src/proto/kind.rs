//! Value kinds: how one protobuf value of each `.proto` type is written and read.
//!
//! Each kind is a marker type implementing [`Kind`]; field shapes ([`super::field`]) combine
//! them into singular, optional, repeated and map fields.

use std::fmt;
use std::marker::PhantomData;

use super::error::{DecodeError, DecodeErrorKind};
use super::reader::{Reader, WireType};
use super::writer::{Writer, len_delimited_len, varint_len};
use super::{Enumeration, Message, Nested};

/// One `.proto` value type: its Rust type, wire type and codec (without the field key).
pub trait Kind {
    type Value: Default;
    const WIRE: WireType;

    /// Proto3 omits singular fields that hold their default.
    fn is_default(value: &Self::Value) -> bool;
    /// Bytes [`Kind::put`] writes.
    fn value_len(value: &Self::Value) -> usize;
    fn put(value: &Self::Value, w: &mut Writer<'_>);
    fn get(r: &mut Reader<'_>) -> Result<Self::Value, DecodeError>;
    /// A repeated occurrence of a singular field: scalars replace, messages merge.
    fn merge(value: &mut Self::Value, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        *value = Self::get(r)?;
        Ok(())
    }
    /// The message or enum this kind refers to (for schema checks).
    fn nested() -> Nested {
        Nested::None
    }
    /// Scalars (everything not length-delimited) are packed when repeated.
    fn packable() -> bool {
        !matches!(Self::WIRE, WireType::Len)
    }
}

/// Declares a kind carried in a varint; `to`/`from` convert with protobuf's own rules
/// (negative int32 is sign-extended to 10 bytes; decoding truncates to the declared width).
macro_rules! varint_kind {
    ($(#[$doc:meta])* $name:ident, $ty:ty, |$v:ident| $to:expr, |$x:ident| $from:expr) => {
        $(#[$doc])*
        pub struct $name;
        impl Kind for $name {
            type Value = $ty;
            const WIRE: WireType = WireType::Varint;
            fn is_default(value: &$ty) -> bool {
                *value == <$ty>::default()
            }
            fn value_len(value: &$ty) -> usize {
                let $v = *value;
                varint_len($to)
            }
            fn put(value: &$ty, w: &mut Writer<'_>) {
                let $v = *value;
                w.put_varint($to)
            }
            fn get(r: &mut Reader<'_>) -> Result<$ty, DecodeError> {
                let $x = r.read_varint()?;
                Ok($from)
            }
        }
    };
}

varint_kind!(/** `int32` */ Int32, i32, |v| i64::from(v) as u64, |x| x as u32 as i32);
varint_kind!(/** `int64` */ Int64, i64, |v| v as u64, |x| x as i64);
varint_kind!(/** `uint32` */ Uint32, u32, |v| u64::from(v), |x| x as u32);
varint_kind!(/** `uint64` */ Uint64, u64, |v| v, |x| x);
varint_kind!(/** `bool` */ Bool, bool, |v| u64::from(v), |x| x != 0);
varint_kind!(
    /** `sint32` (zigzag) */ Sint32, i32,
    |v| u64::from(((v << 1) ^ (v >> 31)) as u32),
    |x| ((x as u32) >> 1) as i32 ^ -((x & 1) as i32)
);
varint_kind!(
    /** `sint64` (zigzag) */ Sint64, i64,
    |v| ((v << 1) ^ (v >> 63)) as u64,
    |x| (x >> 1) as i64 ^ -((x & 1) as i64)
);

/// Declares a fixed-width kind; `to_bits`/`from_bits` map the value to its little-endian word.
macro_rules! fixed_kind {
    ($(#[$doc:meta])* $name:ident, $ty:ty, $wire:ident, $len:literal, $put:ident, $get:ident,
     |$v:ident| $to:expr, |$x:ident| $from:expr) => {
        $(#[$doc])*
        pub struct $name;
        impl Kind for $name {
            type Value = $ty;
            const WIRE: WireType = WireType::$wire;
            fn is_default(value: &$ty) -> bool {
                // Compares bits, so that -0.0 is written like the reference implementation does.
                let $v = *value;
                $to == 0
            }
            fn value_len(_: &$ty) -> usize {
                $len
            }
            fn put(value: &$ty, w: &mut Writer<'_>) {
                let $v = *value;
                w.$put($to)
            }
            fn get(r: &mut Reader<'_>) -> Result<$ty, DecodeError> {
                let $x = r.$get()?;
                Ok($from)
            }
        }
    };
}

fixed_kind!(/** `fixed32` */ Fixed32, u32, Fixed32, 4, put_fixed32, read_fixed32, |v| v, |x| x);
fixed_kind!(/** `fixed64` */ Fixed64, u64, Fixed64, 8, put_fixed64, read_fixed64, |v| v, |x| x);
fixed_kind!(/** `sfixed32` */ Sfixed32, i32, Fixed32, 4, put_fixed32, read_fixed32, |v| v as u32, |x| x as i32);
fixed_kind!(/** `sfixed64` */ Sfixed64, i64, Fixed64, 8, put_fixed64, read_fixed64, |v| v as u64, |x| x as i64);
fixed_kind!(/** `float` */ Float, f32, Fixed32, 4, put_fixed32, read_fixed32, |v| v.to_bits(), |x| f32::from_bits(x));
fixed_kind!(/** `double` */ Double, f64, Fixed64, 8, put_fixed64, read_fixed64, |v| v.to_bits(), |x| f64::from_bits(x));

/// `string`: length-delimited UTF-8; invalid UTF-8 is a decode error.
pub struct Str;
impl Kind for Str {
    type Value = String;
    const WIRE: WireType = WireType::Len;
    fn is_default(value: &String) -> bool {
        value.is_empty()
    }
    fn value_len(value: &String) -> usize {
        len_delimited_len(value.len())
    }
    fn put(value: &String, w: &mut Writer<'_>) {
        w.put_len_delimited(value.as_bytes())
    }
    fn get(r: &mut Reader<'_>) -> Result<String, DecodeError> {
        let bytes = r.read_len_delimited()?;
        std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| DecodeErrorKind::InvalidUtf8.into())
    }
}

/// `bytes`.
pub struct Bytes;
impl Kind for Bytes {
    type Value = Vec<u8>;
    const WIRE: WireType = WireType::Len;
    fn is_default(value: &Vec<u8>) -> bool {
        value.is_empty()
    }
    fn value_len(value: &Vec<u8>) -> usize {
        len_delimited_len(value.len())
    }
    fn put(value: &Vec<u8>, w: &mut Writer<'_>) {
        w.put_len_delimited(value)
    }
    fn get(r: &mut Reader<'_>) -> Result<Vec<u8>, DecodeError> {
        Ok(r.read_len_delimited()?.to_vec())
    }
}

/// A `string` holding a credential: same wire format, but `Debug` does not print it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() { f.write_str("\"\"") } else { f.write_str("<redacted>") }
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Secret {
        Secret(s)
    }
}

/// `string` field declared as `secret` in `message!`.
pub struct SecretStr;
impl Kind for SecretStr {
    type Value = Secret;
    const WIRE: WireType = WireType::Len;
    fn is_default(value: &Secret) -> bool {
        value.0.is_empty()
    }
    fn value_len(value: &Secret) -> usize {
        Str::value_len(&value.0)
    }
    fn put(value: &Secret, w: &mut Writer<'_>) {
        Str::put(&value.0, w)
    }
    fn get(r: &mut Reader<'_>) -> Result<Secret, DecodeError> {
        Str::get(r).map(Secret)
    }
}

/// An enum: an `int32` on the wire; values this build does not name are kept as numbers.
pub struct Enum<E>(PhantomData<E>);
impl<E: Enumeration> Kind for Enum<E> {
    type Value = E;
    const WIRE: WireType = WireType::Varint;
    fn is_default(value: &E) -> bool {
        value.to_i32() == 0
    }
    fn value_len(value: &E) -> usize {
        Int32::value_len(&value.to_i32())
    }
    fn put(value: &E, w: &mut Writer<'_>) {
        Int32::put(&value.to_i32(), w)
    }
    fn get(r: &mut Reader<'_>) -> Result<E, DecodeError> {
        Int32::get(r).map(E::from_i32)
    }
    fn nested() -> Nested {
        Nested::Enum(E::INFO)
    }
}

/// A nested message, length-delimited.
pub struct Msg<M>(PhantomData<M>);
impl<M: Message> Kind for Msg<M> {
    type Value = M;
    const WIRE: WireType = WireType::Len;
    fn is_default(_: &M) -> bool {
        // Message fields are optional (present or not), never "default".
        false
    }
    fn value_len(value: &M) -> usize {
        len_delimited_len(value.encoded_len())
    }
    fn put(value: &M, w: &mut Writer<'_>) {
        w.put_varint(value.encoded_len() as u64);
        value.encode_fields(w);
    }
    fn get(r: &mut Reader<'_>) -> Result<M, DecodeError> {
        let mut m = M::default();
        Self::merge(&mut m, r)?;
        Ok(m)
    }
    fn merge(value: &mut M, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        value.merge(&mut r.read_nested()?)
    }
    fn nested() -> Nested {
        Nested::Message(M::INFO)
    }
}
