//! Model/update tests: filter, sort, selection that survives vanished rows, STALE after three
//! refresh intervals with an injected clock, the acknowledgement flow, bell and alert hook
//! commands, read-only, the `:` command line and paste handling. No terminal involved.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ondeck::app::feed::Freshness;
use ondeck::app::model::{InputMode, Overlay};
use ondeck::app::panes::{PaneKind, SocketsView};
use ondeck::app::{Command, Model, Msg, Settings, update};
use ondeck::domain::sockets::{PeerCount, ProcessCount, TcpState};
use ondeck::rules::{AlertPhase, TransitionKind};
use ondeck::sources::{SourceError, SourceId, SourceUpdate};
use ondeck::ui::fixtures::{big_snapshot, incident_snapshot, sockets_update, wall0};

fn press(m: &mut Model, code: KeyCode) -> Vec<Command> {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn ctrl(m: &mut Model, c: char) -> Vec<Command> {
    update(
        m,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    )
}

fn typed(m: &mut Model, s: &str) {
    for c in s.chars() {
        press(m, KeyCode::Char(c));
    }
}

fn fresh(settings: Settings) -> (Model, Instant) {
    let t0 = Instant::now();
    (Model::new(settings, t0, wall0()), t0)
}

fn selected_comm(m: &Model) -> Option<String> {
    let s = m.sockets().unwrap().feed.data()?;
    let i = m.sockets().unwrap().table().selected_index()?;
    Some(s.close_wait_by_process[i].comm.clone())
}

#[test]
fn incremental_filter_applies_per_keystroke_and_esc_restores() {
    let (mut m, t0) = fresh(Settings::default());
    update(
        &mut m,
        Msg::Source(sockets_update(big_snapshot(1000), 1, t0, wall0())),
    );
    assert_eq!(m.sockets().unwrap().table().order.len(), 1000);
    press(&mut m, KeyCode::Char('/'));
    assert!(matches!(m.input, InputMode::Filter { .. }));
    typed(&mut m, "worker-99");
    // worker-99, worker-990..999
    assert_eq!(m.sockets().unwrap().table().order.len(), 11);
    press(&mut m, KeyCode::Backspace);
    assert_eq!(m.sockets().unwrap().table().filter, "worker-9");
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.input, InputMode::Normal);
    assert_eq!(m.sockets().unwrap().table().filter, "worker-9");
    // A new poll keeps the filter.
    update(
        &mut m,
        Msg::Source(sockets_update(big_snapshot(1000), 2, t0, wall0())),
    );
    assert_eq!(m.sockets().unwrap().table().order.len(), 111);
    // `/` then Esc restores the filter that was there before.
    press(&mut m, KeyCode::Char('/'));
    typed(&mut m, "zzz");
    assert_eq!(m.sockets().unwrap().table().order.len(), 0);
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.sockets().unwrap().table().filter, "worker-9");
    // Esc in normal mode clears it.
    press(&mut m, KeyCode::Esc);
    assert_eq!(m.sockets().unwrap().table().order.len(), 1000);
}

#[test]
fn sort_keys_cycle_columns_and_reverse() {
    let (mut m, t0) = fresh(Settings::default());
    update(
        &mut m,
        Msg::Source(sockets_update(incident_snapshot(), 1, t0, wall0())),
    );
    // Default: by CLOSE_WAIT count, descending: java first.
    assert_eq!(selected_comm(&m).as_deref(), Some("java"));
    press(&mut m, KeyCode::Char('s')); // -> PID (column 0)
    assert_eq!(m.sockets().unwrap().table().sort.column, 0);
    press(&mut m, KeyCode::Char('>')); // -> COMMAND
    assert_eq!(m.sockets().unwrap().table().sort.column, 1);
    press(&mut m, KeyCode::Char('<'));
    press(&mut m, KeyCode::F(6));
    assert_eq!(m.sockets().unwrap().table().sort.column, 1);
    let first = |m: &Model| {
        let s = m.sockets().unwrap().feed.data().unwrap();
        s.close_wait_by_process[m.sockets().unwrap().table().order[0]]
            .comm
            .clone()
    };
    let desc_first = first(&m);
    press(&mut m, KeyCode::Char('r'));
    assert_ne!(first(&m), desc_first, "reverse changes the order");
}

