//! `update(&mut Model, Msg) -> Vec<Command>`: the only place the model changes. Pure: no I/O,
//! time comes in with the messages, side effects leave as commands.

use std::collections::HashMap;
use std::time::Instant;

use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};

use super::command::{self, LineCommand};
use super::delete::DialogKey;
use super::model::{Danger, InputMode, Model, Overlay};
use super::msg::{Command, CommandResult, Msg};
use super::panes::{Pane, Shared};
use super::table::{TableData, TableState};
use crate::actions::flow::{FlowEvent, FlowInput, FlowStage};
use crate::app::rescue::{RescueEvent, RescueKey};
use crate::domain::Level;
use crate::domain::pane::{Action, PaneKind};
use crate::rules::{AlertPhase, TransitionKind};
use crate::sources::{Payload, SourceId, SourceUpdate};

pub fn update(m: &mut Model, msg: Msg) -> Vec<Command> {
    let mut cmds = Vec::new();
    match msg {
        Msg::Tick { now, wall } => {
            m.now = now.max(m.now);
            m.wall = wall;
            if m.flash.as_ref().is_some_and(|f| f.until <= m.now) {
                m.flash = None;
            }
            on_tick(m, now, wall, &mut cmds);
            m.dirty = true;
            return cmds;
        }
        Msg::Source(u) => {
            match on_source(m, u, &mut cmds) {
                // A heartbeat: only a feed's age moved, which the next tick draws.
                Applied::Nothing => return cmds,
                // New data is drawn with the next second's frame (see `Model::urgent`); a
                // source's first report at once (the first full pane is not kept waiting).
                Applied::Data => {}
                Applied::First => m.urgent = true,
            }
            m.dirty = true;
            return cmds;
        }
        Msg::Key(k) => {
            if k.kind != KeyEventKind::Release {
                on_key(m, k, &mut cmds);
            }
        }
        Msg::Mouse(me) => {
            if m.overlay.is_some() || m.input != InputMode::Normal {
                return cmds;
            }
            // Tabs are pushed before panes, so a tab wins over the pane area under it.
            let hit = m
                .click_targets
                .borrow()
                .iter()
                .find(|(r, _)| {
                    r.contains(ratatui::layout::Position {
                        x: me.column,
                        y: me.row,
                    })
                })
                .map(|(_, k)| *k);
            match me.kind {
                MouseEventKind::Down(MouseButton::Left) => match hit {
                    Some(k) => focus(m, k),
                    None => return cmds,
                },
                MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                    if let Some(k) = hit {
                        m.focused = k;
                    }
                    let n = if me.kind == MouseEventKind::ScrollDown {
                        3
                    } else {
                        -3
                    };
                    table_op(m, |t, d| t.move_by(n, d));
                }
                _ => return cmds,
            }
        }
        Msg::Paste(text) => on_paste(m, &text),
        Msg::Resize(w, h) => m.size = (w, h),
        Msg::CommandDone(CommandResult::PodLogs(view)) => {
            // Only if that log view is still open (the user may have closed it or moved on).
            if let Some(Overlay::PodLogs(open)) = &mut m.overlay
                && open.same_request(&view)
            {
                *open = view;
            }
        }
        Msg::CommandDone(CommandResult::PvcFlow { pvc, event }) => {
            on_flow_event(m, &pvc, &event, &mut cmds)
        }
        Msg::CommandDone(CommandResult::PvcRescue { pvc, event }) => {
            on_rescue_event(m, &pvc, &event)
        }
        Msg::CommandDone(CommandResult::PvcFlowStarted { pvc, audit_log }) => {
            if let Some(Overlay::PvcDelete(d)) = &mut m.overlay
                && d.pvc == pvc
            {
                d.audit_log = audit_log;
            }
        }
        Msg::CommandDone(CommandResult::PvcFlowBusy { pvc, running }) => {
            if let Some(Overlay::PvcDelete(d)) = &m.overlay
                && d.pvc == pvc
                && d.stage() == FlowStage::Preflight
            {
                m.overlay = None;
            }
            m.flash(
                format!(
                    "a delete is already in progress ({}); nothing was done for {}",
                    crate::sanitize::display_line(&running.to_string()),
                    crate::sanitize::display_line(&pvc.to_string())
                ),
                Level::Warning,
            );
        }
        Msg::CommandDone(CommandResult::ExecutorPanicked { message }) => m.flash(
            format!(
                "an action failed: it panicked ({}); details in the log",
                crate::sanitize::display_line(&message)
            ),
            Level::Critical,
        ),
        Msg::CommandDone(CommandResult::AlertHooksDropped { total }) => {
            m.alerts.note_hooks_dropped(total)
        }
        Msg::CommandDone(CommandResult::AlertHook {
            rule,
            subject,
            outcome,
        }) => match outcome {
            Ok(Some(0)) => {}
            Ok(code) => m.flash(
                format!(
                    "alert command for {rule} {subject} exited with {}",
                    code.map_or("a signal".into(), |c| c.to_string())
                ),
                Level::Warning,
            ),
            Err(e) => m.flash(
                format!("alert command for {rule} {subject} failed: {e}"),
                Level::Warning,
            ),
        },
        Msg::Shutdown(_) => {
            m.quit = true;
            cmds.push(Command::Quit);
        }
    }
    // What the user did (a key, a click, a command's result) is drawn at once.
    m.dirty = true;
    m.urgent = true;
    cmds
}

