//! Pods in the scenario's states: spec, status (container states, conditions, reasons),
//! owner references, the events the kubelet and scheduler would have recorded, and logs.

use super::ScenarioError;
use super::build::{Ctx, event, name_hash};
use super::model::*;
use crate::sim::resources::Kind;
use crate::sim::store::{Inner, new_uid};
use jiff::SignedDuration;
use serde_json::{Value, json};
use std::collections::BTreeMap;

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

pub(super) fn build_pod(ctx: &mut Ctx, s: &mut Inner, p: &PodSpec) -> Result<(), ScenarioError> {
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