#[test]
fn selection_survives_rows_moving_and_vanishing() {
    let (mut m, t0) = fresh(Settings::default());
    let mut snap = incident_snapshot();
    snap.close_wait_by_process = vec![
        ProcessCount {
            pid: Some(1),
            comm: "a".into(),
            count: 30,
        },
        ProcessCount {
            pid: Some(2),
            comm: "b".into(),
            count: 20,
        },
        ProcessCount {
            pid: Some(3),
            comm: "c".into(),
            count: 10,
        },
    ];
    update(
        &mut m,
        Msg::Source(sockets_update(snap.clone(), 1, t0, wall0())),
    );
    press(&mut m, KeyCode::Char('j'));
    press(&mut m, KeyCode::Down);
    assert_eq!(selected_comm(&m).as_deref(), Some("c"));
    // c climbs to the top: still selected.
    snap.close_wait_by_process[2].count = 99;
    update(
        &mut m,
        Msg::Source(sockets_update(snap.clone(), 2, t0, wall0())),
    );
    assert_eq!(selected_comm(&m).as_deref(), Some("c"));
    assert_eq!(m.sockets().unwrap().table().cursor, 0);
    // c vanishes: selection stays at the same position (now a), no panic.
    snap.close_wait_by_process.remove(2);
    update(
        &mut m,
        Msg::Source(sockets_update(snap.clone(), 3, t0, wall0())),
    );
    assert_eq!(selected_comm(&m).as_deref(), Some("a"));
    // Everything vanishes and comes back.
    snap.close_wait_by_process.clear();
    update(
        &mut m,
        Msg::Source(sockets_update(snap.clone(), 4, t0, wall0())),
    );
    assert_eq!(selected_comm(&m), None);
    press(&mut m, KeyCode::Char('G'));
    press(&mut m, KeyCode::Char('k'));
}

#[test]
fn vim_paging_keys_move_within_bounds() {
    let (mut m, t0) = fresh(Settings::default());
    update(&mut m, Msg::Resize(80, 24));
    update(
        &mut m,
        Msg::Source(sockets_update(big_snapshot(500), 1, t0, wall0())),
    );
    press(&mut m, KeyCode::Char('2')); // by peer
    assert_eq!(m.sockets().unwrap().view, SocketsView::CloseWaitByPeer);
    ctrl(&mut m, 'd');
    assert_eq!(m.sockets().unwrap().table().cursor, 12);
    ctrl(&mut m, 'u');
    assert_eq!(m.sockets().unwrap().table().cursor, 0);
    press(&mut m, KeyCode::Char('G'));
    assert_eq!(m.sockets().unwrap().table().cursor, 499);
    press(&mut m, KeyCode::PageDown);
    assert_eq!(m.sockets().unwrap().table().cursor, 499);
    press(&mut m, KeyCode::Char('g'));
    assert_eq!(m.sockets().unwrap().table().cursor, 0);
    // h/l and arrows switch views.
    press(&mut m, KeyCode::Char('l'));
    assert_eq!(m.sockets().unwrap().view, SocketsView::CloseWaitByPort);
    press(&mut m, KeyCode::Left);
    press(&mut m, KeyCode::Left);
    assert_eq!(m.sockets().unwrap().view, SocketsView::CloseWaitByProcess);
}

