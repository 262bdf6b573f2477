//! The pods pane: rows from the demo cluster's incident scenario ranked by danger with plain
//! reasons, the selected pod's reasons and events, hostile event text sanitized, the danger
//! cell's style asserted (snapshots do not record colour), filter and alerts for pods.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ondeck::app::{Model, Msg, Settings, update};
use ondeck::config::Config;
use ondeck::demo::Demo;
use ondeck::domain::pods::PodsSnapshot;
use ondeck::sources::kube::TargetArgs;
use ondeck::sources::kube::pods::spawn;
use ondeck::sources::kube::{KubeEnv, connect};
use ondeck::sources::{Payload, SourceUpdate};
use ondeck::ui::fixtures::{buffer_text, render};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::theme::Theme;
use ratatui::style::Modifier;

fn key(m: &mut Model, code: KeyCode) {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// A snapshot from the running pods source against the incident scenario, with events.
async fn incident_update() -> SourceUpdate {
    let demo = Demo::start(Some("incident")).await.expect("demo starts");
    let cfg = Config::default();
    let target = connect(
        &TargetArgs::for_kubeconfig(demo.kubeconfig()),
        &KubeEnv::default(),
        &cfg.kubernetes,
    )
    .await
    .expect("connects");
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let src = spawn(target, &cfg, tx);
    // Wait for a snapshot that carries the scenario's events too.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let u = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("an update")
            .expect("source running");
        if let Some(s) = u
            .result
            .as_ref()
            .ok()
            .and_then(Payload::downcast_ref::<PodsSnapshot>)
            && !s.events.is_empty()
        {
            drop(src);
            demo.stop().await;
            return u;
        }
        assert!(Instant::now() < deadline, "no snapshot with events");
    }
}

fn model(u: SourceUpdate) -> Model {
    let settings = Settings {
        grid: vec![vec![PaneKind::Pods]],
        ..Settings::default()
    };
    let mut m = Model::new(settings, u.at, u.wall);
    m.focused = PaneKind::Pods;
    update(&mut m, Msg::Source(u));
    m
}

#[tokio::test]
async fn incident_pods_ranked_with_reasons_events_and_styles() {
    let u = incident_update().await;
    let snap: PodsSnapshot = match u.result.as_ref().ok().and_then(Payload::downcast_ref) {
        Some(s) => PodsSnapshot::clone(s),
        None => unreachable!(),
    };
    let mut m = model(u);
    let t = Theme::builtin_dark(false);
    let buf = render(&m, &t, 200, 60);
    let text = buffer_text(&buf);
    assert!(text.contains("3 critical"), "{text}");
    // Header: cluster context, API health and the pods meter.
    let header = text.lines().take(4).collect::<Vec<_>>().join("\n");
    assert!(
        header.contains("Cluster ondeck-sim all namespaces API"),
        "{header}"
    );
    assert!(header.contains("Pods ✖ 3 ▲ 5 ✓ 7"), "{header}");
    assert!(text.contains("CrashLoopBackOff for 3h"), "{text}");
    assert!(text.contains("OOMKilled 12m ago"), "{text}");
    // The first row is critical, with the word and the critical style.
    let lines: Vec<&str> = text.lines().collect();
    let row = lines
        .iter()
        .position(|l| l.contains("CRITICAL") && l.contains("payments"))
        .expect("a critical row") as u16;
    let line = lines[row as usize];
    let col = line[..line.find("CRITICAL").expect("word")].chars().count() as u16;
    let cell = &buf[(col, row)];
    assert_eq!(cell.fg, t.critical.fg.unwrap_or_default());
    assert!(cell.modifier.contains(Modifier::BOLD));
    // An OK pod's danger cell has the ok style.
    let ok_row = lines
        .iter()
        .position(|l| l.contains("coredns"))
        .expect("coredns row") as u16;
    let ok_line = lines[ok_row as usize];
    let ok_col = ok_line[..ok_line.find("OK").expect("OK")].chars().count() as u16;
    assert_eq!(buf[(ok_col, ok_row)].fg, t.ok.fg.unwrap_or_default());
    // Pod alerts reached the alert book: one firing per (pod, rule).
    assert!(
        m.alerts
            .active()
            .iter()
            .any(|a| a.key.subject == "payments/payments-api-7f9c6b5d4-8qzvt")
    );

    // Filter to the image-pull pod: its events show below, the escape sequence removed.
    key(&mut m, KeyCode::Char('/'));
    for c in "frontend-6c9d".chars() {
        key(&mut m, KeyCode::Char(c));
    }
    key(&mut m, KeyCode::Enter);
    let text = buffer_text(&render(&m, &t, 200, 60));
    assert!(text.contains("ImagePullBackOff for 25m"), "{text}");
    assert!(text.contains("pwned"), "{text}");
    assert!(!text.contains('\u{1b}'), "escape reached the screen");
    assert!(snap.rows.len() >= 12);
    assert!(
        text.contains("ReplicaSet frontend-"),
        "owner in the detail: {text}"
    );
    assert!(text.contains("Back-off pulling image"), "{text}");
    // The table part only (the title carries the API latency, event ages move with the
    // clock); digits masked.
    let table: Vec<String> = text
        .lines()
        .skip_while(|l| !l.starts_with("┌ Pods"))
        .skip(1)
        .take_while(|l| !l.starts_with("│──"))
        .map(|l| l.replace(char::is_numeric, "9"))
        .collect();
    insta::assert_snapshot!("pods_pane_filtered", table.join("\n"));
}

