//! Where the cgroup hierarchies are mounted (`/proc/self/mountinfo`) and which cgroups a
//! process belongs to (`/proc/<pid>/cgroup`). Pure parsers over text.
#![forbid(unsafe_code)]

use std::path::PathBuf;

/// One mounted cgroup hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Where it is mounted, e.g. `/sys/fs/cgroup/memory`.
    pub mountpoint: PathBuf,
    /// The cgroup shown at the mount point: `/` unless the mount is of a subtree (a
    /// container's view, or a bind mount).
    pub root: String,
    /// v1: the controllers of the hierarchy (`cpu`, `cpuacct`, `memory`, `name=systemd`...);
    /// empty for v2.
    pub controllers: Vec<String>,
    /// The unified (v2) hierarchy.
    pub unified: bool,
}

/// The cgroup mounts in a mountinfo text; other mounts and malformed lines are skipped.
///
/// A line is `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER`.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines().filter_map(parse_mount_line).collect()
}

fn parse_mount_line(line: &str) -> Option<Mount> {
    let (before, after) = line.split_once(" - ")?;
    let fields: Vec<&str> = before.split(' ').collect();
    let root = unescape(fields.get(3)?);
    let mountpoint = PathBuf::from(unescape(fields.get(4)?));
    let mut after = after.split(' ');
    let fstype = after.next()?;
    let _source = after.next()?;
    let super_options = after.next().unwrap_or("");
    match fstype {
        "cgroup2" => Some(Mount { mountpoint, root, controllers: Vec::new(), unified: true }),
        "cgroup" => {
            let controllers = super_options
                .split(',')
                .filter(|o| !matches!(*o, "rw" | "ro" | "") && !o.starts_with("release_agent="))
                .map(str::to_string)
                .collect();
            Some(Mount { mountpoint, root, controllers, unified: false })
        }
        _ => None,
    }
}

/// mountinfo writes space, tab, newline and backslash in paths as `\ooo` octal escapes.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal {
            Some(d) => {
                let value = d.iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One line of `/proc/<pid>/cgroup`: the hierarchy's controllers (empty for v2) and the
/// process's cgroup in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub controllers: Vec<String>,
    pub path: String,
}

/// `/proc/<pid>/cgroup`: `ID:CONTROLLERS:PATH` per line (`0::PATH` for v2).
pub fn parse_proc_cgroup(text: &str) -> Vec<Membership> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let _id = parts.next()?;
            let controllers = parts.next()?;
            let path = parts.next()?;
            let controllers = controllers.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect();
            Some(Membership { controllers, path: path.to_string() })
        })
        .collect()
}

/// The path of `cgroup` under a mount of the hierarchy rooted at `root`, or `None` when
/// the cgroup is outside what the mount shows.
pub fn relative_to_root<'a>(root: &str, cgroup: &'a str) -> Option<&'a str> {
    let root = root.trim_end_matches('/');
    let rest = cgroup.strip_prefix(root)?;
    if rest.is_empty() || rest.starts_with('/') { Some(rest.trim_start_matches('/')) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 /nested /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 23 8:1 / /mnt/with\\040space rw - ext4 /dev/sda1 rw
garbage line
";

    #[test]
    fn mountinfo_v1_with_hybrid_unified() {
        let mounts = parse_mountinfo(V1);
        assert_eq!(mounts.len(), 4, "{mounts:?}");
        assert_eq!(mounts[0].controllers, ["cpu", "cpuacct"]);
        assert_eq!(mounts[0].mountpoint, PathBuf::from("/sys/fs/cgroup/cpu,cpuacct"));
        assert_eq!(mounts[1].root, "/nested");
        assert_eq!(mounts[2].controllers, ["xattr", "name=systemd"]);
        assert!(mounts[3].unified && mounts[3].controllers.is_empty());
    }

    #[test]
    fn mountinfo_escapes() {
        let m = parse_mountinfo("1 0 0:1 /a\\040b /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
        assert_eq!(m[0].root, "/a b");
        assert_eq!(unescape("x\\134y\\04"), "x\\y\\04", "an incomplete escape stays as it is");
    }

    #[test]
    fn proc_cgroup() {
        let m = parse_proc_cgroup("4:memory:/process_api/12\n1:cpu,cpuacct:/\n0::/user.slice\nbad\n");
        assert_eq!(m.len(), 3);
        assert_eq!(m[0], Membership { controllers: vec!["memory".into()], path: "/process_api/12".into() });
        assert_eq!(m[1].controllers, ["cpu", "cpuacct"]);
        assert_eq!(m[2], Membership { controllers: vec![], path: "/user.slice".into() });
    }

    #[test]
    fn relative_paths() {
        assert_eq!(relative_to_root("/", "/kubepods/pod1"), Some("kubepods/pod1"));
        assert_eq!(relative_to_root("/", "/"), Some(""));
        assert_eq!(relative_to_root("/nested", "/nested/a"), Some("a"));
        assert_eq!(relative_to_root("/nested", "/nested"), Some(""));
        assert_eq!(relative_to_root("/nested", "/nestedx/a"), None);
        assert_eq!(relative_to_root("/nested", "/kubepods"), None);
    }
}
