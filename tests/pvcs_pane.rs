//! The PVCs pane from the `incident` fixture snapshot (the PVC source's types, built by hand
//! like the source would from the demo scenario): PVC and PV views at 80x24 and 200x60, the
//! detail view, the header meter, STALE, errors and "not configured"; the styles of the cells
//! that carry danger (snapshots do not record colour); filter, selection, F9 and read-only;
//! hostile names sanitized.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ondeck::app::model::Overlay;
use ondeck::app::msg::Command;
use ondeck::app::panes::pvcs::{PvcsPane, PvcsView};
use ondeck::app::{Model, Msg, Settings, update};
use ondeck::domain::pvcs::{PvcKey, PvcsSnapshot, UsedSpace};
use ondeck::sources::{SourceError, SourceId, SourceUpdate};
use ondeck::ui::fixtures::{
    buffer_text, pvcs_incident_snapshot, pvcs_model, pvcs_update, render, wall0,
};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::style::Style;

fn key(m: &mut Model, code: KeyCode) -> Vec<Command> {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typed(m: &mut Model, s: &str) {
    for c in s.chars() {
        key(m, KeyCode::Char(c));
    }
}

fn filter(m: &mut Model, s: &str) {
    key(m, KeyCode::Char('/'));
    typed(m, s);
    key(m, KeyCode::Enter);
}

fn dark() -> Theme {
    Theme::builtin_dark(false)
}

/// Only the PVCs pane, full width.
fn alone() -> Settings {
    Settings {
        grid: vec![vec![PaneKind::Pvcs]],
        ..Settings::default()
    }
}

fn model() -> (Model, Instant) {
    pvcs_model(alone(), pvcs_incident_snapshot())
}

fn pane(m: &Model) -> &PvcsPane {
    m.pane(PaneKind::Pvcs)
        .and_then(|p| p.as_any().downcast_ref::<PvcsPane>())
        .expect("the PVCs pane")
}

/// The screen position of `word` on the first line that contains `row` (and `word`).
fn find_in_row(buf: &Buffer, row: &str, word: &str) -> (u16, u16) {
    let text = buffer_text(buf);
    for (y, line) in text.lines().enumerate() {
        if line.contains(row)
            && let Some(byte) = line.find(word)
        {
            return (line[..byte].chars().count() as u16, y as u16);
        }
    }
    panic!("no line with {row:?} and {word:?}:\n{text}");
}

fn assert_style(buf: &Buffer, (x, y): (u16, u16), want: Style, what: &str) {
    let cell = &buf[(x, y)];
    assert_eq!(
        cell.fg,
        want.fg.unwrap_or_default(),
        "{what}: fg at ({x},{y}) is {:?}",
        cell.fg
    );
    assert!(
        cell.modifier.contains(want.add_modifier),
        "{what}: modifiers {:?} lack {:?}",
        cell.modifier,
        want.add_modifier
    );
}

/// The table rows of the pane (between the column header and the reasons strip).
fn table_rows(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.contains("DANGER") && !l.contains("NAME"))
        .skip(1)
        .take_while(|l| !l.starts_with("│──") && !l.starts_with('└'))
        .map(|l| {
            l.trim_matches(|c: char| c == '│' || c.is_whitespace())
                .to_string()
        })
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn pvc_view_80x24_keeps_danger_names_status_and_markers() {
    let (m, _) = model();
    let t = dark();
    let buf = render(&m, &t, 80, 24);
    let text = buffer_text(&buf);
    let header = text.lines().find(|l| l.contains("DANGER")).expect("header");
    for col in ["DANGER", "NAMESPACE", "NAME", "STATUS", "MARKERS", "USED"] {
        assert!(header.contains(col), "{col} at 80 columns: {header}");
    }
    for dropped in ["VOLUME", "ACCESS", "STORAGECLASS", "USED BY"] {
        assert!(!header.contains(dropped), "{dropped} kept at 80: {header}");
    }
    // The critical row: the word and the critical style on its danger cell; its status too.
    let pos = find_in_row(&buf, "loki-storage", "CRITICAL");
    assert_style(&buf, pos, t.critical, "loki-storage danger cell");
    assert_style(
        &buf,
        find_in_row(&buf, "loki-storage", "Terminating"),
        t.critical,
        "loki-storage status",
    );
    // Its reason is readable under the table even at 80x24.
    assert!(
        text.contains("deleted while pod loki-0 uses it; when loki-0 stops, the PV and its"),
        "{text}"
    );
    assert!(
        text.contains("data are deleted (reclaim policy Delete)"),
        "{text}"
    );
    // Markers as words, styled: AT RISK warning, UNUSED info, IN USE ok.
    assert!(text.contains("AT RISK UNUSED") && text.contains("AT RISK IN USE"));
    assert_style(
        &buf,
        find_in_row(&buf, "grafana-data-old", "AT RISK"),
        t.warning,
        "AT RISK",
    );
    assert_style(
        &buf,
        find_in_row(&buf, "grafana-data-old", "UNUSED"),
        t.info,
        "UNUSED",
    );
    assert_style(
        &buf,
        // Cut to fit 80 columns, with the ellipsis in the middle: both ends stay.
        find_in_row(&buf, "postgres-…ostgres-0", "IN USE"),
        t.ok,
        "IN USE",
    );
    // Unknown used space is "?", never 0.
    let old = text
        .lines()
        .find(|l| l.contains("grafana-data-old"))
        .expect("row");
    assert!(old.contains(" ? "), "{old}");
    assert!(!old.contains(" 0 "), "{old}");
    assert!(
        text.lines()
            .find(|l| l.contains("grafana-data "))
            .is_some_and(|l| l.contains("2.1 MiB")),
        "{text}"
    );
    insta::assert_snapshot!("pvcs_80x24", text);
}

#[test]
fn pvc_view_200x60_shows_every_column() {
    let (m, _) = model();
    let t = dark();
    let buf = render(&m, &t, 200, 60);
    let text = buffer_text(&buf);
    let header = text.lines().find(|l| l.contains("DANGER")).expect("header");
    for col in [
        "DANGER",
        "NAMESPACE",
        "NAME",
        "STATUS",
        "CAPACITY",
        "USED",
        "STORAGECLASS",
        "VOLUME",
        "RECLAIM",
        "ACCESS",
        "USED BY",
        "AGE",
        "MARKERS",
        "REASONS",
    ] {
        assert!(header.contains(col), "{col}: {header}");
    }
    let loki = text
        .lines()
        .find(|l| l.contains("loki-storage"))
        .expect("row");
    assert!(loki.contains("loki-0 (Running)"), "{loki}");
    assert!(loki.contains("Delete") && loki.contains("20Gi"), "{loki}");
    assert_style(
        &buf,
        find_in_row(&buf, "loki-storage", "CRITICAL"),
        t.critical,
        "loki-storage danger cell",
    );
    assert_style(
        &buf,
        find_in_row(&buf, "uploads", "WARNING"),
        t.warning,
        "uploads danger cell",
    );
    // Only the pane's rows are drawn, in danger order.
    let rows = table_rows(&text);
    let names: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.split_whitespace().nth(3))
        .collect();
    assert_eq!(
        names,
        [
            "loki-storage",
            "uploads",
            "scratch",
            "grafana-data",
            "grafana-data-old",
            "prometheus-data-prometheus-0",
            "postgres-data-postgres-0"
        ],
        "{text}"
    );
    // The tall pane explains the selected claim below the table.
    assert!(
        text.contains("AT RISK: deleting this claim deletes PV pvc-6f1c2a9e"),
        "{text}"
    );
    insta::assert_snapshot!("pvcs_200x60", text);
}

