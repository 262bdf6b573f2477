//! The guarded delete as one state machine, shared by `ondeck pvc delete` and the TUI dialog:
//! `Preflight -> BackingUp -> AwaitingName -> Deleting -> Done | Failed`.
//!
//! [`run_delete_flow`] performs the steps and reports [`FlowEvent`]s on a channel; the UI
//! answers with [`FlowInput`]s (the typed name, or cancel). [`DeleteDialog`] is the UI side's
//! model: a pure reducer over the events, so a dialog only renders it. Cancel works at every
//! step before the delete request; after it, there is nothing left to cancel.

use super::audit::{self, AuditRecord};
use super::backup::{self, BackupOptions, BackupProgress, VerifiedBackup};
use super::confirm::{NameCheck, check_name};
use super::delete::{self, DeleteOutcome};
use super::executor::Executor;
use super::preflight::{self, Operation, PvcPreflight, pod_mount_of};
use super::target::TargetSource;
use super::{ActionError, PvcRef, Result};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What the user asked for and how.
#[derive(Debug, Clone)]
pub struct DeleteRequest {
    pub pvc: PvcRef,
    /// Delete even if a pod mounts the claim (CLI `--allow-in-use`; never from the TUI).
    pub allow_in_use: bool,
    /// Patch a Delete PV to Retain first (`[backup] retain_before_delete`).
    pub retain: bool,
    pub backup: BackupOptions,
    /// How long to follow the delete before reporting it Terminating.
    pub follow_timeout: Duration,
    /// Where the audit record goes; `None` = no audit (tests only).
    pub audit_path: Option<PathBuf>,
}

impl DeleteRequest {
    /// The request as the configuration says, for both `ondeck pvc delete` and the TUI dialog
    /// (which always passes `allow_in_use: false`): backup options from `[backup]`, Retain
    /// first when `retain_before_delete` is on (unless `keep_reclaim_policy`), the standard
    /// follow timeout.
    pub fn from_config(
        cfg: &crate::config::Config,
        pvc: PvcRef,
        backup: BackupOptions,
        allow_in_use: bool,
        keep_reclaim_policy: bool,
        audit_path: Option<PathBuf>,
    ) -> DeleteRequest {
        DeleteRequest {
            pvc,
            allow_in_use,
            retain: cfg.backup.retain_before_delete && !keep_reclaim_policy,
            backup,
            follow_timeout: cfg.backup.follow_timeout.0,
            audit_path,
        }
    }
}

/// The flow's steps, for the dialog title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum FlowStage {
    Preflight,
    BackingUp,
    AwaitingName,
    Deleting,
    Done,
    Failed,
}

/// What the flow reports as it goes.
#[derive(Debug, Clone, PartialEq)]
pub enum FlowEvent {
    /// The preflight is in, with the plan; `refusals` empty means the flow goes on.
    Preflight {
        plan: Vec<String>,
        refusals: Vec<String>,
    },
    Progress(BackupProgress),
    BackupVerified {
        dir: PathBuf,
        files: u64,
        bytes: u64,
        archive_sha256: String,
    },
    RetainSet {
        pv: String,
        before: Option<String>,
        after: Option<String>,
    },
    /// Waiting for the user to type this name.
    AwaitingName {
        expected: PvcRef,
    },
    Deleting,
    Done {
        outcome: DeleteOutcome,
        backup_dir: PathBuf,
    },
    Failed {
        reason: String,
        /// The verified backup, if one was made before the failure.
        backup_dir: Option<PathBuf>,
    },
}

/// What the UI sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowInput {
    /// The name as typed (the UI refuses pasted text itself, or sends [`FlowInput::Pasted`]).
    ConfirmName(String),
    /// A paste arrived where the name is typed: the flow stops.
    Pasted,
    Cancel,
}

/// The result of a finished flow.
#[derive(Debug)]
pub struct FlowResult {
    pub outcome: Result<DeleteOutcome>,
    pub backup: Option<VerifiedBackup>,
    pub preflight: Option<Box<PvcPreflight>>,
}

