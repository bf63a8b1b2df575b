//! The typed CRI client: one method per RPC over any [`grpc::Unary`] transport.
//!
//! Deadlines follow upstream's CRI client: every call gets the runtime request timeout
//! (`--runtime-request-timeout`, 2 minutes by default), except
//!
//! | RPC | deadline |
//! | --- | --- |
//! | PullImage | none (pulls take as long as they take) |
//! | RunPodSandbox | twice the request timeout |
//! | StopContainer | request timeout + the request's grace period |
//! | ExecSync | request timeout + the request's timeout; none when that is 0 |
//!
//! [`Client::with_call_timeout`] overrides the deadline of the calls made through the handle it
//! returns. Responses go through the same sanity checks as upstream's (see `check.rs`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::check::{self, Check};
use super::*;
use crate::grpc;
use crate::proto::Message;

/// Upstream's default `--runtime-request-timeout`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// A CRI client; cheap to clone and to share between threads.
#[derive(Clone)]
pub struct Client {
    transport: Arc<dyn grpc::Unary>,
    request_timeout: Duration,
    /// Set by `with_call_timeout`: replaces every call's own deadline.
    call_timeout: Option<Option<Duration>>,
}

/// How an RPC's deadline follows from the client and the request.
type TimeoutFn<Req> = fn(&Client, &Req) -> Option<Duration>;

fn request_timeout<Req>(c: &Client, _: &Req) -> Option<Duration> {
    Some(c.request_timeout)
}

fn no_timeout<Req>(_: &Client, _: &Req) -> Option<Duration> {
    None
}

fn sandbox_timeout(c: &Client, _: &RunPodSandboxRequest) -> Option<Duration> {
    Some(c.request_timeout.saturating_mul(2))
}

fn plus_seconds(base: Duration, seconds: i64) -> Duration {
    base.saturating_add(Duration::from_secs(u64::try_from(seconds).unwrap_or(0)))
}

fn stop_container_timeout(c: &Client, req: &StopContainerRequest) -> Option<Duration> {
    Some(plus_seconds(c.request_timeout, req.timeout))
}

fn exec_sync_timeout(c: &Client, req: &ExecSyncRequest) -> Option<Duration> {
    (req.timeout > 0).then(|| plus_seconds(c.request_timeout, req.timeout))
}

impl Client {
    pub fn new(transport: Arc<dyn grpc::Unary>) -> Client {
        Client { transport, request_timeout: DEFAULT_REQUEST_TIMEOUT, call_timeout: None }
    }

    /// Sets the runtime request timeout the per-RPC deadlines derive from.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Client {
        self.request_timeout = timeout;
        self
    }

    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// A handle whose calls all use `timeout` (`None`: no deadline) instead of their defaults,
    /// e.g. `client.with_call_timeout(Some(Duration::from_secs(5))).pull_image(&req)`.
    pub fn with_call_timeout(&self, timeout: Option<Duration>) -> Client {
        Client { call_timeout: Some(timeout), ..self.clone() }
    }

    fn call<Req: Message, Resp: Message>(
        &self,
        method: &'static str,
        path: &'static str,
        request: &Req,
        timeout: TimeoutFn<Req>,
        check: Check<Req, Resp>,
    ) -> Result<Resp, CriError> {
        let timeout = self.call_timeout.unwrap_or_else(|| timeout(self, request));
        log::trace!("CRI {method} (timeout {timeout:?})");
        let started = std::time::Instant::now();
        let result = self.call_inner(method, path, request, timeout, check);
        crate::metrics::kubelet::runtime_operation(method, started.elapsed(), result.is_err());
        result
    }

    fn call_inner<Req: Message, Resp: Message>(
        &self,
        method: &'static str,
        path: &'static str,
        request: &Req,
        timeout: Option<Duration>,
        check: Check<Req, Resp>,
    ) -> Result<Resp, CriError> {
        let reply = self
            .transport
            .unary(path, &request.encode_to_vec(), timeout)
            .map_err(|status| CriError::Rpc { method, status })?;
        let response = Resp::decode(&reply).map_err(|error| CriError::Decode { method, error })?;
        check(request, &response).map_err(|reason| CriError::InvalidResponse { method, reason })?;
        Ok(response)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("request_timeout", &self.request_timeout)
            .field("call_timeout", &self.call_timeout)
            .finish_non_exhaustive()
    }
}

/// Service, method and message types of one RPC (for the schema check).
#[cfg(test)]
pub(crate) struct RpcInfo {
    pub service: &'static str,
    pub method: &'static str,
    pub request: &'static crate::proto::MessageInfo,
    pub response: &'static crate::proto::MessageInfo,
}

