//! With `[probing] kubernetes = true` and no cluster to connect to, the console's probes pane
//! says the Kubernetes probe audit did not run and why — an unknown, never an empty (healthy-
//! looking) audit. Wired as the console wires it: the probes source's local task and
//! `kube_sources` with a kubeconfig that cannot be used.
//!
//! One test in this file: the probes source hands its audit sink through a process-wide slot,
//! as the console (one per process) does.

use std::time::{Duration, Instant};

use ondeck::app::panes::probes::ProbesPane;
use ondeck::app::{Model, Msg, Settings, update};
use ondeck::config::Config;
use ondeck::sources::SourceId;
use ondeck::sources::kube::TargetArgs;
use ondeck::sources::registry::{LocalCtx, Source as _};
use ondeck::ui::fixtures::{buffer_text, render};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::theme::Theme;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_cluster_means_the_audit_says_it_did_not_run_and_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, "apiVersion: v1\nclusters: [oops\n").expect("write");

    let mut cfg = Config::default();
    cfg.refresh.0 = Duration::from_millis(200);
    cfg.probing.kubernetes = true;
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
    let (logs_tx, _logs_rx) = tokio::sync::watch::channel(None);
    let (target_tx, _target_rx) = tokio::sync::watch::channel(None);
    let kube = tokio::spawn(ondeck::console::kube_sources(
        TargetArgs::for_kubeconfig(&kubeconfig),
        cfg.clone(),
        tx,
        ondeck::console::KubeOut {
            logs: logs_tx,
            target: target_tx,
        },
        cancel.clone(),
    ));

    let settings = Settings {
        grid: vec![vec![PaneKind::Probes]],
        refresh: cfg.refresh.0,
        ..Settings::default()
    };
    let mut m = Model::new(settings, Instant::now(), jiff::Timestamp::now());
    m.focused = PaneKind::Probes;
    let audit_error = |m: &Model| {
        m.pane(PaneKind::Probes)?
            .as_any()
            .downcast_ref::<ProbesPane>()?
            .feed
            .data()?
            .audit
            .as_ref()?
            .error
            .as_deref()
            .map(str::to_string)
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let error = loop {
        if let Some(e) = audit_error(&m) {
            break e;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let u = tokio::time::timeout(left, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no audit error within 30s"))
            .expect("sources running");
        if u.source == SourceId::Probes {
            update(&mut m, Msg::Source(u));
        }
    };
    assert!(error.contains("not run"), "{error}");
    assert!(
        error.contains(&kubeconfig.display().to_string()),
        "the reason names the kubeconfig: {error}"
    );
    let text = buffer_text(&render(&m, &Theme::builtin_dark(false), 80, 24));
    assert!(
        text.contains("k8s probe audit: unknown"),
        "the pane says it in words:\n{text}"
    );
    cancel.cancel();
    let _ = kube.await;
    let _ = local.await;
}