/// The dialog's model: a pure function of the events so far.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum DeleteDialog {
    #[default]
    Preflight,
    BackingUp {
        plan: Vec<String>,
        progress: Option<BackupProgress>,
    },
    AwaitingName {
        plan: Vec<String>,
        expected: PvcRef,
        backup_dir: Option<PathBuf>,
    },
    Deleting,
    Done {
        outcome: DeleteOutcome,
        backup_dir: PathBuf,
    },
    Failed {
        reason: String,
        backup_dir: Option<PathBuf>,
    },
}

impl DeleteDialog {
    pub fn stage(&self) -> FlowStage {
        match self {
            DeleteDialog::Preflight => FlowStage::Preflight,
            DeleteDialog::BackingUp { .. } => FlowStage::BackingUp,
            DeleteDialog::AwaitingName { .. } => FlowStage::AwaitingName,
            DeleteDialog::Deleting => FlowStage::Deleting,
            DeleteDialog::Done { .. } => FlowStage::Done,
            DeleteDialog::Failed { .. } => FlowStage::Failed,
        }
    }

    /// Esc is honoured until the delete request is sent.
    pub fn can_cancel(&self) -> bool {
        matches!(
            self,
            DeleteDialog::Preflight
                | DeleteDialog::BackingUp { .. }
                | DeleteDialog::AwaitingName { .. }
        )
    }

    /// Applies one event (pure).
    pub fn apply(&mut self, ev: &FlowEvent) {
        if matches!(
            self,
            DeleteDialog::Done { .. } | DeleteDialog::Failed { .. }
        ) {
            return; // terminal states stay
        }
        let next = match (std::mem::take(self), ev) {
            (_, FlowEvent::Failed { reason, backup_dir }) => DeleteDialog::Failed {
                reason: reason.clone(),
                backup_dir: backup_dir.clone(),
            },
            (DeleteDialog::Preflight, FlowEvent::Preflight { refusals, .. })
                if !refusals.is_empty() =>
            {
                DeleteDialog::Failed {
                    reason: refusals.join("; "),
                    backup_dir: None,
                }
            }
            (DeleteDialog::Preflight, FlowEvent::Preflight { plan, .. }) => {
                DeleteDialog::BackingUp {
                    plan: plan.clone(),
                    progress: None,
                }
            }
            (DeleteDialog::BackingUp { plan, .. }, FlowEvent::Progress(p))
                if p.change.is_none() =>
            {
                DeleteDialog::BackingUp {
                    plan,
                    progress: Some(p.clone()),
                }
            }
            (DeleteDialog::BackingUp { plan, .. }, FlowEvent::BackupVerified { dir, .. }) => {
                DeleteDialog::AwaitingName {
                    plan,
                    expected: PvcRef::new("", ""),
                    backup_dir: Some(dir.clone()),
                }
            }
            (
                DeleteDialog::AwaitingName {
                    plan, backup_dir, ..
                },
                FlowEvent::AwaitingName { expected },
            ) => DeleteDialog::AwaitingName {
                plan,
                expected: expected.clone(),
                backup_dir,
            },
            (_, FlowEvent::Deleting) => DeleteDialog::Deleting,
            (
                _,
                FlowEvent::Done {
                    outcome,
                    backup_dir,
                },
            ) => DeleteDialog::Done {
                outcome: outcome.clone(),
                backup_dir: backup_dir.clone(),
            },
            (state, _) => state,
        };
        *self = next;
    }
}

struct Reporter<'a> {
    events: &'a mpsc::Sender<FlowEvent>,
}

impl Reporter<'_> {
    async fn send(&self, ev: FlowEvent) {
        // A UI that went away does not stop the flow's own cleanup.
        let _ = self.events.send(ev).await;
    }
}

