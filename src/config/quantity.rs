//! Kubernetes resource quantities as text ("10Mi", "1.5G", "100m", "1e3"): enough to check
//! one and to read it as a byte count.

#![forbid(unsafe_code)]

/// The value of a quantity rounded up to a whole number, as upstream's `Quantity.Value()`;
/// `None` when the text is not a quantity or the value does not fit.
pub fn parse_whole(text: &str) -> Option<i128> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let number_len = body.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(body.len());
    let (number, suffix) = body.split_at(number_len);
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && frac.is_empty() || frac.contains('.') || whole.len() + frac.len() > 30 {
        return None;
    }
    // value = digits * 10^(exp10) * 2^(exp2), with digits = whole ++ frac.
    let digits: i128 = format!("{whole}{frac}").parse().ok()?;
    let frac_len = i32::try_from(frac.len()).ok()?;
    let (exp2, exp10) = match suffix {
        "Ki" => (10, 0),
        "Mi" => (20, 0),
        "Gi" => (30, 0),
        "Ti" => (40, 0),
        "Pi" => (50, 0),
        "Ei" => (60, 0),
        "n" => (0, -9),
        "u" => (0, -6),
        "m" => (0, -3),
        "" => (0, 0),
        "k" => (0, 3),
        "M" => (0, 6),
        "G" => (0, 9),
        "T" => (0, 12),
        "P" => (0, 15),
        "E" => (0, 18),
        exp => {
            let rest = exp.strip_prefix(['e', 'E'])?;
            let n: i32 = rest.parse().ok()?;
            if rest.starts_with('+') || !(-30..=30).contains(&n) {
                return None;
            }
            (0, n)
        }
    };
    let exp10 = exp10 - frac_len;
    let mut value = digits.checked_mul(1i128.checked_shl(exp2)?)?;
    if exp10 >= 0 {
        value = value.checked_mul(10i128.checked_pow(u32::try_from(exp10).ok()?)?)?;
    } else {
        let div = 10i128.checked_pow(u32::try_from(-exp10).ok()?)?;
        value = (value + div - 1) / div;
    }
    Some(if negative { -value } else { value })
}

/// A quantity read as a non-negative byte count.
pub fn parse_bytes(text: &str) -> Option<u64> {
    parse_whole(text).and_then(|v| u64::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_suffixes() {
        assert_eq!(parse_bytes("10Mi"), Some(10 * 1024 * 1024));
        assert_eq!(parse_bytes("256Ki"), Some(256 * 1024));
        assert_eq!(parse_bytes("1G"), Some(1_000_000_000));
        assert_eq!(parse_bytes("1.5Ki"), Some(1536));
        assert_eq!(parse_bytes("0"), Some(0));
        assert_eq!(parse_bytes("1e3"), Some(1000));
        assert_eq!(parse_bytes("100m"), Some(1), "rounded up as Value() does");
        assert_eq!(parse_whole("-5Mi"), Some(-5 * 1024 * 1024));
    }

    #[test]
    fn rejects_non_quantities() {
        for bad in ["", "Mi", "10MB", "1.2.3", "ten", "10 Mi", "-", "1e"] {
            assert_eq!(parse_whole(bad), None, "{bad:?}");
        }
        assert_eq!(parse_bytes("-1"), None);
    }
}
