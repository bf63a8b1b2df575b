//! kubeconfig files: clusters, users, contexts and `current-context`, in YAML or JSON.
//!
//! What the kubelet needs from them, with client-go's rules: relative file references
//! (`certificate-authority`, `client-certificate`, `client-key`, `tokenFile`) are relative to
//! the kubeconfig's own directory; a `*-data` field wins over the matching file field; `token`
//! wins over `tokenFile`; a CA together with `insecure-skip-tls-verify` is an error. Errors name
//! the file and the field.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;


/// What a client needs to reach one cluster as one user: a resolved context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestConfig {
    /// `https://host:port` (plus any path prefix), without a trailing slash.
    pub server: String,
    pub certificate_authority: Option<PemSource>,
    pub insecure_skip_tls_verify: bool,
    /// The name to verify the server certificate against, instead of the host of `server`.
    pub tls_server_name: Option<String>,
    pub client_certificate: Option<PemSource>,
    pub client_key: Option<PemSource>,
    pub token: Option<String>,
    pub token_file: Option<PathBuf>,
    /// The context's default namespace.
    pub namespace: Option<String>,
}

impl RestConfig {
    /// A config for `server` with nothing else set.
    pub fn new(server: &str) -> Self {
        RestConfig {
            server: server.trim_end_matches('/').to_string(),
            certificate_authority: None,
            insecure_skip_tls_verify: false,
            tls_server_name: None,
            client_certificate: None,
            client_key: None,
            token: None,
            token_file: None,
            namespace: None,
        }
    }
}

/// PEM bytes, from a file or inline (`*-data`, already base64-decoded).
#[derive(Clone, PartialEq, Eq)]
pub enum PemSource {
    File(PathBuf),
    /// `origin` says where it came from, for errors ("client-key-data of user \"x\" in ...").
    Inline {
        data: Vec<u8>,
        origin: String,
    },
}

impl PemSource {
    pub fn read(&self) -> Result<Vec<u8>, ConfigError> {
        match self {
            PemSource::File(path) => {
                std::fs::read(path).map_err(|source| ConfigError::Read { path: path.clone(), source })
            }
            PemSource::Inline { data, .. } => Ok(data.clone()),
        }
    }
}

impl fmt::Display for PemSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PemSource::File(path) => write!(f, "{}", path.display()),
            PemSource::Inline { origin, .. } => f.write_str(origin),
        }
    }
}

impl fmt::Debug for PemSource {
    // Key material stays out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PemSource({self})")
    }
}

