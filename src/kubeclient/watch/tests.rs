use super::*;

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct ConfigMap {
    metadata: Meta,
    #[serde(default)]
    data: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    name: String,
    resource_version: String,
}

/// A reader that hands out at most `chunk` bytes per read, like a slow socket.
struct Trickle {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.chunk.min(buf.len()).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

const STREAM: &str = concat!(
    r#"{"type":"ADDED","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"a","resourceVersion":"10"},"data":{"k":"v"}}}"#,
    "\n",
    r#"{"type":"MODIFIED","object":{"metadata":{"name":"a","resourceVersion":"11"},"data":{"k":"w"}}}"#,
    "\n",
    r#"{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"15","annotations":{"k8s.io/initial-events-end":"true"}}}}"#,
    "\n",
    r#"{"type":"DELETED","object":{"metadata":{"name":"a","resourceVersion":"16"}}}"#,
    "\n",
    r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 5 (16)","reason":"Expired","code":410}}"#,
    "\n",
);

fn cm(name: &str, rv: &str, data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: Meta { name: name.into(), resource_version: rv.into() },
        data: data.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

fn decode_all(chunk: usize) -> Vec<Result<WatchEvent<ConfigMap>, Error>> {
    let reader = Trickle { data: STREAM.as_bytes().to_vec(), pos: 0, chunk };
    EventDecoder::<_, ConfigMap>::new(reader, "/api/v1/configmaps?watch=1").collect()
}

#[test]
fn decodes_every_event_type_whatever_the_read_size() {
    for chunk in [1, 2, 3, 7, 64, 4096] {
        let events: Vec<WatchEvent<ConfigMap>> = decode_all(chunk).into_iter().map(|e| e.expect("event")).collect();
        assert_eq!(
            events,
            vec![
                WatchEvent::Added(cm("a", "10", &[("k", "v")])),
                WatchEvent::Modified(cm("a", "11", &[("k", "w")])),
                WatchEvent::Bookmark { resource_version: "15".into() },
                WatchEvent::Deleted(cm("a", "16", &[])),
                WatchEvent::Error(Status {
                    status: "Failure".into(),
                    message: "too old resource version: 5 (16)".into(),
                    reason: "Expired".into(),
                    code: 410,
                    details: None,
                }),
            ],
            "chunk size {chunk}"
        );
    }
}

#[test]
fn error_event_maps_to_gone() {
    let last = decode_all(4096).pop().expect("event").expect("ok");
    let WatchEvent::Error(status) = last else { panic!("not an error event") };
    assert!(Error::from_status(METHOD, "/x", &status).is_gone());
}

#[test]
fn stream_cut_inside_an_event_is_a_transport_error() {
    let cut = &STREAM[..STREAM.find("MODIFIED").expect("modified") + 20];
    let events: Vec<_> = EventDecoder::<_, ConfigMap>::new(cut.as_bytes(), "/w").collect();
    assert_eq!(events.len(), 2);
    assert!(events[0].is_ok());
    assert!(
        matches!(&events[1], Err(Error::Transport { detail, .. }) if detail.contains("inside an event")),
        "{:?}",
        events[1]
    );
}

#[test]
fn a_bad_object_is_reported_and_the_stream_goes_on() {
    let text = concat!(
        r#"{"type":"ADDED","object":{"metadata":{"name":5}}}"#,
        r#"{"type":"ADDED","object":{"metadata":{"name":"b","resourceVersion":"2"}}}"#,
    );
    let events: Vec<_> = EventDecoder::<_, ConfigMap>::new(text.as_bytes(), "/w").collect();
    assert_eq!(events.len(), 2);
    assert!(matches!(&events[0], Err(Error::Decode { detail, .. }) if detail.starts_with("ADDED object")));
    assert_eq!(events[1].as_ref().ok(), Some(&WatchEvent::Added(cm("b", "2", &[]))));
}

#[test]
fn garbage_and_unknown_types_are_decode_errors() {
    let unknown = r#"{"type":"SURPRISE","object":{}}"#;
    let events: Vec<_> = EventDecoder::<_, ConfigMap>::new(unknown.as_bytes(), "/w").collect();
    assert!(matches!(&events[..], [Err(Error::Decode { detail, .. })] if detail.contains("SURPRISE")));

    let garbage = "<html>502</html>";
    let events: Vec<_> = EventDecoder::<_, ConfigMap>::new(garbage.as_bytes(), "/w").collect();
    assert!(matches!(&events[..], [Err(Error::Decode { .. })]), "{events:?}");
}

#[test]
fn empty_stream_ends_cleanly() {
    let events: Vec<_> = EventDecoder::<_, ConfigMap>::new(&b"\n \n"[..], "/w").collect();
    assert!(events.is_empty());
}

#[test]
fn read_timeouts_are_timeouts() {
    struct Stalled;
    impl Read for Stalled {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::TimedOut.into())
        }
    }
    let events: Vec<_> = EventDecoder::<_, ConfigMap>::new(Stalled, "/w").collect();
    assert!(matches!(&events[..], [Err(Error::Timeout { .. })]), "{events:?}");
}

#[test]
fn watch_timeout_is_between_5_and_10_minutes() {
    for _ in 0..100 {
        let t = random_watch_timeout();
        assert!((300..600).contains(&t), "{t}");
    }
}
