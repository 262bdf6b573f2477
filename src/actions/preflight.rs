//! The preflight: everything the guarded flows decide on, fetched fresh from the API server
//! at the moment of the action (never from a cached pane): the claim with its uid and
//! resourceVersion, its PV and reclaim policy, its StorageClass, every pod that mounts it,
//! and the permissions each step needs (SelfSubjectAccessReview).

use super::executor::Executor;
use super::target::KubeTarget;
use super::{ActionError, PvcRef, Result};
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;

/// A pod that mounts the claim.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PodMount {
    pub pod: String,
    pub phase: String,
    /// The pod is being deleted.
    pub terminating: bool,
    /// The node it runs on.
    pub node: Option<String>,
    /// First container that mounts the volume, and where.
    pub container: Option<String>,
    pub mount_path: Option<String>,
}

impl PodMount {
    /// Running and not being deleted: a source for a backup over exec.
    pub fn can_exec(&self) -> bool {
        self.phase == "Running" && !self.terminating && self.mount_path.is_some()
    }

    /// Holds the claim in use (the pvc-protection controller's view: not terminated).
    pub fn holds_claim(&self) -> bool {
        !matches!(self.phase.as_str(), "Succeeded" | "Failed")
    }
}

/// One permission the flows need.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PermissionCheck {
    pub verb: &'static str,
    pub resource: &'static str,
    pub allowed: bool,
    pub reason: String,
}

impl PermissionCheck {
    pub fn label(&self) -> String {
        format!("{} {}", self.verb, self.resource)
    }
}

/// What the preflight found. Everything comes from one fresh round of requests.
#[derive(Debug, Clone)]
pub struct PvcPreflight {
    pub target: KubeTarget,
    pub pvc_ref: PvcRef,
    pub uid: String,
    pub resource_version: String,
    pub phase: String,
    pub capacity: Option<String>,
    pub storage_class: Option<String>,
    pub volume_name: Option<String>,
    pub pv_reclaim_policy: Option<String>,
    pub pv_phase: Option<String>,
    /// Why the PV could not be read (forbidden, missing): its reclaim policy is unknown.
    pub pv_error: Option<String>,
    pub finalizers: Vec<String>,
    pub deletion_timestamp: Option<String>,
    pub mounted_by: Vec<PodMount>,
    pub permissions: Vec<PermissionCheck>,
    pub fetched_at: jiff::Timestamp,
    pub pvc: PersistentVolumeClaim,
    pub pv: Option<PersistentVolume>,
    pub storage_class_object: Option<StorageClass>,
}

/// Which guarded operation a permission check is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Backup,
    Delete,
    Rescue,
}

impl PvcPreflight {
    pub fn is_terminating(&self) -> bool {
        self.deletion_timestamp.is_some()
    }

    /// Pods that keep the claim in use.
    pub fn users(&self) -> impl Iterator<Item = &PodMount> {
        self.mounted_by.iter().filter(|m| m.holds_claim())
    }

    /// A pod to stream the backup from, if one runs with the volume mounted.
    pub fn exec_source(&self) -> Option<&PodMount> {
        self.mounted_by.iter().find(|m| m.can_exec())
    }

    pub fn reclaim_is_delete(&self) -> bool {
        self.pv_reclaim_policy.as_deref() == Some("Delete")
    }

    fn needs(&self, op: Operation, retain: bool) -> Vec<(&'static str, &'static str)> {
        let mut v = vec![("get", "persistentvolumeclaims"), ("create", "pods/exec")];
        if self.exec_source().is_none() {
            v.push(("create", "pods"));
            v.push(("delete", "pods"));
        }
        let patch_pv = self.reclaim_is_delete() && (op == Operation::Rescue || retain);
        if patch_pv {
            v.push(("patch", "persistentvolumes"));
        }
        if op == Operation::Delete {
            v.push(("delete", "persistentvolumeclaims"));
        }
        v
    }

