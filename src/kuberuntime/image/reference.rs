//! Image references as the kubelet reads them (upstream's `parsers.ParseImageName` over
//! `distribution/reference.ParseNormalizedNamed`).
//!
//! ```text
//!   busybox                  → docker.io/library/busybox          tag latest
//!   x/y:t                    → docker.io/x/y                      tag t
//!   host:5000/x@sha256:<64>  → host:5000/x                        digest sha256:<64>
//!   localhost/x, index.docker.io/x → localhost/x, docker.io/library/x
//! ```
#![forbid(unsafe_code)]

use std::fmt;

const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_PREFIX: &str = "library/";
const MAX_PATH_LEN: usize = 255;

/// Why an image name does not parse; `Display` is upstream's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRefError {
    pub image: String,
    pub reason: String,
}

impl fmt::Display for ImageRefError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "couldn't parse image name {:?}: {}", self.image, self.reason)
    }
}

impl std::error::Error for ImageRefError {}

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry host (with port), `docker.io` when none was named.
    pub domain: String,
    /// The repository path, `library/<name>` for official Docker Hub images.
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    /// `domain/path`: the repository to pull (upstream's `repoToPull`).
    pub fn repository(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The fully qualified reference, with `:latest` when neither tag nor digest was given.
    pub fn normalized(&self) -> String {
        let mut s = self.repository();
        match (&self.tag, &self.digest) {
            (None, None) => s.push_str(":latest"),
            (tag, digest) => {
                if let Some(t) = tag {
                    s.push(':');
                    s.push_str(t);
                }
                if let Some(d) = digest {
                    s.push('@');
                    s.push_str(d);
                }
            }
        }
        s
    }
}

/// Parses and normalises `image`.
pub fn parse(image: &str) -> Result<ImageRef, ImageRefError> {
    let fail = |reason: String| ImageRefError { image: image.to_string(), reason };
    if image.len() == 64 && image.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(fail(format!(
            "invalid repository name ({image}), cannot specify 64-byte hexadecimal strings"
        )));
    }
    let (domain, remainder) = split_docker_domain(image);
    let remote = remainder.split(':').next().unwrap_or("");
    if remote.to_lowercase() != remote {
        return Err(fail(format!("invalid reference format: repository name ({remote}) must be lowercase")));
    }
    parse_qualified(&domain, &remainder).map_err(fail)
}

/// Upstream's `ParseImageName`: repository, tag (`latest` when neither tag nor digest was
/// given) and digest.
pub fn parse_image_name(image: &str) -> Result<(String, String, String), ImageRefError> {
    let r = parse(image)?;
    let tag = match (&r.tag, &r.digest) {
        (None, None) => "latest".to_string(),
        (tag, _) => tag.clone().unwrap_or_default(),
    };
    Ok((r.repository(), tag, r.digest.clone().unwrap_or_default()))
}

/// Upstream's `applyDefaultImageTag`: `busybox` → `busybox:latest`; names with a tag or a
/// digest are kept as written (not qualified with `docker.io/library/`, which stays the
/// runtime's business).
pub fn apply_default_tag(image: &str) -> Result<String, ImageRefError> {
    let (_, tag, digest) = parse_image_name(image)?;
    if digest.is_empty() && !tag.is_empty() && !image.ends_with(&format!(":{tag}")) {
        return Ok(format!("{image}:{tag}"));
    }
    Ok(image.to_string())
}

fn split_docker_domain(name: &str) -> (String, String) {
    let Some((maybe_domain, rest)) = name.split_once('/') else {
        return (DEFAULT_DOMAIN.into(), format!("{OFFICIAL_PREFIX}{name}"));
    };
    let (domain, mut remote) = if maybe_domain == "localhost" {
        (maybe_domain.to_string(), rest.to_string())
    } else if maybe_domain == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN.to_string(), rest.to_string())
    } else if maybe_domain.contains(['.', ':']) || maybe_domain.to_lowercase() != maybe_domain {
        (maybe_domain.to_string(), rest.to_string())
    } else {
        (DEFAULT_DOMAIN.to_string(), name.to_string())
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        remote = format!("{OFFICIAL_PREFIX}{remote}");
    }
    (domain, remote)
}

