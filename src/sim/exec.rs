//! Pod exec over WebSocket (`v5.channel.k8s.io` / `v4.channel.k8s.io`) for the simulated
//! cluster: runs a small set of commands against the pod's mounted volumes.
//!
//! CONTRACT (owned by the exec work; the router in `sim::server` only calls `exec_response`).
//!
//! Children: `protocol` (channel framing, negotiation, Status bodies), `session` (the socket
//! loop and bounded stdio queues), `container` (the filesystem a pod sees), `shell` (command
//! lines and `sh -c`), `tar` and `commands` (the built-in utilities).
//!
//! How the router calls it, for `GET|POST /api/v1/namespaces/{ns}/pods/{pod}/exec`:
//!
//! ```ignore
//! let q = ExecQuery::parse(req.uri().query().unwrap_or(""));
//! // one Mount per volumeMount of the container whose volume is a PVC bound to a PV:
//! // host_dir = VolumeStore::path(pv), read_only = volumeMount.readOnly || pvc.readOnly
//! let exec = ExecRequest { mounts, files, break_after_bytes, ..q.into_request() };
//! exec_response(&mut req, exec) // the original request: it carries hyper's upgrade handle
//! ```
//!
//! The connection must be HTTP/1.1 served with upgrades enabled (`axum::serve` does; a custom
//! hyper-util accept loop needs `serve_connection_with_upgrades`), and the call must happen on
//! a tokio runtime. kube and kubectl both speak v5; v4 works too, but a v4 client can only
//! signal stdin EOF by closing the socket, after which no exit status can reach it.

mod commands;
mod container;
mod protocol;
mod session;
mod shell;
mod tar;
#[cfg(test)]
mod tests_commands;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use protocol::Protocol;
pub use session::commands_running;

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
    /// Fault: the upgrade succeeds, then this error arrives on the error channel as an
    /// `InternalError` Status with no exit code, and nothing runs (no kubelet answered).
    pub fail_with: Option<String>,
}

/// The exec parameters of a request's query string, as kube and kubectl send them
/// (`command` repeated, booleans as `true`/`false`/`1`/`0`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecQuery {
    pub command: Vec<String>,
    pub container: Option<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

impl ExecQuery {
    /// Parses a raw query string (without the `?`). Unknown keys are ignored; malformed
    /// percent escapes are kept literally.
    pub fn parse(query: &str) -> Self {
        let mut q = ExecQuery::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (super::api::percent_decode(k), super::api::percent_decode(v));
            let flag = matches!(v.as_str(), "true" | "1" | "True" | "TRUE");
            match k.as_str() {
                "command" => q.command.push(v),
                "container" => q.container = Some(v),
                "stdin" | "input" => q.stdin = flag,
                "stdout" | "output" => q.stdout = flag,
                "stderr" | "error" => q.stderr = flag,
                "tty" => q.tty = flag,
                _ => {}
            }
        }
        q
    }

    /// The request for the exec handler; the router adds mounts, files and faults.
    pub fn into_request(self) -> ExecRequest {
        ExecRequest {
            command: self.command,
            stdin: self.stdin,
            stdout: self.stdout,
            stderr: self.stderr,
            tty: self.tty,
            ..ExecRequest::default()
        }
    }
}

/// Why an exec request is refused before the upgrade (answered as a `Status` 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecRefusal {
    #[error("Upgrade request required")]
    NotUpgrade,
    #[error("missing or invalid Sec-WebSocket-Key / Sec-WebSocket-Version 13")]
    BadHandshake,
    #[error(
        "requested protocol(s) are not supported: [{0}]; supports [v5.channel.k8s.io v4.channel.k8s.io]"
    )]
    Protocol(String),
    #[error("you must specify at least one command for the container")]
    NoCommand,
    #[error("you must specify at least 1 of stdin, stdout, stderr")]
    NoStreams,
    #[error("stdout and stderr cannot both be true when tty is true")]
    TtyWithStderr,
}

