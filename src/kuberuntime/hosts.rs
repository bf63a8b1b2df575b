//! The pod's hostname and its kubelet-managed `/etc/hosts`.
//!
//! The hostname is `spec.hostnameOverride`, else `spec.hostname`, else the pod name, cut to
//! 63 characters; with a `subdomain` the pod also has the domain
//! `<subdomain>.<namespace>.svc.<clusterDomain>`. Every container (except those that mount
//! something at `/etc/hosts` themselves) gets `<pod-dir>/etc-hosts` mounted at `/etc/hosts`,
//! once the pod has IPs (or uses the host network), with this content (fields separated by
//! tabs):
//!
//! ```text
//! # Kubernetes-managed hosts file.
//! 127.0.0.1   localhost
//! ::1         localhost ip6-localhost ip6-loopback
//! fe00::0     ip6-localnet
//! fe00::0     ip6-mcastprefix
//! fe00::1     ip6-allnodes
//! fe00::2     ip6-allrouters
//! 10.1.2.3    web-0.web.prod.svc.cluster.local    web-0
//!
//! # Entries added by HostAliases.
//! 10.9.9.9    foo    bar
//! ```
//!
//! A host-network pod gets the node's own `/etc/hosts` under a different header instead.
//! Writing the file is the caller's job (see [`super::paths::etc_hosts_path`]).

use std::fmt::Write as _;

use crate::api::core::{Container, HostAlias, Pod};

use super::build_error::BuildErrorKind;

/// Where the managed file is mounted in containers.
pub const ETC_HOSTS: &str = "/etc/hosts";
const HEADER: &str = "# Kubernetes-managed hosts file.\n";
const HEADER_HOST_NETWORK: &str = "# Kubernetes-managed hosts file (host network).\n";
const HOSTNAME_MAX_LEN: usize = 63;
const FQDN_MAX_LEN: usize = 64;

/// The pod's hostname and, with a subdomain, its domain (upstream's
/// `GeneratePodHostNameAndDomain`).
pub fn pod_hostname_and_domain(
    pod: &Pod,
    cluster_domain: &str,
) -> Result<(String, Option<String>), BuildErrorKind> {
    let spec = &pod.spec;
    if let Some(name) = &spec.hostname_override {
        let reasons = dns1123_subdomain_errors(name);
        if !reasons.is_empty() {
            return Err(invalid("HostnameOverride", name, reasons));
        }
        return Ok((truncate_hostname(name)?, None));
    }
    let mut hostname = pod.metadata.name();
    if let Some(name) = spec.hostname.as_deref().filter(|h| !h.is_empty()) {
        let reasons = dns1123_label_errors(name);
        if !reasons.is_empty() {
            return Err(invalid("Hostname", name, reasons));
        }
        hostname = name;
    }
    let hostname = truncate_hostname(hostname)?;
    let domain = match spec.subdomain.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(sub) => {
            let reasons = dns1123_label_errors(sub);
            if !reasons.is_empty() {
                return Err(invalid("Subdomain", sub, reasons));
            }
            Some(format!("{sub}.{}.svc.{cluster_domain}", pod.metadata.namespace()))
        }
    };
    Ok((hostname, domain))
}

/// The name the sandbox's kernel gets: the hostname, or `hostname.domain` with
/// `setHostnameAsFQDN` (at most 64 characters, else an error as upstream).
pub fn kernel_hostname(pod: &Pod, hostname: &str, domain: Option<&str>) -> Result<String, BuildErrorKind> {
    match domain {
        Some(domain) if pod.spec.set_hostname_as_fqdn == Some(true) => {
            let fqdn = format!("{hostname}.{domain}");
            if fqdn.len() > FQDN_MAX_LEN {
                return Err(BuildErrorKind::FqdnTooLong { fqdn });
            }
            Ok(fqdn)
        }
        _ => Ok(hostname.to_string()),
    }
}

