//! The probes pane from a hand-built snapshot (the types the probes source sends): 80x24 and
//! 200x60 snapshots, the styles of the cells that carry danger (snapshots do not record
//! colour), PENDING `1/3`, the phase bar, the detail with every phase, and "not configured".

use std::time::{Duration, Instant};

use ondeck::app::{Model, Msg, Settings, update};
use ondeck::domain::Level;
use ondeck::domain::probes::{
    Attempt, Phase, ProbeRow, ProbesSnapshot, Stats, Timings, TlsFacts, Verdict,
};
use ondeck::domain::text::Clean;
use ondeck::sources::{Payload, SourceError, SourceId, SourceUpdate};
use ondeck::ui::fixtures::{buffer_text, render, wall0};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::style::Style;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn ago(secs: i64) -> jiff::Timestamp {
    wall0() - jiff::SignedDuration::from_secs(secs)
}

fn attempt(ok: bool, code: Option<u16>, failed: Option<Phase>, error: Option<&str>) -> Attempt {
    Attempt {
        at: ago(5),
        ok,
        status_code: code,
        failed,
        error: error.map(Clean::new),
        timings: Timings {
            dns: Some(ms(1)),
            connect: Some(ms(3)),
            tls: None,
            headers: Some(ms(8)),
            transfer: Some(ms(1)),
            total: ms(13),
        },
        peer: Some("10.0.0.7:8443".parse().expect("addr")),
        tls: None,
        header_bytes: Some(120),
        body_bytes: 3,
        reused: false,
    }
}

fn row(name: &str, level: Level, pending: Option<(u32, u32)>, last: Attempt) -> ProbeRow {
    ProbeRow {
        name: Clean::new(name),
        url: Clean::new(&format!("https://{name}.internal:8443/healthz")),
        slo_p99: Some(ms(300)),
        slo_for: Duration::from_secs(300),
        stats: Stats {
            p50: Some(ms(12)),
            p99: Some(ms(40)),
            attempts: 360,
            ok: 360,
        },
        consecutive_failures: 0,
        verdict: Verdict {
            level,
            pending,
            slo_breached_for: None,
            reasons: Vec::new(),
        },
        recent: vec![last],
        spark: vec![Some(ms(12)), Some(ms(14)), None, Some(ms(40))],
        since: Some(ago(3600)),
    }
}

/// Four probes: one failing its TLS handshake (critical), one over its SLO (warning), one
/// refused once (PENDING 1/3), one healthy.
fn snapshot() -> ProbesSnapshot {
    let mut tls = attempt(
        false,
        None,
        Some(Phase::Tls),
        Some("TLS handshake timed out after 2s (connect took 3 ms)"),
    );
    tls.timings = Timings {
        dns: Some(ms(1)),
        connect: Some(ms(3)),
        tls: Some(ms(2000)),
        headers: None,
        transfer: None,
        total: ms(2004),
    };
    let mut payments = row("payments-api", Level::Critical, None, tls);
    payments.consecutive_failures = 3;
    payments.verdict.reasons = vec![Clean::new(
        "3 consecutive failures: TLS handshake timed out after 2s (connect took 3 ms)",
    )];
    payments.stats.ok = 300;
    payments.since = Some(ago(95));

    let mut slow_attempt = attempt(true, Some(200), None, None);
    slow_attempt.timings.headers = Some(ms(2100));
    slow_attempt.timings.total = ms(2105);
    let mut orders = row("orders-db-health", Level::Warning, None, slow_attempt);
    orders.stats.p50 = Some(ms(900));
    orders.stats.p99 = Some(ms(2100));
    orders.verdict.reasons = vec![Clean::new("p99 2.1s over its SLO 300ms for 6m")];

    let mut search = row(
        "search",
        Level::Ok,
        Some((1, 3)),
        attempt(false, None, Some(Phase::Connect), Some("connect refused")),
    );
    search.consecutive_failures = 1;

    let mut ok = attempt(true, Some(200), None, None);
    ok.tls = Some(TlsFacts {
        version: Some("TLSv1.3"),
        subject: Some(Clean::new("static.internal")),
        not_after: Some(wall0() + jiff::SignedDuration::from_hours(24 * 40)),
        ..Default::default()
    });
    let site = row("static-site", Level::Ok, None, ok);
    ProbesSnapshot {
        rows: vec![site, search, orders, payments],
        at: Some(wall0()),
        audit: None,
    }
}

