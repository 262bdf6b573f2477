//! Every pane on the shared table component at 80x24, 100x30 and 200x60 (a 100-column grid
//! cell): the columns shown whole or hidden by priority, names cut in the middle with both
//! ends kept, numbers right-aligned, and the style of the cells that carry danger (snapshots
//! do not record colour). Fixtures from `ui::fixtures` (pods from real pod JSON).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ondeck::app::{Model, Msg, Settings, update};
use ondeck::domain::Level;
use ondeck::ui::fixtures::{
    LONG_POD_NAME, LONG_POD_NAMESPACE, buffer_text, incident_model, pods_model, pods_snapshot,
    pvcs_incident_snapshot, pvcs_model, render,
};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::style::Style;

fn dark() -> Theme {
    Theme::builtin_dark(false)
}

fn alone(kind: PaneKind) -> Settings {
    Settings {
        grid: vec![vec![kind]],
        ..Settings::default()
    }
}

fn key(m: &mut Model, code: KeyCode) {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

/// The first screen line containing every one of `parts`, with its row number.
fn line_with<'t>(text: &'t str, parts: &[&str]) -> (u16, &'t str) {
    text.lines()
        .enumerate()
        .find(|(_, l)| parts.iter().all(|p| l.contains(p)))
        .map(|(y, l)| (y as u16, l))
        .unwrap_or_else(|| panic!("no line with {parts:?}:\n{text}"))
}

/// Column (in cells) of `word` in `line`.
fn col_of(line: &str, word: &str) -> u16 {
    let byte = line
        .find(word)
        .unwrap_or_else(|| panic!("{word:?} not in {line:?}"));
    line[..byte].chars().count() as u16
}

fn assert_fg(buf: &Buffer, (x, y): (u16, u16), want: Style, what: &str) {
    assert_eq!(
        buf[(x, y)].fg,
        want.fg.unwrap_or_default(),
        "{what}: fg at ({x},{y})"
    );
}

/// The words of the pane's column header row (the first line with DANGER and NAME).
fn header_words(text: &str, first: &str) -> Vec<String> {
    let (_, l) = line_with(text, &[first]);
    l.split(|c: char| c == '│' || c == '|' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_end_matches(['▲', '▼']).to_string())
        .collect()
}

/// `name` cut in the middle: its start and end both visible around an ellipsis.
fn assert_cut_in_the_middle(line: &str, name: &str, ellipsis: char) {
    let cell = line
        .split_whitespace()
        .find(|w| w.contains(ellipsis) && name.starts_with(&w[..w.find(ellipsis).unwrap_or(0)]))
        .unwrap_or_else(|| panic!("no cut {name:?} in {line:?}"));
    let (head, tail) = cell.split_once(ellipsis).unwrap_or_default();
    assert!(
        head.len() >= 4 && tail.len() >= 4,
        "both ends kept: {cell:?}"
    );
    assert!(
        name.starts_with(head) && name.ends_with(tail),
        "{cell:?} vs {name:?}"
    );
}

/// No cell under STATUS has an ellipsis (STATUS is followed by the right-aligned RESTARTS,
/// whose header starts where its column starts).
fn assert_no_status_cut(text: &str) {
    let (hy, header) = line_with(text, &["STATUS", "RESTARTS"]);
    let (from, to) = (col_of(header, "STATUS"), col_of(header, "RESTARTS"));
    let mut rows = 0;
    for line in text.lines().skip(hy as usize + 1) {
        if !line.contains("CRITICAL") && !line.contains("WARNING") && !line.contains(" OK ") {
            continue;
        }
        rows += 1;
        let cell: String = line
            .chars()
            .skip(from as usize)
            .take((to - from) as usize)
            .collect();
        assert!(!cell.contains('…'), "cut status {cell:?} in {line:?}");
    }
    assert!(rows >= 10, "{text}");
}

// ---------------------------------------------------------------------------------------- pods

