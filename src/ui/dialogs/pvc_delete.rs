//! The guarded PVC delete dialog (F9 / Ctrl-d on the PVC pane): the UI side of
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

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui_textarea::TextArea;

use crate::actions::PvcRef;
use crate::actions::backup::{BackupProgress, BackupStage};
use crate::actions::confirm::{NameCheck, check_name};
use crate::actions::flow::{DeleteDialog, FlowEvent, FlowInput, FlowStage};
use crate::app::model::Overlay;
use crate::app::msg::Command;
use crate::domain::Level;
use crate::domain::pvcs::{PvcKey, PvcRow, human_bytes};
use crate::ui::sanitize;
use crate::ui::widgets::{ViewCtx, centered, fill_bar};

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

fn stage_word(d: &PvcDeleteDialog) -> &'static str {
    if d.cancelling {
        return "CANCELLING";
    }
    match d.stage() {
        FlowStage::Preflight => "PREFLIGHT",
        FlowStage::BackingUp => "BACKING UP",
        FlowStage::AwaitingName => "TYPE THE NAME",
        FlowStage::Deleting => "DELETING",
        FlowStage::Done => "DONE",
        FlowStage::Failed => "FAILED",
    }
}

fn hints(d: &PvcDeleteDialog) -> &'static str {
    if d.finished() {
        " Esc/Enter close "
    } else if d.cancelling {
        " cancelling: waiting for the flow to stop "
    } else if d.confirm_sent && d.stage() == FlowStage::AwaitingName {
        " the name was sent: waiting for the flow "
    } else if d.stage() == FlowStage::AwaitingName {
        " Enter confirm  Esc cancel (nothing is deleted) "
    } else if d.can_cancel() {
        " Esc cancel (nothing is deleted) "
    } else {
        " the delete request is in flight "
    }
}

fn s(text: &str) -> String {
    sanitize(text).into_owned()
}

fn path(p: &std::path::Path) -> String {
    s(&p.display().to_string())
}

fn short_sha(sha: &str, ellipsis: &str) -> String {
    let sha = s(sha);
    if sha.chars().count() > 16 {
        let head: String = sha.chars().take(16).collect();
        format!("{head}{ellipsis}")
    } else {
        sha
    }
}

