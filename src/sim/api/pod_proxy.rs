//! `GET /api/v1/namespaces/NS/pods/NAME[:PORT]/proxy/PATH`: the API server's pod proxy, for the
//! probes audit. The simulated pods run no processes, so the answer is made here from the pod's
//! state, as a real API server would relay it: a Running, Ready pod answers `200 ok` in a few
//! milliseconds; a Running pod that is not Ready (its readiness probe timing out, as in
//! incident 3) answers after 1.6-2.4 s; a pod without an IP or a port no container declares
//! gets the 503 a real API server returns. The annotation `sim.ondeck.dev/http-latency`
//! (`"250ms"`) sets the latency of a pod explicitly.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http::Response;
use serde_json::Value;

use super::ResPath;
use crate::sim::resources::Kind;
use crate::sim::server::SimState;
use crate::sim::status::ApiError;

pub async fn pod_proxy(state: &Arc<SimState>, p: &ResPath) -> Result<Response<Body>, ApiError> {
    let ns = p.namespace.clone().unwrap_or_default();
    let full = p.name.clone().unwrap_or_default();
    // NAME, NAME:PORT or SCHEME:NAME:PORT.
    let parts: Vec<&str> = full.split(':').collect();
    let (name, port) = match parts.as_slice() {
        [n] => (*n, "80"),
        [n, port] => (*n, *port),
        [_, n, port] => (*n, *port),
        _ => {
            return Err(ApiError::new(
                400,
                "BadRequest",
                format!("invalid pod name {full:?}"),
            ));
        }
    };
    let pod = state
        .store
        .lock()
        .get(Kind::Pod, &ns, name)
        .ok_or_else(|| ApiError::not_found("pods", "", name))?;
    let unreachable = |why: String| {
        ApiError::new(
            503,
            "ServiceUnavailable",
            format!("error trying to reach service: {why}"),
        )
    };
    let ip = pod
        .pointer("/status/podIP")
        .and_then(Value::as_str)
        .unwrap_or("");
    let phase = pod
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("");
    if ip.is_empty() || phase != "Running" {
        return Err(unreachable(format!(
            "pod {name} has no IP address (phase {phase})"
        )));
    }
    let declared = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|c| {
            c.get("ports")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .any(|pt| {
            pt.get("containerPort")
                .and_then(Value::as_u64)
                .map(|n| n.to_string())
                .as_deref()
                == Some(port)
                || pt.get("name").and_then(Value::as_str) == Some(port)
        });
    if !declared {
        return Err(unreachable(format!(
            "dial tcp {ip}:{port}: connect: connection refused"
        )));
    }
    let ready = pod
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| {
            c.get("type").and_then(Value::as_str) == Some("Ready")
                && c.get("status").and_then(Value::as_str) == Some("True")
        });
    let explicit = pod
        .pointer("/metadata/annotations/sim.ondeck.dev~1http-latency")
        .and_then(Value::as_str)
        .and_then(|s| humantime::parse_duration(s).ok())
        .filter(|d| *d <= Duration::from_secs(60));
    let latency = match explicit {
        Some(d) => d,
        None if ready => Duration::from_millis(2 + fastrand::u64(0..4)),
        None => Duration::from_millis(1600 + fastrand::u64(0..800)),
    };
    tokio::time::sleep(latency).await;
    let body = if ready {
        "ok\n"
    } else {
        "ok (slow: waiting on the database)\n"
    };
    Response::builder()
        .status(200)
        .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(body))
        .map_err(|e| ApiError::new(500, "InternalError", e.to_string()))
}