/// A kubeconfig (or a file it references) that cannot be used.
#[derive(Debug)]
pub enum ConfigError {
    Read {
        path: PathBuf,
        source: io::Error,
    },
    Parse {
        path: PathBuf,
        detail: String,
    },
    /// Something the chosen context needs is not there (`what` names it).
    Missing {
        path: PathBuf,
        what: String,
    },
    Invalid {
        path: PathBuf,
        field: String,
        detail: String,
    },
    /// Certificates or keys that rustls cannot use; `what` names the source.
    Tls {
        what: String,
        detail: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, source } => write!(f, "reading {}: {source}", path.display()),
            ConfigError::Parse { path, detail } => write!(f, "parsing kubeconfig {}: {detail}", path.display()),
            ConfigError::Missing { path, what } => write!(f, "kubeconfig {}: no {what}", path.display()),
            ConfigError::Invalid { path, field, detail } => {
                write!(f, "kubeconfig {}: {field}: {detail}", path.display())
            }
            ConfigError::Tls { what, detail } => write!(f, "{what}: {detail}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Read { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawConfig {
    clusters: Option<Vec<Named<RawCluster>>>,
    users: Option<Vec<Named<RawUser>>>,
    contexts: Option<Vec<Named<RawContext>>>,
    current_context: Option<String>,
}

/// `{name, cluster|user|context}`: the second key differs per list, so it is aliased.
#[derive(Debug, Deserialize)]
struct Named<T> {
    name: String,
    #[serde(alias = "cluster", alias = "user", alias = "context")]
    value: Option<T>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawCluster {
    server: Option<String>,
    certificate_authority: Option<String>,
    certificate_authority_data: Option<String>,
    insecure_skip_tls_verify: Option<bool>,
    tls_server_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawUser {
    client_certificate: Option<String>,
    client_certificate_data: Option<String>,
    client_key: Option<String>,
    client_key_data: Option<String>,
    token: Option<String>,
    #[serde(rename = "tokenFile")]
    token_file: Option<String>,
    exec: Option<serde::de::IgnoredAny>,
    auth_provider: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
struct RawContext {
    cluster: Option<String>,
    user: Option<String>,
    namespace: Option<String>,
}

/// A parsed kubeconfig file.
#[derive(Debug)]
pub struct Kubeconfig {
    path: PathBuf,
    raw: RawConfig,
}

impl Kubeconfig {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        Kubeconfig::parse(&text, path)
    }

    /// Parses kubeconfig text; `path` is where it came from (relative references and errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let parse_error = |detail: String| ConfigError::Parse { path: path.to_path_buf(), detail };
        let raw: RawConfig = if text.trim_start().starts_with('{') {
            crate::api::json::decode(text.as_bytes()).map_err(|e| parse_error(e.to_string()))?
        } else if text.trim().is_empty() {
            RawConfig::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| parse_error(e.to_string()))?
        };
        Ok(Kubeconfig { path: path.to_path_buf(), raw })
    }

    /// The name of the context `rest_config(None)` uses.
    pub fn current_context(&self) -> Option<&str> {
        self.raw.current_context.as_deref().filter(|c| !c.is_empty())
    }

    /// Resolves `context` (or `current-context`) into what a client needs.
    pub fn rest_config(&self, context: Option<&str>) -> Result<RestConfig, ConfigError> {
        let context_name = match context.or(self.current_context()) {
            Some(name) => name,
            None => return Err(self.missing("current-context")),
        };
        let ctx =
            find(&self.raw.contexts, context_name).ok_or_else(|| self.missing(&format!("context {context_name:?}")))?;
        let cluster_name = ctx
            .cluster
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| self.missing(&format!("cluster in context {context_name:?}")))?;
        let cluster = find(&self.raw.clusters, cluster_name)
            .ok_or_else(|| self.missing(&format!("cluster {cluster_name:?} (used by context {context_name:?})")))?;
        // A context without a user is allowed: anonymous access, or a token given elsewhere.
        let user_name = ctx.user.as_deref().filter(|u| !u.is_empty());
        let user = match user_name {
            Some(name) => Some(
                find(&self.raw.users, name)
                    .ok_or_else(|| self.missing(&format!("user {name:?} (used by context {context_name:?})")))?,
            ),
            None => None,
        };

        let cluster_field = |f: &str| format!("clusters[{cluster_name:?}].{f}");
        let server = cluster
            .server
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| self.missing(&format!("server in cluster {cluster_name:?}")))?;
        self.check_server(server, &cluster_field("server"))?;
        let mut rest = RestConfig::new(server);
        rest.certificate_authority = self.pem_source(
            cluster.certificate_authority_data.as_deref(),
            cluster.certificate_authority.as_deref(),
            &cluster_field("certificate-authority-data"),
        )?;
        rest.insecure_skip_tls_verify = cluster.insecure_skip_tls_verify.unwrap_or(false);
        if rest.insecure_skip_tls_verify && rest.certificate_authority.is_some() {
            return Err(self.invalid(
                &cluster_field("insecure-skip-tls-verify"),
                "a certificate authority together with insecure-skip-tls-verify is not allowed",
            ));
        }
        rest.tls_server_name = cluster.tls_server_name.clone().filter(|n| !n.is_empty());
        rest.namespace = ctx.namespace.clone().filter(|n| !n.is_empty());