/// Parses `domain/remainder` where `remainder` is `path[:tag][@digest]`.
fn parse_qualified(domain: &str, remainder: &str) -> Result<ImageRef, String> {
    if remainder.is_empty() {
        return Err("repository name must have at least one component".into());
    }
    let syntax = |s: &str| -> Result<(String, Option<String>, Option<String>), ()> {
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (s, None),
        };
        let (path, tag) = match rest.rsplit_once(':') {
            Some((p, t)) if !t.contains('/') => (p, Some(t)),
            _ => (rest, None),
        };
        let ok = valid_domain(domain)
            && valid_path(path)
            && tag.is_none_or(valid_tag)
            && digest.is_none_or(valid_digest_syntax);
        if !ok {
            return Err(());
        }
        Ok((path.to_string(), tag.map(str::to_string), digest.map(str::to_string)))
    };
    let (path, tag, digest) = match syntax(remainder) {
        Ok(parts) => parts,
        Err(()) if syntax(&remainder.to_lowercase()).is_ok() => {
            return Err("repository name must be lowercase".into());
        }
        Err(()) => return Err("invalid reference format".into()),
    };
    if path.len() > MAX_PATH_LEN {
        return Err(format!("repository name must not be more than {MAX_PATH_LEN} characters"));
    }
    if let Some(d) = &digest {
        validate_digest(d)?;
    }
    Ok(ImageRef { domain: domain.to_string(), path, tag, digest })
}