#[test]
fn pods_80x24_shows_the_crash_loop_whole() {
    let (m, _) = pods_model(alone(PaneKind::Pods), pods_snapshot());
    let t = dark();
    let buf = render(&m, &t, 80, 24);
    let text = buffer_text(&buf);
    assert_eq!(
        header_words(&text, "DANGER"),
        [
            "DANGER", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "REASONS"
        ],
        "{text}"
    );
    // The renamed crash-looping pod: STATUS whole, the name cut in the middle.
    let (y, line) = line_with(&text, &["CrashLoopBackOff", "8qzvt"]);
    assert_cut_in_the_middle(line, LONG_POD_NAME, '…');
    // READY, RESTARTS and AGE whole: "0/1", the restart count, an age with its unit.
    assert!(line.contains(" 0/1 "), "{line}");
    assert!(line.contains("12"), "restarts: {line}");
    // Every crash-looping and image-pull status whole; no status cut (long ones shortened).
    assert!(text.matches("CrashLoopBackOff").count() >= 2, "{text}");
    assert!(text.contains("ImagePullBackOff"), "{text}");
    assert_no_status_cut(&text);
    assert!(text.contains(" Init:CrashLoop "), "{text}");
    assert!(text.contains(" CreateConfigErr "), "{text}");
    // The danger cell carries the word and the level's colour; STATUS the same colour.
    let row = pods_snapshot()
        .rows
        .into_iter()
        .find(|r| r.name == LONG_POD_NAME)
        .expect("the long pod");
    assert!(row.level >= Level::Warning);
    let word = row.level.label();
    assert!(line.contains(word), "{line}");
    assert_fg(
        &buf,
        (col_of(line, word), y),
        t.level(row.level),
        "danger cell",
    );
    assert_fg(
        &buf,
        (col_of(line, "CrashLoopBackOff"), y),
        t.level(row.level),
        "status cell",
    );
    // A running pod: OK in the ok colour.
    let (y, line) = line_with(&text, &["x2k9p"]);
    assert_fg(&buf, (col_of(line, "OK"), y), t.ok, "ok cell");
    insta::assert_snapshot!("pods_80x24", text);
}

#[test]
fn pods_100x30_adds_the_namespace_cut_in_the_middle() {
    let (m, _) = pods_model(alone(PaneKind::Pods), pods_snapshot());
    let text = buffer_text(&render(&m, &dark(), 100, 30));
    assert_eq!(
        header_words(&text, "DANGER"),
        [
            "DANGER",
            "NAMESPACE",
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "REASONS"
        ],
        "{text}"
    );
    let (_, line) = line_with(&text, &["CrashLoopBackOff", "8qzvt"]);
    assert_cut_in_the_middle(line, LONG_POD_NAMESPACE, '…');
    // STATUS grows first: the long statuses are whole at 100.
    assert_no_status_cut(&text);
    assert!(text.contains(" Init:CrashLoopBackOff "), "{text}");
    assert!(text.contains(" CreateContainerConfigError "), "{text}");
    insta::assert_snapshot!("pods_100x30", text);
}

#[test]
fn pods_in_a_200x60_grid_cell_keep_status_whole() {
    // The default grid: sockets | alerts over pods | PVCs, each cell 100 columns.
    let (mut m, _) = pods_model(Settings::default(), pods_snapshot());
    m.focused = PaneKind::Pods;
    let t = dark();
    let buf = render(&m, &t, 200, 60);
    let text = buffer_text(&buf);
    let (y, line) = line_with(&text, &["CrashLoopBackOff", "8qzvt"]);
    assert!(
        col_of(line, "CrashLoopBackOff") < 100,
        "in the left cell: {line}"
    );
    assert!(text.contains("ImagePullBackOff"), "{text}");
    for cut in ["Crash ", "Runni", "Image "] {
        assert!(
            !text
                .lines()
                .any(|l| l.contains(&format!("│{cut}")) || l.contains(&format!(" {cut}│"))),
            "{cut} cut: {text}"
        );
    }
    let row = pods_snapshot()
        .rows
        .into_iter()
        .find(|r| r.name == LONG_POD_NAME)
        .expect("the long pod");
    assert_fg(
        &buf,
        (col_of(line, row.level.label()), y),
        t.level(row.level),
        "danger cell in the grid",
    );
    insta::assert_snapshot!("pods_200x60_grid", text);
}

#[test]
fn pods_200x60_alone_shows_every_column_whole() {
    let (m, _) = pods_model(alone(PaneKind::Pods), pods_snapshot());
    let text = buffer_text(&render(&m, &dark(), 200, 60));
    assert_eq!(
        header_words(&text, "DANGER"),
        [
            "DANGER",
            "NAMESPACE",
            "NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
            "NODE",
            "REASONS"
        ],
        "{text}"
    );
    let (_, line) = line_with(&text, &[LONG_POD_NAME]);
    assert!(line.contains(LONG_POD_NAMESPACE), "{line}");
    assert!(line.contains("node-a"), "{line}");
    // RESTARTS with when: "12 (30m ago)"-like, whole.
    assert!(line.contains("ago)"), "{line}");
    insta::assert_snapshot!("pods_200x60", text);
}

