//! The header never says "none firing" in green over data it does not have: a source that is
//! STALE, never answered or failing makes it say which; a Kubernetes source that fails every
//! 500 ms goes STALE after three intervals or the request deadline, like one that stopped. The
//! app model is driven with injected `Instant`s (no sleeps).

use std::time::{Duration, Instant};

use ondeck::app::feed::Freshness;
use ondeck::app::{Model, Msg, Settings, update};
use ondeck::sources::{SourceError, SourceId, SourceUpdate};
use ondeck::ui::fixtures::{pods_snapshot, pods_update, sockets_update, wall0};
use ondeck::ui::header::{Blind, blind_sources};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::theme::Theme;

fn theme() -> Theme {
    Theme::builtin_dark(false)
}

fn healthy_sockets() -> ondeck::domain::sockets::SocketSnapshot {
    ondeck::domain::sockets::SocketSnapshot::default()
}

fn tick(m: &mut Model, now: Instant) {
    update(m, Msg::Tick { now, wall: wall0() });
}

fn err(source: SourceId, generation: u64, at: Instant, e: SourceError) -> SourceUpdate {
    SourceUpdate {
        source,
        generation,
        at,
        wall: wall0(),
        result: Err(e),
    }
}

/// The header's alerts segment: its text and whether it is drawn in the OK colour.
fn alerts_segment(m: &Model) -> (String, bool) {
    let theme = theme();
    let ctx = ondeck::ui::widgets::ViewCtx {
        theme: &theme,
        sym: ondeck::ui::symbols::Symbols::for_mode(false),
    };
    for width in [200u16, 80] {
        let lines = ondeck::ui::header::lines(m, ctx, width);
        for l in &lines {
            let spans: Vec<_> = l.spans.iter().collect();
            if let Some(i) = spans.iter().position(|s| s.content.as_ref() == "Alerts ") {
                let next = spans[i + 1];
                if width == 200 {
                    return (next.content.to_string(), next.style == theme.ok);
                }
            }
        }
    }
    panic!("no Alerts segment in the header");
}

fn model(refresh: Duration, request_timeout: Duration) -> (Model, Instant) {
    let t0 = Instant::now();
    let settings = Settings {
        refresh,
        request_timeout,
        ..Settings::default()
    };
    (Model::new(settings, t0, wall0()), t0)
}

/// No cluster configured: the Kubernetes panes say so and do not count.
fn no_cluster(m: &mut Model, at: Instant) {
    for (i, s) in [SourceId::Pods, SourceId::Pvcs].into_iter().enumerate() {
        update(
            m,
            Msg::Source(err(
                s,
                1 + i as u64,
                at,
                SourceError::NotConfigured("no kubeconfig".into()),
            )),
        );
    }
}

#[test]
fn green_only_when_every_configured_source_is_fresh() {
    let secs = Duration::from_secs;
    let (mut m, t0) = model(secs(1), secs(10));
    // Nothing has answered yet: waiting, not green.
    let (text, green) = alerts_segment(&m);
    assert!(!green, "{text}");
    assert!(
        text.contains("waiting for") && text.contains("sockets"),
        "{text}"
    );
    no_cluster(&mut m, t0);
    update(
        &mut m,
        Msg::Source(sockets_update(healthy_sockets(), 3, t0, wall0())),
    );
    tick(&mut m, t0 + secs(1));
    let (text, green) = alerts_segment(&m);
    assert!(green, "every configured source fresh: {text}");
    assert!(text.contains("OK none firing"), "{text}");
    // The sockets source stops: STALE after three intervals, and the header says which.
    tick(&mut m, t0 + secs(4));
    let (text, green) = alerts_segment(&m);
    assert!(!green, "{text}");
    assert_eq!(text, "? UNKNOWN: sockets STALE");
    assert_eq!(
        blind_sources(&m),
        Blind {
            blind: vec!["sockets STALE".into()],
            waiting: vec![],
        }
    );
}

#[test]
fn a_source_that_fails_every_half_second_is_failing_then_stale_never_loading() {
    let secs = Duration::from_secs;
    // 1 s refresh, 10 s request deadline: no data is STALE after 10 s.
    let (mut m, t0) = model(secs(1), secs(10));
    update(
        &mut m,
        Msg::Source(sockets_update(healthy_sockets(), 1, t0, wall0())),
    );
    let mut generation = 10;
    let mut t = t0;
    while t <= t0 + secs(12) {
        // Refused, retried every 500 ms (the sockets source keeps answering).
        generation += 1;
        for s in [SourceId::Pods, SourceId::Pvcs] {
            update(
                &mut m,
                Msg::Source(err(
                    s,
                    generation,
                    t,
                    SourceError::Unreachable("connection refused".into()),
                )),
            );
        }
        generation += 1;
        update(
            &mut m,
            Msg::Source(sockets_update(healthy_sockets(), generation, t, wall0())),
        );
        tick(&mut m, t);
        let waited = t.saturating_duration_since(t0);
        let pods = m
            .panes
            .iter()
            .find(|p| p.kind() == PaneKind::Pods)
            .and_then(|p| p.freshness(t))
            .expect("pods pane");
        let (text, green) = alerts_segment(&m);
        assert!(!green, "at {waited:?}: {text}");
        if waited > secs(10) {
            assert_eq!(pods, Freshness::NeverLoaded { waited }, "at {waited:?}");
            assert_eq!(
                text, "? UNKNOWN: pods no data, pvc no data",
                "at {waited:?}"
            );
        } else {
            assert_eq!(pods, Freshness::Loading, "at {waited:?}");
            assert_eq!(
                text, "? UNKNOWN: pods failing, pvc failing",
                "at {waited:?}"
            );
        }
        t += Duration::from_millis(500);
    }
}

#[test]
fn firing_alerts_still_name_the_blind_sources_and_the_meter_names_the_scope() {
    let secs = Duration::from_secs;
    let (mut m, t0) = model(secs(1), secs(2));
    update(
        &mut m,
        Msg::Source(sockets_update(healthy_sockets(), 1, t0, wall0())),
    );
    update(
        &mut m,
        Msg::Source(pods_update(pods_snapshot(), 2, t0, wall0())),
    );
    update(
        &mut m,
        Msg::Source(err(
            SourceId::Pvcs,
            3,
            t0,
            SourceError::Forbidden("list persistentvolumeclaims".into()),
        )),
    );
    tick(&mut m, t0 + secs(1));
    let (text, green) = alerts_segment(&m);
    assert!(!green);
    assert!(text.contains("CRITICAL"), "the pods fixture fires: {text}");
    let theme = theme();
    let ctx = ondeck::ui::widgets::ViewCtx {
        theme: &theme,
        sym: ondeck::ui::symbols::Symbols::for_mode(false),
    };
    let all: String = ondeck::ui::header::lines(&m, ctx, 200)
        .iter()
        .map(|l| {
            l.spans
                .iter()
                .map(|s| s.content.as_ref())
                .collect::<String>()
                + "\n"
        })
        .collect();
    assert!(all.contains("+ ? pvc failing"), "{all}");
    assert!(
        all.contains("all namespaces"),
        "the cluster meter names the scope:\n{all}"
    );
}
