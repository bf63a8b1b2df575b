//! DNS messages for A and AAAA lookups (RFC 1035, RFC 3596), sans-I/O.
//!
//! [`encode_query`] builds one recursive question; [`decode_response`] reads the answer to it.
//! The response comes from the network, so every read goes through [`Reader`], which checks
//! bounds, limits compression-pointer hops and never panics. Only what a lookup needs is
//! decoded: the header, the echoed question (it must match ours) and the A, AAAA and CNAME
//! records of the answer section, following the CNAME chain from the name we asked for.
#![forbid(unsafe_code)]

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The record types we ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QType {
    A,
    Aaaa,
}

impl QType {
    fn code(self) -> u16 {
        match self {
            QType::A => TYPE_A,
            QType::Aaaa => TYPE_AAAA,
        }
    }
}

const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;
const HEADER_LEN: usize = 12;
const MAX_NAME_LEN: usize = 255;
const MAX_LABEL_LEN: usize = 63;
/// Compression pointers allowed per name: more means a loop or a hostile packet.
const MAX_POINTER_HOPS: usize = 32;
/// CNAME links followed from the question name.
const MAX_CNAME_CHAIN: usize = 8;

/// Why a DNS message could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsError {
    /// The name cannot be put in a query (empty label, label over 63 bytes, name over 255).
    BadName,
    /// The message ends before a field it announces.
    Truncated,
    /// A name in the message is malformed (reserved label type, too long, pointer loop).
    BadLabel,
    /// The message is not the answer to our question (id, flags or question differ).
    Mismatch,
    /// An A or AAAA record has the wrong data length.
    BadRecord,
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DnsError::BadName => "name cannot be queried",
            DnsError::Truncated => "message truncated",
            DnsError::BadLabel => "malformed name in message",
            DnsError::Mismatch => "response does not match the query",
            DnsError::BadRecord => "malformed address record",
        })
    }
}

impl std::error::Error for DnsError {}

/// What a server said about our question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The RCODE: 0 no error, 2 server failure, 3 no such name, ...
    pub rcode: u8,
    /// The TC bit: the server cut the answer to fit in a datagram.
    pub truncated: bool,
    /// Addresses of the requested type for the name (through CNAMEs), in message order.
    pub addrs: Vec<IpAddr>,
}

pub const RCODE_NOERROR: u8 = 0;
pub const RCODE_NXDOMAIN: u8 = 3;

/// Builds a recursive query for `name` (a trailing dot is allowed).
pub fn encode_query(id: u16, name: &str, qtype: QType) -> Result<Vec<u8>, DnsError> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() + 1 > MAX_NAME_LEN {
        return Err(DnsError::BadName);
    }
    let mut msg = Vec::with_capacity(HEADER_LEN + name.len() + 6);
    msg.extend_from_slice(&id.to_be_bytes());
    msg.extend_from_slice(&0x0100u16.to_be_bytes()); // RD: ask for recursion
    msg.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    msg.extend_from_slice(&[0; 6]); // ANCOUNT, NSCOUNT, ARCOUNT
    for label in name.split('.') {
        let len = u8::try_from(label.len()).map_err(|_| DnsError::BadName)?;
        if len == 0 || usize::from(len) > MAX_LABEL_LEN {
            return Err(DnsError::BadName);
        }
        msg.push(len);
        msg.extend_from_slice(label.as_bytes());
    }
    msg.push(0);
    msg.extend_from_slice(&qtype.code().to_be_bytes());
    msg.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(msg)
}

/// Reads the response to the query `encode_query(id, name, qtype)`.
pub fn decode_response(msg: &[u8], id: u16, name: &str, qtype: QType) -> Result<Response, DnsError> {
    let mut r = Reader { msg, pos: 0 };
    let resp_id = r.u16()?;
    let flags = r.u16()?;
    let qdcount = r.u16()?;
    let ancount = r.u16()?;
    r.u16()?; // NSCOUNT
    r.u16()?; // ARCOUNT
    let is_response = flags & 0x8000 != 0;
    let opcode = (flags >> 11) & 0xf;
    if resp_id != id || !is_response || opcode != 0 || qdcount != 1 {
        return Err(DnsError::Mismatch);
    }
    let truncated = flags & 0x0200 != 0;
    let rcode = u8::try_from(flags & 0xf).map_err(|_| DnsError::Mismatch)?;

    let want = normalize(name);
    let qname = r.name()?;
    let (qt, qclass) = (r.u16()?, r.u16()?);
    if qname != want || qt != qtype.code() || qclass != CLASS_IN {
        return Err(DnsError::Mismatch);
    }

    let mut records = Vec::new();
    for _ in 0..ancount {
        let owner = match r.name() {
            Ok(owner) => owner,
            // A truncated answer section still carries whatever records came before the cut.
            Err(DnsError::Truncated) if truncated => break,
            Err(e) => return Err(e),
        };
        let rtype = r.u16()?;
        let rclass = r.u16()?;
        r.u32()?; // TTL: we do not cache
        let rdlen = usize::from(r.u16()?);
        let rdata_start = r.pos;
        let rdata = r.take(rdlen)?;
        if rclass != CLASS_IN {
            continue;
        }
        let data = match rtype {
            TYPE_A => {
                let octets: [u8; 4] = rdata.try_into().map_err(|_| DnsError::BadRecord)?;
                Record::Addr(IpAddr::V4(Ipv4Addr::from(octets)))
            }
            TYPE_AAAA => {
                let octets: [u8; 16] = rdata.try_into().map_err(|_| DnsError::BadRecord)?;
                Record::Addr(IpAddr::V6(Ipv6Addr::from(octets)))
            }
            TYPE_CNAME => {
                // The target may point back into the message, so read it in place.
                let mut target = Reader { msg, pos: rdata_start };
                Record::Cname(target.name()?)
            }
            _ => continue,
        };
        records.push((owner, data));
    }

    Ok(Response { rcode, truncated, addrs: follow_chain(&want, &records, qtype) })
}

