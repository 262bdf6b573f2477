//! Turns a [`Scenario`] into stored objects: nodes, namespaces, StorageClasses, PVs with real
//! volume directories, PVCs, pods in the requested states (with their statuses, events and
//! logs), TLS secrets with real certificates, and events.

use super::ScenarioError;
use super::model::*;
use crate::sim::controllers::{PV_PROTECTION, PVC_PROTECTION};
use crate::sim::resources::Kind;
use crate::sim::store::{Inner, k8s_time, new_uid};
use crate::sim::tls;
use crate::sim::volumes::VolumeStore;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

/// Load-time context: the clock, nodes for round-robin placement, and a cert cache.
pub struct Ctx<'a> {
    pub now: Timestamp,
    pub file: &'a str,
    pub(super) nodes: Vec<String>,
    node_rr: usize,
    ip: u32,
    cert_cache: HashMap<(i64, String), tls::PemPair>,
    event_seq: u64,
    sc_policy: HashMap<String, String>,
}

impl Ctx<'_> {
    pub fn at(&self, t: RelTime) -> String {
        k8s_time(self.now + SignedDuration::from_secs(t.0))
    }

    pub(super) fn next_node(&mut self) -> String {
        self.node_rr += 1;
        self.nodes
            .get(self.node_rr % self.nodes.len().max(1))
            .cloned()
            .unwrap_or_else(|| "sim-node-1".into())
    }

    pub(super) fn next_ip(&mut self) -> String {
        self.ip += 1;
        format!("10.244.{}.{}", (self.ip / 250) % 250, self.ip % 250 + 2)
    }

    pub(super) fn invalid(&self, msg: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.to_string(),
            message: msg.into(),
        }
    }
}

/// A short deterministic hash in the alphabet Kubernetes uses for generated names.
pub fn name_hash(s: &str, len: usize) -> String {
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h: u64 = 0xcbf29ce484222325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    (0..len)
        .map(|_| {
            let c = ALPHA[(h % ALPHA.len() as u64) as usize] as char;
            h = (h / ALPHA.len() as u64) ^ h.rotate_left(17);
            c
        })
        .collect()
}