#[test]
fn stale_after_three_intervals_with_injected_clock() {
    let settings = Settings {
        refresh: Duration::from_secs(5),
        ..Settings::default()
    };
    let (mut m, t0) = fresh(settings);
    assert_eq!(
        m.sockets().unwrap().feed.freshness(m.now),
        Freshness::Loading
    );
    update(
        &mut m,
        Msg::Source(sockets_update(incident_snapshot(), 1, t0, wall0())),
    );
    update(
        &mut m,
        Msg::Tick {
            now: t0 + Duration::from_secs(15),
            wall: wall0(),
        },
    );
    assert!(!m.any_stale(), "exactly 3 intervals is still fresh");
    update(
        &mut m,
        Msg::Tick {
            now: t0 + Duration::from_secs(16),
            wall: wall0(),
        },
    );
    assert!(m.any_stale());
    // New data: fresh again.
    let at = t0 + Duration::from_secs(17);
    update(
        &mut m,
        Msg::Source(sockets_update(incident_snapshot(), 2, at, wall0())),
    );
    assert!(!m.any_stale());
    // The source fails: last good data kept, error shown, and it goes STALE in time.
    update(
        &mut m,
        Msg::Source(SourceUpdate {
            source: SourceId::Sockets,
            generation: 3,
            at: t0 + Duration::from_secs(22),
            wall: wall0(),
            result: Err(SourceError::Other("netlink: permission denied".into())),
        }),
    );
    assert!(m.sockets().unwrap().feed.data().is_some());
    assert_eq!(
        m.sockets()
            .unwrap()
            .feed
            .error()
            .map(|e| e.to_string())
            .as_deref(),
        Some("netlink: permission denied")
    );
    update(
        &mut m,
        Msg::Tick {
            now: t0 + Duration::from_secs(33),
            wall: wall0(),
        },
    );
    assert!(m.any_stale());
    // Never loaded at all: STALE too, not "loading" forever.
    let (mut m2, t0) = fresh(Settings {
        refresh: Duration::from_secs(1),
        ..Settings::default()
    });
    update(
        &mut m2,
        Msg::Tick {
            now: t0 + Duration::from_secs(4),
            wall: wall0(),
        },
    );
    assert!(m2.any_stale());
}

#[test]
fn close_wait_goes_pending_then_firing_and_rings_the_bell_on_critical() {
    let settings = Settings {
        bell: true,
        alert_command: Some("true".into()),
        ..Settings::default()
    };
    let (mut m, t0) = fresh(settings);
    let mut snap = incident_snapshot();
    snap.listeners.clear();
    snap.fd_usage.clear();
    snap.listen.overflows_per_sec = Some(0.0);
    snap.conntrack = None;
    snap.states.0[TcpState::CloseWait.index()] = 2500;
    let cmds = update(
        &mut m,
        Msg::Source(sockets_update(snap.clone(), 1, t0, wall0())),
    );
    let hooks = cmds
        .iter()
        .filter(|c| matches!(c, Command::RunAlertHook(_)))
        .count();
    assert_eq!(
        hooks, 2,
        "two pending transitions run the alert command: {cmds:?}"
    );
    assert!(
        !cmds.iter().any(|c| matches!(c, Command::Bell)),
        "no bell while pending"
    );
    let active = m.alerts.active();
    assert!(
        active
            .iter()
            .all(|a| matches!(a.phase, AlertPhase::Pending { .. }))
    );
    // 5 minutes later the critical rule fires: bell + hook.
    let at = t0 + Duration::from_secs(301);
    let cmds = update(
        &mut m,
        Msg::Source(sockets_update(snap.clone(), 2, at, wall0())),
    );
    assert!(cmds.iter().any(|c| matches!(c, Command::Bell)), "{cmds:?}");
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::RunAlertHook(t) if t.kind == TransitionKind::Firing))
    );
    // It clears: a Cleared transition, no bell.
    snap.states.0[TcpState::CloseWait.index()] = 10;
    let cmds = update(&mut m, Msg::Source(sockets_update(snap, 3, at, wall0())));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::RunAlertHook(t) if t.kind == TransitionKind::Cleared))
    );
    assert!(!cmds.iter().any(|c| matches!(c, Command::Bell)));
    assert!(m.alerts.active().is_empty());
}