fn is_alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[a-z0-9]+ (separator [a-z0-9]+)*` per component, separators `.`, `_`, `__`, `-+`.
fn valid_path(path: &str) -> bool {
    path.split('/').all(|component| {
        let bytes = component.as_bytes();
        if bytes.first().is_none_or(|b| !is_alnum_lower(*b))
            || bytes.last().is_none_or(|b| !is_alnum_lower(*b))
        {
            return false;
        }
        let mut separators = component.split(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
        separators.all(|sep| matches!(sep, "" | "." | "_" | "__") || sep.bytes().all(|b| b == b'-'))
    })
}

fn valid_domain(domain: &str) -> bool {
    let (host_ok, port) = if let Some(rest) = domain.strip_prefix('[') {
        let Some((v6, port)) = rest.split_once(']') else { return false };
        (!v6.is_empty() && v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':'), port)
    } else {
        let (host, port) = match domain.find(':') {
            Some(i) => domain.split_at(i),
            None => (domain, ""),
        };
        (valid_host(host), port)
    };
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

/// Dot-separated labels of letters, digits and inner dashes.
fn valid_host(host: &str) -> bool {
    host.split('.').all(|label| {
        let b = label.as_bytes();
        b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
            && b.first().is_some_and(u8::is_ascii_alphanumeric)
            && b.last().is_some_and(u8::is_ascii_alphanumeric)
    })
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    b.len() <= 128
        && b.first().is_some_and(|c| is_word(*c))
        && b.iter().all(|c| is_word(*c) || *c == b'.' || *c == b'-')
}

/// `algorithm:hex{32,}` with `algorithm = [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*`.
fn valid_digest_syntax(digest: &str) -> bool {
    let Some((alg, hex)) = digest.split_once(':') else { return false };
    let alg_ok = alg.split(['-', '_', '+', '.']).all(|part| {
        let b = part.as_bytes();
        b.first().is_some_and(u8::is_ascii_alphabetic) && b.iter().all(u8::is_ascii_alphanumeric)
    });
    alg_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// go-digest's `Validate`: a known algorithm and a lowercase hex encoding of its size.
fn validate_digest(digest: &str) -> Result<(), String> {
    let (alg, hex) = digest.split_once(':').unwrap_or((digest, ""));
    let len = match alg {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err("unsupported digest algorithm".into()),
    };
    if hex.len() != len {
        return Err("invalid checksum digest length".into());
    }
    if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err("invalid checksum digest format".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn normalises_like_upstream() {
        let table = [
            ("busybox", "docker.io/library/busybox:latest"),
            ("busybox:1.35", "docker.io/library/busybox:1.35"),
            ("x/y:t", "docker.io/x/y:t"),
            ("index.docker.io/busybox", "docker.io/library/busybox:latest"),
            ("docker.io/library/busybox:1.35", "docker.io/library/busybox:1.35"),
            ("localhost/x", "localhost/x:latest"),
            ("registry.k8s.io/pause:3.10.2", "registry.k8s.io/pause:3.10.2"),
            ("127.0.0.1:5000/a/b-c__d.e:v1.0_rc-1", "127.0.0.1:5000/a/b-c__d.e:v1.0_rc-1"),
            ("Host:5000/x", "Host:5000/x:latest"),
            ("[::1]:5000/x", "[::1]:5000/x:latest"),
        ];
        for (input, want) in table {
            assert_eq!(parse(input).map(|r| r.normalized()), Ok(want.to_string()), "{input}");
        }
        let with_digest = format!("host:5000/x@{SHA}");
        let r = parse(&with_digest).expect("digest reference");
        assert_eq!((r.domain.as_str(), r.path.as_str(), r.tag.as_deref()), ("host:5000", "x", None));
        assert_eq!(r.digest.as_deref(), Some(SHA));
        assert_eq!(r.normalized(), with_digest);
    }

    #[test]
    fn parse_image_name_defaults_the_tag() {
        let q = parse_image_name;
        assert_eq!(q("busybox"), Ok(("docker.io/library/busybox".into(), "latest".into(), String::new())));
        assert_eq!(
            q(&format!("x@{SHA}")),
            Ok(("docker.io/library/x".into(), String::new(), SHA.to_string()))
        );
        assert_eq!(q(&format!("x:1@{SHA}")), Ok(("docker.io/library/x".into(), "1".into(), SHA.to_string())));
    }

    #[test]
    fn default_tag_keeps_the_name_as_written() {
        assert_eq!(apply_default_tag("busybox").as_deref(), Ok("busybox:latest"));
        assert_eq!(apply_default_tag("busybox:1.35").as_deref(), Ok("busybox:1.35"));
        assert_eq!(apply_default_tag("host:5000/x").as_deref(), Ok("host:5000/x:latest"));
        let d = format!("x@{SHA}");
        assert_eq!(apply_default_tag(&d).as_deref(), Ok(d.as_str()));
    }

    #[test]
    fn invalid_names_say_why() {
        let reason = |s: &str| parse(s).err().map(|e| e.reason).unwrap_or_default();
        assert_eq!(reason(""), "invalid reference format");
        assert_eq!(
            reason("BusyBox"),
            "invalid reference format: repository name (library/BusyBox) must be lowercase"
        );
        assert_eq!(reason("x/Y:1"), "invalid reference format: repository name (x/Y) must be lowercase");
        assert_eq!(reason("busybox:"), "invalid reference format");
        assert_eq!(reason("bu sy"), "invalid reference format");
        assert_eq!(reason("a//b"), "invalid reference format");
        assert_eq!(reason("-x"), "invalid reference format");
        assert_eq!(reason("x@sha256:abc"), "invalid reference format");
        assert_eq!(reason("x@md5:0123456789abcdef0123456789abcdef"), "unsupported digest algorithm");
        assert_eq!(reason(&format!("x@{SHA}0")), "invalid checksum digest length");
        assert_eq!(
            reason(&format!("x@{}", SHA.to_uppercase().replace("SHA", "sha"))),
            "invalid checksum digest format"
        );
        assert!(reason(&"a".repeat(64)).contains("cannot specify 64-byte hexadecimal strings"));
        assert!(reason(&format!("x/{}", "a".repeat(300))).contains("must not be more than 255"));
        let e = parse("x y").expect_err("space");
        assert_eq!(e.to_string(), "couldn't parse image name \"x y\": invalid reference format");
    }
}
