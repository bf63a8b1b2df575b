//! A pod's DNS configuration (the sandbox's `dns_config`), as upstream's DNS configurer.
//!
//! | dnsPolicy | servers | searches | options |
//! | --- | --- | --- | --- |
//! | `ClusterFirst` (pod network), `ClusterFirstWithHostNet` | clusterDNS | `<ns>.svc.<domain> svc.<domain> <domain>` + host's | `ndots:5` |
//! | `Default`, `ClusterFirst` on the host network | host's | host's | host's |
//! | `None` | | | |
//!
//! "Host's" is the node's resolver file; without one (`resolvConf: ""`) a pod gets
//! `127.0.0.1` (`::1` for an IPv6 node IP) and the search `.`. ClusterFirst without any
//! clusterDNS falls back to `Default`, with a warning. The pod's `dnsConfig` is then merged
//! in (servers and searches appended without duplicates, options by name), and the result
//! cut to upstream's limits: 3 servers, 32 search domains of at most 253 characters, 2048
//! characters of search line. Cuts are reported as warnings (upstream's `DNSConfigForming`
//! event). Upstream orders options by map iteration; ours keep first-seen order.

use std::net::IpAddr;

use crate::api::core::{Pod, PodDNSConfigOption};
use crate::cri::DNSConfig;

use super::build_error::BuildErrorKind;
use super::node::NodeContext;

const MAX_NAMESERVERS: usize = 3;
const MAX_SEARCH_PATHS: usize = 32;
const MAX_SEARCH_LINE_CHARS: usize = 2048;
const MAX_SEARCH_PATH_CHARS: usize = 253;
const CLUSTER_OPTIONS: &str = "ndots:5";

/// A pod's DNS configuration and the warnings (events) forming it produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodDns {
    pub config: DNSConfig,
    pub warnings: Vec<String>,
}

/// The nameservers, search domains and options of a resolver file.
pub fn parse_resolv_conf(text: &str) -> Result<DNSConfig, BuildErrorKind> {
    let mut conf = DNSConfig::default();
    let mut errors = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        match fields.next() {
            Some("nameserver") => match fields.next() {
                Some(server) => conf.servers.push(server.to_string()),
                None => errors.push("nameserver list is empty ".to_string()),
            },
            // The last search line wins, as in the resolver.
            Some("search") => {
                conf.searches =
                    fields.filter(|s| *s != ".").map(|s| s.trim_end_matches('.').to_string()).collect();
            }
            Some("options") => {
                for option in fields {
                    set_option(&mut conf.options, option.to_string());
                }
            }
            _ => {}
        }
    }
    if errors.is_empty() { Ok(conf) } else { Err(BuildErrorKind::ResolvConf { errors }) }
}

/// The DNS configuration of `pod`'s sandbox.
pub fn pod_dns_config(pod: &Pod, node: &NodeContext) -> Result<PodDns, BuildErrorKind> {
    let mut warnings = Vec::new();
    let host_network = pod.spec.host_network == Some(true);
    // An unset policy is the API default, ClusterFirst; an unknown one is treated as
    // ClusterFirst (upstream logs it).
    let policy = pod.spec.dns_policy.as_deref().unwrap_or("ClusterFirst");
    // Read first, as upstream: a broken resolver file fails every policy.
    let host = host_resolv_conf(node)?;
    let mut conf = match policy {
        "None" => DNSConfig::default(),
        "Default" => host_dns(host, node),
        "ClusterFirst" if host_network => host_dns(host, node),
        _ if node.cluster_dns.is_empty() => {
            warnings.push(format!(
                "pod: {:?}. kubelet does not have ClusterDNS IP configured and cannot create Pod using \
                 \"ClusterFirst\" policy. Falling back to \"Default\" policy.",
                pod_desc(pod)
            ));
            host_dns(host, node)
        }
        _ => DNSConfig {
            servers: node.cluster_dns.iter().map(|ip| normalize_ip(ip)).collect(),
            searches: cluster_searches(pod.metadata.namespace(), &node.cluster_domain, host.searches),
            options: vec![CLUSTER_OPTIONS.to_string()],
        },
    };
    if let Some(extra) = &pod.spec.dns_config {
        append_unique(&mut conf.servers, &extra.nameservers);
        append_unique(&mut conf.searches, &extra.searches);
        merge_pod_options(&mut conf.options, &extra.options);
    }
    fit_limits(&mut conf, &mut warnings);
    Ok(PodDns { config: conf, warnings })
}

