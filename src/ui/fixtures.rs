//! Shared fixtures for the rendering tests and the render benchmark: realistic socket
//! snapshots (the CLOSE_WAIT incident, a listen queue near overflow, fds near the limit,
//! a hostile process name) and a model fed through `update` like the real UI task feeds it.
//! Not part of the stable API.

use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use crate::app::model::{Model, Settings};
use crate::app::msg::Msg;
use crate::app::update::update;
use crate::domain::sockets::*;
use crate::sources::{Payload, SourceId, SourceUpdate};
use crate::ui::{self, Theme};

/// 2026-11-21T09:00:00Z: fixed wall clock so snapshots are stable.
pub fn wall0() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_251_600).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// The CLOSE_WAIT incident: 1,523 sockets in CLOSE_WAIT held by one Java process.
pub fn incident_snapshot() -> SocketSnapshot {
    let mut states = StateCounts::default();
    for (s, n) in [
        (TcpState::Established, 1843),
        (TcpState::CloseWait, 1523),
        (TcpState::TimeWait, 412),
        (TcpState::Listen, 14),
        (TcpState::SynRecv, 3),
        (TcpState::FinWait2, 21),
        (TcpState::LastAck, 2),
    ] {
        states.add(s, n);
    }
    let ip = |s: &str| {
        s.parse()
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
    };
    let sa = |s: &str| {
        s.parse()
            .unwrap_or(std::net::SocketAddr::from(([127, 0, 0, 1], 1)))
    };
    SocketSnapshot {
        backend: Some(SocketBackend::Netlink),
        states,
        ipv6_included: true,
        close_wait_by_process: vec![
            ProcessCount {
                pid: Some(4242),
                comm: "java".into(),
                count: 1490,
            },
            ProcessCount {
                pid: Some(977),
                comm: "evil\x1b[2J\x1b]0;pwned\x07name".into(),
                count: 8,
            },
            ProcessCount {
                pid: None,
                comm: String::new(),
                count: 25,
            },
        ],
        close_wait_by_peer: vec![
            PeerCount {
                peer: ip("10.0.3.17"),
                count: 1200,
            },
            PeerCount {
                peer: ip("10.0.3.18"),
                count: 290,
            },
            PeerCount {
                peer: ip("fd00::2a"),
                count: 33,
            },
        ],
        close_wait_by_local_port: vec![
            PortCount {
                port: 8080,
                count: 1490,
            },
            PortCount {
                port: 5432,
                count: 33,
            },
        ],
        listeners: vec![
            Listener {
                local: sa("0.0.0.0:8080"),
                queued: 118,
                backlog: 128,
                pid: Some(4242),
                comm: Some("java".into()),
            },
            Listener {
                local: sa("[::]:443"),
                queued: 3,
                backlog: 4096,
                pid: Some(1201),
                comm: Some("nginx".into()),
            },
            Listener {
                local: sa("127.0.0.1:5432"),
                queued: 0,
                backlog: 244,
                pid: Some(800),
                comm: Some("postgres".into()),
            },
        ],
        listen: ListenStats {
            overflows: 18_211,
            drops: 18_240,
            overflows_per_sec: Some(2.5),
            drops_per_sec: Some(2.5),
        },
        fd_usage: vec![
            FdUsage {
                pid: 4242,
                comm: "java".into(),
                open: 3900,
                soft_limit: Some(4096),
            },
            FdUsage {
                pid: 1201,
                comm: "nginx".into(),
                open: 850,
                soft_limit: Some(1024),
            },
            FdUsage {
                pid: 800,
                comm: "postgres".into(),
                open: 8000,
                soft_limit: Some(65536),
            },
        ],
        unreadable_processes: 3,
        conntrack: Some(Conntrack {
            count: 52_000,
            max: 65_536,
        }),
        conntrack_unknown: None,
        sysctls: SocketSysctls {
            somaxconn: Some(4096),
            local_port_range: Some((32768, 60999)),
            tcp_fin_timeout: Some(60),
        },
        attribution: Attribution::Done,
        skipped_records: 0,
        poll_duration: Duration::from_micros(8_400),
    }
}

