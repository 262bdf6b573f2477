//! The guarded PVC delete dialog: `update` driven with synthetic flow events and keys (the
//! commands it produces), insta snapshots of every state at 80x24 with the styles of the cells
//! that carry danger, and the dialog wired to the real executor against the simulated cluster
//! (in-process, no pty), asserting from the sim's state and request log.

mod pvc_support;

use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ondeck::actions::PvcRef;
use ondeck::actions::backup::{BackupProgress, BackupStage};
use ondeck::actions::delete::DeleteOutcome;
use ondeck::actions::flow::{FlowEvent, FlowInput, FlowStage};
use ondeck::app::model::Overlay;
use ondeck::app::{Command, CommandResult, Model, Msg, Settings, update};
use ondeck::domain::Level;
use ondeck::domain::pvcs::{PvcKey, PvcRow, UsedSpace};
use ondeck::ui::dialogs::pvc_delete::{PASTE_REFUSED, PvcDeleteDialog, open};
use ondeck::ui::fixtures::{buffer_text, incident_model, render};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::theme::Theme;
use ratatui::buffer::Buffer;

const UNUSED: &str = "monitoring/grafana-data-old";

fn row(ns: &str, name: &str) -> PvcRow {
    PvcRow {
        namespace: ns.into(),
        name: name.into(),
        uid: None,
        status: "Bound".into(),
        phase: Some("Bound".into()),
        deletion_timestamp: None,
        finalizers: vec![],
        capacity: Some("1Gi".into()),
        capacity_bytes: Some(1 << 30),
        storage_class: Some("standard".into()),
        volume: Some("pvc-1".into()),
        reclaim_policy: Some("Delete".into()),
        access_modes: vec!["RWO".into()],
        users: vec![],
        used: UsedSpace::unknown("not mounted"),
        created: None,
        markers: vec![],
        level: Level::Ok,
        reasons: vec![],
    }
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn pvc() -> PvcKey {
    PvcKey::new("monitoring", "grafana-data-old")
}

fn flow(ev: FlowEvent) -> Msg {
    Msg::CommandDone(CommandResult::PvcFlow {
        pvc: pvc(),
        event: ev,
    })
}

fn dialog(m: &Model) -> &PvcDeleteDialog {
    match &m.overlay {
        Some(Overlay::PvcDelete(d)) => d,
        other => panic!("no PVC dialog open: {other:?}"),
    }
}

/// A model with the dialog open on monitoring/grafana-data-old (as the PVC pane does on F9).
fn opened() -> Model {
    let (mut m, _) = incident_model(Settings::default());
    let (overlay, cmd) = open(&row("monitoring", "grafana-data-old"));
    assert!(matches!(&cmd, Command::StartPvcDelete { pvc: p } if *p == pvc()));
    m.overlay = Some(overlay);
    m
}

fn plan() -> Vec<String> {
    vec![
        "target     context \"ondeck-sim\" at https://127.0.0.1:6443".into(),
        "claim      monitoring/grafana-data-old uid=3f1c resourceVersion=42".into(),
        "status     Bound  capacity 1Gi  storageClass standard".into(),
        "volume     pvc-1  reclaimPolicy Delete  phase Bound".into(),
        "finalizers kubernetes.io/pvc-protection".into(),
        "used by    nobody (UNUSED)".into(),
        "1. back up manifests and data through a temporary read-only helper pod, verify the archive".into(),
        "2. patch PV pvc-1 reclaimPolicy Delete -> Retain".into(),
        "3. type monitoring/grafana-data-old to confirm".into(),
        "4. server dry-run, then delete with uid + resourceVersion preconditions".into(),
    ]
}

fn to_backing_up(m: &mut Model) {
    update(
        m,
        Msg::CommandDone(CommandResult::PvcFlowStarted {
            pvc: pvc(),
            audit_log: Some(PathBuf::from("/state/ondeck/audit.jsonl")),
        }),
    );
    update(
        m,
        flow(FlowEvent::Preflight {
            plan: plan(),
            refusals: vec![],
        }),
    );
}

fn to_awaiting_name(m: &mut Model) {
    to_backing_up(m);
    update(
        m,
        flow(FlowEvent::BackupVerified {
            dir: "/state/ondeck/backups/monitoring/grafana-data-old/20261121T122000Z".into(),
            files: 12,
            bytes: 4 << 20,
            archive_sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                .into(),
        }),
    );
    update(
        m,
        flow(FlowEvent::RetainSet {
            pv: "pvc-1".into(),
            before: Some("Delete".into()),
            after: Some("Retain".into()),
        }),
    );
    update(
        m,
        flow(FlowEvent::AwaitingName {
            expected: PvcRef::new("monitoring", "grafana-data-old"),
        }),
    );
    assert_eq!(dialog(m).stage(), FlowStage::AwaitingName);
}

fn type_text(m: &mut Model, text: &str) -> Vec<Command> {
    let mut cmds = Vec::new();
    for c in text.chars() {
        cmds.extend(update(m, key(KeyCode::Char(c))));
    }
    cmds
}

fn flow_inputs(cmds: &[Command]) -> Vec<FlowInput> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::PvcFlowInput(i) => Some(i.clone()),
            _ => None,
        })
        .collect()
}

