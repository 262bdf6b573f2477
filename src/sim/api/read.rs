//! get, list (selectors, limit/continue) and watch (resourceVersion, bookmarks, timeouts,
//! 410 Gone as an ERROR event, slow watchers dropped).

use super::table;
use super::{ResPath, param, param_bool};
use crate::sim::resources::{Kind, ResourceInfo};
use crate::sim::selectors::{FieldSelector, LabelSelector};
use crate::sim::server::SimState;
use crate::sim::status::{ApiError, bytes_response};
use crate::sim::store::{EventType, Key, StoreEvent, key_of};
use axum::body::{Body, Bytes};
use http::Response;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Selectors of a list or watch.
pub struct Filter {
    kind: Kind,
    namespace: Option<String>,
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
}

impl Filter {
    pub fn from_params(p: &ResPath, params: &[(String, String)]) -> Result<Self, ApiError> {
        let kind = p.info.kind;
        let labels = param(params, "labelSelector")
            .filter(|s| !s.is_empty())
            .map(LabelSelector::parse)
            .transpose()?;
        let mut fields = param(params, "fieldSelector")
            .filter(|s| !s.is_empty())
            .map(|s| FieldSelector::parse(kind, s))
            .transpose()?;
        // A watch on one object (`GET .../pods/NAME?watch=1`) is a watch with a name selector.
        if let Some(name) = &p.name {
            let f = FieldSelector::parse(kind, &format!("metadata.name={name}"))?;
            fields = Some(match fields {
                Some(_) => FieldSelector::parse(
                    kind,
                    &format!(
                        "{},metadata.name={name}",
                        param(params, "fieldSelector").unwrap_or("")
                    ),
                )?,
                None => f,
            });
        }
        Ok(Filter {
            kind,
            namespace: p.namespace.clone(),
            labels,
            fields,
        })
    }

