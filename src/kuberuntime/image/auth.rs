//! Registry credentials from image pull secrets, and which of them apply to an image
//! (upstream's `credentialprovider` keyring for `kubernetes.io/dockerconfigjson` and
//! `kubernetes.io/dockercfg` secrets).
//!
//! A credential is a `cri::AuthConfig` whose `server_address` says where it applies, as the
//! docker config keys it (`registry:5000`, `https://index.docker.io/v1/`, `*.example.com/ns`).
//! [`matching`] picks those that apply to an image, most specific first, and clears
//! `server_address` before they go to the runtime (upstream sends none for secrets).
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::api::bytes::base64_decode;
use crate::api::core::Secret;
use crate::cri::AuthConfig;

const DOCKER_CONFIG_JSON_KEY: &str = ".dockerconfigjson";
const DOCKER_CONFIG_KEY: &str = ".dockercfg";
const DEFAULT_REGISTRY_KEY: &str = "index.docker.io";

/// A pull secret that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError {
    pub secret: String,
    pub reason: String,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "image pull secret {}: {}", self.secret, self.reason)
    }
}

impl std::error::Error for AuthError {}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Entry {
    username: String,
    password: String,
    auth: String,
    email: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConfigJson {
    auths: BTreeMap<String, Entry>,
}

/// The credentials of one secret; secrets of other types give none.
pub fn auth_configs_from_secret(secret: &Secret) -> Result<Vec<AuthConfig>, AuthError> {
    let m = &secret.metadata;
    let fail = |reason: String| AuthError { secret: format!("{}/{}", m.namespace(), m.name()), reason };
    let data = |key: &str| -> Option<Vec<u8>> {
        secret
            .data
            .get(key)
            .map(|b| b.as_bytes().to_vec())
            .or_else(|| secret.string_data.get(key).map(|s| s.clone().into_bytes()))
    };
    let entries: BTreeMap<String, Entry> = if let Some(json) = data(DOCKER_CONFIG_JSON_KEY) {
        crate::api::json::decode::<ConfigJson>(&json)
            .map_err(|e| fail(format!("{DOCKER_CONFIG_JSON_KEY}: {e}")))?
            .auths
    } else if let Some(json) = data(DOCKER_CONFIG_KEY) {
        crate::api::json::decode(&json).map_err(|e| fail(format!("{DOCKER_CONFIG_KEY}: {e}")))?
    } else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (location, e) in entries {
        let (mut username, mut password) = (e.username, e.password);
        if !e.auth.is_empty() {
            // `auth` is base64 of `user:password` and wins over the separate fields.
            let raw = base64_decode(&e.auth).map_err(|err| fail(format!("auth of {location}: {err}")))?;
            let text = String::from_utf8(raw).map_err(|_| fail(format!("auth of {location}: not UTF-8")))?;
            let Some((u, p)) = text.split_once(':') else {
                return Err(fail(format!("auth of {location}: no ':' between user and password")));
            };
            (username, password) = (u.to_string(), p.to_string());
        }
        let _ = e.email;
        out.push(AuthConfig {
            username,
            password: password.into(),
            server_address: location,
            ..Default::default()
        });
    }
    Ok(out)
}

/// The keyring key of a docker config location: host, plus the path unless it is `/`,
/// `/v1/` or `/v2/` (which mean the whole registry).
fn keyring_key(location: &str) -> String {
    let rest =
        location.strip_prefix("https://").or_else(|| location.strip_prefix("http://")).unwrap_or(location);
    let (host, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let path = path
        .strip_prefix("/v2")
        .or_else(|| path.strip_prefix("/v1"))
        .filter(|p| p.starts_with('/'))
        .unwrap_or(path);
    if path.is_empty() || path == "/" { host.to_string() } else { format!("{host}{path}") }
}

/// Host labels, port and path of a schemeless URL.
fn split(url: &str) -> (Vec<&str>, &str, &str) {
    let (hostport, path) = match url.find('/') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, ""));
    (host.split('.').collect(), port, path)
}

/// Go's `filepath.Match` for one host label, with `*` and `?`.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.split_first(), text.split_first()) {
        (None, None) => true,
        (Some((b'*', rest)), _) => {
            glob(rest, text) || text.split_first().is_some_and(|(_, t)| glob(pattern, t))
        }
        (Some((b'?', rest)), Some((_, t))) => glob(rest, t),
        (Some((p, rest)), Some((c, t))) if p == c => glob(rest, t),
        _ => false,
    }
}

/// Upstream's `URLsMatch`: same port, same number of host labels each matching the glob,
/// and the key's path a prefix of the image's.
fn key_matches(key: &str, repository: &str) -> bool {
    let (kh, kp, kpath) = split(key);
    let (th, tp, tpath) = split(repository);
    kp == tp
        && kh.len() == th.len()
        && tpath.starts_with(kpath)
        && kh.iter().zip(&th).all(|(g, t)| glob(g.as_bytes(), t.as_bytes()))
}

