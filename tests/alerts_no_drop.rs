//! Issue 9, item 4: user and flow input is never dropped or held up by alert hooks. The real
//! executor and hook pool against the simulated cluster: while the PVC confirmation is typed
//! key by key, 1,000 alert transitions are fired at a slow alert command (`sleep 5`); the flow
//! still sees every key (the claim is deleted with the exact name), the hook pool drops what it
//! cannot take and counts it, and no more hooks run than the pool allows.

mod pvc_support;

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ondeck::actions::flow::FlowStage;
use ondeck::app::model::Overlay;
use ondeck::app::{Command, Model, Msg, Settings, update};
use ondeck::config::{Comparison, Config, HumanDuration, ThresholdRule};
use ondeck::console::{Dispatched, ExecutorHandle, ExecutorOptions, spawn_executor};
use ondeck::domain::Level;
use ondeck::domain::pvcs::{PvcRow, UsedSpace};
use ondeck::rules::{AlertBook, Condition, GroupTransition};
use ondeck::sources::SourceId;
use ondeck::ui::dialogs::pvc_delete::open;
use ondeck::ui::fixtures::incident_model;
use pvc_support::{TestResult, fixture};

const NAME: &str = "monitoring/grafana-data-old";
const STEP: Duration = Duration::from_secs(60);

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

/// 1,000 distinct group transitions (1,000 rules firing for the first time).
fn storm() -> Vec<GroupTransition> {
    let rule = ThresholdRule::new(Level::Critical, Comparison::Above, 1.0, 0);
    let conds: Vec<Condition> = (0..1000)
        .map(|i| {
            Condition::check(
                SourceId::Sockets,
                &format!("storm_{i}"),
                "host",
                &rule,
                2.0,
                format!("storm {i}"),
            )
        })
        .collect();
    let mut book = AlertBook::new(10);
    let wall = jiff::Timestamp::now();
    let groups = book
        .observe_changes(SourceId::Sockets, &conds, Instant::now(), wall)
        .groups;
    assert_eq!(groups.len(), 1000);
    groups
}

fn dialog_stage(m: &Model) -> Option<FlowStage> {
    match &m.overlay {
        Some(Overlay::PvcDelete(d)) => Some(d.stage()),
        _ => None,
    }
}

async fn wait_for(m: &mut Model, ex: &mut ExecutorHandle, stage: FlowStage) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let now = dialog_stage(m).ok_or("dialog gone")?;
        if now == stage {
            return Ok(());
        }
        if matches!(now, FlowStage::Done | FlowStage::Failed) {
            let why = match &m.overlay {
                Some(Overlay::PvcDelete(d)) => format!("{:?}", d.flow),
                _ => String::new(),
            };
            return Err(format!(
                "flow ended in {now:?} waiting for {stage:?}: {why}"
            ));
        }
        let r = tokio::time::timeout_at(deadline, ex.results.recv())
            .await
            .map_err(|_| format!("timed out waiting for {stage:?}"))?
            .ok_or("executor gone")?;
        for c in update(m, Msg::CommandDone(r)) {
            ex.commands.dispatch(c);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_storm_never_drops_or_delays_a_typed_confirmation() -> TestResult {
    let f = fixture("incident", false).await?;
    let mut config = Config::default();
    config.backup.dir = Some(f.backup_options().dir);
    config.backup.helper_start_timeout = HumanDuration(Duration::from_secs(15));
    config.backup.no_progress_timeout = HumanDuration(Duration::from_secs(5));
    let target = ondeck::sources::kube::connect(
        &ondeck::sources::kube::TargetArgs::for_kubeconfig(&f.kubeconfig),
        &ondeck::sources::kube::KubeEnv::default(),
        &config.kubernetes,
    )
    .await?;
    let (_kube, kube_rx) = tokio::sync::watch::channel(Some(target));
    let mut ex = spawn_executor(ExecutorOptions {
        alert_command: Some("sleep 5".into()),
        hook_timeout: Duration::from_secs(10),
        kube: Some(kube_rx),
        config: config.clone(),
        audit_log: Some(f.audit_path()),
        ..Default::default()
    });
    let (mut m, _) = incident_model(Settings::default());

    let (overlay, cmd) = open(&row("monitoring", "grafana-data-old"));
    m.overlay = Some(overlay);
    assert_eq!(ex.commands.dispatch(cmd), Dispatched::Queued);
    wait_for(&mut m, &mut ex, FlowStage::AwaitingName).await?;

    // Type the name one key at a time, with a burst of alert transitions before every key.
    let mut storm = storm().into_iter();
    let per_key = 1000 / NAME.len() + 1;
    let mut fired = 0u64;
    let mut dropped = 0u64;
    for c in NAME.chars() {
        for t in storm.by_ref().take(per_key) {
            fired += 1;
            if ex.commands.dispatch(Command::RunAlertHook(Box::new(t))) == Dispatched::HookDropped {
                dropped += 1;
            }
        }
        for cmd in update(
            &mut m,
            Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
        ) {
            assert_ne!(ex.commands.dispatch(cmd), Dispatched::Closed);
        }
    }
    assert_eq!(fired, 1000, "every transition was fired");
    let typed = match &m.overlay {
        Some(Overlay::PvcDelete(d)) => d.typed(),
        other => return Err(format!("dialog gone: {other:?}").into()),
    };
    assert_eq!(typed, NAME, "every key reached the dialog");
    for cmd in update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    ) {
        assert_ne!(ex.commands.dispatch(cmd), Dispatched::Closed);
    }
    // Behind a hook slot (the old executor) this would wait for ~1,000 runs of 5 s each and
    // time out; the flow gets the name while the hooks still sleep.
    wait_for(&mut m, &mut ex, FlowStage::Done).await?;

    // The pool took what it could and dropped the rest, counted; user input was not dropped.
    assert!(dropped > 900, "a full pool drops hook runs: {dropped}");
    assert_eq!(ex.commands.hooks_dropped(), dropped);
    assert!(
        fired - dropped <= 4 + 32 + 1,
        "the pool takes its workers and its queue: {}",
        fired - dropped
    );
    assert!(ex.commands.hooks_started() <= fired - dropped);

    let ExecutorHandle {
        commands,
        results,
        task,
    } = ex;
    drop(commands);
    drop(results);
    let _ = tokio::time::timeout(STEP, task).await;
    assert!(!f.pvc_exists("monitoring", "grafana-data-old"), "deleted");
    assert!(
        f.pvc_exists("monitoring", "grafana-data"),
        "the neighbour stays"
    );
    assert_eq!(f.pvc_deletes(), vec![(true, 200), (false, 200)]);
    Ok(())
}
