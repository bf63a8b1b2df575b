//! The container log manager: `rk-logs` looks at every running container's log each
//! containerLogMonitorInterval and hands the containers to containerLogMaxWorkers rotation
//! workers (`rk-logs-1`, ...), which rotate the logs that reached containerLogMaxSize.
//!
//! ```text
//!  tick ──► ListContainers(running) ──► ids not in flight ──► work channel ──► rk-logs-N
//!    ▲                                                                           │ ContainerStatus (log path)
//!    └────────────────────────── done(id) ◄──────────────────────────────────────┘ stat, rotate, ReopenContainerLog
//! ```

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Receiver, Sender, select, tick};

use super::LogError;
use super::rotate::{Policy, rotate_if_needed, rotation_stamp};
use crate::cri;

/// The manager's settings (KubeletConfiguration containerLog* fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub policy: Policy,
    pub monitor_interval: Duration,
    pub max_workers: usize,
    /// Only containers with these labels (empty: all); tests on a shared runtime use it.
    pub label_selector: BTreeMap<String, String>,
}

impl Config {
    /// The settings from a KubeletConfiguration; `None` when rotation is off (a negative
    /// containerLogMaxSize, as upstream's stub manager).
    pub fn from_kubelet(k: &crate::config::KubeletConfiguration) -> Option<Config> {
        let max_size = crate::config::quantity::parse_whole(&k.container_log_max_size)?;
        let max_size = u64::try_from(max_size).ok()?;
        Some(Config {
            policy: Policy {
                max_size,
                max_files: usize::try_from(k.container_log_max_files).unwrap_or(5).max(2),
            },
            monitor_interval: k.container_log_monitor_interval.to_std().unwrap_or(Duration::from_secs(10)),
            max_workers: usize::try_from(k.container_log_max_workers).unwrap_or(1).max(1),
            label_selector: BTreeMap::new(),
        })
    }
}

/// Keeps the manager's threads running; they stop when it is dropped (after the rotation
/// at hand), or at [`LogsHandle::stop`].
pub struct LogsHandle {
    stop: Sender<()>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl LogsHandle {
    /// Stops the threads and waits until the rotations under way are done.
    pub fn stop(self) {
        drop(self.stop);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Starts `rk-logs` and its workers.
pub fn spawn(cfg: Config, cri: cri::Client) -> std::io::Result<LogsHandle> {
    log::info!(
        "container log rotation: {} workers, every {:?}, at {} bytes, {} files",
        cfg.max_workers,
        cfg.monitor_interval,
        cfg.policy.max_size,
        cfg.policy.max_files
    );
    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(0);
    let (work_tx, work_rx) = crossbeam_channel::unbounded::<String>();
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<String>();
    let mut threads = Vec::new();
    for n in 1..=cfg.max_workers {
        let (work, done, cri, policy) = (work_rx.clone(), done_tx.clone(), cri.clone(), cfg.policy);
        let t = std::thread::Builder::new()
            .name(format!("rk-logs-{n}"))
            .spawn(move || worker(&cri, policy, &work, &done))?;
        threads.push(t);
    }
    let t = std::thread::Builder::new()
        .name("rk-logs".into())
        .spawn(move || monitor(&cfg, &cri, &stop_rx, &work_tx, &done_rx))?;
    threads.push(t);
    Ok(LogsHandle { stop: stop_tx, threads })
}

fn monitor(
    cfg: &Config,
    cri: &cri::Client,
    stop: &Receiver<()>,
    work: &Sender<String>,
    done: &Receiver<String>,
) {
    let ticker = tick(cfg.monitor_interval);
    let mut in_flight: HashSet<String> = HashSet::new();
    loop {
        select! {
            recv(stop) -> _ => return,
            recv(done) -> id => if let Ok(id) = id { in_flight.remove(&id); },
            recv(ticker) -> _ => match running_containers(cri, &cfg.label_selector) {
                Ok(ids) => {
                    for id in ids {
                        if in_flight.insert(id.clone()) && work.send(id).is_err() {
                            return;
                        }
                    }
                }
                Err(e) => log::warn!("container log rotation: {e}"),
            },
        }
    }
}

fn running_containers(
    cri: &cri::Client,
    selector: &BTreeMap<String, String>,
) -> Result<Vec<String>, LogError> {
    let filter = cri::ContainerFilter {
        state: Some(cri::ContainerStateValue { state: cri::ContainerState::RUNNING }),
        label_selector: selector.clone(),
        ..Default::default()
    };
    let list = cri
        .list_containers(&cri::ListContainersRequest { filter: Some(filter) })
        .map_err(|error| LogError::Cri { container: String::new(), error })?;
    Ok(list
        .containers
        .into_iter()
        .filter(|c| c.state == cri::ContainerState::RUNNING)
        .map(|c| c.id)
        .collect())
}

fn worker(cri: &cri::Client, policy: Policy, work: &Receiver<String>, done: &Sender<String>) {
    for id in work {
        if let Err(e) = rotate_container(cri, policy, &id) {
            log::warn!("container log rotation of {id}: {e}");
        }
        if done.send(id).is_err() {
            return;
        }
    }
}

/// Rotates one container's log if it is due (upstream's `processContainer`).
pub fn rotate_container(cri: &cri::Client, policy: Policy, id: &str) -> Result<bool, LogError> {
    let cri_err = |error| LogError::Cri { container: id.to_string(), error };
    let req = cri::ContainerStatusRequest { container_id: id.to_string(), verbose: false };
    let status = cri.container_status(&req).map_err(cri_err)?.status.unwrap_or_default();
    if status.log_path.is_empty() {
        return Ok(false);
    }
    let mut reopen = || {
        let req = cri::ReopenContainerLogRequest { container_id: id.to_string() };
        cri.reopen_container_log(&req).map(|_| ()).map_err(cri_err)
    };
    let rotated =
        rotate_if_needed(status.log_path.as_ref(), policy, &rotation_stamp(SystemTime::now()), &mut reopen)?;
    if rotated {
        log::debug!("rotated the log of container {id} ({})", status.log_path);
    }
    Ok(rotated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_from_kubelet_defaults() {
        let k = crate::config::KubeletConfiguration::default();
        let c = Config::from_kubelet(&k).expect("on");
        assert_eq!(c.policy, Policy { max_size: 10 * 1024 * 1024, max_files: 5 });
        assert_eq!((c.monitor_interval, c.max_workers), (Duration::from_secs(10), 1));
        let k =
            crate::config::KubeletConfiguration { container_log_max_size: "-1".into(), ..Default::default() };
        assert_eq!(Config::from_kubelet(&k), None, "negative: no rotation, as upstream");
    }
}