pub fn build(
    sc: &Scenario,
    s: &mut Inner,
    volumes: &VolumeStore,
    now: Timestamp,
    file: &str,
) -> Result<(), ScenarioError> {
    let mut nodes = sc.nodes.clone();
    if nodes.is_empty() && sc.generate.as_ref().is_none_or(|g| g.nodes == 0) {
        nodes.push(NodeSpec {
            name: "sim-node-1".into(),
            ready: true,
            roles: vec!["control-plane".into()],
            ..NodeSpec::default()
        });
    }
    let mut ctx = Ctx {
        now,
        file,
        nodes: nodes
            .iter()
            .filter(|n| n.ready)
            .map(|n| n.name.clone())
            .collect(),
        node_rr: 0,
        ip: 10,
        cert_cache: HashMap::new(),
        event_seq: 0,
        sc_policy: HashMap::new(),
    };
    let mut sc = sc.clone();
    if let Some(g) = sc.generate.clone() {
        super::generate::expand(&g, &mut sc, &mut nodes)?;
        ctx.nodes = nodes
            .iter()
            .filter(|n| n.ready)
            .map(|n| n.name.clone())
            .collect();
    }
    if ctx.nodes.is_empty() {
        ctx.nodes = nodes.iter().map(|n| n.name.clone()).collect();
    }
    for n in &nodes {
        s.insert(Kind::Node, node(&ctx, n));
    }
    let mut namespaces: BTreeSet<String> = ["default", "kube-system", "kube-public"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    namespaces.extend(sc.namespaces.iter().cloned());
    namespaces.extend(sc.pods.iter().map(|p| p.namespace.clone()));
    namespaces.extend(sc.pvcs.iter().map(|p| p.namespace.clone()));
    namespaces.extend(sc.secrets.iter().map(|p| p.namespace.clone()));
    namespaces.extend(sc.events.iter().map(|p| p.namespace.clone()));
    namespaces.extend(sc.ingresses.iter().map(|p| p.namespace.clone()));
    namespaces.extend(sc.certificates.iter().map(|p| p.namespace.clone()));
    namespaces.extend(sc.namespace_labels.keys().cloned());
    namespaces.extend(sc.resource_quotas.iter().map(|q| q.namespace.clone()));
    for ns in &namespaces {
        let mut labels = json!({"kubernetes.io/metadata.name": ns});
        for (k, v) in sc.namespace_labels.get(ns).into_iter().flatten() {
            if k == crate::sim::admission::ENFORCE_LABEL
                && !matches!(v.as_str(), "privileged" | "baseline" | "restricted")
            {
                return Err(ctx.invalid(format!(
                    "namespaceLabels {ns}: {k} must be privileged, baseline or restricted, not {v:?}"
                )));
            }
            labels[k] = json!(v);
        }
        s.insert(Kind::Namespace, json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "labels": labels, "creationTimestamp": ctx.at(RelTime(-90 * 86_400))},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}
        }));
    }
    for q in &sc.resource_quotas {
        for (k, v) in &q.hard {
            if crate::sim::faults::parse_bytes(v).is_none() {
                return Err(ctx.invalid(format!(
                    "resourceQuotas {}/{}: {k}: {v:?} is not a quantity",
                    q.namespace, q.name
                )));
            }
        }
        s.insert(Kind::ResourceQuota, json!({
            "apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": q.name, "namespace": q.namespace, "creationTimestamp": ctx.at(RelTime(-30 * 86_400))},
            "spec": {"hard": q.hard},
        }));
    }
    for c in &sc.storage_classes {
        let policy = c.reclaim_policy.clone().unwrap_or_else(|| "Delete".into());
        if policy != "Delete" && policy != "Retain" {
            return Err(ctx.invalid(format!(
                "storageClasses {}: reclaimPolicy must be Delete or Retain, not {policy:?}",
                c.name
            )));
        }
        ctx.sc_policy.insert(c.name.clone(), policy.clone());
        let mut annotations = serde_json::Map::new();
        if c.default {
            annotations.insert(
                "storageclass.kubernetes.io/is-default-class".into(),
                json!("true"),
            );
        }
        s.insert(Kind::StorageClass, json!({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": c.name, "annotations": annotations, "creationTimestamp": ctx.at(RelTime(-90 * 86_400))},
            "provisioner": c.provisioner.clone().unwrap_or_else(|| "rancher.io/local-path".into()),
            "reclaimPolicy": policy,
            "volumeBindingMode": c.binding_mode.clone().unwrap_or_else(|| "Immediate".into()),
            "allowVolumeExpansion": c.allow_expansion,
        }));
    }
    let default_sc = sc
        .storage_classes
        .iter()
        .find(|c| c.default)
        .map(|c| c.name.clone());
    for pv in &sc.volumes {
        static_pv(&ctx, s, volumes, pv)?;
    }
    let mut pvc_uids: HashMap<(String, String), String> = HashMap::new();
    for pvc in &sc.pvcs {
        let uid = claim(&ctx, s, volumes, pvc, default_sc.as_deref())?;
        pvc_uids.insert((pvc.namespace.clone(), pvc.name.clone()), uid);
    }
    for pod in &sc.pods {
        for m in &pod.volumes {
            if !pvc_uids.contains_key(&(pod.namespace.clone(), m.claim.clone())) {
                return Err(ctx.invalid(format!(
                    "pods {}/{}: volume claim {:?} is not a PVC of the scenario in namespace {}",
                    pod.namespace, pod.name, m.claim, pod.namespace
                )));
            }
        }
        super::pods::build_pod(&mut ctx, s, pod)?;
    }
    for sec in &sc.secrets {
        secret(&mut ctx, s, sec)?;
    }
    super::certs::build(&ctx, s, &sc)?;
    for ev in &sc.events {
        let (kind, name) = ev.object.split_once('/').ok_or_else(|| {
            ctx.invalid(format!("events: object {:?} must be Kind/name", ev.object))
        })?;
        let uid = match Kind::from_plural("", &format!("{}s", kind.to_lowercase())) {
            Some(k) => s
                .get(k, &ev.namespace, name)
                .map(|o| crate::sim::store::meta_str(&o, "uid").to_string())
                .unwrap_or_default(),
            None => String::new(),
        };
        let e = event(
            &mut ctx,
            &ev.namespace,
            kind,
            name,
            &uid,
            ev.event_type.as_deref().unwrap_or("Normal"),
            &ev.reason,
            &ev.message,
            ev.count.unwrap_or(1),
            ev.first,
            ev.last,
            ev.component.as_deref(),
        );
        s.insert(Kind::Event, e);
    }
    Ok(())
}

