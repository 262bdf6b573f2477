//! Rendering tests: whole-screen insta snapshots at 80x24 and 200x60 from the shared fixtures,
//! plus assertions on the style of the cells that carry danger (snapshots do not record
//! colour), NO_COLOR and ASCII mode.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ondeck::app::model::Overlay;
use ondeck::app::{Model, Msg, Settings, update};
use ondeck::domain::Level;
use ondeck::ui::fixtures::{buffer_text, incident_model, render};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::style::Modifier;

fn key(m: &mut Model, code: KeyCode) {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn dark() -> Theme {
    Theme::builtin_dark(false)
}

/// Position of the first occurrence of `word` on screen.
fn find(buf: &Buffer, word: &str) -> Option<(u16, u16)> {
    let text = buffer_text(buf);
    for (y, line) in text.lines().enumerate() {
        // Column = number of cells before the match (one symbol per cell).
        if let Some(byte) = line.find(word) {
            let x = line[..byte].chars().count();
            return Some((x as u16, y as u16));
        }
    }
    None
}

#[test]
fn sockets_pane_80x24() {
    let (m, _) = incident_model(Settings::default());
    insta::assert_snapshot!(buffer_text(&render(&m, &dark(), 80, 24)));
}

#[test]
fn grid_200x60_shows_sockets_and_alerts() {
    let (m, _) = incident_model(Settings::default());
    let text = buffer_text(&render(&m, &dark(), 200, 60));
    assert!(text.contains("Sockets") && text.contains("Recent transitions"));
    insta::assert_snapshot!(text);
}

#[test]
fn alerts_pane_80x24() {
    let (mut m, _) = incident_model(Settings::default());
    key(&mut m, KeyCode::Tab);
    assert_eq!(m.focused, PaneKind::Alerts);
    let text = buffer_text(&render(&m, &dark(), 80, 24));
    // Level, title, subject, value (in its unit) and since whole at 80 columns; pending
    // progress in its short form to leave the subject room.
    let row = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_default()
            .to_string()
    };
    let q = row("Listen queue full");
    assert!(
        q.contains("✖ CRITICAL")
            && q.contains("listen 0.0.0.0:8080")
            && q.contains("92% of backlog")
            && q.contains("3m ago"),
        "{text}"
    );
    let cw = row("CLOSE_WAIT sockets");
    assert!(
        cw.contains("WARNING") && cw.contains("1,523 sockets") && cw.contains("3m/15m"),
        "{text}"
    );
    assert!(
        !text.contains("accept_queue_pct"),
        "titles, not rule ids: {text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn alerts_pane_200x60_alone() {
    let s = Settings {
        grid: vec![vec![PaneKind::Alerts]],
        ..Settings::default()
    };
    let (mut m, _) = incident_model(s);
    m.focused = PaneKind::Alerts;
    insta::assert_snapshot!(buffer_text(&render(&m, &dark(), 200, 60)));
}

#[test]
fn sockets_listen_queues_200x60_alone() {
    let s = Settings {
        grid: vec![vec![PaneKind::Sockets]],
        ..Settings::default()
    };
    let (mut m, _) = incident_model(s);
    key(&mut m, KeyCode::Char('4'));
    insta::assert_snapshot!(buffer_text(&render(&m, &dark(), 200, 60)));
}

#[test]
fn help_overlay_80x24_and_200x60() {
    let (mut m, _) = incident_model(Settings::default());
    key(&mut m, KeyCode::Char('?'));
    assert!(matches!(m.overlay, Some(Overlay::Help)));
    // At 80x24 nothing is lost: the first and the last key, and the mode line.
    let text = buffer_text(&render(&m, &dark(), 80, 24));
    for must in ["this help", "q F10 C-c", "quit", "Mode: read-write"] {
        assert!(text.contains(must), "{must}: {text}");
    }
    // On a screen too short for every line, j/k scroll and the title says what is hidden.
    let short = buffer_text(&render(&m, &dark(), 80, 12));
    assert!(short.contains("below (j/k)"), "{short}");
    assert!(!short.contains("q F10 C-c"), "{short}");
    m.size = (80, 12);
    for _ in 0..40 {
        key(&mut m, KeyCode::Char('j'));
    }
    let scrolled = buffer_text(&render(&m, &dark(), 80, 12));
    assert!(scrolled.contains("q F10 C-c"), "{scrolled}");
    assert!(scrolled.contains("0 below"), "{scrolled}");
    key(&mut m, KeyCode::Esc);
    key(&mut m, KeyCode::Char('?'));
    insta::assert_snapshot!("help_80x24", buffer_text(&render(&m, &dark(), 80, 24)));
    insta::assert_snapshot!("help_200x60", buffer_text(&render(&m, &dark(), 200, 60)));
}

#[test]
fn header_with_demo_and_read_only_banner() {
    let s = Settings {
        read_only: true,
        ..Settings::default()
    };
    let (mut m, _) = incident_model(s);
    m.demo = Some("close-wait-army".into());
    let buf = render(&m, &dark(), 80, 24);
    let text = buffer_text(&buf);
    let first = text.lines().next().unwrap_or_default();
    // At 80 columns the header is compact: the banner opens its first line, short.
    assert!(first.starts_with(" DEMO (close-wait-army)"), "{first}");
    assert!(first.contains("READ-ONLY"), "{first}");
    // The banner's words are drawn in the banner style, from the first cell.
    let t = dark();
    let end = first.find("READ-ONLY").unwrap_or_default() + "READ-ONLY".len();
    for x in [0, 1, end as u16 - 1] {
        assert_eq!(buf[(x, 0)].bg, t.banner.bg.unwrap_or_default(), "cell {x}");
    }
    insta::assert_snapshot!(text.lines().take(5).collect::<Vec<_>>().join("\n"));
    // A wide screen: the banner is a full line of its own, in full words.
    let buf = render(&m, &dark(), 200, 60);
    let first = buffer_text(&buf)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(
        first.contains("DEMO — simulated cluster (scenario close-wait-army) | READ-ONLY"),
        "{first}"
    );
    assert_eq!(buf[(0, 0)].bg, t.banner.bg.unwrap_or_default());
    assert_eq!(buf[(199, 0)].bg, t.banner.bg.unwrap_or_default());
}

#[test]
fn stale_data_is_marked_in_pane_and_header() {
    let (mut m, now) = incident_model(Settings::default());
    // Refresh is 2 s; 3 intervals = 6 s. 10 s without an update: STALE.
    update(
        &mut m,
        Msg::Tick {
            now: now + Duration::from_secs(10),
            wall: jiff::Timestamp::UNIX_EPOCH,
        },
    );
    let text = buffer_text(&render(&m, &dark(), 80, 24));
    let header: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with(" Sockets"))
        .collect();
    assert!(header.len() <= 4, "{text}");
    assert!(header.iter().any(|l| l.contains("STALE")), "{text}");
    let pane_title = text
        .lines()
        .find(|l| l.starts_with("┌ Sockets"))
        .unwrap_or_default();
    assert!(
        pane_title.contains("STALE") && pane_title.contains("data 11s old"),
        "{pane_title}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn fresh_data_is_not_marked_stale() {
    let (m, _) = incident_model(Settings::default());
    assert!(!buffer_text(&render(&m, &dark(), 80, 24)).contains("STALE"));
}

#[test]
fn ascii_mode_draws_only_ascii() {
    let s = Settings {
        ascii: true,
        read_only: true,
        ..Settings::default()
    };
    let (mut m, _) = incident_model(s);
    m.demo = Some("x".into());
    for (w, h) in [(80, 24), (200, 60)] {
        let text = buffer_text(&render(&m, &dark(), w, h));
        let bad: Vec<char> = text.chars().filter(|c| !c.is_ascii()).collect();
        assert!(bad.is_empty(), "non-ASCII at {w}x{h}: {bad:?}\n{text}");
    }
    key(&mut m, KeyCode::Char('?'));
    let text = buffer_text(&render(&m, &dark(), 80, 24));
    assert!(text.is_ascii(), "{text}");
    key(&mut m, KeyCode::Esc);
    key(&mut m, KeyCode::Char('4'));
    let text = buffer_text(&render(&m, &dark(), 80, 24));
    assert!(text.is_ascii());
    insta::assert_snapshot!(text);
}

#[test]
fn critical_cell_has_the_critical_style_and_word() {
    let s = Settings {
        grid: vec![vec![PaneKind::Sockets]],
        ..Settings::default()
    };
    let (mut m, _) = incident_model(s);
    key(&mut m, KeyCode::Char('4')); // listen queues: 0.0.0.0:8080 is 92% full
    let t = dark();
    let buf = render(&m, &t, 80, 24);
    assert!(find(&buf, "CRITICAL").is_some(), "CRITICAL on screen");
    let text = buffer_text(&buf);
    let row = text
        .lines()
        .position(|l| l.contains("0.0.0.0:8080"))
        .expect("listener row") as u16;
    let line = text.lines().nth(row as usize).unwrap_or_default();
    let col = line[..line.find("CRITICAL").expect("word in the row")]
        .chars()
        .count() as u16;
    let cell = &buf[(col, row)];
    assert_eq!(cell.fg, t.critical.fg.unwrap_or_default(), "critical fg");
    assert!(cell.modifier.contains(Modifier::BOLD), "critical is bold");
    // The OK row next to it is not styled as critical.
    let ok_row = text
        .lines()
        .position(|l| l.contains("[::]:443"))
        .expect("ok row") as u16;
    let ok_line = text.lines().nth(ok_row as usize).unwrap_or_default();
    let ok_col = ok_line[..ok_line.find("OK").expect("OK word")]
        .chars()
        .count() as u16;
    assert_eq!(buf[(ok_col, ok_row)].fg, t.ok.fg.unwrap_or_default());
}

#[test]
fn warning_and_pending_cells_in_alerts_pane() {
    let (mut m, _) = incident_model(Settings::default());
    key(&mut m, KeyCode::Tab);
    let t = dark();
    let buf = render(&m, &t, 80, 24);
    let text = buffer_text(&buf);
    let row = text
        .lines()
        .position(|l| l.contains("◷ WARNING"))
        .expect("pending row") as u16;
    let line = text.lines().nth(row as usize).unwrap_or_default();
    let col = line[..line.find("WARNING").unwrap_or(0)].chars().count() as u16;
    assert_eq!(buf[(col, row)].fg, t.pending.fg.unwrap_or_default());
    let row = text
        .lines()
        .position(|l| l.contains("WARNING") && l.contains("Listen overflows"))
        .expect("warning row") as u16;
    let line = text.lines().nth(row as usize).unwrap_or_default();
    let col = line[..line.find("WARNING").unwrap_or(0)].chars().count() as u16;
    assert_eq!(buf[(col, row)].fg, t.warning.fg.unwrap_or_default());
    assert!(buf[(col, row)].modifier.contains(Modifier::BOLD));
}

#[test]
fn no_color_keeps_words_and_drops_colours() {
    let s = Settings {
        grid: vec![vec![PaneKind::Sockets]],
        ..Settings::default()
    };
    let (mut m, _) = incident_model(s);
    key(&mut m, KeyCode::Char('4'));
    let t = Theme::builtin_dark(true);
    let buf = render(&m, &t, 80, 24);
    let text = buffer_text(&buf);
    assert!(
        text.contains("CRITICAL") && text.contains("WARNING") && text.contains("PENDING"),
        "{text}"
    );
    for y in 0..24 {
        for x in 0..80 {
            let c = &buf[(x, y)];
            assert_eq!(c.fg, ratatui::style::Color::Reset, "fg colour at {x},{y}");
            assert_eq!(c.bg, ratatui::style::Color::Reset, "bg colour at {x},{y}");
        }
    }
    // Critical still stands out: reversed + bold.
    let row = text
        .lines()
        .position(|l| l.contains("0.0.0.0:8080"))
        .expect("row") as u16;
    let line = text.lines().nth(row as usize).unwrap_or_default();
    let col = line[..line.find("CRITICAL").unwrap_or(0)].chars().count() as u16;
    assert!(
        buf[(col, row)]
            .modifier
            .contains(Modifier::REVERSED | Modifier::BOLD)
    );
}

#[test]
fn every_builtin_theme_renders_distinct_danger_colours() {
    for name in ["dark", "light", "high-contrast", "colorblind"] {
        let t = Theme::load(name, None, false).expect("builtin");
        assert_ne!(t.level(Level::Critical).fg, t.level(Level::Ok).fg, "{name}");
        let (m, _) = incident_model(Settings::default());
        let text = buffer_text(&render(&m, &t, 80, 24));
        assert!(text.contains("CRITICAL"), "{name}");
    }
}

#[test]
fn hostile_process_name_never_reaches_the_screen() {
    let (m, _) = incident_model(Settings::default());
    let buf = render(&m, &dark(), 200, 60);
    for cell in buf.content() {
        assert!(
            !cell.symbol().chars().any(|c| c.is_control()),
            "control char in a cell"
        );
    }
    let text = buffer_text(&buf);
    assert!(
        text.contains("evilname") && !text.contains("pwned"),
        "{text}"
    );
}

#[test]
fn every_pane_has_its_source_now_no_placeholder_left() {
    // Certificates and probes were placeholders ("arrives with ...") until their sources were
    // registered; `:certs` and `:probes` now open the real panes.
    for (name, kind) in [("certs", PaneKind::Certs), ("probes", PaneKind::Probes)] {
        let (mut m, _) = incident_model(Settings::default());
        update(
            &mut m,
            Msg::Key(KeyEvent::new(KeyCode::Char(':'), KeyModifiers::NONE)),
        );
        for c in name.chars() {
            key(&mut m, KeyCode::Char(c));
        }
        key(&mut m, KeyCode::Enter);
        assert_eq!(m.focused, kind);
        let text = buffer_text(&render(&m, &dark(), 80, 24));
        assert!(!text.contains("arrives with"), "{name}: {text}");
    }
}

#[test]
fn row_danger_keys_match_the_rules_subjects() {
    use ondeck::app::panes::sockets::{fd_danger_key, listener_danger_key};
    let snap = ondeck::ui::fixtures::incident_snapshot();
    let conds = ondeck::rules::sockets::evaluate(&snap, &ondeck::config::SocketRules::default());
    let keys: Vec<String> = conds
        .iter()
        .filter(|c| c.breached)
        .map(|c| format!("{}@{}", c.key.rule, c.key.subject))
        .collect();
    assert!(
        keys.contains(&listener_danger_key(&snap.listeners[0])),
        "{keys:?}"
    );
    assert!(keys.contains(&fd_danger_key(&snap.fd_usage[0])), "{keys:?}");
    for host in ["close_wait@host", "listen_overflows_per_sec@host"] {
        assert!(keys.iter().any(|k| k == host), "{host} not in {keys:?}");
    }
    let all: Vec<String> = conds
        .iter()
        .map(|c| format!("{}@{}", c.key.rule, c.key.subject))
        .collect();
    for host in ["time_wait@host", "conntrack_pct@host"] {
        assert!(all.iter().any(|k| k == host), "{host} not in {all:?}");
    }
}

#[test]
fn tiny_and_odd_sizes_do_not_panic() {
    let (mut m, _) = incident_model(Settings::default());
    for (w, h) in [(1, 1), (10, 3), (20, 5), (40, 10), (79, 23), (300, 100)] {
        let _ = render(&m, &dark(), w, h);
    }
    key(&mut m, KeyCode::Char('?'));
    let _ = render(&m, &dark(), 12, 4);
    key(&mut m, KeyCode::Esc);
    key(&mut m, KeyCode::Enter);
    let _ = render(&m, &dark(), 12, 4);
}

#[test]
fn older_update_does_not_grow_the_history() {
    let (mut m, now) = incident_model(Settings::default());
    let n = m.sockets().unwrap().history.samples.len();
    let snap = ondeck::ui::fixtures::incident_snapshot();
    update(
        &mut m,
        Msg::Source(ondeck::ui::fixtures::sockets_update(
            snap,
            1,
            now,
            jiff::Timestamp::UNIX_EPOCH,
        )),
    );
    assert_eq!(m.sockets().unwrap().history.samples.len(), n);
}

#[test]
fn mouse_click_on_a_tab_or_pane_focuses_it() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let click = |m: &mut Model, column: u16, row: u16| {
        update(
            m,
            Msg::Mouse(MouseEvent {
                kind: MouseEventKind::Down(MouseButton::Left),
                column,
                row,
                modifiers: KeyModifiers::NONE,
            }),
        );
    };
    let (mut m, _) = incident_model(Settings::default());
    let text = buffer_text(&render(&m, &dark(), 80, 24));
    let row = text
        .lines()
        .position(|l| l.starts_with(" Sockets "))
        .expect("tab bar") as u16;
    let col = text
        .lines()
        .nth(row as usize)
        .unwrap_or_default()
        .find("Alerts")
        .expect("Alerts tab") as u16;
    click(&mut m, col + 1, row);
    assert_eq!(m.focused, PaneKind::Alerts);
    // Grid at 200x60: clicking inside the left pane focuses sockets.
    let _ = render(&m, &dark(), 200, 60);
    click(&mut m, 10, 20);
    assert_eq!(m.focused, PaneKind::Sockets);
    // The wheel over the alerts pane focuses it and moves its selection.
    let _ = render(&m, &dark(), 200, 60);
    update(
        &mut m,
        Msg::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: 150,
            row: 20,
            modifiers: KeyModifiers::NONE,
        }),
    );
    assert_eq!(m.focused, PaneKind::Alerts);
}

