//! What the host is: usable CPUs, memory and swap, huge pages, the size of the filesystem
//! under `--root-dir`, and its identity (machine ID, system UUID, boot ID, kernel, OS image).
//! Upstream gets these from cAdvisor's MachineInfo and VersionInfo; we read the same files.
//!
//! Files are read under a host root (`/` in production), so tests can point at a fake tree;
//! the parsers take text and are tested on fixed `/proc` contents.

use std::path::{Path, PathBuf};

use crate::stats::fs::fs_info;
use crate::stats::host::Proc;

/// One huge page size and how many pages of it the kernel holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HugePages {
    pub page_bytes: i64,
    pub pages: i64,
}

/// The facts node status is built from. `None` where the host would not tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MachineInfo {
    /// CPUs this process may run on (its affinity mask).
    pub cpus: u32,
    /// `MemTotal` in bytes.
    pub memory_bytes: Option<i64>,
    /// `SwapTotal` in bytes (0 without swap).
    pub swap_bytes: i64,
    pub hugepages: Vec<HugePages>,
    /// Size of the filesystem holding the root dir (statvfs: fragment size × blocks).
    pub root_fs_bytes: Option<i64>,
    pub machine_id: String,
    pub system_uuid: String,
    pub boot_id: String,
    pub kernel_version: String,
    pub os_image: String,
}

/// Where the host's files are.
#[derive(Debug, Clone)]
pub(crate) struct Host {
    root: PathBuf,
}

impl Host {
    pub fn real() -> Host {
        Host { root: PathBuf::from("/") }
    }

    #[cfg(test)]
    pub fn at(root: &Path) -> Host {
        Host { root: root.to_path_buf() }
    }

    fn path(&self, absolute: &str) -> PathBuf {
        self.root.join(absolute.trim_start_matches('/'))
    }

    fn read(&self, absolute: &str) -> Option<String> {
        std::fs::read_to_string(self.path(absolute)).ok()
    }

    fn read_trimmed(&self, absolute: &str) -> String {
        self.read(absolute).map(|s| s.trim().to_string()).unwrap_or_default()
    }

    /// Everything at once; the root dir's filesystem is asked with statvfs.
    pub fn machine_info(&self, root_dir: &Path) -> MachineInfo {
        let meminfo = Proc::new(&self.path("/proc")).meminfo().unwrap_or_default();
        let bytes = |key: &str| meminfo.get(key).and_then(|&v| i64::try_from(v).ok());
        let machine_id = match self.read_trimmed("/etc/machine-id") {
            id if id.is_empty() => self.read_trimmed("/var/lib/dbus/machine-id"),
            id => id,
        };
        MachineInfo {
            cpus: usable_cpus(),
            memory_bytes: bytes("MemTotal"),
            swap_bytes: bytes("SwapTotal").unwrap_or(0),
            hugepages: self.hugepages(),
            root_fs_bytes: fs_capacity(root_dir),
            machine_id,
            system_uuid: self.read_trimmed("/sys/class/dmi/id/product_uuid"),
            boot_id: self.read_trimmed("/proc/sys/kernel/random/boot_id"),
            kernel_version: self.read_trimmed("/proc/sys/kernel/osrelease"),
            os_image: self
                .read("/etc/os-release")
                .as_deref()
                .and_then(pretty_name)
                .unwrap_or_else(|| "Linux".into()),
        }
    }

    /// `/sys/kernel/mm/hugepages/hugepages-<size>kB/nr_hugepages`, sorted by page size.
    fn hugepages(&self) -> Vec<HugePages> {
        let Ok(dir) = std::fs::read_dir(self.path("/sys/kernel/mm/hugepages")) else { return Vec::new() };
        let mut sizes: Vec<HugePages> = dir
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let page_bytes = hugepage_dir_bytes(entry.file_name().to_str()?)?;
                let count = std::fs::read_to_string(entry.path().join("nr_hugepages")).ok()?;
                Some(HugePages { page_bytes, pages: count.trim().parse().ok()? })
            })
            .collect();
        sizes.sort_by_key(|h| h.page_bytes);
        sizes
    }
}

