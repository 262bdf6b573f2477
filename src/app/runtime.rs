//! The UI task: owns the terminal and the model, `select!`s over terminal events, the source
//! channel (draining a bounded batch per turn), a 1 s tick, signals and executor results, and
//! draws only when dirty, at most `MAX_FPS` times a second. Side effects run in the executor.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{Semaphore, mpsc};

use super::model::{Model, Settings};
use super::msg::{Command, CommandResult, Msg};
use super::update::update;
use crate::config::Config;
use crate::rules::Transition;
use crate::sources::SourceUpdate;
use crate::tui::TerminalGuard;
use crate::ui::{self, Theme};

/// Frame-rate cap: bursts of input or updates never draw more often than this.
pub const MAX_FPS: u64 = 30;
/// Source updates handled per loop turn before yielding to input and drawing.
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
    run_with_settings(Settings::from_config(config), rx, opts).await
}

/// [`run`] with settings built directly (tests, embedding).
pub async fn run_with_settings(
    settings: Settings,
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
    let mut guard = TerminalGuard::enter(settings.mouse)?;
    let size = guard.terminal.size()?;
    let mut model = Model::new(settings, Instant::now(), jiff::Timestamp::now());
    model.demo = opts.demo.clone();
    model.size = (size.width, size.height);

    let (cmd_tx, cmd_rx) = mpsc::channel::<Command>(64);
    let (done_tx, mut done_rx) = mpsc::channel::<CommandResult>(64);
    let executor = tokio::spawn(executor(
        cmd_rx,
        done_tx,
        alert_command,
        hook_timeout,
        opts.refresh.clone(),
        opts.pod_logs.clone(),
        opts.retarget.clone(),
    ));

    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let frame = Duration::from_millis(1000 / MAX_FPS);
    let mut last_draw: Option<Instant> = None;
    let mut sources_open = true;

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
        let msg = tokio::select! {
            biased;
            _ = sigint.recv() => Msg::Shutdown("SIGINT"),
            _ = sigterm.recv() => Msg::Shutdown("SIGTERM"),
            _ = sighup.recv() => Msg::Shutdown("SIGHUP"),
            ev = events.next() => match ev {
                Some(Ok(ev)) => match event_msg(ev) {
                    Some(m) => m,
                    None => continue,
                },
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
        };
        let mut cmds = update(&mut model, msg);
        for _ in 0..SOURCE_BATCH {
            match rx.try_recv() {
                Ok(u) => cmds.extend(update(&mut model, Msg::Source(u))),
                Err(_) => break,
            }
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
        for c in cmds {
            match c {
                Command::Quit => {}
                Command::Bell => {
                    let out = guard.terminal.backend_mut();
                    let _ = out.write_all(b"\x07").and_then(|_| out.flush());
                }
                other => {
                    if cmd_tx.try_send(other).is_err() {
                        tracing::warn!("executor busy: command dropped");
                    }
                }
            }
        }
        if model.quit {
            break Ok(());
        }
    };
    executor.abort();
    guard.restore();
    result
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

/// Runs side effects off the UI task, a few at a time; results come back as messages.
async fn executor(
    mut rx: mpsc::Receiver<Command>,
    done: mpsc::Sender<CommandResult>,
    alert_command: Option<String>,
    timeout: Duration,
    refresh: Option<mpsc::Sender<()>>,
    pod_logs: Option<tokio::sync::watch::Receiver<Option<crate::sources::kube::logs::LogFetcher>>>,
    retarget: Option<mpsc::Sender<crate::sources::kube::Retarget>>,
) {
    let slots = Arc::new(Semaphore::new(4));
    while let Some(cmd) = rx.recv().await {
        match cmd {
            Command::RunAlertHook(t) => {
                let Some(cmd) = alert_command.clone() else {
                    continue;
                };
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    break;
                };
                let done = done.clone();
                tokio::spawn(async move {
                    let outcome = run_alert_command(&cmd, &t, timeout).await;
                    drop(permit);
                    let _ = done
                        .send(CommandResult::AlertHook {
                            rule: t.alert.key.rule.clone(),
                            subject: t.alert.key.subject.clone(),
                            outcome,
                        })
                        .await;
                });
            }
            // INTERFACE STUB: the executor starts `actions::flow::spawn_delete_flow` here.
            Command::StartPvcDelete { pvc } => {
                tracing::info!(%pvc, "PVC delete requested (dialog not wired yet)");
            }
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
                        crate::ui::panes::pods::PodLogsView::done(pod, container, previous, result);
                    let _ = done.send(CommandResult::PodLogs(Box::new(view))).await;
                });
            }
            Command::Quit | Command::Bell => {}
        }
    }
}

/// The alert command (the rules' hook: environment variables, timeout, output logged, never
/// onto the TUI's terminal), as a result the model can show.
async fn run_alert_command(
    cmd: &str,
    t: &Transition,
    timeout: Duration,
) -> Result<Option<i32>, String> {
    crate::rules::hook::run_alert_command(cmd, t, timeout)
        .await
        .map(|status| status.code())
        .map_err(|e| e.to_string())
}