#[test]
fn active_filter_stays_visible_at_80_columns() {
    let (mut m, _) = incident_model(Settings::default());
    key(&mut m, KeyCode::Char('/'));
    for c in "java".chars() {
        key(&mut m, KeyCode::Char(c));
    }
    key(&mut m, KeyCode::Enter);
    let text = buffer_text(&render(&m, &dark(), 80, 24));
    assert!(text.contains("filter: java"), "{text}");
    assert!(
        text.contains("4242") && !text.contains("unknown (p"),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

/// `--ascii` holds for every cell of every pane (each sockets view, the PV view), every overlay
/// and every dialog, at 80x24 and 200x60, with outside text that is not ASCII (a log line).
#[test]
fn ascii_mode_every_pane_overlay_and_dialog_is_ascii() {
    use ondeck::ui::fixtures::{
        pods_snapshot, pods_update, pods_wall, pvcs_incident_snapshot, pvcs_update,
    };
    let t = dark();
    let check = |m: &Model, what: &str| {
        for (w, h) in [(80u16, 24u16), (200, 60)] {
            let text = buffer_text(&render(m, &t, w, h));
            let bad: Vec<char> = text.chars().filter(|c| !c.is_ascii()).collect();
            assert!(bad.is_empty(), "{what} at {w}x{h}: {bad:?}\n{text}");
        }
    };
    for kind in PaneKind::ALL {
        let s = Settings {
            ascii: true,
            grid: vec![vec![kind]],
            ..Settings::default()
        };
        let (mut m, now) = incident_model(s);
        update(
            &mut m,
            Msg::Source(pods_update(pods_snapshot(), 1, now, pods_wall())),
        );
        let wall = m.wall;
        update(
            &mut m,
            Msg::Source(pvcs_update(pvcs_incident_snapshot(), 1, now, wall)),
        );
        m.focused = kind;
        check(&m, &format!("{kind:?}"));
        match kind {
            PaneKind::Sockets => {
                for v in ['1', '2', '3', '4', '5'] {
                    key(&mut m, KeyCode::Char(v));
                    check(&m, &format!("sockets view {v}"));
                }
            }
            PaneKind::Pvcs => {
                key(&mut m, KeyCode::Char('v'));
                check(&m, "PV view");
                key(&mut m, KeyCode::Char('v'));
            }
            _ => {}
        }
        // The detail of the selected row.
        key(&mut m, KeyCode::Enter);
        check(&m, &format!("{kind:?} detail"));
        key(&mut m, KeyCode::Esc);
    }
    let s = Settings {
        ascii: true,
        ..Settings::default()
    };
    let (mut m, now) = incident_model(s);
    update(
        &mut m,
        Msg::Source(pods_update(pods_snapshot(), 1, now, pods_wall())),
    );
    key(&mut m, KeyCode::Char('?'));
    check(&m, "help");
    key(&mut m, KeyCode::Esc);
    m.focused = PaneKind::Alerts;
    key(&mut m, KeyCode::Char('a'));
    assert!(matches!(m.overlay, Some(Overlay::AckNote { .. })));
    check(&m, "acknowledge dialog");
    key(&mut m, KeyCode::Esc);
    // The pod log overlay: loading, then a log that is not ASCII.
    let pod = pods_snapshot().rows[0].key();
    let view = ondeck::ui::panes::pods::PodLogsView::loading(pod.clone(), "api".into(), false);
    m.overlay = Some(Overlay::PodLogs(Box::new(view)));
    check(&m, "pod logs loading");
    let mut view = ondeck::ui::panes::pods::PodLogsView::loading(pod, "api".into(), false);
    view.result = Some(Ok("café ☕ — naïve…\nλ done".into()));
    m.overlay = Some(Overlay::PodLogs(Box::new(view)));
    check(&m, "pod logs");
    // The guarded PVC dialogs.
    let row = pvcs_incident_snapshot().rows[0].clone();
    m.overlay = Some(ondeck::ui::dialogs::pvc_delete::open(&row).0);
    check(&m, "PVC delete dialog");
    m.overlay = Some(ondeck::ui::dialogs::pvc_rescue::open(&row));
    check(&m, "PVC rescue dialog");
}

/// A source error longer than the pane's border (a TLS error ends with the date the
/// certificate expired on) is shown whole, wrapped in the pane's error strip, at 160 columns
/// and at 80.
#[test]
fn a_long_source_error_stays_readable() {
    use ondeck::sources::{SourceError, SourceId, SourceUpdate};
    let err = "invalid peer certificate: certificate expired: verification time \
               1764669600 (UNIX), but certificate is not valid after 1764583200 (UNIX); \
               the client certificate in kubeconfig context prod-eu-west-1 expired on \
               2026-12-01T10:00:00Z";
    for (w, h) in [(160u16, 40u16), (80, 24)] {
        let s = Settings {
            grid: vec![vec![PaneKind::Pods]],
            ..Settings::default()
        };
        let (mut m, now) = incident_model(s);
        m.focused = PaneKind::Pods;
        let wall = m.wall;
        update(
            &mut m,
            Msg::Source(SourceUpdate {
                source: SourceId::Pods,
                generation: 1,
                at: now,
                wall,
                result: Err(SourceError::Tls(err.into())),
            }),
        );
        let t = dark();
        let buf = render(&m, &t, w, h);
        let text = buffer_text(&buf);
        assert!(
            text.contains("2026-12-01T10:00:00Z"),
            "{w}x{h}: the date is shown\n{text}"
        );
        assert!(text.contains("expired on"), "{w}x{h}\n{text}");
        // In the error strip above the bottom border, in the warning colour.
        let (y, line) = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.contains("2026-12-01T10:00:00Z"))
            .last()
            .expect("date");
        let x = line[..line.find("2026-12-01").unwrap_or(0)].chars().count() as u16;
        assert_eq!(
            buf[(x, y as u16)].fg,
            t.warning.fg.unwrap_or_default(),
            "{w}x{h}: {line}"
        );
        let border = text.lines().nth(y + 1).unwrap_or_default();
        assert!(border.contains("error (above)"), "{w}x{h}: {border}");
    }
}