fn node(ctx: &Ctx, n: &NodeSpec) -> Value {
    let t = ctx.at(n.created.unwrap_or(RelTime(-120 * 86_400)));
    let mut labels = serde_json::Map::new();
    labels.insert("kubernetes.io/hostname".into(), json!(n.name));
    labels.insert("kubernetes.io/os".into(), json!("linux"));
    for r in &n.roles {
        labels.insert(format!("node-role.kubernetes.io/{r}"), json!(""));
    }
    let cond = |ty: &str, st: &str, reason: &str| json!({"type": ty, "status": st, "reason": reason, "message": reason, "lastHeartbeatTime": ctx.at(RelTime(-10)), "lastTransitionTime": t});
    let (ready, reason) = if n.ready {
        ("True", "KubeletReady")
    } else {
        ("Unknown", "NodeStatusUnknown")
    };
    let cpu = n.cpu.clone().unwrap_or_else(|| "8".into());
    let mem = n.memory.clone().unwrap_or_else(|| "32Gi".into());
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": n.name, "labels": labels, "creationTimestamp": t},
        "spec": {"podCIDR": "10.244.0.0/24"},
        "status": {
            "capacity": {"cpu": cpu, "memory": mem, "pods": "110", "ephemeral-storage": "100Gi"},
            "allocatable": {"cpu": cpu, "memory": mem, "pods": "110", "ephemeral-storage": "100Gi"},
            "conditions": [cond("MemoryPressure", "False", "KubeletHasSufficientMemory"), cond("DiskPressure", "False", "KubeletHasNoDiskPressure"), cond("PIDPressure", "False", "KubeletHasSufficientPID"), cond("Ready", ready, reason)],
            "addresses": [{"type": "InternalIP", "address": "192.168.49.2"}, {"type": "Hostname", "address": n.name}],
            "nodeInfo": {"machineID": name_hash(&n.name, 32), "systemUUID": name_hash(&n.name, 16), "bootID": name_hash(&n.name, 12), "kernelVersion": "6.1.0-sim", "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://1.7.22", "kubeletVersion": "v1.32.0", "kubeProxyVersion": "v1.32.0", "operatingSystem": "linux", "architecture": "amd64"}
        }
    })
}

fn access_modes(m: &[String]) -> Value {
    if m.is_empty() {
        json!(["ReadWriteOnce"])
    } else {
        json!(m)
    }
}

fn static_pv(
    ctx: &Ctx,
    s: &mut Inner,
    volumes: &VolumeStore,
    pv: &PvSpec,
) -> Result<(), ScenarioError> {
    let phase = pv.phase.clone().unwrap_or_else(|| "Available".into());
    let claim_ref = match &pv.claim {
        Some(c) => {
            let (ns, name) = c.split_once('/').ok_or_else(|| {
                ctx.invalid(format!(
                    "volumes {}: claim {c:?} must be namespace/name",
                    pv.name
                ))
            })?;
            let mut r = json!({"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": ns, "name": name});
            if phase == "Released" || phase == "Failed" {
                r["uid"] = json!(new_uid());
            }
            Some(r)
        }
        None if phase == "Released" => {
            return Err(ctx.invalid(format!(
                "volumes {}: a Released volume needs `claim: namespace/name`",
                pv.name
            )));
        }
        None => None,
    };
    let mut v = json!({
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": pv.name, "finalizers": [PV_PROTECTION], "creationTimestamp": ctx.at(pv.created.unwrap_or(RelTime(-60 * 86_400)))},
        "spec": {"capacity": {"storage": pv.size.0}, "accessModes": access_modes(&pv.access_modes),
            "persistentVolumeReclaimPolicy": pv.reclaim_policy.clone().unwrap_or_else(|| "Retain".into()),
            "storageClassName": pv.storage_class.clone().unwrap_or_default(), "volumeMode": "Filesystem",
            "hostPath": {"path": format!("/var/lib/ondeck-sim/{}", pv.name), "type": "DirectoryOrCreate"}},
        "status": {"phase": phase},
    });
    if let Some(r) = claim_ref {
        v["spec"]["claimRef"] = r;
    }
    volumes
        .create(&pv.name, &pv.contents.clone().unwrap_or_default())
        .map_err(|e| {
            ctx.invalid(format!(
                "volumes {}: cannot create the volume directory: {e}",
                pv.name
            ))
        })?;
    s.insert(Kind::PersistentVolume, v);
    Ok(())
}