// ---- keys and commands ------------------------------------------------------------------

#[test]
fn the_typed_name_is_sent_only_on_enter() {
    let mut m = opened();
    // Keys before the flow waits for the name go nowhere.
    assert!(flow_inputs(&type_text(&mut m, "monitoring")).is_empty());
    assert_eq!(dialog(&m).typed(), "");
    to_awaiting_name(&mut m);
    let cmds = type_text(&mut m, UNUSED);
    assert!(flow_inputs(&cmds).is_empty(), "{cmds:?}");
    assert_eq!(dialog(&m).typed(), UNUSED);
    let cmds = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        flow_inputs(&cmds),
        vec![FlowInput::ConfirmName(UNUSED.into())]
    );
    // A second Enter does not send it again.
    assert!(flow_inputs(&update(&mut m, key(KeyCode::Enter))).is_empty());
}

#[test]
fn backspace_edits_and_a_mismatch_is_sent_as_typed() {
    let mut m = opened();
    to_awaiting_name(&mut m);
    type_text(&mut m, "monitoring/grafana-datx");
    update(&mut m, key(KeyCode::Backspace));
    assert_eq!(dialog(&m).typed(), "monitoring/grafana-dat");
    // The neighbour's name (incident 5): sent as typed; the flow refuses it.
    type_text(&mut m, "a");
    let cmds = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        flow_inputs(&cmds),
        vec![FlowInput::ConfirmName("monitoring/grafana-data".into())]
    );
}

#[test]
fn a_paste_is_refused_nothing_is_inserted_and_the_box_is_cleared() {
    let mut m = opened();
    to_awaiting_name(&mut m);
    type_text(&mut m, "monitoring/");
    let cmds = update(&mut m, Msg::Paste(UNUSED.into()));
    assert!(cmds.is_empty(), "{cmds:?}");
    let d = dialog(&m);
    assert_eq!(d.typed(), "");
    assert_eq!(d.refusal.as_deref(), Some(PASTE_REFUSED));
    // The flow keeps waiting: Enter now sends the (empty) box, never the pasted text.
    assert_eq!(d.stage(), FlowStage::AwaitingName);
    let cmds = update(&mut m, key(KeyCode::Enter));
    assert_eq!(
        flow_inputs(&cmds),
        vec![FlowInput::ConfirmName(String::new())]
    );
}

#[test]
fn a_burst_of_keys_is_a_paste_a_few_keys_are_typing() {
    let keys = |s: &str| -> Vec<Event> {
        s.chars()
            .map(|c| Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)))
            .collect()
    };
    let mut burst = keys(UNUSED);
    burst.push(Event::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )));
    burst.push(Event::Resize(80, 24));
    let (msg, rest) = ondeck::app::classify_burst(burst);
    assert!(
        matches!(&msg, Some(Msg::Paste(t)) if t == UNUSED),
        "{msg:?}"
    );
    // The Enter of the same burst is part of the paste; other events stay.
    assert_eq!(rest, vec![Event::Resize(80, 24)]);
    let (msg, rest) = ondeck::app::classify_burst(keys("mon"));
    assert!(
        matches!(&msg, Some(Msg::Key(k)) if k.code == KeyCode::Char('m')),
        "{msg:?}"
    );
    assert_eq!(rest.len(), 2);
}

