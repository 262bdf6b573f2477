//! Pod exec over WebSocket (`v5.channel.k8s.io` / `v4.channel.k8s.io`) for the simulated
//! cluster: runs a small set of commands against the pod's mounted volumes.
//!
//! CONTRACT (owned by the exec work; the router in `sim::server` only calls `exec_response`).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A volume as the pod sees it: `mount_path` inside the pod, backed by `host_dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub mount_path: String,
    pub host_dir: PathBuf,
    pub read_only: bool,
}

/// Everything the exec handler needs, resolved by the router from the pod and the request's
/// query string (`command=...&stdin=true&stdout=true&stderr=true&tty=false`).
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    pub command: Vec<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
    pub mounts: Vec<Mount>,
    /// Scenario-defined read-only files visible inside the container (e.g. `/proc/net/tcp`).
    pub files: BTreeMap<String, String>,
    /// Fault: break the stream after this many bytes of stdout.
    pub break_after_bytes: Option<u64>,
}

/// Answers an exec request: performs the WebSocket upgrade (negotiating the channel protocol)
/// and runs the command on a spawned task; or answers a Kubernetes `Status` error when the
/// request is not a valid upgrade.
pub fn exec_response(
    req: &mut http::Request<axum::body::Body>,
    exec: ExecRequest,
) -> axum::response::Response {
    let _ = (req, exec);
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "exec is not implemented by this simulated cluster yet",
        "reason": "NotImplemented", "code": 501
    });
    let mut resp = axum::response::IntoResponse::into_response(axum::Json(body));
    *resp.status_mut() = http::StatusCode::NOT_IMPLEMENTED;
    resp
}
