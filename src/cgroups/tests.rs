//! Fake cgroup trees for v1 (with a nested memory mount and separate cpu/cpuacct
//! hierarchies, as on the development machine) and v2 (which cannot be booted here).
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use super::*;

pub(crate) struct Tree(pub PathBuf);

impl Tree {
    pub fn new(name: &str) -> Tree {
        let dir = std::env::temp_dir().join(format!("rk-cgroups-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Tree(dir)
    }

    pub fn write(&self, path: &str, text: &str) {
        let p = self.0.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const MOUNTINFO_V1: &str = "\
31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
";

const MEMORY_STAT_V1: &str = "cache 100\nrss 50\ninactive_file 10\npgfault 900\npgmajfault 3\n\
total_cache 4096\ntotal_rss 8192\ntotal_inactive_file 1024\ntotal_swap 0\n";

pub(crate) fn v1_tree(name: &str) -> Tree {
    let t = Tree::new(name);
    t.write("proc/self/mountinfo", MOUNTINFO_V1);
    t.write("proc/self/cgroup", "4:memory:/process_api/abc\n3:pids:/\n2:cpuacct:/\n1:cpu:/\n0::/\n");
    t.write("proc/77/cgroup", "4:memory:/system/rt\n2:cpuacct:/system/rt\n0::/\n");
    let pod = "kubepods/besteffort/pod1234";
    for (dir, usage) in [("", "900000000"), (pod, "5000000"), (&format!("{pod}/c1")[..], "3000000")] {
        t.write(&format!("sys/fs/cgroup/cpuacct/{dir}/cpuacct.usage"), &format!("{usage}\n"));
        t.write(&format!("sys/fs/cgroup/memory/{dir}/memory.usage_in_bytes"), "20480\n");
        t.write(&format!("sys/fs/cgroup/memory/{dir}/memory.stat"), MEMORY_STAT_V1);
        t.write(&format!("sys/fs/cgroup/memory/{dir}/memory.limit_in_bytes"), "9223372036854771712\n");
        t.write(&format!("sys/fs/cgroup/pids/{dir}/pids.current"), "2\n");
    }
    t.write(&format!("sys/fs/cgroup/memory/{pod}/memory.limit_in_bytes"), "83886080\n");
    t.write(&format!("sys/fs/cgroup/memory/{pod}/sandbox/cgroup.procs"), "4242\n4243\n");
    t
}

#[test]
fn v1_detection_and_dirs() {
    let t = v1_tree("v1dirs");
    let cg = Cgroups::detect_at(&t.0).unwrap();
    assert_eq!(cg.version(), Version::V1);
    assert_eq!(cg.dir(Controller::Cpu, "/kubepods").unwrap(), t.0.join("sys/fs/cgroup/cpuacct/kubepods"));
    assert_eq!(cg.dir(Controller::Memory, "/").unwrap(), t.0.join("sys/fs/cgroup/memory"));
    assert!(cg.sees_root(Controller::Memory));
    assert!(cg.exists("/kubepods/besteffort"));
    assert!(!cg.exists("/nope"));
    assert_eq!(cg.children("/kubepods/besteffort"), ["pod1234"]);
    assert_eq!(cg.first_process("/kubepods/besteffort/pod1234/sandbox"), Some(4242));
}

#[test]
fn v1_stats() {
    let t = v1_tree("v1stats");
    let cg = Cgroups::detect_at(&t.0).unwrap();
    let s = cg.stats("/kubepods/besteffort/pod1234").unwrap();
    assert_eq!(s.cpu.unwrap().usage_ns, 5_000_000);
    let m = s.memory.unwrap();
    assert_eq!(m.usage, 20480);
    assert_eq!(m.working_set, 20480 - 1024, "usage minus total_inactive_file");
    assert_eq!((m.rss, m.page_faults, m.major_page_faults), (8192, 900, 3));
    assert_eq!(m.limit, Some(83_886_080));
    assert_eq!(s.pids, Some(2));
    assert!(s.created.is_some());
    let root = cg.stats("/").unwrap();
    assert_eq!(root.memory.unwrap().limit, None, "v1's huge page-rounded number means no limit");
    assert_eq!(cg.stats("/kubepods/besteffort/gone"), None);
}

#[test]
fn v1_process_cgroups() {
    let t = v1_tree("v1proc");
    let cg = Cgroups::detect_at(&t.0).unwrap();
    let me = cg.process_cgroup("self").unwrap();
    assert_eq!(me, ProcessCgroup { path: "/process_api/abc".into(), cpu_elsewhere: true });
    let rt = cg.process_cgroup("77").unwrap();
    assert_eq!(rt, ProcessCgroup { path: "/system/rt".into(), cpu_elsewhere: false });
    assert!(cg.process_cgroup("78").is_err());
}

#[test]
fn v1_nested_memory_mount_sees_only_its_subtree() {
    let t = Tree::new("v1nested");
    t.write("proc/self/mountinfo", "35 31 0:32 /agent /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n");
    t.write("sys/fs/cgroup/memory/memory.usage_in_bytes", "1\n");
    let cg = Cgroups::detect_at(&t.0).unwrap();
    assert!(!cg.sees_root(Controller::Memory));
    assert_eq!(cg.dir(Controller::Memory, "/agent").unwrap(), t.0.join("sys/fs/cgroup/memory"));
    assert_eq!(cg.dir(Controller::Memory, "/agent/x").unwrap(), t.0.join("sys/fs/cgroup/memory/x"));
    assert_eq!(cg.dir(Controller::Memory, "/kubepods"), None);
    assert_eq!(cg.dir(Controller::Cpu, "/agent"), None, "no cpuacct mount");
}

#[test]
fn v1_without_memory_controller_is_an_error() {
    let t = Tree::new("v1nomem");
    t.write("proc/self/mountinfo", "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu,cpuacct\n");
    assert!(matches!(Cgroups::detect_at(&t.0), Err(CgroupError::NotMounted { what: "memory" })));
}

const PSI: &str =
    "some avg10=2.00 avg60=1.00 avg300=0.50 total=1000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=10\n";

pub(crate) fn v2_tree(name: &str) -> Tree {
    let t = Tree::new(name);
    t.write("proc/self/mountinfo", "30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n");
    t.write("proc/self/cgroup", "0::/system.slice/rkubelet.service\n");
    let root = "sys/fs/cgroup";
    t.write(&format!("{root}/cgroup.controllers"), "cpu memory pids io\n");
    t.write(&format!("{root}/cpu.stat"), "usage_usec 7000000\nuser_usec 1\nsystem_usec 2\n");
    t.write(
        &format!("{root}/memory.stat"),
        "anon 3000\nfile 5000\ninactive_file 2000\npgfault 10\npgmajfault 1\n",
    );
    let pod = format!("{root}/kubepods/burstable/pod99");
    t.write(&format!("{pod}/cpu.stat"), "usage_usec 1500\n");
    t.write(&format!("{pod}/cpu.pressure"), PSI);
    t.write(&format!("{pod}/memory.current"), "65536\n");
    t.write(
        &format!("{pod}/memory.stat"),
        "anon 40000\nfile 20000\ninactive_file 16384\npgfault 77\npgmajfault 2\n",
    );
    t.write(&format!("{pod}/memory.max"), "max\n");
    t.write(&format!("{pod}/memory.swap.current"), "4096\n");
    t.write(&format!("{pod}/memory.swap.max"), "1048576\n");
    t.write(&format!("{pod}/memory.pressure"), PSI);
    t.write(&format!("{pod}/io.pressure"), PSI);
    t.write(&format!("{pod}/pids.current"), "3\n");
    t
}

#[test]
fn v2_stats() {
    let t = v2_tree("v2stats");
    let cg = Cgroups::detect_at(&t.0).unwrap();
    assert_eq!(cg.version(), Version::V2);
    assert_eq!(cg.dir(Controller::Cpu, "/kubepods").unwrap(), t.0.join("sys/fs/cgroup/kubepods"));
    let s = cg.stats("/kubepods/burstable/pod99").unwrap();
    let cpu = s.cpu.unwrap();
    assert_eq!(cpu.usage_ns, 1_500_000, "usage_usec in nanoseconds");
    assert_eq!(cpu.psi.unwrap().some, PsiData { total: 1000, avg10: 2.0, avg60: 1.0, avg300: 0.5 });
    let m = s.memory.unwrap();
    assert_eq!((m.usage, m.working_set, m.rss), (65536, 65536 - 16384, 40000));
    assert_eq!((m.page_faults, m.major_page_faults), (77, 2));
    assert_eq!(m.limit, None, "memory.max says max");
    assert_eq!((m.swap_usage, m.swap_limit), (4096, Some(1_048_576)));
    assert!(m.psi.is_some() && s.io_psi.is_some());
    assert_eq!(s.pids, Some(3));
}

#[test]
fn v2_root_memory_from_memory_stat() {
    let t = v2_tree("v2root");
    let cg = Cgroups::detect_at(&t.0).unwrap();
    let root = cg.stats("/").unwrap();
    let m = root.memory.unwrap();
    assert_eq!(m.usage, 8000, "no memory.current at the root: anon + file");
    assert_eq!(m.working_set, 6000);
    assert_eq!(root.cpu.unwrap().usage_ns, 7_000_000_000);
    assert_eq!(cg.process_cgroup("self").unwrap().path, "/system.slice/rkubelet.service");
}

#[test]
fn v2_child_without_memory_current_is_not_readable() {
    let t = v2_tree("v2child");
    t.write("sys/fs/cgroup/x/memory.stat", "anon 1\n");
    let cg = Cgroups::detect_at(&t.0).unwrap();
    assert_eq!(cg.stats("/x").unwrap().memory, None);
}

#[test]
fn real_host_smoke() {
    // Whatever this machine runs, detection works and the root is readable when visible.
    let Ok(cg) = Cgroups::detect() else {
        println!("SKIPPED: no cgroup hierarchy here");
        return;
    };
    let me = cg.process_cgroup("self").unwrap();
    println!("cgroup {:?}, this process in {me:?}", cg.version());
    assert!(cg.exists(&me.path) || !cg.sees_root(Controller::Memory), "our own cgroup is visible");
    let own = cg.stats(&me.path).unwrap();
    assert!(own.memory.unwrap().usage > 0, "we use memory");
    if cg.sees_root(Controller::Memory) {
        let root = cg.stats("/").unwrap();
        assert!(root.memory.unwrap().working_set > 0);
    }
}
