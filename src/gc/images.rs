//! Image GC (upstream's `realImageGCManager`): remove unused images, least recently used
//! first, when the image filesystem is fuller than imageGCHighThresholdPercent, down to
//! imageGCLowThresholdPercent; and images unused for imageMaximumGCAge.
//!
//! ```text
//!  ListImages + images in use ─► records: first detected, last used, size, pinned
//!     ─► candidates: not in use, not pinned; oldest last use first, then oldest detection
//!     ─► older than imageMaximumGCAge (once rkubelet ran that long): removed
//!     ─► usage ≥ high threshold: remove candidates detected ≥ imageMinimumGCAge ago until
//!        usage would be at the low threshold; FreeDiskSpaceFailed when that is not enough
//! ```
//! "In use" means named by any container, running or not, or being the runtime's sandbox
//! image (containerd before 1.7 does not mark it pinned).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::GcError;
use crate::cri;

/// imageGC* settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImagePolicy {
    pub high_threshold_percent: i32,
    pub low_threshold_percent: i32,
    /// imageMinimumGCAge: never remove an image detected less than this long ago.
    pub min_age: Duration,
    /// imageMaximumGCAge: remove images unused this long (0: off).
    pub max_age: Duration,
}

impl ImagePolicy {
    pub fn from_kubelet(k: &crate::config::KubeletConfiguration) -> ImagePolicy {
        ImagePolicy {
            high_threshold_percent: k.image_gc_high_threshold_percent,
            low_threshold_percent: k.image_gc_low_threshold_percent,
            min_age: k.image_minimum_gc_age.to_std().unwrap_or(Duration::from_secs(120)),
            max_age: k.image_maximum_gc_age.to_std().unwrap_or_default(),
        }
    }

    /// Upstream turns image GC off when the high threshold is 100 and there is no maximum age.
    pub fn enabled(&self) -> bool {
        !(self.high_threshold_percent >= 100 && self.max_age.is_zero())
    }
}

/// Size and free space of the image filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsStats {
    pub capacity: u64,
    pub available: u64,
}

/// What image GC needs from the runtime.
pub trait ImageService {
    fn list_images(&self) -> Result<Vec<cri::Image>, GcError>;
    /// References (IDs, names, digests) of images in use, the sandbox image included.
    fn in_use(&self) -> Result<HashSet<String>, GcError>;
    fn fs_stats(&self) -> Result<FsStats, GcError>;
    fn remove_image(&self, id: &str) -> Result<(), GcError>;
}

#[derive(Debug, Clone)]
struct Record {
    /// The image's ID, tags and digests.
    names: Vec<String>,
    first_detected: Instant,
    last_used: Option<Instant>,
    size: u64,
    pinned: bool,
}

impl Record {
    fn used_by(&self, refs: &HashSet<String>) -> bool {
        self.names.iter().any(|n| refs.contains(n))
    }
}

/// The image GC's memory: when each image was first seen and last used.
#[derive(Debug)]
pub struct ImageGc {
    policy: ImagePolicy,
    records: HashMap<String, Record>,
    began: Instant,
}

impl ImageGc {
    pub fn new(policy: ImagePolicy, began: Instant) -> ImageGc {
        ImageGc { policy, records: HashMap::new(), began }
    }

    /// Marks the images these references name as used at `now` (the container GC's lists).
    pub fn note_in_use(&mut self, refs: &HashSet<String>, now: Instant) {
        for r in self.records.values_mut().filter(|r| r.used_by(refs)) {
            r.last_used = Some(now);
        }
    }

    /// Updates the records from the runtime's images (upstream's `detectImages`); returns
    /// the IDs of the images in use.
    fn detect(&mut self, images: Vec<cri::Image>, in_use: &HashSet<String>, now: Instant) -> HashSet<String> {
        let mut used = HashSet::new();
        let mut present = HashSet::new();
        for img in images {
            let names: Vec<String> =
                std::iter::once(img.id.clone()).chain(img.repo_tags).chain(img.repo_digests).collect();
            let rec = self.records.entry(img.id.clone()).or_insert_with(|| Record {
                names: Vec::new(),
                first_detected: now,
                last_used: None,
                size: 0,
                pinned: false,
            });
            (rec.names, rec.size, rec.pinned) = (names, img.size, img.pinned);
            if rec.used_by(in_use) {
                rec.last_used = Some(now);
                used.insert(img.id.clone());
            }
            present.insert(img.id);
        }
        self.records.retain(|id, _| present.contains(id));
        used
    }