/// Whether `container` gets the managed `/etc/hosts` (upstream's `shouldMountHostsFile`, plus
/// its rule that a container mounting a volume at `/etc/hosts` keeps its own).
pub fn needs_managed_etc_hosts(pod: &Pod, container: &Container, pod_ips: &[String]) -> bool {
    let ready = !pod_ips.is_empty() || pod.spec.host_network == Some(true);
    ready && container.volume_mounts.iter().all(|m| m.mount_path != ETC_HOSTS)
}

/// The managed hosts file of a pod on the pod network (upstream's `managedHostsFileContent`).
pub fn etc_hosts_content(pod: &Pod, pod_ips: &[String], hostname: &str, domain: Option<&str>) -> String {
    let mut out = String::from(HEADER);
    out.push_str("127.0.0.1\tlocalhost\n");
    out.push_str("::1\tlocalhost ip6-localhost ip6-loopback\n");
    out.push_str("fe00::0\tip6-localnet\n");
    out.push_str("fe00::0\tip6-mcastprefix\n");
    out.push_str("fe00::1\tip6-allnodes\n");
    out.push_str("fe00::2\tip6-allrouters\n");
    for ip in pod_ips {
        // Writing to a String cannot fail.
        let _ = match domain.filter(|d| !d.is_empty()) {
            Some(domain) => writeln!(out, "{ip}\t{hostname}.{domain}\t{hostname}"),
            None => writeln!(out, "{ip}\t{hostname}"),
        };
    }
    out.push_str(&host_aliases(&pod.spec.host_aliases));
    out
}

/// The hosts file of a host-network pod: the node's `/etc/hosts` (its text, read by the
/// caller) under the host-network header, then the pod's host aliases.
pub fn host_network_etc_hosts_content(node_hosts: &str, aliases: &[HostAlias]) -> String {
    format!("{HEADER_HOST_NETWORK}{node_hosts}{}", host_aliases(aliases))
}

fn host_aliases(aliases: &[HostAlias]) -> String {
    if aliases.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n# Entries added by HostAliases.\n");
    for alias in aliases {
        let _ = writeln!(out, "{}\t{}", alias.ip, alias.hostnames.join("\t"));
    }
    out
}

/// Cuts a hostname to 63 characters, then trims trailing `-` and `.`.
fn truncate_hostname(hostname: &str) -> Result<String, BuildErrorKind> {
    if hostname.len() <= HOSTNAME_MAX_LEN {
        return Ok(hostname.to_string());
    }
    // Valid names are ASCII; `get` refuses to cut inside a character of an invalid one.
    let cut = hostname.get(..HOSTNAME_MAX_LEN).unwrap_or(hostname);
    let trimmed = cut.trim_end_matches(['-', '.']);
    if trimmed.is_empty() {
        return Err(invalid("Hostname", hostname, vec!["it is empty once cut to 63 characters".into()]));
    }
    log::warn!("hostname {hostname:?} was longer than {HOSTNAME_MAX_LEN} characters, cut to {trimmed:?}");
    Ok(trimmed.to_string())
}

fn invalid(field: &'static str, value: &str, reasons: Vec<String>) -> BuildErrorKind {
    BuildErrorKind::InvalidHostname { field, value: value.to_string(), reasons }
}

const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', \
     and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for \
     validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \
     '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for \
     validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => alnum(first) && alnum(last) && b.iter().all(|c| alnum(c) || *c == b'-'),
        _ => false,
    }
}

fn is_subdomain(s: &str) -> bool {
    s.split('.').all(is_label)
}

/// Upstream's `IsDNS1123Label` messages (empty when valid).
pub fn dns1123_label_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > HOSTNAME_MAX_LEN {
        errs.push(format!("must be no more than {HOSTNAME_MAX_LEN} characters"));
    }
    if !is_label(s) {
        errs.push(if is_subdomain(s) { "must not contain dots".to_string() } else { LABEL_MSG.to_string() });
    }
    errs
}

/// Upstream's `IsDNS1123Subdomain` messages (empty when valid).
pub fn dns1123_subdomain_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    if !is_subdomain(s) {
        errs.push(SUBDOMAIN_MSG.to_string());
    }
    errs
}

#[cfg(test)]
#[path = "hosts_tests.rs"]
mod tests;
