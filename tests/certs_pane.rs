//! The certificates pane from a hand-built snapshot (the source's types, as the collectors
//! would deliver them at the fixtures' `wall0`): the timeline at 80x24 and 200x60 with the
//! danger cells' words and styles, the header meter, the detail with the chain.

use std::time::Instant;

use jiff::SignedDuration;
use ondeck::app::panes::certs::CertsPane;
use ondeck::app::{Model, Msg, Settings, update};
use ondeck::domain::certs::{CertRow, CertSource, CertsSnapshot};
use ondeck::domain::text::Clean;
use ondeck::sources::{Payload, SourceId, SourceUpdate};
use ondeck::tls::{CertFacts, ChainPosition, Outcome};
use ondeck::ui::fixtures::{buffer_text, render, wall0};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::style::Style;

const D: i64 = 86_400;

fn facts(subject: &str, issuer: &str, pos: ChainPosition, left: i64) -> CertFacts {
    let now = wall0();
    CertFacts {
        subject: Clean::new(subject),
        subject_dn: Clean::new(&format!("CN={subject}")),
        issuer: Clean::new(issuer),
        issuer_dn: Clean::new(&format!("CN={issuer}")),
        sans: vec![Clean::new(subject)],
        serial: "0a:1b".into(),
        sha256: "ab".repeat(32),
        not_before: Some(now - SignedDuration::from_secs(60 * D)),
        not_after: Some(now + SignedDuration::from_secs(left)),
        key: Clean::new("EC P-256"),
        signature_algorithm: Clean::new("ecdsa-with-SHA256"),
        is_ca: pos != ChainPosition::Leaf,
        self_issued: pos == ChainPosition::Root,
        position: pos,
    }
}

fn snapshot() -> CertsSnapshot {
    let mut rows = vec![
        CertRow::known(
            CertSource::Secret,
            Clean::new("web/frontend-tls"),
            facts(
                "shop.example.com",
                "shop.example.com",
                ChainPosition::Leaf,
                -2 * D,
            ),
        ),
        CertRow::known(
            CertSource::Secret,
            Clean::new("monitoring/grafana-tls"),
            facts(
                "grafana.example.com",
                "grafana.example.com",
                ChainPosition::Leaf,
                20 * D,
            ),
        ),
        CertRow::known(
            CertSource::Secret,
            Clean::new("logging/loki-tls"),
            facts(
                "loki.example.com",
                "loki.example.com",
                ChainPosition::Leaf,
                365 * D,
            ),
        ),
        CertRow::unknown(
            CertSource::Endpoint,
            Clean::new("10.9.9.9:443"),
            "connect 10.9.9.9:443: timed out after 3s",
        ),
        CertRow::no_certificate(
            CertSource::Kubeconfig,
            Clean::new("prod/oidc-user"),
            "no certificate (exec credential plugin)",
        ),
    ];
    let mut ep = CertRow::known(
        CertSource::Endpoint,
        Clean::new("payments.internal:443"),
        facts("payments.internal", "R11", ChainPosition::Leaf, 5 * 3600),
    );
    ep.chain
        .push(facts("R11", "Root X1", ChainPosition::Intermediate, 300 * D).into());
    ep.verify = Some(Outcome::Ok);
    ep.server_name = Some(Clean::new("payments.internal"));
    ep.name_matches = Some(true);
    ep.dependents.push(Clean::new(
        "breaks when it expires: Ingress payments/api: pay.example.com",
    ));
    rows.push(ep);
    CertsSnapshot {
        rows,
        diagnoses: vec![Clean::new(
            "your client certificate for user oncall expired on 2026-11-20 (kubectl says only 'You must be logged in to the server')",
        )],
        ..Default::default()
    }
}