#[tokio::test]
async fn enter_shows_containers_last_state_probes_and_events() {
    let mut m = model(incident_update().await);
    key(&mut m, KeyCode::Char('/'));
    for c in "8qzvt".chars() {
        key(&mut m, KeyCode::Char(c));
    }
    key(&mut m, KeyCode::Enter);
    key(&mut m, KeyCode::Enter);
    let text = buffer_text(&render(&m, &Theme::builtin_dark(false), 200, 60));
    assert!(text.contains("Pods details"), "{text}");
    assert!(
        text.contains("payments/payments-api-7f9c6b5d4-8qzvt"),
        "{text}"
    );
    assert!(
        text.contains("Waiting: CrashLoopBackOff: back-off 5m0s"),
        "{text}"
    );
    assert!(text.contains("Error exit 2, finished 2m"), "{text}");
    assert!(text.contains("readiness: http-get :8080/healthz"), "{text}");
    assert!(text.contains("BackOff (x51)"), "{text}");
    assert!(text.contains("limits") || text.contains("events"), "{text}");
}

#[tokio::test]
async fn log_plan_and_fetcher_give_the_previous_log_of_the_crashed_container() {
    use ondeck::sources::kube::logs::{LogFetcher, plan};

    let demo = Demo::start(Some("incident")).await.expect("demo starts");
    let cfg = Config::default();
    let target = connect(
        &TargetArgs::for_kubeconfig(demo.kubeconfig()),
        &KubeEnv::default(),
        &cfg.kubernetes,
    )
    .await
    .expect("connects");
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let src = spawn(target.clone(), &cfg, tx);
    let snap = loop {
        let u = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("an update")
            .expect("running");
        if let Some(s) = u.result.ok().and_then(Payload::downcast::<PodsSnapshot>) {
            break s;
        }
    };
    let row = snap
        .rows
        .iter()
        .find(|r| r.name.starts_with("ledger-worker"))
        .expect("ledger row");
    let pod = row.pod.as_deref().expect("rows carry their pod");
    let (container, previous) = plan(pod, true).expect("a container");
    assert!(previous, "a restarted container's previous instance");
    let tail = LogFetcher::new(target)
        .fetch(&row.key(), &container, previous)
        .await
        .expect("logs");
    assert!(tail.text.contains("heap in use: 498Mi"), "{}", tail.text);
    // The overlay view renders it (sanitized), scrollable, closable.
    let mut view =
        ondeck::ui::panes::pods::PodLogsView::done(row.key(), container, previous, Ok(tail));
    assert!(view.on_key(KeyCode::Char('k')));
    assert_eq!(view.back, 1);
    assert!(!view.on_key(KeyCode::Esc));
    drop(src);
    demo.stop().await;
}

