//! Service-account tokens for projected volumes (upstream's `pkg/kubelet/token`).
//!
//! A token is asked for with the TokenRequest API (`serviceaccounts/<sa>/token`), bound to
//! the pod (`boundObjectRef` kind Pod, name, UID), with the projection's audience (none:
//! the API server's own) and `expirationSeconds`. Tokens live in memory only, per pod, and
//! are asked for again once older than 80% of their lifetime or than 24 h, whichever comes
//! first (minus up to 10 s of jitter so that pods do not refresh in lockstep). When a
//! refresh fails, the old token is used while it is still valid.
//!
//! The Node authorizer lets a node ask only for tokens of service accounts that pods bound
//! to it use, bound to those pods: exactly what we ask for.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use crate::api::Time;
use crate::api::authentication::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use crate::api::core::{Pod, ServiceAccountTokenProjection};
use crate::kubeclient::{Client, ResourcePath};

const MAX_TTL: Duration = Duration::from_secs(24 * 3600);
const MAX_JITTER_SECS: u64 = 10;

/// Where tokens come from: the API server (a [`Client`]), or a fake in tests.
pub trait TokenClient: Send + Sync {
    fn create_token(&self, namespace: &str, service_account: &str, request: &TokenRequest) -> Result<TokenRequest, String>;
}

impl TokenClient for Client {
    fn create_token(&self, namespace: &str, service_account: &str, request: &TokenRequest) -> Result<TokenRequest, String> {
        let path = ResourcePath::core("serviceaccounts").namespace(namespace).name(service_account).subresource("token");
        self.post_subresource(&path, request).map_err(|e| e.to_string())
    }
}

/// One cached token.
#[derive(Clone)]
struct Cached {
    token: String,
    expires: SystemTime,
    /// The lifetime the server granted (`spec.expirationSeconds` of its answer).
    lifetime_secs: Option<i64>,
}

impl std::fmt::Debug for Cached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token itself.
        f.debug_struct("Cached").field("expires", &self.expires).field("lifetime_secs", &self.lifetime_secs).finish()
    }
}

/// The tokens of one pod, by request.
#[derive(Debug, Clone, Default)]
pub struct TokenCache {
    entries: HashMap<String, Cached>,
}

