//! The object identifiers we write and look for, as arcs.
#![forbid(unsafe_code)]

use super::der;

/// id-ecPublicKey (RFC 5480).
pub const EC_PUBLIC_KEY: &[u32] = &[1, 2, 840, 10045, 2, 1];
/// secp256r1 / prime256v1.
pub const P256: &[u32] = &[1, 2, 840, 10045, 3, 1, 7];
/// ecdsa-with-SHA256 (RFC 5758).
pub const ECDSA_WITH_SHA256: &[u32] = &[1, 2, 840, 10045, 4, 3, 2];
/// rsaEncryption (only recognised, for user-provided certificates).
pub const RSA_ENCRYPTION: &[u32] = &[1, 2, 840, 113549, 1, 1, 1];

/// id-at-commonName, id-at-organizationName.
pub const COMMON_NAME: &[u32] = &[2, 5, 4, 3];
pub const ORGANIZATION: &[u32] = &[2, 5, 4, 10];

/// PKCS#9 extensionRequest: the CSR attribute that carries requested extensions.
pub const EXTENSION_REQUEST: &[u32] = &[1, 2, 840, 113549, 1, 9, 14];

/// Certificate extensions (RFC 5280 §4.2.1).
pub const SUBJECT_KEY_ID: &[u32] = &[2, 5, 29, 14];
pub const KEY_USAGE: &[u32] = &[2, 5, 29, 15];
pub const SUBJECT_ALT_NAME: &[u32] = &[2, 5, 29, 17];
pub const BASIC_CONSTRAINTS: &[u32] = &[2, 5, 29, 19];
pub const AUTHORITY_KEY_ID: &[u32] = &[2, 5, 29, 35];
pub const EXT_KEY_USAGE: &[u32] = &[2, 5, 29, 37];

/// Extended key usages: id-kp-serverAuth, id-kp-clientAuth.
pub const SERVER_AUTH: &[u32] = &[1, 3, 6, 1, 5, 5, 7, 3, 1];
pub const CLIENT_AUTH: &[u32] = &[1, 3, 6, 1, 5, 5, 7, 3, 2];

/// Whether the content octets of an OBJECT IDENTIFIER are `arcs`.
pub fn is(content: &[u8], arcs: &[u32]) -> bool {
    content == der::oid_content(arcs).as_slice()
}