/// The incident plus `n` distinct CLOSE_WAIT peers (for 10^4-row tables).
pub fn big_snapshot(n: usize) -> SocketSnapshot {
    let mut s = incident_snapshot();
    s.close_wait_by_peer = (0..n)
        .map(|i| PeerCount {
            peer: std::net::IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000u32 + i as u32)),
            count: (n - i) as u64,
        })
        .collect();
    s.close_wait_by_process = (0..n)
        .map(|i| ProcessCount {
            pid: Some(1000 + i as u32),
            comm: format!("worker-{i}"),
            count: (i % 97) as u64,
        })
        .collect();
    s
}

pub fn sockets_update(
    snap: SocketSnapshot,
    generation: u64,
    at: Instant,
    wall: jiff::Timestamp,
) -> SourceUpdate {
    SourceUpdate {
        source: SourceId::Sockets,
        generation,
        at,
        wall,
        result: Ok(Payload::new(snap)),
    }
}

/// A model that has seen the incident for three minutes at a 2 s refresh: CLOSE_WAIT warning
/// pending 3m/15m, accept queue and fd usage firing, a history for the sparklines.
pub fn incident_model(settings: Settings) -> (Model, Instant) {
    let t0 = Instant::now();
    let mut m = Model::new(settings, t0, wall0());
    let mut snap = incident_snapshot();
    let base = snap.states.get(TcpState::CloseWait);
    for g in 0..=90u64 {
        let at = t0 + Duration::from_secs(2 * g);
        let wall = wall0() + jiff::SignedDuration::from_secs(2 * g as i64);
        snap.states.0[TcpState::CloseWait.index()] = base.saturating_sub(90 - g);
        update(
            &mut m,
            Msg::Source(sockets_update(snap.clone(), g + 1, at, wall)),
        );
    }
    let now = t0 + Duration::from_secs(181);
    update(
        &mut m,
        Msg::Tick {
            now,
            wall: wall0() + jiff::SignedDuration::from_secs(181),
        },
    );
    (m, now)
}

