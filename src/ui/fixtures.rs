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
        result: Ok(Payload::Sockets(Box::new(snap))),
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
