//! Go `time.Duration` as text: what KubeletConfiguration durations and duration flags hold.
//!
//! Parsing accepts what Go's `time.ParseDuration` accepts (`"1m30s"`, `"1.5h"`, `"500ms"`,
//! `"0"`, a leading sign); formatting prints what Go's `Duration.String` prints (`"1m0s"`,
//! `"20s"`, `"2h0m0s"`, `"1.5s"`, `"100ms"`), so values we echo back (`/configz`, `--help`)
//! look like the upstream kubelet's. Negative durations parse (Go allows them); the fields
//! that must not be negative say so in validation.

#![forbid(unsafe_code)]

use std::fmt;

/// A signed count of nanoseconds, as Go's `time.Duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct GoDuration {
    nanos: i64,
}

/// A duration text that Go would reject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError {
    pub text: String,
    pub reason: &'static str,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid duration {:?}: {}", self.text, self.reason)
    }
}

impl std::error::Error for DurationError {}

const NANOS_PER_MICRO: u64 = 1_000;
const NANOS_PER_MILLI: u64 = 1_000_000;
const NANOS_PER_SEC: u64 = 1_000_000_000;
const NANOS_PER_MIN: u64 = 60 * NANOS_PER_SEC;
const NANOS_PER_HOUR: u64 = 60 * NANOS_PER_MIN;

impl GoDuration {
    pub const ZERO: GoDuration = GoDuration { nanos: 0 };

    pub const fn from_nanos(nanos: i64) -> Self {
        GoDuration { nanos }
    }

    pub const fn from_millis(ms: i64) -> Self {
        GoDuration { nanos: ms.saturating_mul(1_000_000) }
    }

    pub const fn from_secs(secs: i64) -> Self {
        GoDuration { nanos: secs.saturating_mul(1_000_000_000) }
    }

    pub const fn from_mins(mins: i64) -> Self {
        Self::from_secs(mins.saturating_mul(60))
    }

    pub const fn from_hours(hours: i64) -> Self {
        Self::from_secs(hours.saturating_mul(3600))
    }

    pub const fn nanos(self) -> i64 {
        self.nanos
    }

    pub const fn is_zero(self) -> bool {
        self.nanos == 0
    }

    pub const fn is_negative(self) -> bool {
        self.nanos < 0
    }

    /// The duration as a `std::time::Duration`; `None` when negative.
    pub fn to_std(self) -> Option<std::time::Duration> {
        u64::try_from(self.nanos).ok().map(std::time::Duration::from_nanos)
    }

    /// Parse Go duration text: an optional sign, then one or more `<number><unit>` parts
    /// (units `ns`, `us`/`µs`/`μs`, `ms`, `s`, `m`, `h`; numbers may have a fraction),
    /// or the bare `0`.
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        let err = |reason| DurationError { text: text.to_string(), reason };
        let (negative, body) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if body == "0" {
            return Ok(GoDuration::ZERO);
        }
        if body.is_empty() {
            return Err(err("empty"));
        }
        // Sum in u128 so that no part can overflow before the final range check.
        let mut total: u128 = 0;
        let mut rest = body;
        while !rest.is_empty() {
            let (whole, frac, after_number) = split_number(rest).ok_or_else(|| err("expected a number"))?;
            let unit_len = after_number.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(after_number.len());
            let (unit, after_unit) = after_number.split_at(unit_len);
            let per_unit = unit_nanos(unit).ok_or_else(|| {
                if unit.is_empty() { err("missing unit") } else { err("unknown unit") }
            })?;
            let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| err("number too large"))? };
            let mut part = whole.checked_mul(u128::from(per_unit)).ok_or_else(|| err("number too large"))?;
            if !frac.is_empty() {
                // Twenty digits are beyond nanosecond precision for every unit and keep the
                // product within u128.
                let digits = &frac[..frac.len().min(20)];
                let numerator: u128 = digits.parse().map_err(|_| err("bad fraction"))?;
                let scale = 10u128.pow(u32::try_from(digits.len()).unwrap_or(20));
                part += numerator * u128::from(per_unit) / scale;
            }
            total = total.checked_add(part).ok_or_else(|| err("number too large"))?;
            rest = after_unit;
        }
        let limit = if negative { 1u128 << 63 } else { (1u128 << 63) - 1 };
        if total > limit {
            return Err(err("out of range"));
        }
        let nanos = if negative {
            // total <= 2^63, so the negation fits (i64::MIN included).
            i64::try_from(total).map(|n| -n).unwrap_or(i64::MIN)
        } else {
            i64::try_from(total).map_err(|_| err("out of range"))?
        };
        Ok(GoDuration { nanos })
    }
}

/// Split `<digits>[.<digits>]` off the front; at least one digit overall.
fn split_number(s: &str) -> Option<(&str, &str, &str)> {
    let whole_len = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (whole, after) = s.split_at(whole_len);
    let (frac, after) = match after.strip_prefix('.') {
        Some(tail) => {
            let frac_len = tail.find(|c: char| !c.is_ascii_digit()).unwrap_or(tail.len());
            tail.split_at(frac_len)
        }
        None => ("", after),
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    Some((whole, frac, after))
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => NANOS_PER_MICRO,
        "ms" => NANOS_PER_MILLI,
        "s" => NANOS_PER_SEC,
        "m" => NANOS_PER_MIN,
        "h" => NANOS_PER_HOUR,
        _ => return None,
    })
}