#[test]
fn no_kubeconfig_says_not_configured_not_stale() {
    let u = SourceUpdate {
        source: ondeck::sources::SourceId::Pods,
        generation: 1,
        at: Instant::now(),
        wall: jiff::Timestamp::now(),
        result: Err(ondeck::sources::SourceError::NotConfigured(
            "no kubeconfig found: set KUBECONFIG".into(),
        )),
    };
    let mut m = model(u);
    update(
        &mut m,
        Msg::Tick {
            now: Instant::now() + Duration::from_secs(60),
            wall: jiff::Timestamp::now(),
        },
    );
    let text = buffer_text(&render(&m, &Theme::builtin_dark(false), 120, 30));
    assert!(text.contains("Cluster not configured"), "{text}");
    assert!(text.contains("no kubeconfig found"), "{text}");
    assert!(
        text.contains("Kubernetes not configured: no kubeconfig found"),
        "{text}"
    );
    let pane_title = text
        .lines()
        .find(|l| l.contains("┌ Pods"))
        .unwrap_or_default();
    assert!(!pane_title.contains("STALE"), "{pane_title}");
    assert!(
        !m.freshness(ondeck::sources::SourceId::Pods)
            .is_some_and(|f| f.is_stale())
    );
}

/// `l` on a crash-looping pod opens the log overlay and asks the executor for the previous
/// instance's log; the executor's answer fills the overlay; Esc closes it.
#[tokio::test]
async fn l_on_the_crashed_pod_fetches_and_shows_the_previous_log() {
    use ondeck::app::msg::{Command, CommandResult};
    use ondeck::sources::kube::logs::LogFetcher;
    use ondeck::ui::panes::pods::PodLogsView;

    let demo = Demo::start(Some("incident")).await.expect("demo starts");
    let cfg = Config::default();
    let target = connect(
        &TargetArgs::for_kubeconfig(demo.kubeconfig()),
        &KubeEnv::default(),
        &cfg.kubernetes,
    )
    .await
    .expect("connects");
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let src = spawn(target.clone(), &cfg, tx);
    let u = loop {
        let u = tokio::time::timeout(Duration::from_secs(20), rx.recv())
            .await
            .expect("an update")
            .expect("running");
        if matches!(&u.result, Ok(p) if p.downcast_ref::<PodsSnapshot>().is_some()) {
            break u;
        }
    };
    let mut m = model(u);
    key(&mut m, KeyCode::Char('/'));
    for c in "ledger".chars() {
        key(&mut m, KeyCode::Char(c));
    }
    key(&mut m, KeyCode::Enter);
    let cmds = update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('l'), KeyModifiers::NONE)),
    );
    let (pod, container, previous) = match cmds.as_slice() {
        [
            Command::FetchPodLogs {
                pod,
                container,
                previous,
            },
        ] => (pod.clone(), container.clone(), *previous),
        other => panic!("want one FetchPodLogs, got {other:?}"),
    };
    assert!(pod.name.starts_with("ledger-worker"), "{pod:?}");
    assert!(previous, "a restarted container's previous instance");
    let t = Theme::builtin_dark(false);
    assert!(buffer_text(&render(&m, &t, 120, 40)).contains("fetching"));

    // What the executor does with the command.
    let result = LogFetcher::new(target)
        .fetch(&pod, &container, previous)
        .await;
    let view = PodLogsView::done(pod, container, previous, result);
    update(
        &mut m,
        Msg::CommandDone(CommandResult::PodLogs(Box::new(view))),
    );
    let text = buffer_text(&render(&m, &t, 120, 40));
    assert!(text.contains("previous instance"), "{text}");
    assert!(text.contains("heap in use: 498Mi"), "{text}");
    key(&mut m, KeyCode::Esc);
    assert!(m.overlay.is_none());

    // `L` asks for the current instance instead.
    let cmds = update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('L'), KeyModifiers::SHIFT)),
    );
    assert!(
        matches!(
            cmds.as_slice(),
            [Command::FetchPodLogs {
                previous: false,
                ..
            }]
        ),
        "{cmds:?}"
    );
    drop(src);
    demo.stop().await;
}