/// Runs the guarded delete to its end. Every way out sends a final `Done` or `Failed` event
/// and, once a preflight was made, appends an audit record.
pub async fn run_delete_flow(
    exec: &Executor,
    target: &TargetSource,
    req: &DeleteRequest,
    events: mpsc::Sender<FlowEvent>,
    mut inputs: mpsc::Receiver<FlowInput>,
) -> FlowResult {
    let reporter = Reporter { events: &events };
    // Every change the flow makes is said when it happens, as a progress line.
    let change_events = events.clone();
    let exec = &exec.for_flow(Some(backup::change_sink(move |p| {
        let _ = change_events.try_send(FlowEvent::Progress(p));
    })));
    let mut result = FlowResult {
        outcome: Err(ActionError::Refused("not started".into())),
        backup: None,
        preflight: None,
    };
    let mut policy_after = None;
    result.outcome = Box::pin(steps(
        exec,
        target,
        req,
        &reporter,
        &mut inputs,
        &mut result.backup,
        &mut result.preflight,
        &mut policy_after,
    ))
    .await;
    // A failure after a change lists what remains and how to undo it.
    if result.outcome.is_err()
        && let Some(note) = exec.changes().remaining_note()
        && let Err(e) = std::mem::replace(
            &mut result.outcome,
            Err(ActionError::Refused(String::new())),
        )
    {
        result.outcome = Err(e.with_note(&note));
    }
    let backup_dir = result.backup.as_ref().map(|b| b.dir.clone());
    match &result.outcome {
        Ok(outcome) => {
            reporter
                .send(FlowEvent::Done {
                    outcome: outcome.clone(),
                    backup_dir: backup_dir.clone().unwrap_or_default(),
                })
                .await
        }
        Err(e) => {
            reporter
                .send(FlowEvent::Failed {
                    reason: e.to_string(),
                    backup_dir: backup_dir.clone(),
                })
                .await
        }
    }
    if let (Some(pf), Some(path)) = (&result.preflight, &req.audit_path) {
        let outcome = match &result.outcome {
            Ok(o) => o.to_string(),
            Err(ActionError::Cancelled(_)) => "cancelled".into(),
            Err(e) => format!("aborted: {e}"),
        };
        let record = audit_record(
            exec,
            pf,
            "delete",
            result.backup.as_ref(),
            policy_after,
            outcome,
        )
        .await;
        if let Err(e) = audit::append(path, &record) {
            tracing::error!(error = %e, "audit record not written");
            if result.outcome.is_ok() {
                result.outcome = Err(e);
            }
        }
    }
    result
}

/// A delete flow running on its own task: what the TUI's executor holds for the dialog.
/// Events come out of `events`; the dialog sends the typed name or cancel into `inputs`.
/// Dropping `inputs` cancels the flow at the next step that listens (all steps before the
/// delete request).
pub struct DeleteFlowHandle {
    pub events: mpsc::Receiver<FlowEvent>,
    pub inputs: mpsc::Sender<FlowInput>,
    pub task: tokio::task::JoinHandle<FlowResult>,
}

/// Starts [`run_delete_flow`] on a task with bounded channels.
pub fn spawn_delete_flow(
    exec: Executor,
    target: TargetSource,
    req: DeleteRequest,
) -> DeleteFlowHandle {
    let (ev_tx, events) = mpsc::channel(64);
    let (inputs, in_rx) = mpsc::channel(4);
    let task =
        tokio::spawn(async move { run_delete_flow(&exec, &target, &req, ev_tx, in_rx).await });
    DeleteFlowHandle {
        events,
        inputs,
        task,
    }
}

/// The audit record of a guarded operation on `pf`'s claim.
pub async fn audit_record(
    exec: &Executor,
    pf: &PvcPreflight,
    action: &str,
    backup: Option<&VerifiedBackup>,
    policy_after: Option<String>,
    outcome: String,
) -> AuditRecord {
    let kube_user = match exec.whoami().await {
        Some(u) => Some(u),
        None => pf.target.kubeconfig_user.clone(),
    };
    AuditRecord {
        time: jiff::Timestamp::now().to_string(),
        action: action.into(),
        os_user: audit::os_user(),
        kube_user,
        context: pf.target.context.clone(),
        server: pf.target.server.clone(),
        object: pf.pvc_ref.to_string(),
        uid: Some(pf.uid.clone()),
        pv: pf.volume_name.clone(),
        policy_before: pf.pv_reclaim_policy.clone(),
        policy_after: policy_after.or_else(|| pf.pv_reclaim_policy.clone()),
        backup_path: backup.map(|b| b.dir.display().to_string()),
        sha256: backup.map(|b| b.manifest.summary.archive_sha256.clone()),
        bytes: backup.map(|b| b.manifest.summary.archive_bytes),
        outcome,
    }
}

