//! The footer: the htop-like function-key bar, or the `/` filter / `:` command line being
//! typed (with completion hints), or a short flash message.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::command::completions;
use crate::app::model::{InputMode, Model, Overlay};
use crate::ui::sanitize;
use crate::ui::widgets::ViewCtx;

pub const KEYS: [(&str, &str); 8] = [
    ("F1", "Help"),
    ("F2", "Sort"),
    ("F3", "Filter"),
    ("F5", "Refresh"),
    ("F6", "SortBy"),
    ("F9", "Act"),
    ("F10", "Quit"),
    (":", "Cmd"),
];

pub fn render(model: &Model, ctx: ViewCtx<'_>, f: &mut Frame, area: Rect) {
    let t = ctx.theme;
    let line = match &model.input {
        InputMode::Filter { .. } => {
            let text = crate::app::update::focused_filter(model);
            Line::from(vec![
                Span::styled("/", t.key),
                Span::raw(sanitize(&text).into_owned()),
                Span::styled("_", t.accent),
                Span::styled("  Enter keep, Esc clear", t.muted),
            ])
        }
        InputMode::Command { text } => {
            let mut spans = vec![
                Span::styled(":", t.key),
                Span::raw(sanitize(text).into_owned()),
                Span::styled("_", t.accent),
            ];
            let hints = completions(text);
            if !hints.is_empty() {
                spans.push(Span::styled("  ", t.muted));
                spans.push(Span::styled(hints.join(" "), t.muted));
            }
            Line::from(spans)
        }
        InputMode::Normal if matches!(&model.overlay, Some(Overlay::PvcDelete(_))) => {
            pvc_dialog_keys(model, ctx)
        }
        InputMode::Normal => match &model.flash {
            Some(fl) if fl.until > model.now => Line::from(Span::styled(
                sanitize(&fl.text).into_owned(),
                t.level(fl.level),
            )),
            _ => key_bar(model, ctx),
        },
    };
    f.render_widget(Paragraph::new(line), area);
}

fn key_bar(model: &Model, ctx: ViewCtx<'_>) -> Line<'static> {
    let t = ctx.theme;
    let actions = model.focused.actions_for(model.settings.read_only);
    let mut spans = Vec::new();
    for (k, label) in KEYS {
        let label = if k == "F9" {
            actions.first().map(|a| a.label()).unwrap_or("-")
        } else {
            label
        };
        spans.push(Span::styled(k.to_string(), t.key));
        spans.push(Span::raw(format!("{label} ")));
    }
    Line::from(spans)
}

/// While the PVC delete dialog is open: its keys (a flash, e.g. a refusal, wins).
fn pvc_dialog_keys(model: &Model, ctx: ViewCtx<'_>) -> Line<'static> {
    let t = ctx.theme;
    if let Some(fl) = model.flash.as_ref().filter(|f| f.until > model.now) {
        return Line::from(Span::styled(
            sanitize(&fl.text).into_owned(),
            t.level(fl.level),
        ));
    }
    let Some(Overlay::PvcDelete(d)) = &model.overlay else {
        return Line::default();
    };
    let keys: &[(&str, &str)] = if d.finished() {
        &[("Esc", "Close "), ("Enter", "Close "), ("F10", "Quit")]
    } else if d.can_cancel() {
        if d.stage() == crate::actions::flow::FlowStage::AwaitingName && !d.cancelling {
            &[
                ("Enter", "Confirm "),
                ("Esc", "Cancel "),
                ("F10", "Quit (cancels first)"),
            ]
        } else {
            &[("Esc", "Cancel "), ("F10", "Quit (cancels first)")]
        }
    } else {
        &[("F10", "Quit (after the result)")]
    };
    let mut spans = Vec::new();
    for (k, label) in keys {
        spans.push(Span::styled(k.to_string(), t.key));
        spans.push(Span::raw(label.to_string()));
    }
    Line::from(spans)
}
