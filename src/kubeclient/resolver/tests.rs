use super::*;
use std::net::UdpSocket;
use std::thread;

#[test]
fn hosts_file_lookup() {
    let hosts = HostsFile::parse(
        "# comment line\n\
         127.0.0.1\tlocalhost\n\
         ::1 localhost ip6-localhost\n\
         10.0.0.5  API.cluster.local api   # trailing comment\n\
         10.0.0.6 api\n\
         not-an-ip bogus\n\
         10.0.0.7\n",
    );
    assert_eq!(hosts.lookup("api"), vec![IpAddr::from([10, 0, 0, 5]), IpAddr::from([10, 0, 0, 6])]);
    assert_eq!(hosts.lookup("api.Cluster.local."), vec![IpAddr::from([10, 0, 0, 5])]);
    assert_eq!(
        hosts.lookup("localhost"),
        vec![IpAddr::from([127, 0, 0, 1]), IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])]
    );
    assert!(hosts.lookup("bogus").is_empty());
    assert!(hosts.lookup("trailing").is_empty());
}

#[test]
fn resolv_conf_parsing() {
    let conf = ResolvConf::parse(
        "# generated\n\
         nameserver 10.255.255.53\n\
         nameserver fe80::1%eth0\n\
         nameserver bogus\n\
         nameserver 10.0.0.2\n\
         nameserver 10.0.0.3\n\
         domain ignored.example\n\
         search cluster.local. example.com\n\
         options ndots:5 timeout:2 attempts:9 rotate\n",
    );
    assert_eq!(
        conf.nameservers,
        vec![
            "10.255.255.53:53".parse::<SocketAddr>().expect("addr"),
            "[fe80::1]:53".parse().expect("addr"),
            "10.0.0.2:53".parse().expect("addr"),
        ]
    );
    assert_eq!(conf.search, vec!["cluster.local", "example.com"]);
    assert_eq!(conf.ndots, 5);
    assert_eq!(conf.timeout, Duration::from_secs(2));
    assert_eq!(conf.attempts, 5);

    let empty = ResolvConf::parse("");
    assert_eq!(empty.nameservers, vec!["127.0.0.1:53".parse::<SocketAddr>().expect("addr")]);
    assert_eq!((empty.ndots, empty.attempts), (1, 2));
}

#[test]
fn search_candidates_follow_ndots() {
    let conf = ResolvConf { search: vec!["a.example".into(), "b.example".into()], ..Default::default() };
    assert_eq!(conf.candidates("api.x"), vec!["api.x", "api.x.a.example", "api.x.b.example"]);
    assert_eq!(conf.candidates("api"), vec!["api.a.example", "api.b.example", "api"]);
    assert_eq!(conf.candidates("api.x."), vec!["api.x"]);
}

#[test]
fn literals_hosts_and_localhost_need_no_dns() {
    let dir = tempdir("literals");
    let hosts = dir.join("hosts");
    std::fs::write(&hosts, "192.0.2.10 apiserver\n").expect("write hosts");
    // A resolv.conf pointing at a black hole: any DNS use would time out.
    let conf = dir.join("resolv.conf");
    std::fs::write(&conf, "nameserver 192.0.2.254\noptions timeout:1 attempts:1\n").expect("write");
    let r = HostResolver::with_files(&hosts, &conf);
    assert_eq!(r.lookup("10.1.2.3", None), Ok(vec![IpAddr::from([10, 1, 2, 3])]));
    assert_eq!(r.lookup("[fd00::1]", None), Ok(vec!["fd00::1".parse::<IpAddr>().expect("ip")]));
    assert_eq!(r.lookup("APISERVER", None), Ok(vec![IpAddr::from([192, 0, 2, 10])]));
    assert_eq!(r.lookup("localhost", None).expect("localhost")[0], IpAddr::from([127, 0, 0, 1]));
}

/// A fake name server on loopback answering A queries for `known` with `addr`, NXDOMAIN
/// otherwise, for `rounds` datagrams.
fn fake_server(known: &'static str, addr: [u8; 4], rounds: usize) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let local = socket.local_addr().expect("addr");
    thread::spawn(move || {
        let mut buf = [0u8; 512];
        for _ in 0..rounds {
            let Ok((len, peer)) = socket.recv_from(&mut buf) else { return };
            let query = &buf[..len];
            let mut resp = query.to_vec();
            resp[2] |= 0x80;
            let qname_end = 12 + query[12..].iter().position(|&b| b == 0).expect("qname") + 1;
            let qtype = u16::from_be_bytes([query[qname_end], query[qname_end + 1]]);
            let asked = decode_qname(&query[12..qname_end]);
            if asked != known {
                resp[3] |= 3;
            } else if qtype == 1 {
                resp[7] = 1;
                resp.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
                resp.extend_from_slice(&addr);
            }
            socket.send_to(&resp, peer).expect("send");
        }
    });
    local
}

fn decode_qname(mut wire: &[u8]) -> String {
    let mut labels = Vec::new();
    while let Some((&len, rest)) = wire.split_first() {
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(&rest[..usize::from(len)]).into_owned());
        wire = &rest[usize::from(len)..];
    }
    labels.join(".")
}

#[test]
fn dns_query_walks_the_search_list() {
    let server = fake_server("api.cluster.local", [10, 96, 0, 1], 6);
    let conf = ResolvConf {
        nameservers: vec![server],
        search: vec!["svc.cluster.local".into(), "cluster.local".into()],
        ndots: 5,
        timeout: Duration::from_secs(2),
        attempts: 1,
    };
    let addrs = sys::query_dns(&conf, "api", Some(Instant::now() + Duration::from_secs(5)));
    assert_eq!(addrs, Ok(vec![IpAddr::from([10, 96, 0, 1])]));
}

#[test]
fn dns_unknown_name_is_not_found() {
    let server = fake_server("other", [10, 0, 0, 1], 2);
    let conf = ResolvConf { nameservers: vec![server], attempts: 1, ..Default::default() };
    let result = sys::query_dns(&conf, "missing.example.", None);
    assert_eq!(result, Err(ResolveError::NotFound { host: "missing.example.".into() }));
}

#[test]
fn dns_silence_is_a_timeout() {
    // Bound but never read: queries vanish.
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let conf = ResolvConf {
        nameservers: vec![silent.local_addr().expect("addr")],
        timeout: Duration::from_secs(1),
        attempts: 1,
        ..Default::default()
    };
    let started = Instant::now();
    let result = sys::query_dns(&conf, "x.example.", Some(Instant::now() + Duration::from_millis(300)));
    assert_eq!(result, Err(ResolveError::Timeout { host: "x.example.".into() }));
    assert!(started.elapsed() < Duration::from_secs(1), "the caller's budget bounds the wait");
}

fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rk-resolver-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tempdir");
    dir
}