#[allow(clippy::too_many_arguments)]
async fn steps(
    exec: &Executor,
    target: &TargetSource,
    req: &DeleteRequest,
    reporter: &Reporter<'_>,
    inputs: &mut mpsc::Receiver<FlowInput>,
    backup_out: &mut Option<VerifiedBackup>,
    preflight_out: &mut Option<Box<PvcPreflight>>,
    policy_after: &mut Option<String>,
) -> Result<DeleteOutcome> {
    // 1. Preflight, fresh; the target must already be the executor's.
    target.ensure_unchanged(exec.target())?;
    let pf = preflight::preflight(exec, &req.pvc).await?;
    let pf = &**preflight_out.insert(Box::new(pf));
    let refusals = pf.refusals(Operation::Delete, req.allow_in_use, req.retain);
    reporter
        .send(FlowEvent::Preflight {
            plan: pf.plan_lines(Operation::Delete, req.retain),
            refusals: refusals.clone(),
        })
        .await;
    if !refusals.is_empty() {
        return Err(ActionError::Refused(refusals.join("; ")));
    }
    if let Ok(FlowInput::Cancel) = inputs.try_recv() {
        return Err(ActionError::Cancelled("after the preflight".into()));
    }

    // 2. Verified backup, cancellable.
    let cancel = CancellationToken::new();
    let events = reporter.events.clone();
    let progress = move |p: BackupProgress| {
        let _ = events.try_send(FlowEvent::Progress(p));
    };
    let verified = {
        let mut fut = Box::pin(backup::backup(exec, pf, &req.backup, &progress, &cancel));
        let mut listening = true;
        loop {
            tokio::select! {
                r = &mut fut => break r,
                msg = inputs.recv(), if listening => match msg {
                    Some(FlowInput::Cancel) | None => {
                        cancel.cancel();
                        listening = false;
                    }
                    Some(_) => {}
                },
            }
        }
    }?;
    reporter
        .send(FlowEvent::BackupVerified {
            dir: verified.dir.clone(),
            files: verified.manifest.summary.files,
            bytes: verified.manifest.summary.file_bytes,
            archive_sha256: verified.manifest.summary.archive_sha256.clone(),
        })
        .await;
    let verified = &*backup_out.insert(verified);

    // 3. Retain.
    if req.retain && pf.reclaim_is_delete() {
        target.ensure_unchanged(&pf.target)?;
        let after = delete::ensure_retain(exec, pf).await?;
        *policy_after = after.clone();
        reporter
            .send(FlowEvent::RetainSet {
                pv: pf.volume_name.clone().unwrap_or_default(),
                before: pf.pv_reclaim_policy.clone(),
                after,
            })
            .await;
    }

    // 4. Typed name.
    reporter
        .send(FlowEvent::AwaitingName {
            expected: pf.pvc_ref.clone(),
        })
        .await;
    match inputs.recv().await {
        Some(FlowInput::ConfirmName(typed)) => {
            if check_name(&pf.pvc_ref, &typed) != NameCheck::Exact {
                return Err(ActionError::Refused(format!(
                    "the typed name {:?} is not {}; nothing deleted (backup kept at {})",
                    super::sanitize(&typed),
                    pf.pvc_ref,
                    verified.dir.display()
                )));
            }
        }
        Some(FlowInput::Pasted) => {
            return Err(ActionError::Refused(format!(
                "the name was pasted, not typed; nothing deleted (backup kept at {})",
                verified.dir.display()
            )));
        }
        Some(FlowInput::Cancel) | None => {
            return Err(ActionError::Cancelled(format!(
                "at the confirmation; nothing deleted (backup kept at {})",
                verified.dir.display()
            )));
        }
    }

    // 5. Delete: the target and the users are checked again, then dry-run and delete with
    // preconditions. A pod that started mounting the claim since the preflight does not
    // change the claim's resourceVersion, so it is looked for here.
    reporter.send(FlowEvent::Deleting).await;
    if !req.allow_in_use {
        let pods = exec.list_pods(&pf.pvc_ref.namespace).await?;
        let users: Vec<String> = pods
            .iter()
            .filter_map(|p| pod_mount_of(p, &pf.pvc_ref.name))
            .filter(|m| m.holds_claim())
            .map(|m| m.pod)
            .collect();
        if !users.is_empty() {
            return Err(ActionError::Refused(format!(
                "pod {} started using {} since the preflight; nothing deleted",
                users.join(", "),
                pf.pvc_ref
            )));
        }
    }
    delete::guarded_delete(exec, pf, target)
        .await
        .map_err(|e| match e {
            // Sent, and no clear answer: the delete may or may not have happened.
            delete::DeleteFailure::Unknown(e) => e.with_note(&format!(
                "the outcome is unknown: the delete request was sent; check whether {} still exists; backup kept at {}",
                pf.pvc_ref,
                verified.dir.display()
            )),
            delete::DeleteFailure::NotDeleted(e) => with_backup_note(e, verified),
        })?;

    // 6. Follow.
    delete::follow(exec, pf, req.follow_timeout).await
}

