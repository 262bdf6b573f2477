//! `ondeck` with no subcommand: loads the config, starts the sources, runs the console until
//! the user quits, then stops the sources.
//!
//! Start-up never waits for the network: the Kubernetes connection is made on a task of its
//! own, and until it answers the Kubernetes panes say they are connecting.

use std::time::Instant;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::{self, RunOptions};
use crate::cli::{GlobalArgs, effective_config};
use crate::config::Config;
use crate::sources::kube::{KubeEnv, TargetArgs};
use crate::sources::{self, SourceId, SourceUpdate};

/// Bounded: a source that outruns the UI waits instead of growing memory.
const CHANNEL_CAPACITY: usize = 256;

pub async fn run(g: &GlobalArgs) -> anyhow::Result<()> {
    let (cfg, config_path) = effective_config(g)?;
    tracing::info!(config = ?config_path, refresh = ?cfg.refresh.0, read_only = cfg.read_only, "starting console");
    let (tx, rx) = mpsc::channel::<SourceUpdate>(CHANNEL_CAPACITY);
    let cancel = CancellationToken::new();
    let mut tasks = Vec::new();

    // F5: the sockets source polls at once (the Kubernetes sources are watches: always live).
    let (refresh_tx, refresh_rx) = mpsc::channel(1);
    if cfg.sockets.enabled {
        tasks.push(sources::sockets::spawn_with_refresh(
            sources::socket_options(&cfg.sockets),
            cfg.refresh.0,
            tx.clone(),
            cancel.clone(),
            Some(refresh_rx),
        ));
    }

    // --demo: the simulated cluster runs in this process for as long as the console does.
    let demo = match g.demo {
        true => Some(crate::demo::Demo::start(g.scenario.as_deref()).await?),
        false => None,
    };
    let target = target_args(g, demo.as_ref());
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
        demo: demo.as_ref().map(|d| d.scenario().to_string()),
        config_dir: crate::config::config_dir(),
        refresh: Some(refresh_tx),
        pod_logs: Some(logs_rx),
        kube: Some(kube_rx),
        retarget: Some(retarget_tx),
        ..Default::default()
    };
    let result = app::run(&cfg, rx, opts).await;
    cancel.cancel();
    for t in tasks {
        t.abort();
    }
    if let Some(d) = demo {
        d.stop().await;
    }
    result
}

/// The Kubernetes target from the command line. The console watches all namespaces unless
/// `-n` names one (a wall screen wants everything; kubectl's per-context namespace is one flag
/// away).
pub fn target_args(g: &GlobalArgs, demo: Option<&crate::demo::Demo>) -> TargetArgs {
    match demo {
        Some(d) => TargetArgs {
            kubeconfig: Some(d.kubeconfig().to_path_buf()),
            context: None,
            namespace: g.namespace.clone(),
            all_namespaces: g.namespace.is_none(),
        },
        None => TargetArgs {
            kubeconfig: g.kubeconfig.clone(),
            context: g.context.clone(),
            namespace: g.namespace.clone(),
            all_namespaces: g.all_namespaces || g.namespace.is_none(),
        },
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
            for source in [SourceId::Pods, SourceId::Pvcs] {
                let marker = SourceUpdate {
                    source,
                    generation: sources::kube::pods::next_generation(),
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

/// Connects (with the configured deadlines) and runs the pod and PVC watchers until cancelled.
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
            let pods = sources::kube::pods::spawn(target.clone(), &cfg, tx.clone());
            let _pvcs = sources::kube::pvcs::spawn(target, pods.store.clone(), &cfg, tx);
            cancel.cancelled().await;
            drop(pods);
        }
        Err(e) => {
            tracing::info!(error = %e, "kubernetes sources not started");
            for source in [SourceId::Pods, SourceId::Pvcs] {
                let update = SourceUpdate {
                    source,
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
