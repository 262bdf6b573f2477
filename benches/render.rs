//! Rendering cost: the sockets pane with 10,000 rows at 200x60 into a TestBackend (draw
//! includes ratatui's buffer diff), and one filter keystroke (update: re-filter + re-sort of
//! 10,000 rows, then a draw); the same for 10,000 PVCs and 20,000 pods (the filter searches the
//! table's cached lower-case text, the sort its cached keys).

use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ondeck::app::{Model, Msg, Settings, update};
use ondeck::ui::fixtures::{
    big_snapshot, pods_big_snapshot, pods_update, pods_wall, pvcs_big_snapshot, pvcs_update,
    sockets_update, wall0,
};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn model_with_10k_rows() -> Model {
    let settings = Settings {
        grid: vec![vec![PaneKind::Sockets]],
        ..Settings::default()
    };
    let t0 = Instant::now();
    let mut m = Model::new(settings, t0, wall0());
    update(&mut m, Msg::Resize(200, 60));
    update(
        &mut m,
        Msg::Source(sockets_update(big_snapshot(10_000), 1, t0, wall0())),
    );
    // CLOSE_WAIT by peer: 10,000 rows.
    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('2'), KeyModifiers::NONE)),
    );
    m
}

fn key(m: &mut Model, code: KeyCode) {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn bench(c: &mut Criterion) {
    let theme = Theme::builtin_dark(false);
    let mut term = match Terminal::new(TestBackend::new(200, 60)) {
        Ok(t) => t,
        Err(e) => match e {},
    };

    let mut m = model_with_10k_rows();
    assert_eq!(m.sockets().unwrap().table().order.len(), 10_000);
    c.bench_function("render sockets pane 10k rows 200x60", |b| {
        b.iter(|| {
            // Move the selection so every frame has something to diff.
            key(&mut m, KeyCode::Char('j'));
            let _ = term.draw(|f| ui::view(&m, &theme, f));
        })
    });

    let mut m = model_with_10k_rows();
    key(&mut m, KeyCode::Char('/'));
    key(&mut m, KeyCode::Char('1'));
    c.bench_function("filter keystroke update+render 10k rows", |b| {
        // One iteration = one keystroke that narrows the filter and one that widens it again,
        // each followed by a draw; the report is per pair.
        b.iter(|| {
            key(&mut m, KeyCode::Char('0'));
            let _ = term.draw(|f| ui::view(&m, &theme, f));
            key(&mut m, KeyCode::Backspace);
            let _ = term.draw(|f| ui::view(&m, &theme, f));
        })
    });
}

/// The PVCs pane with 10,000 claims at 200x60: a frame after a selection move, and a filter
/// keystroke (re-filter + re-sort of the claims table, then a draw).
fn bench_pvcs(c: &mut Criterion) {
    let theme = Theme::builtin_dark(false);
    let mut term = match Terminal::new(TestBackend::new(200, 60)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    let model = || {
        let settings = Settings {
            grid: vec![vec![PaneKind::Pvcs]],
            ..Settings::default()
        };
        let t0 = Instant::now();
        let mut m = Model::new(settings, t0, wall0());
        m.focused = PaneKind::Pvcs;
        update(&mut m, Msg::Resize(200, 60));
        update(
            &mut m,
            Msg::Source(pvcs_update(pvcs_big_snapshot(10_000), 1, t0, wall0())),
        );
        m
    };
    let mut m = model();
    c.bench_function("render pvcs pane 10k rows 200x60", |b| {
        b.iter(|| {
            key(&mut m, KeyCode::Char('j'));
            let _ = term.draw(|f| ui::view(&m, &theme, f));
        })
    });
    let mut m = model();
    key(&mut m, KeyCode::Char('/'));
    key(&mut m, KeyCode::Char('1'));
    c.bench_function("pvcs filter keystroke update+render 10k rows", |b| {
        b.iter(|| {
            key(&mut m, KeyCode::Char('0'));
            let _ = term.draw(|f| ui::view(&m, &theme, f));
            key(&mut m, KeyCode::Backspace);
            let _ = term.draw(|f| ui::view(&m, &theme, f));
        })
    });
}

/// The pods pane with 20,000 pods at 200x60: a frame after a selection move, a filter
/// keystroke (re-filter + re-sort, then a draw) and a sort change (cached keys per column).
fn bench_pods(c: &mut Criterion) {
    let theme = Theme::builtin_dark(false);
    let mut term = match Terminal::new(TestBackend::new(200, 60)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    let model = || {
        let settings = Settings {
            grid: vec![vec![PaneKind::Pods]],
            ..Settings::default()
        };
        let t0 = Instant::now();
        let mut m = Model::new(settings, t0, pods_wall());
        m.focused = PaneKind::Pods;
        update(&mut m, Msg::Resize(200, 60));
        update(
            &mut m,
            Msg::Source(pods_update(pods_big_snapshot(20_000), 1, t0, pods_wall())),
        );
        // 20,000 pods raise ~30,000 alerts; folding them per frame (the header and the alerts
        // pane) is the alert book's cost, not the table's: measured without them here.
        m.alerts = ondeck::rules::AlertBook::new(16);
        m
    };
    let mut m = model();
    c.bench_function("render pods pane 20k rows 200x60", |b| {
        b.iter(|| {
            key(&mut m, KeyCode::Char('j'));
            let _ = term.draw(|f| ui::view(&m, &theme, f));
        })
    });
    let mut m = model();
    key(&mut m, KeyCode::Char('/'));
    key(&mut m, KeyCode::Char('1'));
    c.bench_function("pods filter keystroke update+render 20k rows", |b| {
        b.iter(|| {
            key(&mut m, KeyCode::Char('0'));
            let _ = term.draw(|f| ui::view(&m, &theme, f));
            key(&mut m, KeyCode::Backspace);
            let _ = term.draw(|f| ui::view(&m, &theme, f));
        })
    });
    // The same keystroke with the 20k pods' alerts kept (grouped in the alert book, folded
    // once per change): a keystroke changes no alert, so it costs no fold or sort of them.
    let mut m = {
        let settings = Settings {
            grid: vec![vec![PaneKind::Pods]],
            ..Settings::default()
        };
        let t0 = Instant::now();
        let mut m = Model::new(settings, t0, pods_wall());
        m.focused = PaneKind::Pods;
        update(&mut m, Msg::Resize(200, 60));
        update(
            &mut m,
            Msg::Source(pods_update(pods_big_snapshot(20_000), 1, t0, pods_wall())),
        );
        m
    };
    key(&mut m, KeyCode::Char('/'));
    key(&mut m, KeyCode::Char('1'));
    c.bench_function(
        "pods filter keystroke update+render 20k rows with their alerts",
        |b| {
            b.iter(|| {
                key(&mut m, KeyCode::Char('0'));
                let _ = term.draw(|f| ui::view(&m, &theme, f));
                key(&mut m, KeyCode::Backspace);
                let _ = term.draw(|f| ui::view(&m, &theme, f));
            })
        },
    );
    // An idle tick: the clock moves, nothing changed; one frame.
    let mut now = Instant::now();
    c.bench_function("idle tick + frame 20k pods with their alerts", |b| {
        b.iter(|| {
            now += std::time::Duration::from_secs(1);
            update(
                &mut m,
                Msg::Tick {
                    now,
                    wall: pods_wall(),
                },
            );
            let _ = term.draw(|f| ui::view(&m, &theme, f));
        })
    });
    let mut m = model();
    c.bench_function("pods sort change update+render 20k rows", |b| {
        b.iter(|| {
            // F6-style next sort column, then a draw.
            key(&mut m, KeyCode::Char('>'));
            let _ = term.draw(|f| ui::view(&m, &theme, f));
        })
    });
}

criterion_group!(benches, bench, bench_pvcs, bench_pods);
criterion_main!(benches);
