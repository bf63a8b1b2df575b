//! Who is asking, and may they: the kubelet API's authentication and authorization, as
//! upstream builds them from `authentication` and `authorization` in the config.
//!
//! ```text
//!   request ──► x509 (clientCAFile) ──► bearer token ──► WebSocket token subprotocol
//!                  │ first user found wins (+ group system:authenticated)
//!                  │ an error in any (bad certificate, invalid token) ──► 401, even with anonymous
//!                  └ nothing found ──► anonymous.enabled ? system:anonymous : 401
//!   user ──► attributes (nodes/<subresource>, verb) ──► AlwaysAllow | Webhook (SAR, cached)
//!                  any allowed ──► serve;  none ──► 403 Forbidden (...);  webhook error ──► 500
//! ```

pub mod attributes;
pub mod authz;
pub mod cache;
pub mod der;
pub mod token;
pub mod x509;

use std::collections::BTreeMap;

use rustls::pki_types::CertificateDer;

use crate::server::http::Request;
use token::{TokenAnswer, TokenAuthenticator};
use x509::X509Authenticator;

pub const ANONYMOUS: &str = "system:anonymous";
pub const UNAUTHENTICATED: &str = "system:unauthenticated";
pub const AUTHENTICATED: &str = "system:authenticated";
const WS_TOKEN_PREFIX: &str = "base64url.bearer.authorization.k8s.io.";

/// An authenticated (or anonymous) caller.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

impl User {
    pub fn anonymous() -> User {
        User { name: ANONYMOUS.into(), groups: vec![UNAUTHENTICATED.into()], ..Default::default() }
    }
}

/// How callers are identified.
pub struct Authenticator {
    pub x509: Option<X509Authenticator>,
    pub token: Option<TokenAuthenticator>,
    pub anonymous: bool,
}

/// Why a request is not authenticated; all answer 401 `Unauthorized`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthnError {
    /// No credentials, and anonymous requests are off.
    NoCredentials,
    /// Credentials were given and are not good (reason for the log only).
    Rejected(Vec<String>),
}

impl std::fmt::Display for AuthnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthnError::NoCredentials => f.write_str("no credentials and anonymous requests are disabled"),
            AuthnError::Rejected(reasons) => write!(f, "{}", reasons.join("; ")),
        }
    }
}

impl std::error::Error for AuthnError {}

impl Authenticator {
    /// Whether any method is configured (upstream refuses to start with none).
    pub fn is_configured(&self) -> bool {
        self.x509.is_some() || self.token.is_some() || self.anonymous
    }

    /// The caller of `req`. A token that authenticates is removed from the request (its
    /// `Authorization` field, or its WebSocket subprotocol), so no handler ever sees it.
    pub fn authenticate(&self, req: &mut Request, peer_certs: &[CertificateDer<'static>]) -> Result<User, AuthnError> {
        let mut errors = Vec::new();
        let mut found = None;
        if let Some(x509) = &self.x509 {
            match x509.authenticate(peer_certs) {
                Ok(user) => found = user,
                Err(e) => errors.push(e),
            }
        }
        if found.is_none()
            && let Some(tokens) = &self.token
        {
            found = self.bearer(tokens, req, &mut errors).or_else(|| self.websocket(tokens, req, &mut errors));
        }
        match found {
            Some(mut user) => {
                if !user.groups.iter().any(|g| g == AUTHENTICATED || g == UNAUTHENTICATED) {
                    user.groups.push(AUTHENTICATED.into());
                }
                Ok(user)
            }
            None if !errors.is_empty() => Err(AuthnError::Rejected(errors)),
            None if self.anonymous => Ok(User::anonymous()),
            None => Err(AuthnError::NoCredentials),
        }
    }

    fn check_token(tokens: &TokenAuthenticator, token: &str, errors: &mut Vec<String>) -> Option<User> {
        match tokens.authenticate(token) {
            Ok(TokenAnswer::User(u)) => Some(u),
            Ok(TokenAnswer::Unauthenticated) => {
                errors.push("invalid bearer token".into());
                None
            }
            Err(e) => {
                errors.push(e);
                None
            }
        }
    }

    fn bearer(&self, tokens: &TokenAuthenticator, req: &mut Request, errors: &mut Vec<String>) -> Option<User> {
        let value = req.header("Authorization")?.trim().to_string();
        let mut parts = value.splitn(3, ' ');
        let (Some(scheme), Some(token)) = (parts.next(), parts.next()) else { return None };
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return None;
        }
        let user = Self::check_token(tokens, token, errors)?;
        req.head.headers.retain(|(n, _)| !n.eq_ignore_ascii_case("Authorization"));
        Some(user)
    }

    /// A token in `Sec-WebSocket-Protocol: base64url.bearer.authorization.k8s.io.<token>`,
    /// beside at least one real subprotocol.
    fn websocket(&self, tokens: &TokenAuthenticator, req: &mut Request, errors: &mut Vec<String>) -> Option<User> {
        let is_websocket = req.head.is_upgrade() && req.header("Upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
        if !is_websocket {
            return None;
        }
        let protocols: Vec<String> = req.head.header_tokens("Sec-WebSocket-Protocol").map(str::to_string).collect();
        let (with_token, others): (Vec<&String>, Vec<&String>) = protocols.iter().partition(|p| p.starts_with(WS_TOKEN_PREFIX));
        let encoded = match with_token.as_slice() {
            [] => return None,
            [one] => one.trim_start_matches(WS_TOKEN_PREFIX),
            _ => {
                errors.push("multiple base64.bearer.authorization tokens specified".into());
                return None;
            }
        };
        let Some(token) = base64url_decode(encoded).and_then(|b| String::from_utf8(b).ok()) else {
            errors.push("invalid base64.bearer.authorization token encoding".into());
            return None;
        };
        if token.is_empty() {
            return None;
        }
        if others.is_empty() {
            errors.push("missing additional subprotocol".into());
            return None;
        }
        let user = Self::check_token(tokens, &token, errors)?;
        let kept = others.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
        req.head.headers.retain(|(n, _)| !n.eq_ignore_ascii_case("Sec-WebSocket-Protocol"));
        req.head.headers.push(("Sec-WebSocket-Protocol".into(), kept));
        Some(user)
    }
}

/// Unpadded base64url, as the WebSocket token subprotocol carries it.
fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    if s.bytes().any(|b| matches!(b, b'+' | b'/' | b'=' | b'\r' | b'\n')) || s.len() % 4 == 1 {
        return None;
    }
    let mut std: String = s.chars().map(|c| match c {
        '-' => '+',
        '_' => '/',
        c => c,
    }).collect();
    while !std.len().is_multiple_of(4) {
        std.push('=');
    }
    crate::api::bytes::base64_decode(&std).ok()
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;
