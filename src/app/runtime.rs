//! The UI task: owns the terminal and the model, `select!`s over terminal events, the source
//! channel (draining a bounded batch per turn), a 1 s tick, signals and executor results, and
//! draws only when dirty, at most `MAX_FPS` times a second. Side effects run in the executor.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::{FutureExt, StreamExt};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};

use super::model::{Model, Settings};
use super::msg::{Command, CommandResult, Msg};
use super::update::update;
use crate::actions::PvcRef;
use crate::actions::backup::BackupOptions;
use crate::actions::executor::Executor;
use crate::actions::flow::{
    DeleteFlowHandle, DeleteRequest, FlowEvent, FlowInput, spawn_delete_flow,
};
use crate::actions::target::{KubeTarget as ActionTarget, TargetSource};
use crate::app::rescue::{RescueEvent, RescueSummary};
use crate::config::Config;
use crate::domain::pvcs::PvcKey;
use crate::rules::alertmanager::AlertmanagerClient;
use crate::rules::hook::{HOOK_QUEUE, HOOK_WORKERS, HookPool};
use crate::sources::SourceUpdate;
use crate::tui::TerminalGuard;
use crate::ui::{self, Theme};

/// Frame-rate cap: bursts of input or updates never draw more often than this.
pub const MAX_FPS: u64 = 30;
/// Source updates drained per loop turn (only the latest per source is applied) before
/// yielding to input and drawing.
pub const SOURCE_BATCH: usize = 64;

#[derive(Debug, Default, Clone)]
pub struct RunOptions {
    /// `Some(scenario)` when the sources are the simulated cluster (`--demo`).
    pub demo: Option<String>,
    /// Where user themes live (`crate::config::config_dir()`, i.e. `$XDG_CONFIG_HOME/ondeck`);
    /// `None` = built-in themes only.
    pub config_dir: Option<PathBuf>,
    /// Override `NO_COLOR` detection (tests); `None` reads the environment.
    pub no_color: Option<bool>,
    /// F5 sends here; sources that listen poll at once.
    pub refresh: Option<mpsc::Sender<()>>,
    /// Fetches pod logs on demand (`l` / `L` on the pods pane). A watch because the cluster
    /// connection is made after start-up; `None` in it until then (or without a cluster).
    pub pod_logs:
        Option<tokio::sync::watch::Receiver<Option<crate::sources::kube::logs::LogFetcher>>>,
    /// The connected Kubernetes target (`None` while connecting, retargeting, or without a
    /// cluster): the guarded PVC flows build their executor from it.
    pub kube: Option<tokio::sync::watch::Receiver<Option<crate::sources::kube::KubeTarget>>>,
    /// `:ctx` / `:ns` go here; the console reconnects the Kubernetes sources.
    pub retarget: Option<mpsc::Sender<crate::sources::kube::Retarget>>,
    /// The guarded flows' audit log; `None` = `$XDG_STATE_HOME/ondeck/audit.jsonl`.
    pub audit_log: Option<PathBuf>,
    /// The namespaces the startup asked for (the header names them); `None`: all.
    pub scope: Option<crate::domain::pods::NamespaceScope>,
}

/// Runs the TUI until the user quits or a signal arrives: the entry point `main` calls with the
/// loaded configuration (CLI overrides folded in) and the receiving end of the sources' bounded
/// channel. The theme is loaded before the terminal is touched, so a bad theme file is a plain
/// error message with path, line and column.
pub async fn run(
    config: &Config,
    rx: mpsc::Receiver<SourceUpdate>,
    opts: RunOptions,
) -> anyhow::Result<()> {
    // Marked as the UI task: a panic elsewhere leaves the terminal in the TUI (tui's hook).
    crate::tui::UiTask::new(run_inner(
        Settings::from_config(config),
        config.clone(),
        rx,
        opts,
    ))
    .await
}

/// [`run`] with settings built directly (tests, embedding); the guarded flows use the
/// default configuration (with `settings.read_only`).
pub async fn run_with_settings(
    settings: Settings,
    rx: mpsc::Receiver<SourceUpdate>,
    opts: RunOptions,
) -> anyhow::Result<()> {
    let config = Config {
        read_only: settings.read_only,
        ..Config::default()
    };
    crate::tui::UiTask::new(run_inner(settings, config, rx, opts)).await
}

