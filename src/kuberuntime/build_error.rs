//! Why a sandbox or container config could not be built.
//!
//! A [`BuildError`] names the pod (and container) it is about; its [`BuildErrorKind`] says
//! what went wrong in upstream's words, because that text is what users see as the
//! `CreateContainerConfigError` message in the pod status ([`BuildError::message`]).

use std::fmt;

use crate::api::core::Pod;

/// A config that could not be built, with the pod and container it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    /// `<namespace>/<name>`.
    pub pod: String,
    pub container: Option<String>,
    /// Boxed so that `Result<Config, BuildError>` stays small.
    pub kind: Box<BuildErrorKind>,
}

impl BuildError {
    /// The waiting reason a container shows when its config cannot be built.
    pub const REASON: &'static str = "CreateContainerConfigError";

    pub fn new(pod: &Pod, container: Option<&str>, kind: BuildErrorKind) -> BuildError {
        BuildError {
            pod: format!("{}/{}", pod.metadata.namespace(), pod.metadata.name()),
            container: container.map(str::to_string),
            kind: Box::new(kind),
        }
    }

    /// The message alone, as upstream words it (for `waiting.message` and events).
    pub fn message(&self) -> String {
        self.kind.to_string()
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.container {
            Some(c) => write!(f, "pod {} container {c}: {}", self.pod, self.kind),
            None => write!(f, "pod {}: {}", self.pod, self.kind),
        }
    }
}

impl std::error::Error for BuildError {}

/// What went wrong. `Display` is upstream's message for the same failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildErrorKind {
    ConfigMapNotFound {
        name: String,
    },
    SecretNotFound {
        name: String,
    },
    ConfigMapKeyNotFound {
        key: String,
        namespace: String,
        name: String,
    },
    SecretKeyNotFound {
        key: String,
        namespace: String,
        name: String,
    },
    /// Standalone (no API server): configMap and secret references cannot be resolved, even
    /// optional ones, as upstream.
    NoApiClient {
        kind: &'static str,
        namespace: String,
        name: String,
    },
    /// The configMap/secret source failed for another reason; its own message.
    Lookup {
        message: String,
    },
    /// An API pod's environment needs the Service list, which has not been read yet.
    ServicesNotSynced,
    /// `valueFrom.fileKeyRef` needs a volume the volume manager has not set up.
    FileKeyRefVolume {
        volume: String,
    },
    UnsupportedPodVersion {
        version: String,
    },
    FieldLabelNoSubscript {
        label: String,
    },
    FieldLabelNotSupported {
        label: String,
    },
    UnsupportedFieldPath {
        path: String,
    },
    InvalidKeySubscript {
        path: String,
        reason: String,
    },
    NoHostIp,
    UnsupportedContainerResource {
        resource: String,
    },
    ContainerNotFound {
        name: String,
    },
    /// `field` is `HostnameOverride`, `Hostname` or `Subdomain`.
    InvalidHostname {
        field: &'static str,
        value: String,
        reasons: Vec<String>,
    },
    FqdnTooLong {
        fqdn: String,
    },
    ResolvConf {
        errors: Vec<String>,
    },
    SeccompLocalhostMissing,
    AppArmorLocalhostMissing,
    AppArmorUnknownType {
        profile_type: String,
    },
    SupplementalGroupsPolicy {
        value: String,
    },
    /// `pod` is upstream's pod description, `<name>_<namespace>(<uid>)`.
    RunAsUserRoot {
        pod: String,
        container: String,
    },
    ImageNonNumericUser {
        username: String,
        pod: String,
        container: String,
    },
    ImageRunsAsRoot {
        pod: String,
        container: String,
    },
    ImageInvalidUid {
        uid: i64,
        pod: String,
        container: String,
    },
    /// `hostUsers: false` needs user-namespace id mappings, which rkubelet does not allocate.
    UserNamespacesUnsupported,
}