/// Renders the whole screen into a test buffer.
pub fn render(model: &Model, theme: &Theme, width: u16, height: u16) -> Buffer {
    let mut term = match Terminal::new(TestBackend::new(width, height)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    let _ = term.draw(|f| ui::view(model, theme, f));
    term.backend().buffer().clone()
}

/// The buffer as plain text, one line per row (for snapshots and `contains` checks).
pub fn buffer_text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::with_capacity((area.width as usize + 1) * area.height as usize);
    for y in 0..area.height {
        let line: String = (0..area.width).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The `incident` scenario's claims and volumes as the PVC source reports them at [`wall0`]:
/// grafana-data in use and AT RISK, grafana-data-old next to it UNUSED and AT RISK,
/// loki-storage Terminating while loki-0 still runs (critical), postgres on a Retain PV,
/// web/uploads Pending for 8m, a Released PV and an Available one. Sorted by danger.
pub fn pvcs_incident_snapshot() -> crate::domain::pvcs::PvcsSnapshot {
    use crate::domain::Level;
    use crate::domain::pods::{ApiHealth, NamespaceScope};
    use crate::domain::pvcs::*;

    let now = wall0();
    let ago = |secs: i64| now - jiff::SignedDuration::from_secs(secs);
    const MIN: i64 = 60;
    const DAY: i64 = 86_400;
    const GI: u64 = 1024 * 1024 * 1024;
    let not_mounted =
        || UsedSpace::unknown("not mounted (the kubelet reports mounted volumes only)");
    let user = |pod: &str, node: &str, mount: &str| PvcUser {
        pod: pod.into(),
        phase: Some("Running".into()),
        node: Some(node.into()),
        mounts: vec![mount.into()],
        terminating: false,
    };
    let at_risk = |volume: &str| PvcReason {
        rule: PvcRule::ReclaimDelete,
        level: Level::Info,
        text: format!("PV {volume} has reclaim policy Delete: deleting the claim deletes the data"),
        since: None,
        value: 1.0,
        threshold: 0.0,
    };
    #[allow(clippy::too_many_arguments)]
    let claim = |ns: &str,
                 name: &str,
                 uid: &str,
                 size: &str,
                 gib: u64,
                 class: &str,
                 volume: Option<&str>,
                 reclaim: Option<&str>,
                 created: i64| PvcRow {
        namespace: ns.into(),
        name: name.into(),
        uid: Some(uid.into()),
        status: if volume.is_some() { "Bound" } else { "Pending" }.into(),
        phase: Some(if volume.is_some() { "Bound" } else { "Pending" }.into()),
        deletion_timestamp: None,
        finalizers: vec!["kubernetes.io/pvc-protection".into()],
        capacity: Some(size.into()),
        capacity_bytes: Some(gib * GI),
        storage_class: Some(class.into()),
        volume: volume.map(Into::into),
        reclaim_policy: reclaim.map(Into::into),
        access_modes: vec!["RWO".into()],
        users_unknown: None,
        users: vec![],
        used: not_mounted(),
        created: Some(ago(created)),
        markers: vec![],
        level: Level::Ok,
        reasons: vec![],
    };

    let mut loki = claim(
        "logging",
        "loki-storage",
        "6f1c2a9e-4b7d-4e21-9a0c-3d5e8f7b1c42",
        "20Gi",
        20,
        "standard",
        Some("pvc-6f1c2a9e-4b7d-4e21-9a0c-3d5e8f7b1c42"),
        Some("Delete"),
        90 * DAY,
    );
    loki.status = "Terminating".into();
    loki.deletion_timestamp = Some(ago(3 * MIN));
    loki.users = vec![user("loki-0", "worker-1", "loki:/var/loki")];
    loki.used = UsedSpace::Known {
        used_bytes: 262_161,
        capacity_bytes: Some(20 * GI),
        available_bytes: Some(20 * GI - 262_161),
    };
    loki.markers = vec![Marker::AtRisk, Marker::InUse];
    loki.level = Level::Critical;
    loki.reasons = vec![
        PvcReason {
            rule: PvcRule::TerminatingInUse,
            level: Level::Critical,
            text: "deleted while pod loki-0 uses it; when loki-0 stops, the PV and its data are \
                   deleted (reclaim policy Delete)"
                .into(),
            since: Some(ago(3 * MIN)),
            value: 180.0,
            threshold: 0.0,
        },
        at_risk("pvc-6f1c2a9e-4b7d-4e21-9a0c-3d5e8f7b1c42"),
    ];

    let mut uploads = claim(
        "web",
        "uploads",
        "0b8e5d7a-2c1f-4f3e-8d6a-9e4b2c7a5f10",
        "5Gi",
        5,
        "nfs",
        None,
        None,
        8 * MIN,
    );
    uploads.finalizers = vec!["kubernetes.io/pvc-protection".into()];
    uploads.markers = vec![Marker::Unused];
    uploads.level = Level::Warning;
    uploads.reasons = vec![PvcReason {
        rule: PvcRule::Pending,
        level: Level::Warning,
        text: "Pending for 8m (StorageClass nfs binds on first consumer; no PV matches)".into(),
        since: Some(ago(8 * MIN)),
        value: 480.0,
        threshold: 300.0,
    }];

    let grafana_pv = "pvc-3a7d9c1e-8f2b-4c6d-a1e5-7b9f0d2c4e68";
    let mut grafana = claim(
        "monitoring",
        "grafana-data",
        "3a7d9c1e-8f2b-4c6d-a1e5-7b9f0d2c4e68",
        "10Gi",
        10,
        "standard",
        Some(grafana_pv),
        Some("Delete"),
        412 * DAY,
    );
    grafana.users = vec![user(
        "grafana-5d8f7c9b6d-x2k4q",
        "worker-1",
        "grafana:/var/lib/grafana",
    )];
    grafana.used = UsedSpace::Known {
        used_bytes: 2_202_009,
        capacity_bytes: Some(10 * GI),
        available_bytes: Some(10 * GI - 2_202_009),
    };
    grafana.markers = vec![Marker::AtRisk, Marker::InUse];
    grafana.level = Level::Info;
    grafana.reasons = vec![at_risk(grafana_pv)];

    let old_pv = "pvc-9e2f4b6a-1d3c-4a5e-b7f9-0c8d6e4a2b19";
    let mut grafana_old = claim(
        "monitoring",
        "grafana-data-old",
        "9e2f4b6a-1d3c-4a5e-b7f9-0c8d6e4a2b19",
        "10Gi",
        10,
        "standard",
        Some(old_pv),
        Some("Delete"),
        700 * DAY,
    );
    grafana_old.markers = vec![Marker::AtRisk, Marker::Unused];
    grafana_old.level = Level::Info;
    grafana_old.reasons = vec![at_risk(old_pv)];

    let scratch_pv = "pvc-c4d2e8f1-7a9b-4e3c-8f1d-2b6a9c0e7d35";
    let mut scratch = claim(
        "batch",
        "scratch",
        "c4d2e8f1-7a9b-4e3c-8f1d-2b6a9c0e7d35",
        "2Gi",
        2,
        "standard",
        Some(scratch_pv),
        Some("Delete"),
        40 * DAY,
    );
    scratch.markers = vec![Marker::AtRisk, Marker::Unused];
    scratch.level = Level::Info;
    scratch.reasons = vec![at_risk(scratch_pv)];

    let mut prometheus = claim(
        "monitoring",
        "prometheus-data-prometheus-0",
        "5b1e3d7f-9c2a-4b8e-a6d4-1f7c3e9b5a20",
        "50Gi",
        50,
        "retained",
        Some("pvc-5b1e3d7f-9c2a-4b8e-a6d4-1f7c3e9b5a20"),
        Some("Retain"),
        300 * DAY,
    );
    prometheus.users = vec![user("prometheus-0", "worker-2", "prometheus:/prometheus")];
    prometheus.used = UsedSpace::Known {
        used_bytes: 1_048_576,
        capacity_bytes: Some(50 * GI),
        available_bytes: None,
    };
    prometheus.markers = vec![Marker::InUse];

    let mut postgres = claim(
        "payments",
        "postgres-data-postgres-0",
        "8d4a6c2e-3f1b-4d9a-b5e7-6c0f2a8d4e91",
        "100Gi",
        100,
        "retained",
        Some("pvc-8d4a6c2e-3f1b-4d9a-b5e7-6c0f2a8d4e91"),
        Some("Retain"),
        500 * DAY,
    );
    postgres.users = vec![user(
        "postgres-0",
        "worker-2",
        "postgres:/var/lib/postgresql/data",
    )];
    postgres.used = UsedSpace::Known {
        used_bytes: 1_048_579,
        capacity_bytes: Some(100 * GI),
        available_bytes: None,
    };
    postgres.markers = vec![Marker::InUse];

    let mut rows = vec![
        grafana,
        grafana_old,
        loki,
        postgres,
        uploads,
        scratch,
        prometheus,
    ];
    sort_by_danger(&mut rows);

    let pv_for = |r: &PvcRow| PvRow {
        name: r.volume.clone().unwrap_or_default(),
        phase: "Bound".into(),
        reclaim_policy: r.reclaim_policy.clone(),
        claim: Some(format!("{}/{}", r.namespace, r.name)),
        storage_class: r.storage_class.clone(),
        capacity: r.capacity.clone(),
        capacity_bytes: r.capacity_bytes,
        access_modes: vec!["ReadWriteOnce".into()],
        created: r.created,
        orphaned: false,
        level: Level::Ok,
        reasons: vec![],
    };
    let mut pvs: Vec<PvRow> = rows
        .iter()
        .filter(|r| r.volume.is_some())
        .map(pv_for)
        .collect();
    pvs.push(PvRow {
        name: "pv-old-reports".into(),
        phase: "Released".into(),
        reclaim_policy: Some("Retain".into()),
        claim: Some("batch/reports-2025".into()),
        storage_class: Some("retained".into()),
        capacity: Some("20Gi".into()),
        capacity_bytes: Some(20 * GI),
        access_modes: vec!["ReadWriteOnce".into()],
        created: Some(ago(200 * DAY)),
        orphaned: true,
        level: Level::Warning,
        reasons: vec![PvcReason {
            rule: PvcRule::PvReleased,
            level: Level::Warning,
            text: "Released: claim batch/reports-2025 is gone; the data is kept (reclaim policy \
                   Retain)"
                .into(),
            since: None,
            value: 1.0,
            threshold: 0.0,
        }],
    });
    pvs.push(PvRow {
        name: "pv-spare-1".into(),
        phase: "Available".into(),
        reclaim_policy: Some("Retain".into()),
        claim: None,
        storage_class: Some("standard".into()),
        capacity: Some("50Gi".into()),
        capacity_bytes: Some(50 * GI),
        access_modes: vec!["ReadWriteOnce".into()],
        created: Some(ago(120 * DAY)),
        orphaned: false,
        level: Level::Ok,
        reasons: vec![],
    });
    pvs.sort_by(|a, b| a.name.cmp(&b.name));

    let class = |name: &str, reclaim: &str, mode: &str, default: bool| StorageClassInfo {
        name: name.into(),
        provisioner: if name == "nfs" {
            "kubernetes.io/no-provisioner"
        } else {
            "rancher.io/local-path"
        }
        .into(),
        reclaim_policy: reclaim.into(),
        volume_binding_mode: Some(mode.into()),
        allow_volume_expansion: false,
        is_default: default,
    };
    PvcsSnapshot {
        context: "ondeck-sim".into(),
        server: "https://127.0.0.1:6443".into(),
        scope: NamespaceScope::All,
        rows,
        pvs,
        pv_error: None,
        storage_classes: vec![
            class("standard", "Delete", "Immediate", true),
            class("retained", "Retain", "Immediate", false),
            class("nfs", "Retain", "WaitForFirstConsumer", false),
        ],
        usage: UsageStatus::Ok,
        api: ApiHealth {
            reachable: true,
            last_latency: Some(Duration::from_millis(4)),
            last_error: None,
            last_contact: Some(now),
            reconnects: 0,
        },
        synced: true,
        at: now,
    }
}

pub fn pvcs_update(
    snap: crate::domain::pvcs::PvcsSnapshot,
    generation: u64,
    at: Instant,
    wall: jiff::Timestamp,
) -> SourceUpdate {
    SourceUpdate {
        source: SourceId::Pvcs,
        generation,
        at,
        wall,
        result: Ok(Payload::new(snap)),
    }
}

/// A model showing only the PVCs pane, fed `snap` once at [`wall0`]; returns it with the
/// instant the snapshot arrived.
pub fn pvcs_model(settings: Settings, snap: crate::domain::pvcs::PvcsSnapshot) -> (Model, Instant) {
    let t0 = Instant::now();
    let mut m = Model::new(settings, t0, wall0());
    m.focused = crate::ui::panes::PaneKind::Pvcs;
    update(&mut m, Msg::Source(pvcs_update(snap, 1, t0, wall0())));
    (m, t0)
}

/// The incident's claims repeated to `n` rows (distinct names across namespaces), for the
/// PVC pane's rendering benchmark and big-table tests.
pub fn pvcs_big_snapshot(n: usize) -> crate::domain::pvcs::PvcsSnapshot {
    let mut s = pvcs_incident_snapshot();
    let base = std::mem::take(&mut s.rows);
    s.rows = (0..n)
        .map(|i| {
            let mut r = base[i % base.len()].clone();
            r.namespace = format!("team-{:03}", i % 97);
            r.name = format!("{}-{i:06}", r.name);
            r
        })
        .collect();
    crate::domain::pvcs::sort_by_danger(&mut s.rows);
    s
}

/// Pod JSON fixtures (tests/fixtures/pods) the pods pane fixture is built from.
const POD_FIXTURES: &[&str] = &[
    include_str!("../../tests/fixtures/pods/crashloop_error.json"),
    include_str!("../../tests/fixtures/pods/crashloop_oom.json"),
    include_str!("../../tests/fixtures/pods/image_pull_backoff.json"),
    include_str!("../../tests/fixtures/pods/create_container_config_error.json"),
    include_str!("../../tests/fixtures/pods/init_crashloop.json"),
    include_str!("../../tests/fixtures/pods/oom_recent.json"),
    include_str!("../../tests/fixtures/pods/not_ready.json"),
    include_str!("../../tests/fixtures/pods/terminating.json"),
    include_str!("../../tests/fixtures/pods/unschedulable.json"),
    include_str!("../../tests/fixtures/pods/restarted_recently.json"),
    include_str!("../../tests/fixtures/pods/running.json"),
    include_str!("../../tests/fixtures/pods/completed.json"),
];

/// The wall clock the pod fixtures are written against (their ages and "3m ago").
pub fn pods_wall() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_255_200).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// A pod whose namespace and name are long enough to be cut in every layout:
/// `platform-observability/payments-api-canary-7f9c6b5d4-8qzvt`, crash-looping.
pub const LONG_POD_NAME: &str = "payments-api-canary-7f9c6b5d4-8qzvt";
pub const LONG_POD_NAMESPACE: &str = "platform-observability";

/// A pods snapshot from real pod JSON (crash loops, image pulls, OOM, init, pending, running,
/// completed) as the pods source reports it at [`pods_wall`], sorted by danger; one
/// crash-looping pod renamed to [`LONG_POD_NAME`] in [`LONG_POD_NAMESPACE`].
pub fn pods_snapshot() -> crate::domain::pods::PodsSnapshot {
    use crate::domain::pods::{ApiHealth, NamespaceScope, PodsSnapshot, sort_by_danger};
    use k8s_openapi::api::core::v1::Pod;

    let now = pods_wall();
    let rules = crate::config::PodRules::default();
    let mut rows: Vec<_> = POD_FIXTURES
        .iter()
        .enumerate()
        .filter_map(|(i, text)| {
            let mut pod: Pod = serde_json::from_str(text).ok()?;
            if i == 0 {
                pod.metadata.name = Some(LONG_POD_NAME.into());
                pod.metadata.namespace = Some(LONG_POD_NAMESPACE.into());
            }
            Some(crate::rules::pods::row(&pod, None, &rules, now))
        })
        .collect();
    sort_by_danger(&mut rows);
    PodsSnapshot {
        context: "ondeck-sim".into(),
        server: "https://127.0.0.1:6443".into(),
        client_cert_not_after: None,
        scope: NamespaceScope::All,
        rows: rows.into_iter().map(std::sync::Arc::new).collect(),
        api: ApiHealth {
            reachable: true,
            last_latency: Some(Duration::from_millis(4)),
            last_error: None,
            last_contact: Some(now),
            reconnects: 0,
        },
        synced: true,
        events: Default::default(),
        events_unknown: None,
        at: now,
    }
}

pub fn pods_update(
    snap: crate::domain::pods::PodsSnapshot,
    generation: u64,
    at: Instant,
    wall: jiff::Timestamp,
) -> SourceUpdate {
    SourceUpdate {
        source: SourceId::Pods,
        generation,
        at,
        wall,
        result: Ok(Payload::new(snap)),
    }
}

/// A model fed `snap` once at [`pods_wall`], focused on the pods pane; returns it with the
/// instant the snapshot arrived.
pub fn pods_model(settings: Settings, snap: crate::domain::pods::PodsSnapshot) -> (Model, Instant) {
    let t0 = Instant::now();
    let mut m = Model::new(settings, t0, pods_wall());
    m.focused = crate::ui::panes::PaneKind::Pods;
    update(&mut m, Msg::Source(pods_update(snap, 1, t0, pods_wall())));
    (m, t0)
}

/// [`pods_snapshot`]'s rows repeated to `n` pods (distinct names across 97 namespaces), for
/// the pods pane's rendering benchmark and big-table tests.
pub fn pods_big_snapshot(n: usize) -> crate::domain::pods::PodsSnapshot {
    let mut s = pods_snapshot();
    let base = std::mem::take(&mut s.rows);
    if base.is_empty() {
        return s;
    }
    s.rows = (0..n)
        .map(|i| {
            let mut r = (*base[i % base.len()]).clone();
            r.namespace = format!("team-{:03}", i % 97).into();
            r.name = format!("{}-{i:06}", r.name).into();
            std::sync::Arc::new(r)
        })
        .collect();
    crate::domain::pods::sort_by_danger(&mut s.rows);
    s
}
