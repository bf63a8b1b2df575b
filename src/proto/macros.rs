//! `message!` and `enumeration!`: declare protobuf messages and enums as plain Rust types.

/// Declares protobuf messages as plain structs with an `impl Message`.
///
/// ```
/// rkubelet::enumeration! {
///     /// Lifecycle state of a container.
///     pub enum ContainerState { CREATED = 0, RUNNING = 1, EXITED = 2, UNKNOWN = 3 }
/// }
/// rkubelet::message! {
///     pub struct ContainerMetadata { 1 => name: string, 2 => attempt: uint32 }
///     pub struct Container {
///         1 => id: string,
///         3 => metadata: message(ContainerMetadata),      // Option<ContainerMetadata>
///         6 => state: enum(ContainerState),
///         8 => labels: map(string, string),               // BTreeMap<String, String>
///         9 => ports: repeated(int32),                     // Vec<i32>, written packed
///         10 => previous: repeated(message(ContainerMetadata)), // Vec<ContainerMetadata>
///     }
/// }
/// use rkubelet::proto::Message;
/// let c = Container { id: "c1".into(), state: ContainerState::RUNNING, ..Default::default() };
/// let bytes = c.encode_to_vec();
/// assert_eq!(bytes, [0x0a, 2, b'c', b'1', 0x30, 1]);
/// assert_eq!(Container::decode(&bytes), Ok(c));
/// ```
///
/// Field kinds: `int32 int64 uint32 uint64 sint32 sint64 fixed32 fixed64 sfixed32 sfixed64 bool
/// float double string bytes`, `secret` (a `string` whose `Debug` is redacted), `enum(E)`,
/// `message(M)`, `repeated(<kind>)` and `map(<scalar kind>, <kind>)`. Each struct gets
/// `Debug, Clone, Default, PartialEq` and an `impl Message`; every field is `pub`.
#[macro_export]
macro_rules! message {
    ($(
        $(#[$attr:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[$fattr:meta])*
                $num:literal => $field:ident : $kind:ident $( ( $($arg:tt)* ) )?
            ),* $(,)?
        }
    )*) => {$(
        $(#[$attr])*
        #[derive(Debug, Clone, Default, PartialEq)]
        $vis struct $name {
            $( $(#[$fattr])* pub $field: $crate::__proto_type!($kind $(($($arg)*))?), )*
        }

        impl $crate::proto::Message for $name {
            const INFO: &'static $crate::proto::MessageInfo = &$crate::proto::MessageInfo {
                name: stringify!($name),
                fields: &[$(
                    $crate::proto::FieldInfo {
                        number: $num,
                        name: stringify!($field),
                        kind: stringify!($kind $(($($arg)*))?),
                        nested: <$crate::__proto_field!($kind $(($($arg)*))?)
                            as $crate::proto::field::Field>::nested,
                    },
                )*],
            };

            fn encode_fields(&self, _w: &mut $crate::proto::Writer<'_>) {
                $(
                    <$crate::__proto_field!($kind $(($($arg)*))?) as $crate::proto::field::Field>
                        ::encode($num, &self.$field, _w);
                )*
            }

            fn encoded_len(&self) -> usize {
                0 $(
                    + <$crate::__proto_field!($kind $(($($arg)*))?) as $crate::proto::field::Field>
                        ::encoded_len($num, &self.$field)
                )*
            }

            fn merge_field(
                &mut self,
                number: u32,
                wire: $crate::proto::WireType,
                r: &mut $crate::proto::Reader<'_>,
            ) -> Result<(), $crate::proto::DecodeError> {
                match number {
                    $(
                        $num => <$crate::__proto_field!($kind $(($($arg)*))?)
                            as $crate::proto::field::Field>::merge(&mut self.$field, wire, r)
                            .map_err(|e| e.within(stringify!($name), stringify!($field))),
                    )*
                    _ => r.skip(number, wire),
                }
            }
        }
    )*};
}

/// Declares protobuf enums as open newtypes: `pub struct E(pub i32)` with one associated
/// constant per named value; numbers without a name are kept as they are.
#[macro_export]
macro_rules! enumeration {
    ($(
        $(#[$attr:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vattr:meta])* $variant:ident = $value:literal ),* $(,)?
        }
    )*) => {$(
        $(#[$attr])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        $vis struct $name(pub i32);

        impl $name {
            $( $(#[$vattr])* pub const $variant: $name = $name($value); )*

            /// The value's name, or `None` for a number this build does not name.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some(stringify!($variant)), )*
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "{}({})", stringify!($name), self.0),
                }
            }
        }

        impl From<i32> for $name {
            fn from(value: i32) -> $name {
                $name(value)
            }
        }

        impl From<$name> for i32 {
            fn from(value: $name) -> i32 {
                value.0
            }
        }

        impl $crate::proto::Enumeration for $name {
            const INFO: &'static $crate::proto::EnumInfo = &$crate::proto::EnumInfo {
                name: stringify!($name),
                values: &[$( (stringify!($variant), $value), )*],
            };
            fn from_i32(value: i32) -> $name {
                $name(value)
            }
            fn to_i32(self) -> i32 {
                self.0
            }
        }
    )*};
}

