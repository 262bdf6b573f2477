//! The executor: side effects off the UI task (alert hooks, F5, `:ctx`, pod logs, the guarded
//! PVC delete and rescue flows), a few at a time; results come back as messages.

use std::path::PathBuf;
use std::time::Duration;

use futures::FutureExt;
use tokio::sync::{mpsc, watch};

use crate::actions::PvcRef;
use crate::actions::backup::BackupOptions;
use crate::actions::executor::Executor;
use crate::actions::flow::{
    DeleteFlowHandle, DeleteRequest, FlowEvent, FlowInput, spawn_delete_flow,
};
use crate::actions::target::{KubeTarget as ActionTarget, TargetSource};
use crate::app::msg::{Command, CommandResult};
use crate::app::rescue::{RescueEvent, RescueSummary};
use crate::config::Config;
use crate::domain::pvcs::PvcKey;
use crate::rules::hook::{HOOK_QUEUE, HOOK_WORKERS, HookPool};

/// What the executor needs: the alert hook, the console's channels, and for the guarded PVC
/// flows the configuration, read-only mode and the connected target.
#[derive(Debug, Default, Clone)]
pub struct ExecutorOptions {
    pub alert_command: Option<String>,
    pub hook_timeout: Duration,
    pub refresh: Option<mpsc::Sender<()>>,
    pub pod_logs:
        Option<tokio::sync::watch::Receiver<Option<crate::sources::kube::logs::LogFetcher>>>,
    pub retarget: Option<mpsc::Sender<crate::sources::kube::Retarget>>,
    /// The connected Kubernetes target (`RunOptions.kube`).
    pub kube: Option<watch::Receiver<Option<crate::sources::kube::KubeTarget>>>,
    /// `[backup]` and `[kubernetes]` for the delete flow.
    pub config: Config,
    /// Builds the flow's executor read-only: nothing mutating can leave.
    pub read_only: bool,
    /// The audit log; `None` = `$XDG_STATE_HOME/ondeck/audit.jsonl`, as `ondeck pvc`.
    pub audit_log: Option<PathBuf>,
}

/// The running executor: commands in, results out. Dropping `commands` stops it: a running
/// delete flow is cancelled (or, past the delete request, followed to its end) and the task
/// ends when the flow has.
pub struct ExecutorHandle {
    pub commands: CommandSender,
    pub results: mpsc::Receiver<CommandResult>,
    pub task: tokio::task::JoinHandle<()>,
}

/// Where the UI's commands go. User and flow commands (typed names, cancel, confirm, F5,
/// `:ctx`) go to the executor on an unbounded channel: never dropped, never waited for, and
/// never behind a hook (people type a few keys a second; nothing else sends there in bulk).
/// Alert-hook runs go to their own bounded [`HookPool`]: when it is full they are dropped and
/// counted, which is the only place anything is dropped.
#[derive(Debug, Clone)]
pub struct CommandSender {
    executor: mpsc::UnboundedSender<Command>,
    hooks: Option<HookPool>,
}

/// The executor has stopped (the console is shutting down): the command was not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the executor has stopped; the command was not run")]
pub struct ExecutorGone;

/// What [`CommandSender::dispatch`] did with a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatched {
    /// Queued for the executor (or the hook pool).
    Queued,
    /// An alert-hook run dropped: the hook pool is full (counted).
    HookDropped,
    /// An alert hook without a configured command: nothing to run.
    NoHook,
    /// The executor is gone (shutting down).
    Closed,
}

impl CommandSender {
    /// Routes `cmd` without waiting.
    pub fn dispatch(&self, cmd: Command) -> Dispatched {
        match cmd {
            Command::RunAlertHook(t) => match &self.hooks {
                Some(pool) if pool.submit(*t) => Dispatched::Queued,
                Some(_) => Dispatched::HookDropped,
                None => Dispatched::NoHook,
            },
            Command::Quit | Command::Bell => Dispatched::Queued,
            other => match self.executor.send(other) {
                Ok(()) => Dispatched::Queued,
                Err(_) => {
                    tracing::warn!("executor gone: command not run");
                    Dispatched::Closed
                }
            },
        }
    }

