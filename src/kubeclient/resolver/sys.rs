//! The system's resolver files (`/etc/hosts`, `/etc/resolv.conf`) and the UDP exchange.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::ResolveError;
use super::dns::{self, QType, RCODE_NOERROR, RCODE_NXDOMAIN};

/// `/etc/hosts`: address, canonical name, aliases; `#` starts a comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostsFile {
    entries: Vec<(IpAddr, Vec<String>)>,
}

impl HostsFile {
    /// Parses the text of a hosts file; lines that make no sense are skipped, as libc does.
    pub fn parse(text: &str) -> Self {
        let entries = text
            .lines()
            .filter_map(|line| {
                let line = line.split('#').next().unwrap_or_default();
                let mut fields = line.split_whitespace();
                let ip = fields.next()?.parse::<IpAddr>().ok()?;
                let names: Vec<String> = fields.map(|n| n.to_ascii_lowercase()).collect();
                (!names.is_empty()).then_some((ip, names))
            })
            .collect();
        HostsFile { entries }
    }

    /// Every address listed for `name`, in file order.
    pub fn lookup(&self, name: &str) -> Vec<IpAddr> {
        let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
        self.entries
            .iter()
            .filter(|(_, names)| names.iter().any(|n| n.strip_suffix('.').unwrap_or(n) == name))
            .map(|(ip, _)| *ip)
            .collect()
    }
}

/// The parts of `/etc/resolv.conf` a stub resolver uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvConf {
    pub nameservers: Vec<SocketAddr>,
    pub search: Vec<String>,
    pub ndots: usize,
    pub timeout: Duration,
    pub attempts: u32,
}

/// glibc's limits and defaults (resolv.conf(5)).
const MAX_NAMESERVERS: usize = 3;
const DEFAULT_TIMEOUT_SECS: u64 = 5;
const MAX_TIMEOUT_SECS: u64 = 30;
const DEFAULT_ATTEMPTS: u32 = 2;
const MAX_ATTEMPTS: u32 = 5;
const MAX_NDOTS: usize = 15;
const DNS_PORT: u16 = 53;

impl Default for ResolvConf {
    fn default() -> Self {
        ResolvConf {
            nameservers: Vec::new(),
            search: Vec::new(),
            ndots: 1,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
            attempts: DEFAULT_ATTEMPTS,
        }
    }
}

impl ResolvConf {
    /// Parses resolv.conf text; unknown keywords and options are ignored, and without any
    /// `nameserver` line the local host is asked, as glibc does.
    pub fn parse(text: &str) -> Self {
        let mut conf = ResolvConf::default();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            let Some(keyword) = words.next() else { continue };
            match keyword {
                "nameserver" => {
                    let ip = words.next().map(|w| w.split('%').next().unwrap_or(w));
                    if let Some(Ok(ip)) = ip.map(str::parse::<IpAddr>)
                        && conf.nameservers.len() < MAX_NAMESERVERS
                    {
                        conf.nameservers.push(SocketAddr::new(ip, DNS_PORT));
                    }
                }
                // The last `domain` or `search` line wins.
                "domain" => conf.search = words.next().map(trim_dot).into_iter().collect(),
                "search" => conf.search = words.map(trim_dot).collect(),
                "options" => {
                    for option in words {
                        conf.apply_option(option);
                    }
                }
                _ => {}
            }
        }
        if conf.nameservers.is_empty() {
            conf.nameservers.push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DNS_PORT));
        }
        conf
    }

    fn apply_option(&mut self, option: &str) {
        let Some((name, value)) = option.split_once(':') else { return };
        let Ok(value) = value.parse::<u64>() else { return };
        match name {
            "ndots" => self.ndots = usize::try_from(value.min(MAX_NDOTS as u64)).unwrap_or(1),
            "timeout" => self.timeout = Duration::from_secs(value.clamp(1, MAX_TIMEOUT_SECS)),
            "attempts" => self.attempts = u32::try_from(value.clamp(1, u64::from(MAX_ATTEMPTS))).unwrap_or(1),
            _ => {}
        }
    }

    /// The names to ask for, in order: an absolute name (trailing dot) as is; a name with at
    /// least `ndots` dots first as is, then with each search domain; others the other way round.
    pub fn candidates(&self, name: &str) -> Vec<String> {
        if let Some(absolute) = name.strip_suffix('.') {
            return vec![absolute.to_string()];
        }
        let searched = self.search.iter().map(|domain| format!("{name}.{domain}"));
        if name.matches('.').count() >= self.ndots {
            std::iter::once(name.to_string()).chain(searched).collect()
        } else {
            searched.chain(std::iter::once(name.to_string())).collect()
        }
    }
}

fn trim_dot(domain: &str) -> String {
    domain.strip_suffix('.').unwrap_or(domain).to_string()
}

