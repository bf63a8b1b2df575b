use std::sync::Arc;
use std::time::Duration;

use super::cache::SystemClock;
use super::token::TokenReviewer;
use super::*;
use crate::api::authentication::{TokenReviewStatus, UserInfo};

struct Tokens;

impl TokenReviewer for Tokens {
    fn review(&self, token: &str) -> Result<TokenReviewStatus, String> {
        match token {
            "good" => Ok(TokenReviewStatus {
                authenticated: Some(true),
                user: Some(UserInfo { username: Some("alice".into()), groups: vec!["devs".into()], ..Default::default() }),
                ..Default::default()
            }),
            "down" => Err("webhook unreachable".into()),
            _ => Ok(TokenReviewStatus { authenticated: Some(false), ..Default::default() }),
        }
    }
}

fn authn(anonymous: bool) -> Authenticator {
    let token = TokenAuthenticator::new(Arc::new(Tokens), Duration::from_secs(120), Arc::new(SystemClock));
    Authenticator { x509: None, token: Some(token), anonymous }
}

fn with_auth(value: &str) -> Request {
    Request::get("/pods").with_header("Authorization", value)
}

#[test]
fn bearer_tokens() {
    let a = authn(false);
    let mut req = with_auth("Bearer good");
    let user = a.authenticate(&mut req, &[]);
    let want = User { name: "alice".into(), groups: vec!["devs".into(), AUTHENTICATED.into()], ..Default::default() };
    assert_eq!(user, Ok(want));
    assert_eq!(req.header("Authorization"), None, "the token is removed once it authenticated");
    assert_eq!(a.authenticate(&mut with_auth("bearer good"), &[]).map(|u| u.name), Ok("alice".into()));
    assert!(matches!(a.authenticate(&mut with_auth("Bearer nope"), &[]), Err(AuthnError::Rejected(e)) if e == ["invalid bearer token"]));
    assert!(matches!(a.authenticate(&mut with_auth("Bearer down"), &[]), Err(AuthnError::Rejected(_))));
    for ignored in ["Basic good", "Bearer", "Bearer  good", ""] {
        assert_eq!(a.authenticate(&mut with_auth(ignored), &[]), Err(AuthnError::NoCredentials), "{ignored:?}");
    }
    assert_eq!(a.authenticate(&mut Request::get("/pods"), &[]), Err(AuthnError::NoCredentials));
}

#[test]
fn anonymous_only_without_credentials() {
    let a = authn(true);
    assert_eq!(a.authenticate(&mut Request::get("/pods"), &[]), Ok(User::anonymous()));
    assert_eq!(User::anonymous().groups, [UNAUTHENTICATED]);
    // A bad token is refused, not downgraded to anonymous (upstream's FailOnError).
    assert!(a.authenticate(&mut with_auth("Bearer nope"), &[]).is_err());
    let none = Authenticator { x509: None, token: None, anonymous: false };
    assert!(!none.is_configured());
    assert_eq!(none.authenticate(&mut Request::get("/"), &[]), Err(AuthnError::NoCredentials));
}

fn websocket(protocols: &str) -> Request {
    Request::get("/exec/ns/p/c?command=sh")
        .with_header("Connection", "Upgrade")
        .with_header("Upgrade", "websocket")
        .with_header("Sec-WebSocket-Protocol", protocols)
}

#[test]
fn websocket_token_subprotocol() {
    let a = authn(false);
    // "good" is Z29vZA in unpadded base64url.
    let mut req = websocket("v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.Z29vZA, v4.channel.k8s.io");
    assert_eq!(a.authenticate(&mut req, &[]).map(|u| u.name), Ok("alice".into()));
    assert_eq!(req.header("Sec-WebSocket-Protocol"), Some("v5.channel.k8s.io,v4.channel.k8s.io"));
    let refused = [
        "base64url.bearer.authorization.k8s.io.Z29vZA",
        "v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.Z29vZA==",
        "v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.Z29vZA, base64url.bearer.authorization.k8s.io.Z29vZA",
    ];
    for p in refused {
        assert!(matches!(a.authenticate(&mut websocket(p), &[]), Err(AuthnError::Rejected(_))), "{p}");
    }
    // Not a WebSocket request: the subprotocol is not looked at.
    let mut plain = Request::get("/exec/ns/p/c").with_header("Sec-WebSocket-Protocol", "x, base64url.bearer.authorization.k8s.io.Z29vZA");
    assert_eq!(a.authenticate(&mut plain, &[]), Err(AuthnError::NoCredentials));
}

#[test]
fn base64url() {
    assert_eq!(base64url_decode("Z29vZA").as_deref(), Some(&b"good"[..]));
    assert_eq!(base64url_decode("-_8").as_deref(), Some(&[0xfb, 0xff][..]));
    for bad in ["Z29vZA==", "a", "+/", "Z2 9"] {
        assert_eq!(base64url_decode(bad), None, "{bad}");
    }
}
