//! `GET/POST .../pods/NAME/exec`: resolves the pod's mounts (volume -> PVC -> PV -> volume
//! directory) and scenario files into an [`ExecRequest`] and hands the upgrade to `sim::exec`.

use super::logs::pick_container;
use super::{ResPath, param, param_bool};
use crate::sim::exec::{self, ExecRequest, Mount};
use crate::sim::resources::Kind;
use crate::sim::server::SimState;
use crate::sim::status::ApiError;
use crate::sim::store::Inner;
use axum::body::Body;
use http::{Request, Response};
use serde_json::Value;
use std::sync::Arc;

/// The mounts of `container` in `pod`, resolved to volume directories.
pub fn resolve_mounts(s: &Inner, state: &SimState, pod: &Value, container: &str) -> Vec<Mount> {
    let ns = pod
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("");
    let volumes = pod
        .pointer("/spec/volumes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let Some(c) = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["name"] == container))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for m in c
        .get("volumeMounts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let vol_name = m["name"].as_str().unwrap_or("");
        let Some(vol) = volumes.iter().find(|v| v["name"] == vol_name) else {
            continue;
        };
        let Some(claim) = vol
            .pointer("/persistentVolumeClaim/claimName")
            .and_then(Value::as_str)
        else {
            continue;
        };
        let Some(pvc) = s.get(Kind::PersistentVolumeClaim, ns, claim) else {
            continue;
        };
        let Some(pv) = pvc.pointer("/spec/volumeName").and_then(Value::as_str) else {
            continue;
        };
        let Some(host_dir) = state.volumes.path(pv) else {
            continue;
        };
        let read_only = m["readOnly"].as_bool().unwrap_or(false)
            || vol
                .pointer("/persistentVolumeClaim/readOnly")
                .and_then(Value::as_bool)
                .unwrap_or(false);
        out.push(Mount {
            mount_path: m["mountPath"].as_str().unwrap_or("/").to_string(),
            host_dir,
            read_only,
        });
    }
    out
}

pub fn exec(
    state: &Arc<SimState>,
    mut req: Request<Body>,
    p: &ResPath,
    params: &[(String, String)],
) -> Result<Response<Body>, ApiError> {
    let ns = p.namespace.clone().unwrap_or_default();
    let name = p.name.clone().unwrap_or_default();
    let command: Vec<String> = params
        .iter()
        .filter(|(k, _)| k == "command")
        .map(|(_, v)| v.clone())
        .collect();
    let exec_req = {
        let s = state.store.lock();
        let pod = s
            .get(Kind::Pod, &ns, &name)
            .ok_or_else(|| ApiError::not_found("pods", "", &name))?;
        let container = pick_container(&pod, &name, param(params, "container"))?;
        let phase = pod
            .pointer("/status/phase")
            .and_then(Value::as_str)
            .unwrap_or("");
        if matches!(phase, "Succeeded" | "Failed") {
            return Err(ApiError::bad_request(format!(
                "cannot exec into a container in a completed pod; current phase is {phase}"
            )));
        }
        if pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            return Err(ApiError::bad_request(format!(
                "pod {name} does not have a host assigned"
            )));
        }
        let running = pod
            .pointer("/status/containerStatuses")
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c["name"] == container.as_str()))
            .is_some_and(|c| c.pointer("/state/running").is_some());
        if !running {
            return Err(ApiError::bad_request(format!(
                "unable to upgrade connection: container not found (\"{container}\")"
            )));
        }
        if command.is_empty() {
            return Err(ApiError::bad_request("you must specify at least 1 command"));
        }
        ExecRequest {
            command,
            stdin: param_bool(params, "stdin"),
            stdout: param_bool(params, "stdout"),
            stderr: param_bool(params, "stderr"),
            tty: param_bool(params, "tty"),
            mounts: resolve_mounts(&s, state, &pod, &container),
            files: s
                .exec_files
                .get(&(ns.clone(), name.clone()))
                .cloned()
                .unwrap_or_default(),
            break_after_bytes: state.faults.exec_break(),
            fail_with: state.faults.exec_fails().then(|| {
                format!(
                    "Internal error occurred: error sending request: Post \"https://{host}:10250/exec/{ns}/{name}/{container}\": dial tcp {host}:10250: connect: connection refused",
                    host = pod
                        .pointer("/status/hostIP")
                        .and_then(Value::as_str)
                        .unwrap_or("192.168.49.2"),
                )
            }),
        }
    };
    Ok(exec::exec_response(&mut req, exec_req))
}
