//! The HTTPS server: accepts TLS connections on 127.0.0.1, authenticates the bearer token,
//! applies faults (latency, error rate, forbid), authorizes against the scenario's permissions,
//! records every request, and hands the request to the API router.

use super::api::{self, RouteInfo};
use super::auth::{self, Permissions};
use super::faults::FaultHandle;
use super::status::ApiError;
use super::store::Store;
use super::volumes::VolumeStore;
use axum::body::Body;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Timing knobs of the simulated control plane and kubelet.
#[derive(Debug, Clone)]
pub struct SimTiming {
    /// How long a pod created by a client stays Pending before it runs.
    pub pod_start_delay: Duration,
    /// The longest a graceful pod deletion takes (bounded by the pod's grace period).
    pub pod_stop_delay: Duration,
    /// Interval between BOOKMARK events on watches that allow them.
    pub bookmark_interval: Duration,
    /// Watch events retained for resumption; older versions get 410 Gone.
    pub watch_history: usize,
    /// Crash-looping containers crash again this often (restart count +1, new previous log,
    /// BackOff event), so a long-running demo stays alive. `None`: never.
    pub crashloop_interval: Option<Duration>,
}

impl Default for SimTiming {
    fn default() -> Self {
        SimTiming {
            pod_start_delay: Duration::from_millis(1500),
            pod_stop_delay: Duration::from_secs(1),
            bookmark_interval: Duration::from_secs(10),
            crashloop_interval: Some(Duration::from_secs(300)),
            watch_history: 10_000,
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection,
    /// or `discovery`/`nonresource` for non-resource paths.
    pub verb: String,
    /// Plural resource, with the subresource if any (`pods/log`).
    pub resource: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub status: u16,
    pub dry_run: bool,
    /// The request's `User-Agent` header, if any.
    pub user_agent: Option<String>,
}

/// Set on a response whose request was a dry run decided from the body (DeleteOptions).
#[derive(Debug, Clone, Copy)]
pub struct DryRunMarker;

pub const REQUEST_LOG_CAPACITY: usize = 20_000;

/// Everything request handlers share.
pub struct SimState {
    pub store: Arc<Store>,
    pub faults: FaultHandle,
    pub token: String,
    pub permissions: Permissions,
    pub volumes: Arc<VolumeStore>,
    pub timing: SimTiming,
    pub request_log: Mutex<VecDeque<RequestRecord>>,
    pub shutdown: CancellationToken,
}

impl SimState {
    pub fn record(&self, rec: RequestRecord) {
        let mut log = self.request_log.lock().unwrap_or_else(|e| e.into_inner());
        if log.len() >= REQUEST_LOG_CAPACITY {
            log.pop_front();
        }
        log.push_back(rec);
    }
}

/// A running listener.
pub struct Listener {
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds 127.0.0.1:`port` (0 for a random one) and serves until `state.shutdown` fires.
pub async fn listen(
    state: Arc<SimState>,
    port: u16,
    tls: rustls::ServerConfig,
) -> std::io::Result<Listener> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            tokio::select! {
                _ = state.shutdown.cancelled() => break,
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
                accepted = listener.accept() => {
                    let Ok((tcp, _peer)) = accepted else { continue };
                    let _ = tcp.set_nodelay(true);
                    let acceptor = acceptor.clone();
                    let state = state.clone();
                    conns.spawn(async move {
                        // `freeze`: the kernel accepted the connection; the stopped process
                        // does not read it until it runs again.
                        tokio::select! {
                            _ = state.faults.wait_unfrozen() => {}
                            _ = state.shutdown.cancelled() => return,
                        }
                        let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::debug!(error = %e, "sim: TLS handshake failed");
                                return;
                            }
                            Err(_) => return,
                        };
                        // `silent-after-tls`: the handshake completed, then nothing.
                        tokio::select! {
                            _ = state.faults.wait_not_silent() => {}
                            _ = state.shutdown.cancelled() => return,
                        }
                        let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                            let state = state.clone();
                            async move { Ok::<_, std::convert::Infallible>(handle(state, req.map(Body::new)).await) }
                        });
                        let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                        if let Err(e) = builder.serve_connection_with_upgrades(TokioIo::new(tls), svc).await {
                            tracing::debug!(error = %e, "sim: connection ended with an error");
                        }
                    });
                }
            }
        }
        conns.shutdown().await;
    });
    Ok(Listener { addr, task })
}

fn header_str<'a>(req: &'a Request<Body>, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Authenticates, applies faults, authorizes, dispatches, records.
pub async fn handle(state: Arc<SimState>, req: Request<Body>) -> Response<Body> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let params = api::parse_query(&query);
    let route = api::route(req.method(), &path, &params);
    let info = route.info();
    let mut rec = RequestRecord {
        method,
        path,
        query,
        verb: info.verb.clone(),
        resource: info.resource.clone(),
        namespace: info.namespace.clone(),
        name: info.name.clone(),
        status: 0,
        dry_run: params.iter().any(|(k, v)| k == "dryRun" && v == "All"),
        user_agent: header_str(&req, "user-agent").map(str::to_string),
    };
    // `freeze`: a request on an open connection is not answered until the server runs again.
    tokio::select! {
        _ = state.faults.wait_unfrozen() => {}
        _ = state.shutdown.cancelled() => {}
    }
    let resp = serve(&state, req, route, &info, &params).await;
    rec.status = resp.status().as_u16();
    rec.dry_run |= resp.extensions().get::<DryRunMarker>().is_some();
    tracing::debug!(verb = %rec.verb, path = %rec.path, status = rec.status, "sim request");
    state.record(rec);
    resp
}

async fn serve(
    state: &Arc<SimState>,
    req: Request<Body>,
    route: api::RouteWithVerb,
    info: &RouteInfo,
    params: &[(String, String)],
) -> Response<Body> {
    if !auth::token_matches(header_str(&req, "authorization"), &state.token) {
        return ApiError::unauthorized().into_response();
    }
    if let Some(d) = state.faults.latency() {
        tokio::time::sleep(d).await;
    }
    if info.is_resource {
        let rate = state.faults.error_rate();
        if rate > 0.0 && fastrand::f64() < rate {
            return ApiError::internal("injected fault (error-rate)").into_response();
        }
        let resource = match &info.subresource {
            Some(s) => format!("{}/{s}", info.resource_plural),
            None => info.resource_plural.clone(),
        };
        let ns = info.namespace.as_deref();
        if state.faults.forbids(&info.verb, &info.resource_plural, ns)
            || state.faults.forbids(&info.verb, &resource, ns)
            || !state.permissions.allows(&info.verb, &resource, ns)
        {
            return auth::forbidden(
                &state.permissions.user,
                &info.verb,
                &info.resource_plural,
                &info.group,
                info.subresource.as_deref(),
                ns,
                info.name.as_deref(),
            )
            .into_response();
        }
    }
    api::dispatch(state, req, route, params).await
}