/// What a source update changed.
enum Applied {
    /// A heartbeat (or an update for a source without a pane): only a feed's age moved.
    Nothing,
    /// New data, an error, or an update the pane set aside (as before: drawn).
    Data,
    /// The source's first report since start (or since `:ctx`/`:ns`).
    First,
}

/// Applies one source update and says what it changed.
fn on_source(m: &mut Model, u: SourceUpdate, cmds: &mut Vec<Command>) -> Applied {
    m.now = m.now.max(u.at);
    let heartbeat = matches!(u.result, Ok(Payload::Unchanged));
    let (source, at, wall) = (u.source, u.at, u.wall);
    let (conditions, first) = {
        let now = m.now;
        let (panes, shared) = split(m, now);
        let Some(pane) = panes
            .iter_mut()
            .find(|p| p.kind().spec().source == Some(source))
        else {
            tracing::debug!(source = source.name(), "update for a source without a pane");
            return Applied::Nothing;
        };
        // A pane has no age before its source's first report (it says "connecting").
        let loading = pane.freshness(now).is_none();
        let conditions = pane.apply(u, &shared);
        (conditions, loading && pane.freshness(now).is_some())
    };
    // `None`: an error, a stale update or a heartbeat; the pane keeps its last good data (and
    // shows the error).
    let applied = match (&conditions, first) {
        (_, true) => Applied::First,
        (None, false) if heartbeat => Applied::Nothing,
        _ => Applied::Data,
    };
    if let Some(conditions) = conditions {
        on_conditions(m, source, &conditions, at, wall, true, cmds);
    }
    applied
}

/// Lets every pane re-judge what time alone changes; a pane that did hands its source's
/// conditions to the alert book.
fn on_tick(m: &mut Model, now: Instant, wall: jiff::Timestamp, cmds: &mut Vec<Command>) {
    let mut judged = Vec::new();
    {
        let (panes, shared) = split(m, now);
        for p in panes.iter_mut() {
            if let (Some(source), Some(c)) = (p.kind().spec().source, p.tick(now, wall, &shared)) {
                judged.push((source, c));
            }
        }
    }
    for (source, conditions) in judged {
        on_conditions(m, source, &conditions, now, wall, false, cmds);
    }
}

