//! Alert cost with many subjects (issue 9): folding 5,000 alerts into groups once per change of
//! the book (an evaluation that changes something), an evaluation that changes nothing, and a
//! frame of the alerts pane and header at 200x60 (which reads the folded groups: its cost does
//! not grow with the number of alerts).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use ondeck::app::{Model, Msg, Settings, update};
use ondeck::config::{Comparison, ThresholdRule};
use ondeck::domain::Level;
use ondeck::rules::{AlertBook, Condition, Shown};
use ondeck::sources::SourceId;
use ondeck::ui::fixtures::{sockets_update, wall0};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// `n` OOM-killed pods over 50 namespaces, plus `extra` more of another rule.
fn storm(n: usize, extra: usize) -> Vec<Condition> {
    let rule = ThresholdRule::new(Level::Critical, Comparison::AtMost, 3600.0, 0);
    let warn = ThresholdRule::new(Level::Warning, Comparison::Above, 0.0, 0);
    let wall = wall0();
    (0..n)
        .map(|i| {
            let s = format!("team-{:02}/api-{i:05}", i % 50);
            Condition::check(
                SourceId::Pods,
                "pod_oom_killed",
                s.clone(),
                &rule,
                120.0,
                format!("{s}: OOMKilled 2m ago"),
            )
            .shown(Shown::Ago {
                what: "OOMKilled".into(),
                at: wall,
            })
        })
        .chain((0..extra).map(|i| {
            let s = format!("team-{:02}/web-{i:05}", i % 50);
            Condition::check(
                SourceId::Pods,
                "pod_not_ready",
                s.clone(),
                &warn,
                300.0,
                format!("{s}: not Ready"),
            )
        }))
        .collect()
}

fn bench(c: &mut Criterion) {
    let t0 = Instant::now();
    let a = storm(5000, 0);
    let b = storm(5000, 1);
    let mut book = AlertBook::new(500);
    let mut flip = false;
    c.bench_function(
        "alert book: 5,000 alerts, evaluation that changes a group (refold)",
        |x| {
            x.iter(|| {
                flip = !flip;
                let conds = if flip { &a } else { &b };
                book.observe_changes(SourceId::Pods, conds, t0, wall0())
            })
        },
    );
    let mut book = AlertBook::new(500);
    book.observe(SourceId::Pods, &a, t0, wall0());
    c.bench_function(
        "alert book: 5,000 alerts, evaluation that changes nothing",
        |x| x.iter(|| book.observe_changes(SourceId::Pods, &a, t0, wall0())),
    );

    // A frame with 5,000 alerts active: header and alerts pane.
    let settings = Settings {
        grid: vec![vec![PaneKind::Alerts]],
        ..Settings::default()
    };
    let mut m = Model::new(settings, t0, wall0());
    update(&mut m, Msg::Resize(200, 60));
    m.alerts
        .observe(SourceId::Pods, &storm(5000, 300), t0, wall0());
    // A source update lets the panes rebuild from the changed book, as `update` does.
    update(
        &mut m,
        Msg::Source(sockets_update(
            ondeck::ui::fixtures::incident_snapshot(),
            1,
            t0,
            wall0(),
        )),
    );
    m.focused = PaneKind::Alerts;
    assert!(m.alerts.summary().shown >= 5300);
    let theme = Theme::builtin_dark(false);
    let mut term = match Terminal::new(TestBackend::new(200, 60)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    let mut tick = 0u64;
    c.bench_function("frame: alerts pane + header, 5,300 alerts, 200x60", |x| {
        x.iter(|| {
            tick += 1;
            update(
                &mut m,
                Msg::Tick {
                    now: t0 + Duration::from_secs(tick),
                    wall: wall0(),
                },
            );
            let _ = term.draw(|f| ui::view(&m, &theme, f));
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
