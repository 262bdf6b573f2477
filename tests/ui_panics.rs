//! Issue 10, panics contained: a source task that panics becomes that source's error in its
//! pane, through the same channel and `update` the console uses; the model keeps running (keys
//! work, the other panes and the next data are taken). The real binary in a pty with the
//! test-only fault is `pty_smoke::a_panicking_source_keeps_the_tui_running`.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ondeck::app::model::Overlay;
use ondeck::app::{Msg, Settings, update};
use ondeck::sources::SourceId;
use ondeck::sources::supervise;
use ondeck::ui::fixtures::{buffer_text, incident_snapshot, render, sockets_update, wall0};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::theme::Theme;

fn alone(kind: PaneKind) -> Settings {
    Settings {
        grid: vec![vec![kind]],
        ..Settings::default()
    }
}

#[tokio::test]
async fn a_panicking_source_shows_its_error_and_the_ui_keeps_running() {
    // A model fed by the sockets source as it numbers its updates (the process-wide counter).
    let now = std::time::Instant::now();
    let mut m = ondeck::app::Model::new(alone(PaneKind::Sockets), now, wall0());
    update(
        &mut m,
        Msg::Source(sockets_update(
            incident_snapshot(),
            ondeck::sources::next_generation(),
            now,
            wall0(),
        )),
    );
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    // A source whose task panics: a configured duration that overflows `Instant` arithmetic
    // (the report's case).
    let configured = std::hint::black_box(Duration::MAX);
    let task = supervise::spawn(SourceId::Sockets, tx.clone(), async move {
        let deadline = std::time::Instant::now() + configured;
        std::hint::black_box(deadline);
    });
    let u = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("the panic is reported before the deadline")
        .expect("an update");
    assert!(task.await.is_ok(), "caught inside the task");
    assert_eq!(u.source, SourceId::Sockets);
    update(&mut m, Msg::Source(u));

    // The pane says so, whole (wrapped in its error strip), next to the last good data.
    let pane = m.pane(PaneKind::Sockets).expect("sockets pane");
    let err = pane.last_error().expect("the source's error").to_string();
    assert!(err.contains("panicked"), "{err}");
    assert!(err.contains("overflow"), "{err}");
    let t = Theme::builtin_dark(false);
    let text = buffer_text(&render(&m, &t, 80, 24));
    assert!(text.contains("panicked"), "{text}");
    assert!(text.contains("error (above)"), "{text}");
    assert!(text.contains("java"), "the last good rows stay: {text}");

    // The UI keeps running: keys answer, and data sent after the report is taken again.
    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::NONE)),
    );
    assert!(matches!(m.overlay, Some(Overlay::Help)));
    update(
        &mut m,
        Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    let next = ondeck::sources::next_generation();
    let wall = m.wall;
    update(
        &mut m,
        Msg::Source(sockets_update(incident_snapshot(), next, now, wall)),
    );
    let pane = m.pane(PaneKind::Sockets).expect("sockets pane");
    assert!(pane.last_error().is_none(), "fresh data clears the error");
}
