//! Permission-green, fixed: with `list pods` forbidden (the simulated cluster's RBAC fault), the
//! claim that is Terminating while loki-0 still mounts it stays CRITICAL — in the console's
//! model (real pods and PVC sources over HTTPS feeding `update`) and in `check` (the real
//! binary) alike — with the sentence "Terminating; who mounts it is unknown: pods are
//! forbidden"; no claim is called UNUSED; the detail never says "no pod"; the summary never
//! says `0 unused`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ondeck::app::panes::pvcs::PvcsPane;
use ondeck::app::{Model, Msg, Settings, update};
use ondeck::config::{Config, HumanDuration, KubernetesConfig};
use ondeck::domain::Level;
use ondeck::domain::pvcs::{Marker, PvcRule};
use ondeck::sim::{Fault, SimCluster, SimOptions};
use ondeck::sources::kube::{KubeEnv, TargetArgs, connect};
use ondeck::sources::{SourceId, SourceUpdate};
use ondeck::ui::fixtures::{buffer_text, render};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::theme::Theme;
use tokio::sync::mpsc;

const SENTENCE: &str = "Terminating; who mounts it is unknown: pods are forbidden";

fn cfg() -> Config {
    Config {
        refresh: HumanDuration(Duration::from_millis(500)),
        kubernetes: KubernetesConfig {
            connect_timeout: HumanDuration(Duration::from_secs(2)),
            request_timeout: HumanDuration(Duration::from_secs(2)),
            backoff_initial: HumanDuration(Duration::from_millis(100)),
            backoff_max: HumanDuration(Duration::from_secs(1)),
        },
        ..Config::default()
    }
}

fn forbid_pods() -> Fault {
    Fault::Forbid {
        verb: "list".into(),
        resource: "pods".into(),
        namespace: None,
    }
}

