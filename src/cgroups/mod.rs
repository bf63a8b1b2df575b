//! The read side of cgroups: which version the host runs, where each hierarchy is
//! mounted, and what a cgroup's usage files say (CPU time, memory, processes, pressure).
//!
//! Cgroups are named as the runtime names them (`/kubepods/besteffort/pod<uid>`): paths
//! from the root of the hierarchy. A mount may show only a subtree (its mountinfo root is
//! not `/`: a containerised agent), so a name is turned into a directory by stripping the
//! mount's root; a cgroup outside it cannot be read.
//!
//! ```text
//! v1: /sys/fs/cgroup/<controller>/<cgroup>/...     one hierarchy per controller (or group)
//! v2: /sys/fs/cgroup/<cgroup>/...                  one hierarchy (cgroup.controllers exists)
//! ```
//!
//! Files are read under a host root (`/` in production) so tests can use fake trees.
#![forbid(unsafe_code)]

pub mod mounts;
pub mod read;
#[cfg(test)]
pub(crate) mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

pub use read::{CgroupStats, CpuUsage, MemoryUsage, Psi, PsiData};

use mounts::{Membership, Mount};

/// The cgroup version of the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// The controllers we read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    /// CPU accounting (`cpuacct` on v1).
    Cpu,
    Memory,
    Pids,
}

impl Controller {
    fn v1_name(self) -> &'static str {
        match self {
            Controller::Cpu => "cpuacct",
            Controller::Memory => "memory",
            Controller::Pids => "pids",
        }
    }
}

/// Why the cgroup hierarchies could not be found.
#[derive(Debug)]
pub enum CgroupError {
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// No mount of the hierarchy a v1 controller (or v2) needs.
    NotMounted {
        what: &'static str,
    },
    /// `/proc/<pid>/cgroup` does not name the process's cgroup in the hierarchy we read.
    NoMembership {
        pid: String,
    },
}

impl fmt::Display for CgroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CgroupError::Read { path, error } => write!(f, "cannot read {}: {error}", path.display()),
            CgroupError::NotMounted { what } => write!(f, "no cgroup mount for {what}"),
            CgroupError::NoMembership { pid } => write!(f, "/proc/{pid}/cgroup names no memory cgroup"),
        }
    }
}

impl std::error::Error for CgroupError {}

/// The host's cgroup hierarchies.
#[derive(Debug, Clone)]
pub struct Cgroups {
    version: Version,
    /// v1: one mount per controller we read; v2: the unified mount.
    mounts: Vec<Mount>,
    /// The host root every absolute path is read under.
    host: PathBuf,
}

impl Cgroups {
    /// The hierarchies of this host.
    pub fn detect() -> Result<Cgroups, CgroupError> {
        Cgroups::detect_at(Path::new("/"))
    }

    /// The hierarchies seen under `host` (a fake tree in tests): v2 when
    /// `<host>/sys/fs/cgroup/cgroup.controllers` exists, with the mounts of
    /// `<host>/proc/self/mountinfo`, their mount points taken under `host`.
    pub fn detect_at(host: &Path) -> Result<Cgroups, CgroupError> {
        let version =
            if host.join("sys/fs/cgroup/cgroup.controllers").exists() { Version::V2 } else { Version::V1 };
        let path = host.join("proc/self/mountinfo");
        let text = std::fs::read_to_string(&path).map_err(|error| CgroupError::Read { path, error })?;
        Cgroups::from_mountinfo(version, &text, host)
    }

    /// From a mountinfo text. v2 takes the `cgroup2` mount at `/sys/fs/cgroup` (or the only
    /// one); v1 needs the memory hierarchy, and takes for each controller the mount that
    /// shows the most of its tree.
    pub fn from_mountinfo(version: Version, mountinfo: &str, host: &Path) -> Result<Cgroups, CgroupError> {
        let all = mounts::parse_mountinfo(mountinfo);
        let mounts = match version {
            Version::V2 => {
                let unified: Vec<&Mount> = all.iter().filter(|m| m.unified).collect();
                let chosen = unified
                    .iter()
                    .find(|m| m.mountpoint == Path::new("/sys/fs/cgroup"))
                    .or(unified.first())
                    .ok_or(CgroupError::NotMounted { what: "cgroup2" })?;
                vec![(*chosen).clone()]
            }
            Version::V1 => {
                let mut chosen = Vec::new();
                for c in [Controller::Cpu, Controller::Memory, Controller::Pids] {
                    let best = all
                        .iter()
                        .filter(|m| !m.unified && m.controllers.iter().any(|x| x == c.v1_name()))
                        .min_by_key(|m| m.root.len());
                    match best {
                        Some(m) => chosen.push(m.clone()),
                        None if c == Controller::Memory => {
                            return Err(CgroupError::NotMounted { what: "memory" });
                        }
                        None => {}
                    }
                }
                chosen
            }
        };
        Ok(Cgroups { version, mounts, host: host.to_path_buf() })
    }