/// The Rust type of a field kind (used by `message!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __proto_type {
    (message($t:ty)) => { ::std::option::Option<$t> };
    (repeated($($k:tt)+)) => { ::std::vec::Vec<$crate::__proto_value!($($k)+)> };
    (map($k:ident, $($v:tt)+)) => {
        ::std::collections::BTreeMap<$crate::__proto_value!($k), $crate::__proto_value!($($v)+)>
    };
    ($($k:tt)+) => { $crate::__proto_value!($($k)+) };
}

/// The Rust type of one value of a kind (used by `message!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __proto_value {
    (int32) => { i32 };
    (int64) => { i64 };
    (uint32) => { u32 };
    (uint64) => { u64 };
    (sint32) => { i32 };
    (sint64) => { i64 };
    (fixed32) => { u32 };
    (fixed64) => { u64 };
    (sfixed32) => { i32 };
    (sfixed64) => { i64 };
    (bool) => { bool };
    (float) => { f32 };
    (double) => { f64 };
    (string) => { ::std::string::String };
    (bytes) => { ::std::vec::Vec<u8> };
    (secret) => { $crate::proto::Secret };
    (enum($t:ty)) => { $t };
    (message($t:ty)) => { $t };
}

/// The codec marker of one value of a kind (used by `message!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __proto_kind {
    (int32) => { $crate::proto::kind::Int32 };
    (int64) => { $crate::proto::kind::Int64 };
    (uint32) => { $crate::proto::kind::Uint32 };
    (uint64) => { $crate::proto::kind::Uint64 };
    (sint32) => { $crate::proto::kind::Sint32 };
    (sint64) => { $crate::proto::kind::Sint64 };
    (fixed32) => { $crate::proto::kind::Fixed32 };
    (fixed64) => { $crate::proto::kind::Fixed64 };
    (sfixed32) => { $crate::proto::kind::Sfixed32 };
    (sfixed64) => { $crate::proto::kind::Sfixed64 };
    (bool) => { $crate::proto::kind::Bool };
    (float) => { $crate::proto::kind::Float };
    (double) => { $crate::proto::kind::Double };
    (string) => { $crate::proto::kind::Str };
    (bytes) => { $crate::proto::kind::Bytes };
    (secret) => { $crate::proto::kind::SecretStr };
    (enum($t:ty)) => { $crate::proto::kind::Enum<$t> };
    (message($t:ty)) => { $crate::proto::kind::Msg<$t> };
}

/// The field shape of a field kind (used by `message!`).
#[doc(hidden)]
#[macro_export]
macro_rules! __proto_field {
    (message($t:ty)) => { $crate::proto::field::Optional<$crate::__proto_kind!(message($t))> };
    (repeated($($k:tt)+)) => { $crate::proto::field::Repeated<$crate::__proto_kind!($($k)+)> };
    (map($k:ident, $($v:tt)+)) => {
        $crate::proto::field::Map<$crate::__proto_kind!($k), $crate::__proto_kind!($($v)+)>
    };
    ($($k:tt)+) => { $crate::proto::field::Singular<$crate::__proto_kind!($($k)+)> };
}
