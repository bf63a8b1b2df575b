//! Kubernetes resource quantities as text ("10Mi", "1.5G", "100m", "1e3"), read the way the
//! config needs them: a thin view over [`crate::api::Quantity`], which owns the parsing.

#![forbid(unsafe_code)]

use crate::api::Quantity;

/// The value of a quantity rounded up to a whole number, as upstream's `Quantity.Value()`;
/// `None` when the text is not a quantity or the value does not fit.
pub fn parse_whole(text: &str) -> Option<i128> {
    Quantity::parse(text).ok()?.value().map(i128::from)
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
