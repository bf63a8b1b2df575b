//! Arbitrary header blocks into one decoder with a dynamic table: no panic, the table stays
//! within its size limit, and whatever decodes re-encodes and decodes to the same list.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rkubelet::h2::hpack::{Decoder, Encoder};

fuzz_target!(|data: &[u8]| {
    // The first byte picks a small table size so evictions happen often; the rest is split
    // into several blocks on 0xff 0x00 so table state carries across blocks.
    let Some((&size, rest)) = data.split_first() else { return };
    let max_table = usize::from(size) * 16;
    let mut decoder = Decoder::new(max_table, 16 << 10);
    for block in rest.split(|&b| b == 0xfe) {
        match decoder.decode(block) {
            Ok(headers) => {
                let mut out = Vec::new();
                Encoder::new().encode(&headers, &mut out);
                let again = Decoder::new(4096, usize::MAX).decode(&out);
                assert_eq!(again.as_ref(), Ok(&headers));
            }
            Err(_) => {}
        }
        assert!(decoder.table().size() <= decoder.table().max_size());
        assert!(decoder.table().max_size() <= max_table);
    }
});