#[test]
fn esc_cancels_before_the_delete_and_not_while_it_is_sent() {
    // Preflight.
    let mut m = opened();
    let cmds = update(&mut m, key(KeyCode::Esc));
    assert_eq!(flow_inputs(&cmds), vec![FlowInput::Cancel]);
    assert!(dialog(&m).cancelling);
    // Not twice; the dialog stays until the flow says it stopped.
    assert!(flow_inputs(&update(&mut m, key(KeyCode::Esc))).is_empty());
    assert!(m.overlay.is_some());
    update(
        &mut m,
        flow(FlowEvent::Failed {
            reason: "cancelled after the preflight".into(),
            backup_dir: None,
        }),
    );
    assert_eq!(dialog(&m).stage(), FlowStage::Failed);
    assert!(!dialog(&m).cancelling);

    // BackingUp and AwaitingName.
    let mut m = opened();
    to_backing_up(&mut m);
    assert_eq!(
        flow_inputs(&update(&mut m, key(KeyCode::Esc))),
        vec![FlowInput::Cancel]
    );
    let mut m = opened();
    to_awaiting_name(&mut m);
    type_text(&mut m, "monit");
    assert_eq!(
        flow_inputs(&update(&mut m, key(KeyCode::Esc))),
        vec![FlowInput::Cancel]
    );
    // Typing is over once cancelling.
    type_text(&mut m, "oring");
    assert_eq!(dialog(&m).typed(), "monit");

    // Deleting: nothing is sent, the dialog stays and says why.
    let mut m = opened();
    to_awaiting_name(&mut m);
    type_text(&mut m, UNUSED);
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, flow(FlowEvent::Deleting));
    let cmds = update(&mut m, key(KeyCode::Esc));
    assert!(cmds.is_empty(), "{cmds:?}");
    let d = dialog(&m);
    assert_eq!(d.stage(), FlowStage::Deleting);
    assert!(d.note.as_deref().is_some_and(|n| n.contains("was sent")));
}

#[test]
fn done_and_failed_close_on_esc_enter_or_q() {
    for close in [KeyCode::Esc, KeyCode::Enter, KeyCode::Char('q')] {
        let mut m = opened();
        to_awaiting_name(&mut m);
        update(&mut m, flow(FlowEvent::Deleting));
        update(
            &mut m,
            flow(FlowEvent::Done {
                outcome: DeleteOutcome::Deleted,
                backup_dir: "/b".into(),
            }),
        );
        assert_eq!(dialog(&m).stage(), FlowStage::Done);
        assert!(update(&mut m, key(close)).is_empty());
        assert!(m.overlay.is_none(), "{close:?}");
        assert!(!m.quit, "q closes the dialog, it does not quit");

        let mut m = opened();
        update(
            &mut m,
            flow(FlowEvent::Failed {
                reason: "refused: in use".into(),
                backup_dir: None,
            }),
        );
        update(&mut m, key(close));
        assert!(m.overlay.is_none(), "{close:?}");
    }
}

