//! The node Lease (`rk-node-lease`): upstream's lease controller as the kubelet runs it.
//!
//! ```text
//!  every leaseDuration/4 (+ up to 4% jitter):
//!    latest lease known? ── PUT it with a new renewTime ── ok ──► done
//!          │ no / failed
//!          ▼
//!    GET ── 404 ──► create (only once the Node's UID is known: the owner reference)
//!     │ found
//!     └──► PUT with a new renewTime (5 tries; a conflict re-reads the lease first)
//! ```
//! The Lease is `kube-node-lease/<node>`, held by the node name, owned by the Node (so it
//! goes when the Node does). As upstream, it is not created or renewed before the Node exists,
//! and stopping leaves it in place.

use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::api::MicroTime;
use crate::api::coordination::Lease;
use crate::api::meta::OwnerReference;
use crate::kubeclient::{self, Client, ResourcePath};

use super::UidCell;

pub(crate) const NAMESPACE: &str = "kube-node-lease";
const MAX_UPDATE_RETRIES: usize = 5;
const MAX_BACKOFF: Duration = Duration::from_secs(7);

/// What the lease thread needs.
pub(crate) struct LeaseLoop {
    pub node: String,
    pub duration_seconds: i32,
    pub client: Client,
    pub uid: UidCell,
    pub stop: Receiver<()>,
    latest: Option<Lease>,
}

/// Why no lease could be prepared.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NoOwnerYet;

/// The lease to write: `base` (or a new one) with this holder's duration and a fresh renew
/// time, owned by the Node once its UID is known.
pub(crate) fn new_lease(
    base: Option<&Lease>,
    node: &str,
    duration_seconds: i32,
    uid: Option<&str>,
    now: MicroTime,
) -> Result<Lease, NoOwnerYet> {
    let mut lease = base.cloned().unwrap_or_else(|| {
        let mut fresh = Lease {
            api_version: Some("coordination.k8s.io/v1".into()),
            kind: Some("Lease".into()),
            ..Lease::default()
        };
        fresh.metadata.name = Some(node.to_string());
        fresh.metadata.namespace = Some(NAMESPACE.to_string());
        fresh.spec.holder_identity = Some(node.to_string());
        fresh
    });
    lease.spec.lease_duration_seconds = Some(duration_seconds);
    lease.spec.renew_time = Some(now);
    if lease.metadata.owner_references.is_empty() {
        let uid = uid.filter(|u| !u.is_empty()).ok_or(NoOwnerYet)?;
        lease.metadata.owner_references = vec![OwnerReference {
            api_version: "v1".into(),
            kind: "Node".into(),
            name: node.to_string(),
            uid: uid.to_string(),
            ..OwnerReference::default()
        }];
    }
    Ok(lease)
}

/// The renew period: a quarter of the lease duration.
pub(crate) fn renew_interval(duration_seconds: i32) -> Duration {
    Duration::from_millis(u64::try_from(duration_seconds).unwrap_or(40).saturating_mul(250))
}

impl LeaseLoop {
    pub fn new(
        node: String,
        duration_seconds: i32,
        client: Client,
        uid: UidCell,
        stop: Receiver<()>,
    ) -> LeaseLoop {
        LeaseLoop { node, duration_seconds, client, uid, stop, latest: None }
    }

    fn path(&self) -> ResourcePath {
        ResourcePath::new("coordination.k8s.io/v1", "leases").namespace(NAMESPACE)
    }

    /// Renews until stopped.
    pub fn run(mut self) {
        let interval = renew_interval(self.duration_seconds);
        loop {
            self.sync();
            let jitter = interval.mul_f64(0.04 * unit_random());
            if !self.sleep(interval + jitter) {
                return;
            }
        }
    }

    /// Sleeps `d` unless stopped first (or the handle is gone); false if stopped.
    fn sleep(&self, d: Duration) -> bool {
        matches!(self.stop.recv_timeout(d), Err(crossbeam_channel::RecvTimeoutError::Timeout))
    }

    fn sync(&mut self) {
        if let Some(latest) = self.latest.clone() {
            match self.retry_update(latest) {
                Ok(()) => return,
                Err(e) => log::info!(
                    "Failed to update the node lease using the latest lease, fallback to ensure lease: {e}"
                ),
            }
        }
        let Some((lease, created)) = self.backoff_ensure() else { return };
        self.latest = lease.clone();
        if let (Some(lease), false) = (lease, created)
            && let Err(e) = self.retry_update(lease)
        {
            log::error!(
                "Will retry updating the node lease in {:?}: {e}",
                renew_interval(self.duration_seconds)
            );
        }
    }