#[test]
fn bell_is_off_unless_enabled() {
    let (mut m, t0) = fresh(Settings::default());
    let cmds = update(
        &mut m,
        Msg::Source(sockets_update(incident_snapshot(), 1, t0, wall0())),
    );
    assert!(!cmds.iter().any(|c| matches!(c, Command::Bell)));
    assert!(
        !cmds.iter().any(|c| matches!(c, Command::RunAlertHook(_))),
        "no command configured"
    );
}

#[test]
fn acknowledge_with_a_note() {
    let settings = Settings {
        alert_command: Some("true".into()),
        ..Settings::default()
    };
    let (mut m, t0) = fresh(settings);
    update(
        &mut m,
        Msg::Source(sockets_update(incident_snapshot(), 1, t0, wall0())),
    );
    // `a` on the sockets pane does nothing; on the alerts pane it opens the note box.
    press(&mut m, KeyCode::Char('a'));
    assert!(m.overlay.is_none());
    press(&mut m, KeyCode::Tab);
    assert_eq!(m.focused, PaneKind::Alerts);
    press(&mut m, KeyCode::Char('a'));
    let Some(Overlay::AckNote { key, .. }) = &m.overlay else {
        panic!("ack dialog: {:?}", m.overlay)
    };
    let key = key.clone();
    typed(&mut m, "jo on it, INC-42");
    // A paste into the note is allowed and sanitized.
    update(&mut m, Msg::Paste(" \x1b[31m(pager)".into()));
    let cmds = press(&mut m, KeyCode::Enter);
    assert!(m.overlay.is_none());
    let acked = m
        .alerts
        .active()
        .into_iter()
        .find(|a| a.key == key)
        .expect("still active");
    assert_eq!(
        acked.ack.as_ref().map(|a| a.note.as_str()),
        Some("jo on it, INC-42 (pager)")
    );
    assert!(
        cmds.iter().any(
            |c| matches!(c, Command::RunAlertHook(t) if t.kind == TransitionKind::Acknowledged)
        )
    );
    // Esc cancels without acknowledging.
    press(&mut m, KeyCode::Char('j'));
    press(&mut m, KeyCode::Char('a'));
    typed(&mut m, "nope");
    press(&mut m, KeyCode::Esc);
    assert!(m.overlay.is_none());
    assert_eq!(
        m.alerts.active().iter().filter(|a| a.ack.is_some()).count(),
        1
    );
    // `:ack` opens it too.
    press(&mut m, KeyCode::Char(':'));
    typed(&mut m, "ack");
    press(&mut m, KeyCode::Enter);
    assert!(matches!(m.overlay, Some(Overlay::AckNote { .. })));
}

#[test]
fn read_only_removes_mutating_actions_and_keeps_ack() {
    let (mut m, t0) = fresh(Settings {
        read_only: true,
        ..Settings::default()
    });
    update(
        &mut m,
        Msg::Source(sockets_update(incident_snapshot(), 1, t0, wall0())),
    );
    for k in PaneKind::ALL {
        assert!(
            k.actions_for(true).iter().all(|a| !a.is_mutating()),
            "{k:?}"
        );
    }
    press(&mut m, KeyCode::F(9));
    assert!(
        m.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("read-only")),
        "{:?}",
        m.flash
    );
    press(&mut m, KeyCode::Tab);
    press(&mut m, KeyCode::F(9));
    assert!(
        matches!(m.overlay, Some(Overlay::AckNote { .. })),
        "ack is local, allowed read-only"
    );
}