async fn run_inner(
    settings: Settings,
    config: Config,
    mut rx: mpsc::Receiver<SourceUpdate>,
    opts: RunOptions,
) -> anyhow::Result<()> {
    let no_color = opts.no_color.unwrap_or_else(ui::theme::no_color_from_env);
    let mut theme = Theme::load(&settings.theme, opts.config_dir.as_deref(), no_color)?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;

    let alert_command = settings.alert_command.clone();
    let hook_timeout = settings.alert_command_timeout;
    let read_only = settings.read_only;
    let alertmanager = match &config.alerts.alertmanager_url {
        Some(url) => Some(AlertmanagerClient::spawn(
            url,
            config.alerts.alertmanager_timeout.0,
            config.alerts.alertmanager_resend.0,
        )?),
        None => None,
    };
    let mut published = None;
    let mut guard = TerminalGuard::enter(settings.mouse)?;
    let size = guard.terminal.size()?;
    let mut model = Model::new(settings, Instant::now(), jiff::Timestamp::now());
    model.demo = opts.demo.clone();
    if let Some(scope) = &opts.scope {
        model.settings.scope = scope.clone();
    }
    model.size = (size.width, size.height);

    let ExecutorHandle {
        commands: cmd_tx,
        results: mut done_rx,
        task: mut executor,
    } = spawn_executor(ExecutorOptions {
        alert_command,
        hook_timeout,
        refresh: opts.refresh.clone(),
        pod_logs: opts.pod_logs.clone(),
        retarget: opts.retarget.clone(),
        kube: opts.kube.clone(),
        config,
        read_only,
        audit_log: opts.audit_log.clone(),
    });

    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let frame = Duration::from_millis(1000 / MAX_FPS);
    let mut last_draw: Option<Instant> = None;
    let mut sources_open = true;
    // Terminal events read ahead while looking for a paste sent as keys.
    let mut pending: std::collections::VecDeque<Event> = std::collections::VecDeque::new();

    let result: anyhow::Result<()> = loop {
        let now = Instant::now();
        let mut next_draw = None;
        if model.dirty {
            match last_draw {
                Some(t) if now < t + frame => next_draw = Some(t + frame),
                _ => {
                    if let Err(e) = guard.terminal.draw(|f| ui::view(&model, &theme, f)) {
                        break Err(e.into());
                    }
                    model.dirty = false;
                    last_draw = Some(now);
                }
            }
        }
        let msg = if let Some(ev) = pending.pop_front() {
            match event_msg(ev) {
                Some(m) => m,
                None => continue,
            }
        } else {
            tokio::select! {
                biased;
                _ = sigint.recv() => Msg::Shutdown("SIGINT"),
                _ = sigterm.recv() => Msg::Shutdown("SIGTERM"),
                _ = sighup.recv() => Msg::Shutdown("SIGHUP"),
                ev = events.next() => match ev {
                    Some(Ok(ev)) => {
                        let awaiting_name = matches!(
                            &model.overlay,
                            Some(crate::app::model::Overlay::PvcDelete(d))
                                if d.stage() == crate::actions::flow::FlowStage::AwaitingName
                        );
                        if awaiting_name && is_printable_key(&ev) {
                            // Read what is ready right now: a paste sent as keys is all there.
                            let mut burst = vec![ev];
                            while burst.len() < 4096 {
                                match ready_event(&mut events).await {
                                    Some(Ok(e)) => burst.push(e),
                                    _ => break,
                                }
                            }
                            let (msg, rest) = classify_burst(burst);
                            pending.extend(rest);
                            match msg {
                                Some(m) => m,
                                None => continue,
                            }
                        } else {
                            match event_msg(ev) {
                                Some(m) => m,
                                None => continue,
                            }
                        }
                    }
                    Some(Err(e)) => break Err(e.into()),
                    None => Msg::Shutdown("terminal closed"),
                },
                u = rx.recv(), if sources_open => match u {
                    Some(u) => Msg::Source(u),
                    None => {
                        sources_open = false;
                        continue;
                    }
                },
                Some(r) = done_rx.recv() => Msg::CommandDone(r),
                _ = tick.tick() => Msg::Tick { now: Instant::now(), wall: jiff::Timestamp::now() },
                _ = sleep_until(next_draw), if next_draw.is_some() => continue,
            }
        };
        // Source updates waiting now are drained together and only the latest per source is
        // applied: a burst of snapshots costs one rebuild per source, not one per snapshot.
        let mut batch = Vec::new();
        let mut cmds = match msg {
            Msg::Source(u) => {
                batch.push(u);
                Vec::new()
            }
            other => update(&mut model, other),
        };
        while batch.len() < SOURCE_BATCH {
            match rx.try_recv() {
                Ok(u) => batch.push(u),
                Err(_) => break,
            }
        }
        for u in super::feed::latest_per_source(batch) {
            cmds.extend(update(&mut model, Msg::Source(u)));
        }
        if let Some(name) = model.theme_request.take() {
            match Theme::load(&name, opts.config_dir.as_deref(), no_color) {
                Ok(t) => {
                    theme = t;
                    model.flash(format!("theme {name}"), crate::domain::Level::Info);
                }
                Err(e) => model.flash(e.to_string(), crate::domain::Level::Warning),
            }
        }
        let dropped_before = cmd_tx.hooks_dropped();
        for c in cmds {
            match c {
                Command::Quit => {}
                Command::Bell => {
                    let out = guard.terminal.backend_mut();
                    let _ = out.write_all(b"\x07").and_then(|_| out.flush());
                }
                // User and flow commands are never dropped; hook runs may be (counted).
                other => {
                    cmd_tx.dispatch(other);
                }
            }
        }
        let dropped = cmd_tx.hooks_dropped();
        if dropped != dropped_before || dropped > model.alerts.hooks_dropped() {
            update(
                &mut model,
                Msg::CommandDone(CommandResult::AlertHooksDropped { total: dropped }),
            );
        }
        // Alertmanager gets the firing set when the book changed (never waits).
        if let Some(am) = &alertmanager
            && published != Some(model.alerts.generation())
        {
            published = Some(model.alerts.generation());
            am.publish_book(&model.alerts, model.wall);
        }
        if model.quit {
            break Ok(());
        }
    };
    guard.restore();
    // The executor stops taking commands; a delete flow still running is cancelled (before
    // the delete request) or followed to its end, and given a bounded time to remove its
    // helper pod and write its audit record, with the terminal already restored.
    drop(cmd_tx);
    drop(done_rx);
    if tokio::time::timeout(Duration::from_millis(100), &mut executor)
        .await
        .is_err()
    {
        // Not eprintln!: after a hangup stderr may be gone, and that must not panic.
        let mut err = std::io::stderr();
        let _ = writeln!(
            err,
            "ondeck: stopping the PVC delete flow (removing its helper pod, writing the audit record)..."
        );
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut executor)
            .await
            .is_err()
        {
            let _ = writeln!(
                err,
                "ondeck: the PVC delete flow did not stop in time; check for a helper pod labelled app.kubernetes.io/managed-by=ondeck"
            );
            executor.abort();
        }
    }
    result
}

