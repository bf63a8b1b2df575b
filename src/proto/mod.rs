//! Protobuf (proto3) wire codec, sans-I/O: bytes in, values out, and back.
//!
//! ```text
//!   message!/enumeration!  ──declare──▶  plain Rust structs + impl Message
//!                                            │ encode_fields        ▲ merge_field
//!                                            ▼                      │
//!   field::{Singular,Optional,Repeated,Map}<kind::*>  ──▶  Writer / Reader (bounds-checked)
//! ```
//!
//! * Every decode goes through one [`Reader`], which checks every length before it reads;
//!   decoding never panics, whatever the input (fuzzed in `fuzz/fuzz_targets/proto_decode.rs`).
//! * Messages are declared with [`message!`](crate::message): one line per field, e.g.
//!   `3 => metadata: message(ContainerMetadata)`. Enums are open newtypes over `i32` declared
//!   with [`enumeration!`](crate::enumeration), so values unknown to this build survive a round
//!   trip.
//! * Proto3 rules: singular fields holding their default are not written; message fields are
//!   `Option<T>` and written when `Some`; repeated scalars are written packed and read packed or
//!   unpacked; map entries are written with both key and value; unknown fields of every wire
//!   type are skipped; nesting deeper than [`MAX_DEPTH`] is an error.

#![forbid(unsafe_code)]

mod error;
pub mod field;
pub mod kind;
mod macros;
mod reader;
mod writer;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_macro;

pub use error::{DecodeError, DecodeErrorKind};
pub use kind::Secret;
pub use reader::{MAX_DEPTH, MAX_FIELD_NUMBER, Reader, WireType};
pub use writer::{Writer, key_len, varint_len};

/// A protobuf message. Implemented by [`message!`](crate::message); call [`Message::encode`]
/// and [`Message::decode`].
pub trait Message: Default {
    /// The message's schema, for checks against the `.proto` file.
    const INFO: &'static MessageInfo;

    /// Writes the fields (no length prefix of the message itself).
    fn encode_fields(&self, w: &mut Writer<'_>);

    /// Bytes [`Message::encode`] will append.
    fn encoded_len(&self) -> usize;

    /// Reads the value of field `number` (its key already read); unknown numbers are skipped.
    fn merge_field(&mut self, number: u32, wire: WireType, r: &mut Reader<'_>) -> Result<(), DecodeError>;

    /// Reads fields until the reader is empty, merging them into `self`.
    fn merge(&mut self, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        while !r.is_empty() {
            let (number, wire) = r.read_key()?;
            self.merge_field(number, wire, r)?;
        }
        Ok(())
    }

    /// Appends the encoded message to `buf`.
    fn encode(&self, buf: &mut Vec<u8>) {
        self.encode_fields(&mut Writer::new(buf));
    }

    fn encode_to_vec(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(self.encoded_len());
        self.encode(&mut buf);
        buf
    }

    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut message = Self::default();
        message.merge(&mut Reader::new(bytes))?;
        Ok(message)
    }
}

/// `message(Box<M>)` declares a recursive field.
impl<M: Message> Message for Box<M> {
    const INFO: &'static MessageInfo = M::INFO;
    fn encode_fields(&self, w: &mut Writer<'_>) {
        (**self).encode_fields(w)
    }
    fn encoded_len(&self) -> usize {
        (**self).encoded_len()
    }
    fn merge_field(&mut self, number: u32, wire: WireType, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        (**self).merge_field(number, wire, r)
    }
}

/// A protobuf enum: an open set of `i32` values. Implemented by
/// [`enumeration!`](crate::enumeration).
pub trait Enumeration: Copy + Default {
    const INFO: &'static EnumInfo;
    fn from_i32(value: i32) -> Self;
    fn to_i32(self) -> i32;
}

/// The declared schema of a message: what `message!` was given.
#[derive(Debug)]
pub struct MessageInfo {
    pub name: &'static str,
    pub fields: &'static [FieldInfo],
}

/// One declared field: number, Rust name, the kind as written in `message!` (e.g.
/// `repeated(message(Mount))`) and the message or enum it refers to.
#[derive(Debug)]
pub struct FieldInfo {
    pub number: u32,
    pub name: &'static str,
    pub kind: &'static str,
    pub nested: fn() -> Nested,
}

/// The declared values of an enum.
#[derive(Debug)]
pub struct EnumInfo {
    pub name: &'static str,
    pub values: &'static [(&'static str, i32)],
}

/// What a field's kind refers to.
#[derive(Debug, Clone, Copy)]
pub enum Nested {
    None,
    Message(&'static MessageInfo),
    Enum(&'static EnumInfo),
}