fn claim(
    ctx: &Ctx,
    s: &mut Inner,
    volumes: &VolumeStore,
    pvc: &PvcSpec,
    default_sc: Option<&str>,
) -> Result<String, ScenarioError> {
    let uid = new_uid();
    let class = pvc
        .storage_class
        .clone()
        .or_else(|| default_sc.map(String::from))
        .unwrap_or_default();
    if !class.is_empty()
        && !ctx.sc_policy.contains_key(&class)
        && s.get(Kind::StorageClass, "", &class).is_none()
    {
        return Err(ctx.invalid(format!(
            "pvcs {}/{}: storageClass {class:?} is not in the scenario",
            pvc.namespace, pvc.name
        )));
    }
    let policy = pvc
        .reclaim_policy
        .clone()
        .or_else(|| ctx.sc_policy.get(&class).cloned())
        .unwrap_or_else(|| "Delete".into());
    let phase = pvc.phase.clone().unwrap_or_else(|| "Bound".into());
    if !matches!(phase.as_str(), "Bound" | "Pending" | "Lost") {
        return Err(ctx.invalid(format!(
            "pvcs {}/{}: phase must be Bound, Pending or Lost, not {phase:?}",
            pvc.namespace, pvc.name
        )));
    }
    let created = ctx.at(pvc.created.unwrap_or(RelTime(-30 * 86_400)));
    let pv_name = pvc.volume.clone().unwrap_or_else(|| format!("pvc-{uid}"));
    let modes = access_modes(&pvc.access_modes);
    let mut v = json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": pvc.name, "namespace": pvc.namespace, "uid": uid, "finalizers": [PVC_PROTECTION], "creationTimestamp": created,
            "labels": pvc.labels},
        "spec": {"accessModes": modes, "resources": {"requests": {"storage": pvc.size.0}}, "storageClassName": class, "volumeMode": "Filesystem"},
        "status": {"phase": phase},
    });
    if class.is_empty()
        && let Some(spec) = v["spec"].as_object_mut()
    {
        spec.remove("storageClassName");
    }
    if let Some(t) = pvc.terminating {
        v["metadata"]["deletionTimestamp"] = json!(ctx.at(t));
        v["metadata"]["deletionGracePeriodSeconds"] = json!(0);
    }
    match phase.as_str() {
        "Bound" => {
            v["spec"]["volumeName"] = json!(pv_name);
            v["metadata"]["annotations"] = json!({"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
                "volume.kubernetes.io/storage-provisioner": "rancher.io/local-path"});
            v["status"] = json!({"phase": "Bound", "capacity": {"storage": pvc.size.0}, "accessModes": modes});
            volumes
                .create(&pv_name, &pvc.contents.clone().unwrap_or_default())
                .map_err(|e| {
                    ctx.invalid(format!(
                        "pvcs {}/{}: cannot create the volume directory: {e}",
                        pvc.namespace, pvc.name
                    ))
                })?;
            s.insert(Kind::PersistentVolume, json!({
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": pv_name, "finalizers": [PV_PROTECTION], "creationTimestamp": created,
                    "annotations": {"pv.kubernetes.io/provisioned-by": "rancher.io/local-path"}},
                "spec": {"capacity": {"storage": pvc.size.0}, "accessModes": modes, "persistentVolumeReclaimPolicy": policy,
                    "storageClassName": class, "volumeMode": "Filesystem",
                    "claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": pvc.namespace, "name": pvc.name, "uid": uid},
                    "hostPath": {"path": format!("/var/lib/ondeck-sim/{pv_name}"), "type": "DirectoryOrCreate"}},
                "status": {"phase": "Bound"},
            }));
        }
        "Lost" => {
            v["spec"]["volumeName"] = json!(pv_name);
        }
        _ => {}
    }
    s.insert(Kind::PersistentVolumeClaim, v);
    Ok(uid)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn event(
    ctx: &mut Ctx,
    ns: &str,
    kind: &str,
    name: &str,
    uid: &str,
    ty: &str,
    reason: &str,
    message: &str,
    count: u32,
    first: Option<RelTime>,
    last: Option<RelTime>,
    component: Option<&str>,
) -> Value {
    ctx.event_seq += 1;
    let last = last.unwrap_or(RelTime(-60));
    let first = first.unwrap_or(RelTime(last.0 - i64::from(count.saturating_sub(1)) * 30));
    let api = match kind {
        "StorageClass" => "storage.k8s.io/v1",
        "Deployment" | "StatefulSet" | "ReplicaSet" | "DaemonSet" => "apps/v1",
        "Job" => "batch/v1",
        _ => "v1",
    };
    let component = component.unwrap_or(match reason {
        "FailedScheduling" | "Scheduled" => "default-scheduler",
        _ => "kubelet",
    });
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("{name}.{:016x}", ctx.event_seq.wrapping_mul(0x9e3779b97f4a7c15) ^ 0x17), "namespace": ns, "creationTimestamp": ctx.at(first)},
        "involvedObject": {"kind": kind, "namespace": ns, "name": name, "uid": uid, "apiVersion": api},
        "reason": reason, "message": message, "type": ty, "count": count.max(1),
        "firstTimestamp": ctx.at(first), "lastTimestamp": ctx.at(last),
        "source": {"component": component},
        "reportingComponent": component, "reportingInstance": "",
    })
}