    pub fn version(&self) -> Version {
        self.version
    }

    fn mount(&self, controller: Controller) -> Option<&Mount> {
        match self.version {
            Version::V2 => self.mounts.first(),
            Version::V1 => {
                self.mounts.iter().find(|m| m.controllers.iter().any(|x| x == controller.v1_name()))
            }
        }
    }

    /// The directory of `cgroup` in `controller`'s hierarchy, if the mount shows it (it
    /// need not exist).
    pub fn dir(&self, controller: Controller, cgroup: &str) -> Option<PathBuf> {
        let mount = self.mount(controller)?;
        let relative = mounts::relative_to_root(&mount.root, cgroup)?;
        let mountpoint = self.host.join(mount.mountpoint.strip_prefix("/").unwrap_or(&mount.mountpoint));
        Some(if relative.is_empty() { mountpoint } else { mountpoint.join(relative) })
    }

    /// Whether the hierarchy root (`/`) is visible to us in `controller`'s hierarchy: a
    /// containerised agent may see only its own subtree.
    pub fn sees_root(&self, controller: Controller) -> bool {
        self.mount(controller).is_some_and(|m| m.root == "/")
    }

    /// Whether `cgroup` exists (in the memory hierarchy on v1).
    pub fn exists(&self, cgroup: &str) -> bool {
        self.dir(Controller::Memory, cgroup).is_some_and(|d| d.is_dir())
    }

    /// The names of `cgroup`'s children (memory hierarchy on v1), sorted.
    pub fn children(&self, cgroup: &str) -> Vec<String> {
        let Some(dir) = self.dir(Controller::Memory, cgroup) else { return Vec::new() };
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    /// What `cgroup`'s files say; `None` when it does not exist.
    pub fn stats(&self, cgroup: &str) -> Option<CgroupStats> {
        let memory = self.dir(Controller::Memory, cgroup).filter(|d| d.is_dir())?;
        Some(match self.version {
            Version::V2 => read::read_v2(&memory, cgroup.trim_matches('/').is_empty()),
            Version::V1 => {
                let cpuacct = self.dir(Controller::Cpu, cgroup);
                let pids = self.dir(Controller::Pids, cgroup);
                read::read_v1(&read::V1Dirs {
                    cpuacct: cpuacct.as_deref(),
                    memory: Some(&memory),
                    pids: pids.as_deref(),
                })
            }
        })
    }

    /// The first process of `cgroup` (a sandbox's pause process).
    pub fn first_process(&self, cgroup: &str) -> Option<u32> {
        read::first_process(&self.dir(Controller::Memory, cgroup)?)
    }

    /// The cgroup of process `pid` (`"self"` for ours): the memory cgroup on v1, the unified
    /// one on v2. On v1 its CPU may be accounted elsewhere; see [`ProcessCgroup`].
    pub fn process_cgroup(&self, pid: &str) -> Result<ProcessCgroup, CgroupError> {
        let path = self.host.join("proc").join(pid).join("cgroup");
        let text = std::fs::read_to_string(&path).map_err(|error| CgroupError::Read { path, error })?;
        let members = mounts::parse_proc_cgroup(&text);
        let find = |name: &str| -> Option<&Membership> {
            members.iter().find(|m| m.controllers.iter().any(|c| c == name))
        };
        let no_membership = || CgroupError::NoMembership { pid: pid.to_string() };
        match self.version {
            Version::V2 => {
                let m = members.iter().find(|m| m.controllers.is_empty()).ok_or_else(no_membership)?;
                Ok(ProcessCgroup { path: m.path.clone(), cpu_elsewhere: false })
            }
            Version::V1 => {
                let memory = find("memory").ok_or_else(no_membership)?;
                let cpu = find("cpuacct").map(|m| m.path.as_str());
                Ok(ProcessCgroup {
                    path: memory.path.clone(),
                    cpu_elsewhere: cpu != Some(memory.path.as_str()),
                })
            }
        }
    }
}

/// A process's cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessCgroup {
    pub path: String,
    /// v1 only: the process's CPU is accounted in a different cgroup than its memory, so
    /// the cgroup's CPU figures are not the process's (upstream then gives up on the cgroup).
    pub cpu_elsewhere: bool,
}
