//! Issue 9, item 8: a storm of 1,000 OOM-killed pods over 12 namespaces is one alert row, one
//! bell and one alert-command run; Enter expands the group, acknowledging it acknowledges every
//! member (one run), and it clears as one. Driven through `update` with the pods rules applied
//! to real pod objects, and drawn at 80x24.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use k8s_openapi::api::core::v1::Pod;
use ondeck::app::model::Overlay;
use ondeck::app::panes::alerts::AlertsPane;
use ondeck::app::{Command, Model, Msg, Settings, update};
use ondeck::config::PodRules;
use ondeck::domain::pods::{ApiHealth, NamespaceScope, PodsSnapshot};
use ondeck::rules::TransitionKind;
use ondeck::sources::{Payload, SourceId, SourceUpdate};
use ondeck::ui::fixtures::{buffer_text, render};
use ondeck::ui::panes::PaneKind;
use ondeck::ui::theme::Theme;
use serde_json::json;

fn pod(ns: &str, name: &str, oom: bool, now: jiff::Timestamp) -> Pod {
    let ago = |s: i64| (now - jiff::SignedDuration::from_secs(s)).to_string();
    let last_state = if oom {
        json!({"terminated": {"exitCode": 137, "reason": "OOMKilled",
                              "startedAt": ago(7200), "finishedAt": ago(1800)}})
    } else {
        json!({})
    };
    serde_json::from_value(json!({
        "metadata": {"namespace": ns, "name": name, "uid": format!("uid-{ns}-{name}"),
                     "creationTimestamp": ago(86_400)},
        "spec": {"nodeName": "worker-1", "containers": [{"name": "api", "image": "api:1"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ago(1790)}],
            "containerStatuses": [{
                "name": "api", "image": "api:1", "imageID": "", "ready": true,
                "restartCount": if oom { 1 } else { 0 },
                "state": {"running": {"startedAt": ago(1790)}},
                "lastState": last_state
            }]
        }
    }))
    .expect("valid pod")
}

fn pods_update(oom: bool, generation: u64, at: Instant, now: jiff::Timestamp) -> SourceUpdate {
    let rules = PodRules::default();
    let rows = (0..1000)
        .map(|i| {
            let p = pod(
                &format!("team-{:02}", i % 12),
                &format!("api-{i:04}"),
                oom,
                now,
            );
            std::sync::Arc::new(ondeck::rules::pods::row(&p, None, &rules, now))
        })
        .collect();
    SourceUpdate {
        source: SourceId::Pods,
        generation,
        at,
        wall: now,
        result: Ok(Payload::new(PodsSnapshot {
            context: "sim".into(),
            server: "https://127.0.0.1:6443".into(),
            client_cert_not_after: None,
            scope: NamespaceScope::All,
            rows,
            api: ApiHealth {
                reachable: true,
                last_latency: None,
                last_error: None,
                last_contact: None,
                reconnects: 0,
            },
            synced: true,
            events: Arc::new(Default::default()),
            events_unknown: None,
            at: now,
        })),
    }
}

fn press(m: &mut Model, code: KeyCode) -> Vec<Command> {
    update(m, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn hooks(cmds: &[Command]) -> Vec<&ondeck::rules::GroupTransition> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::RunAlertHook(t) => Some(&**t),
            _ => None,
        })
        .collect()
}

fn bells(cmds: &[Command]) -> usize {
    cmds.iter().filter(|c| matches!(c, Command::Bell)).count()
}

fn pane_rows(m: &Model) -> usize {
    m.panes
        .iter()
        .find_map(|p| p.as_any().downcast_ref::<AlertsPane>())
        .map(|p| p.rows().len())
        .unwrap_or_default()
}