/// `:ns NAME` / `:ctx NAME`: the pane forgets the old target's pods at once and the console
/// is asked to reconnect; an empty name only shows the usage.
#[tokio::test]
async fn switching_namespace_or_context_resets_the_pane_and_asks_to_reconnect() {
    use ondeck::app::msg::Command;
    use ondeck::sources::kube::Retarget;

    let mut m = model(incident_update().await);
    let text = buffer_text(&render(&m, &Theme::builtin_dark(false), 160, 40));
    assert!(text.contains("payments-api"), "{text}");
    let run = |m: &mut Model, line: &str| {
        key(m, KeyCode::Char(':'));
        for c in line.chars() {
            key(m, KeyCode::Char(c));
        }
        update(
            m,
            Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
        )
    };
    let cmds = run(&mut m, "ns web");
    assert!(
        matches!(cmds.as_slice(), [Command::Retarget(Retarget::Namespace(n))] if n == "web"),
        "{cmds:?}"
    );
    let text = buffer_text(&render(&m, &Theme::builtin_dark(false), 160, 40));
    assert!(
        !text.contains("payments-api"),
        "old target's pods are gone: {text}"
    );
    let cmds = run(&mut m, "ctx prod-eu");
    assert!(
        matches!(cmds.as_slice(), [Command::Retarget(Retarget::Context(c))] if c == "prod-eu"),
        "{cmds:?}"
    );
    assert!(run(&mut m, "ns").is_empty(), "no name: usage only");
}

/// The console's supervisor against the simulated cluster: starts on one namespace, switches
/// to all namespaces; nothing from the old target is shown after the switch marker.
#[tokio::test]
async fn the_supervisor_reconnects_to_the_new_namespace() {
    use ondeck::sources::kube::Retarget;
    use tokio_util::sync::CancellationToken;

    let demo = Demo::start(Some("incident")).await.expect("demo starts");
    let mut args = TargetArgs::for_kubeconfig(demo.kubeconfig());
    args.all_namespaces = false;
    args.namespace = Some("payments".into());
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let (logs_tx, logs_rx) = tokio::sync::watch::channel(None);
    let (target_tx, _target_rx) = tokio::sync::watch::channel(None);
    let (re_tx, re_rx) = tokio::sync::mpsc::channel(4);
    let cancel = CancellationToken::new();
    let sup = tokio::spawn(ondeck::console::kube_supervisor(
        args,
        Config::default(),
        tx,
        ondeck::console::KubeOut {
            logs: logs_tx,
            target: target_tx,
        },
        re_rx,
        cancel.clone(),
    ));
    let namespaces = |u: &SourceUpdate| -> Option<std::collections::BTreeSet<String>> {
        match u
            .result
            .as_ref()
            .ok()
            .and_then(Payload::downcast_ref::<PodsSnapshot>)
        {
            Some(s) if !s.rows.is_empty() => {
                Some(s.rows.iter().map(|r| r.namespace.to_string()).collect())
            }
            _ => None,
        }
    };
    let first = loop {
        let u = next_update(&mut rx).await;
        if let Some(ns) = namespaces(&u) {
            break ns;
        }
    };
    assert_eq!(first.into_iter().collect::<Vec<_>>(), ["payments"]);
    assert!(
        logs_rx.borrow().is_some(),
        "logs can be fetched once connected"
    );

    re_tx
        .send(Retarget::Namespace("all".into()))
        .await
        .expect("send");
    // Updates may still arrive from the old target, then the marker, then the new target.
    loop {
        let u = next_update(&mut rx).await;
        if matches!(u.result, Ok(Payload::KubeRetargeted)) {
            break;
        }
    }
    let after = loop {
        let u = next_update(&mut rx).await;
        if let Some(ns) = namespaces(&u) {
            break ns;
        }
    };
    assert!(
        after.contains("payments") && after.contains("web") && after.len() > 2,
        "{after:?}"
    );
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(10), sup)
        .await
        .expect("supervisor stops on cancel")
        .expect("no panic");
    demo.stop().await;
}

async fn next_update(rx: &mut tokio::sync::mpsc::Receiver<SourceUpdate>) -> SourceUpdate {
    tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("an update in time")
        .expect("supervisor running")
}
