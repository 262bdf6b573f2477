//! Work follows change in the model: a heartbeat (`Payload::Unchanged`) only moves a feed's
//! age and asks for no redraw; new data does; a batch of queued snapshots is applied once per
//! source (the runtime's drain keeps the latest per source).

use std::time::Duration;

use ondeck::app::feed::{Freshness, latest_per_source};
use ondeck::app::{Msg, Settings, update};
use ondeck::sources::{Payload, SourceId, SourceUpdate};
use ondeck::ui::fixtures::{pvcs_incident_snapshot, pvcs_model, pvcs_update, wall0};

#[test]
fn a_heartbeat_moves_the_age_and_asks_for_no_redraw() {
    let (mut m, t0) = pvcs_model(Settings::default(), pvcs_incident_snapshot());
    let t1 = t0 + Duration::from_secs(10);
    // As after a draw.
    m.dirty = false;
    m.urgent = false;
    let cmds = update(
        &mut m,
        Msg::Source(SourceUpdate {
            source: SourceId::Pvcs,
            generation: 2,
            at: t1,
            wall: wall0(),
            result: Ok(Payload::Unchanged),
        }),
    );
    assert!(cmds.is_empty());
    assert!(!m.dirty, "nothing visible changed");
    assert_eq!(
        m.freshness(SourceId::Pvcs),
        Some(Freshness::Fresh {
            age: Duration::ZERO
        }),
        "the data is as current as the heartbeat"
    );
    // Real data asks for a redraw, with the next second's frame: not at once.
    update(
        &mut m,
        Msg::Source(pvcs_update(pvcs_incident_snapshot(), 3, t1, wall0())),
    );
    assert!(m.dirty);
    assert!(!m.urgent, "new data waits for the frame of the second");
}

/// What the user does is drawn at once, and so is a source's first report (the first full
/// pane is not kept waiting for the next tick); later data and the clock are not urgent.
#[test]
fn keys_and_first_reports_are_drawn_at_once_data_and_the_clock_with_the_second() {
    let t0 = std::time::Instant::now();
    let mut m = ondeck::app::Model::new(Settings::default(), t0, wall0());
    m.dirty = false;
    m.urgent = false;
    update(
        &mut m,
        Msg::Source(pvcs_update(pvcs_incident_snapshot(), 2, t0, wall0())),
    );
    assert!(m.dirty && m.urgent, "a source's first report");
    m.dirty = false;
    m.urgent = false;
    update(
        &mut m,
        Msg::Source(pvcs_update(pvcs_incident_snapshot(), 3, t0, wall0())),
    );
    assert!(m.dirty && !m.urgent, "later data");
    m.urgent = false;
    update(
        &mut m,
        Msg::Tick {
            now: t0 + Duration::from_secs(1),
            wall: wall0(),
        },
    );
    assert!(m.dirty && !m.urgent, "the clock");
    update(
        &mut m,
        Msg::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Down,
            crossterm::event::KeyModifiers::NONE,
        )),
    );
    assert!(m.urgent, "a key");
}

#[test]
fn a_burst_of_snapshots_is_applied_once_per_source() {
    let (_, t0) = pvcs_model(Settings::default(), pvcs_incident_snapshot());
    let burst: Vec<SourceUpdate> = (10..74)
        .map(|g| pvcs_update(pvcs_incident_snapshot(), g, t0, wall0()))
        .collect();
    let kept = latest_per_source(burst);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].generation, 73);
}
