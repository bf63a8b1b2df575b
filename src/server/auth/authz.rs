//! Authorization: `AlwaysAllow`, or `Webhook` (a SubjectAccessReview per question, answers
//! cached for cacheAuthorizedTTL when allowed and cacheUnauthorizedTTL otherwise; errors are
//! not cached).

use std::sync::Arc;
use std::time::Duration;

use super::attributes::Attributes;
use super::cache::{Clock, TtlCache};
use super::token::with_retries;
use crate::api::authorization::{ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec, SubjectAccessReviewStatus};
use crate::kubeclient::{self, ResourcePath};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny,
    NoOpinion,
}

/// Asks whether a user may do something.
pub trait AccessReviewer: Send + Sync {
    fn review(&self, spec: &SubjectAccessReviewSpec) -> Result<SubjectAccessReviewStatus, String>;
}

pub enum Authorizer {
    AlwaysAllow,
    Webhook(WebhookAuthorizer),
}

impl Authorizer {
    /// `Err` when the webhook could not answer (the server says 500).
    pub fn authorize(&self, attrs: &Attributes) -> Result<Decision, String> {
        match self {
            Authorizer::AlwaysAllow => Ok(Decision::Allow),
            Authorizer::Webhook(w) => w.authorize(attrs),
        }
    }
}

pub struct WebhookAuthorizer {
    reviewer: Arc<dyn AccessReviewer>,
    cache: TtlCache<String, Decision>,
    allowed_ttl: Duration,
    denied_ttl: Duration,
}

const CACHE_CAPACITY: usize = 4096;

/// The SubjectAccessReview spec for one question.
pub fn review_spec(attrs: &Attributes) -> SubjectAccessReviewSpec {
    let u = &attrs.user;
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    SubjectAccessReviewSpec {
        resource_attributes: Some(ResourceAttributes {
            verb: non_empty(&attrs.verb),
            version: non_empty(&attrs.api_version),
            resource: non_empty(&attrs.resource),
            subresource: non_empty(&attrs.subresource),
            name: non_empty(&attrs.name),
            ..Default::default()
        }),
        non_resource_attributes: None,
        user: non_empty(&u.name),
        groups: u.groups.clone(),
        extra: u.extra.clone(),
        uid: non_empty(&u.uid),
    }
}

impl WebhookAuthorizer {
    pub fn new(reviewer: Arc<dyn AccessReviewer>, allowed_ttl: Duration, denied_ttl: Duration, clock: Arc<dyn Clock>) -> WebhookAuthorizer {
        WebhookAuthorizer { reviewer, cache: TtlCache::new(clock, CACHE_CAPACITY), allowed_ttl, denied_ttl }
    }

    fn authorize(&self, attrs: &Attributes) -> Result<Decision, String> {
        let spec = review_spec(attrs);
        // The spec is the question: the same spec gets the same answer.
        let key = serde_json::to_string(&spec).map_err(|e| e.to_string())?;
        if let Some(d) = self.cache.get(&key) {
            return Ok(d);
        }
        let status = self.reviewer.review(&spec)?;
        if let Some(e) = status.evaluation_error.as_deref().filter(|e| !e.is_empty()) {
            log::debug!("SubjectAccessReview evaluation error for {}: {e}", attrs.user.name);
        }
        let decision = if status.allowed {
            Decision::Allow
        } else if status.denied == Some(true) {
            Decision::Deny
        } else {
            Decision::NoOpinion
        };
        let ttl = if decision == Decision::Allow { self.allowed_ttl } else { self.denied_ttl };
        self.cache.put(key, decision, ttl);
        Ok(decision)
    }
}

/// SubjectAccessReviews through the API server client.
pub struct WebhookAccessReviewer {
    pub client: kubeclient::Client,
}

impl AccessReviewer for WebhookAccessReviewer {
    fn review(&self, spec: &SubjectAccessReviewSpec) -> Result<SubjectAccessReviewStatus, String> {
        let review = SubjectAccessReview {
            api_version: Some("authorization.k8s.io/v1".into()),
            kind: Some("SubjectAccessReview".into()),
            spec: spec.clone(),
            ..Default::default()
        };
        let path = ResourcePath::new("authorization.k8s.io/v1", "subjectaccessreviews");
        with_retries(|| self.client.create(&path, &review)).map(|r| r.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::auth::User;
    use crate::server::auth::attributes::for_request;
    use crate::server::auth::cache::FakeClock;
    use std::sync::Mutex;

    struct Fake {
        calls: Mutex<Vec<SubjectAccessReviewSpec>>,
    }

    impl AccessReviewer for Fake {
        fn review(&self, spec: &SubjectAccessReviewSpec) -> Result<SubjectAccessReviewStatus, String> {
            self.calls.lock().map(|mut c| c.push(spec.clone())).unwrap_or_default();
            let sub = spec.resource_attributes.as_ref().and_then(|r| r.subresource.clone()).unwrap_or_default();
            match (spec.user.as_deref(), sub.as_str()) {
                (Some("admin"), _) | (Some("viewer"), "pods") => Ok(SubjectAccessReviewStatus { allowed: true, ..Default::default() }),
                (Some("broken"), _) => Err("timeout".into()),
                (Some("banned"), _) => Ok(SubjectAccessReviewStatus { denied: Some(true), ..Default::default() }),
                _ => Ok(SubjectAccessReviewStatus::default()),
            }
        }
    }

    fn user(name: &str) -> User {
        User { name: name.into(), uid: "u-1".into(), groups: vec!["g".into()], ..Default::default() }
    }

    #[test]
    fn the_spec_carries_user_and_resource() {
        let attrs = for_request(&user("viewer"), "GET", "/pods", "node-1");
        let spec = review_spec(&attrs[0]);
        let v = serde_json::to_value(&spec).unwrap_or_default();
        assert_eq!(
            v,
            serde_json::json!({"resourceAttributes": {"verb": "get", "version": "v1", "resource": "nodes", "subresource": "pods", "name": "node-1"},
                "user": "viewer", "groups": ["g"], "uid": "u-1"})
        );
    }

    #[test]
    fn decisions_are_cached_with_their_ttls() {
        let fake = Arc::new(Fake { calls: Mutex::new(Vec::new()) });
        let clock = FakeClock::default();
        let authz = WebhookAuthorizer::new(fake.clone(), Duration::from_secs(300), Duration::from_secs(30), Arc::new(clock.clone()));
        let ask = |name: &str, path: &str| -> Vec<Result<Decision, String>> {
            for_request(&user(name), "GET", path, "n").iter().map(|a| authz.authorize(a)).collect()
        };
        assert_eq!(ask("viewer", "/pods"), [Ok(Decision::Allow), Ok(Decision::NoOpinion)]);
        assert_eq!(ask("banned", "/stats/summary"), [Ok(Decision::Deny)]);
        assert_eq!(ask("broken", "/metrics"), [Err("timeout".to_string())]);
        let calls = || fake.calls.lock().map(|c| c.len()).unwrap_or_default();
        assert_eq!(calls(), 4);
        // Within both TTLs: all from the cache except the error.
        ask("viewer", "/pods");
        ask("banned", "/stats/summary");
        ask("broken", "/metrics");
        assert_eq!(calls(), 5);
        clock.advance(Duration::from_secs(31));
        ask("viewer", "/pods");
        assert_eq!(calls(), 6, "only the NoOpinion answer expired");
        clock.advance(Duration::from_secs(270));
        ask("viewer", "/pods");
        assert_eq!(calls(), 8);
    }
}