fn model(result: Result<ProbesSnapshot, SourceError>) -> Model {
    let t0 = Instant::now();
    let settings = Settings {
        grid: vec![vec![PaneKind::Probes]],
        ..Settings::default()
    };
    let mut m = Model::new(settings, t0, wall0());
    m.focused = PaneKind::Probes;
    update(
        &mut m,
        Msg::Source(SourceUpdate {
            source: SourceId::Probes,
            generation: 1,
            at: t0,
            wall: wall0(),
            result: result.map(Payload::new),
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

/// Like [`find_in_row`], the last occurrence (P99 comes after LAST).
fn find_last_in_row(buf: &Buffer, row: &str, word: &str) -> (u16, u16) {
    let text = buffer_text(buf);
    for (y, line) in text.lines().enumerate() {
        if line.contains(row)
            && let Some(byte) = line.rfind(word)
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

#[test]
fn probes_80x24_rank_danger_and_name_the_failing_phase() {
    let m = model(Ok(snapshot()));
    let t = Theme::builtin_dark(false);
    let buf = render(&m, &t, 80, 24);
    let text = buffer_text(&buf);
    let header = text.lines().find(|l| l.contains("DANGER")).expect("header");
    for col in [
        "DANGER", "NAME", "STATUS", "LAST", "P99", "SLO", "PHASES", "OK%",
    ] {
        assert!(header.contains(col), "{col} at 80 columns: {header}");
    }
    // Loudest first.
    let order: Vec<usize> = ["payments-api", "orders-db-health", "search", "static-site"]
        .iter()
        .map(|n| text.find(n).expect(n))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    // The failing phase in STATUS, loud.
    assert_style(
        &buf,
        find_in_row(&buf, "payments-api", "CRITICAL"),
        t.critical,
        "payments danger",
    );
    assert_style(
        &buf,
        find_in_row(&buf, "payments-api", "tls"),
        t.critical,
        "payments status",
    );
    assert_style(
        &buf,
        find_in_row(&buf, "orders-db-health", "WARNING"),
        t.warning,
        "orders danger",
    );
    assert_style(
        &buf,
        find_last_in_row(&buf, "orders-db-health", "2.1s"),
        t.warning,
        "orders p99",
    );
    // PENDING with its count.
    assert!(text.contains("PENDING 1/3"), "{text}");
    assert_style(
        &buf,
        find_in_row(&buf, "search", "PENDING"),
        t.pending,
        "search pending",
    );
    assert_style(
        &buf,
        find_in_row(&buf, "static-site", "OK"),
        t.ok,
        "site ok",
    );
    insta::assert_snapshot!("probes_80x24", text);
}

#[test]
fn probes_200x60_show_every_column_and_the_detail() {
    let m = model(Ok(snapshot()));
    let t = Theme::builtin_dark(false);
    let buf = render(&m, &t, 200, 60);
    let text = buffer_text(&buf);
    let header = text.lines().find(|l| l.contains("DANGER")).expect("header");
    for col in ["P50", "SINCE"] {
        assert!(header.contains(col), "{col} at 200 columns: {header}");
    }
    // The selected row (the first, payments-api) in the detail with every phase.
    assert!(
        text.contains("TLS handshake timed out after 2s (connect took 3 ms)"),
        "{text}"
    );
    assert!(
        text.contains("dns 1.0ms connect 3.0ms tls 2.0s headers - transfer -"),
        "{text}"
    );
    assert!(text.contains("peer 10.0.0.7:8443"), "{text}");
    // The phase bar ends in the failure mark, critical.
    assert_style(
        &buf,
        find_in_row(&buf, "payments-api", "✖ "),
        t.critical,
        "payments danger glyph",
    );
    assert_style(
        &buf,
        find_in_row(&buf, "payments-api", "▓✖"),
        t.accent,
        "payments tls segment",
    );
    insta::assert_snapshot!("probes_200x60", text);
}

#[test]
fn without_probes_the_pane_says_how_to_add_them() {
    let m = model(Err(SourceError::NotConfigured(
        "no [[probes]] in the config file".into(),
    )));
    let t = Theme::builtin_dark(false);
    let text = buffer_text(&render(&m, &t, 80, 24));
    assert!(text.contains("HTTP probes not configured"), "{text}");
    assert!(text.contains("not configured"), "{text}");
}

fn audit_row(
    pod: &str,
    p99: Option<Duration>,
    finding: Option<&str>,
    unmeasured: Option<&str>,
) -> ondeck::domain::probes::AuditRow {
    ondeck::domain::probes::AuditRow {
        namespace: Clean::new("shop"),
        pod: Clean::new(pod),
        container: Clean::new("app"),
        kind: "readiness",
        port: 8080,
        path: Clean::new("/healthz"),
        timeout: Duration::from_secs(1),
        period: Duration::from_secs(10),
        failure_threshold: 3,
        stats: Stats {
            p50: p99.map(|p| p / 2),
            p99,
            attempts: if p99.is_some() { 3 } else { 0 },
            ok: if p99.is_some() { 3 } else { 0 },
        },
        unmeasured: unmeasured.map(Clean::new),
        level: if finding.is_some() {
            Level::Warning
        } else {
            Level::Ok
        },
        finding: finding.map(Clean::new),
        events: if finding.is_some() {
            vec![Clean::new(
                "Readiness probe failed: Get \"http://10.0.0.9:8080/healthz\": context deadline exceeded",
            )]
        } else {
            Vec::new()
        },
    }
}

/// The Kubernetes audit in the pane: its rows rank with the probes (a finding is a warning,
/// an unmeasured probe is unknown, never OK), the strip under the table says the finding in
/// full at 80x24, and the detail of an audit row shows its configuration and events.
#[test]
fn the_kubernetes_audit_shows_its_finding_and_never_calls_the_unmeasured_ok() {
    let mut snap = snapshot();
    snap.audit = Some(ondeck::domain::probes::AuditSnapshot {
        rows: vec![
            audit_row("web-fast", Some(ms(12)), None, None),
            audit_row(
                "db-slow",
                Some(ms(2100)),
                Some(
                    "readiness timeout 1s is below this endpoint's p99 2.1s: pods will flap under load",
                ),
                None,
            ),
            audit_row(
                "locked",
                None,
                None,
                Some(
                    "not measured: the pod proxy is forbidden (pods \"locked\" is forbidden); configuration only",
                ),
            ),
        ],
        error: None,
        scope: Some(Clean::new("context prod, namespace shop")),
        at: Some(wall0()),
    });
    let m = model(Ok(snap));
    let t = Theme::builtin_dark(false);
    let buf = render(&m, &t, 80, 24);
    let text = buffer_text(&buf);
    let flat: String = text
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        flat.contains("k8s probe audit (context prod, namespace shop): 3 HTTP probes, 1 timeout below p99, 1 not measured"),
        "{text}"
    );
    assert!(
        flat.contains("shop/db-slow: readiness timeout 1s is below this endpoint's p99 2.1s: pods will flap under load"),
        "{text}"
    );
    // The finding's row: a warning, after the critical probe and before the OK ones.
    let slow = text.find("shop/db-slow").expect("audit row");
    assert!(
        text.find("payments-api").expect("critical") < slow,
        "{text}"
    );
    assert!(slow < text.find("static-site").expect("ok probe"), "{text}");
    assert_style(
        &buf,
        find_in_row(&buf, "shop/db-slow", "WARNING"),
        t.warning,
        "finding danger",
    );
    assert_style(
        &buf,
        find_in_row(&buf, "shop/db-slow", "p99>timeout"),
        t.warning,
        "finding words",
    );
    // Forbidden: unknown with the reason in few words, never OK.
    let locked = text
        .lines()
        .find(|l| l.contains("shop/locked"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        locked.contains("? UNKNOWN") && locked.contains("forbidden") && !locked.contains("OK"),
        "{locked}"
    );
    // The detail of the audit row (a tall pane, the row selected by its position).
    let big = render(&m, &t, 200, 60);
    assert!(buffer_text(&big).contains("shop/web-fast"));
    let pane = m.pane(PaneKind::Probes).expect("probes pane");
    let ctx = ondeck::ui::widgets::ViewCtx {
        theme: &t,
        sym: &ondeck::ui::symbols::UNICODE,
    };
    let snap = pane
        .as_any()
        .downcast_ref::<ondeck::app::panes::probes::ProbesPane>()
        .and_then(|p| p.feed.data())
        .expect("data");
    let row = snap
        .audit
        .as_ref()
        .and_then(|a| a.rows.get(1))
        .expect("db-slow");
    let lines: Vec<String> = ondeck::ui::panes::probes::audit_detail(row, ctx)
        .iter()
        .map(|l| l.to_string())
        .collect();
    let detail = lines.join("\n");
    for want in [
        "readiness timeout 1s is below this endpoint's p99 2.1s",
        "timeoutSeconds 1  periodSeconds 10  failureThreshold 3",
        "through the pod proxy: p50 1.1s  p99 2.1s  3 of 3 answered",
        "event: Readiness probe failed: ",
    ] {
        assert!(detail.contains(want), "{want}: {detail}");
    }
}