#[test]
fn a_storm_of_1000_oom_killed_pods_is_one_row_one_bell_one_hook_run() {
    let settings = Settings {
        bell: true,
        alert_command: Some("true".into()),
        ..Settings::default()
    };
    let t0 = Instant::now();
    let now = jiff::Timestamp::now();
    let mut m = Model::new(settings, t0, now);
    m.size = (80, 24);

    let cmds = update(&mut m, Msg::Source(pods_update(true, 1, t0, now)));
    assert_eq!(bells(&cmds), 1, "one bell: {} commands", cmds.len());
    let runs = hooks(&cmds);
    assert_eq!(runs.len(), 1, "one hook run for the group");
    let run = runs[0];
    assert_eq!(run.kind, TransitionKind::Firing);
    assert_eq!(run.key.rule, "pod_oom_killed");
    assert_eq!(run.count, 1000);
    assert_eq!(run.namespaces, 12);
    assert_eq!(run.title, "Pod OOM-killed");
    assert_eq!(run.subjects.len(), ondeck::rules::GROUP_SUBJECTS_LISTED);
    let env = ondeck::rules::hook::alert_env(run);
    let var = |k: &str| {
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(var("ONDECK_ALERT_COUNT"), "1000");
    assert_eq!(var("ONDECK_ALERT_NAMESPACES"), "12");
    assert!(var("ONDECK_ALERT_SUBJECT").ends_with("and 999 more"));

    let groups = m.alerts.groups();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0].len(), 1000);

    // One row in the pane, with the count and where.
    m.focused = PaneKind::Alerts;
    assert_eq!(pane_rows(&m), 1);
    let text = buffer_text(&render(&m, &Theme::builtin_dark(false), 80, 24));
    let row = text
        .lines()
        .find(|l| l.contains("Pod OOM-killed"))
        .unwrap_or_default();
    assert!(row.contains("✖ CRITICAL"), "{text}");
    assert!(row.contains("x1,000 in 12"), "{text}");
    assert!(row.contains("OOMKilled 30m ago"), "{text}");
    assert!(row.contains("oldest 0s"), "the oldest member's age: {text}");
    // With room, it says "oldest".
    let wide = buffer_text(&render(&m, &Theme::builtin_dark(false), 120, 30));
    let row = wide
        .lines()
        .find(|l| l.contains("Pod OOM-killed"))
        .unwrap_or_default();
    assert!(row.contains("oldest 0s"), "{wide}");
    assert!(row.contains("x1,000 in 12 namespaces"), "{wide}");
    assert!(text.contains("1,000 active, 1 group,"), "{text}");

    // Enter expands it to its members and folds it again.
    press(&mut m, KeyCode::Enter);
    assert!(
        m.overlay.is_none(),
        "Enter on a group expands, no detail view"
    );
    assert_eq!(pane_rows(&m), 1001);
    let text = buffer_text(&render(&m, &Theme::builtin_dark(false), 80, 24));
    assert!(text.contains("team-00/api-0000"), "{text}");
    press(&mut m, KeyCode::Enter);
    assert_eq!(pane_rows(&m), 1);

    // Acknowledging the group acknowledges every member, with one hook run.
    press(&mut m, KeyCode::Char('a'));
    match &m.overlay {
        Some(Overlay::AckNote { key, .. }) => assert!(key.is_group(), "{key:?}"),
        other => panic!("ack dialog: {other:?}"),
    }
    for c in "INC-7 on it".chars() {
        press(&mut m, KeyCode::Char(c));
    }
    let cmds = press(&mut m, KeyCode::Enter);
    let runs = hooks(&cmds);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].kind, TransitionKind::Acknowledged);
    assert_eq!(runs[0].count, 1000);
    assert_eq!(m.alerts.summary().acked, 1000);
    assert!(
        m.alerts
            .shown()
            .all(|a| a.ack.as_ref().is_some_and(|k| k.note == "INC-7 on it"))
    );

    // The same storm again: nothing new, nothing rings.
    let cmds = update(
        &mut m,
        Msg::Source(pods_update(true, 2, t0 + Duration::from_secs(2), now)),
    );
    assert_eq!(bells(&cmds), 0);
    assert!(hooks(&cmds).is_empty());

    // It clears as one.
    let cmds = update(
        &mut m,
        Msg::Source(pods_update(false, 3, t0 + Duration::from_secs(4), now)),
    );
    assert_eq!(bells(&cmds), 0);
    let runs = hooks(&cmds);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].kind, TransitionKind::Cleared);
    assert_eq!(runs[0].count, 1000);
    assert!(m.alerts.groups().is_empty());
    assert_eq!(pane_rows(&m), 0);
}