/// How long quitting waits for a running delete flow to stop and clean up.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A paste without bracketed paste arrives as a burst of keys that are all ready at once. A
/// person types one key at a time; when this many printable characters or more are already
/// waiting behind the first key while the PVC dialog waits for the name, the burst is a
/// paste (refused). Fewer are passed on as keys: a UI stall can queue a few typed keys, never
/// this many.
pub const PASTE_BURST_CHARS: usize = 8;

/// The next terminal event if one is ready now, without waiting. Polled with this task's own
/// waker: crossterm's `EventStream` keeps the waker of the poll that found nothing and wakes
/// only that one, so a throwaway waker (`now_or_never`) would leave the UI deaf to the next
/// key until some other wake-up.
async fn ready_event(events: &mut EventStream) -> Option<std::io::Result<Event>> {
    std::future::poll_fn(|cx| match events.poll_next_unpin(cx) {
        std::task::Poll::Ready(Some(e)) => std::task::Poll::Ready(Some(e)),
        std::task::Poll::Ready(None) | std::task::Poll::Pending => std::task::Poll::Ready(None),
    })
    .await
}

fn is_printable_key(ev: &Event) -> bool {
    matches!(ev, Event::Key(k)
    if k.kind != KeyEventKind::Release
        && matches!(k.code, crossterm::event::KeyCode::Char(_))
        && !k.modifiers.intersects(
            crossterm::event::KeyModifiers::CONTROL | crossterm::event::KeyModifiers::ALT
        ))
}

/// Splits events that were ready at once: when they start with at least
/// [`PASTE_BURST_CHARS`] printable keys, those keys are a paste (`Msg::Paste` with their
/// text) and the rest is returned to be handled one by one; otherwise the first event is
/// handled now and the others after it.
pub fn classify_burst(burst: Vec<Event>) -> (Option<Msg>, Vec<Event>) {
    let chars: String = burst
        .iter()
        .take_while(|e| is_printable_key(e))
        .filter_map(|e| match e {
            Event::Key(k) => match k.code {
                crossterm::event::KeyCode::Char(c) => Some(c),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let n_keys = burst.iter().take_while(|e| is_printable_key(e)).count();
    if chars.chars().count() >= PASTE_BURST_CHARS {
        // Keys that came in the same burst (a trailing Enter) are part of the paste too.
        let rest = burst
            .into_iter()
            .skip(n_keys)
            .filter(|e| !matches!(e, Event::Key(_)))
            .collect();
        return (Some(Msg::Paste(chars)), rest);
    }
    let mut it = burst.into_iter();
    let first = it.next().and_then(event_msg);
    (first, it.collect())
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

fn event_msg(ev: Event) -> Option<Msg> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => Some(Msg::Key(k)),
        Event::Mouse(m) => Some(Msg::Mouse(m)),
        Event::Paste(p) => Some(Msg::Paste(p)),
        Event::Resize(w, h) => Some(Msg::Resize(w, h)),
        _ => None,
    }
}

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