fn model() -> Model {
    let settings = Settings {
        grid: vec![vec![PaneKind::Certs]],
        ..Settings::default()
    };
    let t0 = Instant::now();
    let mut m = Model::new(settings, t0, wall0());
    m.focused = PaneKind::Certs;
    update(
        &mut m,
        Msg::Source(SourceUpdate {
            source: SourceId::Certs,
            generation: 1,
            at: t0,
            wall: wall0(),
            result: Ok(Payload::new(snapshot())),
        }),
    );
    m
}

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
        "{what}: fg at ({x},{y})"
    );
    assert!(
        cell.modifier.contains(want.add_modifier),
        "{what}: modifiers {:?}",
        cell.modifier
    );
}

fn rows_in_order(text: &str, names: &[&str]) {
    let start = text
        .lines()
        .position(|l| l.contains("DANGER"))
        .expect("header");
    let ys: Vec<usize> = names
        .iter()
        .map(|n| {
            text.lines()
                .skip(start)
                .position(|l| l.contains(n))
                .unwrap_or_else(|| panic!("{n} not shown:\n{text}"))
        })
        .collect();
    assert!(
        ys.windows(2).all(|w| w[0] < w[1]),
        "order {names:?} at {ys:?}:\n{text}"
    );
}

#[test]
fn timeline_80x24_ranks_by_time_left_with_danger_words_and_styles() {
    let m = model();
    let t = Theme::builtin_dark(false);
    let buf = render(&m, &t, 80, 24);
    let text = buffer_text(&buf);
    let header = text.lines().find(|l| l.contains("DANGER")).expect("header");
    for col in ["DANGER", "LEFT", "WHERE", "SUBJECT"] {
        assert!(header.contains(col), "{col} at 80: {header}");
    }
    // Expired first, then the 5h one, the 20d warning, the unknown (a warning with no time
    // left to rank by), the OK one, the place without a certificate.
    rows_in_order(
        &text,
        &[
            "web/frontend-tls",
            "payments.internal:443",
            "monitoring/grafana",
            "10.9.9.9:443",
            "logging/loki-tls",
            "prod/oidc-user",
        ],
    );
    assert_style(
        &buf,
        find_in_row(&buf, "web/frontend-tls", "CRITICAL"),
        t.critical,
        "expired danger",
    );
    assert_style(
        &buf,
        find_in_row(&buf, "web/frontend-tls", "-2d"),
        t.critical,
        "expired LEFT",
    );
    assert_style(
        &buf,
        find_in_row(&buf, "payments.internal:443", "CRITICAL"),
        t.critical,
        "5h danger",
    );
    assert!(find_in_row(&buf, "payments.internal:443", "5h").0 > 0);
    assert_style(
        &buf,
        find_in_row(&buf, "10.9.9.9:443", "UNKNOWN"),
        t.warning,
        "unknown danger",
    );
    assert_style(
        &buf,
        find_in_row(&buf, "monitoring/grafana", "WARNING"),
        t.warning,
        "20d danger",
    );
    assert_style(
        &buf,
        find_in_row(&buf, "logging/loki-tls", "OK"),
        t.ok,
        "ok danger",
    );
    // The diagnosis in one sentence, and the header meter.
    assert!(
        text.contains("your client certificate for user oncall expired"),
        "{text}"
    );
    assert!(text.contains("Certs ✖ 2 ▲ 2 ✓ 1"), "{text}");
    assert!(
        text.contains("next expiry 5h (payments.internal:443)"),
        "{text}"
    );
    insta::assert_snapshot!("certs_80x24", text);
}

#[test]
fn timeline_200x60_shows_every_column_and_the_selected_reasons() {
    let m = model();
    let t = Theme::builtin_dark(false);
    let buf = render(&m, &t, 200, 60);
    let text = buffer_text(&buf);
    let header = text.lines().find(|l| l.contains("DANGER")).expect("header");
    for col in [
        "DANGER",
        "LEFT",
        "NOT AFTER",
        "SOURCE",
        "WHERE",
        "SUBJECT",
        "ISSUER",
    ] {
        assert!(header.contains(col), "{col} at 200: {header}");
    }
    assert_style(
        &buf,
        find_in_row(&buf, "web/frontend-tls", "CRITICAL"),
        t.critical,
        "expired danger",
    );
    assert!(
        text.contains("unknown (connect 10.") && text.contains("timed out after 3s)"),
        "{text}"
    );
    assert!(
        text.contains("no certificate (exec credential plugin)"),
        "{text}"
    );
    // The first row is selected: its reason in words under the table.
    assert!(text.contains("EXPIRED 2d ago"), "{text}");
    insta::assert_snapshot!("certs_200x60", text);
}

