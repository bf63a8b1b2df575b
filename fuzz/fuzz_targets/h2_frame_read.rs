//! Arbitrary bytes into the frame reader, looping until "need more" or an error: no panic,
//! progress on every frame, and every decoded frame re-encodes to the bytes it came from.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rkubelet::h2::frame::{self, DEFAULT_MAX_FRAME_SIZE};

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok(Some((f, used))) = frame::decode(rest, DEFAULT_MAX_FRAME_SIZE) {
        assert!(used >= frame::HEADER_LEN && used <= rest.len());
        let mut out = Vec::new();
        f.encode(&mut out).expect("a decoded frame re-encodes");
        // Flags we do not model, the reserved bit and padding contents are dropped, so
        // compare decoded frames rather than bytes.
        let (again, n) = frame::decode(&out, DEFAULT_MAX_FRAME_SIZE)
            .expect("re-encoded frame decodes")
            .expect("re-encoded frame is complete");
        assert_eq!(n, out.len());
        assert_eq!(again, f);
        rest = &rest[used..];
    }
});
