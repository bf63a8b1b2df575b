//! The image GC's view of CRI: ListImages, the images containers use, the sandbox image
//! (from the runtime's verbose Status: containerd's `config.sandboxImage`), and the image
//! filesystem's size (ImageFsInfo's mount point, measured with statvfs, as cAdvisor does for
//! upstream).

use std::collections::HashSet;
use std::path::Path;

use super::GcError;
use super::images::{FsStats, ImageService};
use crate::cri;
use crate::kuberuntime::image::reference;

/// [`ImageService`] over a CRI client.
#[derive(Debug, Clone)]
pub struct CriImages {
    cri: cri::Client,
}

impl CriImages {
    pub fn new(cri: cri::Client) -> CriImages {
        CriImages { cri }
    }

    /// The sandbox image the runtime reports in its verbose status, if it does.
    fn sandbox_image(&self) -> Option<String> {
        let status = self.cri.status(&cri::StatusRequest { verbose: true }).ok()?;
        let config: serde_json::Value = crate::api::json::decode(status.info.get("config")?.as_bytes()).ok()?;
        config.get("sandboxImage")?.as_str().map(str::to_string)
    }
}

impl ImageService for CriImages {
    fn list_images(&self) -> Result<Vec<cri::Image>, GcError> {
        let list = self
            .cri
            .list_images(&cri::ListImagesRequest::default())
            .map_err(|error| GcError::Cri { call: "ListImages", error })?;
        Ok(list.images)
    }

    fn in_use(&self) -> Result<HashSet<String>, GcError> {
        let list = self
            .cri
            .list_containers(&cri::ListContainersRequest::default())
            .map_err(|error| GcError::Cri { call: "ListContainers", error })?;
        let mut refs = HashSet::new();
        for c in list.containers {
            let spec = c.image.map(|i| i.image).unwrap_or_default();
            refs.extend([c.image_ref, c.image_id, spec].into_iter().filter(|r| !r.is_empty()));
        }
        if let Some(image) = self.sandbox_image() {
            // As the runtime lists it: fully qualified (`pause:3.10` is
            // `docker.io/library/pause:3.10`).
            if let Ok(r) = reference::parse(&image) {
                refs.insert(r.normalized());
            }
            refs.insert(image);
        }
        Ok(refs)
    }

    fn fs_stats(&self) -> Result<FsStats, GcError> {
        let info = self
            .cri
            .image_fs_info(&cri::ImageFsInfoRequest::default())
            .map_err(|error| GcError::Cri { call: "ImageFsInfo", error })?;
        let mountpoint = info
            .image_filesystems
            .first()
            .and_then(|fs| fs.fs_id.as_ref())
            .map(|id| id.mountpoint.clone())
            .filter(|m| !m.is_empty())
            .ok_or(GcError::NoImageFs)?;
        let fs = crate::stats::fs::fs_info(Path::new(&mountpoint)).map_err(|error| GcError::Io {
            op: "statvfs",
            path: mountpoint.clone().into(),
            error,
        })?;
        Ok(FsStats { capacity: fs.capacity, available: fs.available })
    }

    fn remove_image(&self, id: &str) -> Result<(), GcError> {
        let req = cri::RemoveImageRequest {
            image: Some(cri::ImageSpec { image: id.to_string(), ..Default::default() }),
        };
        match self.cri.remove_image(&req) {
            Err(e) if !e.is_not_found() => Err(GcError::Cri { call: "RemoveImage", error: e }),
            _ => Ok(()),
        }
    }
}
