//! The rescue dialog's state machine (`R` on a claim Terminating while a pod still uses it):
//! `Confirm -> Running -> Done | Failed`, driven by the flow's [`RescueEvent`]s; the drawing is
//! `ui::dialogs::pvc_rescue`. A rescue deletes nothing: it patches the PV to Retain and reads
//! the data.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};

use crate::actions::backup::BackupProgress;
use crate::app::model::Overlay;
use crate::domain::pvcs::{PvcKey, PvcRow};

/// What the executor reports about a running rescue.
#[derive(Debug, Clone, PartialEq)]
pub enum RescueEvent {
    /// The rescue started; its audit record goes to this file.
    Started {
        audit_log: Option<PathBuf>,
    },
    Progress(BackupProgress),
    Done(Box<RescueSummary>),
    Failed {
        reason: String,
    },
}

/// The end of a successful rescue, in the dialog's terms.
#[derive(Debug, Clone, PartialEq)]
pub struct RescueSummary {
    pub backup_dir: PathBuf,
    pub files: u64,
    pub bytes: u64,
    pub sha256: String,
    /// The PV's reclaim policy after the rescue ("Retain" unless the patch failed).
    pub policy_after: Option<String>,
    pub retain_error: Option<String>,
    pub next_steps: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RescueStage {
    Confirm,
    Running {
        progress: Option<BackupProgress>,
        cancelling: bool,
    },
    Done(Box<RescueSummary>),
    Failed {
        reason: String,
    },
}

/// The dialog: the claim, what the row said when it was opened, and the stage.
#[derive(Debug, Clone, PartialEq)]
pub struct PvcRescueDialog {
    pub pvc: PvcKey,
    pub volume: Option<String>,
    pub reclaim_policy: Option<String>,
    /// "loki-0 (Running)".
    pub users: Vec<String>,
    pub terminating: bool,
    pub audit_log: Option<PathBuf>,
    pub stage: RescueStage,
    /// Every change the rescue made to the cluster (PV to Retain, helper created/removed),
    /// as it happened; kept to the end, whatever the outcome.
    pub changes: Vec<String>,
}

/// What a key asks of the update loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RescueKey {
    Nothing,
    /// Start the rescue (Enter in Confirm).
    Start,
    /// Cancel the running backup.
    Cancel,
    Close,
}

impl PvcRescueDialog {
    pub fn new(row: &PvcRow) -> Self {
        PvcRescueDialog {
            pvc: row.key(),
            volume: row.volume.clone(),
            reclaim_policy: row.reclaim_policy.as_deref().map(String::from),
            users: row
                .users
                .iter()
                .filter(|u| u.holds_volume())
                .map(|u| u.text())
                .collect(),
            terminating: row.terminating(),
            audit_log: None,
            stage: RescueStage::Confirm,
            changes: Vec::new(),
        }
    }

    pub fn running(&self) -> bool {
        matches!(self.stage, RescueStage::Running { .. })
    }

    pub fn on_key(&mut self, k: KeyEvent) -> RescueKey {
        match (&mut self.stage, k.code) {
            (RescueStage::Confirm, KeyCode::Enter) => {
                self.stage = RescueStage::Running {
                    progress: None,
                    cancelling: false,
                };
                RescueKey::Start
            }
            (RescueStage::Confirm, KeyCode::Esc | KeyCode::Char('q')) => RescueKey::Close,
            (RescueStage::Running { cancelling, .. }, KeyCode::Esc) => {
                if *cancelling {
                    RescueKey::Nothing
                } else {
                    *cancelling = true;
                    RescueKey::Cancel
                }
            }
            (
                RescueStage::Done(_) | RescueStage::Failed { .. },
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q'),
            ) => RescueKey::Close,
            _ => RescueKey::Nothing,
        }
    }

    /// Folds one executor event in (events after the end are ignored).
    pub fn apply(&mut self, ev: &RescueEvent) {
        if matches!(
            self.stage,
            RescueStage::Done(_) | RescueStage::Failed { .. }
        ) {
            return;
        }
        match ev {
            RescueEvent::Started { audit_log } => self.audit_log = audit_log.clone(),
            RescueEvent::Progress(p) => {
                if let Some(c) = &p.change {
                    self.changes.push(c.text.clone());
                } else if let RescueStage::Running { progress, .. } = &mut self.stage {
                    *progress = Some(p.clone());
                }
            }
            RescueEvent::Done(s) => self.stage = RescueStage::Done(s.clone()),
            RescueEvent::Failed { reason } => {
                self.stage = RescueStage::Failed {
                    reason: reason.clone(),
                }
            }
        }
    }
}

/// The overlay for `R` on `row`: the Confirm stage (nothing is sent until Enter).
pub fn open(row: &PvcRow) -> Overlay {
    Overlay::PvcRescue(Box::new(PvcRescueDialog::new(row)))
}
