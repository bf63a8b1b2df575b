//! The exact value of a quantity: parsing, comparison and canonical formatting.

use std::cmp::Ordering;

use super::{Format, QuantityError};

/// A parsed value: `mantissa × 10^exponent`, normalised so equal values are equal structs
/// (no trailing zeros in the mantissa; zero is `0 × 10^0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Amount {
    pub(super) mantissa: i128,
    pub(super) exponent: i32,
}

/// Finest unit kept, as upstream: nano (10^-9).
const MIN_EXPONENT: i32 = -9;
/// Guards the exponent arithmetic; no real quantity comes near.
const MAX_EXPONENT: i32 = 1000;

impl Amount {
    pub(super) fn normalised(mut mantissa: i128, mut exponent: i32) -> Amount {
        if mantissa == 0 {
            return Amount::default();
        }
        while mantissa % 10 == 0 {
            mantissa /= 10;
            exponent += 1;
        }
        Amount { mantissa, exponent }
    }

    /// `ceil_away_from_zero(value / 10^scale)` as an `i64`.
    pub(super) fn scaled(&self, scale: i32) -> Option<i64> {
        let shift = self.exponent - scale;
        let magnitude = self.mantissa.unsigned_abs();
        let scaled = if shift >= 0 {
            magnitude.checked_mul(pow10(u32::try_from(shift).ok()?)?)?
        } else {
            let divisor = u32::try_from(-shift).ok().and_then(pow10);
            match divisor {
                // More than 38 places below the unit: the value is a sliver above zero.
                None => 1,
                Some(d) => magnitude / d + u128::from(!magnitude.is_multiple_of(d)),
            }
        };
        let scaled = i64::try_from(scaled).ok()?;
        Some(if self.mantissa < 0 { -scaled } else { scaled })
    }

    pub(super) fn cmp_value(&self, other: &Amount) -> Ordering {
        let (a, b) = (self.mantissa.signum(), other.mantissa.signum());
        if a != b || a == 0 {
            return a.cmp(&b);
        }
        let magnitude = cmp_magnitude(self, other);
        if a < 0 {
            magnitude.reverse()
        } else {
            magnitude
        }
    }
}

/// Compares |x| and |y| for non-zero normalised amounts without overflowing.
fn cmp_magnitude(x: &Amount, y: &Amount) -> Ordering {
    let (mx, my) = (x.mantissa.unsigned_abs(), y.mantissa.unsigned_abs());
    // Order of magnitude of the leading digit first.
    let dx = i64::from(digits(mx)) + i64::from(x.exponent);
    let dy = i64::from(digits(my)) + i64::from(y.exponent);
    if dx != dy {
        return dx.cmp(&dy);
    }
    // Same leading position: align the shorter mantissa to the longer (at most 38 digits).
    let common = x.exponent.min(y.exponent);
    let align = |m: u128, e: i32| {
        u32::try_from(e - common)
            .ok()
            .and_then(pow10)
            .and_then(|p| m.checked_mul(p))
    };
    match (align(mx, x.exponent), align(my, y.exponent)) {
        (Some(ax), Some(ay)) => ax.cmp(&ay),
        // Unreachable for equal leading positions and ≤38 digits; keep a total order anyway.
        _ => x.exponent.cmp(&y.exponent),
    }
}

fn digits(mut m: u128) -> u32 {
    let mut n = 0;
    while m > 0 {
        m /= 10;
        n += 1;
    }
    n
}

fn pow10(n: u32) -> Option<u128> {
    10u128.checked_pow(n)
}