#[test]
fn quitting_during_the_backup_cancels_first_and_quits_when_the_flow_has_stopped() {
    for quit in [key(KeyCode::F(10)), ctrl('c')] {
        let mut m = opened();
        to_backing_up(&mut m);
        let cmds = update(&mut m, quit);
        assert_eq!(flow_inputs(&cmds), vec![FlowInput::Cancel]);
        assert!(!m.quit && !cmds.iter().any(|c| matches!(c, Command::Quit)));
        assert!(dialog(&m).quitting && dialog(&m).cancelling);
        let cmds = update(
            &mut m,
            flow(FlowEvent::Failed {
                reason: "cancelled during the backup".into(),
                backup_dir: None,
            }),
        );
        assert!(m.quit && cmds.iter().any(|c| matches!(c, Command::Quit)));
    }
    // While the delete is in flight: no cancel, quit at the result; twice = now.
    let mut m = opened();
    to_awaiting_name(&mut m);
    update(&mut m, flow(FlowEvent::Deleting));
    let cmds = update(&mut m, ctrl('c'));
    assert!(flow_inputs(&cmds).is_empty() && !m.quit);
    let cmds = update(&mut m, ctrl('c'));
    assert!(m.quit && cmds.iter().any(|c| matches!(c, Command::Quit)));
}

#[test]
fn events_for_another_claim_are_ignored() {
    let mut m = opened();
    update(
        &mut m,
        Msg::CommandDone(CommandResult::PvcFlow {
            pvc: PvcKey::new("monitoring", "grafana-data"),
            event: FlowEvent::Failed {
                reason: "old".into(),
                backup_dir: None,
            },
        }),
    );
    assert_eq!(dialog(&m).stage(), FlowStage::Preflight);
}

#[test]
fn a_second_start_while_a_flow_runs_is_refused_with_a_flash() {
    let mut m = opened();
    update(
        &mut m,
        Msg::CommandDone(CommandResult::PvcFlowBusy {
            pvc: pvc(),
            running: PvcKey::new("loki", "data-loki-0"),
        }),
    );
    assert!(m.overlay.is_none());
    let flash = m.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(flash.contains("already in progress"), "{flash}");
}

#[test]
fn ctrl_d_on_the_pvc_pane_is_f9_and_read_only_has_no_delete() {
    let (mut m, _) = incident_model(Settings::default());
    m.focused = PaneKind::Pvcs;
    let cmds = update(&mut m, ctrl('d'));
    assert!(cmds.is_empty());
    // The pane (not merged in this branch) has no row: F9's answer, not a scroll.
    let flash = m.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(flash.contains("no PVC selected"), "{flash}");

    let (mut m, _) = incident_model(Settings {
        read_only: true,
        ..Settings::default()
    });
    m.focused = PaneKind::Pvcs;
    let cmds = update(&mut m, ctrl('d'));
    assert!(cmds.is_empty());
    assert!(m.overlay.is_none());
    let flash = m.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(flash.contains("read-only"), "{flash}");
}

// ---- rendering ----------------------------------------------------------------------------

fn dark() -> Theme {
    Theme::builtin_dark(false)
}

/// The first cell of `word` on screen.
fn find(buf: &Buffer, word: &str) -> Option<(u16, u16)> {
    let text = buffer_text(buf);
    for (y, line) in text.lines().enumerate() {
        if let Some(byte) = line.find(word) {
            return Some((line[..byte].chars().count() as u16, y as u16));
        }
    }
    None
}

fn fg_of(buf: &Buffer, word: &str) -> Option<ratatui::style::Color> {
    let (x, y) = find(buf, word)?;
    Some(buf[(x, y)].fg)
}

fn screen(m: &Model) -> (Buffer, String) {
    let buf = render(m, &dark(), 80, 24);
    let text = buffer_text(&buf);
    (buf, text)
}