#[test]
fn command_line_switches_panes_and_completes() {
    let (mut m, _) = fresh(Settings::default());
    press(&mut m, KeyCode::Char(':'));
    typed(&mut m, "al");
    press(&mut m, KeyCode::Tab);
    assert_eq!(
        m.input,
        InputMode::Command {
            text: "alerts ".into()
        }
    );
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.focused, PaneKind::Alerts);
    press(&mut m, KeyCode::Char(':'));
    typed(&mut m, "pvc");
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.focused, PaneKind::Pvcs);
    press(&mut m, KeyCode::Char(':'));
    typed(&mut m, "certs");
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.focused, PaneKind::Certs);
    // The certificates pane has its source now: no "arrives with ..." placeholder flash.
    assert!(
        !m.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("arrives with"))
    );
    press(&mut m, KeyCode::Char(':'));
    typed(&mut m, "theme light");
    press(&mut m, KeyCode::Enter);
    assert_eq!(m.theme_request.as_deref(), Some("light"));
    press(&mut m, KeyCode::Char(':'));
    typed(&mut m, "bogus");
    press(&mut m, KeyCode::Enter);
    assert!(
        m.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("unknown command"))
    );
    press(&mut m, KeyCode::Char(':'));
    typed(&mut m, "q");
    let cmds = press(&mut m, KeyCode::Enter);
    assert!(m.quit && cmds.iter().any(|c| matches!(c, Command::Quit)));
}

#[test]
fn quit_keys_help_and_shutdown() {
    for quit in [KeyCode::Char('q'), KeyCode::F(10)] {
        let (mut m, _) = fresh(Settings::default());
        assert!(
            press(&mut m, quit)
                .iter()
                .any(|c| matches!(c, Command::Quit))
        );
    }
    let (mut m, _) = fresh(Settings::default());
    press(&mut m, KeyCode::Char('?'));
    assert!(matches!(m.overlay, Some(Overlay::Help)));
    press(&mut m, KeyCode::Char('q'));
    assert!(m.overlay.is_none() && !m.quit, "q closes help first");
    press(&mut m, KeyCode::F(1));
    press(&mut m, KeyCode::Esc);
    assert!(m.overlay.is_none());
    ctrl(&mut m, 'c');
    assert!(m.quit);
    let (mut m, _) = fresh(Settings::default());
    update(&mut m, Msg::Shutdown("SIGHUP"));
    assert!(m.quit);
}

#[test]
fn paste_goes_into_the_filter_as_one_sanitized_line() {
    let (mut m, t0) = fresh(Settings::default());
    let mut snap = incident_snapshot();
    snap.close_wait_by_peer = vec![PeerCount {
        peer: "10.1.2.3".parse().unwrap(),
        count: 3,
    }];
    update(&mut m, Msg::Source(sockets_update(snap, 1, t0, wall0())));
    press(&mut m, KeyCode::Char('2'));
    update(&mut m, Msg::Paste("10.1.2.3".into())); // ignored in normal mode
    assert_eq!(m.sockets().unwrap().table().filter, "");
    press(&mut m, KeyCode::Char('/'));
    update(&mut m, Msg::Paste("10.1\n.2\x1b[2J".into()));
    assert_eq!(m.sockets().unwrap().table().filter, "10.1 .2");
}

#[test]
fn older_generation_is_ignored() {
    let (mut m, t0) = fresh(Settings::default());
    let mut newer = incident_snapshot();
    newer.states.0[TcpState::CloseWait.index()] = 7;
    update(&mut m, Msg::Source(sockets_update(newer, 5, t0, wall0())));
    update(
        &mut m,
        Msg::Source(sockets_update(incident_snapshot(), 4, t0, wall0())),
    );
    assert_eq!(
        m.sockets()
            .unwrap()
            .feed
            .data()
            .map(|s| s.states.get(TcpState::CloseWait)),
        Some(7)
    );
}

