//! The simulated kubelet and workload controllers: pods created by clients go Pending ->
//! Running (unless `no-kubelet`), graceful deletions finish, crash-looping containers keep
//! crashing, and ReplicaSets/StatefulSets/DaemonSets replace deleted pods.

use super::{Controllers, meta_str_path, pod_claims, prepare_new, record_event};
use crate::sim::resources::Kind;
use crate::sim::store::{Inner, Key, finalizers, is_deleting, k8s_time, meta_str, now_str};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

impl Controllers {
    /// Returns whether timers are running (pods waiting to start or to finish stopping).
    pub(super) fn kubelet(&mut self, s: &mut Inner) -> bool {
        let no_kubelet = self.faults.no_kubelet();
        let now = Timestamp::now();
        let start_deadline = self.timing.pod_start_delay;
        let pending: Vec<Key> = s.pending_starts.keys().cloned().collect();
        // Pods blocked on a claim are retried on the next store change, not on a timer.
        let mut timers = false;
        for key in pending {
            let Some(started) = s.pending_starts.get(&key).copied() else {
                continue;
            };
            let Some(pod) = s.get(Kind::Pod, &key.0, &key.1) else {
                s.pending_starts.remove(&key);
                continue;
            };
            if is_deleting(&pod) || no_kubelet {
                continue;
            }
            if started.elapsed() < start_deadline {
                timers = true;
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
            if self.faults.unschedulable() && meta_str_path(&pod, "/spec/nodeName").is_empty() {
                unschedulable(s, &key, &pod);
                continue;
            }
            if let Some(image) = pod
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c["image"].as_str())
                .find(|i| self.faults.image_pull_fails(i))
                .map(str::to_string)
            {
                self.image_pull_fails(s, &key, &pod, &image);
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
            return false;
        }
        let stop_after = self.timing.pod_stop_delay.as_secs_f64();
        let mut gone = Vec::new();
        let mut stopping = 0;
        for pod in s.list(Kind::Pod, None) {
            if !is_deleting(&pod) || !finalizers(&pod).is_empty() {
                continue;
            }
            stopping += 1;
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
                gone.push(crate::sim::store::key_of(&pod));
            }
        }
        let busy = timers || stopping > gone.len();
        for (ns, name) in gone {
            s.remove(Kind::Pod, &ns, &name);
        }
        busy
    }

    /// The image cannot be pulled: the pod is scheduled, its containers wait in
    /// `ErrImagePull`, then (next pass) `ImagePullBackOff`, with the kubelet's events.
    fn image_pull_fails(&mut self, s: &mut Inner, key: &Key, pod: &Value, image: &str) {
        let waiting = meta_str_path(pod, "/status/containerStatuses/0/state/waiting/reason");
        let (reason, message, event_reason) = match waiting {
            "" => (
                "ErrImagePull",
                format!(
                    "failed to pull and unpack image \"docker.io/library/{image}\": failed to resolve reference \"docker.io/library/{image}\": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed"
                ),
                "Failed",
            ),
            "ErrImagePull" => (
                "ImagePullBackOff",
                format!("Back-off pulling image \"{image}\""),
                "BackOff",
            ),
            _ => return,
        };
        let node = match meta_str_path(pod, "/spec/nodeName") {
            "" => s
                .list(Kind::Node, None)
                .first()
                .map(|n| meta_str(n, "name").to_string())
                .unwrap_or_else(|| "node-1".into()),
            n => n.to_string(),
        };
        let t = now_str();
        let statuses: Vec<Value> = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|c| json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": false, "started": false, "restartCount": 0,
                "state": {"waiting": {"reason": reason, "message": message}}}))
            .collect();
        let cond = |ty: &str, ok: bool| {
            let mut c = json!({"type": ty, "status": if ok { "True" } else { "False" }, "lastTransitionTime": t});
            if !ok && ty != "PodReadyToStartContainers" {
                c["reason"] = json!("ContainersNotReady");
                c["message"] = json!(format!(
                    "containers with unready status: [{}]",
                    statuses
                        .iter()
                        .filter_map(|c| c["name"].as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
            }
            c
        };
        let updated = s.modify(Kind::Pod, &key.0, &key.1, |v| {
            v["spec"]["nodeName"] = json!(node);
            v["status"] = json!({
                "phase": "Pending", "hostIP": "192.168.49.2", "startTime": t, "qosClass": "BestEffort",
                "conditions": [cond("PodReadyToStartContainers", true), cond("Initialized", true), cond("Ready", false), cond("ContainersReady", false), cond("PodScheduled", true)],
                "containerStatuses": statuses,
            });
        });
        if let Some(p) = updated {
            let text = if reason == "ErrImagePull" {
                format!("Failed to pull image \"{image}\": {message}")
            } else {
                message.clone()
            };
            let ty = if reason == "ErrImagePull" {
                "Warning"
            } else {
                "Normal"
            };
            record_event(s, &p, "Pod", ty, event_reason, &text, "kubelet");
        }
    }

    /// Crash-looping containers keep crashing every `crashloop_interval`.
    pub(super) fn crash_loops(&mut self, s: &mut Inner) {
        let Some(every) = self.timing.crashloop_interval else {
            return;
        };
        let scan_every = (every / 4).clamp(Duration::from_millis(50), Duration::from_secs(30));
        if self.last_crash_scan.elapsed() < scan_every {
            return;
        }
        self.last_crash_scan = Instant::now();
        let mut looping = HashSet::new();
        for pod in s.list(Kind::Pod, None) {
            if meta_str_path(&pod, "/status/containerStatuses/0/state/waiting/reason")
                == "CrashLoopBackOff"
                && !is_deleting(&pod)
            {
                looping.insert(crate::sim::store::key_of(&pod));
            }
        }
        self.crash_seen.retain(|k, _| looping.contains(k));
        for key in looping {
            let since = *self
                .crash_seen
                .entry(key.clone())
                .or_insert_with(Instant::now);
            if since.elapsed() >= every {
                let code = s
                    .get(Kind::Pod, &key.0, &key.1)
                    .and_then(|p| {
                        p.pointer("/status/containerStatuses/0/lastState/terminated/exitCode")
                            .and_then(Value::as_i64)
                    })
                    .unwrap_or(1);
                crash_container(s, &key.0, &key.1, "Error", code as i32);
                self.crash_seen.insert(key, Instant::now());
            }
        }
    }

    /// ReplicaSets, StatefulSets and DaemonSets replace their pods: a StatefulSet's pod comes
    /// back under the same name, the others under a new suffix; all start Pending.
    pub(super) fn workload_controllers(&mut self, s: &mut Inner) {
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
            s.pending_starts.insert(
                crate::sim::store::key_of(&created),
                std::time::Instant::now(),
            );
        }
    }
}

