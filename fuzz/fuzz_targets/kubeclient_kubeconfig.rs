//! kubeconfig parsing and context resolution (base64 `*-data` fields included): any text,
//! never a panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use rkubelet::kubeclient::Kubeconfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(config) = Kubeconfig::parse(text, Path::new("/fuzz/kubeconfig")) {
        let _ = config.rest_config(None);
        let _ = config.rest_config(Some("default"));
    }
    let _ = rkubelet::api::bytes::base64_decode(&String::from_utf8_lossy(data));
});
