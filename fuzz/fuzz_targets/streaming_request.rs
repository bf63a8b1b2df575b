//! What the streaming endpoints parse from a client or the runtime: the path, the query's
//! flags, command and ports, the runtime's URL and response head, and the request we send on.
//! Never a panic; and what they accept holds up.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rkubelet::streaming::head::{RequestHead, RuntimeUrl, parse_response_head};
use rkubelet::streaming::options::{Query, StreamFlags, Target, command, ports};

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(head)) = parse_response_head(data) {
        assert!(head.len <= data.len() && data[..head.len].ends_with(b"\r\n\r\n"));
        assert!((100..=999).contains(&head.status));
    }
    let text = String::from_utf8_lossy(data);
    // The input as a path, as a query, and as a runtime URL.
    if let Some(target) = Target::parse(&text) {
        assert!(!target.namespace.is_empty() && !target.pod.is_empty());
    }
    let query = Query::parse(&text);
    if let Ok(flags) = StreamFlags::parse(&query) {
        assert!(flags.stdin || flags.stdout || flags.stderr);
        assert!(!(flags.tty && flags.stderr));
    }
    let _ = command(&query);
    if let Ok(ports) = ports(&query, true) {
        assert!(!ports.is_empty() && ports.iter().all(|p| (1..=65535).contains(p)));
    }
    if let Ok(url) = RuntimeUrl::parse(&text) {
        assert!(url.path_and_query.starts_with('/') && !url.host.is_empty());
        // Whatever headers a client sent, the request we send has exactly one head.
        let mut lines = text.split('\n');
        let headers = lines
            .by_ref()
            .take(8)
            .map(|l| l.split_once(':').map_or((l.to_string(), String::new()), |(n, v)| (n.into(), v.into())))
            .collect();
        let head = RequestHead { method: "GET".into(), target: "/".into(), headers, peer: None };
        let sent = head.backend_request(&url);
        let end = sent.windows(4).position(|w| w == b"\r\n\r\n");
        assert_eq!(end, Some(sent.len() - 4), "one head, ending the request");
    }
});
