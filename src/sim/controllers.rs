//! Controller and kubelet behaviour that PVC flows rely on: defaults for new objects, deletion
//! (grace periods, finalizers), the pvc-protection and pv-protection finalizers, PV binding,
//! dynamic provisioning, reclaim (Delete removes PV and data, Retain leaves it Released),
//! namespace termination, and pods going Pending -> Running (unless `no-kubelet`).

use super::faults::FaultHandle;
use super::resources::Kind;
use super::server::SimTiming;
use super::store::{Inner, Key, Store, finalizers, is_deleting, k8s_time, meta_str, now_str};
use super::volumes::VolumeStore;
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const PVC_PROTECTION: &str = "kubernetes.io/pvc-protection";
pub const PV_PROTECTION: &str = "kubernetes.io/pv-protection";

/// Defaults the apiserver and admission plugins add to a newly created object.
pub fn prepare_new(kind: Kind, v: &mut Value, _s: &Inner) {
    let add_finalizer = |v: &mut Value, f: &str| {
        let mut fins = finalizers(v);
        if !fins.iter().any(|x| x == f) {
            fins.push(f.to_string());
        }
        v["metadata"]["finalizers"] = json!(fins);
    };
    match kind {
        Kind::Pod => {
            if v.pointer("/spec/restartPolicy").is_none() {
                v["spec"]["restartPolicy"] = json!("Always");
            }
            if v.pointer("/spec/terminationGracePeriodSeconds").is_none() {
                v["spec"]["terminationGracePeriodSeconds"] = json!(30);
            }
            if v.pointer("/spec/serviceAccountName").is_none() {
                v["spec"]["serviceAccountName"] = json!("default");
            }
            v["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
        }
        Kind::PersistentVolumeClaim => {
            add_finalizer(v, PVC_PROTECTION);
            if v.pointer("/spec/volumeMode").is_none() {
                v["spec"]["volumeMode"] = json!("Filesystem");
            }
            v["status"] = json!({"phase": "Pending"});
        }
        Kind::PersistentVolume => {
            add_finalizer(v, PV_PROTECTION);
            if v.pointer("/spec/persistentVolumeReclaimPolicy").is_none() {
                v["spec"]["persistentVolumeReclaimPolicy"] = json!("Retain");
            }
            if v.pointer("/spec/volumeMode").is_none() {
                v["spec"]["volumeMode"] = json!("Filesystem");
            }
            v["status"] = json!({"phase": "Available"});
        }
        Kind::Namespace => {
            v["spec"] = json!({"finalizers": ["kubernetes"]});
            v["status"] = json!({"phase": "Active"});
            let name = meta_str(v, "name").to_string();
            v["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
        }
        Kind::Secret => {
            if v.get("type").is_none() {
                v["type"] = json!("Opaque");
            }
        }
        Kind::StorageClass => {
            if v.get("reclaimPolicy").is_none() {
                v["reclaimPolicy"] = json!("Delete");
            }
            if v.get("volumeBindingMode").is_none() {
                v["volumeBindingMode"] = json!("Immediate");
            }
        }
        Kind::Node | Kind::Event => {}
    }
}

fn pod_is_terminal(v: &Value) -> bool {
    matches!(
        v.pointer("/status/phase").and_then(Value::as_str),
        Some("Succeeded" | "Failed")
    )
}

/// Starts deleting an object as the apiserver does: pods on a node get a grace period,
/// objects with finalizers get a deletionTimestamp, others go at once. With `dry_run` nothing
/// is stored and the would-be result is returned.
pub fn begin_delete(
    s: &mut Inner,
    kind: Kind,
    ns: &str,
    name: &str,
    grace: Option<i64>,
    _timing: &SimTiming,
    dry_run: bool,
) -> Option<Value> {
    let cur = s.get(kind, ns, name)?;
    if is_deleting(&cur) {
        return Some((*cur).clone());
    }
    let mut v = (*cur).clone();
    let now = Timestamp::now();
    let on_node = !meta_str_path(&cur, "/spec/nodeName").is_empty() && !pod_is_terminal(&cur);
    if kind == Kind::Pod && on_node {
        let g = grace
            .or_else(|| {
                cur.pointer("/spec/terminationGracePeriodSeconds")
                    .and_then(Value::as_i64)
            })
            .unwrap_or(30)
            .max(0);
        if g > 0 {
            v["metadata"]["deletionTimestamp"] =
                json!(k8s_time(now + jiff::SignedDuration::from_secs(g)));
            v["metadata"]["deletionGracePeriodSeconds"] = json!(g);
            return Some(if dry_run {
                v
            } else {
                (*s.update(kind, v)).clone()
            });
        }
    }
    if kind == Kind::Namespace {
        v["metadata"]["deletionTimestamp"] = json!(k8s_time(now));
        v["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        v["status"]["phase"] = json!("Terminating");
        return Some(if dry_run {
            v
        } else {
            (*s.update(kind, v)).clone()
        });
    }
    if !finalizers(&cur).is_empty() {
        v["metadata"]["deletionTimestamp"] = json!(k8s_time(now));
        v["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        return Some(if dry_run {
            v
        } else {
            (*s.update(kind, v)).clone()
        });
    }
    if dry_run {
        return Some(v);
    }
    s.remove(kind, ns, name).map(|v| (*v).clone())
}

fn meta_str_path<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

/// PVC names a pod mounts.
pub fn pod_claims(pod: &Value) -> Vec<String> {
    pod.pointer("/spec/volumes")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter_map(|v| {
                    v.pointer("/persistentVolumeClaim/claimName")
                        .and_then(Value::as_str)
                        .map(String::from)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Records a core/v1 Event about an object.
pub fn record_event(
    s: &mut Inner,
    involved: &Value,
    kind_name: &str,
    ty: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    let ns = match meta_str(involved, "namespace") {
        "" => "default".to_string(),
        n => n.to_string(),
    };
    let obj_name = meta_str(involved, "name").to_string();
    let name = format!("{obj_name}.{:016x}", fastrand::u64(..));
    let now = now_str();
    let ev = json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "involvedObject": {"kind": kind_name, "namespace": meta_str(involved, "namespace"), "name": obj_name,
            "uid": meta_str(involved, "uid"), "apiVersion": if kind_name == "StorageClass" { "storage.k8s.io/v1" } else { "v1" }},
        "reason": reason, "message": message, "type": ty, "count": 1,
        "firstTimestamp": now, "lastTimestamp": now,
        "source": {"component": component},
        "reportingComponent": component, "reportingInstance": "",
    });
    if s.get(Kind::Event, &ns, &name).is_none() {
        s.insert(Kind::Event, ev);
    }
}

/// The controller loop's memory between passes.
pub struct Controllers {
    store: Arc<Store>,
    volumes: Arc<VolumeStore>,
    faults: FaultHandle,
    timing: SimTiming,
    next_ip: u32,
    node_rr: usize,
}

impl Controllers {
    pub fn new(
        store: Arc<Store>,
        volumes: Arc<VolumeStore>,
        faults: FaultHandle,
        timing: SimTiming,
    ) -> Self {
        Controllers {
            store,
            volumes,
            faults,
            timing,
            next_ip: 10,
            node_rr: 0,
        }
    }

    /// Runs until cancelled: on every store change, and at least every 250 ms for timers.
    pub async fn run(mut self, cancel: CancellationToken) {
        let changed = self.store.lock().changed();
        loop {
            self.reconcile();
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = changed.notified() => {
                    // Coalesce bursts of changes.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
    }

    /// One pass over every controller.
    pub fn reconcile(&mut self) {
        let store = self.store.clone();
        let mut s = store.lock();
        self.workload_controllers(&mut s);
        self.kubelet(&mut s);
        self.pvc_protection(&mut s);
        self.binder(&mut s);
        self.pv_protection(&mut s);
        self.namespaces(&mut s);
    }

    fn kubelet(&mut self, s: &mut Inner) {
        let no_kubelet = self.faults.no_kubelet();
        let now = Timestamp::now();
        let start_deadline = self.timing.pod_start_delay;
        let pending: Vec<Key> = s.pending_starts.keys().cloned().collect();
        for key in pending {
            let Some(started) = s.pending_starts.get(&key).copied() else {
                continue;
            };
            let Some(pod) = s.get(Kind::Pod, &key.0, &key.1) else {
                s.pending_starts.remove(&key);
                continue;
            };
            if is_deleting(&pod) || started.elapsed() < start_deadline || no_kubelet {
                continue;
            }
            // The scheduler waits for every claim to be bound and not being deleted.
            let mut blocked = None;
            for claim in pod_claims(&pod) {
                match s.get(Kind::PersistentVolumeClaim, &key.0, &claim) {
                    None => blocked = Some(format!("persistentvolumeclaim \"{claim}\" not found")),
                    Some(c) if is_deleting(&c) => blocked = Some(format!("persistentvolumeclaim \"{claim}\" is being deleted")),
                    Some(c) if meta_str_path(&c, "/status/phase") != "Bound" => {
                        blocked = Some("pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.".into())
                    }
                    Some(_) => {}
                }
            }
            if let Some(msg) = blocked {
                let cond = json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": format!("0/1 nodes are available: {msg}"), "lastTransitionTime": now_str()}]);
                if pod.pointer("/status/conditions") != Some(&cond)
                    && pod.pointer("/status/conditions/0/message") != cond.pointer("/0/message")
                {
                    let p = s.modify(Kind::Pod, &key.0, &key.1, |v| {
                        v["status"]["conditions"] = cond.clone()
                    });
                    if let Some(p) = p {
                        record_event(
                            s,
                            &p,
                            "Pod",
                            "Warning",
                            "FailedScheduling",
                            &format!("0/1 nodes are available: {msg}"),
                            "default-scheduler",
                        );
                    }
                }
                continue;
            }
            let nodes: Vec<String> = s
                .list(Kind::Node, None)
                .iter()
                .filter(|n| n.pointer("/spec/unschedulable").and_then(Value::as_bool) != Some(true))
                .map(|n| meta_str(n, "name").to_string())
                .collect();
            let node = match meta_str_path(&pod, "/spec/nodeName") {
                "" if nodes.is_empty() => continue,
                "" => {
                    self.node_rr = self.node_rr.wrapping_add(1);
                    nodes[self.node_rr % nodes.len()].clone()
                }
                n => n.to_string(),
            };
            self.next_ip = self.next_ip.wrapping_add(1);
            let ip = format!(
                "10.244.{}.{}",
                (self.next_ip / 250) % 250,
                self.next_ip % 250 + 2
            );
            let t = k8s_time(now);
            let containers: Vec<(String, String)> = pod
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map(|cs| {
                    cs.iter()
                        .map(|c| {
                            (
                                c["name"].as_str().unwrap_or("").to_string(),
                                c["image"].as_str().unwrap_or("").to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let statuses: Vec<Value> = containers
                .iter()
                .map(|(n, img)| json!({"name": n, "image": img, "imageID": format!("docker.io/library/{img}@sha256:{:064x}", 0), "containerID": format!("containerd://{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
                    "ready": true, "started": true, "restartCount": 0, "state": {"running": {"startedAt": t}}}))
                .collect();
            let cond = |ty: &str| json!({"type": ty, "status": "True", "lastTransitionTime": t});
            let updated = s.modify(Kind::Pod, &key.0, &key.1, |v| {
                v["spec"]["nodeName"] = json!(node);
                v["status"] = json!({
                    "phase": "Running", "hostIP": "192.168.49.2", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": t,
                    "qosClass": "BestEffort",
                    "conditions": [cond("PodReadyToStartContainers"), cond("Initialized"), cond("Ready"), cond("ContainersReady"), cond("PodScheduled")],
                    "containerStatuses": statuses,
                });
            });
            s.pending_starts.remove(&key);
            if let Some(p) = updated {
                record_event(
                    s,
                    &p,
                    "Pod",
                    "Normal",
                    "Scheduled",
                    &format!("Successfully assigned {}/{} to {node}", key.0, key.1),
                    "default-scheduler",
                );
                for (c, _) in &containers {
                    s.append_log(&key.0, &key.1, c, now, format!("{c}: started"));
                }
            }
        }
        // Graceful deletions finish after min(grace, pod_stop_delay).
        if no_kubelet {
            return;
        }
        let stop_after = self.timing.pod_stop_delay.as_secs_f64();
        let mut gone = Vec::new();
        for pod in s.list(Kind::Pod, None) {
            if !is_deleting(&pod) || !finalizers(&pod).is_empty() {
                continue;
            }
            let Some(ts) = pod
                .pointer("/metadata/deletionTimestamp")
                .and_then(Value::as_str)
                .and_then(|t| t.parse::<Timestamp>().ok())
            else {
                continue;
            };
            let grace = pod
                .pointer("/metadata/deletionGracePeriodSeconds")
                .and_then(Value::as_i64)
                .unwrap_or(0) as f64;
            let started = ts.as_second() as f64 - grace;
            if (now.as_second() as f64) >= started + grace.min(stop_after) {
                gone.push(super::store::key_of(&pod));
            }
        }
        for (ns, name) in gone {
            s.remove(Kind::Pod, &ns, &name);
        }
    }

    /// ReplicaSets, StatefulSets and DaemonSets replace their pods: a StatefulSet's pod comes
    /// back under the same name, the others under a new suffix; all start Pending.
    fn workload_controllers(&mut self, s: &mut Inner) {
        for old in std::mem::take(&mut s.replace_pods) {
            let ns = meta_str(&old, "namespace").to_string();
            if s.get(Kind::Namespace, "", &ns)
                .is_none_or(|n| is_deleting(&n))
            {
                continue;
            }
            let owner_kind = old
                .pointer("/metadata/ownerReferences/0/kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let old_name = meta_str(&old, "name").to_string();
            let name = if owner_kind == "StatefulSet" {
                old_name
            } else {
                let prefix = old_name
                    .rsplit_once('-')
                    .map_or(old_name.as_str(), |(p, _)| p)
                    .to_string();
                let suffix: String = (0..5)
                    .map(|_| {
                        fastrand::choice(b"bcdfghjklmnpqrstvwxz2456789".iter())
                            .map_or('x', |c| *c as char)
                    })
                    .collect();
                format!("{prefix}-{suffix}")
            };
            if s.get(Kind::Pod, &ns, &name).is_some() {
                continue;
            }
            let mut pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {
                "name": name, "namespace": ns,
                "labels": old.pointer("/metadata/labels").cloned().unwrap_or(json!({})),
                "ownerReferences": old.pointer("/metadata/ownerReferences").cloned().unwrap_or(json!([])),
            }, "spec": old.get("spec").cloned().unwrap_or(json!({}))});
            if owner_kind != "DaemonSet"
                && let Some(spec) = pod["spec"].as_object_mut()
            {
                spec.remove("nodeName");
            }
            prepare_new(Kind::Pod, &mut pod, s);
            let created = s.insert(Kind::Pod, pod);
            s.pending_starts
                .insert(super::store::key_of(&created), std::time::Instant::now());
        }
    }

    /// Claims used by scheduled, not terminated pods (an unscheduled pod does not hold a claim,
    /// as in the real pvc-protection controller).
    fn claims_in_use(s: &Inner) -> HashSet<Key> {
        let mut used = HashSet::new();
        for pod in s.list(Kind::Pod, None) {
            if pod_is_terminal(&pod) || meta_str_path(&pod, "/spec/nodeName").is_empty() {
                continue;
            }
            for c in pod_claims(&pod) {
                used.insert((meta_str(&pod, "namespace").to_string(), c));
            }
        }
        used
    }

    fn pvc_protection(&mut self, s: &mut Inner) {
        let deleting: Vec<Arc<Value>> = s
            .list(Kind::PersistentVolumeClaim, None)
            .into_iter()
            .filter(|c| is_deleting(c) && finalizers(c).iter().any(|f| f == PVC_PROTECTION))
            .collect();
        if deleting.is_empty() {
            return;
        }
        let used = Self::claims_in_use(s);
        for c in deleting {
            let key = super::store::key_of(&c);
            if !used.contains(&key) {
                s.modify(Kind::PersistentVolumeClaim, &key.0, &key.1, |v| {
                    let fins: Vec<String> = finalizers(v)
                        .into_iter()
                        .filter(|f| f != PVC_PROTECTION)
                        .collect();
                    v["metadata"]["finalizers"] = json!(fins);
                });
            }
        }
    }

    fn pv_protection(&mut self, s: &mut Inner) {
        for pv in s.list(Kind::PersistentVolume, None) {
            if !is_deleting(&pv) || !finalizers(&pv).iter().any(|f| f == PV_PROTECTION) {
                continue;
            }
            if meta_str_path(&pv, "/status/phase") == "Bound" {
                continue;
            }
            let name = meta_str(&pv, "name").to_string();
            s.modify(Kind::PersistentVolume, "", &name, |v| {
                let fins: Vec<String> = finalizers(v)
                    .into_iter()
                    .filter(|f| f != PV_PROTECTION)
                    .collect();
                v["metadata"]["finalizers"] = json!(fins);
            });
        }
    }

    fn bind(s: &mut Inner, pvc: &Value, pv: &Value) {
        let (ns, name) = super::store::key_of(pvc);
        let pv_name = meta_str(pv, "name").to_string();
        let claim_ref = json!({"kind": "PersistentVolumeClaim", "namespace": ns, "name": name, "uid": meta_str(pvc, "uid"),
            "apiVersion": "v1", "resourceVersion": meta_str(pvc, "resourceVersion")});
        s.modify(Kind::PersistentVolume, "", &pv_name, |v| {
            v["spec"]["claimRef"] = claim_ref;
            v["status"] = json!({"phase": "Bound", "lastPhaseTransitionTime": now_str()});
        });
        let capacity = pv.pointer("/spec/capacity").cloned().unwrap_or(json!({}));
        let modes = pv
            .pointer("/spec/accessModes")
            .cloned()
            .unwrap_or(json!(["ReadWriteOnce"]));
        s.modify(Kind::PersistentVolumeClaim, &ns, &name, |v| {
            v["spec"]["volumeName"] = json!(pv_name);
            v["metadata"]["annotations"]["pv.kubernetes.io/bind-completed"] = json!("yes");
            v["status"] = json!({"phase": "Bound", "capacity": capacity, "accessModes": modes});
        });
    }

    fn binder(&mut self, s: &mut Inner) {
        // PVs whose claim went away are Released, then reclaimed.
        for pv in s.list(Kind::PersistentVolume, None) {
            let name = meta_str(&pv, "name").to_string();
            let phase = meta_str_path(&pv, "/status/phase").to_string();
            let claim_ns = meta_str_path(&pv, "/spec/claimRef/namespace").to_string();
            let claim_name = meta_str_path(&pv, "/spec/claimRef/name").to_string();
            let claim_uid = meta_str_path(&pv, "/spec/claimRef/uid").to_string();
            let claim = (!claim_name.is_empty())
                .then(|| s.get(Kind::PersistentVolumeClaim, &claim_ns, &claim_name))
                .flatten();
            let claim_gone = !claim_name.is_empty()
                && !claim_uid.is_empty()
                && claim
                    .as_ref()
                    .is_none_or(|c| meta_str(c, "uid") != claim_uid);
            if phase == "Bound" && claim_gone {
                s.modify(
                    Kind::PersistentVolume,
                    "",
                    &name,
                    |v| {
                        v["status"] =
                            json!({"phase": "Released", "lastPhaseTransitionTime": now_str()})
                    },
                );
                continue;
            }
            if phase == "Released" && !is_deleting(&pv) {
                if claim_name.is_empty() || claim_uid.is_empty() {
                    s.modify(
                        Kind::PersistentVolume,
                        "",
                        &name,
                        |v| {
                            v["status"] =
                                json!({"phase": "Available", "lastPhaseTransitionTime": now_str()})
                        },
                    );
                } else if meta_str_path(&pv, "/spec/persistentVolumeReclaimPolicy") == "Delete" {
                    if let Err(e) = self.volumes.remove(&name) {
                        tracing::warn!(pv = %name, error = %e, "sim: could not remove volume data");
                        s.modify(Kind::PersistentVolume, "", &name, |v| v["status"] = json!({"phase": "Failed", "message": format!("error deleting volume: {e}")}));
                        continue;
                    }
                    begin_delete(
                        s,
                        Kind::PersistentVolume,
                        "",
                        &name,
                        None,
                        &self.timing,
                        false,
                    );
                }
            }
            if phase == "Available" && claim_name.is_empty() && claim_uid.is_empty() {
                continue;
            }
        }
        // PVCs: Lost when their PV vanished; bind Pending ones.
        for pvc in s.list(Kind::PersistentVolumeClaim, None) {
            let (ns, name) = super::store::key_of(&pvc);
            let phase = meta_str_path(&pvc, "/status/phase");
            let vol = meta_str_path(&pvc, "/spec/volumeName").to_string();
            if phase == "Bound" {
                if !vol.is_empty() && s.get(Kind::PersistentVolume, "", &vol).is_none() {
                    s.modify(Kind::PersistentVolumeClaim, &ns, &name, |v| {
                        v["status"] = json!({"phase": "Lost"})
                    });
                }
                continue;
            }
            if phase != "Pending" || is_deleting(&pvc) {
                continue;
            }
            let claimed_by_me = |pv: &Value| {
                let cn = meta_str_path(pv, "/spec/claimRef/name");
                let cu = meta_str_path(pv, "/spec/claimRef/uid");
                cn.is_empty()
                    || (cn == name
                        && meta_str_path(pv, "/spec/claimRef/namespace") == ns
                        && (cu.is_empty() || cu == meta_str(&pvc, "uid")))
            };
            if !vol.is_empty() {
                if let Some(pv) = s.get(Kind::PersistentVolume, "", &vol) {
                    let phase = meta_str_path(&pv, "/status/phase");
                    if !is_deleting(&pv)
                        && (phase == "Available" || (phase == "Bound" && claimed_by_me(&pv)))
                        && claimed_by_me(&pv)
                    {
                        Self::bind(s, &pvc, &pv);
                    }
                }
                continue;
            }
            let class = meta_str_path(&pvc, "/spec/storageClassName").to_string();
            let want = pvc
                .pointer("/spec/resources/requests/storage")
                .and_then(Value::as_str)
                .and_then(parse_quantity)
                .unwrap_or(0);
            // Pre-bound PVs (claimRef naming this claim) first, then the smallest that fits.
            let mut candidates: Vec<(bool, u64, Arc<Value>)> = s
                .list(Kind::PersistentVolume, None)
                .into_iter()
                .filter(|pv| {
                    meta_str_path(pv, "/status/phase") == "Available"
                        && !is_deleting(pv)
                        && claimed_by_me(pv)
                })
                .filter(|pv| meta_str_path(pv, "/spec/storageClassName") == class)
                .filter_map(|pv| {
                    let cap = pv
                        .pointer("/spec/capacity/storage")
                        .and_then(Value::as_str)
                        .and_then(parse_quantity)
                        .unwrap_or(0);
                    let prebound = !meta_str_path(&pv, "/spec/claimRef/name").is_empty();
                    (cap >= want).then_some((!prebound, cap, pv))
                })
                .collect();
            candidates.sort_by_key(|a| (a.0, a.1));
            if let Some((_, _, pv)) = candidates.into_iter().next() {
                Self::bind(s, &pvc, &pv);
                continue;
            }
            // Dynamic provisioning.
            let Some(sc) = (!class.is_empty())
                .then(|| s.get(Kind::StorageClass, "", &class))
                .flatten()
            else {
                continue;
            };
            let provisioner = sc.get("provisioner").and_then(Value::as_str).unwrap_or("");
            if provisioner.is_empty() || provisioner == "kubernetes.io/no-provisioner" {
                continue;
            }
            let pv_name = format!("pvc-{}", meta_str(&pvc, "uid"));
            if s.get(Kind::PersistentVolume, "", &pv_name).is_some() {
                continue;
            }
            if let Err(e) = self.volumes.create_empty(&pv_name) {
                tracing::warn!(pv = %pv_name, error = %e, "sim: could not create volume directory");
                continue;
            }
            let size = pvc
                .pointer("/spec/resources/requests/storage")
                .cloned()
                .unwrap_or(json!("1Gi"));
            let mut pv = json!({
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": provisioner}},
                "spec": {"capacity": {"storage": size}, "accessModes": pvc.pointer("/spec/accessModes").cloned().unwrap_or(json!(["ReadWriteOnce"])),
                    "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy").cloned().unwrap_or(json!("Delete")),
                    "storageClassName": class, "volumeMode": "Filesystem",
                    "hostPath": {"path": format!("/var/lib/ondeck-sim/{pv_name}"), "type": "DirectoryOrCreate"}},
            });
            prepare_new(Kind::PersistentVolume, &mut pv, s);
            let pv = s.insert(Kind::PersistentVolume, pv);
            Self::bind(s, &pvc, &pv);
            if let Some(c) = s.get(Kind::PersistentVolumeClaim, &ns, &name) {
                record_event(
                    s,
                    &c,
                    "PersistentVolumeClaim",
                    "Normal",
                    "ProvisioningSucceeded",
                    &format!("Successfully provisioned volume {pv_name}"),
                    provisioner,
                );
            }
        }
    }

    fn namespaces(&mut self, s: &mut Inner) {
        for ns in s.list(Kind::Namespace, None) {
            if !is_deleting(&ns) {
                continue;
            }
            let name = meta_str(&ns, "name").to_string();
            let mut remaining = 0;
            for kind in [
                Kind::Pod,
                Kind::PersistentVolumeClaim,
                Kind::Secret,
                Kind::Event,
            ] {
                for obj in s.list(kind, Some(&name)) {
                    remaining += 1;
                    if !is_deleting(&obj) {
                        begin_delete(
                            s,
                            kind,
                            &name,
                            meta_str(&obj, "name"),
                            Some(0),
                            &self.timing,
                            false,
                        );
                    }
                }
            }
            if remaining == 0 {
                s.remove(Kind::Namespace, "", &name);
            }
        }
    }
}

/// Parses a Kubernetes quantity of bytes (`10Gi`, `500M`, `1024`).
pub fn parse_quantity(q: &str) -> Option<u64> {
    super::faults::parse_bytes(q)
}
