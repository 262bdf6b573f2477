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
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

mod kubelet;
pub use kubelet::crash_container;

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
        Kind::Node
        | Kind::Event
        | Kind::ResourceQuota
        | Kind::Ingress
        | Kind::Certificate
        | Kind::ValidatingWebhookConfiguration
        | Kind::MutatingWebhookConfiguration
        | Kind::ApiService => {}
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
    crash_seen: HashMap<Key, Instant>,
    last_crash_scan: Instant,
    /// Store version after the last full pass, and whether timers were running then.
    last_rv: u64,
    busy: bool,
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
            crash_seen: HashMap::new(),
            last_crash_scan: Instant::now(),
            last_rv: 0,
            busy: true,
        }
    }

    /// Runs until cancelled: on every store change, every 100 ms while timers run (pods
    /// starting or stopping), otherwise every second (an idle demo costs next to nothing).
    pub async fn run(mut self, cancel: CancellationToken) {
        let changed = self.store.lock().changed();
        loop {
            let busy = self.reconcile();
            let tick = if busy {
                Duration::from_millis(100)
            } else {
                Duration::from_secs(1)
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = changed.notified() => {
                    // Coalesce bursts of changes.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                _ = tokio::time::sleep(tick) => {}
            }
        }
    }

    /// One pass over every controller. Returns whether timers are running.
    pub fn reconcile(&mut self) -> bool {
        let store = self.store.clone();
        let mut s = store.lock();
        self.crash_loops(&mut s);
        // Nothing changed and no timer runs: the level-triggered controllers have nothing to do.
        // (Pods waiting to start are re-examined each tick: a fault may have been cleared.)
        if s.resource_version() == self.last_rv && !self.busy && s.pending_starts.is_empty() {
            return false;
        }
        let before = s.resource_version();
        self.workload_controllers(&mut s);
        let busy = self.kubelet(&mut s);
        self.pvc_protection(&mut s);
        self.binder(&mut s);
        self.pv_protection(&mut s);
        super::admission::quota_status(&mut s);
        self.namespaces(&mut s);
        // A pass that changed something runs again (controllers react to each other's writes).
        let after = s.resource_version();
        self.last_rv = if after == before { after } else { 0 };
        self.busy = busy;
        busy || after != before
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
            // The real PV controller: a volume whose bound claim (same uid) is gone is
            // Released, whatever phase it showed (a claimRef without uid only reserves it).
            if (phase == "Bound" || phase == "Available") && claim_gone {
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
                .filter(|pv| access_modes_fit(pv, &pvc) && volume_mode_fits(pv, &pvc))
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
                Kind::ResourceQuota,
                Kind::Ingress,
                Kind::Certificate,
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

fn string_list(v: &Value, p: &str) -> Vec<String> {
    v.pointer(p)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// The PV offers every access mode the claim asks for (the real binder's index by modes).
fn access_modes_fit(pv: &Value, pvc: &Value) -> bool {
    let offered = string_list(pv, "/spec/accessModes");
    string_list(pvc, "/spec/accessModes")
        .iter()
        .all(|m| offered.contains(m))
}

/// Block claims bind only to block volumes, filesystem claims to filesystem volumes.
fn volume_mode_fits(pv: &Value, pvc: &Value) -> bool {
    let mode = |v: &Value| match meta_str_path(v, "/spec/volumeMode") {
        "" => "Filesystem".to_string(),
        m => m.to_string(),
    };
    mode(pv) == mode(pvc)
}

/// Parses a Kubernetes quantity of bytes (`10Gi`, `500M`, `1024`).
pub fn parse_quantity(q: &str) -> Option<u64> {
    super::faults::parse_bytes(q)
}
