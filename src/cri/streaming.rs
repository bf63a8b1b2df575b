//! Running commands in containers, attaching, and port forwarding.
//!
//! Only `ExecSync` carries data; the others return a URL on the runtime's streaming server,
//! which the API server's client is redirected or proxied to.

crate::message! {
    pub struct ExecSyncRequest {
        1 => container_id: string,
        2 => cmd: repeated(string),
        /// Seconds; 0 waits forever.
        3 => timeout: int64,
    }

    pub struct ExecSyncResponse {
        1 => stdout: bytes,
        2 => stderr: bytes,
        3 => exit_code: int32,
    }

    pub struct ExecRequest {
        1 => container_id: string,
        2 => cmd: repeated(string),
        3 => tty: bool,
        4 => stdin: bool,
        5 => stdout: bool,
        6 => stderr: bool,
    }

    pub struct ExecResponse {
        1 => url: string,
    }

    pub struct AttachRequest {
        1 => container_id: string,
        2 => stdin: bool,
        3 => tty: bool,
        4 => stdout: bool,
        5 => stderr: bool,
    }

    pub struct AttachResponse {
        1 => url: string,
    }

    pub struct PortForwardRequest {
        1 => pod_sandbox_id: string,
        2 => port: repeated(int32),
    }

    pub struct PortForwardResponse {
        1 => url: string,
    }
}
