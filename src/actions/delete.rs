//! The guarded delete itself: the target re-check, a server dry-run, the delete with uid and
//! resourceVersion preconditions from the preflight, and following the result (gone, or
//! Terminating and why) under a deadline. Also the switch of the PV to Retain.

use super::executor::Executor;
use super::preflight::{PvcPreflight, pod_mount_of};
use super::target::TargetSource;
use super::{ActionError, Result};
use std::time::Duration;

/// How a delete ended once followed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum DeleteOutcome {
    /// The claim is gone.
    Deleted,
    /// The claim still exists, marked for deletion; `why` in plain words.
    Terminating { why: String },
}

impl std::fmt::Display for DeleteOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeleteOutcome::Deleted => write!(f, "deleted"),
            DeleteOutcome::Terminating { why } => write!(f, "terminating: {why}"),
        }
    }
}

/// Patches the PV to Retain if it is Delete. Returns the policy after the step.
pub async fn ensure_retain(exec: &Executor, pf: &PvcPreflight) -> Result<Option<String>> {
    let Some(pv) = &pf.volume_name else {
        return Ok(None);
    };
    if !pf.reclaim_is_delete() {
        return Ok(pf.pv_reclaim_policy.clone());
    }
    let rv = pf
        .pv
        .as_ref()
        .and_then(|p| p.metadata.resource_version.as_deref());
    let patched = exec.patch_pv_reclaim_policy(pv, "Retain", rv).await?;
    let after = patched
        .spec
        .and_then(|s| s.persistent_volume_reclaim_policy)
        .unwrap_or_default();
    let before = pf.pv_reclaim_policy.clone().unwrap_or_default();
    exec.said(super::Change {
        subject: format!("PV {pv} reclaimPolicy"),
        text: format!("PV {pv}: reclaimPolicy {before} -> {after}"),
        undo: Some(format!(
            "kubectl patch pv {pv} --type merge -p '{{\"spec\":{{\"persistentVolumeReclaimPolicy\":\"{before}\"}}}}'"
        )),
    });
    if after != "Retain" {
        return Err(ActionError::Refused(format!(
            "PV {pv} still has reclaimPolicy {after} after the patch; nothing deleted"
        )));
    }
    Ok(Some(after))
}

/// How far a guarded delete got when it failed: the one outcome sentence depends on it.
#[derive(Debug)]
pub enum DeleteFailure {
    /// Refused before the real delete was sent (dry-run refused, target changed, or the
    /// server answered the real delete with a refusal): nothing was deleted.
    NotDeleted(ActionError),
    /// The real delete was sent and no clear answer came back (timeout, 5xx, broken
    /// connection): whether the claim is being deleted is unknown.
    Unknown(ActionError),
}

/// Dry-run, then the real delete, both guarded by the preflight's uid and resourceVersion,
/// and both only if the kube target is still the preflight's.
pub async fn guarded_delete(
    exec: &Executor,
    pf: &PvcPreflight,
    target: &TargetSource,
) -> Result<(), DeleteFailure> {
    let (ns, name) = (&pf.pvc_ref.namespace, &pf.pvc_ref.name);
    target
        .ensure_unchanged(&pf.target)
        .map_err(DeleteFailure::NotDeleted)?;
    exec.delete_pvc_guarded(ns, name, &pf.uid, &pf.resource_version, true)
        .await
        .map_err(DeleteFailure::NotDeleted)?;
    target
        .ensure_unchanged(&pf.target)
        .map_err(DeleteFailure::NotDeleted)?;
    exec.delete_pvc_guarded(ns, name, &pf.uid, &pf.resource_version, false)
        .await
        .map_err(|e| match e {
            ActionError::Timeout { .. } | ActionError::Api { .. } => DeleteFailure::Unknown(e),
            other => DeleteFailure::NotDeleted(other),
        })
}

/// Watches the claim after the delete until it is gone or `limit` passes; then explains why
/// it is still there.
pub async fn follow(exec: &Executor, pf: &PvcPreflight, limit: Duration) -> Result<DeleteOutcome> {
    let (ns, name) = (&pf.pvc_ref.namespace, &pf.pvc_ref.name);
    let started = tokio::time::Instant::now();
    loop {
        // Each get carries the request deadline; the loop ends at `limit`.
        let current = exec.get_pvc_opt(ns, name).await?;
        match current {
            None => return Ok(DeleteOutcome::Deleted),
            Some(pvc) if pvc.metadata.uid.as_deref() != Some(pf.uid.as_str()) => {
                // A new claim with the same name: ours is gone.
                return Ok(DeleteOutcome::Deleted);
            }
            Some(pvc) if started.elapsed() >= limit => {
                return Ok(DeleteOutcome::Terminating {
                    why: terminating_reason(exec, pf, &pvc).await,
                });
            }
            Some(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn terminating_reason(
    exec: &Executor,
    pf: &PvcPreflight,
    pvc: &k8s_openapi::api::core::v1::PersistentVolumeClaim,
) -> String {
    let finalizers = pvc.metadata.finalizers.clone().unwrap_or_default();
    if finalizers
        .iter()
        .any(|f| f == "kubernetes.io/pvc-protection")
    {
        let users: Vec<String> = match exec.list_pods(&pf.pvc_ref.namespace).await {
            Ok(pods) => pods
                .iter()
                .filter_map(|p| pod_mount_of(p, &pf.pvc_ref.name))
                .filter(|m| m.holds_claim())
                .map(|m| format!("pod {} ({})", m.pod, m.phase))
                .collect(),
            Err(_) => Vec::new(),
        };
        if users.is_empty() {
            "held by the pvc-protection finalizer".into()
        } else {
            format!(
                "held by the pvc-protection finalizer because {} still uses it; it goes when that pod stops",
                users.join(", ")
            )
        }
    } else if finalizers.is_empty() {
        "deletion still in progress".into()
    } else {
        format!("held by finalizers {}", finalizers.join(", "))
    }
}
