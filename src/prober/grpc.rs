//! gRPC health probes (`grpc.health.v1.Health/Check`).

use std::time::Duration;

use super::run::Verdict;

/// Not implemented yet: a success with a warning, so that containers are not restarted
/// for a probe this node cannot run.
pub(crate) fn probe(_host: &str, _port: u16, _service: &str, _timeout: Duration) -> (Verdict, String) {
    (Verdict::Warning, "gRPC probes are not implemented by rkubelet yet".to_string())
}