#[test]
fn pv_view_flags_orphaned_volumes() {
    let (mut m, _) = model();
    let t = dark();
    key(&mut m, KeyCode::Char('v'));
    assert_eq!(pane(&m).view, PvcsView::Volumes);
    let buf = render(&m, &t, 200, 40);
    let text = buffer_text(&buf);
    let header = text.lines().find(|l| l.contains("PHASE")).expect("header");
    for col in [
        "NAME",
        "PHASE",
        "RECLAIM",
        "CLAIM",
        "STORAGECLASS",
        "CAPACITY",
        "AGE",
        "DANGER",
        "FLAG",
        "REASONS",
    ] {
        assert!(header.contains(col), "{col}: {header}");
    }
    let released = text
        .lines()
        .find(|l| l.contains("pv-old-reports"))
        .expect("the Released PV");
    assert!(
        released.contains("Released") && released.contains("ORPHANED"),
        "{released}"
    );
    assert!(released.contains("batch/reports-2025"), "{released}");
    assert_style(
        &buf,
        find_in_row(&buf, "pv-old-reports", "ORPHANED"),
        t.warning,
        "ORPHANED flag",
    );
    let spare = text
        .lines()
        .find(|l| l.contains("pv-spare-1"))
        .expect("the Available PV");
    assert!(
        spare.contains("Available") && !spare.contains("ORPHANED"),
        "{spare}"
    );
    // Loudest first: the Released PV is the first row.
    assert!(table_rows(&text)[0].starts_with("pv-old-reports"), "{text}");
    insta::assert_snapshot!("pvcs_pv_view", text);

    // 1 and 2 pick the views; F9 on the PV view starts nothing.
    key(&mut m, KeyCode::Char('1'));
    assert_eq!(pane(&m).view, PvcsView::Claims);
    key(&mut m, KeyCode::Char('2'));
    assert_eq!(pane(&m).view, PvcsView::Volumes);
    assert!(key(&mut m, KeyCode::F(9)).is_empty());
    assert!(m.overlay.is_none());
}