fn secret(ctx: &mut Ctx, s: &mut Inner, sec: &SecretSpec) -> Result<(), ScenarioError> {
    let ty = sec
        .secret_type
        .clone()
        .unwrap_or_else(|| "kubernetes.io/tls".into());
    let mut data = serde_json::Map::new();
    for (k, v) in &sec.data {
        data.insert(k.clone(), json!(tls::base64(v.as_bytes())));
    }
    let mut annotations = serde_json::Map::new();
    if ty == "kubernetes.io/tls" {
        let expires = sec.expires.unwrap_or(RelTime(90 * 86_400));
        let issued = sec
            .issued
            .unwrap_or(RelTime((expires.0 - 90 * 86_400).min(-86_400)));
        let cn = sec.common_name.clone().unwrap_or_else(|| {
            sec.dns_names
                .first()
                .cloned()
                .unwrap_or_else(|| format!("{}.{}.svc", sec.name, sec.namespace))
        });
        let dns = if sec.dns_names.is_empty() {
            vec![cn.clone()]
        } else {
            sec.dns_names.clone()
        };
        let now = ctx.now.as_second();
        // Round to the hour so a generated scenario can share certificates.
        let key = (((now + expires.0) / 3600), cn.clone());
        let pair = match ctx.cert_cache.get(&key) {
            Some(p) => p.clone(),
            None => {
                let p = tls::tls_secret_cert(&cn, &dns, now + issued.0, now + expires.0).map_err(
                    |e| ctx.invalid(format!("secrets {}/{}: {e}", sec.namespace, sec.name)),
                )?;
                ctx.cert_cache.insert(key, p.clone());
                p
            }
        };
        data.insert(
            "tls.crt".into(),
            json!(tls::base64(pair.cert_pem.as_bytes())),
        );
        data.insert(
            "tls.key".into(),
            json!(tls::base64(pair.key_pem.as_bytes())),
        );
        annotations.insert("cert-manager.io/common-name".into(), json!(cn));
    }
    s.insert(Kind::Secret, json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": sec.name, "namespace": sec.namespace, "annotations": annotations, "creationTimestamp": ctx.at(sec.created.unwrap_or(RelTime(-30 * 86_400)))},
        "type": ty, "data": data,
    }));
    Ok(())
}