/// `PRETTY_NAME` of an os-release file, unquoted.
pub(crate) fn pretty_name(os_release: &str) -> Option<String> {
    let value = os_release.lines().find_map(|l| l.trim().strip_prefix("PRETTY_NAME="))?;
    let value = value.trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
        .unwrap_or(value);
    Some(unquoted.to_string())
}

/// `hugepages-2048kB` → 2 MiB in bytes.
pub(crate) fn hugepage_dir_bytes(name: &str) -> Option<i64> {
    let kib: i64 = name.strip_prefix("hugepages-")?.strip_suffix("kB")?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The CPUs in our affinity mask; what the host has if the mask cannot be read.
fn usable_cpus() -> u32 {
    use nix::sched::{CpuSet, sched_getaffinity};
    use nix::unistd::Pid;
    let from_mask = sched_getaffinity(Pid::from_raw(0))
        .ok()
        .map(|set| (0..CpuSet::count()).filter(|&cpu| set.is_set(cpu).unwrap_or(false)).count());
    let count = from_mask
        .filter(|&n| n > 0)
        .or_else(|| std::thread::available_parallelism().ok().map(std::num::NonZero::get))
        .unwrap_or(1);
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// Total bytes of the filesystem holding `path`, as cAdvisor counts them.
fn fs_capacity(path: &Path) -> Option<i64> {
    i64::try_from(fs_info(path).ok()?.capacity).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MEMINFO: &str = "MemTotal:       24563412 kB\nMemFree:        20000000 kB\n\
        MemAvailable:   22000000 kB\nSwapTotal:             0 kB\nHugePages_Total:       0\n";

    #[test]
    fn os_release_pretty_name() {
        let text = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n";
        assert_eq!(pretty_name(text).as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
        assert_eq!(pretty_name("PRETTY_NAME='Alpine'\n").as_deref(), Some("Alpine"));
        assert_eq!(pretty_name("PRETTY_NAME=Plain\n").as_deref(), Some("Plain"));
        assert_eq!(pretty_name("ID=x\n"), None);
    }

    #[test]
    fn hugepage_dirs() {
        assert_eq!(hugepage_dir_bytes("hugepages-2048kB"), Some(2 * 1024 * 1024));
        assert_eq!(hugepage_dir_bytes("hugepages-1048576kB"), Some(1 << 30));
        assert_eq!(hugepage_dir_bytes("hugepages-2MB"), None);
    }

    #[test]
    fn reads_a_fake_host_tree() {
        let root = std::env::temp_dir().join(format!("rk-nodestatus-host-{}", std::process::id()));
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap_or(&root)).ok();
            std::fs::write(path, text).ok();
        };
        write("proc/meminfo", MEMINFO);
        write("etc/machine-id", "abc123\n");
        write("proc/sys/kernel/random/boot_id", "boot-1\n");
        write("proc/sys/kernel/osrelease", "6.1.0-test\n");
        write("etc/os-release", "PRETTY_NAME=\"Test OS\"\n");
        write("sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "3\n");
        write("sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "0\n");
        let info = Host::at(&root).machine_info(&root);
        std::fs::remove_dir_all(&root).ok();
        assert_eq!(info.memory_bytes, Some(24_563_412 * 1024));
        assert_eq!((info.machine_id.as_str(), info.boot_id.as_str()), ("abc123", "boot-1"));
        assert_eq!((info.kernel_version.as_str(), info.os_image.as_str()), ("6.1.0-test", "Test OS"));
        assert_eq!(info.system_uuid, "", "unreadable product_uuid stays empty");
        let expected =
            vec![HugePages { page_bytes: 2 << 20, pages: 3 }, HugePages { page_bytes: 1 << 30, pages: 0 }];
        assert_eq!(info.hugepages, expected);
        assert!(info.cpus >= 1);
        assert!(info.root_fs_bytes.is_some_and(|b| b > 0));
    }
}