/// Upstream's `isDefaultRegistryMatch`: the repository lives on Docker Hub.
fn is_default_registry(repository: &str) -> bool {
    match repository.split_once('/') {
        None => !repository.is_empty(),
        Some(("", _)) => false,
        Some((first, _)) => first == "docker.io" || first == "index.docker.io" || !first.contains(['.', ':']),
    }
}

/// The credentials that apply to `repository` (a normalised `host/path`), most specific key
/// first, ready to send to the runtime.
pub fn matching(credentials: &[AuthConfig], repository: &str) -> Vec<AuthConfig> {
    let mut keyed: Vec<(String, &AuthConfig)> =
        credentials.iter().map(|c| (keyring_key(&c.server_address), c)).collect();
    // Reverse order of keys: `quay.io/coreos` before `quay.io`; stable within a key.
    keyed.sort_by(|a, b| b.0.cmp(&a.0));
    let mut hits: Vec<&AuthConfig> =
        keyed.iter().filter(|(k, _)| key_matches(k, repository)).map(|(_, c)| *c).collect();
    if hits.is_empty() && is_default_registry(repository) {
        hits = keyed.iter().filter(|(k, _)| k == DEFAULT_REGISTRY_KEY).map(|(_, c)| *c).collect();
    }
    hits.into_iter().map(|c| AuthConfig { server_address: String::new(), ..c.clone() }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::bytes::base64_encode;

    fn secret(key: &str, json: &str) -> Secret {
        let mut s = Secret::default();
        s.metadata.name = Some("regcred".into());
        s.metadata.namespace = Some("default".into());
        s.data.insert(key.into(), json.as_bytes().to_vec().into());
        s
    }

    fn cred(server: &str, user: &str) -> AuthConfig {
        AuthConfig { username: user.into(), server_address: server.into(), ..Default::default() }
    }

    #[test]
    fn dockerconfigjson_and_dockercfg() {
        let auth = base64_encode(b"bob:s3cret");
        let json = format!(
            r#"{{"auths":{{"registry:5000":{{"auth":"{auth}"}},"https://index.docker.io/v1/":{{"username":"u","password":"p"}}}}}}"#
        );
        let got = auth_configs_from_secret(&secret(".dockerconfigjson", &json)).expect("parses");
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[1].server_address.as_str(), got[1].username.as_str(), got[1].password.0.as_str()),
            ("registry:5000", "bob", "s3cret")
        );
        assert_eq!((got[0].username.as_str(), got[0].password.0.as_str()), ("u", "p"));

        let legacy =
            auth_configs_from_secret(&secret(".dockercfg", r#"{"quay.io":{"username":"q","password":"w"}}"#));
        assert_eq!(legacy.map(|v| v.len()), Ok(1));
        assert_eq!(auth_configs_from_secret(&secret("token", "x")), Ok(vec![]));
        let bad = auth_configs_from_secret(&secret(".dockerconfigjson", "{nope")).expect_err("bad json");
        assert!(
            bad.to_string().starts_with("image pull secret default/regcred: .dockerconfigjson:"),
            "{bad}"
        );
        let bad_auth = secret(".dockerconfigjson", r#"{"auths":{"r":{"auth":"bm9jb2xvbg=="}}}"#);
        assert!(auth_configs_from_secret(&bad_auth).is_err());
    }

    #[test]
    fn matches_by_host_path_port_and_glob() {
        let creds = vec![
            cred("quay.io", "any-quay"),
            cred("https://quay.io/coreos", "coreos"),
            cred("registry:5000", "local"),
            cred("*.example.com", "wild"),
            cred("https://index.docker.io/v1/", "hub"),
        ];
        let users =
            |repo: &str| -> Vec<String> { matching(&creds, repo).into_iter().map(|c| c.username).collect() };
        assert_eq!(users("quay.io/coreos/etcd"), vec!["coreos", "any-quay"]);
        assert_eq!(users("quay.io/other/x"), vec!["any-quay"]);
        assert_eq!(users("registry:5000/x"), vec!["local"]);
        assert_eq!(users("registry:5001/x"), Vec::<String>::new());
        assert_eq!(users("eu.example.com/x"), vec!["wild"]);
        assert_eq!(users("a.eu.example.com/x"), Vec::<String>::new());
        assert_eq!(users("docker.io/library/busybox"), vec!["hub"]);
        assert_eq!(users("ghcr.io/x"), Vec::<String>::new());
        assert!(matching(&creds, "registry:5000/x").iter().all(|c| c.server_address.is_empty()));
    }

    #[test]
    fn keys_and_globs() {
        assert_eq!(keyring_key("https://index.docker.io/v1/"), "index.docker.io");
        assert_eq!(keyring_key("http://r:5000/v2/ns"), "r:5000/ns");
        assert_eq!(keyring_key("r/ns/"), "r/ns/");
        assert!(glob(b"*", b"anything"));
        assert!(glob(b"e?", b"eu"));
        assert!(!glob(b"e?", b"eur"));
        assert!(is_default_registry("library/busybox"));
        assert!(!is_default_registry("gcr.io/x"));
    }
}
