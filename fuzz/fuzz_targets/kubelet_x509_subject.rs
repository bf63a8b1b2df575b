//! The certificate subject reader of the kubelet API's x509 authenticator: any bytes, never
//! a panic (it only sees chains that verified, but is fuzzed as if it saw anything).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rkubelet::server::auth::der;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = der::subject(data) {
        // Every string it returns came from the input.
        assert!(s.common_name.len() <= data.len() * 2);
        assert!(s.organizations.len() + s.uids.len() <= data.len());
    }
});