fn header_has_token(
    req: &http::Request<axum::body::Body>,
    name: http::HeaderName,
    token: &str,
) -> bool {
    req.headers()
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Checks the upgrade headers and the exec options; on success the negotiated protocol and
/// the `Sec-WebSocket-Accept` value.
pub fn check_request(
    req: &http::Request<axum::body::Body>,
    exec: &ExecRequest,
) -> Result<(Protocol, String), ExecRefusal> {
    use http::header;
    if !header_has_token(req, header::UPGRADE, "websocket")
        || !header_has_token(req, header::CONNECTION, "upgrade")
    {
        return Err(ExecRefusal::NotUpgrade);
    }
    let key = req
        .headers()
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or(ExecRefusal::BadHandshake)?;
    if req
        .headers()
        .get(header::SEC_WEBSOCKET_VERSION)
        .and_then(|v| v.to_str().ok())
        != Some("13")
    {
        return Err(ExecRefusal::BadHandshake);
    }
    let offered: Vec<&str> = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let protocol = protocol::negotiate(offered.iter().copied())
        .ok_or_else(|| ExecRefusal::Protocol(offered.join(", ")))?;
    if exec.command.is_empty() {
        return Err(ExecRefusal::NoCommand);
    }
    if !(exec.stdin || exec.stdout || exec.stderr) {
        return Err(ExecRefusal::NoStreams);
    }
    if exec.tty && exec.stderr {
        return Err(ExecRefusal::TtyWithStderr);
    }
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    Ok((protocol, accept))
}

/// Answers an exec request: performs the WebSocket upgrade (negotiating the channel protocol)
/// and runs the command on a spawned task; or answers a Kubernetes `Status` error when the
/// request is not a valid upgrade.
pub fn exec_response(
    req: &mut http::Request<axum::body::Body>,
    exec: ExecRequest,
) -> axum::response::Response {
    let (protocol, accept) = match check_request(req, &exec) {
        Ok(ok) => ok,
        Err(refusal) => {
            tracing::debug!(%refusal, "exec request refused");
            return protocol::status_response(
                http::StatusCode::BAD_REQUEST,
                "BadRequest",
                &refusal.to_string(),
            );
        }
    };
    let on_upgrade = hyper::upgrade::on(req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let io = hyper_util::rt::TokioIo::new(upgraded);
                let ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
                    io,
                    tokio_tungstenite::tungstenite::protocol::Role::Server,
                    None,
                )
                .await;
                session::run(ws, protocol, exec).await;
            }
            Err(e) => tracing::warn!(error = %e, "exec upgrade failed"),
        }
    });
    let mut resp = axum::response::Response::new(axum::body::Body::empty());
    *resp.status_mut() = http::StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("Upgrade"),
    );
    h.insert(
        http::header::UPGRADE,
        http::HeaderValue::from_static("websocket"),
    );
    h.insert(
        http::header::SEC_WEBSOCKET_PROTOCOL,
        http::HeaderValue::from_static(protocol.name()),
    );
    if let Ok(v) = http::HeaderValue::from_str(&accept) {
        h.insert(http::header::SEC_WEBSOCKET_ACCEPT, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing_matches_kube_and_kubectl() {
        let q = ExecQuery::parse(
            "command=sh&command=-c&command=tar%20czf%20-%20-C%20%2Fdata%20.&container=app&stdin=true&stdout=1&stderr=false&tty=false",
        );
        assert_eq!(q.command, vec!["sh", "-c", "tar czf - -C /data ."]);
        assert_eq!(q.container.as_deref(), Some("app"));
        assert!(q.stdin && q.stdout && !q.stderr && !q.tty);
        assert_eq!(
            ExecQuery::parse("command=a+b&command=%zz&command=%4").command,
            vec!["a b", "%zz", "%4"]
        );
        assert_eq!(ExecQuery::parse("").command, Vec::<String>::new());
    }

    fn upgrade_req(protocols: &str) -> http::Request<axum::body::Body> {
        http::Request::builder()
            .header("connection", "keep-alive, Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-protocol", protocols)
            .body(axum::body::Body::empty())
            .unwrap()
    }

    #[test]
    fn request_checks() {
        let exec = ExecRequest {
            command: vec!["true".into()],
            stdout: true,
            ..Default::default()
        };
        let (p, accept) =
            check_request(&upgrade_req("v5.channel.k8s.io, v4.channel.k8s.io"), &exec).unwrap();
        assert_eq!(
            (p, accept.as_str()),
            (Protocol::V5, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
        assert_eq!(
            check_request(&upgrade_req("v4.channel.k8s.io"), &exec)
                .unwrap()
                .0,
            Protocol::V4
        );
        assert!(matches!(
            check_request(&upgrade_req("channel.k8s.io"), &exec),
            Err(ExecRefusal::Protocol(_))
        ));
        let plain = http::Request::builder()
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(
            check_request(&plain, &exec).unwrap_err(),
            ExecRefusal::NotUpgrade
        );
        let none = ExecRequest {
            command: vec![],
            stdout: true,
            ..Default::default()
        };
        assert_eq!(
            check_request(&upgrade_req("v5.channel.k8s.io"), &none).unwrap_err(),
            ExecRefusal::NoCommand
        );
        let silent = ExecRequest {
            command: vec!["true".into()],
            ..Default::default()
        };
        assert_eq!(
            check_request(&upgrade_req("v5.channel.k8s.io"), &silent).unwrap_err(),
            ExecRefusal::NoStreams
        );
    }
}
