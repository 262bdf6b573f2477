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
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Load-time context: the clock, nodes for round-robin placement, and a cert cache.
pub struct Ctx<'a> {
    pub now: Timestamp,
    pub file: &'a str,
    nodes: Vec<String>,
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

    fn next_node(&mut self) -> String {
        self.node_rr += 1;
        self.nodes
            .get(self.node_rr % self.nodes.len().max(1))
            .cloned()
            .unwrap_or_else(|| "sim-node-1".into())
    }

    fn next_ip(&mut self) -> String {
        self.ip += 1;
        format!("10.244.{}.{}", (self.ip / 250) % 250, self.ip % 250 + 2)
    }

    fn invalid(&self, msg: impl Into<String>) -> ScenarioError {
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
    for ns in &namespaces {
        s.insert(Kind::Namespace, json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}, "creationTimestamp": ctx.at(RelTime(-90 * 86_400))},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}
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
        build_pod(&mut ctx, s, pod)?;
    }
    for sec in &sc.secrets {
        secret(&mut ctx, s, sec)?;
    }
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
fn event(
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

fn owner_refs(owner: &OwnerSpec) -> (Value, BTreeMap<String, String>) {
    let mut labels = BTreeMap::new();
    let (kind, name, api) = match owner.kind.as_str() {
        "Deployment" => {
            let hash = name_hash(&owner.name, 10);
            labels.insert("pod-template-hash".to_string(), hash.clone());
            (
                "ReplicaSet".to_string(),
                format!("{}-{hash}", owner.name),
                "apps/v1",
            )
        }
        "Job" | "CronJob" => ("Job".to_string(), owner.name.clone(), "batch/v1"),
        k => (k.to_string(), owner.name.clone(), "apps/v1"),
    };
    labels.insert("app.kubernetes.io/name".to_string(), owner.name.clone());
    let r = json!([{"apiVersion": api, "kind": kind, "name": name, "uid": format!("00000000-0000-4000-a000-{}", name_hash(&name, 12)), "controller": true, "blockOwnerDeletion": true}]);
    (r, labels)
}

fn build_pod(ctx: &mut Ctx, s: &mut Inner, p: &PodSpec) -> Result<(), ScenarioError> {
    let uid = new_uid();
    let created = p.created.unwrap_or(RelTime(-86_400));
    let base_name = p
        .owner
        .as_ref()
        .map_or_else(|| p.name.clone(), |o| o.name.clone());
    let containers: Vec<ContainerSpec> = if p.containers.is_empty() {
        vec![ContainerSpec {
            name: base_name.clone(),
            image: p.image.clone(),
            memory_limit: None,
        }]
    } else {
        p.containers.clone()
    };
    let image_of = |c: &ContainerSpec| {
        c.image
            .clone()
            .or_else(|| p.image.clone())
            .unwrap_or_else(|| format!("registry.example.com/{}:1.4.2", c.name))
    };
    let mut labels = p.labels.clone();
    let mut meta = json!({"name": p.name, "namespace": p.namespace, "uid": uid, "creationTimestamp": ctx.at(created)});
    if let Some(o) = &p.owner {
        let (refs, extra) = owner_refs(o);
        meta["ownerReferences"] = refs;
        for (k, v) in extra {
            labels.entry(k).or_insert(v);
        }
    }
    meta["labels"] = json!(labels);
    let needs_node = !matches!(p.state, PodState::Pending);
    let node = if needs_node {
        Some(p.node.clone().unwrap_or_else(|| ctx.next_node()))
    } else {
        p.node.clone()
    };
    let ip = if needs_node
        && !matches!(
            p.state,
            PodState::ContainerCreating
                | PodState::ImagePullBackOff
                | PodState::ErrImagePull
                | PodState::CreateContainerConfigError
        ) {
        Some(ctx.next_ip())
    } else {
        None
    };
    let started = p.started.unwrap_or(created);
    let crashing = matches!(p.state, PodState::CrashLoopBackOff | PodState::OOMKilled);
    let last_restart = p.last_restart.unwrap_or(if p.state == PodState::OOMKilled {
        RelTime(-10 * 60)
    } else {
        RelTime(-2 * 60)
    });
    let restarts = if crashing {
        p.restarts.max(1)
    } else {
        p.restarts
    };
    let volumes: Vec<Value> = p.volumes.iter().enumerate().map(|(i, m)| json!({"name": format!("data-{i}"), "persistentVolumeClaim": {"claimName": m.claim, "readOnly": m.read_only}})).collect();
    let mounts: Vec<Value> = p.volumes.iter().enumerate().map(|(i, m)| json!({"name": format!("data-{i}"), "mountPath": m.mount_path, "readOnly": m.read_only})).collect();
    let spec_containers: Vec<Value> = containers.iter().enumerate().map(|(i, c)| {
        let mut cv = json!({"name": c.name, "image": image_of(c), "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}});
        if i == 0 && !mounts.is_empty() {
            cv["volumeMounts"] = json!(mounts);
        }
        if let Some(m) = &c.memory_limit {
            cv["resources"] = json!({"limits": {"memory": m.0}, "requests": {"memory": m.0}});
        }
        cv
    }).collect();
    let mut spec = json!({"containers": spec_containers, "restartPolicy": if matches!(p.owner.as_ref().map(|o| o.kind.as_str()), Some("Job" | "CronJob")) { "OnFailure" } else { "Always" },
        "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst", "serviceAccountName": "default", "schedulerName": "default-scheduler", "volumes": volumes});
    if let Some(n) = &node {
        spec["nodeName"] = json!(n);
    }
    let t_start = ctx.at(started);
    let t_created = ctx.at(created);
    let t_restart = ctx.at(last_restart);
    let exit = p.exit_code.unwrap_or(if p.state == PodState::OOMKilled {
        137
    } else {
        1
    });
    let main = containers
        .first()
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let main_image = containers.first().map(&image_of).unwrap_or_default();
    let cid = |c: &str| {
        format!(
            "containerd://{}",
            name_hash(&format!("{}{c}{uid}", p.name), 32)
        )
    };
    let running = |c: &ContainerSpec, ready: bool, restarts: u32, since: &str| json!({"name": c.name, "image": image_of(c), "imageID": format!("{}@sha256:{}", image_of(c), name_hash(&c.name, 40)), "containerID": cid(&c.name), "ready": ready, "started": true, "restartCount": restarts, "state": {"running": {"startedAt": since}}});
    let waiting = |c: &ContainerSpec, reason: &str, msg: &str, restarts: u32| json!({"name": c.name, "image": image_of(c), "imageID": "", "ready": false, "started": false, "restartCount": restarts, "state": {"waiting": {"reason": reason, "message": msg}}});
    let mut statuses: Vec<Value> = containers
        .iter()
        .map(|c| running(c, true, 0, &t_start))
        .collect();
    let mut phase = "Running";
    let mut ready = true;
    let mut pod_reason: Option<(&str, String)> = None;
    let mut scheduled = true;
    let pod_ref = format!("{}_{}({uid})", p.name, p.namespace);
    let mut events: Vec<(String, String, String, u32)> = Vec::new();
    let mut current_logs = p.logs.clone();
    let mut previous_logs = p.previous_logs.clone();
    let Some(first) = containers.first() else {
        return Err(ctx.invalid(format!("pods {}/{}: no containers", p.namespace, p.name)));
    };
    let last_term = |reason: &str, code: i32| json!({"terminated": {"exitCode": code, "reason": reason, "startedAt": ctx.at(RelTime(last_restart.0 - 300)), "finishedAt": t_restart, "containerID": cid(&main)}});
    match p.state {
        PodState::Running => {
            if restarts > 0 {
                statuses[0]["restartCount"] = json!(restarts);
                statuses[0]["lastState"] = last_term("Error", exit);
            }
        }
        PodState::OOMKilled => {
            statuses[0] = running(first, true, restarts, &t_restart);
            statuses[0]["lastState"] = last_term("OOMKilled", 137);
            if previous_logs.is_empty() {
                previous_logs = vec![
                    "loading cache into memory".into(),
                    "cache size 1.9GiB, limit 2GiB".into(),
                ];
            }
        }
        PodState::CrashLoopBackOff => {
            let msg = format!("back-off 5m0s restarting failed container={main} pod={pod_ref}");
            statuses[0] = waiting(first, "CrashLoopBackOff", &msg, restarts);
            statuses[0]["lastState"] = last_term("Error", exit);
            ready = false;
            if previous_logs.is_empty() {
                previous_logs = vec![
                    "starting server on :8080".into(),
                    "connecting to postgres://db.payments.svc:5432".into(),
                    "panic: dial tcp 10.96.14.3:5432: connect: connection refused".into(),
                    "goroutine 1 [running]:".into(),
                    "main.main()".into(),
                ];
            }
            if current_logs.is_empty() {
                current_logs = previous_logs.clone();
            }
            events.push((
                "Warning".into(),
                "BackOff".into(),
                format!("Back-off restarting failed container {main} in pod {pod_ref}"),
                restarts * 3,
            ));
        }
        PodState::ImagePullBackOff | PodState::ErrImagePull => {
            phase = "Pending";
            let reason = if p.state == PodState::ImagePullBackOff {
                "ImagePullBackOff"
            } else {
                "ErrImagePull"
            };
            statuses[0] = waiting(
                first,
                reason,
                &format!("Back-off pulling image \"{main_image}\""),
                0,
            );
            ready = false;
            events.push(("Warning".into(), "Failed".into(), format!("Failed to pull image \"{main_image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{main_image}\": not found"), 4));
            events.push((
                "Warning".into(),
                "Failed".into(),
                "Error: ImagePullBackOff".into(),
                12,
            ));
            events.push((
                "Normal".into(),
                "BackOff".into(),
                format!("Back-off pulling image \"{main_image}\""),
                12,
            ));
        }
        PodState::Pending => {
            phase = "Pending";
            statuses.clear();
            ready = false;
            scheduled = false;
            let msg = p.message.clone().unwrap_or_else(|| format!("0/{n} nodes are available: {n} Insufficient memory. preemption: 0/{n} nodes are available: {n} No preemption victims found for incoming pod.", n = ctx.nodes.len().max(1)));
            pod_reason = Some(("Unschedulable", msg.clone()));
            events.push(("Warning".into(), "FailedScheduling".into(), msg, 7));
        }
        PodState::ContainerCreating => {
            phase = "Pending";
            statuses = containers
                .iter()
                .map(|c| waiting(c, "ContainerCreating", "", 0))
                .collect();
            ready = false;
        }
        PodState::NotReady => {
            statuses[0]["ready"] = json!(false);
            ready = false;
            let ip = ip.clone().unwrap_or_default();
            events.push(("Warning".into(), "Unhealthy".into(), format!("Readiness probe failed: Get \"http://{ip}:8080/healthz\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)"), 42));
        }
        PodState::Terminating => {}
        PodState::Evicted => {
            phase = "Failed";
            ready = false;
            statuses = containers.iter().map(|c| json!({"name": c.name, "image": image_of(c), "imageID": "", "ready": false, "started": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown", "message": "The container could not be located when the pod was terminated", "startedAt": t_start, "finishedAt": t_restart}}})).collect();
            pod_reason = Some(("Evicted", p.message.clone().unwrap_or_else(|| format!("The node was low on resource: memory. Threshold quantity: 100Mi, available: 52Mi. Container {main} was using 1.2Gi, request is 0, has larger consumption of memory."))));
            events.push((
                "Warning".into(),
                "Evicted".into(),
                "The node was low on resource: memory.".into(),
                1,
            ));
        }
        PodState::CreateContainerConfigError => {
            phase = "Pending";
            let msg = p
                .message
                .clone()
                .unwrap_or_else(|| "secret \"db-credentials\" not found".into());
            statuses[0] = waiting(first, "CreateContainerConfigError", &msg, 0);
            ready = false;
            events.push((
                "Warning".into(),
                "Failed".into(),
                format!("Error: {msg}"),
                9,
            ));
        }
        PodState::Completed | PodState::Error => {
            let (ph, reason, code) = if p.state == PodState::Completed {
                ("Succeeded", "Completed", 0)
            } else {
                ("Failed", "Error", exit)
            };
            phase = ph;
            ready = false;
            statuses = containers.iter().map(|c| json!({"name": c.name, "image": image_of(c), "imageID": "", "containerID": cid(&c.name), "ready": false, "started": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": code, "reason": reason, "startedAt": t_start, "finishedAt": t_restart, "containerID": cid(&c.name)}}})).collect();
        }
    }
    let cond = |ty: &str, ok: bool, reason: Option<&str>, msg: &str| {
        let mut c = json!({"type": ty, "status": if ok { "True" } else { "False" }, "lastTransitionTime": t_created});
        if let Some(r) = reason {
            c["reason"] = json!(r);
            c["message"] = json!(msg);
        }
        c
    };
    let not_ready: Vec<&str> = statuses
        .iter()
        .filter(|c| c["ready"] != true)
        .filter_map(|c| c["name"].as_str())
        .collect();
    let nr_msg = format!("containers with unready status: [{}]", not_ready.join(" "));
    let conditions = if scheduled {
        json!([
            cond("PodReadyToStartContainers", ip.is_some(), None, ""),
            cond("Initialized", true, None, ""),
            cond(
                "Ready",
                ready,
                (!ready).then_some("ContainersNotReady"),
                &nr_msg
            ),
            cond(
                "ContainersReady",
                ready,
                (!ready).then_some("ContainersNotReady"),
                &nr_msg
            ),
            cond("PodScheduled", true, None, "")
        ])
    } else {
        let msg = pod_reason
            .as_ref()
            .map(|(_, m)| m.clone())
            .unwrap_or_default();
        json!([cond("PodScheduled", false, Some("Unschedulable"), &msg)])
    };
    let mut status = json!({"phase": phase, "conditions": conditions, "qosClass": "Burstable", "containerStatuses": statuses});
    if scheduled {
        status["hostIP"] = json!("192.168.49.2");
        status["startTime"] = json!(t_created);
    }
    if let Some(ip) = &ip {
        status["podIP"] = json!(ip);
        status["podIPs"] = json!([{"ip": ip}]);
    }
    if let Some((r, m)) = &pod_reason
        && *r == "Evicted"
    {
        status["reason"] = json!(r);
        status["message"] = json!(m);
    }
    if statuses_is_empty(&status)
        && let Some(o) = status.as_object_mut()
    {
        o.remove("containerStatuses");
    }
    let mut v = json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status});
    let mut fins = p.finalizers.clone();
    if p.state == PodState::Terminating {
        if fins.is_empty() {
            fins.push("example.com/stuck".into());
        }
        v["metadata"]["deletionTimestamp"] =
            json!(ctx.at(p.last_restart.unwrap_or(RelTime(-12 * 60))));
        v["metadata"]["deletionGracePeriodSeconds"] = json!(30);
    }
    if !fins.is_empty() {
        v["metadata"]["finalizers"] = json!(fins);
    }
    s.insert(Kind::Pod, v);
    for (ty, reason, msg, count) in events {
        let e = event(
            ctx,
            &p.namespace,
            "Pod",
            &p.name,
            &uid,
            &ty,
            &reason,
            &msg,
            count,
            Some(created.max(RelTime(-3600))),
            None,
            None,
        );
        s.insert(Kind::Event, e);
    }
    let has_logs = matches!(phase, "Running" | "Succeeded" | "Failed")
        || p.state == PodState::CrashLoopBackOff;
    if current_logs.is_empty() && has_logs {
        current_logs = vec![
            format!("{main} starting"),
            "listening on :8080".into(),
            "ready".into(),
        ];
    }
    let key = (p.namespace.clone(), p.name.clone(), main.clone());
    let at = ctx.now + SignedDuration::from_secs(started.0.min(0));
    if has_logs {
        for (i, l) in current_logs.into_iter().enumerate() {
            s.append_log(
                &key.0,
                &key.1,
                &key.2,
                at + SignedDuration::from_secs(i as i64),
                l,
            );
        }
        for c in containers.iter().skip(1) {
            s.append_log(
                &key.0,
                &key.1,
                &c.name,
                at,
                format!("{} sidecar running", c.name),
            );
        }
    }
    if !previous_logs.is_empty() && restarts > 0 {
        let prev_at = ctx.now + SignedDuration::from_secs(last_restart.0 - 60);
        let entry = s.logs.entry(key).or_default();
        entry.previous = Some(
            previous_logs
                .into_iter()
                .enumerate()
                .map(|(i, l)| (prev_at + SignedDuration::from_secs(i as i64), l))
                .collect(),
        );
    }
    if !p.files.is_empty() {
        s.exec_files
            .insert((p.namespace.clone(), p.name.clone()), p.files.clone());
    }
    Ok(())
}

fn statuses_is_empty(status: &Value) -> bool {
    status
        .get("containerStatuses")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
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