    /// Permissions `op` needs that the authorizer denied, with its reason.
    pub fn missing_permissions(&self, op: Operation, retain: bool) -> Vec<&PermissionCheck> {
        let needs = self.needs(op, retain);
        self.permissions
            .iter()
            .filter(|p| !p.allowed && needs.contains(&(p.verb, p.resource)))
            .collect()
    }

    /// Why `op` must not run, in plain words; empty when it may.
    pub fn refusals(&self, op: Operation, allow_in_use: bool, retain: bool) -> Vec<String> {
        let mut out = Vec::new();
        if op == Operation::Delete {
            let users: Vec<String> = self
                .users()
                .map(|m| format!("{} ({})", m.pod, m.phase))
                .collect();
            if !users.is_empty() && !allow_in_use {
                out.push(format!(
                    "{} is in use by pod {}; deleting it would leave it Terminating until the pod stops (pass --allow-in-use to override)",
                    self.pvc_ref,
                    users.join(", ")
                ));
            }
            if self.is_terminating() {
                out.push(format!(
                    "{} is already being deleted (Terminating); use `ondeck pvc rescue`",
                    self.pvc_ref
                ));
            }
        }
        if op == Operation::Rescue && self.exec_source().is_none() {
            out.push(format!(
                "no running pod mounts {}; nothing to rescue through (use `ondeck pvc backup`)",
                self.pvc_ref
            ));
        }
        if op != Operation::Backup {
            if let Some(e) = &self.pv_error {
                out.push(format!(
                    "the PV's reclaim policy is unknown ({e}): deleting could destroy the data"
                ));
            } else if self.volume_name.is_some() && self.pv_reclaim_policy.is_none() {
                out.push(
                    "the PV's reclaim policy is unknown (the PV does not say): deleting could \
                     destroy the data"
                        .into(),
                );
            }
        }
        if self.volume_name.is_none() && op != Operation::Backup {
            out.push(format!("{} is not bound to a PV", self.pvc_ref));
        }
        for p in self.missing_permissions(op, retain) {
            let why = if p.reason.is_empty() {
                String::new()
            } else {
                format!(": {}", p.reason)
            };
            out.push(format!("permission missing: {}{why}", p.label()));
        }
        out
    }

    /// The plan shown before anything happens.
    pub fn plan_lines(&self, op: Operation, retain: bool) -> Vec<String> {
        let mut lines = vec![
            format!("target     {}", self.target),
            format!(
                "claim      {} uid={} resourceVersion={}",
                self.pvc_ref, self.uid, self.resource_version
            ),
            format!(
                "status     {}{}  capacity {}  storageClass {}",
                self.phase,
                if self.is_terminating() {
                    " (Terminating)"
                } else {
                    ""
                },
                self.capacity.as_deref().unwrap_or("?"),
                self.storage_class.as_deref().unwrap_or("-")
            ),
            format!(
                "volume     {}  reclaimPolicy {}  phase {}",
                self.volume_name.as_deref().unwrap_or("-"),
                match (&self.pv_reclaim_policy, &self.volume_name) {
                    (Some(p), _) => p.as_str(),
                    (None, Some(_)) => "unknown",
                    (None, None) => "-",
                },
                self.pv_phase.as_deref().unwrap_or("-")
            ),
            format!("finalizers {}", self.finalizers.join(", ")),
        ];
        if self.mounted_by.is_empty() {
            lines.push("used by    nobody (UNUSED)".into());
        }
        for m in &self.mounted_by {
            lines.push(format!(
                "used by    pod {} ({}{}) at {}",
                m.pod,
                m.phase,
                if m.terminating { ", terminating" } else { "" },
                m.mount_path.as_deref().unwrap_or("?")
            ));
        }
        let source = match self.exec_source() {
            Some(m) => format!("through pod {}", m.pod),
            None => "through a temporary read-only helper pod".into(),
        };
        lines.push(format!(
            "1. back up manifests and data {source}, verify the archive"
        ));
        if self.reclaim_is_delete() && (retain || op == Operation::Rescue) {
            lines.push(format!(
                "2. patch PV {} reclaimPolicy Delete -> Retain",
                self.volume_name.as_deref().unwrap_or("-")
            ));
        } else if self.reclaim_is_delete() {
            lines.push(
                "2. PV keeps reclaimPolicy Delete: deleting the claim DELETES THE DATA".into(),
            );
        } else {
            // Only a policy read from the PV is stated; anything else says unknown (and
            // `refusals` refuses the delete).
            lines.push(match (self.pv_reclaim_policy.as_deref(), &self.volume_name) {
                (Some("Retain"), _) => {
                    "2. PV reclaimPolicy already Retain: the data stays on the PV".into()
                }
                (Some(other), _) => format!(
                    "2. PV reclaimPolicy {other}: what happens to the data is up to it"
                ),
                (None, None) => "2. no PV is bound: no reclaim policy applies".into(),
                (None, Some(_)) => format!(
                    "2. PV reclaimPolicy UNKNOWN ({}): refused, deleting could destroy the data",
                    self.pv_error.as_deref().unwrap_or("the PV does not say")
                ),
            });
        }
        if op == Operation::Delete {
            lines.push(format!("3. type {} to confirm", self.pvc_ref));
            lines.push(
                "4. server dry-run, then delete with uid + resourceVersion preconditions".into(),
            );
        }
        lines.into_iter().map(|l| super::sanitize(&l)).collect()
    }
}

