//! The DNS response decoder of the API server resolver: any datagram, never a panic; and
//! what it accepts was really an answer to our question.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rkubelet::kubeclient::resolver::{QType, decode_response, encode_query};

const NAME: &str = "api.example";

fn check(msg: &[u8], id: u16) {
    for qtype in [QType::A, QType::Aaaa] {
        if let Ok(resp) = decode_response(msg, id, NAME, qtype) {
            let want_v4 = qtype == QType::A;
            assert!(resp.addrs.iter().all(|ip| ip.is_ipv4() == want_v4));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // As it comes, with the id taken from the message so the id check can pass.
    let id = match data {
        [a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    };
    check(data, id);

    // Behind a valid header and question, so the answer section gets the attention:
    // byte 0 is the flags' low byte (TC, RCODE), byte 1 the answer count.
    if let [flags, count, answers @ ..] = data {
        for qtype in [QType::A, QType::Aaaa] {
            let Ok(mut msg) = encode_query(7, NAME, qtype) else { return };
            msg[2] |= 0x80 | (flags & 0x02);
            msg[3] = flags & 0x0f;
            msg[7] = *count;
            msg.extend_from_slice(answers);
            check(&msg, 7);
        }
    }
});