    /// [`CommandSender::dispatch`] for callers written against a channel: `Err` only when the
    /// executor is gone.
    pub async fn send(&self, cmd: Command) -> Result<(), ExecutorGone> {
        match self.dispatch(cmd) {
            Dispatched::Closed => Err(ExecutorGone),
            _ => Ok(()),
        }
    }

    /// Alert-command runs dropped so far because the hook pool was full.
    pub fn hooks_dropped(&self) -> u64 {
        self.hooks.as_ref().map_or(0, HookPool::dropped)
    }

    /// Alert-command runs started so far.
    pub fn hooks_started(&self) -> u64 {
        self.hooks.as_ref().map_or(0, HookPool::started)
    }
}

/// Starts the executor task (the TUI's, or a test's driving `update` without a terminal), and
/// the alert-hook pool when an alert command is configured.
pub fn spawn_executor(opts: ExecutorOptions) -> ExecutorHandle {
    let (commands, cmd_rx) = mpsc::unbounded_channel::<Command>();
    let (done_tx, results) = mpsc::channel::<CommandResult>(64);
    let hooks = opts.alert_command.clone().map(|cmd| {
        let (fail_tx, mut fail_rx) = mpsc::channel::<crate::rules::hook::HookFailure>(16);
        let done = done_tx.clone();
        // Failures reach the UI when there is room; a full channel drops one (it is logged).
        tokio::spawn(async move {
            while let Some(f) = fail_rx.recv().await {
                let _ = done.try_send(CommandResult::AlertHook {
                    rule: f.rule,
                    subject: f.subject,
                    outcome: f.outcome,
                });
            }
        });
        HookPool::spawn(
            cmd,
            opts.hook_timeout,
            HOOK_WORKERS,
            HOOK_QUEUE,
            Some(fail_tx),
        )
    });
    let pool = hooks.clone();
    let task = tokio::spawn(async move {
        // A panic while running a command is logged, reported to the UI, and the executor
        // starts again on the same queue: later commands (a cancel, F5) still run.
        let mut cmd_rx = cmd_rx;
        loop {
            let run = executor(&mut cmd_rx, done_tx.clone(), opts.clone(), pool.clone());
            match std::panic::AssertUnwindSafe(run).catch_unwind().await {
                Ok(()) => break,
                Err(payload) => {
                    let message = crate::sources::supervise::panic_message(payload.as_ref());
                    tracing::error!(panic = %message, "executor panicked; restarted");
                    let _ = done_tx
                        .send(CommandResult::ExecutorPanicked { message })
                        .await;
                }
            }
        }
    });
    ExecutorHandle {
        commands: CommandSender {
            executor: commands,
            hooks,
        },
        results,
        task,
    }
}

/// The delete flow the executor runs (one at a time).
struct RunningFlow {
    pvc: PvcKey,
    inputs: mpsc::Sender<FlowInput>,
    /// Forwards the flow's events and ends with the flow.
    task: tokio::task::JoinHandle<()>,
}

