use std::cell::RefCell;

use super::*;

const GIB: u64 = 1024 * 1024 * 1024;

/// An image runtime in memory: images by ID with a size, what is in use, the disk.
struct Fake {
    images: RefCell<Vec<cri::Image>>,
    in_use: RefCell<HashSet<String>>,
    capacity: u64,
    used_by_others: u64,
    removed: RefCell<Vec<String>>,
    failing: Option<String>,
}

impl Fake {
    fn new(images: &[(&str, u64)]) -> Fake {
        let images = images
            .iter()
            .map(|(id, size)| cri::Image {
                id: (*id).into(),
                repo_tags: vec![format!("example.com/{id}:1")],
                size: *size,
                ..Default::default()
            })
            .collect();
        Fake {
            images: RefCell::new(images),
            in_use: RefCell::default(),
            capacity: 100 * GIB,
            used_by_others: 0,
            removed: RefCell::default(),
            failing: None,
        }
    }

    fn used(&self, refs: &[&str]) {
        *self.in_use.borrow_mut() = refs.iter().map(|r| r.to_string()).collect();
    }

    fn removed(&self) -> Vec<String> {
        self.removed.take()
    }
}

impl ImageService for Fake {
    fn list_images(&self) -> Result<Vec<cri::Image>, GcError> {
        Ok(self.images.borrow().clone())
    }

    fn in_use(&self) -> Result<HashSet<String>, GcError> {
        Ok(self.in_use.borrow().clone())
    }

    fn fs_stats(&self) -> Result<FsStats, GcError> {
        let images: u64 = self.images.borrow().iter().map(|i| i.size).sum();
        Ok(FsStats {
            capacity: self.capacity,
            available: self.capacity.saturating_sub(images + self.used_by_others),
        })
    }

    fn remove_image(&self, id: &str) -> Result<(), GcError> {
        if self.failing.as_deref() == Some(id) {
            return Err(GcError::NoImageFs);
        }
        self.images.borrow_mut().retain(|i| i.id != id);
        self.removed.borrow_mut().push(id.to_string());
        Ok(())
    }
}

fn policy() -> ImagePolicy {
    ImagePolicy {
        high_threshold_percent: 85,
        low_threshold_percent: 80,
        min_age: Duration::from_secs(120),
        max_age: Duration::ZERO,
    }
}

#[test]
fn below_the_high_threshold_nothing_goes() {
    let t0 = Instant::now();
    let fake = Fake { used_by_others: 80 * GIB, ..Fake::new(&[("a", GIB), ("b", GIB)]) };
    let mut gc = ImageGc::new(policy(), t0);
    assert_eq!(gc.collect(&fake, t0 + Duration::from_secs(600)).expect("gc"), 0, "82% used");
    assert!(fake.removed().is_empty());
}

#[test]
fn least_recently_used_first_down_to_the_low_threshold() {
    let t0 = Instant::now();
    // 90 GiB used of 100: free 10 GiB to reach 80%.
    let fake = Fake {
        used_by_others: 70 * GIB,
        ..Fake::new(&[
            ("old", 4 * GIB),
            ("recent", 4 * GIB),
            ("never", 4 * GIB),
            ("running", 4 * GIB),
            ("pause", 4 * GIB),
        ])
    };
    fake.images.borrow_mut()[4].repo_tags = vec!["registry.k8s.io/pause:3.10.2".into()];
    fake.images.borrow_mut()[4].pinned = true;
    let mut gc = ImageGc::new(policy(), t0);
    let at = |s| t0 + Duration::from_secs(s);
    // Detected at t0; "old" used at 10 s, "recent" at 20 s, "never" never, "running" always.
    fake.used(&["sha256:unknown", "example.com/running:1"]);
    let e = gc.collect(&fake, at(0)).expect_err("first pass: too young for anything");
    assert!(matches!(e, GcError::InsufficientSpace { freed: 0, .. }), "{e}");
    assert!(fake.removed().is_empty(), "imageMinimumGCAge protects new images");
    fake.used(&["old", "example.com/running:1"]);
    gc.note_in_use(&fake.in_use.borrow(), at(10));
    fake.used(&["recent", "running"]);
    gc.note_in_use(&fake.in_use.borrow(), at(20));
    fake.used(&["running"]);
    let freed = gc.collect(&fake, at(300)).expect("gc");
    assert_eq!(
        fake.removed(),
        ["never", "old", "recent"],
        "never used, then the oldest use; in use and pinned stay"
    );
    assert_eq!(freed, 12 * GIB, "stops once 10 GiB are freed");
}

