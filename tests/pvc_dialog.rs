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
        users_unknown: None,
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
    let (msg, rest) = ondeck::console::classify_burst(burst);
    assert!(
        matches!(&msg, Some(Msg::Paste(t)) if t == UNUSED),
        "{msg:?}"
    );
    // The Enter of the same burst is part of the paste; other events stay.
    assert_eq!(rest, vec![Event::Resize(80, 24)]);
    let (msg, rest) = ondeck::console::classify_burst(keys("mon"));
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
            ..BackupProgress::stage(BackupStage::Streaming)
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

// ---- the dialog, the real executor and the simulated cluster ------------------------------

use ondeck::config::Config;
use ondeck::console::{ExecutorHandle, ExecutorOptions, spawn_executor};
use pvc_support::{Fixture, TestResult, audit_lines, fixture};
use tokio::sync::watch;

/// A model with no terminal and the real executor wired to a simulated cluster: commands out
/// of `update` go to the executor, its results come back through `update`.
struct Console {
    m: Model,
    ex: ExecutorHandle,
    /// The console's connection, as `RunOptions.kube` (a test may switch it).
    kube: watch::Sender<Option<ondeck::sources::kube::KubeTarget>>,
    f: Fixture,
}

const STEP: Duration = Duration::from_secs(60);

impl Console {
    async fn start(read_only: bool) -> Result<Console, Box<dyn std::error::Error>> {
        let f = fixture("incident", read_only).await?;
        let mut config = Config {
            read_only,
            ..Config::default()
        };
        config.backup.dir = Some(f.backup_options().dir);
        config.backup.helper_start_timeout = ondeck::config::HumanDuration(Duration::from_secs(15));
        config.backup.no_progress_timeout = ondeck::config::HumanDuration(Duration::from_secs(5));
        let target = ondeck::sources::kube::connect(
            &ondeck::sources::kube::TargetArgs::for_kubeconfig(&f.kubeconfig),
            &ondeck::sources::kube::KubeEnv::default(),
            &config.kubernetes,
        )
        .await?;
        let (kube, kube_rx) = watch::channel(Some(target));
        let ex = spawn_executor(ExecutorOptions {
            kube: Some(kube_rx),
            config: config.clone(),
            read_only,
            audit_log: Some(f.audit_path()),
            ..Default::default()
        });
        let (m, _) = incident_model(Settings {
            read_only,
            ..Settings::default()
        });
        Ok(Console { m, ex, kube, f })
    }

    async fn send(&mut self, cmds: Vec<Command>) {
        for c in cmds {
            if !matches!(c, Command::Quit | Command::Bell) {
                let _ = self.ex.commands.send(c).await;
            }
        }
    }

    async fn msg(&mut self, msg: Msg) {
        let cmds = update(&mut self.m, msg);
        self.send(cmds).await;
    }

    /// F9 on the claim: what the PVC pane does (`open(row)` and its command).
    async fn open(&mut self, ns: &str, name: &str) {
        let (overlay, cmd) = open(&row(ns, name));
        self.m.overlay = Some(overlay);
        self.send(vec![cmd]).await;
    }

    /// Feeds executor results into `update` until the dialog reaches `stage`.
    async fn wait_for(&mut self, stage: FlowStage) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            let now = match &self.m.overlay {
                Some(Overlay::PvcDelete(d)) => d.stage(),
                other => return Err(format!("dialog gone: {other:?}")),
            };
            if now == stage {
                return Ok(());
            }
            if matches!(now, FlowStage::Done | FlowStage::Failed) {
                return Err(format!(
                    "flow ended in {now:?} waiting for {stage:?}: {:?}",
                    dialog(&self.m).flow
                ));
            }
            let r = tokio::time::timeout_at(deadline, self.ex.results.recv())
                .await
                .map_err(|_| format!("timed out waiting for {stage:?}"))?
                .ok_or("executor gone")?;
            self.msg(Msg::CommandDone(r)).await;
        }
    }

    async fn type_keys(&mut self, text: &str) {
        for c in text.chars() {
            self.msg(key(KeyCode::Char(c))).await;
        }
    }

    /// Stops the executor and waits for the flow's task (audit written, helper gone).
    async fn finish(self) -> Fixture {
        let Console { ex, f, .. } = self;
        drop(ex.commands);
        drop(ex.results);
        let _ = tokio::time::timeout(STEP, ex.task).await;
        f
    }
}

