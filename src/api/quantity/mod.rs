//! `resource.Quantity`: a fixed-point number with an SI, binary-SI or exponent suffix
//! (`100m`, `1.5Gi`, `12e6`).
//!
//! A [`Quantity`] keeps the string it was read from, so objects round-trip byte for byte,
//! and the exact value parsed from it, so that comparisons and conversions never go through
//! floating point. The value is `mantissa × 10^exponent` with an `i128` mantissa; binary
//! suffixes are multiplied out when parsing (`1Ki` is `1024 × 10^0`).
//!
//! As upstream, a value finer than 1n is rounded away from zero to the next nano-unit, and
//! conversions to integers round away from zero (`0.1` is 1 as an integer, `0.5m` is 1
//! milli-unit). Unlike upstream, values are not capped at 2^63-1; integer conversions report
//! overflow instead, and a mantissa of more than 38 significant digits is refused.
#![forbid(unsafe_code)]

use std::cmp::Ordering;
use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod amount;

use amount::{Amount, canonical, parse_amount};

/// Why a quantity string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuantityError {
    /// The empty string.
    Empty { input: String },
    /// The number part is missing or malformed.
    Number { input: String },
    /// The suffix is none of the known ones.
    Suffix { input: String },
    /// The value does not fit our representation (over 38 significant digits, or an
    /// exponent beyond ±1000).
    TooLarge { input: String },
}

impl fmt::Display for QuantityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty { input } => write!(f, "quantity {input:?}: empty"),
            Self::Number { input } => write!(f, "quantity {input:?}: malformed number"),
            Self::Suffix { input } => write!(f, "quantity {input:?}: unknown suffix"),
            Self::TooLarge { input } => write!(f, "quantity {input:?}: too large or too precise"),
        }
    }
}

impl std::error::Error for QuantityError {}

/// How a quantity was written; decides the suffixes of its canonical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `k`, `M`, `m`, ... or no suffix.
    #[default]
    DecimalSI,
    /// `Ki`, `Mi`, ...
    BinarySI,
    /// `e3`, `E-2`, ...
    DecimalExponent,
}

/// A `resource.Quantity`: the original string plus its exact value.
#[derive(Debug, Clone)]
pub struct Quantity {
    raw: String,
    amount: Amount,
    format: Format,
}

impl Default for Quantity {
    fn default() -> Self {
        Quantity {
            raw: "0".to_string(),
            amount: Amount::default(),
            format: Format::DecimalSI,
        }
    }
}

impl Quantity {
    /// Parses a quantity string (no surrounding whitespace).
    pub fn parse(input: &str) -> Result<Quantity, QuantityError> {
        let (amount, format) = parse_amount(input)?;
        Ok(Quantity {
            raw: input.to_string(),
            amount,
            format,
        })
    }

    /// A quantity of `millis` thousandths in canonical decimal form (`250m`, `2`).
    pub fn from_milli(millis: i64) -> Quantity {
        Quantity::from_amount(
            Amount::normalised(i128::from(millis), -3),
            Format::DecimalSI,
        )
    }

    /// An integer quantity in canonical decimal form (`110`, `5k`).
    pub fn from_decimal(value: i64) -> Quantity {
        Quantity::from_amount(Amount::normalised(i128::from(value), 0), Format::DecimalSI)
    }

    /// A byte count in canonical binary form (`2Gi`, `1536Mi`, `1025`; below 1024 upstream
    /// switches to decimal suffixes, so 1000 is `1k`).
    pub fn from_bytes(bytes: i64) -> Quantity {
        Quantity::from_amount(Amount::normalised(i128::from(bytes), 0), Format::BinarySI)
    }

    fn from_amount(amount: Amount, format: Format) -> Quantity {
        Quantity {
            raw: canonical(amount, format),
            amount,
            format,
        }
    }

    /// The string as it was read (or built).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The string upstream would write for this value (`1.5` → `1500m`, `1.5Gi` → `1536Mi`).
    pub fn canonical(&self) -> String {
        canonical(self.amount, self.format)
    }

    /// How the quantity was written.
    pub fn format(&self) -> Format {
        self.format
    }

    pub fn is_zero(&self) -> bool {
        self.amount.mantissa == 0
    }

    /// The value in thousandths, rounded away from zero; `None` if beyond `i64`.
    pub fn milli_value(&self) -> Option<i64> {
        self.amount.scaled(-3)
    }

    /// The value as an integer (bytes for memory), rounded away from zero; `None` if beyond
    /// `i64`.
    pub fn value(&self) -> Option<i64> {
        self.amount.scaled(0)
    }
}

impl PartialEq for Quantity {
    /// Quantities are equal when their values are: `1Ki == 1024`, `0.5 == 500m`.
    fn eq(&self, other: &Self) -> bool {
        self.amount == other.amount
    }
}

impl Eq for Quantity {}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.amount.cmp_value(&other.amount)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl std::str::FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    /// Accepts a string or a number (`cpu: 1` in YAML, `"cpu": 0.5` in JSON), as upstream.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(QuantityVisitor)
    }
}

struct QuantityVisitor;

impl Visitor<'_> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a quantity such as \"100m\" or \"1Gi\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
        Quantity::parse(v.trim()).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
        if !v.is_finite() {
            return Err(E::custom(format!("quantity {v} is not finite")));
        }
        // Display of f64 never uses exponent notation and is the shortest exact spelling.
        self.visit_str(&v.to_string())
    }
}

#[cfg(test)]
mod tests;
