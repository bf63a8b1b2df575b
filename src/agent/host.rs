//! Host checks at start, as upstream makes them: cgroup v1 with failCgroupV1, swap with
//! failSwapOn.

use super::wiring::StartError;
use crate::config::KubeletConfiguration;

/// The statfs magic of a cgroup v2 (unified) hierarchy.
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

pub fn check(k: &KubeletConfiguration) -> Result<(), StartError> {
    let v2 = cgroup2_unified();
    if k.fail_cgroup_v1 && !v2 {
        return Err(StartError::Host(
            "kubelet is configured to not run on a host using cgroup v1. cgroup v1 support is unsupported and will be \
             removed in a future release (set failCgroupV1: false to run on it)"
                .into(),
        ));
    }
    if !v2 {
        log::warn!(
            "cgroup v1 detected. cgroup v1 support is deprecated and will be removed in a future release. Please migrate to cgroup v2."
        );
    }
    if k.fail_swap_on && swap_on(&std::fs::read_to_string("/proc/swaps").unwrap_or_default()) {
        return Err(StartError::Host(
            "running with swap on is not supported, please disable swap or set --fail-swap-on flag to false".into(),
        ));
    }
    Ok(())
}

/// True when /sys/fs/cgroup is a cgroup2 mount (libcontainer's IsCgroup2UnifiedMode).
pub fn cgroup2_unified() -> bool {
    nix::sys::statfs::statfs("/sys/fs/cgroup").is_ok_and(|s| s.filesystem_type().0 == CGROUP2_SUPER_MAGIC)
}

/// `/proc/swaps` lists at least one swap area (its first line is a header).
pub fn swap_on(proc_swaps: &str) -> bool {
    proc_swaps.lines().skip(1).any(|l| !l.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps() {
        assert!(!swap_on("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"));
        assert!(!swap_on(""));
        assert!(swap_on("Filename Type Size Used Priority\n/dev/vdb partition 1048572 0 -2\n"));
    }
}
