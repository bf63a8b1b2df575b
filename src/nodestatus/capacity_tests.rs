use super::*;
use crate::nodestatus::machine::HugePages;

const GI: i64 = 1 << 30;
const MI: i64 = 1 << 20;

fn machine() -> MachineInfo {
    MachineInfo {
        cpus: 4,
        memory_bytes: Some(24_563_412 * 1024),
        root_fs_bytes: Some(100 * GI),
        hugepages: vec![HugePages { page_bytes: 2 * MI, pages: 0 }, HugePages { page_bytes: GI, pages: 0 }],
        ..MachineInfo::default()
    }
}

fn limits(reservations: &Reservations) -> Limits<'_> {
    Limits { max_pods: 110, pods_per_core: 0, local_storage_capacity_isolation: true, reservations }
}

fn q(s: &str) -> Quantity {
    Quantity::parse(s).unwrap_or_default()
}

fn render(map: &BTreeMap<String, Quantity>) -> Vec<(String, String)> {
    map.iter().map(|(k, v)| (k.clone(), v.to_string())).collect()
}

#[test]
fn capacity_from_the_machine() {
    let none = Reservations::default();
    let capacity = machine_capacity(&machine(), limits(&none));
    let expected = [
        ("cpu", "4"),
        ("ephemeral-storage", "100Gi"),
        ("hugepages-1Gi", "0"),
        ("hugepages-2Mi", "0"),
        ("memory", "24563412Ki"),
        ("pods", "110"),
    ];
    let expected: Vec<(String, String)> =
        expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    assert_eq!(render(&capacity), expected);
}

#[test]
fn pods_per_core_caps_pods() {
    let none = Reservations::default();
    let few = Limits { pods_per_core: 10, ..limits(&none) };
    assert_eq!(machine_capacity(&machine(), few).get("pods"), Some(&q("40")));
    let many = Limits { pods_per_core: 100, ..limits(&none) };
    assert_eq!(machine_capacity(&machine(), many).get("pods"), Some(&q("110")));
}

#[test]
fn no_meminfo_means_zero_cpu_and_memory() {
    let none = Reservations::default();
    let unknown = MachineInfo { memory_bytes: None, ..machine() };
    let capacity = machine_capacity(&unknown, limits(&none));
    assert_eq!(render(&capacity).len(), 3);
    assert!(capacity.get("cpu").is_some_and(Quantity::is_zero));
    assert!(capacity.get("memory").is_some_and(Quantity::is_zero));
}

#[test]
fn no_ephemeral_storage_without_isolation() {
    let none = Reservations::default();
    let off = Limits { local_storage_capacity_isolation: false, ..limits(&none) };
    assert!(!machine_capacity(&machine(), off).contains_key("ephemeral-storage"));
}

#[test]
fn allocatable_subtracts_reservations_and_hard_eviction() {
    let reservations = Reservations {
        kube_reserved: BTreeMap::from([
            ("cpu".into(), q("100m")),
            ("memory".into(), q("1Gi")),
            ("pid".into(), q("1000")),
        ]),
        system_reserved: BTreeMap::from([("cpu".into(), q("150m")), ("ephemeral-storage".into(), q("1Gi"))]),
        memory_available: Some(Threshold::Quantity(q("100Mi"))),
        nodefs_available: Some(Threshold::Fraction(0.1)),
    };
    let mut status = NodeStatus::default();
    set_capacity(&mut status, &machine(), limits(&reservations));
    let memory = 24_563_412 * 1024 - GI - 100 * MI;
    // 10% as upstream computes it: a float32 0.1 times the capacity, truncated.
    let storage = 100 * GI - GI - 10_737_418_400;
    assert_eq!(status.allocatable.get("cpu").map(ToString::to_string).as_deref(), Some("3750m"));
    assert_eq!(status.allocatable.get("memory"), Some(&Quantity::from_bytes(memory)));
    assert_eq!(status.allocatable.get("ephemeral-storage"), Some(&Quantity::from_bytes(storage)));
    assert_eq!(status.allocatable.get("pods"), Some(&q("110")));
    assert!(!status.allocatable.contains_key("pid"), "pid is reserved but never reported");
    assert_eq!(status.capacity.get("memory"), Some(&q("24563412Ki")), "capacity is untouched");
}

#[test]
fn allocatable_alone_is_what_the_status_reports() {
    let reservations = Reservations {
        memory_available: Some(Threshold::Quantity(q("100Mi"))),
        ..Reservations::default()
    };
    let mut status = NodeStatus::default();
    set_capacity(&mut status, &machine(), limits(&reservations));
    let alone = allocatable(&machine(), limits(&reservations));
    assert_eq!(alone, status.allocatable);
    assert_eq!(alone.get("memory"), Some(&Quantity::from_bytes(24_563_412 * 1024 - 100 * MI)));
    assert_eq!(alone.get("cpu").and_then(Quantity::milli_value), Some(4000));
}

#[test]
fn local_allocatable_reads_this_host() {
    let mut cfg = crate::nodestatus::Config::new("n", Vec::new());
    cfg.root_dir = std::env::temp_dir();
    cfg.reservations.kube_reserved.insert("cpu".into(), q("1m"));
    let alone = crate::nodestatus::local_allocatable(&cfg);
    let cpu = alone.get("cpu").and_then(Quantity::milli_value).expect("cpu");
    assert!(cpu > 0 && cpu % 1000 == 999, "whole CPUs less 1m reserved: {cpu}");
    assert!(alone.get("memory").and_then(Quantity::value).is_some_and(|m| m > 0), "{alone:?}");
}

#[test]
fn allocatable_never_goes_negative() {
    let reservations =
        Reservations { kube_reserved: BTreeMap::from([("cpu".into(), q("8"))]), ..Reservations::default() };
    let mut status = NodeStatus::default();
    set_capacity(&mut status, &machine(), limits(&reservations));
    assert!(status.allocatable.get("cpu").is_some_and(Quantity::is_zero));
}

#[test]
fn huge_pages_come_out_of_allocatable_memory() {
    let none = Reservations::default();
    let with_pages =
        MachineInfo { hugepages: vec![HugePages { page_bytes: 2 * MI, pages: 512 }], ..machine() };
    let mut status = NodeStatus::default();
    set_capacity(&mut status, &with_pages, limits(&none));
    assert_eq!(status.capacity.get("hugepages-2Mi"), Some(&q("1Gi")));
    assert_eq!(status.allocatable.get("hugepages-2Mi"), Some(&q("1Gi")));
    assert_eq!(status.allocatable.get("memory"), Some(&Quantity::from_bytes(24_563_412 * 1024 - GI)));
}

#[test]
fn extended_resources_stay_unless_gone_from_capacity() {
    let none = Reservations::default();
    let mut status = NodeStatus::default();
    status.capacity.insert("example.com/gpu".into(), q("2"));
    status.allocatable.insert("example.com/gpu".into(), q("1"));
    status.allocatable.insert("example.com/fpga".into(), q("1"));
    set_capacity(&mut status, &machine(), limits(&none));
    assert_eq!(status.capacity.get("example.com/gpu"), Some(&q("2")));
    assert_eq!(
        status.allocatable.get("example.com/gpu"),
        Some(&q("2")),
        "no reservation: allocatable = capacity"
    );
    assert!(!status.allocatable.contains_key("example.com/fpga"));
}
