//! `ondeck` with no subcommand: loads the config, starts the sources, runs the console until
//! the user quits, then stops the sources.
//!
//! Start-up never waits for the network: the Kubernetes connection is made on a task of its
//! own, and until it answers the Kubernetes panes say they are connecting.
//!
//! This is the composition layer above `app` (the model, messages and pure `update`) and `ui`
//! (the view): [`runtime`] is the UI task that owns the terminal and draws the model, and
//! [`executor`] runs the commands `update` returns. Nothing in `app` or `ui` imports it.

pub mod executor;
pub mod runtime;

pub use executor::{
    CommandSender, Dispatched, ExecutorGone, ExecutorHandle, ExecutorOptions, spawn_executor,
};
pub use runtime::{RunOptions, classify_burst, run_with_settings};

use std::time::Instant;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::sources::kube::{KubeEnv, TargetArgs};
use crate::sources::registry::{self, KubeCtx, LocalCtx};
use crate::sources::{self, SourceUpdate};
use crate::startup::Startup;

/// Bounded: a source that outruns the UI waits instead of growing memory.
const CHANNEL_CAPACITY: usize = 256;

pub async fn run(startup: &Startup) -> anyhow::Result<()> {
    // Before any source starts or any byte is written.
    crate::tui::require_terminal()?;
    let cfg = &startup.config;
    tracing::info!(config = ?startup.config_path, refresh = ?cfg.refresh.0, read_only = cfg.read_only, scope = %startup.target.scope, "starting console");
    let (tx, rx) = mpsc::channel::<SourceUpdate>(CHANNEL_CAPACITY);
    let cancel = CancellationToken::new();
    let mut tasks = vec![crate::memory::spawn_release_loop(
        crate::memory::RELEASE_EVERY,
    )];

    // Local sources start now; F5 reaches every one that listens for it.
    let mut refresh_subscribers = Vec::new();
    for source in registry::SOURCES {
        let mut ctx = LocalCtx {
            cfg,
            tx: &tx,
            cancel: &cancel,
            refresh: &mut refresh_subscribers,
        };
        // A panic in a source's task becomes that source's error in its pane.
        let task = source.spawn_local(&mut ctx);
        tasks.extend(task.map(|t| sources::supervise::monitor(source.id(), tx.clone(), t)));
    }
    let (refresh_tx, refresh_rx) = mpsc::channel(1);
    tasks.push(tokio::spawn(fan_out_refresh(
        refresh_rx,
        refresh_subscribers,
    )));

    // --demo: the simulated cluster runs in this process for as long as the console does.
    let launched = startup.launch().await?;
    let target = launched.target().args();
    let (logs_tx, logs_rx) = tokio::sync::watch::channel(None);
    let (kube_tx, kube_rx) = tokio::sync::watch::channel(None);
    let (retarget_tx, retarget_rx) = mpsc::channel(8);
    tasks.push(tokio::spawn(kube_supervisor(
        target,
        cfg.clone(),
        tx.clone(),
        KubeOut {
            logs: logs_tx,
            target: kube_tx,
        },
        retarget_rx,
        cancel.clone(),
    )));
    drop(tx);

    let opts = RunOptions {
        demo: launched.demo_scenario(),
        config_dir: crate::config::config_dir(),
        refresh: Some(refresh_tx),
        pod_logs: Some(logs_rx),
        kube: Some(kube_rx),
        retarget: Some(retarget_tx),
        scope: Some(launched.target().scope.clone()),
        ..Default::default()
    };
    let result = runtime::run(cfg, rx, opts).await;
    cancel.cancel();
    for t in tasks {
        t.abort();
    }
    launched.stop().await;
    result
}

/// Forwards each F5 to every local source that listens (a full queue already has one).
async fn fan_out_refresh(mut rx: mpsc::Receiver<()>, subscribers: Vec<mpsc::Sender<()>>) {
    while rx.recv().await.is_some() {
        for s in &subscribers {
            let _ = s.try_send(());
        }
    }
}

