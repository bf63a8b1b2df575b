//! HTTP/1.1 for the kubelet API port: our own, because the server must see the client's
//! certificate and hand upgraded connections (exec, attach, port-forward) to the streaming
//! proxy, which tiny_http cannot do.
//!
//! | module | what |
//! | --- | --- |
//! | [`request`] | the request head, parsed from bytes (sans-I/O), and body framing |
//! | [`chunked`] | chunked request bodies, decoded incrementally (sans-I/O) |
//! | [`url`] | percent-decoding of paths and queries |
//! | [`response`] | writing whole responses, heads and chunked bodies |
//! | [`reader`] | reading one request at a time from a connection, with deadlines |

pub mod chunked;
pub mod reader;
pub mod request;
pub mod response;
pub mod url;

pub use request::{BodyKind, Head, Limits, ParseError, Version};
pub use response::{Framing, Response};

/// One request: its head and its (already read, bounded) body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub head: Head,
    pub body: Vec<u8>,
}

impl Request {
    pub fn method(&self) -> &str {
        &self.head.method
    }

    /// The percent-decoded path.
    pub fn path(&self) -> &str {
        &self.head.path
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }

    /// The decoded query pairs, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        url::parse_query(&self.head.raw_query)
    }

    /// The first value of query parameter `name`.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query().into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Every value of query parameter `name` (e.g. exec's repeated `command`).
    pub fn query_values(&self, name: &str) -> Vec<String> {
        self.query().into_iter().filter(|(k, _)| k == name).map(|(_, v)| v).collect()
    }

    /// The parameters of an `application/x-www-form-urlencoded` body.
    pub fn form(&self) -> Vec<(String, String)> {
        let urlencoded = self
            .header("Content-Type")
            .is_some_and(|t| t.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded")));
        if !urlencoded {
            return Vec::new();
        }
        url::parse_query(&String::from_utf8_lossy(&self.body))
    }

    /// A request made of a method and target alone (tests, internal calls).
    pub fn get(target: &str) -> Request {
        Request::with_method("GET", target)
    }

    pub fn with_method(method: &str, target: &str) -> Request {
        let (path, raw_query) = url::split_target(target).unwrap_or_else(|_| (target.to_string(), String::new()));
        let head = Head {
            method: method.to_string(),
            target: target.to_string(),
            path,
            raw_query,
            version: Version::Http11,
            headers: Vec::new(),
        };
        Request { head, body: Vec::new() }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Request {
        self.head.headers.push((name.to_string(), value.to_string()));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_form_access() {
        let mut r = Request::with_method("POST", "/run/ns/p/c?cmd=ls+-l&x=1&x=2")
            .with_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
        r.body = b"cmd=date".to_vec();
        assert_eq!(r.query_value("cmd").as_deref(), Some("ls -l"));
        assert_eq!(r.query_values("x"), vec!["1", "2"]);
        assert_eq!(r.query_value("none"), None);
        assert_eq!(r.form(), vec![("cmd".to_string(), "date".to_string())]);
        assert!(Request::get("/x").form().is_empty());
    }
}
