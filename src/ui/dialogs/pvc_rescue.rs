//! The rescue dialog (`R` on a claim that is Terminating while a pod still uses it, incident
//! 5): the TUI side of `actions::rescue`, the same code as `ondeck pvc rescue`.
//!
//! Stages: `Confirm` (what will happen; Enter starts, Esc closes, nothing done yet) ->
//! `Running` (PV switched to Retain, then the data streamed through the pod that still mounts
//! the claim, with progress; Esc cancels the backup) -> `Done` (backup verified, the PV's
//! policy, and what happens next and how to restore) or `Failed`.
//!
//! A rescue deletes nothing: it only patches the PV to Retain and reads the data.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::domain::Level;
use crate::domain::pvcs::human_bytes;
use crate::ui::sanitize;
use crate::ui::widgets::{ViewCtx, centered, fill_bar};

/// The dialog's state machine lives with the model (`app::rescue`); its drawing is here.
pub use crate::app::rescue::{
    PvcRescueDialog, RescueEvent, RescueKey, RescueStage, RescueSummary, open,
};

fn s(text: &str) -> String {
    sanitize(text).into_owned()
}

fn plan_lines(ctx: ViewCtx<'_>, d: &PvcRescueDialog) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let pv = d.volume.as_deref().map(s).unwrap_or_else(|| "-".into());
    let policy = d
        .reclaim_policy
        .as_deref()
        .map(s)
        .unwrap_or_else(|| "?".into());
    let users = if d.users.is_empty() {
        "no running pod".to_string()
    } else {
        d.users.iter().map(|u| s(u)).collect::<Vec<_>>().join(", ")
    };
    let mut out = Vec::new();
    if d.terminating {
        out.push(Line::from(Span::styled(
            format!(
                "{} {} is Terminating while {users} uses it: it goes when the pod stops.",
                ctx.sym.level_glyph(Level::Critical),
                s(&d.pvc.to_string())
            ),
            t.critical,
        )));
    }
    out.push(Line::from(format!("PV {pv}  reclaimPolicy {policy}")));
    out.push(Line::from("The rescue deletes nothing. It will:"));
    out.push(Line::from(format!(
        "1. switch PV {pv} to Retain{}",
        if policy == "Retain" {
            " (already Retain)"
        } else {
            ": when the claim goes, the PV and its data stay"
        }
    )));
    out.push(Line::from(format!(
        "2. back up the manifests and the data through {users}, verified"
    )));
    out.push(Line::from(
        "3. tell you how to restore (re-bind to the PV, or from the archive)",
    ));
    out
}

fn done_lines(ctx: ViewCtx<'_>, d: &PvcRescueDialog, r: &RescueSummary) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let mut out = vec![
        Line::from(vec![
            Span::styled(
                format!("{} RESCUED ", ctx.sym.level_glyph(Level::Ok)),
                t.ok.add_modifier(Modifier::BOLD),
            ),
            Span::raw(s(&d.pvc.to_string())),
        ]),
        Line::from(vec![
            Span::styled("backup verified ", t.ok),
            Span::raw(s(&r.backup_dir.display().to_string())),
        ]),
        Line::from(Span::styled(
            format!(
                "  {} files, {}, sha256 {}",
                r.files,
                human_bytes(r.bytes),
                s(&r.sha256.chars().take(16).collect::<String>())
            ),
            t.muted,
        )),
    ];
    if let Some(e) = &r.retain_error {
        out.push(Line::from(Span::styled(
            format!(
                "{} the PV could not be switched to Retain: {}",
                ctx.sym.level_glyph(Level::Critical),
                s(e)
            ),
            t.critical,
        )));
    }
    for l in &r.next_steps {
        let style = if l.contains("ARE DELETED") {
            t.critical
        } else {
            t.base
        };
        out.push(Line::from(Span::styled(s(l), style)));
    }
    if let Some(a) = &d.audit_log {
        out.push(Line::from(Span::styled(
            format!("audit log {}", s(&a.display().to_string())),
            t.muted,
        )));
    }
    out
}