/// What the console publishes about the current Kubernetes connection, for the UI's executor:
/// the log fetcher and the connected target (the guarded PVC flows build their client from
/// it). Both are `None` while (re)connecting and without a cluster.
#[derive(Clone)]
pub struct KubeOut {
    pub logs: tokio::sync::watch::Sender<Option<sources::kube::logs::LogFetcher>>,
    pub target: tokio::sync::watch::Sender<Option<sources::kube::KubeTarget>>,
}

/// Runs the Kubernetes sources for `args`, and on each `:ctx` / `:ns` stops them (their watch
/// tasks are gone before anything new starts) and starts them again for the new target.
pub async fn kube_supervisor(
    mut args: TargetArgs,
    cfg: Config,
    tx: mpsc::Sender<SourceUpdate>,
    out: KubeOut,
    mut retarget: mpsc::Receiver<sources::kube::Retarget>,
    cancel: CancellationToken,
) {
    loop {
        let run = cancel.child_token();
        let task = tokio::spawn(kube_sources(
            args.clone(),
            cfg.clone(),
            tx.clone(),
            out.clone(),
            run.clone(),
        ));
        let next = tokio::select! {
            r = retarget.recv() => r,
            _ = cancel.cancelled() => None,
        };
        run.cancel();
        let _ = task.await;
        let _ = out.logs.send(None);
        let _ = out.target.send(None);
        if next.is_some() {
            // Behind every update the old watchers sent: the panes drop those, keep what follows.
            for source in registry::SOURCES.iter().filter(|s| s.kubernetes()) {
                let marker = SourceUpdate {
                    source: source.id(),
                    generation: sources::next_generation(),
                    at: Instant::now(),
                    wall: jiff::Timestamp::now(),
                    result: Ok(sources::Payload::KubeRetargeted),
                };
                if tx.send(marker).await.is_err() {
                    return;
                }
            }
        }
        match next {
            Some(r) => {
                tracing::info!(?r, "kubernetes target switched");
                r.apply(&mut args);
            }
            None => return,
        }
    }
}

/// Connects (with the configured deadlines) and runs every registered Kubernetes source's
/// watchers until cancelled.
/// A missing kubeconfig is reported as "not configured", not as a failure.
pub async fn kube_sources(
    args: TargetArgs,
    cfg: Config,
    tx: mpsc::Sender<SourceUpdate>,
    out: KubeOut,
    cancel: CancellationToken,
) {
    let env = KubeEnv::from_process();
    let connected = tokio::select! {
        r = sources::kube::connect(&args, &env, &cfg.kubernetes) => r,
        _ = cancel.cancelled() => return,
    };
    match connected {
        Ok(target) => {
            tracing::info!(context = %target.context, server = %target.cluster_url, "kubernetes connected");
            let _ = out
                .logs
                .send(Some(sources::kube::logs::LogFetcher::new(target.clone())));
            let _ = out.target.send(Some(target.clone()));
            let mut ctx = KubeCtx {
                target: &target,
                cfg: &cfg,
                tx: &tx,
                pods: None,
            };
            // Each guard stops its source's watchers when dropped, after cancellation. Every
            // source is asked: a local one may also use the cluster (the probes' audit).
            let guards: Vec<_> = registry::SOURCES
                .iter()
                .filter_map(|s| s.spawn_kube(&mut ctx))
                .collect();
            cancel.cancelled().await;
            drop(guards);
        }
        Err(e) => {
            tracing::info!(error = %e, "kubernetes sources not started");
            sources::probes::source::audit_not_started(&cfg, &e);
            for source in registry::SOURCES.iter().filter(|s| s.kubernetes()) {
                let update = SourceUpdate {
                    source: source.id(),
                    generation: 0,
                    at: Instant::now(),
                    wall: jiff::Timestamp::now(),
                    result: Err(e.clone()),
                };
                let _ = tx.send(update).await;
            }
        }
    }
}
