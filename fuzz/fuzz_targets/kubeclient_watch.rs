//! The watch event stream decoder: any bytes from the API server, never a panic, and the
//! iterator always ends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rkubelet::kubeclient::watch::EventDecoder;

fuzz_target!(|data: &[u8]| {
    let decoder = EventDecoder::<_, serde_json::Value>::new(data, "/fuzz?watch=1");
    // Each item consumes input or ends the stream, so this is bounded by the input size.
    for (n, _) in decoder.enumerate() {
        assert!(n <= data.len());
    }
});