/// The claim names of a pod's volumes, matched with where containers mount them.
pub fn pod_mount_of(pod: &Pod, claim: &str) -> Option<PodMount> {
    let spec = pod.spec.as_ref()?;
    let vol = spec.volumes.as_ref()?.iter().find(|v| {
        v.persistent_volume_claim
            .as_ref()
            .is_some_and(|c| c.claim_name == claim)
    })?;
    let (container, mount_path) = spec
        .containers
        .iter()
        .find_map(|c| {
            c.volume_mounts
                .as_ref()?
                .iter()
                .find(|m| m.name == vol.name)
                .map(|m| (c.name.clone(), m.mount_path.clone()))
        })
        .map_or((None, None), |(c, p)| (Some(c), Some(p)));
    Some(PodMount {
        pod: pod.metadata.name.clone().unwrap_or_default(),
        phase: pod
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_else(|| "Unknown".into()),
        terminating: pod.metadata.deletion_timestamp.is_some(),
        node: spec.node_name.clone(),
        container,
        mount_path,
    })
}

const CHECKS: [(&str, &str, &str, Option<&str>); 7] = [
    ("get", "", "persistentvolumeclaims", None),
    ("delete", "", "persistentvolumeclaims", None),
    ("patch", "", "persistentvolumes", None),
    ("create", "", "pods", None),
    ("delete", "", "pods", None),
    ("create", "", "pods", Some("exec")),
    ("get", "", "persistentvolumes", None),
];

