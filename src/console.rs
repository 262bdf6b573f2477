//! `ondeck` with no subcommand: loads the config, starts the sources, runs the console until
//! the user quits, then stops the sources.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::app::{self, RunOptions};
use crate::cli::{GlobalArgs, effective_config};
use crate::sources::{self, SourceUpdate};

/// Bounded: a source that outruns the UI waits instead of growing memory.
const CHANNEL_CAPACITY: usize = 256;

pub async fn run(g: &GlobalArgs) -> anyhow::Result<()> {
    let (cfg, config_path) = effective_config(g)?;
    tracing::info!(config = ?config_path, refresh = ?cfg.refresh.0, read_only = cfg.read_only, "starting console");
    let (tx, rx) = mpsc::channel::<SourceUpdate>(CHANNEL_CAPACITY);
    let cancel = CancellationToken::new();
    let mut tasks = Vec::new();

    if cfg.sockets.enabled {
        tasks.push(sources::sockets::spawn(
            sources::socket_options(&cfg.sockets),
            cfg.refresh.0,
            tx.clone(),
            cancel.clone(),
        ));
    }
    // --demo: the simulated cluster runs in this process for as long as the console does.
    let demo = match g.demo {
        true => Some(crate::demo::Demo::start(g.scenario.as_deref()).await?),
        false => None,
    };

    // Pods: one shared watch on the kubeconfig's context, or on the demo cluster. The handle
    // stops its tasks when dropped at the end of `run`.
    let kube_args = match &demo {
        Some(d) => sources::kube::TargetArgs::for_kubeconfig(d.kubeconfig()),
        None => sources::kube::TargetArgs {
            kubeconfig: g.kubeconfig.clone(),
            context: g.context.clone(),
            namespace: g.namespace.clone(),
            all_namespaces: g.all_namespaces,
        },
    };
    let pods = sources::kube::start_pods(
        &cfg,
        &kube_args,
        &sources::kube::KubeEnv::from_process(),
        tx.clone(),
    )
    .await;
    drop(tx);

    let opts = RunOptions {
        demo: demo.as_ref().map(|d| d.scenario().to_string()),
        config_dir: crate::config::config_dir(),
        pod_logs: pods
            .as_ref()
            .map(|p| sources::kube::logs::LogFetcher::new(p.target.clone())),
        ..Default::default()
    };
    let result = app::run(&cfg, rx, opts).await;
    cancel.cancel();
    for t in tasks {
        t.abort();
    }
    drop(pods);
    if let Some(d) = demo {
        d.stop().await;
    }
    result
}
