//! Unknown is a state, for pods: with `list events` and `list nodes` forbidden (the simulated
//! cluster's RBAC faults), the pod detail says `events: unknown (forbidden: list events)` —
//! in the pane's detail strip and in the detail dialog — never "no recent events" as if there
//! were none; and the console's model (the real pods source over HTTPS feeding `update`) and
//! `check` (the real binary, same user) give every pod the same level: no pod rule reads
//! events or nodes, so nothing the user cannot read turns a pod green or red.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ondeck::app::panes::pods::PodsPane;
use ondeck::app::{Model, Msg, Settings, update};
use ondeck::config::{Config, HumanDuration, KubernetesConfig};
use ondeck::sim::{Fault, SimCluster, SimOptions};
use ondeck::sources::kube::{KubeEnv, TargetArgs, connect};
use ondeck::sources::{SourceId, SourceUpdate};
use ondeck::ui::fixtures::{buffer_text, render};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::theme::Theme;
use tokio::sync::mpsc;

const UNKNOWN: &str = "events: unknown (forbidden: list events)";

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

fn forbid(resource: &str) -> Fault {
    Fault::Forbid {
        verb: "list".into(),
        resource: resource.into(),
        namespace: None,
    }
}

fn pods_pane(m: &Model) -> &PodsPane {
    m.pane(PaneKind::Pods)
        .and_then(|p| p.as_any().downcast_ref::<PodsPane>())
        .expect("the pods pane")
}

fn key(m: &mut Model, code: KeyCode) {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_events_are_unknown_in_the_detail_and_pods_agree_with_check() {
    let sim = SimCluster::start(SimOptions {
        faults: vec![forbid("events"), forbid("nodes")],
        ..SimOptions::named("incident")
    })
    .await
    .expect("sim starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig: PathBuf = dir.path().join("config");
    sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");

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
    let _pods = ondeck::sources::kube::pods::spawn(target, &cfg, tx);
    let settings = Settings {
        grid: vec![vec![PaneKind::Pods]],
        ..Settings::from_config(&cfg)
    };
    let mut m = Model::new(settings, Instant::now(), jiff::Timestamp::now());
    m.focused = PaneKind::Pods;
    // Until the events watch has been refused (before that they are "not listed yet").
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    loop {
        let said = pods_pane(&m)
            .feed
            .data()
            .and_then(|s| s.events_unknown.clone());
        if said.as_deref() == Some("forbidden: list events") {
            break;
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(u)) => {
                assert_eq!(u.source, SourceId::Pods);
                assert!(
                    u.result.is_ok(),
                    "forbidden events (or nodes) are not a failed pods source: {:?}",
                    u.result.err()
                );
                update(&mut m, Msg::Source(u));
            }
            _ => panic!("the pods snapshot never said why events are unknown (last: {said:?})"),
        }
    }
    let snap = pods_pane(&m).feed.data().expect("data");
    assert!(snap.rows.len() >= 12, "{}", snap.rows.len());
    assert!(snap.events.is_empty(), "nothing could be read");
    let console: BTreeMap<String, String> = snap
        .rows
        .iter()
        .map(|r| {
            (
                format!("{}/{}", r.namespace, r.name),
                format!("{:?}", r.level).to_lowercase(),
            )
        })
        .collect();

    // The image-pull pod has events in the scenario: its detail says they are unknown.
    key(&mut m, KeyCode::Char('/'));
    for c in "frontend-6c9d".chars() {
        key(&mut m, KeyCode::Char(c));
    }
    key(&mut m, KeyCode::Enter);
    let text = buffer_text(&render(&m, &Theme::builtin_dark(false), 200, 60));
    assert!(text.contains("ImagePullBackOff for"), "{text}");
    assert!(text.contains(UNKNOWN), "detail strip:\n{text}");
    assert!(
        !text.contains("no recent events"),
        "says no events although none could be read:\n{text}"
    );
    // The detail dialog says the same.
    key(&mut m, KeyCode::Enter);
    let text = buffer_text(&render(&m, &Theme::builtin_dark(false), 200, 60));
    assert!(text.contains("Pods details"), "{text}");
    assert!(text.contains(UNKNOWN), "detail dialog:\n{text}");
    assert!(!text.contains("no recent events"), "{text}");

    // `check` with the same user: the same rules on the same pods, the same levels.
    let out = tokio::task::spawn_blocking({
        let kubeconfig = kubeconfig.clone();
        let home = dir.path().to_path_buf();
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_ondeck"))
                .args(["check", "--json", "--only", "pods", "--kubeconfig"])
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
    assert_eq!(v["status"], "critical", "crash loops are critical: {v}");
    assert_eq!(out.status.code(), Some(2));
    let checked: BTreeMap<String, String> = v["pods"]
        .as_array()
        .expect("pods rows")
        .iter()
        .map(|r| {
            (
                format!(
                    "{}/{}",
                    r["namespace"].as_str().unwrap_or("?"),
                    r["name"].as_str().unwrap_or("?")
                ),
                r["level"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect();
    assert_eq!(console, checked, "console and check disagree");
    assert!(console.values().any(|l| l == "ok"), "{console:?}");
}