#[test]
fn forbidden_pvs_say_so_instead_of_an_empty_table() {
    let mut snap = pvcs_incident_snapshot();
    snap.pvs.clear();
    snap.pv_error = Some(SourceError::Forbidden(
        "list persistentvolumes at cluster scope (user oncall@example.com)".into(),
    ));
    let (mut m, _) = pvcs_model(alone(), snap);
    key(&mut m, KeyCode::Char('2'));
    let text = buffer_text(&render(&m, &dark(), 120, 30));
    assert!(
        text.contains("PersistentVolumes not shown: forbidden: list persistentvolumes"),
        "{text}"
    );
    assert!(!text.contains("no PersistentVolumes"), "{text}");
    // The header does not claim zero orphaned PVs.
    assert!(text.contains("orphaned PVs unknown"), "{text}");
}

#[test]
fn filter_narrows_to_grafana_data_old_and_f9_asks_for_exactly_it() {
    let (mut m, _) = model();
    filter(&mut m, "grafana-data-old");
    let text = buffer_text(&render(&m, &dark(), 200, 60));
    let rows = table_rows(&text);
    assert_eq!(rows.len(), 1, "{text}");
    assert!(rows[0].contains("grafana-data-old"), "{rows:?}");
    assert!(text.contains("filter: grafana-data-old"), "{text}");

    let cmds = key(&mut m, KeyCode::F(9));
    let want = PvcKey::new("monitoring", "grafana-data-old");
    match cmds.as_slice() {
        [Command::StartPvcDelete { pvc }] => assert_eq!(*pvc, want),
        other => panic!("want one StartPvcDelete, got {other:?}"),
    }
    match &m.overlay {
        Some(Overlay::PvcDelete(d)) => assert_eq!(d.pvc, want),
        other => panic!("want the delete dialog, got {other:?}"),
    }
}

#[test]
fn f9_on_an_in_use_claim_still_opens_the_flow_which_decides() {
    let (mut m, _) = model();
    // The first row (loki-storage, Terminating and in use) is selected.
    let cmds = key(&mut m, KeyCode::F(9));
    assert!(
        matches!(cmds.as_slice(), [Command::StartPvcDelete { pvc }] if pvc.name == "loki-storage"),
        "{cmds:?}"
    );
}

#[test]
fn read_only_f9_starts_nothing_and_the_detail_says_why() {
    let settings = Settings {
        read_only: true,
        ..alone()
    };
    let (mut m, _) = pvcs_model(settings, pvcs_incident_snapshot());
    filter(&mut m, "grafana-data-old");
    assert!(key(&mut m, KeyCode::F(9)).is_empty());
    assert!(m.overlay.is_none());
    key(&mut m, KeyCode::Enter);
    let text = buffer_text(&render(&m, &dark(), 120, 50));
    assert!(text.contains("F9 and R disabled: read-only mode"), "{text}");
    assert!(!text.contains("F9: guarded delete"), "{text}");
}

