//! Exec probes: the command runs in the container through CRI `ExecSync`.

use std::time::Duration;

use crate::status::reason::go_duration;
use super::run::{ProbeError, Verdict};
use crate::api::core::Container;
use crate::cri::{self, ExecSyncRequest};

/// Upstream keeps at most this much of an exec probe's output.
const MAX_OUTPUT: usize = 10 << 10;

/// The command with `$(VAR)` replaced by the container's literal env values only (upstream's
/// `ExpandContainerCommandOnlyStatic`: probes see no downward API nor secrets).
pub(crate) fn expand_command(command: &[String], container: &Container) -> Vec<String> {
    let lookup = |name: &str| {
        container.env.iter().rev().find(|e| e.name == name).map(|e| e.value.as_deref().unwrap_or("").as_bytes())
    };
    command.iter().map(|arg| crate::kuberuntime::expand::expand_str(arg, lookup)).collect()
}

/// What an `ExecSync` answer means for the probe.
pub(crate) fn judge(resp: &cri::ExecSyncResponse) -> (Verdict, String) {
    let mut out = resp.stdout.clone();
    out.extend_from_slice(&resp.stderr);
    out.truncate(MAX_OUTPUT);
    let text = String::from_utf8_lossy(&out).into_owned();
    if resp.exit_code == 0 { (Verdict::Success, text) } else { (Verdict::Failure, text) }
}

pub(crate) fn probe(cri: &cri::Client, container_id: &str, cmd: Vec<String>, timeout: Duration) -> Result<(Verdict, String), ProbeError> {
    let secs = i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX);
    let req = ExecSyncRequest { container_id: container_id.to_string(), cmd, timeout: secs };
    match cri.exec_sync(&req) {
        Ok(resp) => Ok(judge(&resp)),
        Err(e) if e.is_deadline_exceeded() => {
            let line = req.cmd.join(" ");
            Ok((Verdict::Failure, format!("command timed out: {line:?} timed out after {}", go_duration(timeout))))
        }
        Err(error) => Err(ProbeError::Exec { container_id: container_id.to_string(), error }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::core::EnvVar;

    #[test]
    fn expands_static_env_only() {
        let mut c = Container::default();
        c.env.push(EnvVar { name: "FILE".into(), value: Some("/tmp/ok".into()), value_from: None });
        c.env.push(EnvVar { name: "FROM".into(), value: None, value_from: Some(Default::default()) });
        let got = expand_command(&["cat".into(), "$(FILE)".into(), "x$(FROM)y".into(), "$(NONE)".into()], &c);
        assert_eq!(got, ["cat", "/tmp/ok", "xy", "$(NONE)"]);
    }

    #[test]
    fn exit_code_decides() {
        let ok = cri::ExecSyncResponse { stdout: b"fine\n".to_vec(), stderr: Vec::new(), exit_code: 0 };
        assert_eq!(judge(&ok), (Verdict::Success, "fine\n".to_string()));
        let bad = cri::ExecSyncResponse { stdout: b"a".to_vec(), stderr: b"b".to_vec(), exit_code: 1 };
        assert_eq!(judge(&bad), (Verdict::Failure, "ab".to_string()));
        let big = cri::ExecSyncResponse { stdout: vec![b'x'; 20_000], stderr: Vec::new(), exit_code: 2 };
        assert_eq!(judge(&big).1.len(), MAX_OUTPUT);
    }
}