/// Splits `input` into sign, integer digits, fraction digits and suffix, following the
/// upstream grammar (`1.`, `.5` and a bare sign are numbers; `1.G` is allowed).
pub(super) fn parse_amount(input: &str) -> Result<(Amount, Format), QuantityError> {
    let err_number = || QuantityError::Number {
        input: input.to_string(),
    };
    let too_large = || QuantityError::TooLarge {
        input: input.to_string(),
    };
    if input.is_empty() {
        return Err(QuantityError::Empty {
            input: String::new(),
        });
    }
    let bytes = input.as_bytes();
    let mut pos = 0;
    let negative = match bytes.first() {
        Some(b'-') => {
            pos += 1;
            true
        }
        Some(b'+') => {
            pos += 1;
            false
        }
        _ => false,
    };
    let int_start = pos;
    while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
        pos += 1;
    }
    let int_digits = &input[int_start..pos];
    let mut frac_digits = "";
    if bytes.get(pos) == Some(&b'.') {
        pos += 1;
        let frac_start = pos;
        while bytes.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        frac_digits = &input[frac_start..pos];
    }
    // A suffix alone ("Mi") or a lone sign is not a number (upstream's grammar needs a digit).
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err(err_number());
    }
    let suffix = &input[pos..];
    let (base2, mut exponent, format) = parse_suffix(suffix).ok_or_else(|| {
        if suffix.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '-' || c == '+') {
            err_number()
        } else {
            QuantityError::Suffix {
                input: input.to_string(),
            }
        }
    })?;

    let mut mantissa: i128 = 0;
    for d in int_digits.bytes().chain(frac_digits.bytes()) {
        mantissa = mantissa
            .checked_mul(10)
            .and_then(|m| m.checked_add(i128::from(d - b'0')))
            .ok_or_else(too_large)?;
    }
    let frac_len = i32::try_from(frac_digits.len()).map_err(|_| too_large())?;
    exponent = exponent.checked_sub(frac_len).ok_or_else(too_large)?;
    if base2 > 0 {
        mantissa = mantissa.checked_mul(1i128 << base2).ok_or_else(too_large)?;
    }
    if negative {
        mantissa = -mantissa;
    }
    let mut amount = Amount::normalised(mantissa, exponent);
    if amount.exponent < MIN_EXPONENT && amount.mantissa != 0 {
        let nanos = amount.scaled(MIN_EXPONENT).ok_or_else(too_large)?;
        amount = Amount::normalised(i128::from(nanos), MIN_EXPONENT);
    }
    if amount.exponent > MAX_EXPONENT {
        return Err(too_large());
    }
    Ok((amount, format))
}

/// `(power of two, power of ten, format)` for a suffix; `None` if unknown.
fn parse_suffix(suffix: &str) -> Option<(u32, i32, Format)> {
    let decimal = |e: i32| Some((0, e, Format::DecimalSI));
    let binary = |p: u32| Some((p, 0, Format::BinarySI));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ => {
            let rest = suffix.strip_prefix(['e', 'E'])?;
            let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let e: i32 = rest.parse().ok()?;
            (e.abs() <= MAX_EXPONENT).then_some((0, e, Format::DecimalExponent))
        }
    }
}

/// Upstream's canonical spelling: no fraction digits, the largest suffix that loses nothing.
pub(super) fn canonical(amount: Amount, format: Format) -> String {
    if amount.mantissa == 0 {
        return "0".to_string();
    }
    if format == Format::BinarySI
        && let Some(s) = canonical_binary(amount)
    {
        return s;
    }
    // Decimal: pick the exponent, a multiple of 3 not above the value's own, so the
    // mantissa is an integer.
    let e3 = amount.exponent.div_euclid(3) * 3;
    let pad = u32::try_from(amount.exponent - e3).unwrap_or(0);
    let Some(mantissa) = amount.mantissa.checked_mul(10i128.pow(pad)) else {
        // 37+ significant digits: keep the exact digits with a plain exponent.
        return format!("{}e{}", amount.mantissa, amount.exponent);
    };
    let suffix = match (format, e3) {
        (Format::DecimalExponent, 0) => String::new(),
        (Format::DecimalExponent, e) => format!("e{e}"),
        (_, -9) => "n".into(),
        (_, -6) => "u".into(),
        (_, -3) => "m".into(),
        (_, 0) => String::new(),
        (_, 3) => "k".into(),
        (_, 6) => "M".into(),
        (_, 9) => "G".into(),
        (_, 12) => "T".into(),
        (_, 15) => "P".into(),
        (_, 18) => "E".into(),
        (_, e) => format!("e{e}"),
    };
    format!("{mantissa}{suffix}")
}

/// Binary form for integers of magnitude 1024 or more; `None` means "use decimal".
fn canonical_binary(amount: Amount) -> Option<String> {
    let scale = i128::try_from(pow10(u32::try_from(amount.exponent).ok()?)?).ok()?;
    let mut value = amount.mantissa.checked_mul(scale)?;
    if value.unsigned_abs() < 1024 {
        return None;
    }
    let mut power = 0;
    while power < 6 && value % 1024 == 0 {
        value /= 1024;
        power += 1;
    }
    let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][power];
    Some(format!("{value}{suffix}"))
}