#[test]
fn detail_view_opens_and_closes() {
    let (mut m, t0) = fresh(Settings::default());
    update(
        &mut m,
        Msg::Source(sockets_update(incident_snapshot(), 1, t0, wall0())),
    );
    press(&mut m, KeyCode::Enter);
    assert!(matches!(m.overlay, Some(Overlay::Detail)));
    let text = ondeck::ui::fixtures::buffer_text(&ondeck::ui::fixtures::render(
        &m,
        &ondeck::ui::Theme::builtin_dark(false),
        80,
        24,
    ));
    assert!(
        text.contains("net.core.somaxconn") && text.contains("4096"),
        "{text}"
    );
    assert!(
        text.contains("32768-60999") && text.contains("tcp_fin_timeout"),
        "{text}"
    );
    press(&mut m, KeyCode::Esc);
    assert!(m.overlay.is_none());
}

#[test]
fn settings_follow_the_config_and_grid_names() {
    let mut c = ondeck::config::Config::default();
    c.layout.grid = vec![
        vec!["alerts".into(), "bogus".into()],
        vec!["sockets".into()],
    ];
    c.alerts.bell = true;
    c.read_only = true;
    let s = Settings::from_config(&c);
    assert_eq!(
        s.grid,
        vec![vec![PaneKind::Alerts], vec![PaneKind::Sockets]]
    );
    assert!(s.bell && s.read_only);
    assert_eq!(s.refresh, c.refresh.0);
    // Panes without a source would be left out of the visible grid; every pane has one now
    // (certificates and probes included), so the grid is shown as configured.
    let d = Settings {
        grid: vec![
            vec![PaneKind::Sockets, PaneKind::Alerts],
            vec![PaneKind::Pods, PaneKind::Certs],
        ],
        ..Settings::default()
    };
    assert_eq!(
        d.visible_grid(),
        vec![
            vec![PaneKind::Sockets, PaneKind::Alerts],
            vec![PaneKind::Pods, PaneKind::Certs]
        ]
    );
}

#[tokio::test]
async fn bad_theme_fails_before_the_terminal_is_touched() {
    let settings = Settings {
        theme: "no-such-theme".into(),
        ..Settings::default()
    };
    let (_tx, rx) = tokio::sync::mpsc::channel(1);
    let err = ondeck::console::run_with_settings(settings, rx, Default::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("unknown theme \"no-such-theme\""),
        "{err}"
    );
    assert!(!ondeck::tui::is_active());
}

#[test]
fn a_firing_louder_level_folds_the_quieter_one() {
    let (mut m, t0) = fresh(Settings::default());
    update(
        &mut m,
        Msg::Source(sockets_update(incident_snapshot(), 1, t0, wall0())),
    );
    let shown = ondeck::app::panes::alerts::shown_alerts(&m.alerts);
    let java_fd: Vec<_> = shown
        .iter()
        .filter(|a| a.key.rule == "process_fd_pct" && a.key.subject.contains("4242"))
        .collect();
    assert_eq!(java_fd.len(), 1, "{java_fd:?}");
    assert_eq!(java_fd[0].key.level, ondeck::domain::Level::Critical);
    // The book itself still has both (the quieter one clears on its own).
    assert!(m.alerts.active().len() > shown.len());
    // The pending CLOSE_WAIT warning is still shown (nothing louder fires for it).
    assert_eq!(
        shown.iter().filter(|a| a.key.rule == "close_wait").count(),
        1
    );
}

#[test]
fn disabled_sockets_source_is_not_configured_never_stale() {
    let (mut m, t0) = fresh(Settings {
        sockets_enabled: false,
        ..Settings::default()
    });
    update(
        &mut m,
        Msg::Tick {
            now: t0 + Duration::from_secs(600),
            wall: wall0(),
        },
    );
    assert!(matches!(
        m.freshness(SourceId::Sockets),
        Some(Freshness::NotConfigured(_))
    ));
    assert!(!m.any_stale());
    let text = ondeck::ui::fixtures::buffer_text(&ondeck::ui::fixtures::render(
        &m,
        &ondeck::ui::Theme::builtin_dark(false),
        80,
        24,
    ));
    assert!(text.contains("sockets.enabled = false"), "{text}");
    assert!(!text.contains("STALE"), "{text}");
}