/// `value / 10^prec` as digits with the trailing zeros of the fraction dropped.
fn push_scaled(out: &mut String, value: u64, prec: u32) {
    let scale = 10u64.pow(prec);
    out.push_str(&(value / scale).to_string());
    let frac = value % scale;
    if frac != 0 {
        let digits = format!("{frac:0width$}", width = prec as usize);
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        if self.nanos < 0 {
            out.push('-');
        }
        let u = self.nanos.unsigned_abs();
        if u == 0 {
            out.push_str("0s");
        } else if u < NANOS_PER_MICRO {
            push_scaled(&mut out, u, 0);
            out.push_str("ns");
        } else if u < NANOS_PER_MILLI {
            push_scaled(&mut out, u, 3);
            out.push_str("\u{b5}s");
        } else if u < NANOS_PER_SEC {
            push_scaled(&mut out, u, 6);
            out.push_str("ms");
        } else {
            // Go prints hours and minutes only when non-zero, but always the seconds.
            let hours = u / NANOS_PER_HOUR;
            let minutes = (u % NANOS_PER_HOUR) / NANOS_PER_MIN;
            let seconds_nanos = u % NANOS_PER_MIN;
            if hours > 0 {
                out.push_str(&format!("{hours}h"));
            }
            if hours > 0 || minutes > 0 {
                out.push_str(&format!("{minutes}m"));
            }
            push_scaled(&mut out, seconds_nanos, 9);
            out.push('s');
        }
        f.write_str(&out)
    }
}

impl std::str::FromStr for GoDuration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GoDuration::parse(s)
    }
}

impl serde::Serialize for GoDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for GoDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        GoDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> i64 {
        match GoDuration::parse(s) {
            Ok(d) => d.nanos(),
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn parses_go_forms() {
        assert_eq!(p("1m30s"), 90 * 1_000_000_000);
        assert_eq!(p("20s"), 20_000_000_000);
        assert_eq!(p("1h"), 3_600_000_000_000);
        assert_eq!(p("500ms"), 500_000_000);
        assert_eq!(p("1.5h"), 5_400_000_000_000);
        assert_eq!(p("0"), 0);
        assert_eq!(p("0s"), 0);
        assert_eq!(p("-1s"), -1_000_000_000);
        assert_eq!(p("+2m"), 120_000_000_000);
        assert_eq!(p("1h2m3s4ms5us6ns"), 3_723_004_005_006);
        assert_eq!(p("1\u{b5}s"), 1_000);
        assert_eq!(p("1\u{3bc}s"), 1_000);
        assert_eq!(p(".5s"), 500_000_000);
        assert_eq!(p("1.s"), 1_000_000_000);
        assert_eq!(p("2562047h47m16.854775807s"), i64::MAX);
        assert_eq!(p("-2562047h47m16.854775808s"), i64::MIN);
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in ["", "-", "1", "10", "s", "1x", ".s", "1.2.3s", "1s ", " 1s", "2562047h47m16.854775808s", "99999999999999999999h"] {
            assert!(GoDuration::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn formats_as_go_does() {
        let cases = [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1\u{b5}s"),
            (2_200_000, "2.2ms"),
            (500_000_000, "500ms"),
            (1_000_000_000, "1s"),
            (1_500_000_000, "1.5s"),
            (20_000_000_000, "20s"),
            (60_000_000_000, "1m0s"),
            (90_000_000_000, "1m30s"),
            (120_000_000_000, "2m0s"),
            (3_600_000_000_000, "1h0m0s"),
            (4 * 3_600_000_000_000, "4h0m0s"),
            (3_723_000_000_001, "1h2m3.000000001s"),
            (-1_000_000_000, "-1s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ];
        for (nanos, text) in cases {
            assert_eq!(GoDuration::from_nanos(nanos).to_string(), text);
            assert_eq!(GoDuration::parse(text).map(GoDuration::nanos), Ok(nanos), "round trip of {text}");
        }
    }

    #[test]
    fn serde_uses_text() {
        let d: GoDuration = serde_json::from_str("\"1m30s\"").unwrap_or_default();
        assert_eq!(d, GoDuration::from_secs(90));
        assert_eq!(serde_json::to_string(&GoDuration::from_mins(2)).ok().as_deref(), Some("\"2m0s\""));
        assert!(serde_json::from_str::<GoDuration>("90").is_err());
        assert!(serde_json::from_str::<GoDuration>("\"ninety\"").is_err());
    }

    #[test]
    fn std_conversion_refuses_negative() {
        assert_eq!(GoDuration::from_secs(2).to_std(), Some(std::time::Duration::from_secs(2)));
        assert_eq!(GoDuration::from_secs(-2).to_std(), None);
    }
}