#[test]
fn detail_has_the_chain_the_verdict_and_the_dependents() {
    let m = model();
    let pane = m
        .pane(PaneKind::Certs)
        .and_then(|p| p.as_any().downcast_ref::<CertsPane>())
        .expect("certs pane");
    let snap = snapshot();
    let i = snap
        .rows
        .iter()
        .position(|r| r.location == "payments.internal:443")
        .expect("row");
    let t = Theme::builtin_dark(false);
    let ctx = ondeck::ui::widgets::ViewCtx {
        theme: &t,
        sym: &ondeck::ui::symbols::UNICODE,
    };
    let lines = ondeck::ui::panes::certs::detail(ctx, &snap.rows[i], &pane.verdicts[i], wall0());
    let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let all = text.join("\n");
    assert!(all.contains("EXPIRES IN 5h"), "{all}");
    assert!(
        all.contains("[leaf] payments.internal (issued by R11)"),
        "{all}"
    );
    assert!(
        all.contains("[intermediate] R11 (issued by Root X1)"),
        "{all}"
    );
    assert!(
        all.contains("verification (payments.internal): verified"),
        "{all}"
    );
    assert!(
        all.contains("Ingress payments/api: pay.example.com"),
        "{all}"
    );
    assert!(all.contains("sha256 abab"), "{all}");
}

fn text_of(m: &Model) -> String {
    buffer_text(&render(m, &Theme::builtin_dark(false), 200, 60))
}

fn source_update(generation: u64, result: Payload) -> Msg {
    Msg::Source(SourceUpdate {
        source: SourceId::Certs,
        generation,
        at: Instant::now(),
        wall: wall0(),
        result: Ok(result),
    })
}

/// `:ctx`: the old cluster's certificates (Secrets, kubeconfig, API server) leave the pane at
/// once, endpoints stay; a late snapshot of the old target is ignored; the aggregator's next
/// snapshot (old cluster parts dropped) is what shows until the new target's rows arrive.
#[test]
fn switching_context_drops_the_old_clusters_rows_and_keeps_the_endpoints() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ondeck::app::msg::Command;
    use ondeck::domain::certs::CertBatch;
    use ondeck::sources::certs::source::Aggregator;
    use ondeck::sources::kube::Retarget;

    let mut m = model();
    let old_generation = ondeck::sources::next_generation();
    let before = text_of(&m);
    assert!(
        before.contains("web/frontend-tls") && before.contains("payments.internal:443"),
        "{before}"
    );
    let mut cmds = Vec::new();
    for c in ":ctx prod-eu".chars() {
        cmds.extend(update(
            &mut m,
            Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
        ));
    }
    cmds.extend(update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    ));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Retarget(Retarget::Context(x)) if x == "prod-eu")),
        "{cmds:?}"
    );
    let after = text_of(&m);
    for gone in ["web/frontend-tls", "logging/loki-tls", "prod/oidc-user"] {
        assert!(!after.contains(gone), "{gone} still shown: {after}");
    }
    assert!(
        after.contains("payments.internal:443") && after.contains("10.9.9.9:443"),
        "endpoints stay: {after}"
    );
    // A snapshot the old target sent before the switch arrives late: ignored.
    update(
        &mut m,
        source_update(old_generation, Payload::new(snapshot())),
    );
    assert!(!text_of(&m).contains("web/frontend-tls"));
    // The console's marker: still only the endpoints.
    update(
        &mut m,
        source_update(ondeck::sources::next_generation(), Payload::KubeRetargeted),
    );
    let t = text_of(&m);
    assert!(
        !t.contains("web/frontend-tls") && t.contains("payments.internal:443"),
        "{t}"
    );
    // The aggregator: its retarget drops every cluster part and keeps endpoints and files.
    let snap = snapshot();
    let batch = |origin: CertSource| CertBatch {
        origin,
        rows: snap
            .rows
            .iter()
            .filter(|r| r.source == origin)
            .cloned()
            .collect(),
        error: None,
        at: wall0(),
        diagnoses: Vec::new(),
    };
    let mut agg = Aggregator::default();
    for o in [
        CertSource::Secret,
        CertSource::Kubeconfig,
        CertSource::Endpoint,
    ] {
        agg.batch(batch(o));
    }
    let kept = agg.retarget();
    assert!(kept.rows.iter().all(|r| r.source == CertSource::Endpoint));
    assert_eq!(kept.rows.len(), 2);
    update(
        &mut m,
        source_update(ondeck::sources::next_generation(), Payload::new(kept)),
    );
    let t = text_of(&m);
    assert!(
        !t.contains("web/frontend-tls") && t.contains("payments.internal:443"),
        "{t}"
    );
    // The new target's Secrets arrive.
    let mut new_secret = batch(CertSource::Secret);
    new_secret.rows.truncate(1);
    new_secret.rows[0].location = Clean::new("prod/api-tls");
    let snap = agg.batch(new_secret);
    update(
        &mut m,
        source_update(ondeck::sources::next_generation(), Payload::new(snap)),
    );
    let t = text_of(&m);
    assert!(
        t.contains("prod/api-tls") && t.contains("payments.internal:443"),
        "{t}"
    );
}

