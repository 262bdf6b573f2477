//! The guarded PVC delete dialog's state machine (F9 / Ctrl-d on the PVC pane): the UI side of
//! `actions::flow`. The executor runs the flow and feeds its events back as
//! `CommandResult::PvcFlow`; this dialog folds them into the flow's own pure reducer
//! ([`DeleteDialog`]) plus what the screen needs beyond it (the plan, the verified backup, the
//! Retain change, the typed-name box, the live match, refusals, "cancelling…").
//!
//! Keys ([`PvcDeleteDialog::on_key`], pure): characters and Backspace reach the name box only
//! while the flow waits for the name; Enter sends the typed text (the flow compares it: a
//! mismatch stops the flow and nothing is deleted); Esc cancels until the delete request is
//! sent, is refused (with a note) while it is in flight, and closes the dialog once the flow
//! has ended.
//!
//! Pasted text: refused, the box is cleared and a loud line says "pasted text is refused: type
//! the name". Unlike `ondeck pvc delete` (which stops the flow on a paste), the dialog keeps
//! waiting: the backup is already made and verified, and an on-call person who pasted out of
//! habit should not have to redo it. Nothing pasted ever reaches the flow. The runtime also
//! turns a burst of keys that arrive at once (a paste without bracketed paste) into a paste.
//!
//! The drawing is `ui::dialogs::pvc_delete`.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Style;
use ratatui_textarea::TextArea;

use crate::actions::PvcRef;
use crate::actions::backup::BackupProgress;
use crate::actions::confirm::{NameCheck, check_name};
use crate::actions::flow::{DeleteDialog, FlowEvent, FlowInput, FlowStage};
use crate::app::model::Overlay;
use crate::app::msg::Command;
use crate::domain::pvcs::{PvcKey, PvcRow};

/// Longest name the box takes (a namespace is at most 63 characters, a claim name 253).
pub const MAX_NAME_LEN: usize = 320;

/// The line shown when a paste is refused.
pub const PASTE_REFUSED: &str = "pasted text is refused: type the name";

/// The verified backup, as the flow reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupSummary {
    pub dir: PathBuf,
    pub files: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// The PV's reclaim policy change made before the delete.
#[derive(Debug, Clone, PartialEq)]
pub struct RetainChange {
    pub pv: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The dialog's state: the flow model plus the typed-name box and what the screen shows.
#[derive(Debug, Clone)]
pub struct PvcDeleteDialog {
    pub pvc: PvcKey,
    /// The flow's own model (`Preflight -> BackingUp -> AwaitingName -> Deleting -> Done |
    /// Failed`), a pure function of the events.
    pub flow: DeleteDialog,
    /// The preflight's plan (kept after the flow model drops it).
    pub plan: Vec<String>,
    pub input: Box<TextArea<'static>>,
    /// Why the last input was refused (a paste), shown loudly until the next key.
    pub refusal: Option<String>,
    /// Esc was pressed; waiting for the flow to report that it stopped.
    pub cancelling: bool,
    /// The user quit (F10 / Ctrl-c) while the flow ran: the app quits when it ends.
    pub quitting: bool,
    /// The typed name was sent; waiting for the flow's answer.
    pub confirm_sent: bool,
    /// The delete request was (about to be) sent: a later failure may not mean "nothing
    /// deleted".
    pub reached_delete: bool,
    /// A short note (e.g. "the delete request was sent; it cannot be cancelled").
    pub note: Option<String>,
    pub backup: Option<BackupSummary>,
    pub retain: Option<RetainChange>,
    /// The last backup progress (kept through verifying).
    pub progress: Option<BackupProgress>,
    /// Every change the flow made to the cluster (helper created/removed, PV policy), as
    /// it happened.
    pub changes: Vec<String>,
    /// Where the audit record goes, as the executor said when it started the flow.
    pub audit_log: Option<PathBuf>,
}

/// What a key in the dialog asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogKey {
    /// Handled inside the dialog (or ignored).
    Nothing,
    /// Send this to the running flow.
    Send(FlowInput),
    /// Close the dialog (the flow has ended).
    Close,
}

fn new_input() -> TextArea<'static> {
    let mut t = TextArea::default();
    t.set_max_histories(0);
    t.set_cursor_line_style(Style::default());
    t
}

impl PvcDeleteDialog {
    pub fn new(pvc: PvcKey) -> Self {
        PvcDeleteDialog {
            pvc,
            flow: DeleteDialog::default(),
            plan: Vec::new(),
            input: Box::new(new_input()),
            refusal: None,
            cancelling: false,
            quitting: false,
            confirm_sent: false,
            reached_delete: false,
            note: None,
            backup: None,
            retain: None,
            progress: None,
            changes: Vec::new(),
            audit_log: None,
        }
    }

    pub fn stage(&self) -> FlowStage {
        self.flow.stage()
    }

    /// The flow has ended (Done or Failed).
    pub fn finished(&self) -> bool {
        matches!(self.stage(), FlowStage::Done | FlowStage::Failed)
    }

    /// Esc can still stop the flow: before the delete request, and not once the typed name
    /// was sent (the flow stops listening when it has the name).
    pub fn can_cancel(&self) -> bool {
        self.flow.can_cancel() && !self.confirm_sent
    }