/// The one outcome sentence of a failure before anything was deleted (an error that already
/// says "nothing was deleted" only gets the backup's place).
fn with_backup_note(e: ActionError, b: &VerifiedBackup) -> ActionError {
    if e.to_string().contains("nothing was deleted") {
        e.with_note(&format!("backup kept at {}", b.dir.display()))
    } else {
        e.with_note(&format!(
            "nothing deleted; backup kept at {}",
            b.dir.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialog_follows_the_happy_path() {
        let mut d = DeleteDialog::default();
        assert_eq!(d.stage(), FlowStage::Preflight);
        d.apply(&FlowEvent::Preflight {
            plan: vec!["p".into()],
            refusals: vec![],
        });
        assert_eq!(d.stage(), FlowStage::BackingUp);
        d.apply(&FlowEvent::BackupVerified {
            dir: "/b".into(),
            files: 1,
            bytes: 1,
            archive_sha256: "x".into(),
        });
        d.apply(&FlowEvent::AwaitingName {
            expected: PvcRef::new("a", "b"),
        });
        assert!(
            matches!(&d, DeleteDialog::AwaitingName { expected, .. } if expected.to_string() == "a/b")
        );
        assert!(d.can_cancel());
        d.apply(&FlowEvent::Deleting);
        assert!(!d.can_cancel());
        d.apply(&FlowEvent::Done {
            outcome: DeleteOutcome::Deleted,
            backup_dir: "/b".into(),
        });
        assert_eq!(d.stage(), FlowStage::Done);
    }

    #[test]
    fn a_refused_preflight_never_shows_a_backup() {
        let mut d = DeleteDialog::default();
        d.apply(&FlowEvent::Preflight {
            plan: vec![],
            refusals: vec!["in use by pod g".into()],
        });
        assert!(matches!(&d, DeleteDialog::Failed { reason, .. } if reason.contains("pod g")));
    }

    #[test]
    fn failure_wins_from_any_state() {
        let mut d = DeleteDialog::default();
        d.apply(&FlowEvent::Failed {
            reason: "in use".into(),
            backup_dir: None,
        });
        assert_eq!(d.stage(), FlowStage::Failed);
        // A late event does not resurrect it.
        d.apply(&FlowEvent::Deleting);
        assert_eq!(d.stage(), FlowStage::Failed);
    }
}
