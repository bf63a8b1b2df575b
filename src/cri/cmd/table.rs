//! Plain-text tables as crictl prints them: left-aligned columns at least 20 wide and 3
//! spaces apart, truncated IDs, "5 seconds ago", "4.19MB".

use std::time::{SystemTime, UNIX_EPOCH};

/// How many characters of an ID a table shows (crictl's truncation).
const SHORT_ID: usize = 13;
const MIN_WIDTH: usize = 20;
const PADDING: usize = 3;

pub struct Table {
    header: &'static [&'static str],
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &'static [&'static str]) -> Table {
        Table { header, rows: Vec::new() }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let header: Vec<String> = self.header.iter().map(|h| h.to_string()).collect();
        let lines: Vec<&Vec<String>> = std::iter::once(&header).chain(&self.rows).collect();
        let columns = lines.iter().map(|l| l.len()).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                let widest = lines.iter().filter_map(|l| l.get(c)).map(|s| s.chars().count()).max();
                (widest.unwrap_or(0) + PADDING).max(MIN_WIDTH)
            })
            .collect();
        let mut out = String::new();
        for line in lines {
            let mut text = String::new();
            for (cell, width) in line.iter().zip(&widths) {
                text.push_str(cell);
                let pad = width.saturating_sub(cell.chars().count());
                text.extend(std::iter::repeat_n(' ', pad));
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }
}

/// The first 13 characters of an ID, without a `sha256:` prefix.
pub fn short_id(id: &str) -> String {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    id.chars().take(SHORT_ID).collect()
}

/// How long ago `created_ns` (nanoseconds since the epoch) was, in words.
pub fn since(created_ns: i64, now: SystemTime) -> String {
    let now_ns =
        now.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    let seconds = now_ns.saturating_sub(created_ns).max(0) / 1_000_000_000;
    format!("{} ago", human_duration(seconds))
}

/// A coarse duration in words, as Docker and crictl print ages.
pub fn human_duration(seconds: i64) -> String {
    const MINUTE: i64 = 60;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    let hours = (seconds + HOUR / 2) / HOUR; // rounded to the nearest hour
    match seconds {
        s if s < 1 => "Less than a second".to_string(),
        1 => "1 second".to_string(),
        s if s < MINUTE => format!("{s} seconds"),
        s if s < 2 * MINUTE => "About a minute".to_string(),
        s if s < HOUR => format!("{} minutes", s / MINUTE),
        _ if hours == 1 => "About an hour".to_string(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 14 => format!("{} days", hours / 24),
        _ if hours < 24 * 60 => format!("{} weeks", hours / (24 * 7)),
        _ if hours < 24 * 730 => format!("{} months", hours / (24 * 30)),
        s => format!("{} years", s / (365 * DAY)),
    }
}

/// A byte count in decimal units with three significant digits: `315kB`, `4.19MB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    // f64 is exact enough for three significant digits.
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    let mut text = format!("{value:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{text}{}", UNITS.get(unit).unwrap_or(&"B"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn columns_align_and_the_last_is_not_padded() {
        let mut t = Table::new(&["POD ID", "NAME"]);
        t.row(vec!["abc".into(), "web".into()]);
        t.row(vec!["a-very-long-identifier-value".into(), "db".into()]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], format!("{:<31}NAME", "POD ID"));
        assert_eq!(lines[1], format!("{:<31}web", "abc"));
        assert_eq!(lines[2], "a-very-long-identifier-value   db");
        let mut narrow = Table::new(&["A", "B"]);
        narrow.row(vec!["x".into(), "y".into()]);
        assert_eq!(narrow.render(), format!("{:<20}B\n{:<20}y\n", "A", "x"));
    }

    #[test]
    fn ids_are_shortened() {
        assert_eq!(short_id("sha256:1e65e6ab769caf884d7252098c6100c8"), "1e65e6ab769ca");
        assert_eq!(short_id("0123456789abcdef"), "0123456789abc");
        assert_eq!(short_id("short"), "short");
    }

    #[test]
    fn ages_in_words() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ago = |s: i64| since((1_700_000_000 - s) * 1_000_000_000, now);
        assert_eq!(ago(0), "Less than a second ago");
        assert_eq!(ago(-5), "Less than a second ago");
        assert_eq!(ago(1), "1 second ago");
        assert_eq!(ago(42), "42 seconds ago");
        assert_eq!(ago(90), "About a minute ago");
        assert_eq!(ago(30 * 60), "30 minutes ago");
        assert_eq!(ago(3600 + 60), "About an hour ago");
        assert_eq!(ago(5 * 3600), "5 hours ago");
        assert_eq!(ago(3 * 86400), "3 days ago");
        assert_eq!(ago(21 * 86400), "3 weeks ago");
        assert_eq!(ago(90 * 86400), "3 months ago");
        assert_eq!(ago(3 * 365 * 86400), "3 years ago");
        assert_eq!(since(0, now), "53 years ago");
    }

    #[test]
    fn sizes_in_decimal_units() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1000), "1kB");
        assert_eq!(human_size(315_392), "315kB");
        assert_eq!(human_size(4_194_304), "4.19MB");
        assert_eq!(human_size(12_345_678), "12.3MB");
        assert_eq!(human_size(1_500_000_000), "1.5GB");
        assert_eq!(human_size(u64::MAX), "18.4EB");
    }
}