/// Runs side effects off the UI task, a few at a time; results come back as messages.
async fn executor(
    rx: &mut mpsc::UnboundedReceiver<Command>,
    done: mpsc::Sender<CommandResult>,
    opts: ExecutorOptions,
    hooks: Option<HookPool>,
) {
    let ExecutorOptions {
        alert_command: _,
        hook_timeout: _,
        refresh,
        pod_logs,
        retarget,
        kube,
        config,
        read_only,
        audit_log,
    } = opts;
    let mut flow: Option<RunningFlow> = None;
    let mut rescue: Option<RunningRescue> = None;
    while let Some(cmd) = rx.recv().await {
        match cmd {
            // Normally routed to the pool by `CommandSender`; never waited for here either.
            Command::RunAlertHook(t) => {
                if let Some(pool) = &hooks {
                    pool.submit(*t);
                }
            }
            Command::StartPvcDelete { pvc } => {
                if let Some(running) = flow.as_ref().filter(|f| !f.task.is_finished()) {
                    let _ = done
                        .send(CommandResult::PvcFlowBusy {
                            pvc,
                            running: running.pvc.clone(),
                        })
                        .await;
                    continue;
                }
                let audit_log = audit_log
                    .clone()
                    .or_else(crate::actions::audit::default_path);
                let _ = done
                    .send(CommandResult::PvcFlowStarted {
                        pvc: pvc.clone(),
                        audit_log: audit_log.clone(),
                    })
                    .await;
                flow = start_delete_flow(pvc, kube.as_ref(), &config, read_only, audit_log, &done)
                    .await;
            }
            Command::StartPvcRescue { pvc } => {
                if let Some(r) = rescue.as_ref().filter(|r| !r.task.is_finished()) {
                    let reason =
                        format!("a rescue is already running ({}); nothing was done", r.pvc);
                    let _ = done
                        .send(CommandResult::PvcRescue {
                            pvc,
                            event: RescueEvent::Failed { reason },
                        })
                        .await;
                    continue;
                }
                let audit_log = audit_log
                    .clone()
                    .or_else(crate::actions::audit::default_path);
                rescue =
                    start_rescue(pvc, kube.as_ref(), &config, read_only, audit_log, &done).await;
            }
            Command::CancelPvcRescue => {
                if let Some(r) = &rescue {
                    r.cancel.cancel();
                }
            }
            Command::PvcFlowInput(input) => match &flow {
                Some(f) if !f.task.is_finished() => {
                    if f.inputs.try_send(input).is_err() {
                        tracing::warn!(pvc = %f.pvc, "delete flow input dropped (flow busy or gone)");
                    }
                }
                _ => tracing::debug!("delete flow input without a running flow"),
            },
            Command::RefreshSources => {
                if let Some(r) = &refresh {
                    let _ = r.try_send(());
                }
            }
            Command::Retarget(r) => {
                if let Some(tx) = &retarget {
                    let _ = tx.send(r).await;
                }
            }
            Command::FetchPodLogs {
                pod,
                container,
                previous,
            } => {
                let fetcher = pod_logs.as_ref().and_then(|rx| rx.borrow().clone());
                let done = done.clone();
                tokio::spawn(async move {
                    let result = match fetcher {
                        Some(f) => f.fetch(&pod, &container, previous).await,
                        None => Err(crate::sources::SourceError::NotConfigured(
                            "not connected to a cluster yet".into(),
                        )),
                    };
                    let view =
                        crate::app::logs::PodLogsView::done(pod, container, previous, result);
                    let _ = done.send(CommandResult::PodLogs(Box::new(view))).await;
                });
            }
            Command::Quit | Command::Bell => {}
        }
    }
    // The UI is gone: stop a rescue's backup (its helper-free stream just ends; the PV keeps
    // Retain), and cancel a flow that can still be cancelled (a flow past the delete request
    // does not listen and runs to its end), then wait for both.
    if let Some(r) = rescue {
        r.cancel.cancel();
        let _ = r.task.await;
    }
    if let Some(f) = flow {
        let _ = f.inputs.try_send(FlowInput::Cancel);
        drop(f.inputs);
        let _ = f.task.await;
    }
}