    /// The name the flow waits for, once it waits. Between the verified backup and the
    /// flow's `AwaitingName` event (the Retain patch runs in between) the box is already open:
    /// the name is then the dialog's own claim, which is what the flow compares with.
    pub fn expected(&self) -> Option<PvcRef> {
        match &self.flow {
            DeleteDialog::AwaitingName { expected, .. } if !expected.name.is_empty() => {
                Some(expected.clone())
            }
            DeleteDialog::AwaitingName { .. } => Some(PvcRef::new(
                self.pvc.namespace.clone(),
                self.pvc.name.clone(),
            )),
            _ => None,
        }
    }

    /// What is in the name box.
    pub fn typed(&self) -> String {
        self.input.lines().join("")
    }

    /// The live comparison of the box with the expected name (`None` before the flow waits
    /// for it or while the box is empty).
    pub fn name_check(&self) -> Option<NameCheck> {
        let expected = self.expected()?;
        let typed = self.typed();
        (!typed.is_empty()).then(|| check_name(&expected, &typed))
    }

    /// Folds one flow event in.
    pub fn apply(&mut self, ev: &FlowEvent) {
        match ev {
            FlowEvent::Preflight { plan, .. } => self.plan = plan.clone(),
            FlowEvent::Progress(p) => match &p.change {
                Some(c) => self.changes.push(c.text.clone()),
                None => self.progress = Some(p.clone()),
            },
            FlowEvent::BackupVerified {
                dir,
                files,
                bytes,
                archive_sha256,
            } => {
                self.backup = Some(BackupSummary {
                    dir: dir.clone(),
                    files: *files,
                    bytes: *bytes,
                    sha256: archive_sha256.clone(),
                })
            }
            FlowEvent::RetainSet { pv, before, after } => {
                self.retain = Some(RetainChange {
                    pv: pv.clone(),
                    before: before.clone(),
                    after: after.clone(),
                })
            }
            FlowEvent::Deleting => self.reached_delete = true,
            FlowEvent::AwaitingName { .. } | FlowEvent::Done { .. } | FlowEvent::Failed { .. } => {}
        }
        self.flow.apply(ev);
        if self.finished() {
            self.cancelling = false;
            self.note = None;
        }
    }

    /// A paste (bracketed, or a burst of keys): refused, the box cleared, the flow keeps
    /// waiting for a typed name.
    pub fn refuse_paste(&mut self) {
        *self.input = new_input();
        self.refusal = Some(PASTE_REFUSED.into());
    }

    /// Esc: cancel before the delete request, a note while it is in flight, close after.
    pub fn escape(&mut self) -> DialogKey {
        if self.finished() {
            DialogKey::Close
        } else if self.can_cancel() {
            if self.cancelling {
                DialogKey::Nothing
            } else {
                self.cancelling = true;
                DialogKey::Send(FlowInput::Cancel)
            }
        } else {
            self.note = Some(
                if self.confirm_sent && self.stage() == FlowStage::AwaitingName {
                    "the name was sent; the delete cannot be cancelled now: waiting for the result"
                        .into()
                } else {
                    "the delete request was sent; it cannot be cancelled: waiting for the result"
                        .into()
                },
            );
            DialogKey::Nothing
        }
    }

    /// One key (F10 / Ctrl-c are the app's: they quit after cancelling).
    pub fn on_key(&mut self, k: KeyEvent) -> DialogKey {
        if k.code == KeyCode::Esc {
            return self.escape();
        }
        if self.finished() {
            return match k.code {
                KeyCode::Enter | KeyCode::Char('q') => DialogKey::Close,
                _ => DialogKey::Nothing,
            };
        }
        if self.stage() != FlowStage::AwaitingName || self.cancelling || self.confirm_sent {
            return DialogKey::Nothing;
        }
        let plain = !k
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SUPER);
        match k.code {
            KeyCode::Enter => {
                if self.expected().is_none() {
                    return DialogKey::Nothing;
                }
                self.confirm_sent = true;
                self.refusal = None;
                DialogKey::Send(FlowInput::ConfirmName(self.typed()))
            }
            KeyCode::Char(c) if plain && !c.is_control() => {
                self.refusal = None;
                if self.typed().chars().count() < MAX_NAME_LEN {
                    self.input.input(k);
                }
                DialogKey::Nothing
            }
            KeyCode::Backspace
            | KeyCode::Delete
            | KeyCode::Left
            | KeyCode::Right
            | KeyCode::Home
            | KeyCode::End
                if plain =>
            {
                self.refusal = None;
                self.input.input(k);
                DialogKey::Nothing
            }
            _ => DialogKey::Nothing,
        }
    }
}

/// Opens the dialog for `row` and asks the executor to start the flow (a fresh preflight: the
/// flow, not the row, decides whether the claim may be deleted).
pub fn open(row: &PvcRow) -> (Overlay, Command) {
    let pvc = row.key();
    (
        Overlay::PvcDelete(Box::new(PvcDeleteDialog::new(pvc.clone()))),
        Command::StartPvcDelete { pvc },
    )
}
