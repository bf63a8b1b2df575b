//! Sanity checks on responses, the same upstream's CRI client makes: an answer without the
//! fields every caller relies on (an id, a URL, the runtime conditions) is an error, not data.

use super::*;

/// `Err(reason)` when a response cannot be used.
pub(super) type Check<Req, Resp> = fn(&Req, &Resp) -> Result<(), String>;

pub(super) fn none<Req, Resp>(_: &Req, _: &Resp) -> Result<(), String> {
    Ok(())
}

fn require(missing: &[(&str, bool)], what: &str) -> Result<(), String> {
    let names: Vec<&str> = missing.iter().filter(|(_, is_missing)| *is_missing).map(|(n, _)| *n).collect();
    if names.is_empty() { Ok(()) } else { Err(format!("{what} lacks {}", names.join(", "))) }
}

pub(super) fn version(_: &VersionRequest, r: &VersionResponse) -> Result<(), String> {
    require(
        &[
            ("version", r.version.is_empty()),
            ("runtime_name", r.runtime_name.is_empty()),
            ("runtime_version", r.runtime_version.is_empty()),
            ("runtime_api_version", r.runtime_api_version.is_empty()),
        ],
        "VersionResponse",
    )
}

pub(super) fn status(_: &StatusRequest, r: &StatusResponse) -> Result<(), String> {
    match &r.status {
        Some(s) if s.conditions.len() >= 2 => Ok(()),
        _ => Err("RuntimeReady or NetworkReady condition is not set".into()),
    }
}

fn pod_name(config: &Option<PodSandboxConfig>) -> String {
    match config.as_ref().and_then(|c| c.metadata.as_ref()) {
        Some(m) => format!("{}/{}", m.namespace, m.name),
        None => "<no metadata>".into(),
    }
}

pub(super) fn run_pod_sandbox(req: &RunPodSandboxRequest, r: &RunPodSandboxResponse) -> Result<(), String> {
    if r.pod_sandbox_id.is_empty() {
        return Err(format!("no sandbox id for pod {}", pod_name(&req.config)));
    }
    Ok(())
}

pub(super) fn create_container(req: &CreateContainerRequest, r: &CreateContainerResponse) -> Result<(), String> {
    if r.container_id.is_empty() {
        let name = req.config.as_ref().and_then(|c| c.metadata.as_ref()).map_or("", |m| m.name.as_str());
        return Err(format!("no container id for container {name:?} of pod {}", pod_name(&req.sandbox_config)));
    }
    Ok(())
}

pub(super) fn pod_sandbox_status(_: &PodSandboxStatusRequest, r: &PodSandboxStatusResponse) -> Result<(), String> {
    let Some(s) = &r.status else { return Ok(()) };
    let m = s.metadata.as_ref();
    require(
        &[
            ("id", s.id.is_empty()),
            ("metadata", m.is_none()),
            ("metadata.name", m.is_some_and(|m| m.name.is_empty())),
            ("metadata.namespace", m.is_some_and(|m| m.namespace.is_empty())),
            ("metadata.uid", m.is_some_and(|m| m.uid.is_empty())),
            ("created_at", s.created_at == 0),
        ],
        "PodSandboxStatus",
    )
}

pub(super) fn container_status(_: &ContainerStatusRequest, r: &ContainerStatusResponse) -> Result<(), String> {
    let Some(s) = &r.status else { return Ok(()) };
    let m = s.metadata.as_ref();
    require(
        &[
            ("id", s.id.is_empty()),
            ("metadata", m.is_none()),
            ("metadata.name", m.is_some_and(|m| m.name.is_empty())),
            ("created_at", s.created_at == 0),
            ("image", s.image.as_ref().is_none_or(|i| i.image.is_empty())),
            ("image_ref", s.image_ref.is_empty()),
        ],
        "ContainerStatus",
    )
}

fn url(url: &str) -> Result<(), String> {
    if url.is_empty() { Err("url is not set".into()) } else { Ok(()) }
}

pub(super) fn exec(_: &ExecRequest, r: &ExecResponse) -> Result<(), String> {
    url(&r.url)
}

pub(super) fn attach(_: &AttachRequest, r: &AttachResponse) -> Result<(), String> {
    url(&r.url)
}

pub(super) fn port_forward(_: &PortForwardRequest, r: &PortForwardResponse) -> Result<(), String> {
    url(&r.url)
}

fn image_name(spec: &Option<ImageSpec>) -> &str {
    spec.as_ref().map_or("", |s| s.image.as_str())
}

pub(super) fn image_status(req: &ImageStatusRequest, r: &ImageStatusResponse) -> Result<(), String> {
    match &r.image {
        Some(i) if i.id.is_empty() || i.size == 0 => {
            Err(format!("id or size of image {:?} is not set", image_name(&req.image)))
        }
        _ => Ok(()),
    }
}

pub(super) fn pull_image(req: &PullImageRequest, r: &PullImageResponse) -> Result<(), String> {
    if r.image_ref.is_empty() {
        return Err(format!("image_ref of image {:?} is not set", image_name(&req.image)));
    }
    Ok(())
}
