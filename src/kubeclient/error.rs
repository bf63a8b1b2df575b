//! Errors of API calls, and the `metav1.Status` the API server explains them with.

use std::fmt;

use serde::Deserialize;

/// `metav1.Status`: the body of every error response and of watch `ERROR` events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// "Success" or "Failure".
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub message: String,
    /// Machine-readable: NotFound, AlreadyExists, Conflict, Expired, Gone, Forbidden, ...
    #[serde(default)]
    pub reason: String,
    /// The HTTP status code the error maps to.
    #[serde(default)]
    pub code: i32,
    #[serde(default)]
    pub details: Option<StatusDetails>,
}

/// `metav1.StatusDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub uid: String,
    #[serde(default)]
    pub causes: Vec<StatusCause>,
    #[serde(default)]
    pub retry_after_seconds: Option<i32>,
}

/// `metav1.StatusCause`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct StatusCause {
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub field: String,
}

/// The reason the API server gives to a bare status code, for answers without a Status body
/// (client-go's `NewGenericServerResponse` does the same).
fn reason_for_code(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        410 => "Gone",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

/// An API call that failed. Every variant says which call (`method`, `path`).
#[derive(Debug)]
pub enum Error {
    /// The API server answered with an error status.
    Api {
        method: &'static str,
        path: String,
        code: u16,
        reason: String,
        message: String,
        /// `details.retryAfterSeconds` or the `Retry-After` header, if any.
        retry_after_seconds: Option<u32>,
    },
    /// The request could not be sent or the answer not received (DNS, TCP, TLS, HTTP framing).
    Transport { method: &'static str, path: String, detail: String },
    /// The request or the response body took longer than allowed.
    Timeout { method: &'static str, path: String },
    /// The response body is not the JSON we expected.
    Decode { method: &'static str, path: String, detail: String },
    /// Our request body could not be serialized, or the request itself is not valid (an
    /// empty or `..` name, an apply patch without a field manager).
    InvalidRequest { method: &'static str, path: String, detail: String },
}

impl Error {
    /// The error for a non-2xx answer, from its body if that is a Status.
    pub(crate) fn from_response(
        method: &'static str,
        path: &str,
        code: u16,
        body: &[u8],
        retry_after_header: Option<u32>,
    ) -> Error {
        let status =
            crate::api::json::decode::<Status>(body).ok().filter(|s| !s.reason.is_empty() || !s.message.is_empty());
        let (reason, message, retry) = match status {
            Some(s) => {
                let retry = s.details.as_ref().and_then(|d| d.retry_after_seconds).and_then(|r| u32::try_from(r).ok());
                let reason = if s.reason.is_empty() { reason_for_code(code).to_string() } else { s.reason };
                (reason, s.message, retry)
            }
            None => {
                // Not a Status (a proxy in between, or a plain-text 503): keep a bounded excerpt.
                let text = String::from_utf8_lossy(body);
                let excerpt: String = text.trim().chars().take(256).collect();
                (reason_for_code(code).to_string(), excerpt, None)
            }
        };
        Error::Api {
            method,
            path: path.to_string(),
            code,
            reason,
            message,
            retry_after_seconds: retry.or(retry_after_header),
        }
    }

    /// The error a watch `ERROR` event carries.
    pub fn from_status(method: &'static str, path: &str, status: &Status) -> Error {
        let code = u16::try_from(status.code).unwrap_or(500);
        let reason = if status.reason.is_empty() { reason_for_code(code) } else { &status.reason };
        Error::Api {
            method,
            path: path.to_string(),
            code,
            reason: reason.to_string(),
            message: status.message.clone(),
            retry_after_seconds: None,
        }
    }

    /// The HTTP code and reason, for API errors.
    pub fn api_status(&self) -> Option<(u16, &str)> {
        match self {
            Error::Api { code, reason, .. } => Some((*code, reason.as_str())),
            _ => None,
        }
    }

    fn is_api(&self, want_code: u16, want_reasons: &[&str]) -> bool {
        match self.api_status() {
            Some((code, reason)) => want_reasons.contains(&reason) || (code == want_code && reason == "Unknown"),
            None => false,
        }
    }

    /// 404: the object (or its namespace) does not exist.
    pub fn is_not_found(&self) -> bool {
        self.is_api(404, &["NotFound"])
    }

    /// 410: the resourceVersion asked for is too old (reason `Expired` or `Gone`); relist.
    pub fn is_gone(&self) -> bool {
        matches!(self.api_status(), Some((410, _))) || self.is_api(410, &["Expired", "Gone"])
    }

    /// 409 Conflict: the object changed since it was read (not AlreadyExists).
    pub fn is_conflict(&self) -> bool {
        self.is_api(409, &["Conflict"])
    }

    /// 409 AlreadyExists: a create of a name that is taken.
    pub fn is_already_exists(&self) -> bool {
        self.is_api(409, &["AlreadyExists"])
    }

    /// 403: authenticated but not allowed (RBAC, the Node authorizer, NodeRestriction).
    pub fn is_forbidden(&self) -> bool {
        self.is_api(403, &["Forbidden"])
    }

    /// 401: credentials missing, expired or not accepted.
    pub fn is_unauthorized(&self) -> bool {
        self.is_api(401, &["Unauthorized"])
    }

    /// 429, or a server asking to come back later.
    pub fn is_too_many_requests(&self) -> bool {
        self.is_api(429, &["TooManyRequests"])
    }

    /// 422: the object failed validation.
    pub fn is_invalid(&self) -> bool {
        self.is_api(422, &["Invalid"])
    }

    /// Whether trying again later may help (transport trouble, timeouts, 429, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::Api { code, .. } => *code == 429 || *code >= 500,
            Error::Decode { .. } | Error::InvalidRequest { .. } => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api { method, path, code, reason, message, .. } => {
                write!(f, "{method} {path}: {code} {reason}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            Error::Transport { method, path, detail } => write!(f, "{method} {path}: {detail}"),
            Error::Timeout { method, path } => write!(f, "{method} {path}: timed out"),
            Error::Decode { method, path, detail } => {
                write!(f, "{method} {path}: decoding the response: {detail}")
            }
            Error::InvalidRequest { method, path, detail } => {
                write!(f, "{method} {path}: invalid request: {detail}")
            }
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_status_bodies() {
        let body = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
            "message":"configmaps \"x\" not found","reason":"NotFound",
            "details":{"name":"x","kind":"configmaps"},"code":404}"#;
        let e = Error::from_response("GET", "/api/v1/namespaces/d/configmaps/x", 404, body, None);
        assert!(e.is_not_found());
        assert!(!e.is_conflict() && !e.is_gone() && !e.is_transient());
        assert_eq!(e.to_string(), "GET /api/v1/namespaces/d/configmaps/x: 404 NotFound: configmaps \"x\" not found");

        let conflict =
            br#"{"status":"Failure","reason":"Conflict","code":409,"message":"the object has been modified"}"#;
        let e = Error::from_response("PUT", "/p", 409, conflict, None);
        assert!(e.is_conflict() && !e.is_already_exists());

        let exists = br#"{"status":"Failure","reason":"AlreadyExists","code":409,"message":"exists"}"#;
        let e = Error::from_response("POST", "/p", 409, exists, None);
        assert!(e.is_already_exists() && !e.is_conflict());

        let expired =
            br#"{"status":"Failure","reason":"Expired","code":410,"message":"too old resource version: 1 (5)"}"#;
        assert!(Error::from_response("GET", "/p", 410, expired, None).is_gone());

        let throttled = br#"{"status":"Failure","reason":"TooManyRequests","code":429,"message":"slow down","details":{"retryAfterSeconds":3}}"#;
        match Error::from_response("GET", "/p", 429, throttled, Some(9)) {
            e @ Error::Api { retry_after_seconds: Some(3), .. } => {
                assert!(e.is_too_many_requests() && e.is_transient())
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn maps_bodies_that_are_not_status() {
        let e = Error::from_response("GET", "/p", 403, b"forbidden by proxy\n", None);
        assert!(e.is_forbidden());
        assert_eq!(e.to_string(), "GET /p: 403 Forbidden: forbidden by proxy");
        let e = Error::from_response("GET", "/p", 401, b"", Some(1));
        assert!(e.is_unauthorized());
        assert!(matches!(e, Error::Api { retry_after_seconds: Some(1), .. }));
        assert!(Error::from_response("GET", "/p", 503, b"<html>", None).is_transient());
        assert!(Error::from_response("GET", "/p", 410, b"{}", None).is_gone());
    }

    #[test]
    fn watch_error_status() {
        let status: Status = serde_json::from_str(
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 100 (200)","reason":"Expired","code":410}"#,
        )
        .expect("status");
        let e = Error::from_status("WATCH", "/api/v1/pods", &status);
        assert!(e.is_gone());
        assert_eq!(e.api_status(), Some((410, "Expired")));
    }
}