fn backup_lines(ctx: ViewCtx<'_>, b: &BackupSummary) -> Vec<Line<'static>> {
    let t = ctx.theme;
    vec![
        Line::from(vec![
            Span::styled(
                format!("{} backup verified ", ctx.sym.level_glyph(Level::Ok)),
                t.ok,
            ),
            Span::raw(path(&b.dir)),
        ]),
        Line::from(Span::styled(
            format!(
                "  {} files, {}, sha256 {}",
                b.files,
                human_bytes(b.bytes),
                short_sha(&b.sha256, ctx.sym.ellipsis)
            ),
            t.muted,
        )),
    ]
}

fn retain_line(ctx: ViewCtx<'_>, r: &RetainChange) -> Line<'static> {
    Line::from(Span::styled(
        format!(
            "PV {} reclaimPolicy {} -> {}",
            s(&r.pv),
            s(r.before.as_deref().unwrap_or("-")),
            s(r.after.as_deref().unwrap_or("-"))
        ),
        ctx.theme.base,
    ))
}

/// The plan: the facts (target, claim, PV, users) and, until the backup is made, the numbered
/// steps. Once the backup is verified the steps are shown by what happened (backup, Retain),
/// so only a step that warns of data loss stays (the dialog must fit 80x24).
fn plan_lines(ctx: ViewCtx<'_>, d: &PvcDeleteDialog) -> Vec<Line<'static>> {
    let steps = matches!(d.stage(), FlowStage::Preflight | FlowStage::BackingUp);
    d.plan
        .iter()
        .filter(|l| {
            steps || !l.starts_with(|c: char| c.is_ascii_digit()) || l.contains("DELETES THE DATA")
        })
        .map(|l| {
            let style = if l.contains("DELETES THE DATA") {
                ctx.theme.critical
            } else {
                ctx.theme.base
            };
            Line::from(Span::styled(s(l), style))
        })
        .collect()
}

/// The flow's words, minus the CLI's override hint: the console never deletes a claim in use.
fn tui_reason(reason: &str) -> String {
    reason.replace(
        " (pass --allow-in-use to override)",
        " (the console never deletes a claim that is in use)",
    )
}

fn progress_text(p: &BackupProgress) -> String {
    crate::actions::cli::progress_line(p).trim().to_string()
}

/// The match line under the name box: word and colour.
fn match_line(ctx: ViewCtx<'_>, d: &PvcDeleteDialog) -> Line<'static> {
    let t = ctx.theme;
    match d.name_check() {
        None => Line::from(Span::styled("type the name, key by key", t.muted)),
        Some(NameCheck::Exact) => Line::from(Span::styled(
            format!(
                "{} matches: Enter deletes the claim",
                ctx.sym.level_glyph(Level::Ok)
            ),
            t.ok,
        )),
        Some(NameCheck::Partial) => Line::from(Span::styled(
            format!(
                "{} so far so good: keep typing",
                ctx.sym.level_glyph(Level::Warning)
            ),
            t.warning,
        )),
        Some(NameCheck::Mismatch) => Line::from(Span::styled(
            format!(
                "{} does not match: Enter stops, nothing is deleted",
                ctx.sym.level_glyph(Level::Critical)
            ),
            t.critical,
        )),
    }
}

fn bold(style: Style) -> Style {
    style.add_modifier(Modifier::BOLD)
}

pub fn render(dialog: &PvcDeleteDialog, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect) {
    let d = dialog;
    let t = ctx.theme;
    let rect = centered(area, 78, area.height.min(22));
    let title_style = match d.stage() {
        FlowStage::Failed => t.critical,
        FlowStage::Done => t.ok,
        _ => t.warning,
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(ctx.sym.border)
        .border_style(t.border_focused)
        .title(Span::styled(
            format!(" Delete PVC {} ", s(&d.pvc.to_string())),
            t.accent,
        ))
        .title(Span::styled(
            format!(" {} ", stage_word(d)),
            bold(title_style),
        ))
        .title_bottom(Span::styled(hints(d), t.muted));
    let inner = block.inner(rect);
    f.render_widget(Clear, rect);
    f.render_widget(block.style(t.base), rect);

    // Top: what is known (plan, backup, policy), wrapped; bottom: the stage's own rows.
    let mut top: Vec<Line<'static>> = Vec::new();
    let mut bottom: Vec<Row> = Vec::new();
    match d.stage() {
        FlowStage::Preflight => {
            top.push(Line::from(Span::styled(
                format!(
                    "preflight: reading the claim, its PV, the pods that mount it and RBAC, fresh from the API{}",
                    ctx.sym.ellipsis
                ),
                t.base,
            )));
        }
        FlowStage::BackingUp => {
            top.extend(plan_lines(ctx, d));
            match d.progress.as_ref().filter(|p| p.waiting.is_some()) {
                // What the flow waits for, and the countdown to giving up, on rows of their own.
                Some(p) => {
                    bottom.push(Row::Text(Line::from(vec![
                        Span::styled("WAITING ", bold(t.warning)),
                        Span::raw(format!(
                            "for {}",
                            s(p.waiting.as_deref().unwrap_or_default())
                        )),
                    ])));
                    if let Some(left) = p.time_left {
                        bottom.push(Row::Text(Line::from(Span::styled(
                            format!(
                                "gives up in {}s unless it shows why sooner; Esc cancels",
                                left.as_secs()
                            ),
                            t.warning,
                        ))));
                    }
                }
                None => {
                    let text = match &d.progress {
                        Some(p) => progress_text(p),
                        None => format!("starting the backup{}", ctx.sym.ellipsis),
                    };
                    bottom.push(Row::Text(Line::from(vec![
                        Span::styled("BACKING UP ", bold(t.warning)),
                        Span::raw(text),
                    ])));
                }
            }
            if let Some(p) = &d.progress
                && p.stage == BackupStage::Streaming
                && let Some(expected) = p.expected_bytes.filter(|e| *e > 0)
            {
                bottom.push(Row::Gauge {
                    ratio: (p.bytes as f64 / expected as f64).clamp(0.0, 1.0),
                    expected,
                });
            }
        }
        FlowStage::AwaitingName => {
            top.extend(plan_lines(ctx, d));
            if let Some(b) = &d.backup {
                top.extend(backup_lines(ctx, b));
            }
            if let Some(r) = &d.retain {
                top.push(retain_line(ctx, r));
            }
            let expected = d
                .expected()
                .map(|e| s(&e.to_string()))
                .unwrap_or_else(|| s(&d.pvc.to_string()));
            bottom.push(Row::Text(Line::from(vec![
                Span::raw("type "),
                Span::styled(expected, bold(t.accent)),
                Span::raw(" to delete it"),
            ])));
            bottom.push(Row::NameBox);
            bottom.push(Row::Text(match_line(ctx, d)));
        }
        FlowStage::Deleting => {
            top.extend(plan_lines(ctx, d));
            if let Some(b) = &d.backup {
                top.extend(backup_lines(ctx, b));
            }
            bottom.push(Row::Text(Line::from(vec![
                Span::styled("DELETING ", bold(t.warning)),
                Span::raw(format!(
                    "dry-run, then delete with uid + resourceVersion preconditions{}",
                    ctx.sym.ellipsis
                )),
            ])));
        }
        FlowStage::Done => {
            if let DeleteDialog::Done {
                outcome,
                backup_dir,
            } = &d.flow
            {
                top.push(Line::from(vec![
                    Span::styled(
                        format!("{} DONE ", ctx.sym.level_glyph(Level::Ok)),
                        bold(t.ok),
                    ),
                    Span::raw(s(&format!("{}: {outcome}", d.pvc))),
                ]));
                match &d.backup {
                    Some(b) => top.extend(backup_lines(ctx, b)),
                    None => top.push(Line::from(format!("backup {}", path(backup_dir)))),
                }
            }
            if let Some(r) = &d.retain {
                top.push(retain_line(ctx, r));
            }
            let audit = d
                .audit_log
                .as_deref()
                .map(path)
                .unwrap_or_else(|| "(none)".into());
            top.push(Line::from(vec![
                Span::styled("audit log ", t.muted),
                Span::raw(audit),
            ]));
        }
        FlowStage::Failed => {
            if let DeleteDialog::Failed { reason, backup_dir } = &d.flow {
                top.push(Line::from(vec![
                    Span::styled(
                        format!("{} FAILED ", ctx.sym.level_glyph(Level::Critical)),
                        bold(t.critical),
                    ),
                    Span::styled(s(&tui_reason(reason)), t.critical),
                ]));
                // One outcome sentence, the flow's: only a delete that was sent and got no
                // clear answer is "unknown"; every other failure deleted nothing.
                if reason.contains("outcome is unknown") {
                    top.push(Line::from(Span::styled(
                        format!(
                            "the delete request was sent and its outcome is unknown: check whether {} still exists",
                            s(&d.pvc.to_string())
                        ),
                        bold(t.warning),
                    )));
                } else {
                    top.push(Line::from(Span::styled("nothing was deleted", bold(t.ok))));
                }
                if let Some(dir) = backup_dir {
                    top.push(Line::from(vec![
                        Span::styled("backup kept at ", t.muted),
                        Span::raw(path(dir)),
                    ]));
                }
                if let Some(r) = &d.retain {
                    top.push(retain_line(ctx, r));
                }
                // What the preflight saw (e.g. the pod that uses the claim), as space allows.
                top.extend(plan_lines(ctx, d));
            }
        }
    }
    // Every change made to the cluster, as it happened (newest last).
    for c in &d.changes {
        top.push(Line::from(vec![
            Span::styled("changed ", bold(t.warning)),
            Span::raw(s(c)),
        ]));
    }
    if let Some(msg) = &d.refusal {
        bottom.push(Row::Text(Line::from(Span::styled(
            format!("{} {}", ctx.sym.level_glyph(Level::Critical), s(msg)),
            bold(t.critical),
        ))));
    }
    if d.cancelling {
        bottom.push(Row::Text(Line::from(Span::styled(
            format!(
                "cancelling{}: waiting for the flow to stop (and remove its helper pod)",
                ctx.sym.ellipsis
            ),
            bold(t.warning),
        ))));
    }
    if let Some(n) = &d.note {
        bottom.push(Row::Text(Line::from(Span::styled(s(n), t.warning))));
    }
    if d.quitting && !d.finished() {
        bottom.push(Row::Text(Line::from(Span::styled(
            "ondeck quits when the flow has stopped",
            t.muted,
        ))));
    }

    let [top_area, bottom_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(bottom.len() as u16)])
            .areas(inner);
    f.render_widget(
        Paragraph::new(top).wrap(Wrap { trim: false }).style(t.base),
        top_area,
    );
    let areas = Layout::vertical(vec![Constraint::Length(1); bottom.len()]).split(bottom_area);
    for (row, r) in bottom.into_iter().zip(areas.iter().copied()) {
        match row {
            Row::Text(l) => f.render_widget(Paragraph::new(l), r),
            Row::NameBox => {
                let [prompt, field] =
                    Layout::horizontal([Constraint::Length(2), Constraint::Min(1)]).areas(r);
                f.render_widget(Paragraph::new(Span::styled("> ", t.key)), prompt);
                let mut input = (*d.input).clone();
                input.set_style(t.base);
                input.set_cursor_style(t.selection);
                f.render_widget(&input, field);
            }
            Row::Gauge { ratio, expected } => {
                // A text bar (not ratatui's Gauge): it follows `--ascii`.
                let label = format!(" {:.0}% of ~{}", ratio * 100.0, human_bytes(expected));
                let width = (r.width as usize).saturating_sub(label.chars().count() + 2);
                f.render_widget(
                    Paragraph::new(Line::from(vec![
                        Span::styled(fill_bar(ctx.sym, ratio * 100.0, width), t.accent),
                        Span::raw(label),
                    ])),
                    r,
                )
            }
        }
    }
}

/// One row of the dialog's bottom part.
enum Row {
    Text(Line<'static>),
    NameBox,
    Gauge { ratio: f64, expected: u64 },
}