/// Time alone moves a certificate across its threshold while the source sends nothing (its
/// re-probe interval is an hour): the pane judges its rows again once a minute on the tick,
/// never per frame, and the alert and the meter follow.
#[test]
fn time_alone_moves_a_certificate_across_its_threshold_and_the_alert_follows() {
    let settings = Settings {
        grid: vec![vec![PaneKind::Certs]],
        ..Settings::default()
    };
    let t0 = Instant::now();
    let mut m = Model::new(settings, t0, wall0());
    m.focused = PaneKind::Certs;
    // 30 days and 30 seconds left: not yet under the 30-day warning threshold.
    let row = CertRow::known(
        CertSource::Secret,
        Clean::new("web/edge-tls"),
        facts(
            "edge.example.com",
            "edge.example.com",
            ChainPosition::Leaf,
            30 * D + 30,
        ),
    );
    update(
        &mut m,
        Msg::Source(SourceUpdate {
            source: SourceId::Certs,
            generation: 1,
            at: t0,
            wall: wall0(),
            result: Ok(Payload::new(CertsSnapshot {
                rows: vec![row],
                ..Default::default()
            })),
        }),
    );
    let cert_alerts = |m: &Model| {
        m.alerts
            .active()
            .iter()
            .filter(|a| a.key.source == SourceId::Certs)
            .map(|a| a.key.level)
            .collect::<Vec<_>>()
    };
    assert!(cert_alerts(&m).is_empty(), "{:?}", cert_alerts(&m));
    assert!(text_of(&m).contains("0 warning"), "{}", text_of(&m));
    let tick = |m: &mut Model, secs: u64| {
        update(
            m,
            Msg::Tick {
                now: t0 + std::time::Duration::from_secs(secs),
                wall: wall0() + SignedDuration::from_secs(secs as i64),
            },
        )
    };
    // Ticks within the minute judge nothing again (the threshold was crossed at +31 s).
    tick(&mut m, 40);
    assert!(cert_alerts(&m).is_empty(), "{:?}", cert_alerts(&m));
    // A minute after the last judgement: judged again, under the threshold, alerted.
    tick(&mut m, 61);
    assert_eq!(cert_alerts(&m), [ondeck::domain::Level::Warning]);
    let text = text_of(&m);
    assert!(text.contains("1 warning"), "{text}");
    assert!(text.contains("next expiry 29d"), "{text}");
}