/// The rescue the executor runs (one at a time).
struct RunningRescue {
    pvc: PvcKey,
    cancel: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

/// Starts `actions::rescue` for `pvc` on the connected target (the same code as
/// `ondeck pvc rescue`), reporting progress and the end as `CommandResult::PvcRescue`.
async fn start_rescue(
    pvc: PvcKey,
    kube: Option<&watch::Receiver<Option<crate::sources::kube::KubeTarget>>>,
    config: &Config,
    read_only: bool,
    audit_log: Option<PathBuf>,
    done: &mpsc::Sender<CommandResult>,
) -> Option<RunningRescue> {
    let send = |event: RescueEvent| CommandResult::PvcRescue {
        pvc: pvc.clone(),
        event,
    };
    let target = kube.and_then(|k| k.borrow().clone());
    let Some(target) = target else {
        let _ = done
            .send(send(RescueEvent::Failed {
                reason: "not connected to a cluster; nothing was done".into(),
            }))
            .await;
        return None;
    };
    let opts = match BackupOptions::from_config(config) {
        Ok(b) => b,
        Err(e) => {
            let _ = done
                .send(send(RescueEvent::Failed {
                    reason: format!("{e}; nothing was done"),
                }))
                .await;
            return None;
        }
    };
    let (exec, recorded) = flow_executor(&target, config, read_only);
    // The target the rescue checks before each change: the console's, as it is now.
    let (target_tx, target_rx) = watch::channel(recorded);
    let mut kube_rx = kube.cloned();
    let _ = done
        .send(send(RescueEvent::Started {
            audit_log: audit_log.clone(),
        }))
        .await;
    let cancel = tokio_util::sync::CancellationToken::new();
    let token = cancel.clone();
    let done = done.clone();
    let task_pvc = pvc.clone();
    let task = tokio::spawn(async move {
        let pvc_ref = PvcRef::new(task_pvc.namespace.clone(), task_pvc.name.clone());
        let progress_tx = done.clone();
        let progress_pvc = task_pvc.clone();
        // Progress is best effort: a full channel drops a progress line, never the end.
        let progress = move |p: crate::actions::backup::BackupProgress| {
            let _ = progress_tx.try_send(CommandResult::PvcRescue {
                pvc: progress_pvc.clone(),
                event: RescueEvent::Progress(p),
            });
        };
        let source = TargetSource::Watch(target_rx);
        let run = crate::actions::rescue::rescue(
            &exec,
            &source,
            &pvc_ref,
            &opts,
            &progress,
            &token,
            audit_log.as_deref(),
        );
        tokio::pin!(run);
        // While it runs, the rescue's idea of the target follows the console's (a `:ctx`
        // switch makes its next check fail before anything is changed).
        let result = loop {
            tokio::select! {
                r = &mut run => break r,
                changed = async { kube_rx.as_mut()?.changed().await.ok() }, if kube_rx.is_some() => {
                    match (changed, kube_rx.as_mut()) {
                        (Some(()), Some(rx)) => {
                            let now = flow_target(rx.borrow_and_update().as_ref());
                            let _ = target_tx.send(now);
                        }
                        _ => kube_rx = None,
                    }
                }
            }
        };
        let event = match result {
            Ok(r) => RescueEvent::Done(Box::new(RescueSummary {
                backup_dir: r.backup.dir.clone(),
                files: r.backup.manifest.summary.files,
                bytes: r.backup.manifest.summary.file_bytes,
                sha256: r.backup.manifest.summary.archive_sha256.clone(),
                policy_after: r.policy_after.clone(),
                retain_error: r.retain_error.clone(),
                next_steps: r.next_steps.clone(),
            })),
            Err(e) => RescueEvent::Failed {
                reason: e.to_string(),
            },
        };
        tracing::info!(pvc = %task_pvc, ?event, "PVC rescue ended");
        let _ = done
            .send(CommandResult::PvcRescue {
                pvc: task_pvc,
                event,
            })
            .await;
    });
    Some(RunningRescue { pvc, cancel, task })
}

/// The executor a guarded flow (delete, rescue) runs with on the connected target, and the
/// target as the flow records it. The exec stream of a backup can be quiet for longer than a
/// request deadline (`du` on a big volume): the watch client's longer read deadline fits it;
/// every read the executor makes still carries `request_timeout`, and the stream its
/// no-progress timeout.
fn flow_executor(
    target: &crate::sources::kube::KubeTarget,
    config: &Config,
    read_only: bool,
) -> (Executor, ActionTarget) {
    let recorded = flow_target(Some(target));
    let exec = Executor::new(
        target.watch_client.clone(),
        recorded.clone(),
        read_only,
        config.kubernetes.request_timeout.into(),
    );
    (exec, recorded)
}

/// The flow's idea of the cluster, from the console's connection: another context (or no
/// connection at all) is a different target, so a `:ctx` switch mid-flow aborts the flow at
/// its next check.
fn flow_target(t: Option<&crate::sources::kube::KubeTarget>) -> ActionTarget {
    match t {
        Some(t) => ActionTarget {
            context: t.context.clone(),
            server: t.cluster_url.clone(),
            kubeconfig_user: t.user.clone(),
        },
        None => ActionTarget {
            context: "(not connected)".into(),
            server: "(none)".into(),
            kubeconfig_user: None,
        },
    }
}

/// Starts the delete flow for `pvc` on the connected target, forwarding its events to
/// `done`. A flow that cannot start reports a `Failed` event (nothing was done).
async fn start_delete_flow(
    pvc: PvcKey,
    kube: Option<&watch::Receiver<Option<crate::sources::kube::KubeTarget>>>,
    config: &Config,
    read_only: bool,
    audit_log: Option<PathBuf>,
    done: &mpsc::Sender<CommandResult>,
) -> Option<RunningFlow> {
    let fail = |reason: String| CommandResult::PvcFlow {
        pvc: pvc.clone(),
        event: FlowEvent::Failed {
            reason,
            backup_dir: None,
        },
    };
    let Some(mut kube) = kube.cloned() else {
        let _ = done
            .send(fail("not connected to a cluster; nothing was done".into()))
            .await;
        return None;
    };
    let Some(target) = kube.borrow_and_update().clone() else {
        let _ = done
            .send(fail("not connected to a cluster; nothing was done".into()))
            .await;
        return None;
    };
    let backup = match BackupOptions::from_config(config) {
        Ok(b) => b,
        Err(e) => {
            let _ = done.send(fail(format!("{e}; nothing was done"))).await;
            return None;
        }
    };
    let pvc_ref = PvcRef::new(pvc.namespace.clone(), pvc.name.clone());
    let req = DeleteRequest::from_config(config, pvc_ref, backup, false, false, audit_log);
    let (exec, recorded) = flow_executor(&target, config, read_only);
    let (target_tx, target_rx) = watch::channel(recorded);
    let handle = spawn_delete_flow(exec, TargetSource::Watch(target_rx), req);
    let inputs = handle.inputs.clone();
    let done = done.clone();
    let task_pvc = pvc.clone();
    let task = tokio::spawn(async move {
        let DeleteFlowHandle {
            mut events,
            inputs,
            task,
        } = handle;
        drop(inputs);
        let mut task = task;
        let mut following = true;
        loop {
            tokio::select! {
                ev = events.recv() => match ev {
                    Some(event) => {
                        let _ = done
                            .send(CommandResult::PvcFlow { pvc: task_pvc.clone(), event })
                            .await;
                    }
                    None => break,
                },
                changed = kube.changed(), if following => match changed {
                    Ok(()) => {
                        let now = flow_target(kube.borrow_and_update().as_ref());
                        let _ = target_tx.send(now);
                    }
                    // The console is gone: nothing to follow; the last target stays.
                    Err(_) => following = false,
                },
            }
        }
        match (&mut task).await {
            Ok(r) => {
                tracing::info!(pvc = %task_pvc, outcome = ?r.outcome.as_ref().map(|o| o.to_string()), "PVC delete flow ended")
            }
            Err(e) => tracing::error!(pvc = %task_pvc, error = %e, "PVC delete flow task failed"),
        }
    });
    Some(RunningFlow { pvc, inputs, task })
}