/// A source's complete conditions, evaluated: alert transitions, the bell and hook runs per
/// group transition, and the tables that show them.
fn on_conditions(
    m: &mut Model,
    source: SourceId,
    conditions: &[crate::rules::Condition],
    at: Instant,
    wall: jiff::Timestamp,
    refresh_source: bool,
    cmds: &mut Vec<Command>,
) {
    let alerts_before = m.alerts.generation();
    // Notifications follow groups: 1,000 pods OOM-killed at once are one bell and one hook run.
    let changes = m.alerts.observe_changes(source, conditions, at, wall);
    let transitions = !changes.alerts.is_empty();
    tracing::debug!(
        source = source.name(),
        conditions = conditions.len(),
        transitions = changes.alerts.len(),
        groups = changes.groups.len(),
        "source update applied"
    );
    let alerts_changed = transitions || m.alerts.generation() != alerts_before;
    let bell = m.settings.bell
        && changes
            .groups
            .iter()
            .any(|t| t.kind == TransitionKind::Firing && t.key.level == Level::Critical);
    if bell {
        cmds.push(Command::Bell);
    }
    if m.settings.alert_command.is_some() {
        cmds.extend(
            changes
                .groups
                .into_iter()
                .map(|t| Command::RunAlertHook(Box::new(t))),
        );
    }
    // Work follows change: the source's own pane rebuilds its tables (unless it just did, on
    // a tick); the alert list and the danger map only when the alert book changed.
    if refresh_source {
        refresh_where(m, |k| k.spec().source == Some(source));
    }
    if transitions {
        refresh_danger(m);
    }
    if alerts_changed {
        refresh_where(m, |k| k == PaneKind::Alerts);
    }
}

/// Danger per subject from the active alerts: firing beats pending, then the louder level.
/// Only the sockets pane looks its rows' danger up here (pods, PVCs, certificates and probes
/// carry their verdicts in their rows), so only sockets' alerts are mapped: not one string per
/// pod alert on every change.
fn refresh_danger(m: &mut Model) {
    let mut map: HashMap<(SourceId, String), Danger> = HashMap::new();
    for a in m.alerts.active_of(SourceId::Sockets) {
        let d = Danger {
            level: a.key.level,
            pending: matches!(a.phase, AlertPhase::Pending { .. }),
        };
        let k = (a.key.source, format!("{}@{}", a.key.rule, a.key.subject));
        let e = map.entry(k).or_insert(d);
        if (!d.pending, d.level) > (!e.pending, e.level) {
            *e = d;
        }
    }
    m.danger = map;
}

/// Lets every pane recompute its tables (new data, alerts changed).
fn refresh_panes(m: &mut Model) {
    refresh_where(m, |_| true);
}

/// The panes, mutable, and what they may read of the rest of the model at `now`.
fn split(m: &mut Model, now: Instant) -> (&mut Vec<Box<dyn Pane>>, Shared<'_>) {
    let Model {
        panes,
        alerts,
        settings,
        ..
    } = m;
    (
        panes,
        Shared {
            alerts,
            settings,
            now,
        },
    )
}

/// Lets the panes `which` selects recompute their tables.
fn refresh_where(m: &mut Model, which: impl Fn(PaneKind) -> bool) {
    let now = m.now;
    let (panes, shared) = split(m, now);
    for p in panes.iter_mut().filter(|p| which(p.kind())) {
        p.refresh(&shared);
    }
}