/// The node's resolver file, parsed (empty without one).
fn host_resolv_conf(node: &NodeContext) -> Result<DNSConfig, BuildErrorKind> {
    if node.resolv_conf.is_empty() { Ok(DNSConfig::default()) } else { parse_resolv_conf(&node.resolv_conf) }
}

/// The host's resolver settings; without a resolver file, the local resolver on each node IP
/// family and the search `.`.
fn host_dns(host: DNSConfig, node: &NodeContext) -> DNSConfig {
    if !node.resolv_conf.is_empty() {
        return host;
    }
    let mut servers: Vec<String> = node
        .host_ips
        .iter()
        .map(|ip| match ip.parse::<IpAddr>() {
            Ok(IpAddr::V6(_)) => "::1".to_string(),
            _ => "127.0.0.1".to_string(),
        })
        .collect();
    if servers.is_empty() {
        servers.push("127.0.0.1".to_string());
    }
    DNSConfig { servers, searches: vec![".".to_string()], options: host.options }
}

fn cluster_searches(namespace: &str, domain: &str, host: Vec<String>) -> Vec<String> {
    if domain.is_empty() {
        return host;
    }
    let mut searches = vec![format!("{namespace}.svc.{domain}"), format!("svc.{domain}"), domain.to_string()];
    append_unique(&mut searches, &host);
    searches
}

fn append_unique(list: &mut Vec<String>, extra: &[String]) {
    for item in extra {
        list.push(item.clone());
    }
    let mut seen = std::collections::HashSet::new();
    list.retain(|s| seen.insert(s.clone()));
}

/// Sets `name[:value]`, replacing an option of the same name in place.
fn set_option(options: &mut Vec<String>, option: String) {
    let name = option.split(':').next().unwrap_or_default().to_string();
    match options.iter_mut().find(|o| o.split(':').next() == Some(name.as_str())) {
        Some(slot) => *slot = option,
        None => options.push(option),
    }
}

fn merge_pod_options(options: &mut Vec<String>, extra: &[PodDNSConfigOption]) {
    for op in extra {
        let option = match op.value.as_deref().filter(|v| !v.is_empty()) {
            Some(value) => format!("{}:{value}", op.name),
            None => op.name.clone(),
        };
        set_option(options, option);
    }
}

fn fit_limits(conf: &mut DNSConfig, warnings: &mut Vec<String>) {
    if conf.servers.len() > MAX_NAMESERVERS {
        conf.servers.truncate(MAX_NAMESERVERS);
        warnings.push(format!(
            "Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver \
             line is: {}",
            conf.servers.join(" ")
        ));
    }
    let mut exceeded = conf.searches.len() > MAX_SEARCH_PATHS;
    conf.searches.truncate(MAX_SEARCH_PATHS);
    let before = conf.searches.len();
    conf.searches.retain(|s| s.len() <= MAX_SEARCH_PATH_CHARS);
    exceeded |= conf.searches.len() != before;
    let mut line_len = conf.searches.join(" ").len();
    while line_len > MAX_SEARCH_LINE_CHARS {
        let Some(last) = conf.searches.pop() else { break };
        line_len = line_len.saturating_sub(last.len() + 1);
        exceeded = true;
    }
    if exceeded {
        warnings.push(format!(
            "Search Line limits were exceeded, some search paths have been omitted, the applied search line \
             is: {}",
            conf.searches.join(" ")
        ));
    }
}

/// An IP in its canonical text form (as Go prints a parsed IP), or as given when not an IP.
fn normalize_ip(ip: &str) -> String {
    ip.trim().parse::<IpAddr>().map_or_else(|_| ip.trim().to_string(), |a| a.to_string())
}

/// Upstream's `format.Pod`: `<name>_<namespace>(<uid>)`.
pub(crate) fn pod_desc(pod: &Pod) -> String {
    format!("{}_{}({})", pod.metadata.name(), pod.metadata.namespace(), pod.metadata.uid())
}

#[cfg(test)]
#[path = "dns_tests.rs"]
mod tests;