/// The TokenRequest for a projection of `pod`.
pub fn request_for(pod: &Pod, source: &ServiceAccountTokenProjection) -> TokenRequest {
    let audiences = source.audience.iter().filter(|a| !a.is_empty()).cloned().collect();
    TokenRequest {
        api_version: Some("authentication.k8s.io/v1".into()),
        kind: Some("TokenRequest".into()),
        spec: TokenRequestSpec {
            audiences,
            expiration_seconds: source.expiration_seconds,
            bound_object_ref: Some(BoundObjectReference {
                kind: Some("Pod".into()),
                api_version: Some("v1".into()),
                name: pod.metadata.name.clone(),
                uid: pod.metadata.uid.clone(),
            }),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Names a request without secrets, for the cache and logs (upstream's `keyFunc`).
fn key(service_account: &str, namespace: &str, r: &TokenRequest) -> String {
    let b = r.spec.bound_object_ref.clone().unwrap_or_default();
    format!(
        "{service_account:?}/{namespace:?}/{:?}/{}/{:?}/{:?}/{:?}",
        r.spec.audiences,
        r.spec.expiration_seconds.unwrap_or(0),
        b.kind.unwrap_or_default(),
        b.name.unwrap_or_default(),
        b.uid.unwrap_or_default()
    )
}

/// Whether a token must be asked for again: older than 24 h, or within 20% of its lifetime
/// of expiring, each brought forward by `jitter` (upstream's `requiresRefresh`).
fn requires_refresh(now: SystemTime, t: &Cached, jitter: Duration) -> bool {
    let Some(lifetime) = t.lifetime_secs.and_then(|s| u64::try_from(s).ok()) else {
        log::error!("token without expirationSeconds; keeping it");
        return false;
    };
    let issued = t.expires.checked_sub(Duration::from_secs(lifetime)).unwrap_or(SystemTime::UNIX_EPOCH);
    let too_old = issued + MAX_TTL.saturating_sub(jitter);
    let near_end = t.expires.checked_sub(Duration::from_secs(lifetime * 20 / 100) + jitter).unwrap_or(SystemTime::UNIX_EPOCH);
    now > too_old || now > near_end
}

impl TokenCache {
    /// The token for `request` of the pod's `service_account`: the cached one unless it
    /// needs a refresh; else a new one from `client`.
    pub fn get(
        &mut self,
        client: Option<&dyn TokenClient>,
        namespace: &str,
        service_account: &str,
        request: &TokenRequest,
        now: SystemTime,
        jitter: Duration,
    ) -> Result<String, String> {
        let k = key(service_account, namespace, request);
        let cached = self.entries.get(&k);
        if let Some(c) = cached.filter(|c| !requires_refresh(now, c, jitter)) {
            return Ok(c.token.clone());
        }
        let fetched = match client {
            None => Err("cannot use TokenManager when kubelet is in standalone mode".to_string()),
            Some(c) => c.create_token(namespace, service_account, request),
        };
        let answer = match fetched {
            Ok(a) => a,
            Err(e) => {
                return match cached {
                    None => Err(format!("failed to fetch token: {e}")),
                    Some(c) if now > c.expires => Err(format!("token {k} expired and refresh failed: {e}")),
                    Some(c) => {
                        log::error!("couldn't update token {k}: {e}");
                        Ok(c.token.clone())
                    }
                };
            }
        };
        let token = answer.status.token.clone().unwrap_or_default();
        let expires = answer.status.expiration_timestamp.map_or(now, SystemTime::from);
        log::debug!("new token {k}, expires {}", Time::from(expires));
        let lifetime_secs = answer.spec.expiration_seconds.or(request.spec.expiration_seconds);
        self.entries.insert(k, Cached { token: token.clone(), expires, lifetime_secs });
        Ok(token)
    }

    /// The earliest moment a cached token will need a refresh (without jitter).
    pub fn next_refresh(&self) -> Option<SystemTime> {
        self.entries
            .values()
            .filter_map(|t| {
                let lifetime = Duration::from_secs(t.lifetime_secs.and_then(|s| u64::try_from(s).ok())?);
                let issued = t.expires.checked_sub(lifetime)?;
                Some((issued + MAX_TTL).min(t.expires.checked_sub(lifetime / 5)?))
            })
            .min()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// 0 to 9 whole seconds, as upstream's jitter.
pub fn random_jitter() -> Duration {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    Duration::from_secs(u64::from(nanos) % MAX_JITTER_SECS)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::json;

    use super::*;

    /// Hands out `tok-1`, `tok-2`, ... valid for the asked lifetime from `now`, or fails.
    struct FakeApi {
        now: Mutex<SystemTime>,
        calls: Mutex<Vec<TokenRequest>>,
        fail: Mutex<bool>,
    }

    impl TokenClient for FakeApi {
        fn create_token(&self, _: &str, _: &str, r: &TokenRequest) -> Result<TokenRequest, String> {
            if *self.fail.lock().expect("lock") {
                return Err("serviceaccounts \"default\" is forbidden".into());
            }
            let mut calls = self.calls.lock().expect("lock");
            calls.push(r.clone());
            let mut answer = r.clone();
            let lifetime = r.spec.expiration_seconds.unwrap_or(3600);
            let now = *self.now.lock().expect("lock");
            answer.status.token = Some(format!("tok-{}", calls.len()));
            answer.status.expiration_timestamp = Some(Time::from(now + Duration::from_secs(lifetime.unsigned_abs())));
            answer.spec.expiration_seconds = Some(lifetime);
            Ok(answer)
        }
    }

    fn api(now: SystemTime) -> FakeApi {
        FakeApi { now: Mutex::new(now), calls: Mutex::new(Vec::new()), fail: Mutex::new(false) }
    }

    fn setup(exp: i64) -> (Pod, TokenRequest) {
        let pod: Pod = serde_json::from_value(json!({"metadata": {"name": "web", "namespace": "prod", "uid": "u-1"}})).expect("pod");
        let src: ServiceAccountTokenProjection =
            serde_json::from_value(json!({"path": "token", "expirationSeconds": exp})).expect("src");
        let r = request_for(&pod, &src);
        (pod, r)
    }

    #[test]
    fn request_is_bound_to_the_pod() {
        let (_, r) = setup(3607);
        let v = serde_json::to_value(&r).expect("json");
        assert_eq!(
            v,
            json!({
                "apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "metadata": {},
                "spec": {"expirationSeconds": 3607, "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "web", "uid": "u-1"}},
                "status": {}
            })
        );
        let pod = Pod::default();
        let src: ServiceAccountTokenProjection =
            serde_json::from_value(json!({"path": "t", "audience": "vault"})).expect("src");
        assert_eq!(request_for(&pod, &src).spec.audiences, ["vault"]);
    }

    /// A one-hour token is kept until 80% of its life (48 min), then replaced.
    #[test]
    fn refresh_at_eighty_percent() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let fake = api(t0);
        let (_, r) = setup(3600);
        let mut cache = TokenCache::default();
        let no_jitter = Duration::ZERO;
        assert_eq!(cache.get(Some(&fake), "prod", "default", &r, t0, no_jitter).as_deref(), Ok("tok-1"));
        let min = |m: u64| t0 + Duration::from_secs(m * 60);
        assert_eq!(cache.get(Some(&fake), "prod", "default", &r, min(47), no_jitter).as_deref(), Ok("tok-1"));
        assert_eq!(cache.next_refresh(), Some(min(48)));
        // Jitter brings it forward by up to 10 s.
        let almost = min(48) - Duration::from_secs(5);
        *fake.now.lock().expect("lock") = almost;
        assert_eq!(cache.get(Some(&fake), "prod", "default", &r, almost, Duration::from_secs(9)).as_deref(), Ok("tok-2"));
        assert_eq!(cache.get(Some(&fake), "prod", "default", &r, min(49) + Duration::from_secs(1), no_jitter).as_deref(), Ok("tok-2"));
        assert_eq!(fake.calls.lock().expect("lock").len(), 2);
    }

    /// A year-long token is still refreshed after 24 h.
    #[test]
    fn refresh_after_a_day() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let fake = api(t0);
        let (_, r) = setup(365 * 24 * 3600);
        let mut cache = TokenCache::default();
        cache.get(Some(&fake), "prod", "default", &r, t0, Duration::ZERO).expect("first");
        let day = Duration::from_secs(24 * 3600);
        assert_eq!(cache.next_refresh(), Some(t0 + day));
        let token = cache.get(Some(&fake), "prod", "default", &r, t0 + day - Duration::from_secs(1), Duration::ZERO);
        assert_eq!(token.as_deref(), Ok("tok-1"));
        let token = cache.get(Some(&fake), "prod", "default", &r, t0 + day + Duration::from_secs(1), Duration::ZERO);
        assert_eq!(token.as_deref(), Ok("tok-2"));
    }

    #[test]
    fn failed_refresh_keeps_a_valid_token() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let fake = api(t0);
        let (_, r) = setup(600);
        let mut cache = TokenCache::default();
        cache.get(Some(&fake), "prod", "default", &r, t0, Duration::ZERO).expect("first");
        *fake.fail.lock().expect("lock") = true;
        let near_end = t0 + Duration::from_secs(590);
        assert_eq!(cache.get(Some(&fake), "prod", "default", &r, near_end, Duration::ZERO).as_deref(), Ok("tok-1"));
        let e = cache.get(Some(&fake), "prod", "default", &r, t0 + Duration::from_secs(601), Duration::ZERO).expect_err("expired");
        assert!(e.starts_with("token ") && e.contains("expired and refresh failed: serviceaccounts"), "{e}");
        assert!(!e.contains("tok-1"), "the key never shows the token: {e}");
        let mut empty = TokenCache::default();
        let e = empty.get(Some(&fake), "prod", "default", &r, t0, Duration::ZERO).expect_err("no token");
        assert_eq!(e, "failed to fetch token: serviceaccounts \"default\" is forbidden");
        let e = empty.get(None, "prod", "default", &r, t0, Duration::ZERO).expect_err("standalone");
        assert_eq!(e, "failed to fetch token: cannot use TokenManager when kubelet is in standalone mode");
    }
}