    pub fn matches(&self, v: &Value) -> bool {
        if let Some(ns) = &self.namespace
            && crate::sim::store::meta_str(v, "namespace") != ns
        {
            return false;
        }
        self.labels.as_ref().is_none_or(|l| l.matches(v))
            && self.fields.as_ref().is_none_or(|f| f.matches(self.kind, v))
    }
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

fn encode_continue(rv: u64, key: &Key) -> String {
    hex(&format!("{rv}\n{}\n{}", key.0, key.1))
}

fn decode_continue(token: &str) -> Result<(u64, Key), ApiError> {
    let bad = || {
        ApiError::bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let s = unhex(token).ok_or_else(bad)?;
    let mut parts = s.splitn(3, '\n');
    let rv = parts.next().and_then(|r| r.parse().ok()).ok_or_else(bad)?;
    let ns = parts.next().ok_or_else(bad)?.to_string();
    let name = parts.next().ok_or_else(bad)?.to_string();
    Ok((rv, (ns, name)))
}

pub fn get(state: &Arc<SimState>, p: &ResPath, as_table: bool) -> Result<Response<Body>, ApiError> {
    let name = p.name.as_deref().unwrap_or("");
    let ns = p.namespace.as_deref().unwrap_or("");
    let (obj, rv) = {
        let s = state.store.lock();
        (s.get(p.info.kind, ns, name), s.resource_version())
    };
    let obj = obj.ok_or_else(|| ApiError::not_found(p.info.plural, p.info.group, name))?;
    if as_table {
        let t = table::table(p.info, &[obj], rv, None);
        return Ok(crate::sim::status::json_response(200, &t));
    }
    Ok(bytes_response(
        200,
        "application/json",
        serde_json::to_vec(&*obj).unwrap_or_default(),
    ))
}

pub fn list(
    state: &Arc<SimState>,
    p: &ResPath,
    params: &[(String, String)],
    as_table: bool,
) -> Result<Response<Body>, ApiError> {
    let filter = Filter::from_params(p, params)?;
    let limit: usize = match param(params, "limit") {
        Some(l) if !l.is_empty() => l
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid limit {l:?}")))?,
        _ => 0,
    };
    let cont = param(params, "continue")
        .filter(|c| !c.is_empty())
        .map(decode_continue)
        .transpose()?;
    let kind = p.info.kind;
    let (items, jsons, rv, more, remaining) = {
        let s = state.store.lock();
        if let Some((rv, _)) = &cont
            && *rv < s.compacted_rv()
        {
            return Err(ApiError::expired(
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
            ));
        }
        let list_rv = cont.as_ref().map_or(s.resource_version(), |(rv, _)| *rv);
        let candidates = match &cont {
            Some((_, key)) => s.list_after(kind, filter.namespace.as_deref(), key),
            None => s.list(kind, filter.namespace.as_deref()),
        };
        let mut matching = candidates.into_iter().filter(|v| filter.matches(v));
        let items: Vec<Arc<Value>> = if limit > 0 {
            matching.by_ref().take(limit).collect()
        } else {
            matching.by_ref().collect()
        };
        let remaining = matching.count();
        let jsons: Vec<Bytes> = if as_table {
            Vec::new()
        } else {
            items
                .iter()
                .map(|v| {
                    s.json_of(kind, &key_of(v)).unwrap_or_else(|| {
                        Bytes::from(serde_json::to_vec(&**v).unwrap_or_default())
                    })
                })
                .collect()
        };
        (items, jsons, list_rv, remaining > 0, remaining)
    };
    if as_table {
        let mut t = table::table(p.info, &items, rv, None);
        if more && let Some(last) = items.last() {
            t["metadata"]["continue"] = json!(encode_continue(rv, &key_of(last)));
        }
        return Ok(crate::sim::status::json_response(200, &t));
    }
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if more && let Some(last) = items.last() {
        meta["continue"] = json!(encode_continue(rv, &key_of(last)));
        meta["remainingItemCount"] = json!(remaining);
    }
    let mut out = Vec::with_capacity(jsons.iter().map(|j| j.len() + 1).sum::<usize>() + 256);
    out.extend_from_slice(
        format!(
            "{{\"kind\":\"{}List\",\"apiVersion\":\"{}\",\"metadata\":",
            p.info.kind_name,
            p.info.api_version()
        )
        .as_bytes(),
    );
    let _ = serde_json::to_writer(&mut out, &meta);
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in jsons.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.extend_from_slice(b"]}");
    Ok(bytes_response(200, "application/json", out))
}

fn event_line_json(ty: &str, json: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(json.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(ty.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(json);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

fn event_line(ty: &str, object: &Value) -> Bytes {
    let mut out = Vec::with_capacity(1024);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(ty.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    let _ = serde_json::to_writer(&mut out, object);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

fn error_event(e: &ApiError) -> Bytes {
    event_line("ERROR", &e.to_status())
}

/// How a store event looks through a watcher's selectors.
fn visible(filter: &Filter, ev: &StoreEvent) -> Option<(&'static str, Arc<Value>)> {
    let now = filter.matches(&ev.object);
    let before = ev.prev.as_ref().is_some_and(|p| filter.matches(p));
    match ev.ty {
        EventType::Added if now => Some(("ADDED", ev.object.clone())),
        EventType::Deleted if before || now => Some(("DELETED", ev.object.clone())),
        EventType::Modified if now && before => Some(("MODIFIED", ev.object.clone())),
        EventType::Modified if now => Some(("ADDED", ev.object.clone())),
        EventType::Modified if before => Some(("DELETED", ev.object.clone())),
        _ => None,
    }
}

struct Encoder {
    info: &'static ResourceInfo,
    as_table: bool,
}

impl Encoder {
    fn line(&self, ty: &str, obj: &Arc<Value>, json: Option<&Bytes>, rv: u64) -> Bytes {
        match (self.as_table, json) {
            (true, _) => event_line(
                ty,
                &table::table(self.info, std::slice::from_ref(obj), rv, None),
            ),
            (false, Some(j)) => event_line_json(ty, j),
            (false, None) => event_line(ty, obj),
        }
    }
}

pub fn watch(
    state: &Arc<SimState>,
    p: &ResPath,
    params: &[(String, String)],
    as_table: bool,
) -> Result<Response<Body>, ApiError> {
    let filter = Filter::from_params(p, params)?;
    let kind = p.info.kind;
    let rv_param = param(params, "resourceVersion").unwrap_or("");
    let bookmarks = param_bool(params, "allowWatchBookmarks");
    let send_initial = param_bool(params, "sendInitialEvents");
    let timeout = match param(params, "timeoutSeconds").and_then(|t| t.parse::<u64>().ok()) {
        Some(t) if t > 0 => Duration::from_secs(t),
        // The apiserver picks a random timeout between min-request-timeout and twice that.
        _ => Duration::from_secs(1800 + fastrand::u64(0..1800)),
    };
    let timeout = match state.faults.drop_watch() {
        Some(d) => timeout.min(d),
        None => timeout,
    };
    let from: Option<u64> = match rv_param {
        "" | "0" => None,
        r => Some(
            r.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {r:?}")))?,
        ),
    };
    let enc = Encoder {
        info: p.info,
        as_table,
    };
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::convert::Infallible>>(64);
    let mut first: Vec<Bytes> = Vec::new();
    let (mut sub, mut last_rv) = {
        let s = state.store.lock();
        let start = from.unwrap_or(s.resource_version());
        match s.subscribe(kind, start) {
            Err(too_old) => {
                first.push(error_event(&ApiError::expired(format!(
                    "too old resource version: {} ({})",
                    too_old.requested, too_old.oldest
                ))));
                (None, start)
            }
            Ok((backlog, rx)) => {
                if from.is_none() || send_initial {
                    let rv = s.resource_version();
                    for obj in s
                        .list(kind, filter.namespace.as_deref())
                        .iter()
                        .filter(|o| filter.matches(o))
                    {
                        first.push(enc.line(
                            "ADDED",
                            obj,
                            s.json_of(kind, &key_of(obj)).as_ref(),
                            rv,
                        ));
                    }
                    if send_initial && bookmarks {
                        first.push(bookmark(p.info, rv, true));
                    }
                } else {
                    for ev in &backlog {
                        if let Some((ty, obj)) = visible(&filter, ev) {
                            first.push(enc.line(ty, &obj, Some(&ev.json), ev.rv));
                        }
                    }
                }
                (Some(rx), s.resource_version().max(start))
            }
        }
    };
    let bookmark_every = state.timing.bookmark_interval;
    let shutdown = state.shutdown.clone();
    let faults = state.faults.clone();
    let info = p.info;
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + timeout;
        for b in first {
            if !send_within(&tx, b).await {
                return;
            }
        }
        let Some(rx) = sub.as_mut() else { return };
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + bookmark_every, bookmark_every);
        loop {
            let line = tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tx.closed() => return,
                _ = tokio::time::sleep_until(deadline) => return,
                _ = tick.tick(), if bookmarks => bookmark(info, last_rv, false),
                ev = rx.recv() => match ev {
                    Ok(ev) => {
                        last_rv = last_rv.max(ev.rv);
                        if ev.kind != kind { continue; }
                        match visible(&filter, &ev) {
                            Some((ty, obj)) => enc.line(ty, &obj, Some(&ev.json), ev.rv),
                            None => continue,
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::debug!(missed = n, "sim: dropping a slow watcher");
                        let _ = send_within(&tx, error_event(&ApiError::expired(format!("too old resource version: {last_rv} (watcher fell {n} events behind and was dropped)")))).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            };
            // `freeze`: a stopped server sends nothing, events and bookmarks alike.
            tokio::select! {
                _ = faults.wait_unfrozen() => {}
                _ = shutdown.cancelled() => return,
            }
            // A client that does not read is dropped rather than buffered forever.
            match tokio::time::timeout(Duration::from_secs(30), tx.send(Ok(line))).await {
                Ok(Ok(())) => {}
                _ => return,
            }
        }
    });
    let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache, private"),
    );
    Ok(resp)
}

/// Sends one chunk to the response body, giving up on a client that has not read for 30 s.
async fn send_within(tx: &mpsc::Sender<Result<Bytes, std::convert::Infallible>>, b: Bytes) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(30), tx.send(Ok(b))).await,
        Ok(Ok(()))
    )
}

fn bookmark(info: &ResourceInfo, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    event_line(
        "BOOKMARK",
        &json!({"kind": info.kind_name, "apiVersion": info.api_version(), "metadata": meta}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_token_round_trips() {
        let key = ("monitoring".to_string(), "grafana-data".to_string());
        let t = encode_continue(42, &key);
        let (rv, k) = decode_continue(&t).unwrap_or((0, Key::default()));
        assert_eq!((rv, k), (42, key));
        assert!(decode_continue("zz").is_err());
    }
}
