//! The container spec hash recorded in `io.kubernetes.container.hash`: when the hash of the
//! desired spec differs from the running container's, the container is restarted.
//!
//! As upstream (v1.37), only the fields an API server lets change on a running container
//! count: `name` and `image` (resources change in place, without a restart). A static pod's
//! other edits give it a new UID, so the whole pod is replaced anyway. Hashing no more than
//! this keeps the hash stable across rkubelet versions: an upgrade never restarts containers.
//! Ours is FNV-1a 64 over the JSON `{"image":..,"name":..}`; upstream's Go object dump cannot be
//! reproduced byte for byte, so containers created by the upstream kubelet are restarted once
//! when rkubelet adopts them.

use crate::api::core::Container;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// The spec hash of a container.
pub fn container_hash(c: &Container) -> u64 {
    let picked = serde_json::json!({ "image": c.image.as_deref().unwrap_or(""), "name": c.name });
    // A two-string JSON object always serializes; hash the empty input if it did not.
    let bytes = serde_json::to_vec(&picked).unwrap_or_default();
    fnv1a64(&bytes)
}

/// The hash as the annotation writes it (lower-case hex, as upstream).
pub fn hash_label(hash: u64) -> String {
    format!("{hash:x}")
}

/// The hash from its annotation text; `None` when it is not hex.
pub fn parse_hash_label(text: &str) -> Option<u64> {
    u64::from_str_radix(text, 16).ok()
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, b| (h ^ u64::from(*b)).wrapping_mul(FNV_PRIME))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn container(v: serde_json::Value) -> Container {
        serde_json::from_value(v).expect("container")
    }

    #[test]
    fn fnv_reference_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn only_name_and_image_count() {
        let base = container(json!({"name": "app", "image": "busybox:1.36", "command": ["sh"]}));
        let h = container_hash(&base);
        assert_eq!(h, container_hash(&base.clone()), "stable");
        let resized = container(json!({
            "name": "app", "image": "busybox:1.36", "command": ["sh"],
            "resources": {"limits": {"cpu": "2"}},
            "resizePolicy": [{"resourceName": "cpu", "restartPolicy": "NotRequired"}],
        }));
        assert_eq!(container_hash(&resized), h);
        let other_fields = container(json!({"name": "app", "image": "busybox:1.36", "command": ["bash"], "env": [{"name": "A", "value": "1"}]}));
        assert_eq!(container_hash(&other_fields), h);
        for changed in [
            json!({"name": "app", "image": "busybox:1.37", "command": ["sh"]}),
            json!({"name": "other", "image": "busybox:1.36", "command": ["sh"]}),
        ] {
            assert_ne!(container_hash(&container(changed.clone())), h, "{changed}");
        }
    }

    #[test]
    fn label_round_trip() {
        let h = container_hash(&container(json!({"name": "app", "image": "nginx"})));
        assert_eq!(parse_hash_label(&hash_label(h)), Some(h));
        assert_eq!(hash_label(0xabc), "abc");
        assert_eq!(parse_hash_label("zz"), None);
    }
}