impl fmt::Display for BuildErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use BuildErrorKind::*;
        match self {
            ConfigMapNotFound { name } => write!(f, "configmap {name:?} not found"),
            SecretNotFound { name } => write!(f, "secret {name:?} not found"),
            ConfigMapKeyNotFound { key, namespace, name } => {
                write!(f, "couldn't find key {key} in ConfigMap {namespace}/{name}")
            }
            SecretKeyNotFound { key, namespace, name } => {
                write!(f, "couldn't find key {key} in Secret {namespace}/{name}")
            }
            NoApiClient { kind, namespace, name } => {
                write!(f, "couldn't get {kind} {namespace}/{name}, no kubeClient defined")
            }
            Lookup { message } => f.write_str(message),
            ServicesNotSynced => {
                f.write_str("services have not yet been read at least once, cannot construct envvars")
            }
            FileKeyRefVolume { volume } => {
                write!(f, "cannot find the volume {volume:?} referenced by FileKeyRef")
            }
            UnsupportedPodVersion { version } => write!(f, "unsupported pod version: {version}"),
            FieldLabelNoSubscript { label } => write!(f, "field label does not support subscript: {label}"),
            FieldLabelNotSupported { label } => write!(f, "field label not supported: {label}"),
            UnsupportedFieldPath { path } => write!(f, "unsupported fieldPath: {path}"),
            InvalidKeySubscript { path, reason } => write!(f, "invalid key subscript in {path}: {reason}"),
            NoHostIp => f.write_str("host IP unknown; known addresses: []"),
            UnsupportedContainerResource { resource } => {
                write!(f, "unsupported container resource : {resource}")
            }
            ContainerNotFound { name } => write!(f, "container {name} not found"),
            InvalidHostname { field, value, reasons } => {
                let what = if *field == "HostnameOverride" { "DNS subdomain" } else { "DNS label" };
                write!(f, "pod {field} {value:?} is not a valid {what}: {}", reasons.join(";"))
            }
            FqdnTooLong { fqdn } => write!(
                f,
                "failed to construct FQDN from pod hostname and cluster domain, FQDN {fqdn} is too long \
                 (64 characters is the max, {} characters requested)",
                fqdn.len()
            ),
            ResolvConf { errors } => {
                let joined = match errors.as_slice() {
                    [one] => one.clone(),
                    many => format!("[{}]", many.join(", ")),
                };
                write!(f, "Encountered error while parsing resolv conf file. Error: {joined}")
            }
            SeccompLocalhostMissing => {
                f.write_str("localhostProfile must be set if seccompProfile type is Localhost.")
            }
            AppArmorLocalhostMissing => f.write_str("missing localhost apparmor profile name"),
            AppArmorUnknownType { profile_type } => {
                write!(f, "unknown apparmor profile type: {profile_type:?}")
            }
            SupplementalGroupsPolicy { value } => write!(f, "unsupported supplementalGroupsPolicy: {value}"),
            RunAsUserRoot { pod, container } => write!(
                f,
                "container's runAsUser breaks non-root policy (pod: {pod:?}, container: {container})"
            ),
            ImageNonNumericUser { username, pod, container } => write!(
                f,
                "container has runAsNonRoot and image has non-numeric user ({username}), cannot verify \
                 user is non-root (pod: {pod:?}, container: {container})"
            ),
            ImageRunsAsRoot { pod, container } => write!(
                f,
                "container has runAsNonRoot and image will run as root (pod: {pod:?}, container: {container})"
            ),
            ImageInvalidUid { uid, pod, container } => write!(
                f,
                "container has runAsNonRoot and image has an invalid user id ({uid}). (Must be 1-(2147483647)): \
                 must be between 0 and 2147483647, inclusive (pod: {pod:?}, container: {container})"
            ),
            UserNamespacesUnsupported => {
                f.write_str("pods with hostUsers: false (user namespaces) are not supported by rkubelet")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_upstreams() {
        let k = BuildErrorKind::ConfigMapKeyNotFound {
            key: "FOO".into(),
            namespace: "default".into(),
            name: "cfg".into(),
        };
        assert_eq!(k.to_string(), "couldn't find key FOO in ConfigMap default/cfg");
        assert_eq!(
            BuildErrorKind::ConfigMapNotFound { name: "cfg".into() }.to_string(),
            "configmap \"cfg\" not found"
        );
        assert_eq!(BuildErrorKind::SecretNotFound { name: "s".into() }.to_string(), "secret \"s\" not found");
        let no_client = BuildErrorKind::NoApiClient {
            kind: "configMap",
            namespace: "default".into(),
            name: "cfg".into(),
        };
        assert_eq!(no_client.to_string(), "couldn't get configMap default/cfg, no kubeClient defined");
        let resolv = BuildErrorKind::ResolvConf { errors: vec!["nameserver list is empty ".into()] };
        assert_eq!(
            resolv.to_string(),
            "Encountered error while parsing resolv conf file. Error: nameserver list is empty "
        );
    }

    #[test]
    fn display_names_pod_and_container() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web".into());
        pod.metadata.namespace = Some("prod".into());
        let e = BuildError::new(&pod, Some("app"), BuildErrorKind::SecretNotFound { name: "s".into() });
        assert_eq!(e.to_string(), "pod prod/web container app: secret \"s\" not found");
        assert_eq!(e.message(), "secret \"s\" not found");
        let e = BuildError::new(&pod, None, BuildErrorKind::NoHostIp);
        assert_eq!(e.to_string(), "pod prod/web: host IP unknown; known addresses: []");
    }
}
