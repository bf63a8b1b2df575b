//! Bearer tokens, judged by the API server (TokenReview), answers cached for
//! `authentication.webhook.cacheTTL`.
//!
//! As upstream's webhook token authenticator: no audiences are asked for; an unauthenticated
//! answer is cached like an authenticated one, an error is not; transport errors, 429 and
//! 5xx are retried with backoff (500 ms, ×1.5, 5 attempts).

use std::sync::Arc;
use std::time::Duration;

use super::User;
use super::cache::{Clock, TtlCache};
use crate::api::authentication::{TokenReview, TokenReviewSpec, TokenReviewStatus};
use crate::kubeclient::{self, ResourcePath};

/// Asks who a token belongs to.
pub trait TokenReviewer: Send + Sync {
    fn review(&self, token: &str) -> Result<TokenReviewStatus, String>;
}

/// The answer for one token: a user, or "not authenticated" (with the webhook's error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenAnswer {
    User(User),
    Unauthenticated,
}

pub struct TokenAuthenticator {
    reviewer: Arc<dyn TokenReviewer>,
    cache: TtlCache<Vec<u8>, TokenAnswer>,
    ttl: Duration,
}

const CACHE_CAPACITY: usize = 4096;

impl TokenAuthenticator {
    pub fn new(reviewer: Arc<dyn TokenReviewer>, ttl: Duration, clock: Arc<dyn Clock>) -> TokenAuthenticator {
        TokenAuthenticator { reviewer, cache: TtlCache::new(clock, CACHE_CAPACITY), ttl }
    }

    /// `Err` for a webhook failure or an error the reviewer reported.
    pub fn authenticate(&self, token: &str) -> Result<TokenAnswer, String> {
        // Keyed by a digest: the cache holds no tokens.
        let key = ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref().to_vec();
        if let Some(answer) = self.cache.get(&key) {
            return Ok(answer);
        }
        let status = self.reviewer.review(token)?;
        let answer = if status.authenticated == Some(true) {
            let info = status.user.unwrap_or_default();
            TokenAnswer::User(User {
                name: info.username.unwrap_or_default(),
                uid: info.uid.unwrap_or_default(),
                groups: info.groups,
                extra: info.extra,
            })
        } else if let Some(e) = status.error.filter(|e| !e.is_empty()) {
            return Err(e);
        } else {
            TokenAnswer::Unauthenticated
        };
        self.cache.put(key, answer.clone(), self.ttl);
        Ok(answer)
    }
}

/// TokenReviews through the API server client.
pub struct WebhookTokenReviewer {
    pub client: kubeclient::Client,
}

const RETRY_START: Duration = Duration::from_millis(500);
const RETRY_ATTEMPTS: u32 = 5;

/// Calls `f` until it succeeds, fails for good, or the attempts run out.
pub(crate) fn with_retries<T>(mut f: impl FnMut() -> Result<T, kubeclient::Error>) -> Result<T, String> {
    let mut delay = RETRY_START;
    let mut attempt = 1;
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) if e.is_transient() && attempt < RETRY_ATTEMPTS => {
                log::debug!("webhook call failed (attempt {attempt}): {e}; retrying");
                std::thread::sleep(delay);
                delay = delay.mul_f64(1.5);
                attempt += 1;
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

impl TokenReviewer for WebhookTokenReviewer {
    fn review(&self, token: &str) -> Result<TokenReviewStatus, String> {
        let review = TokenReview {
            api_version: Some("authentication.k8s.io/v1".into()),
            kind: Some("TokenReview".into()),
            spec: TokenReviewSpec { token: token.to_string(), audiences: Vec::new() },
            ..Default::default()
        };
        let path = ResourcePath::new("authentication.k8s.io/v1", "tokenreviews");
        with_retries(|| self.client.create(&path, &review)).map(|r| r.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::authentication::UserInfo;
    use crate::server::auth::cache::FakeClock;
    use std::sync::Mutex;

    struct Fake {
        calls: Mutex<Vec<String>>,
    }

    impl TokenReviewer for Fake {
        fn review(&self, token: &str) -> Result<TokenReviewStatus, String> {
            self.calls.lock().map(|mut c| c.push(token.to_string())).unwrap_or_default();
            match token {
                "good" => Ok(TokenReviewStatus {
                    authenticated: Some(true),
                    user: Some(UserInfo { username: Some("alice".into()), groups: vec!["devs".into()], ..Default::default() }),
                    ..Default::default()
                }),
                "broken" => Err("connection refused".into()),
                "expired" => Ok(TokenReviewStatus { error: Some("token expired".into()), ..Default::default() }),
                _ => Ok(TokenReviewStatus { authenticated: Some(false), ..Default::default() }),
            }
        }
    }

    #[test]
    fn answers_are_cached_for_the_ttl_errors_are_not() {
        let fake = Arc::new(Fake { calls: Mutex::new(Vec::new()) });
        let clock = FakeClock::default();
        let auth = TokenAuthenticator::new(fake.clone(), Duration::from_secs(120), Arc::new(clock.clone()));
        let alice = auth.authenticate("good");
        assert!(matches!(&alice, Ok(TokenAnswer::User(u)) if u.name == "alice" && u.groups == ["devs"]));
        assert_eq!(auth.authenticate("good"), alice);
        assert_eq!(auth.authenticate("nobody"), Ok(TokenAnswer::Unauthenticated));
        assert_eq!(auth.authenticate("nobody"), Ok(TokenAnswer::Unauthenticated));
        assert_eq!(auth.authenticate("broken"), Err("connection refused".into()));
        assert_eq!(auth.authenticate("broken"), Err("connection refused".into()));
        assert_eq!(auth.authenticate("expired"), Err("token expired".into()));
        clock.advance(Duration::from_secs(121));
        assert_eq!(auth.authenticate("good"), alice);
        let calls = fake.calls.lock().map(|c| c.clone()).unwrap_or_default();
        assert_eq!(calls, ["good", "nobody", "broken", "broken", "expired", "good"]);
    }
}
