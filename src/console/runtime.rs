//! The UI task: owns the terminal and the model, `select!`s over terminal events, the source
//! channel (draining a bounded batch per turn), a 1 s tick, signals and executor results, and
//! draws only when dirty: what the user does at once (at most `MAX_FPS` times a second), new
//! data and the clock at most once a second ([`DATA_FRAME`]). Side effects run in the executor.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::executor::{ExecutorHandle, ExecutorOptions, spawn_executor};
use crate::app::model::{Model, Settings};
use crate::app::msg::{Command, CommandResult, Msg};
use crate::app::update::update;
use crate::config::Config;
use crate::rules::alertmanager::AlertmanagerClient;
use crate::sources::SourceUpdate;
use crate::tui::TerminalGuard;
use crate::ui::{self, Theme};

/// Frame-rate cap: bursts of input or updates never draw more often than this.
pub const MAX_FPS: u64 = 30;
/// New data and the clock are drawn at most this often (a little under the 1 s tick, so the
/// tick's frame is never skipped for jitter): sources report on their own schedules (the
/// sockets poll between two ticks, say), and drawing each report at once drew two or three
/// full frames a second on an idle wall screen. What the user does, and a source's first
/// report, are drawn at once (`Model::urgent`).
pub const DATA_FRAME: Duration = Duration::from_millis(900);
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
            let gap = if model.urgent { frame } else { DATA_FRAME };
            match last_draw {
                Some(t) if now < t + gap => next_draw = Some(t + gap),
                _ => {
                    if let Err(e) = guard.terminal.draw(|f| ui::view(&model, &theme, f)) {
                        break Err(e.into());
                    }
                    model.dirty = false;
                    model.urgent = false;
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
        for u in crate::app::feed::latest_per_source(batch) {
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
