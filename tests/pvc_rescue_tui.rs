//! The TUI's rescue dialog (`R` on a claim Terminating while a pod uses it) wired to the real
//! executor against the simulated cluster (in-process, no terminal): asserted from the sim's
//! state and request log, the backup on disk and the audit log.

mod pvc_support;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ondeck::app::model::Overlay;
use ondeck::app::{Command, Model, Msg, Settings, update};
use ondeck::config::Config;
use ondeck::console::{ExecutorHandle, ExecutorOptions, spawn_executor};
use ondeck::domain::Level;
use ondeck::domain::pvcs::{PvcRow, PvcUser, UsedSpace};
use ondeck::ui::dialogs::pvc_rescue::{PvcRescueDialog, RescueStage, open};
use ondeck::ui::fixtures::{buffer_text, incident_model, render};
use ondeck::ui::theme::Theme;
use pvc_support::{Fixture, TestResult, audit_lines, digest_tree, fixture};
use tokio::sync::watch;

const STEP: Duration = Duration::from_secs(60);

/// The row the PVC pane shows for the incident's Loki claim.
fn loki_row() -> PvcRow {
    PvcRow {
        namespace: "logging".into(),
        name: "loki-storage".into(),
        uid: None,
        status: "Terminating".into(),
        phase: Some("Bound".into()),
        deletion_timestamp: Some(jiff::Timestamp::UNIX_EPOCH),
        finalizers: vec!["kubernetes.io/pvc-protection".into()],
        capacity: Some("20Gi".into()),
        capacity_bytes: Some(20 << 30),
        storage_class: Some("standard".into()),
        volume: Some("pvc-loki".into()),
        reclaim_policy: Some("Delete".into()),
        access_modes: vec!["RWO".into()],
        users_unknown: None,
        users: vec![PvcUser {
            pod: "loki-0".into(),
            phase: Some("Running".into()),
            node: None,
            mounts: vec![],
            terminating: false,
        }],
        used: UsedSpace::unknown("not collected yet"),
        created: None,
        markers: vec![],
        level: Level::Critical,
        reasons: vec![],
    }
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

struct Console {
    m: Model,
    ex: ExecutorHandle,
    _kube: watch::Sender<Option<ondeck::sources::kube::KubeTarget>>,
    f: Fixture,
}

impl Console {
    async fn start() -> Result<Console, Box<dyn std::error::Error>> {
        let f = fixture("incident", false).await?;
        let mut config = Config::default();
        config.backup.dir = Some(f.backup_options().dir);
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
            config,
            audit_log: Some(f.audit_path()),
            ..Default::default()
        });
        let (m, _) = incident_model(Settings::default());
        Ok(Console {
            m,
            ex,
            _kube: kube,
            f,
        })
    }

    async fn msg(&mut self, msg: Msg) {
        for c in update(&mut self.m, msg) {
            if !matches!(c, Command::Quit | Command::Bell) {
                let _ = self.ex.commands.send(c).await;
            }
        }
    }

    fn dialog(&self) -> Option<&PvcRescueDialog> {
        match &self.m.overlay {
            Some(Overlay::PvcRescue(d)) => Some(d),
            _ => None,
        }
    }

    /// Feeds executor results into `update` until the rescue has ended.
    async fn wait_end(&mut self) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            match self.dialog().map(|d| &d.stage) {
                Some(RescueStage::Done(_) | RescueStage::Failed { .. }) => return Ok(()),
                None => return Err("dialog gone".into()),
                _ => {}
            }
            let r = tokio::time::timeout_at(deadline, self.ex.results.recv())
                .await
                .map_err(|_| "timed out waiting for the rescue".to_string())?
                .ok_or("executor gone")?;
            self.msg(Msg::CommandDone(r)).await;
        }
    }

    async fn finish(self) -> Fixture {
        let Console { ex, f, .. } = self;
        drop(ex.commands);
        drop(ex.results);
        let _ = tokio::time::timeout(STEP, ex.task).await;
        f
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rescue_from_the_dialog_retains_the_pv_and_leaves_a_verified_backup() -> TestResult {
    let mut c = Console::start().await?;
    let pv = c.f.pv_of("logging", "loki-storage").ok_or("no pv")?;
    let volume = digest_tree(&c.f.sim.volume_path(&pv).ok_or("volume")?)?;

    c.m.overlay = Some(open(&loki_row()));
    // The confirm stage sends nothing.
    assert!(c.f.mutating_requests().is_empty());
    c.msg(key(KeyCode::Enter)).await;
    c.wait_end().await?;

    let summary = match c.dialog().map(|d| d.stage.clone()) {
        Some(RescueStage::Done(s)) => s,
        other => return Err(format!("rescue did not finish: {other:?}").into()),
    };
    assert_eq!(summary.policy_after.as_deref(), Some("Retain"));
    assert!(summary.retain_error.is_none());
    assert!(
        summary.next_steps.iter().any(|l| l.contains("--from-pv")),
        "{:?}",
        summary.next_steps
    );
    // The PV is Retain in the cluster, nothing was deleted, and the archive holds the volume.
    assert_eq!(
        c.f.pv(&pv)
            .and_then(|p| p.pointer("/spec/persistentVolumeReclaimPolicy").cloned()),
        Some("Retain".into())
    );
    assert!(c.f.pvc_deletes().is_empty());
    let backup = ondeck::actions::backup::VerifiedBackup::load(&summary.backup_dir)?;
    let manifest = pvc_support::manifest_tree(&backup.manifest.summary);
    assert_eq!(manifest, volume, "the archive's files are the volume's");
    assert_eq!(summary.files as usize, volume.len());

    // The dialog says it in words, and the audit log has the rescue.
    let theme = Theme::builtin_dark(false);
    let text = buffer_text(&render(&c.m, &theme, 100, 30));
    assert!(text.contains("RESCUED"), "{text}");
    let f = c.finish().await;
    let audit = audit_lines(&f.audit_path());
    assert!(
        audit
            .iter()
            .any(|l| l["action"] == "rescue" && l["object"] == "logging/loki-storage"),
        "{audit:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esc_in_the_confirm_stage_closes_with_nothing_sent() -> TestResult {
    let mut c = Console::start().await?;
    c.m.overlay = Some(open(&loki_row()));
    c.msg(key(KeyCode::Esc)).await;
    assert!(c.dialog().is_none(), "closed");
    let f = c.finish().await;
    assert!(
        f.mutating_requests().is_empty(),
        "{:?}",
        f.mutating_requests()
    );
    Ok(())
}

#[test]
fn read_only_has_no_rescue() {
    let (mut m, _) = incident_model(Settings {
        read_only: true,
        ..Settings::default()
    });
    m.focused = ondeck::ui::panes::PaneKind::Pvcs;
    let cmds = update(&mut m, key(KeyCode::Char('R')));
    assert!(cmds.is_empty(), "{cmds:?}");
    assert!(m.overlay.is_none());
    let flash = m.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(flash.contains("read-only"), "{flash}");
}

/// `R` on the PVC pane: the rescue dialog for a claim Terminating while in use (filtered to
/// it), and a plain "not this one" for a claim that is not.
#[test]
fn r_on_the_pane_opens_the_rescue_only_for_a_terminating_claim_in_use() {
    use ondeck::ui::fixtures::{pvcs_incident_snapshot, pvcs_model};
    let (mut m, _) = pvcs_model(Settings::default(), pvcs_incident_snapshot());
    for c in "/grafana-data-old".chars() {
        update(&mut m, key(KeyCode::Char(c)));
    }
    update(&mut m, key(KeyCode::Enter));
    let cmds = update(&mut m, key(KeyCode::Char('R')));
    assert!(cmds.is_empty() && m.overlay.is_none(), "{cmds:?}");
    let flash = m.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(flash.contains("Terminating"), "{flash}");

    update(&mut m, key(KeyCode::Esc));
    for c in "/loki-storage".chars() {
        update(&mut m, key(KeyCode::Char(c)));
    }
    update(&mut m, key(KeyCode::Enter));
    let cmds = update(&mut m, key(KeyCode::Char('R')));
    assert!(cmds.is_empty(), "the rescue asks first: {cmds:?}");
    match &m.overlay {
        Some(Overlay::PvcRescue(d)) => {
            assert_eq!(d.pvc.to_string(), "logging/loki-storage");
            assert_eq!(d.stage, RescueStage::Confirm);
        }
        other => panic!("no rescue dialog: {other:?}"),
    }
    let cmds = update(&mut m, key(KeyCode::Enter));
    assert!(
        matches!(cmds.as_slice(), [Command::StartPvcRescue { pvc }] if pvc.to_string() == "logging/loki-storage"),
        "{cmds:?}"
    );
}