pub fn render(d: &PvcRescueDialog, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect) {
    let t = ctx.theme;
    let rect = centered(area, 78, area.height.min(22));
    let (word, style) = match &d.stage {
        RescueStage::Confirm => ("CONFIRM", t.warning),
        RescueStage::Running {
            cancelling: true, ..
        } => ("CANCELLING", t.warning),
        RescueStage::Running { .. } => ("BACKING UP", t.warning),
        RescueStage::Done(_) => ("DONE", t.ok),
        RescueStage::Failed { .. } => ("FAILED", t.critical),
    };
    let hints = match &d.stage {
        RescueStage::Confirm => " Enter start the rescue  Esc close (nothing done) ",
        RescueStage::Running {
            cancelling: true, ..
        } => " cancelling: waiting for the backup to stop ",
        RescueStage::Running { .. } => " Esc cancel the backup ",
        _ => " Esc/Enter close ",
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(ctx.sym.border)
        .border_style(t.border_focused)
        .title(Span::styled(
            format!(" Rescue PVC {} ", s(&d.pvc.to_string())),
            t.accent,
        ))
        .title(Span::styled(
            format!(" {word} "),
            style.add_modifier(Modifier::BOLD),
        ))
        .title_bottom(Span::styled(hints, t.muted));
    let mut lines = Vec::new();
    match &d.stage {
        RescueStage::Confirm => lines.extend(plan_lines(ctx, d)),
        RescueStage::Running { progress, .. } => {
            lines.extend(plan_lines(ctx, d));
            lines.push(Line::from(""));
            let text = match progress {
                Some(p) => crate::actions::cli::progress_line(p).trim().to_string(),
                None => format!(
                    "preflight, then PV to Retain, then the backup{}",
                    ctx.sym.ellipsis
                ),
            };
            lines.push(Line::from(vec![
                Span::styled("BACKING UP ", t.warning.add_modifier(Modifier::BOLD)),
                Span::raw(text),
            ]));
            if let Some(p) = progress
                && let Some(expected) = p.expected_bytes.filter(|e| *e > 0)
            {
                let pct = (p.bytes as f64 * 100.0 / expected as f64).clamp(0.0, 100.0);
                lines.push(Line::from(format!(
                    "{} {pct:.0}% of ~{}",
                    fill_bar(ctx.sym, pct, 40),
                    human_bytes(expected)
                )));
            }
        }
        RescueStage::Done(r) => lines.extend(done_lines(ctx, d, r)),
        RescueStage::Failed { reason } => {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{} FAILED ", ctx.sym.level_glyph(Level::Critical)),
                    t.critical.add_modifier(Modifier::BOLD),
                ),
                Span::styled(s(reason), t.critical),
            ]));
            lines.push(Line::from("Nothing was deleted."));
        }
    }
    // Every change made to the cluster, said as it happened, in every stage after Confirm.
    for c in &d.changes {
        lines.push(Line::from(vec![
            Span::styled("changed ", t.warning.add_modifier(Modifier::BOLD)),
            Span::raw(s(c)),
        ]));
    }
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block)
            .style(t.base),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::backup::BackupProgress;
    use crate::domain::pvcs::PvcKey;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn dialog() -> PvcRescueDialog {
        PvcRescueDialog {
            pvc: PvcKey::new("logging", "loki-storage"),
            volume: Some("pvc-1".into()),
            reclaim_policy: Some("Delete".into()),
            users: vec!["loki-0 (Running)".into()],
            terminating: true,
            audit_log: None,
            stage: RescueStage::Confirm,
            changes: Vec::new(),
        }
    }

    #[test]
    fn enter_starts_esc_cancels_once_and_the_end_closes() {
        let mut d = dialog();
        assert_eq!(d.on_key(key(KeyCode::Char('x'))), RescueKey::Nothing);
        assert_eq!(d.on_key(key(KeyCode::Enter)), RescueKey::Start);
        assert!(d.running());
        assert_eq!(d.on_key(key(KeyCode::Enter)), RescueKey::Nothing);
        assert_eq!(d.on_key(key(KeyCode::Esc)), RescueKey::Cancel);
        assert_eq!(d.on_key(key(KeyCode::Esc)), RescueKey::Nothing);
        d.apply(&RescueEvent::Failed {
            reason: "cancelled".into(),
        });
        assert!(matches!(d.stage, RescueStage::Failed { .. }));
        // Late events after the end change nothing.
        d.apply(&RescueEvent::Progress(BackupProgress {
            bytes: 1,
            bytes_per_sec: 1.0,
            ..BackupProgress::stage(crate::actions::backup::BackupStage::Streaming)
        }));
        assert!(matches!(d.stage, RescueStage::Failed { .. }));
        assert_eq!(d.on_key(key(KeyCode::Enter)), RescueKey::Close);
    }

    #[test]
    fn changes_are_kept_as_they_happen_and_progress_goes_on() {
        let mut d = dialog();
        assert_eq!(d.on_key(key(KeyCode::Enter)), RescueKey::Start);
        d.apply(&RescueEvent::Progress(BackupProgress::changed(
            crate::actions::Change {
                subject: "PV pvc-1 reclaimPolicy".into(),
                text: "PV pvc-1: reclaimPolicy Delete -> Retain".into(),
                undo: Some("kubectl patch pv pvc-1 ...".into()),
            },
        )));
        d.apply(&RescueEvent::Progress(BackupProgress::waiting(
            crate::actions::backup::BackupStage::StartingHelper,
            "helper pod logging/h to be scheduled".into(),
            std::time::Duration::from_secs(42),
        )));
        assert_eq!(d.changes, vec!["PV pvc-1: reclaimPolicy Delete -> Retain"]);
        let RescueStage::Running {
            progress: Some(p), ..
        } = &d.stage
        else {
            panic!("{:?}", d.stage);
        };
        let line = crate::actions::cli::progress_line(p);
        assert!(
            line.contains("helper pod logging/h to be scheduled") && line.contains("42s"),
            "{line}"
        );
        d.apply(&RescueEvent::Failed {
            reason: "exec could not start".into(),
        });
        assert_eq!(d.changes.len(), 1, "kept after the end");
    }

    #[test]
    fn esc_in_confirm_closes_without_starting() {
        let mut d = dialog();
        assert_eq!(d.on_key(key(KeyCode::Esc)), RescueKey::Close);
        assert_eq!(d.stage, RescueStage::Confirm);
    }
}
