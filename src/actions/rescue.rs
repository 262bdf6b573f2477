//! Rescue of a claim that is Terminating while a pod still uses it (incident 5): the PV is
//! switched to Retain first (instant, and it alone keeps the data when the pod stops), then
//! the data is backed up through the pod that still mounts it, and the user is told what
//! happens next and how to restore.

use super::audit;
use super::backup::{self, BackupOptions, BackupProgress, VerifiedBackup};
use super::delete;
use super::executor::Executor;
use super::flow::audit_record;
use super::preflight::{self, Operation, PvcPreflight};
use super::target::TargetSource;
use super::{ActionError, PvcRef, Result};
use std::path::Path;
use tokio_util::sync::CancellationToken;

/// What a rescue did.
#[derive(Debug)]
pub struct RescueReport {
    pub preflight: Box<PvcPreflight>,
    pub policy_after: Option<String>,
    /// Why the Retain patch failed, if it did (the backup is still made).
    pub retain_error: Option<String>,
    pub backup: VerifiedBackup,
    pub next_steps: Vec<String>,
}

/// Rescues `pvc`. Refuses when no running pod mounts it (then `ondeck pvc backup` is the tool).
pub async fn rescue(
    exec: &Executor,
    target: &TargetSource,
    pvc: &PvcRef,
    opts: &BackupOptions,
    progress: &(dyn Fn(BackupProgress) + Send + Sync),
    cancel: &CancellationToken,
    audit_path: Option<&Path>,
) -> Result<RescueReport> {
    target.ensure_unchanged(exec.target())?;
    // Each change (PV to Retain, helper created/removed) is said when it happens.
    let (sink, relay) = backup::change_relay();
    let exec = &exec.for_flow(Some(sink));
    let say = |p: BackupProgress| {
        relay.flush(progress);
        progress(p);
    };
    let pf = preflight::preflight(exec, pvc).await?;
    let refusals = pf.refusals(Operation::Rescue, false, true);
    if !refusals.is_empty() {
        return Err(ActionError::Refused(refusals.join("; ")));
    }
    let mut policy_after = pf.pv_reclaim_policy.clone();
    let mut retain_error = None;
    if pf.reclaim_is_delete() {
        let patched = match target.ensure_unchanged(&pf.target) {
            Ok(()) => delete::ensure_retain(exec, &pf).await,
            Err(e) => Err(e),
        };
        match patched {
            Ok(p) => policy_after = p,
            Err(e @ ActionError::ContextChanged { .. }) => return Err(e),
            Err(e) => retain_error = Some(e.to_string()),
        }
    }
    relay.flush(progress);
    let backup = Box::pin(backup::backup(exec, &pf, opts, &say, cancel)).await;
    relay.flush(progress);
    // A failure after a change lists what remains and how to undo it.
    let backup = backup.map_err(|e| match exec.changes().remaining_note() {
        Some(note) => e.with_note(&note),
        None => e,
    });
    let outcome = match (&backup, &retain_error) {
        (Ok(_), None) => "rescued".to_string(),
        (Ok(_), Some(e)) => format!("backed up, Retain failed: {e}"),
        (Err(e), _) => format!("failed: {e}"),
    };
    if let Some(path) = audit_path {
        let record = audit_record(
            exec,
            &pf,
            "rescue",
            backup.as_ref().ok(),
            policy_after.clone(),
            outcome,
        )
        .await;
        audit::append(path, &record)?;
    }
    let backup = backup?;
    let next_steps = next_steps(&pf, policy_after.as_deref(), &backup);
    Ok(RescueReport {
        preflight: Box::new(pf),
        policy_after,
        retain_error,
        backup,
        next_steps,
    })
}

fn next_steps(pf: &PvcPreflight, policy: Option<&str>, backup: &VerifiedBackup) -> Vec<String> {
    let pv = pf.volume_name.as_deref().unwrap_or("-");
    let users: Vec<String> = pf.users().map(|m| m.pod.clone()).collect();
    let mut out = Vec::new();
    if pf.is_terminating() {
        out.push(format!(
            "{} is Terminating: it disappears when pod {} stops (the pvc-protection finalizer only waits for the pod).",
            pf.pvc_ref,
            users.join(", ")
        ));
    } else {
        out.push(format!(
            "{} is not being deleted; it was backed up anyway.",
            pf.pvc_ref
        ));
    }
    if policy == Some("Retain") {
        out.push(format!(
            "PV {pv} now has reclaimPolicy Retain: when the claim goes, the PV stays Released with the data."
        ));
    } else {
        out.push(format!(
            "PV {pv} still has reclaimPolicy {}: when the claim goes, THE PV AND ITS DATA ARE DELETED; only the backup remains.",
            policy.unwrap_or("?")
        ));
    }
    out.push(format!(
        "Backup verified: {} ({} files, {} bytes, sha256 {}).",
        backup.dir.display(),
        backup.manifest.summary.files,
        backup.manifest.summary.file_bytes,
        backup.manifest.summary.archive_sha256
    ));
    out.push(format!(
        "After the pod is gone: `ondeck pvc restore {} --from-pv {pv}` re-binds a new claim of the same name to the retained PV,",
        pf.pvc_ref
    ));
    out.push(format!(
        "or `ondeck pvc restore {} --from-backup {}` restores the archive into a new claim; then restart the pod.",
        pf.pvc_ref,
        backup.dir.display()
    ));
    out
}