/// Runs `f` on the focused pane with the rest of the model readable.
fn with_focused<R>(m: &mut Model, f: impl FnOnce(&mut dyn Pane, &Shared<'_>) -> R) -> Option<R> {
    let (now, focused) = (m.now, m.focused);
    let (panes, shared) = split(m, now);
    panes
        .iter_mut()
        .find(|p| p.kind() == focused)
        .map(|p| f(p.as_mut(), &shared))
}

/// Runs `op` on the focused pane's table with its data.
fn table_op(m: &mut Model, op: impl FnOnce(&mut TableState, &dyn TableData)) {
    let mut op = Some(op);
    with_focused(m, |p, shared| {
        p.with_table(shared, &mut |t, d| {
            if let Some(op) = op.take() {
                op(t, d)
            }
        })
    });
}

/// The filter text of the focused pane's table.
pub fn focused_filter(m: &Model) -> String {
    m.focused_pane()
        .map(|p| p.filter().to_string())
        .unwrap_or_default()
}

fn set_filter(m: &mut Model, text: String) {
    table_op(m, |t, d| t.set_filter(text, d));
}

fn on_paste(m: &mut Model, text: &str) {
    // Pasted text is flattened to one line; controls never reach a filter or command.
    let flat = text.replace(['\r', '\n'], " ");
    let clean: String = crate::sanitize::display_line(&flat)
        .chars()
        .take(256)
        .collect();
    match &mut m.overlay {
        Some(Overlay::PvcDelete(d)) => {
            // The name must be typed: a paste never reaches the box or the flow.
            d.refuse_paste();
            return;
        }
        Some(Overlay::AckNote { input, .. }) => {
            input.insert_str(clean);
            return;
        }
        Some(_) => return,
        None => {}
    }
    match &mut m.input {
        InputMode::Filter { .. } => {
            let f = focused_filter(m) + &clean;
            set_filter(m, f);
        }
        InputMode::Command { text } => text.push_str(&clean),
        InputMode::Normal => {}
    }
}

fn half_page(m: &Model) -> isize {
    (m.size.1 as isize / 2).max(1)
}

fn on_key(m: &mut Model, k: KeyEvent, cmds: &mut Vec<Command>) {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    if (ctrl && k.code == KeyCode::Char('c'))
        || (k.code == KeyCode::F(10) && matches!(m.overlay, Some(Overlay::PvcDelete(_))))
    {
        quit_or_stop_flow(m, cmds);
        return;
    }
    if let Some(overlay) = &mut m.overlay {
        match overlay {
            Overlay::AckNote { key, input } => match k.code {
                KeyCode::Esc => m.overlay = None,
                KeyCode::Enter => {
                    let note = crate::sanitize::display_line(&input.lines().join(" "))
                        .trim()
                        .to_string();
                    let key = key.clone();
                    m.overlay = None;
                    let note = if note.is_empty() {
                        "acknowledged".to_string()
                    } else {
                        note
                    };
                    match m.alerts.acknowledge_target(&key, note, m.wall) {
                        Some(t) => {
                            let what = if key.is_group() {
                                format!("{} ({} alerts)", t.title, t.count)
                            } else {
                                format!(
                                    "{} {}",
                                    t.title,
                                    crate::sanitize::display_line(&key.subject)
                                )
                            };
                            m.flash(format!("acknowledged {what}"), Level::Info);
                            if m.settings.alert_command.is_some() {
                                cmds.push(Command::RunAlertHook(Box::new(t)));
                            }
                        }
                        None => m.flash(
                            "that alert has cleared; nothing to acknowledge",
                            Level::Info,
                        ),
                    }
                    refresh_panes(m);
                }
                _ => {
                    input.input(k);
                }
            },
            Overlay::Help => match k.code {
                KeyCode::Esc
                | KeyCode::Char('q')
                | KeyCode::Char('?')
                | KeyCode::F(1)
                | KeyCode::Enter => m.overlay = None,
                // Scrolled when the keys do not fit (the view clamps it).
                KeyCode::Char('j') | KeyCode::Down | KeyCode::PageDown => {
                    m.help_scroll = (m.help_scroll + 1).min(super::help::max_scroll(m.size.1));
                }
                KeyCode::Char('k') | KeyCode::Up | KeyCode::PageUp => {
                    m.help_scroll = m.help_scroll.saturating_sub(1);
                }
                _ => {}
            },
            Overlay::PodLogs(view) => {
                if !view.on_key(k.code) {
                    m.overlay = None;
                }
            }
            Overlay::Detail => {
                if matches!(k.code, KeyCode::Esc | KeyCode::Char('q') | KeyCode::Enter) {
                    m.overlay = None;
                }
            }
            Overlay::PvcDelete(d) => match d.on_key(k) {
                DialogKey::Nothing => {}
                DialogKey::Send(input) => cmds.push(Command::PvcFlowInput(input)),
                DialogKey::Close => m.overlay = None,
            },
            Overlay::PvcRescue(d) => match d.on_key(k) {
                RescueKey::Nothing => {}
                RescueKey::Start => cmds.push(Command::StartPvcRescue { pvc: d.pvc.clone() }),
                RescueKey::Cancel => cmds.push(Command::CancelPvcRescue),
                RescueKey::Close => m.overlay = None,
            },
        }
        return;
    }
    match std::mem::replace(&mut m.input, InputMode::Normal) {
        InputMode::Filter { before } => {
            match k.code {
                KeyCode::Esc => set_filter(m, before),
                KeyCode::Enter | KeyCode::Down | KeyCode::Up => {}
                KeyCode::Backspace => {
                    let mut f = focused_filter(m);
                    f.pop();
                    set_filter(m, f);
                    m.input = InputMode::Filter { before };
                }
                KeyCode::Char(c) if !ctrl => {
                    let f = focused_filter(m) + &c.to_string();
                    set_filter(m, f);
                    m.input = InputMode::Filter { before };
                }
                _ => m.input = InputMode::Filter { before },
            }
            return;
        }
        InputMode::Command { mut text } => {
            match k.code {
                KeyCode::Esc => {}
                KeyCode::Enter => run_line(m, &text, cmds),
                KeyCode::Tab => {
                    text = command::complete(&text);
                    m.input = InputMode::Command { text };
                }
                KeyCode::Backspace => {
                    if text.pop().is_some() {
                        m.input = InputMode::Command { text };
                    }
                }
                KeyCode::Char(c) if !ctrl => {
                    if text.len() < 200 {
                        text.push(c);
                    }
                    m.input = InputMode::Command { text };
                }
                _ => m.input = InputMode::Command { text },
            }
            return;
        }
        InputMode::Normal => {}
    }
    // Enter on an alert group expands or folds it (on a single alert: the detail view).
    if k.code == KeyCode::Enter
        && m.focused == PaneKind::Alerts
        && with_focused(m, |p, shared| p.on_key(k, shared)) == Some(true)
    {
        return;
    }
    match (k.code, ctrl) {
        (KeyCode::Char('q'), false) | (KeyCode::F(10), _) => {
            m.quit = true;
            cmds.push(Command::Quit);
        }
        (KeyCode::Char('?'), _) | (KeyCode::F(1), _) => {
            m.help_scroll = 0;
            m.overlay = Some(Overlay::Help);
        }
        (KeyCode::Char('/'), _) | (KeyCode::F(3), _) => {
            m.input = InputMode::Filter {
                before: focused_filter(m),
            };
        }
        (KeyCode::Char(':'), _) => {
            m.input = InputMode::Command {
                text: String::new(),
            }
        }
        (KeyCode::Esc, _) if !focused_filter(m).is_empty() => set_filter(m, String::new()),
        // k9s habit: Ctrl-d deletes on the PVC pane (elsewhere it scrolls half a page).
        (KeyCode::Char('d'), true) if m.focused == PaneKind::Pvcs => act(m, true, cmds),
        (KeyCode::Char('R'), false) if m.focused == PaneKind::Pvcs => start_rescue(m, cmds),
        (KeyCode::Char('d'), true) | (KeyCode::PageDown, _) => {
            let n = half_page(m);
            table_op(m, |t, d| t.move_by(n, d));
        }
        (KeyCode::Char('u'), true) | (KeyCode::PageUp, _) => {
            let n = half_page(m);
            table_op(m, |t, d| t.move_by(-n, d));
        }
        (KeyCode::Char('j'), false) | (KeyCode::Down, _) => table_op(m, |t, d| t.move_by(1, d)),
        (KeyCode::Char('k'), false) | (KeyCode::Up, _) => table_op(m, |t, d| t.move_by(-1, d)),
        (KeyCode::Char('g'), false) | (KeyCode::Home, _) => table_op(m, |t, d| t.first(d)),
        (KeyCode::Char('G'), _) | (KeyCode::End, _) => table_op(m, |t, d| t.last(d)),
        (KeyCode::Char('s'), false)
        | (KeyCode::Char('>'), _)
        | (KeyCode::F(2), _)
        | (KeyCode::F(6), _) => table_op(m, |t, d| t.cycle_sort(true, d)),
        (KeyCode::Char('<'), _) => table_op(m, |t, d| t.cycle_sort(false, d)),
        (KeyCode::Char('r'), false) => table_op(m, |t, d| t.reverse_sort(d)),
        (KeyCode::Enter, _) if m.focused.spec().available => m.overlay = Some(Overlay::Detail),
        (KeyCode::Tab, _) => cycle_pane(m, true),
        (KeyCode::BackTab, _) => cycle_pane(m, false),
        (KeyCode::F(5), _) => {
            cmds.push(Command::RefreshSources);
            m.flash("refresh requested", Level::Info);
        }
        (KeyCode::F(9), _) | (KeyCode::Char('a'), false) => act(m, k.code == KeyCode::F(9), cmds),
        _ => {
            if let Some(Some((overlay, cmd))) =
                with_focused(m, |p, shared| p.key_request(k, shared))
            {
                m.overlay = Some(overlay);
                cmds.push(cmd);
            } else {
                with_focused(m, |p, shared| p.on_key(k, shared));
            }
        }
    }
}

/// `:ctx` / `:ns`: the Kubernetes panes forget the old target's data (they show loading, never
/// the old cluster's pods under the new name) and the console reconnects.
fn retarget(m: &mut Model, cmds: &mut Vec<Command>, r: crate::sources::kube::Retarget) {
    let now = m.now;
    for p in m.panes.iter_mut() {
        p.retargeted(now);
    }
    let what = match &r {
        crate::sources::kube::Retarget::Context(c) => format!("switching to context {c}"),
        crate::sources::kube::Retarget::Namespace(n) => format!("switching to namespace {n}"),
    };
    m.flash(
        crate::sanitize::display_line(&what).into_owned(),
        Level::Info,
    );
    cmds.push(Command::Retarget(r));
    m.dirty = true;
}

/// Panes Tab moves between: the grid's when the grid is showing, else every tab.
fn cycle_pane(m: &mut Model, forward: bool) {
    let grid: Vec<PaneKind> = m.settings.visible_grid().into_iter().flatten().collect();
    let grid_on = m.size.0 >= m.settings.min_grid_cols
        && m.size.1 >= m.settings.min_grid_rows
        && grid.len() > 1;
    let ring = if grid_on && grid.contains(&m.focused) {
        grid
    } else {
        m.tabs.clone()
    };
    if ring.is_empty() {
        return;
    }
    let pos = ring.iter().position(|k| *k == m.focused).unwrap_or(0);
    let n = ring.len();
    m.focused = ring[if forward {
        (pos + 1) % n
    } else {
        (pos + n - 1) % n
    }];
}

pub fn focus(m: &mut Model, kind: PaneKind) {
    m.focused = kind;
    if !kind.spec().available {
        m.flash(
            format!("{}: {}", kind.spec().title, kind.arrives_with()),
            Level::Info,
        );
    }
}

/// F9 / `a`: the focused pane's action on its selected row.
fn act(m: &mut Model, via_f9: bool, cmds: &mut Vec<Command>) {
    let actions = m.focused.actions_for(m.settings.read_only);
    match actions.first() {
        Some(Action::Acknowledge) => start_ack(m),
        Some(Action::RescuePvc) => start_rescue(m, cmds),
        Some(&action @ Action::DeletePvc) => {
            if !via_f9 {
                return;
            }
            if let Some(Overlay::PvcDelete(d)) = &m.overlay
                && !d.finished()
            {
                m.flash("a delete is already in progress", Level::Warning);
                return;
            }
            match with_focused(m, |p, shared| p.action_request(action, shared)).flatten() {
                Some((overlay, cmd)) => {
                    m.overlay = Some(overlay);
                    cmds.extend(cmd);
                }
                None => m.flash("no PVC selected", Level::Info),
            }
        }
        None if via_f9 => {
            let why = if m.settings.read_only {
                " (read-only mode)"
            } else {
                ""
            };
            m.flash(
                format!("no actions on the {} pane{why}", m.focused.spec().title),
                Level::Info,
            );
        }
        None => {}
    }
}

fn start_ack(m: &mut Model) {
    let key = with_focused(m, |p, shared| p.selected_alert(shared)).flatten();
    match key {
        Some(key) => {
            m.overlay = Some(Overlay::AckNote {
                key,
                input: Box::new(crate::app::model::ack_input()),
            })
        }
        None => m.flash("no alert selected", Level::Info),
    }
}

fn run_line(m: &mut Model, text: &str, cmds: &mut Vec<Command>) {
    match command::parse(text) {
        LineCommand::Show(k) => focus(m, k),
        LineCommand::Quit => {
            m.quit = true;
            cmds.push(Command::Quit);
        }
        LineCommand::Ack => {
            m.focused = PaneKind::Alerts;
            start_ack(m);
        }
        LineCommand::Theme(name) if !name.is_empty() => m.theme_request = Some(name),
        LineCommand::Theme(_) => m.flash(
            "usage: :theme NAME (dark, light, high-contrast, colorblind)",
            Level::Info,
        ),
        LineCommand::Context(name) | LineCommand::Namespace(name) if name.is_empty() => m.flash(
            "usage: :ctx NAME (a kubeconfig context) or :ns NAME (a namespace, or all)",
            Level::Info,
        ),
        LineCommand::Context(name) => {
            retarget(m, cmds, crate::sources::kube::Retarget::Context(name))
        }
        LineCommand::Namespace(name) => {
            retarget(m, cmds, crate::sources::kube::Retarget::Namespace(name))
        }
        LineCommand::Unknown(w) => m.flash(
            format!("unknown command :{w} (Tab completes)"),
            Level::Warning,
        ),
        LineCommand::Empty => {}
    }
}

/// F10 / Ctrl-c. With a delete flow running, ondeck does not walk away from it: before the
/// delete request it is cancelled first (the flow removes its helper pod and says so), and
/// the app quits when the flow reports its end; with the request in flight it waits for the
/// result. Pressed again while waiting: quit now (the runtime still cancels the flow and
/// waits a bounded time for its cleanup after restoring the terminal).
fn quit_or_stop_flow(m: &mut Model, cmds: &mut Vec<Command>) {
    if let Some(Overlay::PvcDelete(d)) = &mut m.overlay
        && !d.finished()
        && !d.quitting
    {
        d.quitting = true;
        if d.can_cancel() && !d.cancelling {
            d.cancelling = true;
            cmds.push(Command::PvcFlowInput(FlowInput::Cancel));
        }
        m.flash(
            "stopping the PVC delete flow before quitting (again to quit now)",
            Level::Warning,
        );
        return;
    }
    m.quit = true;
    cmds.push(Command::Quit);
}

/// One event of a rescue: to its dialog; with the dialog closed, the end is still said in
/// the footer (a rescue's outcome is never silent).
fn on_rescue_event(m: &mut Model, pvc: &crate::domain::pvcs::PvcKey, ev: &RescueEvent) {
    if let Some(Overlay::PvcRescue(d)) = &mut m.overlay
        && &d.pvc == pvc
    {
        d.apply(ev);
        return;
    }
    let pvc = crate::sanitize::display_line(&pvc.to_string()).into_owned();
    match ev {
        RescueEvent::Done(r) => m.flash(
            format!(
                "rescue of {pvc} done: backup {}",
                crate::sanitize::display_line(&r.backup_dir.display().to_string())
            ),
            Level::Info,
        ),
        RescueEvent::Failed { reason } => m.flash(
            format!(
                "rescue of {pvc} failed: {}",
                crate::sanitize::display_line(reason)
            ),
            Level::Critical,
        ),
        _ => {}
    }
}

/// `R` on the PVC pane: the rescue dialog for the selected claim (nothing is sent until the
/// user confirms in it). Read-only mode has no rescue: it patches the PV and execs.
fn start_rescue(m: &mut Model, cmds: &mut Vec<Command>) {
    if m.settings.read_only {
        m.flash("read-only mode: rescue is disabled", Level::Info);
        return;
    }
    if matches!(
        m.overlay,
        Some(Overlay::PvcRescue(_)) | Some(Overlay::PvcDelete(_))
    ) {
        return;
    }
    match with_focused(m, |p, shared| p.action_request(Action::RescuePvc, shared)).flatten() {
        Some((overlay, cmd)) => {
            m.overlay = Some(overlay);
            cmds.extend(cmd);
        }
        None => m.flash(
            "rescue is for a claim that is Terminating while a pod still uses it; select one",
            Level::Info,
        ),
    }
}

/// One event of the delete flow: to the dialog showing that claim (a late event for a dialog
/// that was closed, or for another claim, is dropped); the end of the flow may finish a quit.
fn on_flow_event(
    m: &mut Model,
    pvc: &crate::domain::pvcs::PvcKey,
    ev: &FlowEvent,
    cmds: &mut Vec<Command>,
) {
    let Some(Overlay::PvcDelete(d)) = &mut m.overlay else {
        return;
    };
    if &d.pvc != pvc {
        return;
    }
    d.apply(ev);
    if d.finished() && d.quitting {
        m.quit = true;
        cmds.push(Command::Quit);
    }
}
