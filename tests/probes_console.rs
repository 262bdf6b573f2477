//! The console's Kubernetes probe audit, wired as the console wires it: the probes source's
//! local task (`spawn_local`) and the Kubernetes supervisor (`kube_supervisor`, which starts the
//! audit through `spawn_kube` once connected) against `--demo`'s simulated cluster (scenario
//! `incident`), their updates applied to the TUI model. In namespace `web` the audit finds no
//! slow endpoint; after `:ns payments` (typed into the model, sent to the supervisor) the old
//! namespace's rows are gone and the NotReady payments pod's readiness probe (`timeoutSeconds:
//! 1` against an endpoint answering in about 2 s) is a finding, with its probe-failure event
//! joined, shown in the pane at 80x24.
//!
//! One test in this file: the probes source hands its audit sink to `spawn_kube` through a
//! process-wide slot, as the console (one per process) does.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ondeck::app::msg::Command;
use ondeck::app::panes::probes::ProbesPane;
use ondeck::app::{Model, Msg, Settings, update};
use ondeck::config::Config;
use ondeck::demo::Demo;
use ondeck::domain::Level;
use ondeck::domain::probes::AuditSnapshot;
use ondeck::sources::kube::{Retarget, TargetArgs};
use ondeck::sources::registry::{LocalCtx, Source as _};
use ondeck::sources::{SourceId, SourceUpdate};
use ondeck::ui::fixtures::{buffer_text, render};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::theme::Theme;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn key(m: &mut Model, code: KeyCode) -> Vec<Command> {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn audit_of(m: &Model) -> Option<AuditSnapshot> {
    m.pane(PaneKind::Probes)?
        .as_any()
        .downcast_ref::<ProbesPane>()?
        .feed
        .data()?
        .audit
        .clone()
}

/// Applies the probes source's updates to the model until `done` holds for the pane's audit.
async fn until(
    m: &mut Model,
    rx: &mut mpsc::Receiver<SourceUpdate>,
    what: &str,
    done: impl Fn(&AuditSnapshot) -> bool,
) -> AuditSnapshot {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(a) = audit_of(m)
            && done(&a)
        {
            return a;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let u = tokio::time::timeout(left, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no {what} within 60s; last audit: {:#?}", audit_of(m)))
            .expect("sources running");
        if u.source == SourceId::Probes {
            update(m, Msg::Source(u));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_audits_the_targets_kubernetes_probes_and_follows_ns() {
    let demo = Demo::start(Some("incident")).await.expect("demo starts");
    let mut cfg = Config::default();
    cfg.refresh.0 = Duration::from_millis(200);
    cfg.probing.kubernetes_interval.0 = Duration::from_secs(1);
    let (tx, mut rx) = mpsc::channel(256);
    let cancel = CancellationToken::new();
    let mut refresh = Vec::new();
    let local = ondeck::sources::probes::Probes
        .spawn_local(&mut LocalCtx {
            cfg: &cfg,
            tx: &tx,
            cancel: &cancel,
            refresh: &mut refresh,
        })
        .expect("the probes task starts");

    let mut args = TargetArgs::for_kubeconfig(demo.kubeconfig());
    args.all_namespaces = false;
    args.namespace = Some("web".into());
    let (logs_tx, _logs_rx) = tokio::sync::watch::channel(None);
    let (target_tx, _target_rx) = tokio::sync::watch::channel(None);
    let (re_tx, re_rx) = mpsc::channel(4);
    let sup = tokio::spawn(ondeck::console::kube_supervisor(
        args,
        cfg.clone(),
        tx,
        ondeck::console::KubeOut {
            logs: logs_tx,
            target: target_tx,
        },
        re_rx,
        cancel.clone(),
    ));

    let settings = Settings {
        grid: vec![vec![PaneKind::Probes]],
        refresh: cfg.refresh.0,
        ..Settings::default()
    };
    let mut m = Model::new(settings, Instant::now(), jiff::Timestamp::now());
    m.focused = PaneKind::Probes;

    // Namespace web: its pods' probes, measured, no finding.
    let web = until(&mut m, &mut rx, "audit of namespace web", |a| {
        a.at.is_some()
            && a.scope
                .as_deref()
                .is_some_and(|s| s.ends_with("namespace web"))
    })
    .await;
    assert!(web.error.is_none(), "{:?}", web.error);
    assert!(
        !web.rows.is_empty(),
        "web's pods have HTTP readiness probes"
    );
    assert!(web.rows.iter().all(|r| &*r.namespace == "web"), "{web:#?}");
    assert!(web.rows.iter().all(|r| r.finding.is_none()), "{web:#?}");
    assert!(
        web.rows
            .iter()
            .any(|r| r.stats.p99.is_some_and(|p| p < Duration::from_millis(500))),
        "a Ready pod answers fast through the proxy: {web:#?}"
    );

    // `:ns payments` typed in the console; the command goes to the supervisor.
    key(&mut m, KeyCode::Char(':'));
    for c in "ns payments".chars() {
        key(&mut m, KeyCode::Char(c));
    }
    let cmds = key(&mut m, KeyCode::Enter);
    let Some(Command::Retarget(r)) = cmds
        .iter()
        .find(|c| matches!(c, Command::Retarget(_)))
        .cloned()
    else {
        panic!("no retarget command: {cmds:?}");
    };
    assert!(matches!(&r, Retarget::Namespace(n) if n == "payments"));
    re_tx.send(r).await.expect("supervisor listens");

    // The new target's first word: measuring, with none of web's rows left.
    let switching = until(&mut m, &mut rx, "audit starting on payments", |a| {
        a.scope
            .as_deref()
            .is_some_and(|s| s.ends_with("namespace payments"))
    })
    .await;
    assert!(
        switching.rows.iter().all(|r| &*r.namespace == "payments"),
        "{switching:#?}"
    );
    let payments = until(&mut m, &mut rx, "audit of namespace payments", |a| {
        a.at.is_some()
            && a.scope
                .as_deref()
                .is_some_and(|s| s.ends_with("namespace payments"))
    })
    .await;
    assert!(payments.error.is_none(), "{:?}", payments.error);
    assert!(payments.rows.iter().all(|r| &*r.namespace == "payments"));
    let flagged: Vec<_> = payments
        .rows
        .iter()
        .filter(|r| r.finding.is_some())
        .collect();
    assert!(!flagged.is_empty(), "{payments:#?}");
    for r in &flagged {
        let f = r.finding.as_deref().unwrap_or_default();
        assert!(
            f.starts_with("readiness timeout 1s is below this endpoint's p99 ")
                && f.ends_with(": pods will flap under load"),
            "{f}"
        );
        assert_eq!(r.level, Level::Warning);
        assert!(r.stats.p99.is_some_and(|p| p > Duration::from_secs(1)));
    }
    assert!(
        flagged
            .iter()
            .any(|r| &*r.pod == "payments-api-7f9c6b5d4-m5wpl"
                && r.events
                    .iter()
                    .any(|e| e.starts_with("Readiness probe failed"))),
        "the NotReady pod's finding carries its probe-failure event: {flagged:#?}"
    );

    // The pane at 80x24 says it in words, and the finding is a condition of the alert book.
    let text = buffer_text(&render(&m, &Theme::builtin_dark(false), 80, 24));
    let flat: String = text
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains("readiness timeout 1s is below this endpoint's p99")
            && flat.contains("pods will flap under load"),
        "{text}"
    );
    assert!(flat.contains("namespace payments"), "{text}");
    assert!(
        !text.contains("web/"),
        "no row of the old namespace: {text}"
    );
    for r in &flagged {
        let subject = format!("{}/{} {} {}", r.namespace, r.pod, r.container, r.kind);
        let levels: Vec<Level> = m
            .alerts
            .active_of(SourceId::Probes)
            .filter(|a| a.key.rule == "probe_timeout_below_p99" && a.key.subject == *subject)
            .map(|a| a.key.level)
            .collect();
        assert_eq!(levels, [Level::Warning], "{subject}");
    }

    cancel.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), sup).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), local).await;
    demo.stop().await;
}
