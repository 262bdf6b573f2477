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
    // Pods: one shared watch on the kubeconfig's context, or on the built-in simulated cluster
    // with --demo. Both handles stop their tasks when dropped at the end of `run`.
    let scenario = g.scenario.clone().unwrap_or_else(|| "incident".into());
    let demo = if g.demo {
        Some(sources::kube::DemoCluster::start(&scenario).await?)
    } else {
        None
    };
    let kube_args = match &demo {
        Some(d) => d.args.clone(),
        None => sources::kube::TargetArgs {
            kubeconfig: g.kubeconfig.clone(),
            context: g.context.clone(),
            namespace: g.namespace.clone(),
            all_namespaces: g.all_namespaces,
        },
    };
    let _pods = sources::kube::start_pods(
        &cfg,
        &kube_args,
        &sources::kube::KubeEnv::from_process(),
        tx.clone(),
    )
    .await;
    drop(tx);

    let opts = RunOptions {
        demo: demo.as_ref().map(|_| scenario.clone()),
        config_dir: crate::config::config_dir(),
        ..Default::default()
    };
    let result = app::run(&cfg, rx, opts).await;
    cancel.cancel();
    for t in tasks {
        t.abort();
    }
    result
}
