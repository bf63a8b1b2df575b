//! Decodes arbitrary bytes as CRI messages: decoding must never panic, and whatever decodes
//! must re-encode to bytes that decode again to the same bytes.
//!
//! The first input byte picks the message type; the rest is the message.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rkubelet::cri;
use rkubelet::proto::Message;

fn check<M: Message>(data: &[u8]) {
    let Ok(first) = M::decode(data) else { return };
    let bytes = first.encode_to_vec();
    assert_eq!(bytes.len(), first.encoded_len());
    let second = M::decode(&bytes).expect("re-encoded message must decode");
    assert_eq!(second.encode_to_vec(), bytes, "encoding is not stable");
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, data)) = data.split_first() else { return };
    match selector % 9 {
        0 => check::<cri::ListContainersResponse>(data),
        1 => check::<cri::ContainerStatusResponse>(data),
        2 => check::<cri::PodSandboxStatusResponse>(data),
        3 => check::<cri::ListContainerStatsResponse>(data),
        4 => check::<cri::ListPodSandboxStatsResponse>(data),
        5 => check::<cri::CreateContainerRequest>(data),
        6 => check::<cri::StatusResponse>(data),
        7 => check::<cri::ImageStatusResponse>(data),
        _ => check::<cri::ListImagesResponse>(data),
    }
});