#[test]
fn not_enough_to_free_is_free_disk_space_failed() {
    let t0 = Instant::now();
    let fake = Fake { used_by_others: 95 * GIB, ..Fake::new(&[("a", GIB), ("b", GIB)]) };
    fake.used(&["b"]);
    let mut gc = ImageGc::new(policy(), t0);
    let _ = gc.collect(&fake, t0);
    let e = gc.collect(&fake, t0 + Duration::from_secs(600)).expect_err("97% used, 1 GiB removable");
    assert_eq!(fake.removed(), ["a"]);
    assert!(
        e.to_string().starts_with(
            "Insufficient free disk space on the node's image filesystem (97% of 100.0 GiB used). \
             Failed to free sufficient space by deleting unused images (freed 1073741824 bytes)."
        ),
        "{e}"
    );
}

#[test]
fn maximum_age_removes_long_unused_images_once_running_that_long() {
    let t0 = Instant::now();
    let fake = Fake::new(&[("stale", GIB), ("fresh", GIB), ("busy", GIB)]);
    let p = ImagePolicy { max_age: Duration::from_secs(3600), ..policy() };
    let mut gc = ImageGc::new(p, t0);
    let at = |s| t0 + Duration::from_secs(s);
    fake.used(&["stale", "fresh", "busy"]);
    gc.collect(&fake, at(60)).expect("gc");
    fake.used(&["fresh", "busy"]);
    gc.note_in_use(&fake.in_use.borrow(), at(3000));
    fake.used(&["busy"]);
    gc.collect(&fake, at(3500)).expect("not yet running an hour");
    assert!(fake.removed().is_empty());
    gc.collect(&fake, at(3700)).expect("gc");
    assert_eq!(fake.removed(), ["stale"], "unused for 3640 s > 1 h; fresh was used 700 s ago");
}

#[test]
fn removal_failures_and_capacity() {
    let t0 = Instant::now();
    let fake =
        Fake { used_by_others: 90 * GIB, failing: Some("a".into()), ..Fake::new(&[("a", GIB), ("b", GIB)]) };
    let mut gc = ImageGc::new(policy(), t0);
    let _ = gc.collect(&fake, t0);
    let e = gc.collect(&fake, t0 + Duration::from_secs(600)).expect_err("a fails");
    assert_eq!(fake.removed(), ["b"], "a failure does not stop the others");
    assert!(matches!(&e, GcError::RemoveImages { failures, .. } if failures.len() == 1), "{e}");
    let fake = Fake { capacity: 0, ..Fake::new(&[]) };
    assert!(matches!(gc.collect(&fake, t0), Err(GcError::InvalidCapacity)));
}

#[test]
fn policy_from_config_and_off_switch() {
    let k = crate::config::KubeletConfiguration::default();
    let p = ImagePolicy::from_kubelet(&k);
    assert_eq!(p, policy());
    assert!(p.enabled());
    assert!(!ImagePolicy { high_threshold_percent: 100, ..p }.enabled());
    assert!(ImagePolicy { high_threshold_percent: 100, max_age: Duration::from_secs(1), ..p }.enabled());
    assert_eq!(format_size(100 * GIB), "100.0 GiB");
    assert_eq!(format_size(1536), "1.5 KiB");
    assert_eq!(format_size(12), "12 B");
}