fn pvcs_pane(m: &Model) -> &PvcsPane {
    m.pane(PaneKind::Pvcs)
        .and_then(|p| p.as_any().downcast_ref::<PvcsPane>())
        .expect("the PVCs pane")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminating_in_use_claim_stays_critical_in_the_console_and_in_check() {
    let sim = SimCluster::start(SimOptions {
        faults: vec![forbid_pods()],
        ..SimOptions::named("incident")
    })
    .await
    .expect("sim starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig: PathBuf = dir.path().join("config");
    sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");

    // The console: both sources as `console::run` starts them, into the app model.
    let cfg = cfg();
    let target = connect(
        &TargetArgs {
            kubeconfig: Some(kubeconfig.clone()),
            all_namespaces: true,
            ..Default::default()
        },
        &KubeEnv::default(),
        &cfg.kubernetes,
    )
    .await
    .expect("connects");
    let (tx, mut rx) = mpsc::channel::<SourceUpdate>(64);
    let pods = ondeck::sources::kube::pods::spawn(target.clone(), &cfg, tx.clone());
    let _pvcs = ondeck::sources::kube::pvcs::spawn(target, pods.store.clone(), &cfg, tx);
    let settings = Settings {
        grid: vec![vec![PaneKind::Pvcs]],
        ..Settings::from_config(&cfg)
    };
    let mut m = Model::new(settings, Instant::now(), jiff::Timestamp::now());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while pvcs_pane(&m).feed.data().is_none() {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(u)) => {
                update(&mut m, Msg::Source(u));
            }
            _ => panic!("no PVC snapshot within 40s"),
        }
    }
    update(
        &mut m,
        Msg::Tick {
            now: Instant::now(),
            wall: jiff::Timestamp::now(),
        },
    );
    let snap = pvcs_pane(&m).feed.data().expect("data");
    let loki = snap
        .rows
        .iter()
        .find(|r| r.namespace == "logging" && r.name == "loki-storage")
        .expect("loki-storage");
    assert_eq!(loki.level, Level::Critical, "{:?}", loki.reasons);
    assert_eq!(loki.reasons[0].rule, PvcRule::TerminatingInUse);
    assert!(
        loki.reasons[0].text.starts_with(SENTENCE),
        "{}",
        loki.reasons[0].text
    );
    assert_eq!(loki.users_unknown.as_deref(), Some("pods are forbidden"));
    assert!(
        snap.rows.iter().all(|r| !r.has_marker(Marker::Unused)
            && !r.has_marker(Marker::InUse)
            && r.users_unknown.is_some()),
        "no claim is UNUSED or IN USE when nobody could look"
    );
    // The alert book fires it: the header cannot say "0 CRITICAL".
    let active = m.alerts.active();
    assert!(
        active.iter().any(|a| a.key.rule == "pvc_terminating_in_use"
            && a.key.subject == "logging/loki-storage"
            && a.key.level == Level::Critical),
        "{:?}",
        active.iter().map(|a| &a.key).collect::<Vec<_>>()
    );
    assert!(m.alerts.summary().critical >= 1);
    // The detail of the selected (loudest: loki-storage) claim.
    m.focused = PaneKind::Pvcs;
    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let text = buffer_text(&render(&m, &Theme::builtin_dark(false), 140, 50));
    assert!(text.contains("logging/loki-storage"), "{text}");
    let mounted = text
        .lines()
        .find(|l| l.contains("mounted by"))
        .unwrap_or_else(|| panic!("no 'mounted by' in the detail:\n{text}"));
    assert!(
        mounted.contains("unknown (pods are forbidden)"),
        "{mounted}"
    );
    assert!(text.contains(SENTENCE), "the reason in the detail:\n{text}");
    assert!(
        !text.contains("no pod"),
        "says both unknown and no pod:\n{text}"
    );
    assert!(!text.contains("UNUSED"), "{text}");

    // `check` with the same user: the same rule on the same data, the same verdict.
    let out = tokio::task::spawn_blocking({
        let kubeconfig = kubeconfig.clone();
        let home = dir.path().to_path_buf();
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_ondeck"))
                .args(["check", "--json", "--only", "pvcs", "--kubeconfig"])
                .arg(&kubeconfig)
                .env("HOME", &home)
                .env("XDG_CONFIG_HOME", &home)
                .env("XDG_STATE_HOME", &home)
                .env_remove("KUBECONFIG")
                .output()
        }
    })
    .await
    .expect("joined")
    .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        out.status.code(),
        Some(2),
        "CRITICAL, as in the console: {v}"
    );
    assert_eq!(v["status"], "critical");
    let checks = v["checks"].as_array().expect("checks");
    assert!(
        checks.iter().any(|c| c["name"] == "pvc_terminating_in_use"
            && c["subject"] == "logging/loki-storage"
            && c["level"] == "critical"
            && c["message"].as_str().is_some_and(|m| m.contains(SENTENCE))),
        "{}",
        serde_json::to_string_pretty(checks).unwrap_or_default()
    );
    let rows = v["pvcs"].as_array().expect("pvcs rows");
    let loki = rows
        .iter()
        .find(|r| r["namespace"] == "logging" && r["name"] == "loki-storage")
        .expect("loki row");
    assert_eq!(loki["level"], "critical");
    assert_eq!(
        v["pvc_summary"]["counts"]["unused"],
        serde_json::Value::Null
    );
    assert_eq!(v["pvc_summary"]["users_unknown"], "pods are forbidden");
    // The text form never says "0 unused" either.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ondeck"))
        .args(["check", "--only", "pvcs", "--kubeconfig"])
        .arg(&kubeconfig)
        .env("XDG_CONFIG_HOME", dir.path())
        .env_remove("KUBECONFIG")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("unknown unused"), "{text}");
    assert!(!text.contains(" 0 unused"), "{text}");
    assert!(
        text.contains("who mounts each claim is unknown: pods are forbidden"),
        "{text}"
    );
    sim.shutdown().await;
}

/// With PersistentVolumes forbidden the reclaim policies are unknown: the summary says so (never
/// `0 at risk`), and `check`'s Prometheus leaves the series out rather than report 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_pvs_make_at_risk_unknown_never_zero() {
    let sim = SimCluster::start(SimOptions {
        faults: vec![Fault::Forbid {
            verb: "list".into(),
            resource: "persistentvolumes".into(),
            namespace: None,
        }],
        ..SimOptions::named("incident")
    })
    .await
    .expect("sim starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("config");
    sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    let run = |format: &'static str| {
        let kubeconfig = kubeconfig.clone();
        let home = dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_ondeck"))
                .args([
                    "check",
                    "--only",
                    "pvcs",
                    "--format",
                    format,
                    "--kubeconfig",
                ])
                .arg(&kubeconfig)
                .env("XDG_CONFIG_HOME", &home)
                .env_remove("KUBECONFIG")
                .output()
                .expect("runs")
        })
    };
    let text = run("text").await.expect("joined");
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    assert!(text.contains("unknown at risk"), "{text}");
    assert!(!text.contains("0 at risk"), "{text}");
    assert!(text.contains("PVs unknown"), "{text}");
    let json = run("json").await.expect("joined");
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(
        v["pvc_summary"]["counts"]["at_risk"],
        serde_json::Value::Null
    );
    let prom = run("prometheus").await.expect("joined");
    let prom = String::from_utf8_lossy(&prom.stdout).into_owned();
    assert!(!prom.contains("ondeck_pvcs_at_risk"), "{prom}");
    assert!(prom.contains("ondeck_pvcs{level=\"critical\"}"), "{prom}");
    let _ = SourceId::Pvcs;
    sim.shutdown().await;
}
