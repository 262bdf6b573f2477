//! The guarded PVC delete dialog's drawing (F9 / Ctrl-d on the PVC pane): the stage, the plan,
//! the backup's progress and the verified backup, the Retain change, the typed-name box with
//! its live match, refusals, "cancelling…" and the changes made.
//!
//! The dialog's state machine and its keys live with the model (`app::delete`, re-exported
//! here); its drawing is here.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::actions::backup::{BackupProgress, BackupStage};
use crate::actions::confirm::NameCheck;
use crate::actions::flow::{DeleteDialog, FlowStage};
use crate::domain::Level;
use crate::domain::pvcs::human_bytes;
use crate::ui::sanitize;
use crate::ui::widgets::{ViewCtx, centered, fill_bar};

pub use crate::app::delete::{
    BackupSummary, DialogKey, MAX_NAME_LEN, PASTE_REFUSED, PvcDeleteDialog, RetainChange, open,
};

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
