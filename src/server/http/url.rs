//! Request targets: percent-decoding of the path and `application/x-www-form-urlencoded`
//! queries, as Go's `net/url` reads them (the kubelet's routes and parameters are Go's).

#![forbid(unsafe_code)]

/// A `%` not followed by two hex digits, or bytes that are not UTF-8 once decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError {
    pub input: String,
}

impl std::fmt::Display for UrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid URL escape in {:?}", self.input)
    }
}

impl std::error::Error for UrlError {}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, as in queries).
pub fn percent_decode(input: &str, plus_is_space: bool) -> Result<String, UrlError> {
    let err = || UrlError { input: input.chars().take(200).collect() };
    String::from_utf8(percent_decode_bytes(input, plus_is_space).ok_or_else(err)?).map_err(|_| err())
}

/// The bytes `%XX` escapes stand for; `None` on a bad escape.
pub fn percent_decode_bytes(input: &str, plus_is_space: bool) -> Option<Vec<u8>> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex)?;
                let lo = bytes.get(i + 2).copied().and_then(hex)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

/// Escapes what may not appear literally in a query value.
pub fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The pairs of a query string in order. Like Go's `URL.Query()`, a pair that does not
/// decode (or holds a `;`) is dropped rather than failing the whole query; a key without
/// `=` has the empty value.
pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty() && !pair.contains(';'))
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(k, true).ok()?, percent_decode(v, true).ok()?))
        })
        .collect()
}

/// Splits a request target into its decoded path and raw query. Absolute-form targets
/// (`http://host/path`) lose their scheme and authority, as a server must accept them.
pub fn split_target(target: &str) -> Result<(String, String), UrlError> {
    let without_fragment = target.split('#').next().unwrap_or_default();
    let (path, query) = without_fragment.split_once('?').unwrap_or((without_fragment, ""));
    let path = match path.split_once("://") {
        Some((scheme, rest)) if !scheme.contains('/') => rest.find('/').map_or("/", |i| rest.get(i..).unwrap_or("/")),
        _ => path,
    };
    Ok((percent_decode(path, false)?, query.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_rejects_bad_ones() {
        assert_eq!(percent_decode("a%20b+c", false).as_deref(), Ok("a b+c"));
        assert_eq!(percent_decode("a%20b+c", true).as_deref(), Ok("a b c"));
        assert_eq!(percent_decode("%2Fx%2f", false).as_deref(), Ok("/x/"));
        for bad in ["%", "%2", "%zz", "a%g1", "%ff"] {
            assert!(percent_decode(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn queries_keep_order_and_drop_bad_pairs() {
        let q = parse_query("command=sh&command=-c&command=echo+hi%21&flag&bad=%zz&x=1;y=2&&tty=");
        let want: Vec<(String, String)> = [("command", "sh"), ("command", "-c"), ("command", "echo hi!"), ("flag", ""), ("tty", "")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(q, want);
        assert!(parse_query("").is_empty());
    }

    #[test]
    fn targets_split_into_path_and_query() {
        assert_eq!(split_target("/pods?x=1#f"), Ok(("/pods".into(), "x=1".into())));
        assert_eq!(split_target("/a%20b"), Ok(("/a b".into(), String::new())));
        assert_eq!(split_target("http://node:10250/pods?y"), Ok(("/pods".into(), "y".into())));
        assert_eq!(split_target("https://node"), Ok(("/".into(), String::new())));
        assert!(split_target("/%zz").is_err());
    }

    #[test]
    fn escape_round_trips() {
        let s = "echo 'a&b=c' /tmp/ü";
        assert_eq!(percent_decode(&query_escape(s), true).as_deref(), Ok(s));
    }
}