#[test]
fn pods_restarts_are_right_aligned_under_their_header() {
    let (m, _) = pods_model(alone(PaneKind::Pods), pods_snapshot());
    let text = buffer_text(&render(&m, &dark(), 80, 24));
    let (_, header) = line_with(&text, &["RESTARTS"]);
    let right_edge = col_of(header, "RESTARTS") + "RESTARTS".len() as u16;
    let (_, line) = line_with(&text, &["8qzvt"]);
    let cell: String = line.chars().skip(right_edge as usize - 2).take(2).collect();
    assert!(
        cell.chars().all(|c| c.is_ascii_digit()),
        "restart count ends at the header's right edge: {cell:?} in {line:?}"
    );
}

// ------------------------------------------------------------------------------------- sockets

#[test]
fn sockets_at_three_sizes() {
    let t = dark();
    for (w, h) in [(80u16, 24u16), (100, 30), (200, 60)] {
        let (mut m, _) = incident_model(alone(PaneKind::Sockets));
        let text = buffer_text(&render(&m, &t, w, h));
        assert_eq!(
            header_words(&text, "CLOSE_WAIT▼"),
            ["PID", "COMMAND", "CLOSE_WAIT"],
            "{w}x{h}: {text}"
        );
        let (_, header) = line_with(&text, &["CLOSE_WAIT▼"]);
        let (_, java) = line_with(&text, &["java", "4242"]);
        // The count right-aligned under its header (the arrow is its last cell).
        let end = col_of(header, "CLOSE_WAIT▼") as usize + "CLOSE_WAIT▼".chars().count();
        let cell: String = java.chars().skip(end - 4).take(4).collect();
        assert_eq!(cell, "1490", "{w}x{h}: {java:?} / {header:?}");
        assert!(!text.contains('\u{1b}'), "escape reached the screen");
        insta::assert_snapshot!(format!("sockets_{w}x{h}"), text);

        // Listen queues: DANGER, LOCAL and FILL whole; the danger cell styled.
        key(&mut m, KeyCode::Char('4'));
        let buf = render(&m, &t, w, h);
        let text = buffer_text(&buf);
        let words = header_words(&text, "LOCAL");
        for must in ["DANGER", "LOCAL", "FILL", "QUEUED", "BACKLOG"] {
            assert!(
                words.iter().any(|x| x == must),
                "{w}x{h}: {must} in {words:?}"
            );
        }
        let (y, line) = line_with(&text, &["CRITICAL", ":"]);
        assert_fg(
            &buf,
            (col_of(line, "CRITICAL"), y),
            t.critical,
            "listen queue danger",
        );
        insta::assert_snapshot!(format!("sockets_listen_{w}x{h}"), text);
    }
}

// -------------------------------------------------------------------------------------- alerts

#[test]
fn alerts_at_three_sizes() {
    let t = dark();
    for (w, h) in [(80u16, 24u16), (100, 30), (200, 60)] {
        let (mut m, _) = incident_model(alone(PaneKind::Alerts));
        m.focused = PaneKind::Alerts;
        let buf = render(&m, &t, w, h);
        let text = buffer_text(&buf);
        let words = header_words(&text, "SUBJECT");
        for must in ["LEVEL", "TITLE", "SUBJECT", "VALUE", "SINCE"] {
            assert!(
                words.iter().any(|x| x == must),
                "{w}x{h}: {must} in {words:?}\n{text}"
            );
        }
        // LIMIT only with room beyond what the other columns' cells need (the 36-cell
        // listener subject whole first); ACK only when something is acknowledged.
        assert_eq!(
            words.iter().any(|x| x == "LIMIT"),
            w >= 200,
            "{w}x{h}: {words:?}"
        );
        assert!(!words.iter().any(|x| x == "ACK"), "{w}x{h}: {words:?}");
        // The critical listen queue: level, title, value and since whole; the subject keeps
        // the address (its owner in parentheses goes first when narrow).
        let (y, line) = line_with(&text, &["Listen queue full"]);
        assert!(line.contains("✖ CRITICAL"), "{w}x{h}: {line}");
        assert!(line.contains("listen 0.0.0.0:8080"), "{w}x{h}: {line}");
        assert!(line.contains("92% of backlog"), "{w}x{h}: {line}");
        assert!(line.contains("3m ago"), "{w}x{h}: {line}");
        // From 100 columns the listener's owner shows too.
        assert_eq!(
            line.contains("(java, pid 4242)"),
            w >= 100,
            "{w}x{h}: {line}"
        );
        if w >= 200 {
            assert!(line.contains(">= 90%"), "limit: {line}");
        }
        assert_fg(
            &buf,
            (col_of(line, "CRITICAL"), y),
            t.critical,
            "critical level",
        );
        // The pending CLOSE_WAIT warning: pending glyph and style, its progress readable.
        let (y, line) = line_with(&text, &["CLOSE_WAIT sockets"]);
        assert!(line.contains("WARNING"), "{w}x{h}: {line}");
        assert!(line.contains("1,523 sockets"), "{w}x{h}: {line}");
        assert!(line.contains("3m/15m"), "{w}x{h}: {line}");
        assert_fg(
            &buf,
            (col_of(line, "WARNING"), y),
            t.pending,
            "pending level",
        );
        // The warning rows carry the warning colour.
        let (y, line) = line_with(&text, &["Listen overflows"]);
        assert_fg(
            &buf,
            (col_of(line, "WARNING"), y),
            t.warning,
            "warning level",
        );
        // Nothing cut to a stub: every ellipsis on a row has at least 8 cells before it.
        for l in text
            .lines()
            .filter(|l| l.contains("CRITICAL") || l.contains("WARNING"))
        {
            if let Some(i) = l.find('…') {
                assert!(l[..i].chars().count() > 8, "{w}x{h}: {l}");
            }
        }
        insta::assert_snapshot!(format!("alerts_{w}x{h}"), text);
    }
}

