//! Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), which
//! kubectl `get` asks for: the columns kubectl shows for each resource type.

use crate::sim::resources::{Kind, ResourceInfo};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::sync::Arc;

pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

/// kubectl's `HumanDuration`.
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86_400);
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        if s % 60 == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{}s", s % 60)
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        if m % 60 == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{}m", m % 60)
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        if h % 24 == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{}h", h % 24)
        }
    } else if h < 24 * 365 * 2 {
        format!("{d}d")
    } else if d / 365 < 8 {
        let y = d / 365;
        if d % 365 == 0 {
            format!("{y}y")
        } else {
            format!("{y}y{}d", d % 365)
        }
    } else {
        format!("{}y", d / 365)
    }
}

fn ago(v: &Value, pointer: &str) -> String {
    match v
        .pointer(pointer)
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<Timestamp>().ok())
    {
        Some(t) => human_duration(Timestamp::now().as_second() - t.as_second()),
        None => "<unknown>".into(),
    }
}

fn s<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn or_none(x: &str) -> String {
    if x.is_empty() {
        "<none>".into()
    } else {
        x.into()
    }
}

fn access_modes(v: &Value, pointer: &str) -> String {
    let modes: Vec<&str> = v
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    modes
        .iter()
        .map(|m| match *m {
            "ReadWriteOnce" => "RWO",
            "ReadOnlyMany" => "ROX",
            "ReadWriteMany" => "RWX",
            "ReadWriteOncePod" => "RWOP",
            o => o,
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn pod_cells(v: &Value) -> Vec<Value> {
    let statuses = v
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let total = v
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let mut reason = s(v, "/status/phase").to_string();
    if !s(v, "/status/reason").is_empty() {
        reason = s(v, "/status/reason").to_string();
    }
    let mut ready = 0;
    let mut restarts = 0;
    let mut last_restart: Option<String> = None;
    for c in statuses.iter().rev() {
        restarts += c["restartCount"].as_i64().unwrap_or(0);
        if let Some(t) = c
            .pointer("/lastState/terminated/finishedAt")
            .and_then(Value::as_str)
        {
            last_restart = Some(t.to_string());
        }
        if let Some(r) = c
            .pointer("/state/waiting/reason")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        {
            reason = r.to_string();
        } else if let Some(r) = c
            .pointer("/state/terminated/reason")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        {
            reason = r.to_string();
        } else if let Some(code) = c
            .pointer("/state/terminated/exitCode")
            .and_then(Value::as_i64)
        {
            reason = format!("ExitCode:{code}");
        } else if c["ready"].as_bool() == Some(true) && c.pointer("/state/running").is_some() {
            ready += 1;
        }
    }
    if v.pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null())
    {
        reason = if s(v, "/status/reason") == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    let restarts = match last_restart.and_then(|t| t.parse::<Timestamp>().ok()) {
        Some(t) if restarts > 0 => format!(
            "{restarts} ({} ago)",
            human_duration(Timestamp::now().as_second() - t.as_second())
        ),
        _ => restarts.to_string(),
    };
    vec![
        json!(s(v, "/metadata/name")),
        json!(format!("{ready}/{total}")),
        json!(reason),
        json!(restarts),
        json!(ago(v, "/metadata/creationTimestamp")),
        json!(or_none(s(v, "/status/podIP"))),
        json!(or_none(s(v, "/spec/nodeName"))),
        json!("<none>"),
        json!("<none>"),
    ]
}

fn columns(kind: Kind) -> Vec<(&'static str, &'static str, i32)> {
    let mut c = match kind {
        Kind::Pod => vec![
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            ("Age", "string", 0),
            ("IP", "string", 1),
            ("Node", "string", 1),
            ("Nominated Node", "string", 1),
            ("Readiness Gates", "string", 1),
        ],
        Kind::PersistentVolumeClaim => vec![
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Volume", "string", 0),
            ("Capacity", "string", 0),
            ("Access Modes", "string", 0),
            ("StorageClass", "string", 0),
            ("VolumeAttributesClass", "string", 0),
            ("Age", "string", 0),
            ("VolumeMode", "string", 1),
        ],
        Kind::PersistentVolume => vec![
            ("Name", "string", 0),
            ("Capacity", "string", 0),
            ("Access Modes", "string", 0),
            ("Reclaim Policy", "string", 0),
            ("Status", "string", 0),
            ("Claim", "string", 0),
            ("StorageClass", "string", 0),
            ("VolumeAttributesClass", "string", 0),
            ("Reason", "string", 0),
            ("Age", "string", 0),
            ("VolumeMode", "string", 1),
        ],
        Kind::Node => vec![
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Roles", "string", 0),
            ("Age", "string", 0),
            ("Version", "string", 0),
        ],
        Kind::Namespace => vec![
            ("Name", "string", 0),
            ("Status", "string", 0),
            ("Age", "string", 0),
        ],
        Kind::Event => vec![
            ("Last Seen", "string", 0),
            ("Type", "string", 0),
            ("Reason", "string", 0),
            ("Object", "string", 0),
            ("Message", "string", 0),
        ],
        Kind::Secret => vec![
            ("Name", "string", 0),
            ("Type", "string", 0),
            ("Data", "string", 0),
            ("Age", "string", 0),
        ],
        Kind::ResourceQuota => vec![
            ("Name", "string", 0),
            ("Age", "string", 0),
            ("Request", "string", 0),
            ("Limit", "string", 0),
        ],
        Kind::Ingress => vec![
            ("Name", "string", 0),
            ("Class", "string", 0),
            ("Hosts", "string", 0),
            ("Address", "string", 0),
            ("Ports", "string", 0),
            ("Age", "string", 0),
        ],
        Kind::Certificate => vec![
            ("Name", "string", 0),
            ("Ready", "string", 0),
            ("Secret", "string", 0),
            ("Age", "string", 0),
        ],
        Kind::ValidatingWebhookConfiguration | Kind::MutatingWebhookConfiguration => vec![
            ("Name", "string", 0),
            ("Webhooks", "integer", 0),
            ("Age", "string", 0),
        ],
        Kind::ApiService => vec![
            ("Name", "string", 0),
            ("Service", "string", 0),
            ("Available", "string", 0),
            ("Age", "string", 0),
        ],
        Kind::StorageClass => vec![
            ("Name", "string", 0),
            ("Provisioner", "string", 0),
            ("ReclaimPolicy", "string", 0),
            ("VolumeBindingMode", "string", 0),
            ("AllowVolumeExpansion", "string", 0),
            ("Age", "string", 0),
        ],
    };
    if kind == Kind::Event {
        c.insert(0, ("Name", "string", 1));
    }
    c
}

fn cells(kind: Kind, v: &Value) -> Vec<Value> {
    let name = json!(s(v, "/metadata/name"));
    let age = json!(ago(v, "/metadata/creationTimestamp"));
    match kind {
        Kind::Pod => pod_cells(v),
        Kind::PersistentVolumeClaim => {
            let phase = if v
                .pointer("/metadata/deletionTimestamp")
                .is_some_and(|t| !t.is_null())
            {
                "Terminating"
            } else {
                s(v, "/status/phase")
            };
            vec![
                name,
                json!(phase),
                json!(s(v, "/spec/volumeName")),
                json!(s(v, "/status/capacity/storage")),
                json!(access_modes(v, "/status/accessModes")),
                json!(or_none(s(v, "/spec/storageClassName"))),
                json!("<unset>"),
                age,
                json!(s(v, "/spec/volumeMode")),
            ]
        }
        Kind::PersistentVolume => {
            let claim = if s(v, "/spec/claimRef/name").is_empty() {
                String::new()
            } else {
                format!(
                    "{}/{}",
                    s(v, "/spec/claimRef/namespace"),
                    s(v, "/spec/claimRef/name")
                )
            };
            let phase = if v
                .pointer("/metadata/deletionTimestamp")
                .is_some_and(|t| !t.is_null())
            {
                "Terminating"
            } else {
                s(v, "/status/phase")
            };
            vec![
                name,
                json!(s(v, "/spec/capacity/storage")),
                json!(access_modes(v, "/spec/accessModes")),
                json!(s(v, "/spec/persistentVolumeReclaimPolicy")),
                json!(phase),
                json!(claim),
                json!(s(v, "/spec/storageClassName")),
                json!("<unset>"),
                json!(s(v, "/status/reason")),
                age,
                json!(s(v, "/spec/volumeMode")),
            ]
        }
        Kind::Node => {
            let ready = v
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
                .map(|c| c["status"] == "True");
            let status = match ready {
                Some(true) => "Ready",
                Some(false) => "NotReady",
                None => "Unknown",
            };
            let roles: Vec<&str> = v
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .map(|l| {
                    l.keys()
                        .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                        .collect()
                })
                .unwrap_or_default();
            vec![
                name,
                json!(status),
                json!(if roles.is_empty() {
                    "<none>".to_string()
                } else {
                    roles.join(",")
                }),
                age,
                json!(s(v, "/status/nodeInfo/kubeletVersion")),
            ]
        }
        Kind::Namespace => vec![name, json!(s(v, "/status/phase")), age],
        Kind::Event => {
            let last = if v.get("lastTimestamp").is_some_and(|t| !t.is_null()) {
                ago(v, "/lastTimestamp")
            } else {
                ago(v, "/eventTime")
            };
            let obj = format!(
                "{}/{}",
                s(v, "/involvedObject/kind").to_lowercase(),
                s(v, "/involvedObject/name")
            );
            vec![
                name,
                json!(last),
                json!(s(v, "/type")),
                json!(s(v, "/reason")),
                json!(obj),
                json!(s(v, "/message")),
            ]
        }
        Kind::ResourceQuota => {
            // kubectl: "persistentvolumeclaims: 1/2, requests.storage: 1Gi/10Gi"
            let hard = v
                .pointer("/status/hard")
                .or_else(|| v.pointer("/spec/hard"))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let request = hard
                .iter()
                .map(|(k, h)| {
                    let used = v
                        .pointer(&format!("/status/used/{}", k.replace('/', "~1")))
                        .and_then(Value::as_str)
                        .unwrap_or("0");
                    format!("{k}: {used}/{}", h.as_str().unwrap_or(""))
                })
                .collect::<Vec<_>>()
                .join(", ");
            vec![name, age, json!(request), json!("")]
        }
        Kind::Secret => {
            let n = v
                .get("data")
                .and_then(Value::as_object)
                .map_or(0, |d| d.len());
            vec![name, json!(s(v, "/type")), json!(n), age]
        }
        Kind::Ingress => {
            let rules = v
                .pointer("/spec/rules")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let hosts: Vec<&str> = rules
                .iter()
                .filter_map(|r| r.get("host").and_then(Value::as_str))
                .collect();
            let hosts = if hosts.is_empty() {
                "*".to_string()
            } else {
                hosts.join(",")
            };
            let tls = v
                .pointer("/spec/tls")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            vec![
                name,
                json!(or_none(s(v, "/spec/ingressClassName"))),
                json!(hosts),
                json!(""),
                json!(if tls { "80, 443" } else { "80" }),
                age,
            ]
        }
        Kind::Certificate => {
            let ready = v
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|c| {
                    c.iter()
                        .find(|c| c.get("type").and_then(Value::as_str) == Some("Ready"))
                })
                .and_then(|c| c.get("status").and_then(Value::as_str))
                .unwrap_or("")
                .to_string();
            vec![name, json!(ready), json!(s(v, "/spec/secretName")), age]
        }
        Kind::ValidatingWebhookConfiguration | Kind::MutatingWebhookConfiguration => {
            let n = v
                .get("webhooks")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            vec![name, json!(n), age]
        }
        Kind::ApiService => {
            let svc = if s(v, "/spec/service/name").is_empty() {
                "Local".to_string()
            } else {
                format!(
                    "{}/{}",
                    s(v, "/spec/service/namespace"),
                    s(v, "/spec/service/name")
                )
            };
            let avail = v
                .pointer("/status/conditions")
                .and_then(Value::as_array)
                .and_then(|c| {
                    c.iter()
                        .find(|c| c.get("type").and_then(Value::as_str) == Some("Available"))
                })
                .and_then(|c| c.get("status").and_then(Value::as_str))
                .unwrap_or("Unknown")
                .to_string();
            vec![name, json!(svc), json!(avail), age]
        }
        Kind::StorageClass => {
            let default = v
                .pointer("/metadata/annotations/storageclass.kubernetes.io~1is-default-class")
                .and_then(Value::as_str)
                == Some("true");
            let n = if default {
                format!("{} (default)", s(v, "/metadata/name"))
            } else {
                s(v, "/metadata/name").to_string()
            };
            let expand = v
                .get("allowVolumeExpansion")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            vec![
                json!(n),
                json!(s(v, "/provisioner")),
                json!(s(v, "/reclaimPolicy")),
                json!(s(v, "/volumeBindingMode")),
                json!(expand.to_string()),
                age,
            ]
        }
    }
}

/// A `meta.k8s.io/v1` Table of the objects, each row carrying the object's metadata.
pub fn table(info: &ResourceInfo, objects: &[Arc<Value>], rv: u64, cont: Option<String>) -> Value {
    let cols: Vec<Value> = columns(info.kind)
        .into_iter()
        .map(|(n, t, p)| json!({"name": n, "type": t, "format": if n == "Name" { "name" } else { "" }, "description": n, "priority": p}))
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            json!({
                "cells": cells(info.kind, o),
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o.get("metadata").cloned().unwrap_or(Value::Null)}
            })
        })
        .collect();
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": cols, "rows": rows})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_kubectl() {
        assert_eq!(human_duration(45), "45s");
        assert_eq!(human_duration(5 * 60 + 3), "5m3s");
        assert_eq!(human_duration(14 * 60), "14m");
        assert_eq!(human_duration(3 * 86_400 + 3600), "3d1h");
        assert_eq!(human_duration(40 * 86_400), "40d");
    }

    #[test]
    fn crashloop_pod_row() {
        let pod = json!({"metadata": {"name": "api-1", "creationTimestamp": "2020-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "api"}]},
            "status": {"phase": "Running", "containerStatuses": [{"name": "api", "ready": false, "restartCount": 7,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        let c = pod_cells(&pod);
        assert_eq!(c[1], "0/1");
        assert_eq!(c[2], "CrashLoopBackOff");
        assert_eq!(c[3], "7");
    }

    #[test]
    fn accept_header_detection() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
    }
}