    /// Gets the lease or creates it, retrying errors with backoff; `None` once stopped. The
    /// lease is `None` when it does not exist and cannot be created yet (no Node UID).
    fn backoff_ensure(&self) -> Option<(Option<Lease>, bool)> {
        let mut sleep = Duration::from_millis(100);
        loop {
            match self.ensure() {
                Ok(found) => return Some(found),
                Err(e) => {
                    sleep = (sleep * 2).min(MAX_BACKOFF);
                    log::error!("Failed to ensure the node lease exists, will retry in {sleep:?}: {e}");
                    if !self.sleep(sleep) {
                        return None;
                    }
                }
            }
        }
    }

    fn ensure(&self) -> Result<(Option<Lease>, bool), kubeclient::Error> {
        match self.client.get::<Lease>(&self.path().name(&self.node)) {
            Ok(lease) => Ok((Some(lease), false)),
            Err(e) if e.is_not_found() => {
                let uid = self.uid.get();
                let Ok(lease) =
                    new_lease(None, &self.node, self.duration_seconds, uid.as_deref(), MicroTime::now())
                else {
                    log::debug!("Node {} has no UID yet; its lease waits", self.node);
                    return Ok((None, false));
                };
                Ok((Some(self.client.create(&self.path(), &lease)?), true))
            }
            Err(e) => Err(e),
        }
    }

    fn retry_update(&mut self, mut base: Lease) -> Result<(), String> {
        for _ in 0..MAX_UPDATE_RETRIES {
            let uid = self.uid.get();
            let Ok(lease) =
                new_lease(Some(&base), &self.node, self.duration_seconds, uid.as_deref(), MicroTime::now())
            else {
                return Err(format!(
                    "cannot prepare the lease of node {}: its UID is not known yet",
                    self.node
                ));
            };
            match self.client.update(&self.path().name(&self.node), &lease) {
                Ok(updated) => {
                    self.latest = Some(updated);
                    return Ok(());
                }
                Err(e) if e.is_conflict() => {
                    log::debug!("Failed to update the lease of node {}: {e}", self.node);
                    match self.backoff_ensure() {
                        Some((Some(fresh), _)) => base = fresh,
                        _ => return Err("stopped or gone while re-reading the lease".into()),
                    }
                }
                Err(e) => log::error!("Failed to update the lease of node {}: {e}", self.node),
            }
        }
        Err(format!("failed {MAX_UPDATE_RETRIES} attempts to update the lease"))
    }
}

/// A number in [0, 1) for jitter.
pub(crate) fn unit_random() -> f64 {
    // 53 random bits make an evenly spread double.
    #[allow(clippy::cast_precision_loss)]
    let fraction = (crate::kubeclient::random_u64() >> 11) as f64 / (1u64 << 53) as f64;
    fraction
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_lease_needs_the_node_uid() {
        let now = MicroTime::from_unix_micros(1_700_000_000_000_001);
        assert_eq!(new_lease(None, "n1", 40, None, now), Err(NoOwnerYet));
        let lease = new_lease(None, "n1", 40, Some("uid-1"), now).unwrap_or_default();
        let value = serde_json::to_value(&lease).unwrap_or_default();
        let expected = serde_json::json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": "n1",
                "namespace": "kube-node-lease",
                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "n1", "uid": "uid-1"}],
            },
            "spec": {"holderIdentity": "n1", "leaseDurationSeconds": 40, "renewTime": "2023-11-14T22:13:20.000001Z"},
        });
        assert_eq!(value, expected);
    }

    #[test]
    fn renewing_keeps_the_rest_of_the_lease() {
        let t1 = MicroTime::from_unix_micros(1_000_000);
        let t2 = MicroTime::from_unix_micros(2_000_000);
        let mut base = new_lease(None, "n1", 40, Some("uid-1"), t1).unwrap_or_default();
        base.metadata.resource_version = Some("42".into());
        let renewed = new_lease(Some(&base), "n1", 30, None, t2).unwrap_or_default();
        assert_eq!(renewed.metadata.resource_version.as_deref(), Some("42"), "optimistic concurrency");
        assert_eq!(renewed.metadata.owner_references[0].uid, "uid-1", "an owner once set is kept");
        assert_eq!((renewed.spec.renew_time, renewed.spec.lease_duration_seconds), (Some(t2), Some(30)));
    }

    #[test]
    fn renewal_every_quarter_duration() {
        assert_eq!(renew_interval(40), Duration::from_secs(10));
        assert_eq!(renew_interval(10), Duration::from_millis(2500));
        assert!((0.0..1.0).contains(&unit_random()));
    }
}
