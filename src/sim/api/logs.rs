//! `GET .../pods/NAME/log`: container, previous, tailLines, limitBytes, timestamps,
//! sinceSeconds and follow (streams until the pod goes, the client goes, or the sim stops).

use super::{ResPath, param, param_bool};
use crate::sim::resources::Kind;
use crate::sim::server::SimState;
use crate::sim::status::{ApiError, bytes_response};
use axum::body::{Body, Bytes};
use http::Response;
use jiff::Timestamp;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

fn container_names(pod: &Value) -> Vec<String> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Picks the container a log or exec request is about, with the apiserver's errors.
pub fn pick_container(
    pod: &Value,
    pod_name: &str,
    requested: Option<&str>,
) -> Result<String, ApiError> {
    let names = container_names(pod);
    match requested.filter(|c| !c.is_empty()) {
        Some(c) if names.iter().any(|n| n == c) => Ok(c.to_string()),
        Some(c) => Err(ApiError::bad_request(format!(
            "container {c} is not valid for pod {pod_name}"
        ))),
        None if names.len() == 1 => Ok(names[0].clone()),
        None => Err(ApiError::bad_request(format!(
            "a container name must be specified for pod {pod_name}, choose one of: [{}]",
            names.join(" ")
        ))),
    }
}

fn container_status<'a>(pod: &'a Value, container: &str) -> Option<&'a Value> {
    pod.pointer("/status/containerStatuses")?
        .as_array()?
        .iter()
        .find(|c| c["name"] == container)
}

fn format_line(at: &Timestamp, line: &str, timestamps: bool) -> String {
    if timestamps {
        format!(
            "{} {line}\n",
            at.strftime("%Y-%m-%dT%H:%M:%S.%f%:z")
                .to_string()
                .replace("+00:00", "Z")
        )
    } else {
        format!("{line}\n")
    }
}

pub fn logs(
    state: &Arc<SimState>,
    p: &ResPath,
    params: &[(String, String)],
) -> Result<Response<Body>, ApiError> {
    let ns = p.namespace.clone().unwrap_or_default();
    let name = p.name.clone().unwrap_or_default();
    let previous = param_bool(params, "previous");
    let follow = param_bool(params, "follow") && !previous;
    let timestamps = param_bool(params, "timestamps");
    let tail: Option<usize> = param(params, "tailLines")
        .and_then(|t| t.parse::<i64>().ok())
        .map(|t| t.max(0) as usize);
    let limit: Option<usize> = param(params, "limitBytes")
        .and_then(|t| t.parse::<i64>().ok())
        .filter(|l| *l > 0)
        .map(|l| l as usize);
    let since: Option<i64> = param(params, "sinceSeconds").and_then(|t| t.parse().ok());
    let (lines, sub) = {
        let s = state.store.lock();
        let pod = s
            .get(Kind::Pod, &ns, &name)
            .ok_or_else(|| ApiError::not_found("pods", "", &name))?;
        let container = pick_container(&pod, &name, param(params, "container"))?;
        let logs = s.logs.get(&(ns.clone(), name.clone(), container.clone()));
        let lines: Vec<(Timestamp, String)> = if previous {
            match logs.and_then(|l| l.previous.clone()) {
                Some(prev) => prev,
                None => {
                    return Err(ApiError::bad_request(format!(
                        "previous terminated container \"{container}\" in pod \"{name}\" not found"
                    )));
                }
            }
        } else {
            let cur: Vec<(Timestamp, String)> = logs
                .map(|l| l.current.iter().cloned().collect())
                .unwrap_or_default();
            if cur.is_empty() {
                let waiting = container_status(&pod, &container)
                    .and_then(|c| c.pointer("/state/waiting/reason"))
                    .and_then(Value::as_str);
                match (waiting, container_status(&pod, &container)) {
                    (Some(reason), _) => {
                        return Err(ApiError::bad_request(format!(
                            "container \"{container}\" in pod \"{name}\" is waiting to start: {reason}"
                        )));
                    }
                    (None, None) => {
                        return Err(ApiError::bad_request(format!(
                            "container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating"
                        )));
                    }
                    _ => {}
                }
            }
            cur
        };
        let sub = follow.then(|| (s.subscribe_logs(), container));
        (lines, sub)
    };
    let cutoff = since.map(|s| Timestamp::now().as_second() - s);
    let mut lines: Vec<(Timestamp, String)> = lines
        .into_iter()
        .filter(|(t, _)| cutoff.is_none_or(|c| t.as_second() >= c))
        .collect();
    if let Some(t) = tail {
        let skip = lines.len().saturating_sub(t);
        lines.drain(..skip);
    }
    let mut text = String::new();
    for (t, l) in &lines {
        text.push_str(&format_line(t, l, timestamps));
    }
    let mut budget = limit;
    if let Some(l) = budget {
        if text.len() >= l {
            let mut cut = l;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            return Ok(bytes_response(200, "text/plain", text.into_bytes()));
        }
        budget = Some(l - text.len());
    }
    let Some((mut rx, container)) = sub else {
        return Ok(bytes_response(200, "text/plain", text.into_bytes()));
    };
    let (tx, out) = mpsc::channel::<Result<Bytes, std::convert::Infallible>>(64);
    let store = state.store.clone();
    let shutdown = state.shutdown.clone();
    tokio::spawn(async move {
        if !text.is_empty()
            && !matches!(
                tokio::time::timeout(Duration::from_secs(30), tx.send(Ok(Bytes::from(text)))).await,
                Ok(Ok(()))
            )
        {
            return;
        }
        let mut check = tokio::time::interval(Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tx.closed() => return,
                _ = check.tick() => {
                    if store.lock().get(Kind::Pod, &ns, &name).is_none() {
                        return;
                    }
                }
                line = rx.recv() => match line {
                    Ok(l) if l.namespace == ns && l.pod == name && l.container == container => {
                        let mut s = format_line(&l.at, &l.line, timestamps);
                        if let Some(b) = budget.as_mut() {
                            if s.len() >= *b {
                                let mut cut = *b;
                                while !s.is_char_boundary(cut) { cut -= 1; }
                                s.truncate(cut);
                                let _ = tokio::time::timeout(Duration::from_secs(30), tx.send(Ok(Bytes::from(s)))).await;
                                return;
                            }
                            *b -= s.len();
                        }
                        match tokio::time::timeout(Duration::from_secs(30), tx.send(Ok(Bytes::from(s)))).await {
                            Ok(Ok(())) => {}
                            _ => return,
                        }
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    });
    let mut resp = Response::new(Body::from_stream(
        tokio_stream::wrappers::ReceiverStream::new(out),
    ));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain"),
    );
    Ok(resp)
}
