//! The version rkubelet reports (`--version`, user agent, nodeInfo.kubeletVersion).

/// Our own version, from Cargo.toml.
pub const RKUBELET: &str = env!("CARGO_PKG_VERSION");

/// The upstream kubelet version whose behaviour we match; reported as `kubeletVersion`
/// so that the API server's version-skew checks treat us as that kubelet.
pub const KUBERNETES: &str = "v1.37.2";

/// `rkubelet/<version>`, the User-Agent sent to the API server.
pub fn user_agent() -> String {
    format!("rkubelet/{RKUBELET} (linux/{}) kubernetes/{KUBERNETES}", std::env::consts::ARCH)
}