#[test]
fn detail_view_has_what_to_check_before_deleting() {
    let (mut m, _) = model();
    filter(&mut m, "grafana-data-old");
    key(&mut m, KeyCode::Enter);
    assert!(matches!(m.overlay, Some(Overlay::Detail)));
    let text = buffer_text(&render(&m, &dark(), 120, 50));
    for want in [
        "monitoring/grafana-data-old",
        "9e2f4b6a-1d3c-4a5e-b7f9-0c8d6e4a2b19",
        "Bound (phase Bound), age 700d",
        "kubernetes.io/pvc-protection",
        "unknown: not mounted (the kubelet reports mounted volumes only)",
        "standard (rancher.io/local-path, reclaim Delete, Immediate)",
        "pvc-9e2f4b6a-1d3c-4a5e-b7f9-0c8d6e4a2b19, reclaim Delete",
        "10Gi, access RWO",
        "no pod",
        "AT RISK: deleting this claim deletes PV",
        "ondeck's guarded delete switches the PV to Retain first",
        "UNUSED: no running pod mounts it",
        "F9: guarded delete (preflight, verified backup, typed name)",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    let dialog: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("PVCs details"))
        .take_while(|l| !l.contains("┘"))
        .collect();
    insta::assert_snapshot!("pvcs_detail_grafana_data_old", dialog.join("\n"));
}

