//! `metav1.Time` and `metav1.MicroTime`: RFC 3339 timestamps in UTC.
//!
//! [`Time`] holds whole seconds since the Unix epoch and is written as
//! `2006-01-02T15:04:05Z`; [`MicroTime`] holds microseconds and is written as
//! `2006-01-02T15:04:05.000000Z`, as upstream writes them. Reading accepts any RFC 3339
//! offset (converted to UTC) and any fraction (truncated). Years are limited to 0000-9999,
//! the range RFC 3339 can spell.
#![forbid(unsafe_code)]

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A malformed or out-of-range timestamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeError {
    pub input: String,
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "timestamp {:?} is not RFC 3339 (YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM))",
            self.input
        )
    }
}

impl std::error::Error for TimeError {}

/// Seconds from 0000-01-01T00:00:00Z to the Unix epoch, and from the epoch to
/// 9999-12-31T23:59:59Z: the representable range.
const MIN_UNIX: i64 = -62_167_219_200;
const MAX_UNIX: i64 = 253_402_300_799;

/// A point in time with second precision (`metav1.Time`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time(i64);

/// A point in time with microsecond precision (`metav1.MicroTime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MicroTime(i64);

impl Time {
    pub fn from_unix(seconds: i64) -> Time {
        Time(seconds.clamp(MIN_UNIX, MAX_UNIX))
    }

    pub fn unix_seconds(self) -> i64 {
        self.0
    }

    /// The current time, truncated to the second.
    pub fn now() -> Time {
        Time::from(SystemTime::now())
    }

    pub fn parse(input: &str) -> Result<Time, TimeError> {
        parse_rfc3339(input).map(|(secs, _)| Time(secs))
    }
}

impl MicroTime {
    pub fn from_unix_micros(micros: i64) -> MicroTime {
        MicroTime(micros.clamp(MIN_UNIX * 1_000_000, MAX_UNIX * 1_000_000 + 999_999))
    }

    pub fn unix_micros(self) -> i64 {
        self.0
    }

    /// The current time, truncated to the microsecond.
    pub fn now() -> MicroTime {
        MicroTime::from(SystemTime::now())
    }

    pub fn parse(input: &str) -> Result<MicroTime, TimeError> {
        parse_rfc3339(input).map(|(secs, micros)| MicroTime(secs * 1_000_000 + i64::from(micros)))
    }

    /// Drops the microseconds.
    pub fn to_time(self) -> Time {
        Time(self.0.div_euclid(1_000_000))
    }
}

impl From<Time> for MicroTime {
    fn from(t: Time) -> MicroTime {
        MicroTime(t.0 * 1_000_000)
    }
}

impl From<SystemTime> for Time {
    fn from(t: SystemTime) -> Time {
        Time::from_unix(MicroTime::from(t).0.div_euclid(1_000_000))
    }
}

impl From<SystemTime> for MicroTime {
    fn from(t: SystemTime) -> MicroTime {
        let micros = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
            Err(e) => {
                let before = e.duration();
                // Round towards the past so that the seconds part floors.
                let micros = before.as_micros() + u128::from(before.subsec_nanos() % 1000 != 0);
                i64::try_from(micros).map_or(i64::MIN, |m| -m)
            }
        };
        MicroTime::from_unix_micros(micros)
    }
}

impl From<MicroTime> for SystemTime {
    fn from(t: MicroTime) -> SystemTime {
        let magnitude = Duration::from_micros(t.0.unsigned_abs());
        if t.0 >= 0 {
            UNIX_EPOCH + magnitude
        } else {
            UNIX_EPOCH - magnitude
        }
    }
}

impl From<Time> for SystemTime {
    fn from(t: Time) -> SystemTime {
        SystemTime::from(MicroTime::from(t))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_date_time(f, self.0)?;
        f.write_str("Z")
    }
}

impl fmt::Display for MicroTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_date_time(f, self.0.div_euclid(1_000_000))?;
        write!(f, ".{:06}Z", self.0.rem_euclid(1_000_000))
    }
}

fn write_date_time(f: &mut fmt::Formatter<'_>, unix: i64) -> fmt::Result {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    write!(
        f,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

pub(crate) fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `(unix seconds, microseconds)` of an RFC 3339 timestamp.
fn parse_rfc3339(input: &str) -> Result<(i64, u32), TimeError> {
    let err = || TimeError {
        input: input.to_string(),
    };
    let t = Rfc3339::parse(input).ok_or_else(err)?;
    if !(MIN_UNIX..=MAX_UNIX).contains(&t.secs) {
        return Err(err());
    }
    Ok((t.secs, t.nanos / 1000))
}

/// An RFC 3339 time as written: the instant and the UTC offset it was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Rfc3339 {
    /// Seconds since the Unix epoch (UTC).
    pub secs: i64,
    pub nanos: u32,
    /// The offset from UTC, in seconds.
    pub offset: i32,
}

impl Rfc3339 {
    /// Reads an RFC 3339 time with any number of fraction digits (Go's lenient RFC3339Nano
    /// reading; digits beyond nanoseconds are dropped). `None` when it is not one.
    pub fn parse(input: &str) -> Option<Rfc3339> {
        let b = input.as_bytes();
        let num = |from: usize, len: usize| -> Option<i64> {
            let digits = b.get(from..from + len)?;
            digits.iter().try_fold(0i64, |acc, d| d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0')))
        };
        let sep = |at: usize, c: &[u8]| b.get(at).is_some_and(|x| c.contains(x));
        if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
            return None;
        }
        let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
        let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 59
        {
            return None;
        }
        let mut pos = 19;
        let mut nanos = 0u32;
        if b.get(pos) == Some(&b'.') {
            pos += 1;
            let start = pos;
            while let Some(d) = b.get(pos).filter(|d| d.is_ascii_digit()) {
                if pos - start < 9 {
                    nanos = nanos * 10 + u32::from(d - b'0');
                }
                pos += 1;
            }
            if pos == start {
                return None;
            }
            for _ in (pos - start)..9 {
                nanos *= 10;
            }
        }
        let offset = match b.get(pos) {
            Some(b'Z' | b'z') if pos + 1 == b.len() => 0,
            Some(&sign @ (b'+' | b'-')) if pos + 6 == b.len() && sep(pos + 3, b":") => {
                let (oh, om) = (num(pos + 1, 2)?, num(pos + 4, 2)?);
                if oh > 23 || om > 59 {
                    return None;
                }
                let off = i32::try_from(oh * 3600 + om * 60).ok()?;
                if sign == b'-' { -off } else { off }
            }
            _ => return None,
        };
        let local = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
        Some(Rfc3339 { secs: local - i64::from(offset), nanos, offset })
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl Serialize for MicroTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

struct TimeVisitor<T>(fn(&str) -> Result<T, TimeError>);

impl<T> Visitor<'_> for TimeVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 timestamp such as \"2024-05-01T12:00:00Z\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.0)(v).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TimeVisitor(Time::parse))
    }
}

impl<'de> Deserialize<'de> for MicroTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TimeVisitor(MicroTime::parse))
    }
}

#[cfg(test)]
#[path = "time_tests.rs"]
mod tests;
