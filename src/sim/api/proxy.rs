//! `GET /api/v1/nodes/NODE/proxy/stats/summary`: the kubelet's summary API, with each pod's
//! PVC volumes' `usedBytes` measured from their volume directories.

use super::ResPath;
use crate::sim::controllers::parse_quantity;
use crate::sim::resources::Kind;
use crate::sim::server::SimState;
use crate::sim::status::{ApiError, json_response};
use crate::sim::store::{meta_str, now_str};
use axum::body::Body;
use http::Response;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;

/// Bytes used by the files under `dir` (bounded walk: at most 100,000 entries).
pub fn dir_usage(dir: &Path) -> (u64, u64) {
    let mut stack = vec![dir.to_path_buf()];
    let (mut bytes, mut inodes) = (0u64, 0u64);
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            inodes += 1;
            if inodes > 100_000 {
                return (bytes, inodes);
            }
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => bytes += e.metadata().map(|m| m.len()).unwrap_or(0),
                _ => {}
            }
        }
    }
    (bytes, inodes)
}

/// A pod volume: name, claim, data directory, capacity in bytes.
type PodVolume = (String, String, Option<std::path::PathBuf>, u64);

pub fn node_proxy(state: &Arc<SimState>, p: &ResPath) -> Result<Response<Body>, ApiError> {
    let node = p.name.clone().unwrap_or_default();
    if p.rest.iter().map(String::as_str).collect::<Vec<_>>() != ["stats", "summary"] {
        return Err(ApiError::not_found(
            "nodes",
            "",
            &format!("{node}/proxy/{}", p.rest.join("/")),
        ));
    }
    // With the kubelet down, the API server cannot reach it: 503, as a real one answers.
    if state.faults.no_kubelet() {
        return Err(ApiError::new(
            503,
            "ServiceUnavailable",
            format!(
                "error trying to reach service: dial tcp {node}:10250: connect: connection refused"
            ),
        ));
    }
    let mut work: Vec<(Value, Vec<PodVolume>)> = Vec::new();
    {
        let s = state.store.lock();
        if s.get(Kind::Node, "", &node).is_none() {
            return Err(ApiError::not_found("nodes", "", &node));
        }
        for pod in s.list(Kind::Pod, None) {
            if pod.pointer("/spec/nodeName").and_then(Value::as_str) != Some(node.as_str()) {
                continue;
            }
            let ns = meta_str(&pod, "namespace").to_string();
            let mut vols = Vec::new();
            for v in pod
                .pointer("/spec/volumes")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                let Some(claim) = v
                    .pointer("/persistentVolumeClaim/claimName")
                    .and_then(Value::as_str)
                else {
                    continue;
                };
                let pvc = s.get(Kind::PersistentVolumeClaim, &ns, claim);
                let pv = pvc
                    .as_ref()
                    .and_then(|c| c.pointer("/spec/volumeName"))
                    .and_then(Value::as_str)
                    .map(String::from);
                let cap = pvc
                    .as_ref()
                    .and_then(|c| c.pointer("/status/capacity/storage"))
                    .and_then(Value::as_str)
                    .and_then(parse_quantity)
                    .unwrap_or(0);
                let dir = pv.and_then(|pv| state.volumes.path(&pv));
                vols.push((
                    v["name"].as_str().unwrap_or("").to_string(),
                    claim.to_string(),
                    dir,
                    cap,
                ));
            }
            let pod_ref = json!({"name": meta_str(&pod, "name"), "namespace": ns, "uid": meta_str(&pod, "uid")});
            work.push((pod_ref, vols));
        }
    }
    let now = now_str();
    let pods: Vec<Value> = work
        .into_iter()
        .map(|(pod_ref, vols)| {
            let ns = pod_ref["namespace"].clone();
            let volume: Vec<Value> = vols
                .into_iter()
                .map(|(name, claim, dir, cap)| {
                    let (used, inodes) = dir.as_deref().map(dir_usage).unwrap_or((0, 0));
                    json!({"time": now, "name": name, "usedBytes": used, "capacityBytes": cap, "availableBytes": cap.saturating_sub(used),
                        "inodesUsed": inodes, "pvcRef": {"name": claim, "namespace": ns}})
                })
                .collect();
            json!({"podRef": pod_ref, "startTime": now, "volume": volume})
        })
        .collect();
    Ok(json_response(
        200,
        &json!({"node": {"nodeName": node, "startTime": now}, "pods": pods}),
    ))
}