enum Record {
    Addr(IpAddr),
    Cname(String),
}

/// Addresses owned by `name` or by the names its CNAME chain leads to.
fn follow_chain(name: &str, records: &[(String, Record)], qtype: QType) -> Vec<IpAddr> {
    let mut chain = vec![name.to_string()];
    for _ in 0..MAX_CNAME_CHAIN {
        let Some(last) = chain.last() else { break };
        let next = records.iter().find_map(|(owner, rec)| match rec {
            Record::Cname(target) if owner == last => Some(target.clone()),
            _ => None,
        });
        match next {
            Some(target) if !chain.contains(&target) => chain.push(target),
            _ => break,
        }
    }
    records
        .iter()
        .filter_map(|(owner, rec)| match rec {
            Record::Addr(ip) if chain.contains(owner) && matches_type(*ip, qtype) => Some(*ip),
            _ => None,
        })
        .collect()
}

fn matches_type(ip: IpAddr, qtype: QType) -> bool {
    matches!((ip, qtype), (IpAddr::V4(_), QType::A) | (IpAddr::V6(_), QType::Aaaa))
}

/// Names compare case-insensitively and without the root dot.
fn normalize(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// Bounds-checked cursor over a message.
struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DnsError> {
        let end = self.pos.checked_add(n).ok_or(DnsError::Truncated)?;
        let bytes = self.msg.get(self.pos..end).ok_or(DnsError::Truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, DnsError> {
        let [b] = self.take(1)?.try_into().map_err(|_| DnsError::Truncated)?;
        Ok(b)
    }

    fn u16(&mut self) -> Result<u16, DnsError> {
        let bytes: [u8; 2] = self.take(2)?.try_into().map_err(|_| DnsError::Truncated)?;
        Ok(u16::from_be_bytes(bytes))
    }

    fn u32(&mut self) -> Result<u32, DnsError> {
        let bytes: [u8; 4] = self.take(4)?.try_into().map_err(|_| DnsError::Truncated)?;
        Ok(u32::from_be_bytes(bytes))
    }

    /// Reads a (possibly compressed) name, lower-cased, labels joined with dots. The cursor
    /// ends after the name's bytes at its original place, not where a pointer led.
    fn name(&mut self) -> Result<String, DnsError> {
        let mut name = String::new();
        let mut wire_len = 0usize;
        let mut hops = 0usize;
        // Where to continue once a pointer has been followed (None: still in place).
        let mut resume: Option<usize> = None;
        loop {
            let len = self.u8()?;
            match len >> 6 {
                0 => {
                    if len == 0 {
                        break;
                    }
                    let label = self.take(usize::from(len))?;
                    wire_len += label.len() + 1;
                    if wire_len + 1 > MAX_NAME_LEN {
                        return Err(DnsError::BadLabel);
                    }
                    if !name.is_empty() {
                        name.push('.');
                    }
                    // Host names are ASCII; other bytes are kept as replacement characters,
                    // so they can never equal a name we asked for.
                    name.push_str(&String::from_utf8_lossy(label).to_ascii_lowercase());
                }
                3 => {
                    let low = self.u8()?;
                    hops += 1;
                    if hops > MAX_POINTER_HOPS {
                        return Err(DnsError::BadLabel);
                    }
                    resume.get_or_insert(self.pos);
                    self.pos = (usize::from(len & 0x3f) << 8) | usize::from(low);
                }
                _ => return Err(DnsError::BadLabel),
            }
        }
        if let Some(pos) = resume {
            self.pos = pos;
        }
        Ok(name)
    }
}

#[cfg(test)]
mod tests;
