#![allow(clippy::unwrap_used)]

use super::StreamKind;
use super::head::RequestHead;
use super::options::*;

#[test]
fn query_decodes_as_go_does() {
    let q = Query::parse("command=sh&command=-c&command=echo+a%20b%26c&x&bad=%zz&semi=a;b&&empty=");
    assert_eq!(q.all("command").collect::<Vec<_>>(), ["sh", "-c", "echo a b&c"]);
    assert_eq!(q.first("x"), Some(""));
    assert_eq!(q.first("empty"), Some(""));
    // A bad escape or a semicolon drops the pair, as url.ParseQuery does.
    assert_eq!(q.first("bad"), None);
    assert_eq!(q.first("semi"), None);
    assert_eq!(Query::parse("%e2%82%ac=%FF").first("€"), Some("\u{fffd}"));
    assert_eq!(Query::parse("a=%4").first("a"), None);
}

#[test]
fn stream_flags_follow_remotecommand_new_options() {
    let flags = |q: &str| StreamFlags::parse(&Query::parse(q));
    assert_eq!(
        flags("output=1&error=1").unwrap(),
        StreamFlags { stdin: false, stdout: true, stderr: true, tty: false }
    );
    assert_eq!(flags("input=1").unwrap(), StreamFlags { stdin: true, ..Default::default() });
    // With a TTY, stderr is merged into stdout.
    assert_eq!(
        flags("input=1&output=1&error=1&tty=1").unwrap(),
        StreamFlags { stdin: true, stdout: true, stderr: false, tty: true }
    );
    // Only "1" turns a stream on; the first value counts.
    let err = flags("input=true&output=0&error=yes").unwrap_err();
    assert_eq!(err.to_string(), "you must specify at least 1 of stdin, stdout, stderr");
    assert_eq!(flags("output=0&output=1").unwrap_err(), OptionsError::NoStreams);
    // tty alone, or tty with only stderr, asks for nothing.
    assert_eq!(flags("tty=1&error=1").unwrap_err(), OptionsError::NoStreams);
    // The brief's stdin/stdout names are not upstream's.
    assert_eq!(flags("stdin=1&stdout=1").unwrap_err(), OptionsError::NoStreams);
}

#[test]
fn command_keeps_every_value_in_order() {
    let q = Query::parse("command=ls&output=1&command=-l&command=%2Ftmp");
    assert_eq!(command(&q), ["ls", "-l", "/tmp"]);
    assert!(command(&Query::parse("output=1")).is_empty());
}

#[test]
fn ports_follow_new_v4_options() {
    let ports = |q: &str, ws| ports(&Query::parse(q), ws);
    // SPDY clients name ports inside the session.
    assert_eq!(ports("", false).unwrap(), Vec::<i32>::new());
    assert_eq!(ports("port=abc", false).unwrap(), Vec::<i32>::new());
    assert_eq!(ports("port=80,443&port=8080", true).unwrap(), [80, 443, 8080]);
    assert_eq!(ports("port=65535&port=007", true).unwrap(), [65535, 7]);
    let err = |q: &str| ports(q, true).unwrap_err().to_string();
    assert_eq!(err(""), "query parameter \"port\" is required");
    assert_eq!(err("port="), "query parameter \"port\" cannot be empty");
    assert_eq!(err("port=80&port="), "query parameter \"port\" cannot be empty");
    assert_eq!(
        err("port=http"),
        "unable to parse \"http\" as a port: strconv.ParseUint: parsing \"http\": invalid syntax"
    );
    assert_eq!(
        err("port=80,65536"),
        "unable to parse \"80,65536\" as a port: strconv.ParseUint: parsing \"65536\": value out of range"
    );
    assert_eq!(
        err("port=80,"),
        "unable to parse \"80,\" as a port: strconv.ParseUint: parsing \"\": invalid syntax"
    );
    assert_eq!(
        err("port=-1"),
        "unable to parse \"-1\" as a port: strconv.ParseUint: parsing \"-1\": invalid syntax"
    );
    assert_eq!(
        err("port=%2B80"),
        "unable to parse \"+80\" as a port: strconv.ParseUint: parsing \"+80\": invalid syntax"
    );
    assert_eq!(err("port=0"), "port \"0\" must be > 0");
    assert_eq!(err("port=80,00"), "port \"80,00\" must be > 0");
}

#[test]
fn targets_parse_every_route_and_nothing_else() {
    let t = Target::parse("/exec/default/web/app").unwrap();
    assert_eq!(
        (t.kind, t.namespace.as_str(), t.pod.as_str(), t.uid.as_str()),
        (StreamKind::Exec, "default", "web", "")
    );
    assert_eq!((t.container.as_str(), t.pod_full_name().as_str()), ("app", "web_default"));
    let t = Target::parse("/attach/ns/pod/1234-5678/c").unwrap();
    assert_eq!((t.kind, t.uid.as_str(), t.container.as_str()), (StreamKind::Attach, "1234-5678", "c"));
    let t = Target::parse("/portForward/ns/pod").unwrap();
    assert_eq!((t.kind, t.uid.as_str(), t.container.as_str()), (StreamKind::PortForward, "", ""));
    let t = Target::parse("/portForward/ns/pod/uid").unwrap();
    assert_eq!(t.uid, "uid");
    assert_eq!(Target::parse("/exec/ns/p%61d/c").unwrap().pod, "pad");
    for bad in [
        "/exec/ns/pod",
        "/exec/ns/pod/uid/c/extra",
        "/exec/ns//c",
        "/exec/ns/pod/c/",
        "/portForward/ns",
        "/portForward/ns/pod/uid/x",
        "/run/ns/pod/c",
        "exec/ns/pod/c",
        "/Exec/ns/pod/c",
        "/exec/ns/pod/%zz",
        "",
        "/",
    ] {
        assert_eq!(Target::parse(bad), None, "{bad}");
    }
    assert_eq!(StreamKind::of_path("/portForward/a/b"), Some(StreamKind::PortForward));
    assert_eq!(StreamKind::of_path("/containerLogs/a/b/c"), None);
}

#[test]
fn upgrade_detection_is_upstreams() {
    let head = |headers: &[(&str, &str)]| RequestHead {
        method: "POST".into(),
        target: "/exec/a/b/c?output=1".into(),
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        peer: None,
    };
    assert!(head(&[("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1")]).is_upgrade());
    assert!(head(&[("connection", "keep-alive, upgrade")]).is_upgrade());
    assert!(head(&[("Connection", "close"), ("Connection", "UPGRADE")]).is_upgrade());
    assert!(!head(&[("Upgrade", "websocket")]).is_upgrade());
    assert!(!head(&[("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1")]).is_websocket());
    assert!(head(&[("Connection", "Upgrade"), ("upgrade", "WebSocket")]).is_websocket());
    assert!(!head(&[("Connection", "keep-alive"), ("Upgrade", "websocket")]).is_websocket());
    let tunnel = [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Protocol", "v4.channel.k8s.io, SPDY/3.1+portforward.k8s.io"),
    ];
    assert!(head(&tunnel).is_websocket_tunneling());
    assert!(!head(&tunnel[1..]).is_websocket_tunneling());
    let plain = [
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Protocol", "v4.channel.k8s.io"),
    ];
    assert!(!head(&plain).is_websocket_tunneling());
    let h = head(&[]);
    assert_eq!((h.path(), h.query()), ("/exec/a/b/c", "output=1"));
}