/// Runs the preflight for `pvc` against the executor's cluster.
pub async fn preflight(exec: &Executor, pvc_ref: &PvcRef) -> Result<PvcPreflight> {
    let target = exec.target();
    let ns = &pvc_ref.namespace;
    let pvc = exec.get_pvc(ns, &pvc_ref.name).await?;
    let uid = pvc
        .metadata
        .uid
        .clone()
        .ok_or_else(|| ActionError::Refused("the PVC has no uid".into()))?;
    let resource_version = pvc
        .metadata
        .resource_version
        .clone()
        .ok_or_else(|| ActionError::Refused("the PVC has no resourceVersion".into()))?;
    let spec = pvc.spec.clone().unwrap_or_default();
    let status = pvc.status.clone().unwrap_or_default();
    let volume_name = spec.volume_name.clone().filter(|v| !v.is_empty());
    let mut pv_error = None;
    let pv = match &volume_name {
        Some(v) => match exec.get_pv(v).await {
            Ok(pv) => Some(pv),
            Err(e @ (ActionError::NotFound { .. } | ActionError::Forbidden { .. })) => {
                pv_error = Some(e.to_string());
                None
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    let storage_class_name = spec.storage_class_name.clone().or_else(|| {
        pv.as_ref()
            .and_then(|p| p.spec.as_ref())
            .and_then(|s| s.storage_class_name.clone())
    });
    let storage_class_object = match &storage_class_name {
        Some(sc) if !sc.is_empty() => exec.get_storage_class(sc).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "storage class not readable");
            None
        }),
        _ => None,
    };
    let pods = exec.list_pods(ns).await?;
    let mounted_by: Vec<PodMount> = pods
        .iter()
        .filter_map(|p| pod_mount_of(p, &pvc_ref.name))
        .collect();
    let reviews = CHECKS.iter().map(|(verb, group, resource, sub)| {
        let scope = (*resource != "persistentvolumes").then_some(ns.as_str());
        async move {
            let (allowed, reason) = match exec.can_i(verb, group, resource, *sub, scope).await {
                Ok(r) => r,
                Err(e) => (false, format!("access review failed: {e}")),
            };
            PermissionCheck {
                verb,
                resource: match sub {
                    Some(_) => "pods/exec",
                    None => resource,
                },
                allowed,
                reason,
            }
        }
    });
    let permissions = futures::future::join_all(reviews).await;
    let capacity = status
        .capacity
        .as_ref()
        .and_then(|c| c.get("storage"))
        .or_else(|| {
            spec.resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .and_then(|r| r.get("storage"))
        })
        .map(|q| q.0.clone());
    let pv_spec = pv.as_ref().and_then(|p| p.spec.as_ref());
    Ok(PvcPreflight {
        target: target.clone(),
        pvc_ref: pvc_ref.clone(),
        uid,
        resource_version,
        phase: status.phase.clone().unwrap_or_else(|| "Unknown".into()),
        capacity,
        storage_class: storage_class_name,
        volume_name,
        pv_reclaim_policy: pv_spec.and_then(|s| s.persistent_volume_reclaim_policy.clone()),
        pv_phase: pv
            .as_ref()
            .and_then(|p| p.status.as_ref())
            .and_then(|s| s.phase.clone()),
        pv_error,
        finalizers: pvc.metadata.finalizers.clone().unwrap_or_default(),
        deletion_timestamp: pvc
            .metadata
            .deletion_timestamp
            .as_ref()
            .map(|t| t.0.to_string()),
        mounted_by,
        permissions,
        fetched_at: jiff::Timestamp::now(),
        pvc,
        pv,
        storage_class_object,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preflight_with(
        mounts: Vec<PodMount>,
        policy: &str,
        denied: &[(&'static str, &'static str)],
    ) -> PvcPreflight {
        let permissions = CHECKS
            .iter()
            .map(|(verb, _, resource, sub)| {
                let resource = if sub.is_some() { "pods/exec" } else { resource };
                PermissionCheck {
                    verb,
                    resource,
                    allowed: !denied.contains(&(verb, resource)),
                    reason: "denied by test".into(),
                }
            })
            .collect();
        PvcPreflight {
            target: KubeTarget {
                context: "c".into(),
                server: "https://s".into(),
                kubeconfig_user: None,
            },
            pvc_ref: PvcRef::new("mon", "grafana"),
            uid: "u".into(),
            resource_version: "7".into(),
            phase: "Bound".into(),
            capacity: Some("10Gi".into()),
            storage_class: Some("standard".into()),
            volume_name: Some("pv-1".into()),
            pv_reclaim_policy: Some(policy.into()),
            pv_phase: Some("Bound".into()),
            pv_error: None,
            finalizers: vec!["kubernetes.io/pvc-protection".into()],
            deletion_timestamp: None,
            mounted_by: mounts,
            permissions,
            fetched_at: jiff::Timestamp::UNIX_EPOCH,
            pvc: PersistentVolumeClaim::default(),
            pv: None,
            storage_class_object: None,
        }
    }

    fn mount(pod: &str, phase: &str) -> PodMount {
        PodMount {
            pod: pod.into(),
            phase: phase.into(),
            terminating: false,
            node: None,
            container: Some("c".into()),
            mount_path: Some("/data".into()),
        }
    }

    #[test]
    fn in_use_is_refused_unless_allowed() {
        let pf = preflight_with(vec![mount("grafana-0", "Running")], "Delete", &[]);
        let r = pf.refusals(Operation::Delete, false, true);
        assert_eq!(r.len(), 1);
        assert!(r[0].contains("grafana-0") && r[0].contains("--allow-in-use"));
        assert!(pf.refusals(Operation::Delete, true, true).is_empty());
        // A finished pod does not hold the claim.
        let done = preflight_with(vec![mount("job-1", "Succeeded")], "Delete", &[]);
        assert!(done.refusals(Operation::Delete, false, true).is_empty());
        // A pending pod does.
        let pending = preflight_with(vec![mount("p", "Pending")], "Delete", &[]);
        assert!(!pending.refusals(Operation::Delete, false, true).is_empty());
    }

    #[test]
    fn missing_permissions_disable_with_the_reason() {
        let pf = preflight_with(vec![], "Delete", &[("patch", "persistentvolumes")]);
        let r = pf.refusals(Operation::Delete, false, true);
        assert!(
            r.iter()
                .any(|l| l.contains("patch persistentvolumes") && l.contains("denied by test"))
        );
        // Without the Retain step the patch is not needed.
        assert!(pf.refusals(Operation::Delete, false, false).is_empty());
        // Helper pods are needed only when no pod runs with the volume.
        let pf = preflight_with(vec![mount("a", "Running")], "Retain", &[("create", "pods")]);
        assert!(pf.refusals(Operation::Backup, true, false).is_empty());
        let pf = preflight_with(vec![], "Retain", &[("create", "pods")]);
        assert!(!pf.refusals(Operation::Backup, true, false).is_empty());
    }

    #[test]
    fn an_unreadable_pv_refuses_the_delete() {
        let mut pf = preflight_with(vec![], "Delete", &[]);
        pf.pv_reclaim_policy = None;
        pf.pv_error = Some("get PV pv-1: forbidden".into());
        assert!(
            pf.refusals(Operation::Delete, false, true)
                .iter()
                .any(|l| l.contains("reclaim policy is unknown"))
        );
        assert!(pf.refusals(Operation::Backup, true, false).is_empty());
        // The plan says unknown, never "already Retain".
        let plan = pf.plan_lines(Operation::Delete, true).join("\n");
        assert!(!plan.contains("already Retain"), "{plan}");
        assert!(
            plan.contains("reclaimPolicy UNKNOWN (get PV pv-1: forbidden): refused"),
            "{plan}"
        );
        assert!(plan.contains("reclaimPolicy unknown"), "{plan}");
        // A PV that does not say its policy is refused the same way.
        pf.pv_error = None;
        assert!(
            pf.refusals(Operation::Delete, false, true)
                .iter()
                .any(|l| l.contains("reclaim policy is unknown (the PV does not say)"))
        );
        assert!(
            pf.plan_lines(Operation::Delete, true)
                .join("\n")
                .contains("UNKNOWN (the PV does not say)")
        );
    }

    #[test]
    fn the_plan_shows_the_retain_step_and_the_confirmation() {
        let pf = preflight_with(vec![], "Delete", &[]);
        let plan = pf.plan_lines(Operation::Delete, true).join("\n");
        assert!(plan.contains("Delete -> Retain"));
        assert!(plan.contains("type mon/grafana"));
        assert!(plan.contains("UNUSED"));
        let plan = pf.plan_lines(Operation::Delete, false).join("\n");
        assert!(plan.contains("DELETES THE DATA"));
    }
}
