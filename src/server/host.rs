//! The runtime behind the endpoints in the running agent: PLEG's pod cache for
//! `/runningpods/` and `/run`, CRI for log paths and ExecSync.

use std::path::PathBuf;
use std::time::Duration;

use super::routes::{ContainerLog, ExecOutput, Host};
use crate::cri;
use crate::kuberuntime::PodStatus;
use crate::pleg::PlegHandle;

/// How long a request waits for PLEG's answer.
const SNAPSHOT_WAIT: Duration = Duration::from_secs(10);

pub struct CriHost {
    pub cri: cri::Client,
    pub pleg: PlegHandle,
}

impl Host for CriHost {
    fn running_pods(&self) -> Result<Vec<PodStatus>, String> {
        self.pleg.snapshot(SNAPSHOT_WAIT).ok_or_else(|| "the pod lifecycle event generator did not answer".to_string())
    }

    fn container_log(&self, container_id: &str) -> Result<ContainerLog, String> {
        let req = cri::ContainerStatusRequest { container_id: container_id.to_string(), verbose: false };
        let status = self.cri.container_status(&req).map_err(|e| e.to_string())?.status.unwrap_or_default();
        if status.log_path.is_empty() {
            return Err(format!("container {container_id:?} has no log file"));
        }
        Ok(ContainerLog { path: PathBuf::from(status.log_path), running: status.state == cri::ContainerState::RUNNING })
    }

    fn exec_sync(&self, container_id: &str, cmd: &[String]) -> Result<ExecOutput, String> {
        let req = cri::ExecSyncRequest { container_id: container_id.to_string(), cmd: cmd.to_vec(), timeout: 0 };
        let resp = self.cri.exec_sync(&req).map_err(|e| e.to_string())?;
        Ok(ExecOutput { stdout: resp.stdout, stderr: resp.stderr, exit_code: resp.exit_code })
    }
}