/// The pod's first container crashes: restart count +1, last state terminated with
/// `reason`/`exit_code`, now waiting in CrashLoopBackOff; current logs become previous; a BackOff
/// event is recorded.
pub fn crash_container(
    s: &mut Inner,
    namespace: &str,
    name: &str,
    reason: &str,
    exit_code: i32,
) -> Option<Arc<Value>> {
    let now = now_str();
    let container = s
        .get(Kind::Pod, namespace, name)?
        .pointer("/spec/containers/0/name")?
        .as_str()?
        .to_string();
    let pod = s.modify(Kind::Pod, namespace, name, |v| {
        let restarts = v.pointer("/status/containerStatuses/0/restartCount").and_then(Value::as_i64).unwrap_or(0) + 1;
        let started = v
            .pointer("/status/containerStatuses/0/state/running/startedAt")
            .or_else(|| v.pointer("/status/containerStatuses/0/lastState/terminated/finishedAt"))
            .cloned()
            .unwrap_or(json!(now));
        v["status"]["containerStatuses"][0] = json!({
            "name": container, "image": v.pointer("/spec/containers/0/image").cloned().unwrap_or(json!("")), "imageID": "",
            "ready": false, "started": false, "restartCount": restarts,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off 5m0s restarting failed container={container} pod={name}")}},
            "lastState": {"terminated": {"exitCode": exit_code, "reason": reason, "startedAt": started, "finishedAt": now}},
        });
        if let Some(conds) = v.pointer_mut("/status/conditions").and_then(Value::as_array_mut) {
            for c in conds.iter_mut().filter(|c| c["type"] == "Ready" || c["type"] == "ContainersReady") {
                c["status"] = json!("False");
                c["reason"] = json!("ContainersNotReady");
            }
        }
    })?;
    // The crashed run's log becomes the previous log (a crash-looping container shows it as
    // its current log too, as the kubelet serves the last attempt's output).
    s.rotate_logs(namespace, name, &container);
    let prev: Vec<(Timestamp, String)> = s
        .logs
        .get(&(namespace.to_string(), name.to_string(), container.clone()))
        .and_then(|l| l.previous.clone())
        .unwrap_or_default();
    for (at, line) in prev {
        s.append_log(namespace, name, &container, at, line);
    }
    record_event(
        s,
        &pod,
        "Pod",
        "Warning",
        "BackOff",
        &format!("Back-off restarting failed container {container} in pod {name}"),
        "kubelet",
    );
    Some(pod)
}

/// The scheduler cannot place the pod: every node carries a taint it does not tolerate.
fn unschedulable(s: &mut Inner, key: &Key, pod: &Value) {
    let nodes = s.list(Kind::Node, None).len().max(1);
    let msg = format!(
        "0/{nodes} nodes are available: {nodes} node(s) had untolerated taint {{node.kubernetes.io/disk-pressure: }}. preemption: 0/{nodes} nodes are available: {nodes} Preemption is not helpful for scheduling."
    );
    if pod
        .pointer("/status/conditions/0/message")
        .and_then(Value::as_str)
        == Some(msg.as_str())
    {
        return;
    }
    let cond = json!([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": msg, "lastTransitionTime": now_str()}]);
    let p = s.modify(Kind::Pod, &key.0, &key.1, |v| {
        v["status"]["conditions"] = cond;
    });
    if let Some(p) = p {
        record_event(
            s,
            &p,
            "Pod",
            "Warning",
            "FailedScheduling",
            &msg,
            "default-scheduler",
        );
    }
}