/// Asks the name servers for each candidate name until one has addresses.
pub(super) fn query_dns(conf: &ResolvConf, host: &str, deadline: Option<Instant>) -> Result<Vec<IpAddr>, ResolveError> {
    let mut failure = None;
    for name in conf.candidates(host) {
        match query_name(conf, &name, deadline) {
            Ok(Some(addrs)) if !addrs.is_empty() => return Ok(addrs),
            Ok(_) => {}
            Err(Exchange::Timeout) => return Err(ResolveError::Timeout { host: host.to_string() }),
            Err(Exchange::Failed(detail)) => failure = Some(detail),
        }
    }
    Err(match failure {
        Some(detail) => ResolveError::Dns { host: host.to_string(), detail },
        None => ResolveError::NotFound { host: host.to_string() },
    })
}

enum Exchange {
    Timeout,
    Failed(String),
}

/// `Some(addrs)` when a server answered for `name` (possibly with no address of either type),
/// `None` when it said the name does not exist.
fn query_name(conf: &ResolvConf, name: &str, deadline: Option<Instant>) -> Result<Option<Vec<IpAddr>>, Exchange> {
    let mut last = Exchange::Timeout;
    for _ in 0..conf.attempts {
        for server in &conf.nameservers {
            let mut wait = conf.timeout;
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Exchange::Timeout);
                }
                wait = wait.min(left);
            }
            match exchange(*server, name, wait) {
                Ok(answer) => return Ok(answer),
                Err(e) => last = e,
            }
        }
    }
    Err(last)
}

/// How long to keep waiting for the second answer once the first has addresses.
const SECOND_ANSWER_GRACE: Duration = Duration::from_millis(300);

/// One round trip to one server: the A and AAAA questions go out together on one socket.
fn exchange(server: SocketAddr, name: &str, wait: Duration) -> Result<Option<Vec<IpAddr>>, Exchange> {
    let failed = |what: &str, e: &dyn std::fmt::Display| Exchange::Failed(format!("{what} {server}: {e}"));
    let local: IpAddr = match server {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    let socket = UdpSocket::bind((local, 0)).map_err(|e| failed("binding a socket for", &e))?;
    // Connecting makes the kernel drop datagrams from anyone but the server.
    socket.connect(server).map_err(|e| failed("connecting to", &e))?;
    let [id_a, id_aaaa] = query_ids();
    let queries = [(id_a, QType::A), (id_aaaa, QType::Aaaa)];
    for (id, qtype) in queries {
        let query = dns::encode_query(id, name, qtype).map_err(|e| failed("querying", &e))?;
        socket.send(&query).map_err(|e| failed("sending to", &e))?;
    }

    let mut deadline = Instant::now() + wait;
    let mut answers: [Option<dns::Response>; 2] = [None, None];
    let mut buf = [0u8; 1232]; // the EDNS-safe datagram size; we send no EDNS, servers use 512
    while answers.iter().any(Option::is_none) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        socket.set_read_timeout(Some(left)).map_err(|e| failed("waiting for", &e))?;
        let len = match socket.recv(&mut buf) {
            Ok(len) => len,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => break,
            Err(e) => return Err(failed("receiving from", &e)),
        };
        let msg = buf.get(..len).unwrap_or_default();
        for (slot, (id, qtype)) in answers.iter_mut().zip(queries) {
            if slot.is_none()
                && let Ok(resp) = dns::decode_response(msg, id, name, qtype)
            {
                if !resp.addrs.is_empty() {
                    deadline = deadline.min(Instant::now() + SECOND_ANSWER_GRACE);
                }
                *slot = Some(resp);
            }
        }
    }

    let answered: Vec<dns::Response> = answers.into_iter().flatten().collect();
    if answered.is_empty() {
        return Err(Exchange::Timeout);
    }
    let addrs: Vec<IpAddr> = answered.iter().flat_map(|r| r.addrs.iter().copied()).collect();
    if !addrs.is_empty() {
        return Ok(Some(addrs));
    }
    if answered.iter().any(|r| r.rcode == RCODE_NXDOMAIN) {
        return Ok(None);
    }
    match answered.iter().find(|r| r.rcode != RCODE_NOERROR) {
        Some(r) => Err(Exchange::Failed(format!("server {server} answered with rcode {}", r.rcode))),
        None => Ok(Some(Vec::new())),
    }
}

/// Unpredictable query ids, so that an off-path sender cannot guess them.
fn query_ids() -> [u16; 2] {
    let mut bytes = [0u8; 4];
    let provider = rustls::crypto::ring::default_provider();
    if provider.secure_random.fill(&mut bytes).is_err() {
        // Never expected on Linux; a per-process random hash key is the fallback.
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(u64::from(std::process::id()));
        bytes = h.finish().to_le_bytes()[..4].try_into().unwrap_or_default();
    }
    let [a, b, c, d] = bytes;
    let id_a = u16::from_be_bytes([a, b]);
    let id_aaaa = u16::from_be_bytes([c, d]);
    // Distinct ids keep the two answers apart even though the questions differ anyway.
    [id_a, if id_aaaa == id_a { id_a.wrapping_add(1) } else { id_aaaa }]
}