#[test]
fn dialog_states_at_80x24() {
    let t = dark();
    let mut m = opened();
    let (_, text) = screen(&m);
    assert!(text.contains("PREFLIGHT"), "{text}");
    insta::assert_snapshot!("preflight", text);

    to_backing_up(&mut m);
    update(
        &mut m,
        flow(FlowEvent::Progress(BackupProgress {
            stage: BackupStage::Streaming,
            bytes: 3 << 20,
            bytes_per_sec: (1 << 20) as f64,
            expected_bytes: Some(12 << 20),
            eta: Some(Duration::from_secs(9)),
        })),
    );
    let (_, text) = screen(&m);
    assert!(
        text.contains("BACKING UP") && text.contains("ETA 9s"),
        "{text}"
    );
    assert!(text.contains("25% of ~12.0 MiB"), "{text}");
    insta::assert_snapshot!("backing_up", text);

    to_awaiting_name(&mut m);
    type_text(&mut m, "monitoring/graf");
    let (buf, text) = screen(&m);
    assert!(
        text.contains("type monitoring/grafana-data-old to delete it"),
        "{text}"
    );
    assert!(text.contains("backup verified"), "{text}");
    assert_eq!(fg_of(&buf, "so far so good"), t.warning.fg);
    insta::assert_snapshot!("awaiting_partial", text);

    type_text(&mut m, "x");
    let (buf, text) = screen(&m);
    assert!(text.contains("CRITICAL") || text.contains("does not match"));
    assert_eq!(fg_of(&buf, "does not match"), t.critical.fg);
    insta::assert_snapshot!("awaiting_mismatch", text);

    update(&mut m, key(KeyCode::Backspace));
    type_text(&mut m, "ana-data-old");
    let (buf, text) = screen(&m);
    assert_eq!(fg_of(&buf, "matches"), t.ok.fg);
    insta::assert_snapshot!("awaiting_exact", text);

    update(&mut m, Msg::Paste("x".into()));
    let (buf, text) = screen(&m);
    assert_eq!(fg_of(&buf, PASTE_REFUSED), t.critical.fg);
    insta::assert_snapshot!("awaiting_paste_refused", text);

    type_text(&mut m, UNUSED);
    update(&mut m, key(KeyCode::Enter));
    update(&mut m, flow(FlowEvent::Deleting));
    let (_, text) = screen(&m);
    assert!(text.contains("DELETING"), "{text}");
    insta::assert_snapshot!("deleting", text);

    let mut done = m.clone_dialog_model();
    update(
        &mut done,
        flow(FlowEvent::Done {
            outcome: DeleteOutcome::Deleted,
            backup_dir: "/state/ondeck/backups/monitoring/grafana-data-old/20261121T122000Z".into(),
        }),
    );
    let (buf, text) = screen(&done);
    assert!(
        text.contains("DONE") && text.contains("audit.jsonl"),
        "{text}"
    );
    assert_eq!(fg_of(&buf, "DONE monitoring"), t.ok.fg);
    insta::assert_snapshot!("done", text);

    let mut failed = opened();
    to_awaiting_name(&mut failed);
    type_text(&mut failed, "monitoring/grafana-data");
    update(&mut failed, key(KeyCode::Enter));
    update(
        &mut failed,
        flow(FlowEvent::Failed {
            reason: "refused: the typed name \"monitoring/grafana-data\" is not monitoring/grafana-data-old; nothing deleted (backup kept at /state/ondeck/backups/monitoring/grafana-data-old/20261121T122000Z)".into(),
            backup_dir: Some("/state/ondeck/backups/monitoring/grafana-data-old/20261121T122000Z".into()),
        }),
    );
    let (buf, text) = screen(&failed);
    assert!(text.contains("nothing was deleted"), "{text}");
    assert_eq!(fg_of(&buf, "FAILED refused"), t.critical.fg);
    assert_eq!(fg_of(&buf, "refused: the typed"), t.critical.fg);
    insta::assert_snapshot!("failed", text);
}

#[test]
fn cluster_strings_are_sanitized_in_the_dialog() {
    let mut m = opened();
    update(
        &mut m,
        flow(FlowEvent::Preflight {
            plan: vec!["claim      evil\x1b[2J\x1b]0;owned\x07name".into()],
            refusals: vec![],
        }),
    );
    let (_, text) = screen(&m);
    assert!(text.contains("claim      evilname"), "{text}");
    assert!(!text.contains('\x1b'));
}

trait CloneDialog {
    fn clone_dialog_model(&self) -> Model;
}

impl CloneDialog for Model {
    /// A fresh model showing the same dialog (Model is not Clone).
    fn clone_dialog_model(&self) -> Model {
        let (mut m, _) = incident_model(Settings::default());
        m.overlay = self.overlay.clone();
        m
    }
}