#[test]
fn detail_of_the_terminating_claim_names_the_pod_node_and_mount() {
    let (mut m, _) = model();
    key(&mut m, KeyCode::Enter);
    let text = buffer_text(&render(&m, &dark(), 120, 50));
    for want in [
        "logging/loki-storage",
        "Terminating (phase Bound), deleted 3m ago",
        "256.0 KiB of 20.0 GiB",
        "loki-0 (Running) on worker-1: loki:/var/loki",
        "IN USE while Terminating: press R to rescue it now",
        "R: rescue (PV to Retain, verified backup through the pod)",
        "deleted while pod loki-0 uses it",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    // The critical reason's word carries the critical style in the dialog too.
    let t = dark();
    let buf = render(&m, &t, 120, 50);
    let pos = find_in_row(&buf, "deleted while pod", "CRITICAL");
    assert_style(&buf, pos, t.critical, "critical reason in the detail");
}

#[test]
fn pv_detail_explains_the_orphan() {
    let (mut m, _) = model();
    key(&mut m, KeyCode::Char('v'));
    key(&mut m, KeyCode::Enter);
    let text = buffer_text(&render(&m, &dark(), 120, 40));
    assert!(text.contains("pv-old-reports"), "{text}");
    assert!(
        text.contains("ORPHANED: Released and bound to no claim"),
        "{text}"
    );
    assert!(text.contains("claim      batch/reports-2025"), "{text}");
}

#[test]
fn header_meter_counts_with_words() {
    let (m, _) = model();
    let t = dark();
    let buf = render(&m, &t, 120, 30);
    let text = buffer_text(&buf);
    let meter = text
        .lines()
        .find(|l| l.starts_with("PVCs "))
        .expect("the PVCs meter");
    assert!(
        meter.contains("PVCs ✖ 1 CRITICAL ▲ 1 WARNING ✓ 5 OK  3 unused, 4 at risk, 1 orphaned PVs"),
        "{meter}"
    );
    assert!(meter.contains("data 0s ago"), "{meter}");
    assert_style(
        &buf,
        find_in_row(&buf, "PVCs ✖", "✖ 1 CRITICAL"),
        t.critical,
        "meter critical",
    );
    let header: Vec<&str> = text.lines().take(5).collect();
    insta::assert_snapshot!("pvcs_header_meter", header.join("\n"));
}

#[test]
fn stale_data_is_marked_in_pane_and_header() {
    let (mut m, t0) = model();
    // Refresh is 2 s; 3 intervals = 6 s. 10 s without an update: STALE.
    update(
        &mut m,
        Msg::Tick {
            now: t0 + Duration::from_secs(10),
            wall: wall0() + jiff::SignedDuration::from_secs(10),
        },
    );
    let text = buffer_text(&render(&m, &dark(), 80, 24));
    let meter = text
        .lines()
        .find(|l| l.starts_with("PVCs "))
        .expect("meter");
    assert!(meter.contains("STALE"), "{text}");
    let title = text.lines().find(|l| l.contains("┌ PVCs")).expect("title");
    assert!(
        title.contains("STALE") && title.contains("data 10s old"),
        "{title}"
    );
    // The rows are still shown (marked stale, never as fresh).
    assert!(text.contains("loki-storage"), "{text}");
    insta::assert_snapshot!("pvcs_stale_80x24", text);
}

fn error_update(generation: u64, at: Instant, e: SourceError) -> SourceUpdate {
    SourceUpdate {
        source: SourceId::Pvcs,
        generation,
        at,
        wall: wall0(),
        result: Err(e),
    }
}

#[test]
fn not_configured_says_so_and_is_never_stale() {
    let t0 = Instant::now();
    let mut m = Model::new(alone(), t0, wall0());
    m.focused = PaneKind::Pvcs;
    update(
        &mut m,
        Msg::Source(error_update(
            1,
            t0,
            SourceError::NotConfigured("no kubeconfig found: set KUBECONFIG".into()),
        )),
    );
    update(
        &mut m,
        Msg::Tick {
            now: t0 + Duration::from_secs(60),
            wall: wall0(),
        },
    );
    let text = buffer_text(&render(&m, &dark(), 80, 24));
    assert!(
        text.contains("Kubernetes not configured: no kubeconfig found"),
        "{text}"
    );
    let title = text.lines().find(|l| l.contains("┌ PVCs")).expect("title");
    assert!(!title.contains("STALE"), "{title}");
    assert!(
        !text.lines().any(|l| l.starts_with("PVCs ")),
        "no PVC meter when not configured: {text}"
    );
    insta::assert_snapshot!("pvcs_not_configured_80x24", text);
}

#[test]
fn errors_keep_the_last_good_rows_and_show_the_error() {
    let (mut m, t0) = model();
    update(
        &mut m,
        Msg::Source(error_update(
            2,
            t0 + Duration::from_secs(2),
            SourceError::Unreachable("connection refused (https://127.0.0.1:6443)".into()),
        )),
    );
    let text = buffer_text(&render(&m, &dark(), 120, 30));
    assert!(text.contains("loki-storage"), "last good rows: {text}");
    assert!(
        text.contains("error: unreachable: connection refused"),
        "{text}"
    );
    assert!(pane(&m).feed.error().is_some());
    assert!(
        text.lines()
            .any(|l| l.starts_with("PVCs source error, last good: ✖ 1 CRITICAL")),
        "{text}"
    );

    // No data at all: the error in place of the table.
    let t0 = Instant::now();
    let mut m = Model::new(alone(), t0, wall0());
    m.focused = PaneKind::Pvcs;
    update(
        &mut m,
        Msg::Source(error_update(
            1,
            t0,
            SourceError::Forbidden("list persistentvolumeclaims (user x)".into()),
        )),
    );
    let text = buffer_text(&render(&m, &dark(), 80, 24));
    assert!(
        text.contains("no PVC data: forbidden: list persistentvolumeclaims"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("PVCs forbidden: list persistentvolumeclaims")),
        "{text}"
    );
    insta::assert_snapshot!("pvcs_error_80x24", text);
}

#[test]
fn selection_survives_rows_that_vanish() {
    let (mut m, t0) = model();
    // Select grafana-data-old (5th row).
    for _ in 0..4 {
        key(&mut m, KeyCode::Char('j'));
    }
    let selected = |m: &Model| pane(m).selected_claim().map(|r| r.name.clone());
    assert_eq!(selected(&m).as_deref(), Some("grafana-data-old"));
    // scratch (above it) is gone in the next poll: the selection follows its row.
    let mut snap = pvcs_incident_snapshot();
    snap.rows.retain(|r| r.name != "scratch");
    update(
        &mut m,
        Msg::Source(pvcs_update(
            snap.clone(),
            2,
            t0 + Duration::from_secs(2),
            wall0(),
        )),
    );
    assert_eq!(selected(&m).as_deref(), Some("grafana-data-old"));
    // Now it is gone itself: the cursor stays where it was (the next row).
    snap.rows.retain(|r| r.name != "grafana-data-old");
    update(
        &mut m,
        Msg::Source(pvcs_update(snap, 3, t0 + Duration::from_secs(4), wall0())),
    );
    assert_eq!(
        selected(&m).as_deref(),
        Some("prometheus-data-prometheus-0")
    );
    // A reordered (older) update never replaces newer data.
    update(
        &mut m,
        Msg::Source(pvcs_update(
            pvcs_incident_snapshot(),
            2,
            t0 + Duration::from_secs(5),
            wall0(),
        )),
    );
    let text = buffer_text(&render(&m, &dark(), 200, 60));
    assert!(!text.contains("grafana-data-old"), "{text}");
}

#[test]
fn switching_namespace_forgets_the_old_targets_claims() {
    let (mut m, t0) = model();
    // A snapshot the old target's source made before the switch, still in the channel.
    let in_flight = ondeck::sources::kube::pods::next_generation();
    key(&mut m, KeyCode::Char(':'));
    typed(&mut m, "ns web");
    let cmds = key(&mut m, KeyCode::Enter);
    assert!(
        matches!(cmds.as_slice(), [Command::Retarget(_)]),
        "{cmds:?}"
    );
    let text = buffer_text(&render(&m, &dark(), 120, 30));
    assert!(!text.contains("loki-storage"), "{text}");
    assert!(
        text.contains("waiting for the first list of PVCs"),
        "{text}"
    );
    // A snapshot still in flight from the old target is ignored...
    update(
        &mut m,
        Msg::Source(pvcs_update(
            pvcs_incident_snapshot(),
            in_flight,
            t0 + Duration::from_secs(1),
            wall0(),
        )),
    );
    assert!(pane(&m).feed.data().is_none());
    // ...the new target's first one is shown.
    let mut snap = pvcs_incident_snapshot();
    snap.rows.retain(|r| r.namespace == "web");
    let g = ondeck::sources::kube::pods::next_generation();
    update(
        &mut m,
        Msg::Source(pvcs_update(snap, g, t0 + Duration::from_secs(2), wall0())),
    );
    let text = buffer_text(&render(&m, &dark(), 120, 30));
    assert!(
        text.contains("uploads") && !text.contains("loki-storage"),
        "{text}"
    );
}

#[test]
fn hostile_names_render_sanitized() {
    let mut snap: PvcsSnapshot = pvcs_incident_snapshot();
    let r = &mut snap.rows[0];
    r.name = "evil\x1b[2J\x1b]0;pwned\x07-data".into();
    r.namespace = "ns\x1b[31mred".into();
    r.users[0].pod = "pod\x1b]0;pwned\x07name".into();
    r.users[0].mounts = vec!["c:/data\x1b[1;1H".into()];
    r.reasons[0].text = "deleted\x1b[2K while\x07 in use".into();
    r.volume = Some("pv\x1b[5mblink".into());
    snap.pvs[0].name = "pv\x1b]0;pwned\x07x".into();
    let (mut m, _) = pvcs_model(alone(), snap);
    let check = |buf: &Buffer| {
        for cell in buf.content() {
            assert!(
                !cell.symbol().chars().any(|c| c.is_control()),
                "control char in a cell"
            );
        }
        let text = buffer_text(buf);
        assert!(!text.contains("pwned"), "{text}");
        text
    };
    let text = check(&render(&m, &dark(), 200, 60));
    assert!(text.contains("evil-data"), "{text}");
    assert!(
        text.contains("deleted while") && text.contains("in use"),
        "{text}"
    );
    key(&mut m, KeyCode::Enter);
    let text = check(&render(&m, &dark(), 120, 50));
    assert!(text.contains("podname"), "{text}");
    key(&mut m, KeyCode::Esc);
    key(&mut m, KeyCode::Char('v'));
    check(&render(&m, &dark(), 200, 60));
}

#[test]
fn ascii_mode_draws_only_ascii() {
    let settings = Settings {
        ascii: true,
        ..alone()
    };
    let (mut m, _) = pvcs_model(settings, pvcs_incident_snapshot());
    for view in ['1', '2'] {
        key(&mut m, KeyCode::Char(view));
        for (w, h) in [(80, 24), (200, 60)] {
            let text = buffer_text(&render(&m, &dark(), w, h));
            let bad: Vec<char> = text.chars().filter(|c| !c.is_ascii()).collect();
            assert!(bad.is_empty(), "non-ASCII at {w}x{h}: {bad:?}\n{text}");
        }
    }
}

#[test]
fn a_big_table_draws_only_its_visible_rows() {
    let mut snap = pvcs_incident_snapshot();
    let template = snap.rows[4].clone();
    snap.rows = (0..20_000)
        .map(|i| {
            let mut r = template.clone();
            r.name = format!("claim-{i:05}");
            r.used = UsedSpace::unknown("not collected yet");
            r
        })
        .collect();
    let (mut m, _) = pvcs_model(alone(), snap);
    key(&mut m, KeyCode::End);
    let text = buffer_text(&render(&m, &dark(), 120, 40));
    assert!(text.contains("claim-19999"), "{text}");
    assert!(!text.contains("claim-00000"), "{text}");
}

#[test]
fn used_space_that_cannot_be_read_is_unknown_with_the_reason() {
    let mut snap = pvcs_incident_snapshot();
    let why = "forbidden: get nodes/proxy (user oncall@example.com)";
    snap.usage = ondeck::domain::pvcs::UsageStatus::Unavailable { why: why.into() };
    for r in &mut snap.rows {
        r.used = UsedSpace::unknown(why);
    }
    let (mut m, _) = pvcs_model(alone(), snap);
    let text = buffer_text(&render(&m, &dark(), 200, 60));
    assert!(
        text.contains("used space unknown: forbidden: get nodes/proxy"),
        "{text}"
    );
    let loki = text
        .lines()
        .find(|l| l.contains("loki-storage"))
        .expect("row");
    assert!(loki.contains(" ? ") && !loki.contains("KiB"), "{loki}");
    key(&mut m, KeyCode::Enter);
    let text = buffer_text(&render(&m, &dark(), 120, 50));
    assert!(
        text.contains("used       unknown: forbidden: get nodes/proxy"),
        "{text}"
    );
}

#[test]
fn sorting_by_a_column_dropped_at_80_columns_still_says_so() {
    let (mut m, _) = model();
    // DANGER, NAMESPACE, NAME, STATUS, CAPACITY: CAPACITY is not shown at 80 columns.
    for _ in 0..4 {
        key(&mut m, KeyCode::Char('s'));
    }
    let text = buffer_text(&render(&m, &dark(), 80, 24));
    assert!(text.contains("sort: CAPACITY▲"), "{text}");
    let rows = table_rows(&text);
    assert!(
        rows[0].contains("scratch"),
        "2Gi, the smallest, first: {rows:?}"
    );
    key(&mut m, KeyCode::Char('r'));
    let text = buffer_text(&render(&m, &dark(), 80, 24));
    assert!(text.contains("sort: CAPACITY▼"), "{text}");
    assert!(table_rows(&text)[0].contains("postgres"), "{text}");
}

#[test]
fn the_retargeted_marker_clears_the_pane_and_older_updates_stay_out() {
    let (mut m, t0) = model();
    let marker = |generation| SourceUpdate {
        source: SourceId::Pvcs,
        generation,
        at: t0 + Duration::from_secs(3),
        wall: wall0(),
        result: Ok(ondeck::sources::Payload::KubeRetargeted),
    };
    update(&mut m, Msg::Source(marker(5)));
    assert!(pane(&m).feed.data().is_none());
    let text = buffer_text(&render(&m, &dark(), 120, 30));
    assert!(
        text.contains("waiting for the first list of PVCs"),
        "{text}"
    );
    // An update from before the marker (the old target) is ignored; the next one is shown.
    update(
        &mut m,
        Msg::Source(pvcs_update(pvcs_incident_snapshot(), 4, t0, wall0())),
    );
    assert!(pane(&m).feed.data().is_none());
    update(
        &mut m,
        Msg::Source(pvcs_update(pvcs_incident_snapshot(), 6, t0, wall0())),
    );
    assert!(pane(&m).feed.data().is_some());
    // A pods update is not the PVC pane's.
    let pods_marker = SourceUpdate {
        source: SourceId::Pods,
        ..marker(7)
    };
    update(&mut m, Msg::Source(pods_marker));
    assert!(pane(&m).feed.data().is_some());
}