fn failed_reason(m: &Model) -> String {
    match &dialog(m).flow {
        ondeck::actions::flow::DeleteDialog::Failed { reason, .. } => reason.clone(),
        other => format!("not failed: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_correctly_the_claim_is_deleted_with_a_verified_backup_retain_and_audit() -> TestResult
{
    let mut c = Console::start(false).await?;
    let pv = c.f.pv_of("monitoring", "grafana-data-old").ok_or("no pv")?;
    c.open("monitoring", "grafana-data-old").await;
    c.wait_for(FlowStage::AwaitingName).await?;
    assert!(
        c.f.pvc_deletes().is_empty(),
        "nothing deleted before the name"
    );
    c.type_keys(UNUSED).await;
    assert_eq!(
        dialog(&c.m).name_check(),
        Some(ondeck::actions::confirm::NameCheck::Exact)
    );
    c.msg(key(KeyCode::Enter)).await;
    c.wait_for(FlowStage::Done).await?;
    let d = dialog(&c.m).clone();
    assert_eq!(d.audit_log.as_deref(), Some(c.f.audit_path().as_path()));
    let backup = d.backup.clone().ok_or("no backup shown")?;
    let (_, text) = screen(&c.m);
    assert!(text.contains("DONE") && text.contains("deleted"), "{text}");

    let f = c.finish().await;
    assert!(!f.pvc_exists("monitoring", "grafana-data-old"));
    assert!(
        f.pvc_exists("monitoring", "grafana-data"),
        "the neighbour stays"
    );
    assert_eq!(f.pvc_deletes(), vec![(true, 200), (false, 200)]);
    let pv_obj = f.pv(&pv).ok_or("PV gone")?;
    assert_eq!(
        pv_obj
            .pointer("/spec/persistentVolumeReclaimPolicy")
            .and_then(|v| v.as_str()),
        Some("Retain")
    );
    assert!(f.sim.volume_path(&pv).is_some(), "the data stays on the PV");
    let verified = ondeck::actions::verify::verify_file(
        &backup.dir.join(ondeck::actions::backup::ARCHIVE_FILE),
        Some(&backup.sha256),
    )?;
    assert_eq!(verified.files, backup.files);
    assert!(
        backup
            .dir
            .join(ondeck::actions::backup::MANIFEST_FILE)
            .exists()
    );
    assert!(f.live_helpers().is_empty(), "{:?}", f.live_helpers());
    let audit = audit_lines(&f.audit_path());
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0]["object"], UNUSED);
    assert_eq!(audit[0]["outcome"], "deleted");
    assert_eq!(audit[0]["policy_after"], "Retain");
    assert_eq!(audit[0]["sha256"], backup.sha256.as_str());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pasted_the_name_is_refused_and_nothing_is_deleted() -> TestResult {
    let mut c = Console::start(false).await?;
    c.open("monitoring", "grafana-data-old").await;
    c.wait_for(FlowStage::AwaitingName).await?;
    c.msg(Msg::Paste(UNUSED.into())).await;
    assert_eq!(dialog(&c.m).typed(), "");
    assert_eq!(dialog(&c.m).refusal.as_deref(), Some(PASTE_REFUSED));
    // The user gives up: Esc cancels at the confirmation.
    c.msg(key(KeyCode::Esc)).await;
    c.wait_for(FlowStage::Failed).await?;
    assert!(
        failed_reason(&c.m).contains("cancelled"),
        "{}",
        failed_reason(&c.m)
    );
    let f = c.finish().await;
    assert!(f.pvc_deletes().is_empty(), "{:?}", f.pvc_deletes());
    assert!(f.pvc_exists("monitoring", "grafana-data-old"));
    assert!(f.live_helpers().is_empty(), "{:?}", f.live_helpers());
    let audit = audit_lines(&f.audit_path());
    assert_eq!(audit[0]["outcome"], "cancelled");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mistyped_and_enter_deletes_nothing() -> TestResult {
    let mut c = Console::start(false).await?;
    c.open("monitoring", "grafana-data-old").await;
    c.wait_for(FlowStage::AwaitingName).await?;
    // Incident 5: the neighbour's name.
    c.type_keys("monitoring/grafana-data").await;
    c.msg(key(KeyCode::Enter)).await;
    c.wait_for(FlowStage::Failed).await?;
    let reason = failed_reason(&c.m);
    assert!(
        reason.contains("is not monitoring/grafana-data-old"),
        "{reason}"
    );
    let (_, text) = screen(&c.m);
    assert!(text.contains("nothing was deleted"), "{text}");
    let f = c.finish().await;
    assert!(f.pvc_deletes().is_empty(), "{:?}", f.pvc_deletes());
    assert!(f.pvc_exists("monitoring", "grafana-data-old"));
    assert!(f.pvc_exists("monitoring", "grafana-data"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_in_use_is_refused_by_the_preflight() -> TestResult {
    let mut c = Console::start(false).await?;
    c.open("monitoring", "grafana-data").await;
    c.wait_for(FlowStage::Failed).await?;
    let reason = failed_reason(&c.m);
    assert!(reason.contains("grafana-5d8f7c9b6d-x2k4q"), "{reason}");
    let (_, text) = screen(&c.m);
    assert!(
        text.contains("never deletes a claim that is in use"),
        "{text}"
    );
    assert!(!text.contains("--allow-in-use"), "{text}");
    let f = c.finish().await;
    assert!(
        f.mutating_requests().is_empty(),
        "{:?}",
        f.mutating_requests()
    );
    assert!(f.pvc_exists("monitoring", "grafana-data"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_sends_no_mutating_request() -> TestResult {
    let mut c = Console::start(true).await?;
    // F9 is not offered at all.
    c.m.focused = PaneKind::Pvcs;
    c.msg(key(KeyCode::F(9))).await;
    assert!(c.m.overlay.is_none());
    // Even if a dialog were opened, the executor is read-only.
    c.open("monitoring", "grafana-data-old").await;
    c.wait_for(FlowStage::Failed).await?;
    let reason = failed_reason(&c.m);
    assert!(reason.contains("read-only"), "{reason}");
    let f = c.finish().await;
    assert!(
        f.mutating_requests().is_empty(),
        "{:?}",
        f.mutating_requests()
    );
    assert!(f.pvc_exists("monitoring", "grafana-data-old"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_context_switch_mid_flow_aborts_before_the_delete() -> TestResult {
    let mut c = Console::start(false).await?;
    c.open("monitoring", "grafana-data-old").await;
    c.wait_for(FlowStage::AwaitingName).await?;
    // `:ctx` elsewhere: the console drops the connection while it reconnects.
    let _ = c.kube.send(None);
    tokio::time::sleep(Duration::from_millis(200)).await;
    c.type_keys(UNUSED).await;
    c.msg(key(KeyCode::Enter)).await;
    c.wait_for(FlowStage::Failed).await?;
    let reason = failed_reason(&c.m);
    assert!(reason.contains("context changed"), "{reason}");
    let f = c.finish().await;
    assert!(f.pvc_deletes().is_empty(), "{:?}", f.pvc_deletes());
    assert!(f.pvc_exists("monitoring", "grafana-data-old"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_during_the_flow_cancels_it_and_leaves_no_helper_pod() -> TestResult {
    let mut c = Console::start(false).await?;
    c.open("monitoring", "grafana-data-old").await;
    c.wait_for(FlowStage::BackingUp).await?;
    c.msg(key(KeyCode::F(10))).await;
    assert!(!c.m.quit);
    // Wait for the flow to report its end; then the model quits.
    let deadline = tokio::time::Instant::now() + STEP;
    while !c.m.quit {
        let r = tokio::time::timeout_at(deadline, c.ex.results.recv())
            .await?
            .ok_or("executor gone")?;
        c.msg(Msg::CommandDone(r)).await;
    }
    assert_eq!(dialog(&c.m).stage(), FlowStage::Failed);
    let f = c.finish().await;
    assert!(f.pvc_deletes().is_empty());
    assert!(f.live_helpers().is_empty(), "{:?}", f.live_helpers());
    Ok(())
}

#[test]
fn once_the_name_is_sent_esc_and_quit_do_not_pretend_to_cancel() {
    let mut m = opened();
    to_awaiting_name(&mut m);
    type_text(&mut m, UNUSED);
    update(&mut m, key(KeyCode::Enter));
    // The flow has the name and no longer listens: no Cancel, no "cancelling".
    let cmds = update(&mut m, key(KeyCode::Esc));
    assert!(flow_inputs(&cmds).is_empty(), "{cmds:?}");
    assert!(!dialog(&m).cancelling);
    assert!(
        dialog(&m)
            .note
            .as_deref()
            .is_some_and(|n| n.contains("cannot be cancelled"))
    );
    let cmds = update(&mut m, key(KeyCode::F(10)));
    assert!(flow_inputs(&cmds).is_empty() && !m.quit);
    update(&mut m, flow(FlowEvent::Deleting));
    let cmds = update(
        &mut m,
        flow(FlowEvent::Done {
            outcome: DeleteOutcome::Deleted,
            backup_dir: "/b".into(),
        }),
    );
    assert!(m.quit && cmds.iter().any(|c| matches!(c, Command::Quit)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_cluster_the_flow_fails_with_nothing_done() -> TestResult {
    let mut ex = spawn_executor(ExecutorOptions::default());
    let (mut m, _) = incident_model(Settings::default());
    let (overlay, cmd) = open(&row("monitoring", "grafana-data-old"));
    m.overlay = Some(overlay);
    ex.commands.send(cmd).await?;
    while dialog(&m).stage() != FlowStage::Failed {
        let r = tokio::time::timeout(STEP, ex.results.recv())
            .await?
            .ok_or("executor gone")?;
        update(&mut m, Msg::CommandDone(r));
    }
    let reason = failed_reason(&m);
    assert!(reason.contains("not connected to a cluster"), "{reason}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_start_while_a_flow_runs_is_refused_by_the_executor() -> TestResult {
    let mut c = Console::start(false).await?;
    c.open("monitoring", "grafana-data-old").await;
    c.ex.commands
        .send(Command::StartPvcDelete {
            pvc: PvcKey::new("monitoring", "grafana-data"),
        })
        .await?;
    let busy = loop {
        let r = tokio::time::timeout(STEP, c.ex.results.recv())
            .await?
            .ok_or("executor gone")?;
        if let CommandResult::PvcFlowBusy { pvc, running } = &r {
            break (pvc.clone(), running.clone());
        }
        c.msg(Msg::CommandDone(r)).await;
    };
    assert_eq!(busy, (PvcKey::new("monitoring", "grafana-data"), pvc()));
    // The first flow is not disturbed; cancel it.
    c.wait_for(FlowStage::AwaitingName).await?;
    c.msg(key(KeyCode::Esc)).await;
    c.wait_for(FlowStage::Failed).await?;
    let f = c.finish().await;
    assert!(f.pvc_deletes().is_empty());
    assert!(f.live_helpers().is_empty(), "{:?}", f.live_helpers());
    Ok(())
}

#[test]
fn ascii_mode_draws_the_dialog_in_ascii() {
    let (mut m, _) = incident_model(Settings {
        ascii: true,
        ..Settings::default()
    });
    let (overlay, _) = open(&row("monitoring", "grafana-data-old"));
    m.overlay = Some(overlay);
    to_backing_up(&mut m);
    update(
        &mut m,
        flow(FlowEvent::Progress(BackupProgress {
            stage: BackupStage::Streaming,
            bytes: 3 << 20,
            bytes_per_sec: (1 << 20) as f64,
            expected_bytes: Some(12 << 20),
            eta: Some(Duration::from_secs(9)),
            ..BackupProgress::stage(BackupStage::Streaming)
        })),
    );
    let dialog_rows = |m: &Model| -> Vec<String> {
        let text = buffer_text(&render(m, &dark(), 80, 24));
        // The dialog's rows: from its title to its bottom border.
        text.lines()
            .skip_while(|l| !l.contains("Delete PVC"))
            .take_while(|l| !l.contains("F10"))
            .map(str::to_string)
            .collect()
    };
    let rows = dialog_rows(&m);
    assert!(
        rows.iter().any(|l| l.contains("25% of ~12.0 MiB")),
        "{rows:?}"
    );
    for l in &rows {
        assert!(l.is_ascii(), "{l}");
    }
    to_awaiting_name(&mut m);
    type_text(&mut m, "monitoring/x");
    let rows = dialog_rows(&m);
    assert!(
        rows.iter().any(|l| l.contains("does not match")),
        "{rows:?}"
    );
    for l in &rows {
        assert!(l.is_ascii(), "{l}");
    }
}

#[test]
fn the_helper_wait_shows_what_it_waits_for_with_a_countdown_and_changes_as_they_happen() {
    let mut m = opened();
    to_backing_up(&mut m);
    update(
        &mut m,
        flow(FlowEvent::Progress(BackupProgress::changed(
            ondeck::actions::Change {
                subject: "pod monitoring/ondeck-backup-g-1".into(),
                text: "created helper pod monitoring/ondeck-backup-g-1".into(),
                undo: Some("kubectl delete pod -n monitoring ondeck-backup-g-1".into()),
            },
        ))),
    );
    update(
        &mut m,
        flow(FlowEvent::Progress(BackupProgress::waiting(
            BackupStage::StartingHelper,
            "the helper pod to be scheduled (monitoring/ondeck-backup-g-1)".into(),
            Duration::from_secs(97),
        ))),
    );
    let (buf, text) = screen(&m);
    assert!(
        text.contains("to be scheduled") && text.contains("gives up in 97s"),
        "{text}"
    );
    assert!(
        text.contains("changed created helper pod monitoring/ondeck-backup-g-1"),
        "{text}"
    );
    assert_eq!(fg_of(&buf, "changed"), dark().warning.fg);
    // A change does not replace the progress line.
    update(
        &mut m,
        flow(FlowEvent::Progress(BackupProgress::changed(
            ondeck::actions::Change {
                subject: "pod monitoring/ondeck-backup-g-1".into(),
                text: "removed helper pod monitoring/ondeck-backup-g-1".into(),
                undo: None,
            },
        ))),
    );
    let (_, text) = screen(&m);
    assert!(text.contains("gives up in 97s"), "{text}");
    assert!(text.contains("changed removed helper pod"), "{text}");
}

#[test]
fn a_refusal_after_the_delete_step_began_says_nothing_was_deleted_only_an_unanswered_delete_is_unknown()
 {
    let refused = "delete PVC monitoring/grafana-data-old (dry-run): the object changed since the preflight (409 Conflict: the object has been modified); nothing was deleted, run the flow again (backup kept at /b)";
    let unknown = "delete PVC monitoring/grafana-data-old: the API server did not answer within 10s (the outcome is unknown: the delete request was sent; check whether monitoring/grafana-data-old still exists; backup kept at /b)";
    for (reason, sent) in [(refused, false), (unknown, true)] {
        let mut m = opened();
        to_awaiting_name(&mut m);
        update(&mut m, flow(FlowEvent::Deleting));
        update(
            &mut m,
            flow(FlowEvent::Failed {
                reason: reason.into(),
                backup_dir: Some("/b".into()),
            }),
        );
        let (_, text) = screen(&m);
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(flat.contains("nothing was deleted"), !sent, "{text}");
        assert!(!flat.contains("may have been sent"), "{text}");
        assert_eq!(
            flat.contains("the delete request was sent and its outcome is unknown"),
            sent,
            "{text}"
        );
    }
}
