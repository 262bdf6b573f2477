//! The guarded PVC delete dialog (F9 / Ctrl-d on the PVC pane).
//!
//! INTERFACE STUB: the dialog is being written; `open` keeps its signature. The pane calls
//! [`open`] for the selected claim; the executor runs `actions::flow` and feeds its events back.

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::model::Overlay;
use crate::app::msg::Command;
use crate::domain::pvcs::{PvcKey, PvcRow};
use crate::ui::widgets::ViewCtx;

/// The dialog's state (the flow's `DeleteDialog` plus the typed-name box).
#[derive(Debug, Clone)]
pub struct PvcDeleteDialog {
    pub pvc: PvcKey,
}

/// Opens the dialog for `row` and asks the executor to start the flow (a fresh preflight: the
/// flow, not the row, decides whether the claim may be deleted).
pub fn open(row: &PvcRow) -> (Overlay, Command) {
    let pvc = row.key();
    (
        Overlay::PvcDelete(Box::new(PvcDeleteDialog { pvc: pvc.clone() })),
        Command::StartPvcDelete { pvc },
    )
}

pub fn render(dialog: &PvcDeleteDialog, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect) {
    let _ = (dialog, ctx, f, area);
}