    /// Candidates for removal, least recently used first.
    fn eviction_order(&self, used: &HashSet<String>) -> Vec<(String, Record)> {
        let mut out: Vec<(String, Record)> = self
            .records
            .iter()
            .filter(|(id, r)| !used.contains(*id) && !r.pinned)
            .map(|(id, r)| (id.clone(), r.clone()))
            .collect();
        out.sort_by(|(ia, a), (ib, b)| {
            (a.last_used, a.first_detected, ia).cmp(&(b.last_used, b.first_detected, ib))
        });
        out
    }

    fn remove(&mut self, svc: &dyn ImageService, id: &str, size: u64, why: &str) -> Result<(), GcError> {
        log::info!("removing image {id} ({size} bytes): {why}");
        svc.remove_image(id)?;
        self.records.remove(id);
        Ok(())
    }

    /// One image GC pass (upstream's `GarbageCollect`); returns the bytes freed.
    pub fn collect(&mut self, svc: &dyn ImageService, now: Instant) -> Result<u64, GcError> {
        let images = svc.list_images()?;
        let in_use = svc.in_use()?;
        let used = self.detect(images, &in_use, now);
        let mut candidates = self.eviction_order(&used);
        let mut freed = 0u64;

        let max_age = self.policy.max_age;
        if !max_age.is_zero() && now.duration_since(self.began) > max_age {
            let mut failures = Vec::new();
            let mut left = Vec::new();
            for (id, r) in candidates {
                let unused_for = r.last_used.map_or(Duration::MAX, |t| now.duration_since(t));
                if unused_for <= max_age {
                    left.push((id, r));
                } else if let Err(e) = self.remove(svc, &id, r.size, "unused longer than imageMaximumGCAge") {
                    failures.push(format!("{id}: {e}"));
                    left.push((id, r));
                } else {
                    freed += r.size;
                }
            }
            if !failures.is_empty() {
                return Err(GcError::RemoveImages {
                    wanted: format!("images older than {max_age:?}"),
                    failures,
                });
            }
            candidates = left;
        }

        let fs = svc.fs_stats()?;
        let capacity = fs.capacity;
        if capacity == 0 {
            return Err(GcError::InvalidCapacity);
        }
        let available = fs.available.min(capacity);
        let usage_percent =
            100 - u64::try_from(u128::from(available) * 100 / u128::from(capacity)).unwrap_or(100);
        let high = u64::try_from(self.policy.high_threshold_percent).unwrap_or(100);
        if usage_percent < high {
            return Ok(freed);
        }
        let low = u64::try_from(self.policy.low_threshold_percent.clamp(0, 100)).unwrap_or(0);
        let target_free =
            u64::try_from(u128::from(capacity) * u128::from(100 - low) / 100).unwrap_or(u64::MAX);
        let amount = target_free.saturating_sub(available);
        log::info!(
            "image filesystem {usage_percent}% used (high threshold {high}%): freeing {amount} bytes to reach {low}%"
        );
        let freed_now = self.free_space(svc, amount, now, candidates)?;
        if freed_now < amount {
            return Err(GcError::InsufficientSpace { usage_percent, capacity, freed: freed_now });
        }
        Ok(freed + freed_now)
    }

    /// Removes candidates old enough until `amount` bytes are freed (upstream's `freeSpace`).
    fn free_space(
        &mut self,
        svc: &dyn ImageService,
        amount: u64,
        now: Instant,
        candidates: Vec<(String, Record)>,
    ) -> Result<u64, GcError> {
        let mut freed = 0u64;
        let mut failures = Vec::new();
        for (id, r) in candidates {
            if r.last_used.is_some_and(|t| t >= now)
                || now.duration_since(r.first_detected) < self.policy.min_age
            {
                continue;
            }
            match self.remove(svc, &id, r.size, "freeing disk space") {
                Ok(()) => freed += r.size,
                Err(e) => {
                    failures.push(format!("{id}: {e}"));
                    continue;
                }
            }
            if freed >= amount {
                break;
            }
        }
        if !failures.is_empty() {
            return Err(GcError::RemoveImages {
                wanted: format!("{amount} bytes (freed {freed})"),
                failures,
            });
        }
        Ok(freed)
    }
}

/// Bytes as upstream shows them in FreeDiskSpaceFailed (`12.3 GiB`).
pub(crate) fn format_size(bytes: u64) -> String {
    const UNITS: [(&str, f64); 4] = [
        ("TiB", 1024f64 * 1024. * 1024. * 1024.),
        ("GiB", 1024f64 * 1024. * 1024.),
        ("MiB", 1024f64 * 1024.),
        ("KiB", 1024f64),
    ];
    let size = bytes as f64;
    UNITS
        .iter()
        .find(|(_, unit)| size >= *unit)
        .map_or_else(|| format!("{bytes} B"), |(name, unit)| format!("{:.1} {name}", size / unit))
}

#[cfg(test)]
#[path = "images_tests.rs"]
mod tests;