        if let (Some(user), Some(user_name)) = (user, user_name) {
            self.apply_user(&mut rest, user, user_name)?;
        }
        Ok(rest)
    }

    fn apply_user(&self, rest: &mut RestConfig, user: &RawUser, name: &str) -> Result<(), ConfigError> {
        let field = |f: &str| format!("users[{name:?}].{f}");
        rest.client_certificate = self.pem_source(
            user.client_certificate_data.as_deref(),
            user.client_certificate.as_deref(),
            &field("client-certificate-data"),
        )?;
        rest.client_key =
            self.pem_source(user.client_key_data.as_deref(), user.client_key.as_deref(), &field("client-key-data"))?;
        match (&rest.client_certificate, &rest.client_key) {
            (Some(_), None) => {
                return Err(self.missing(&format!("client-key for the client-certificate of user {name:?}")));
            }
            (None, Some(_)) => {
                return Err(self.missing(&format!("client-certificate for the client-key of user {name:?}")));
            }
            _ => {}
        }
        rest.token = user.token.clone().filter(|t| !t.is_empty());
        if rest.token.is_none() {
            rest.token_file = user.token_file.as_deref().filter(|t| !t.is_empty()).map(|t| self.relative(t));
        }
        let has_credentials = rest.client_certificate.is_some() || rest.token.is_some() || rest.token_file.is_some();
        if !has_credentials && (user.exec.is_some() || user.auth_provider.is_some()) {
            let plugin = if user.exec.is_some() { "exec" } else { "auth-provider" };
            return Err(self
                .invalid(&field(plugin), "credential plugins are not supported; use a client certificate or a token"));
        }
        Ok(())
    }

    /// Inline base64 data wins over a file reference, as in client-go.
    fn pem_source(
        &self,
        data: Option<&str>,
        file: Option<&str>,
        data_field: &str,
    ) -> Result<Option<PemSource>, ConfigError> {
        if let Some(data) = data.filter(|d| !d.is_empty()) {
            let bytes = crate::api::bytes::base64_decode(data.trim()).map_err(|e| self.invalid(data_field, &e.to_string()))?;
            let origin = format!("{data_field} in {}", self.path.display());
            return Ok(Some(PemSource::Inline { data: bytes, origin }));
        }
        Ok(file.filter(|f| !f.is_empty()).map(|f| PemSource::File(self.relative(f))))
    }

    fn relative(&self, file: &str) -> PathBuf {
        let file = Path::new(file);
        match self.path.parent() {
            Some(dir) if file.is_relative() => dir.join(file),
            _ => file.to_path_buf(),
        }
    }

    fn check_server(&self, server: &str, field: &str) -> Result<(), ConfigError> {
        let uri: ureq::http::Uri = server.parse().map_err(|e| self.invalid(field, &format!("{server:?}: {e}")))?;
        match uri.scheme_str() {
            Some("https" | "http") => {}
            _ => return Err(self.invalid(field, &format!("{server:?}: the scheme must be https or http"))),
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(self.invalid(field, &format!("{server:?}: no host")));
        }
        if uri.query().is_some() {
            return Err(self.invalid(field, &format!("{server:?}: a query is not allowed")));
        }
        Ok(())
    }

    fn missing(&self, what: &str) -> ConfigError {
        ConfigError::Missing { path: self.path.clone(), what: what.to_string() }
    }

    fn invalid(&self, field: &str, detail: &str) -> ConfigError {
        ConfigError::Invalid { path: self.path.clone(), field: field.to_string(), detail: detail.to_string() }
    }
}

fn find<'a, T>(list: &'a Option<Vec<Named<T>>>, name: &str) -> Option<&'a T> {
    list.as_deref()?.iter().find(|n| n.name == name).and_then(|n| n.value.as_ref())
}

#[cfg(test)]
mod tests;