// ---------------------------------------------------------------------------------------- PVCs

#[test]
fn pvcs_at_three_sizes() {
    let t = dark();
    for (w, h) in [(80u16, 24u16), (100, 30), (200, 60)] {
        let (m, _) = pvcs_model(alone(PaneKind::Pvcs), pvcs_incident_snapshot());
        let buf = render(&m, &t, w, h);
        let text = buffer_text(&buf);
        let words = header_words(&text, "DANGER");
        for must in ["DANGER", "NAMESPACE", "NAME", "STATUS", "MARKERS"] {
            assert!(
                words.iter().any(|x| x == must),
                "{w}x{h}: {must} in {words:?}"
            );
        }
        // The two grafana claims never look alike.
        let (_, old) = line_with(&text, &["grafana", "old"]);
        assert!(!old.contains("grafana-data "), "{w}x{h}: {old}");
        // The terminating claim: critical word and colour, status whole.
        let (y, line) = line_with(&text, &["loki", "CRITICAL"]);
        assert!(line.contains("Terminating"), "{w}x{h}: {line}");
        assert_fg(
            &buf,
            (col_of(line, "CRITICAL"), y),
            t.critical,
            "PVC danger",
        );
        insta::assert_snapshot!(format!("pvcs_{w}x{h}"), text);
    }
}

// -------------------------------------------------------------------------------------- header

#[test]
fn the_header_fits_in_four_lines_at_80x24() {
    // Everything on: demo and read-only banner, sockets, pods and PVCs reporting.
    let (mut m, _) = pods_model(Settings::default(), pods_snapshot());
    m.demo = Some("incident".into());
    m.settings.read_only = true;
    let (now, wall) = (m.now, m.wall);
    update(
        &mut m,
        Msg::Source(ondeck::ui::fixtures::pvcs_update(
            pvcs_incident_snapshot(),
            1,
            now,
            wall,
        )),
    );
    update(
        &mut m,
        Msg::Source(ondeck::ui::fixtures::sockets_update(
            ondeck::ui::fixtures::incident_snapshot(),
            1,
            now,
            wall,
        )),
    );
    let ctx = ondeck::ui::widgets::ViewCtx {
        theme: &dark(),
        sym: ondeck::ui::symbols::Symbols::for_mode(false),
    };
    let lines = ondeck::ui::header::lines(&m, ctx, 80);
    let text: Vec<String> = lines
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect();
    assert!(
        lines.len() <= 4,
        "{} lines:\n{}",
        lines.len(),
        text.join("\n")
    );
    let all = text.join("\n");
    // Nothing of the danger dropped: banner, alert counts with words, each meter's glyphs.
    for must in [
        "DEMO",
        "READ-ONLY",
        "Alerts",
        "CRITICAL",
        "TCP",
        "CLOSE_WAIT",
        "Cluster ondeck-sim",
        "Pods ✖",
        "PVCs ✖",
        "Data",
    ] {
        assert!(all.contains(must), "{must} missing:\n{all}");
    }
    assert!(lines.iter().all(|l| l.width() <= 80), "{all}");
    // The whole screen: the header, then the tabs right after it.
    let screen = buffer_text(&render(&m, &dark(), 80, 24));
    let tabs_row = screen
        .lines()
        .position(|l| l.contains(" Sockets ") && l.contains(" Pods "))
        .expect("the tab row");
    assert!(tabs_row <= 4, "{screen}");
    insta::assert_snapshot!("header_80x24", all);
}