/// Declares the client methods, one line per RPC:
/// `fn rust_name = RpcName(Request) -> Response [, timeout = f] [, check = f];`
macro_rules! rpcs {
    (@or [] $default:expr) => { $default };
    (@or [$given:expr] $default:expr) => { $given };
    ($(
        $service:ident {
            $(
                $(#[$doc:meta])*
                fn $method:ident = $name:ident($req:ty) -> $resp:ty
                    $(, timeout = $timeout:expr)? $(, check = $check:expr)?;
            )*
        }
    )*) => {
        impl Client {$($(
            $(#[$doc])*
            pub fn $method(&self, request: &$req) -> Result<$resp, CriError> {
                self.call(
                    stringify!($name),
                    concat!("/runtime.v1.", stringify!($service), "/", stringify!($name)),
                    request,
                    rpcs!(@or [$($timeout)?] request_timeout),
                    rpcs!(@or [$($check)?] check::none),
                )
            }
        )*)*}

        #[cfg(test)]
        pub(crate) const RPCS: &[RpcInfo] = &[$($(
            RpcInfo {
                service: stringify!($service),
                method: stringify!($name),
                request: <$req as Message>::INFO,
                response: <$resp as Message>::INFO,
            },
        )*)*];
    };
}

rpcs! {
    RuntimeService {
        /// Runtime name and versions; also the first call, to check the connection.
        fn version = Version(VersionRequest) -> VersionResponse, check = check::version;
        /// RuntimeReady and NetworkReady conditions.
        fn status = Status(StatusRequest) -> StatusResponse, check = check::status;
        fn update_runtime_config = UpdateRuntimeConfig(UpdateRuntimeConfigRequest) -> UpdateRuntimeConfigResponse;
        /// The runtime's cgroup driver (Unimplemented on older runtimes).
        fn runtime_config = RuntimeConfig(RuntimeConfigRequest) -> RuntimeConfigResponse;

        fn run_pod_sandbox = RunPodSandbox(RunPodSandboxRequest) -> RunPodSandboxResponse,
            timeout = sandbox_timeout, check = check::run_pod_sandbox;
        fn stop_pod_sandbox = StopPodSandbox(StopPodSandboxRequest) -> StopPodSandboxResponse;
        fn remove_pod_sandbox = RemovePodSandbox(RemovePodSandboxRequest) -> RemovePodSandboxResponse;
        fn pod_sandbox_status = PodSandboxStatus(PodSandboxStatusRequest) -> PodSandboxStatusResponse,
            check = check::pod_sandbox_status;
        fn list_pod_sandbox = ListPodSandbox(ListPodSandboxRequest) -> ListPodSandboxResponse;
        fn update_pod_sandbox_resources =
            UpdatePodSandboxResources(UpdatePodSandboxResourcesRequest) -> UpdatePodSandboxResourcesResponse;

        fn create_container = CreateContainer(CreateContainerRequest) -> CreateContainerResponse,
            check = check::create_container;
        fn start_container = StartContainer(StartContainerRequest) -> StartContainerResponse;
        fn stop_container = StopContainer(StopContainerRequest) -> StopContainerResponse,
            timeout = stop_container_timeout;
        fn remove_container = RemoveContainer(RemoveContainerRequest) -> RemoveContainerResponse;
        fn list_containers = ListContainers(ListContainersRequest) -> ListContainersResponse;
        fn container_status = ContainerStatus(ContainerStatusRequest) -> ContainerStatusResponse,
            check = check::container_status;
        fn update_container_resources =
            UpdateContainerResources(UpdateContainerResourcesRequest) -> UpdateContainerResourcesResponse;
        fn reopen_container_log = ReopenContainerLog(ReopenContainerLogRequest) -> ReopenContainerLogResponse;

        /// Runs a command and returns its output; a non-zero exit code is not an error here.
        fn exec_sync = ExecSync(ExecSyncRequest) -> ExecSyncResponse, timeout = exec_sync_timeout;
        fn exec = Exec(ExecRequest) -> ExecResponse, check = check::exec;
        fn attach = Attach(AttachRequest) -> AttachResponse, check = check::attach;
        fn port_forward = PortForward(PortForwardRequest) -> PortForwardResponse, check = check::port_forward;

        fn container_stats = ContainerStats(ContainerStatsRequest) -> ContainerStatsResponse;
        fn list_container_stats = ListContainerStats(ListContainerStatsRequest) -> ListContainerStatsResponse;
        fn pod_sandbox_stats = PodSandboxStats(PodSandboxStatsRequest) -> PodSandboxStatsResponse;
        fn list_pod_sandbox_stats = ListPodSandboxStats(ListPodSandboxStatsRequest) -> ListPodSandboxStatsResponse;
    }
    ImageService {
        fn list_images = ListImages(ListImagesRequest) -> ListImagesResponse;
        /// `image` is `None` in the response when the image is not present.
        fn image_status = ImageStatus(ImageStatusRequest) -> ImageStatusResponse, check = check::image_status;
        fn pull_image = PullImage(PullImageRequest) -> PullImageResponse,
            timeout = no_timeout, check = check::pull_image;
        fn remove_image = RemoveImage(RemoveImageRequest) -> RemoveImageResponse;
        fn image_fs_info = ImageFsInfo(ImageFsInfoRequest) -> ImageFsInfoResponse;
    }
}
