//! The sockets source's registry entry ([`Sockets`]): the console's polling task, `check`'s
//! one poll and its `sockets` section (JSON, text with perfdata, Prometheus), its rules and its
//! pane.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use futures::FutureExt as _;
use futures::future::BoxFuture;
use serde::Serialize;
use tokio::task::JoinHandle;

use crate::domain::pane::{PaneKind, PaneSpec};
use crate::domain::sockets::{SocketSnapshot, TcpState};
use crate::domain::{SourceError, SourceId};
use crate::rules;
use crate::sanitize;
use crate::sources::registry::{CheckData, CheckSection, CollectCtx, LocalCtx, SectionCtx, Source};

/// The TCP sockets of this host (netlink sock_diag, /proc fallback).
pub struct Sockets;

impl Source for Sockets {
    fn id(&self) -> SourceId {
        SourceId::Sockets
    }

    fn spawn_local(&self, ctx: &mut LocalCtx<'_>) -> Option<JoinHandle<()>> {
        if !ctx.cfg.sockets.enabled {
            return None;
        }
        let refresh = ctx.refresh();
        Some(super::spawn_with_refresh(
            crate::sources::socket_options(&ctx.cfg.sockets),
            ctx.cfg.refresh.0,
            ctx.tx.clone(),
            ctx.cancel.clone(),
            Some(refresh),
        ))
    }

    fn collect_once<'a>(
        &'a self,
        ctx: &'a CollectCtx<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn CheckData>, SourceError>> {
        let opts = crate::sources::socket_options(&ctx.cfg.sockets);
        async move {
            let job = tokio::task::spawn_blocking(move || {
                let mut collector = super::SocketCollector::new(opts);
                collector.poll(Instant::now(), true)
            });
            match job.await {
                Ok(r) => r.map(|s| Box::new(s) as Box<dyn CheckData>),
                Err(join) => Err(SourceError::Other(format!("sockets poll crashed: {join}"))),
            }
        }
        .boxed()
    }

    fn rule_ids(&self) -> &'static [&'static str] {
        &[
            "close_wait",
            "time_wait",
            "listen_overflows_per_sec",
            "accept_queue_pct",
            "process_fd_pct",
            "conntrack_pct",
        ]
    }

    fn pane(&self) -> PaneSpec {
        PaneSpec {
            kind: PaneKind::Sockets,
            name: "sockets",
            title: "Sockets",
            aliases: &["sock", "tcp"],
            source: Some(SourceId::Sockets),
            available: true,
            actions: &[],
            help: &[("1-5 h l", "sockets: by process, peer, port; listen; fds")],
        }
    }

    fn empty(&self) -> Box<dyn CheckData> {
        Box::new(SocketSnapshot::default())
    }
}

impl CheckData for SocketSnapshot {
    fn section(&self, ctx: &SectionCtx<'_>) -> CheckSection {
        let conds = rules::sockets::evaluate(self, &ctx.cfg.rules.sockets);
        let s = SocketsSection::from_snapshot(self);
        CheckSection {
            checks: rules::one_shot(&conds),
            json: vec![(
                "sockets",
                serde_json::to_value(&s).unwrap_or(serde_json::Value::Null),
            )],
            text: s.text(),
            perfdata: vec![
                format!("close_wait={}", state(&s, "CLOSE_WAIT")),
                format!("time_wait={}", state(&s, "TIME_WAIT")),
                format!("established={}", state(&s, "ESTABLISHED")),
                format!("listen_overflows={}c", s.listen_overflows),
            ],
            prometheus: s.prometheus(),
        }
    }
}

fn state(s: &SocketsSection, name: &str) -> u64 {
    s.states.get(name).copied().unwrap_or(0)
}

/// `check`'s `sockets` object (documented in the README).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SocketsSection {
    pub backend: Option<&'static str>,
    pub states: BTreeMap<&'static str, u64>,
    pub total: u64,
    pub listen_overflows: u64,
    pub listen_drops: u64,
    pub top_close_wait: Vec<TopProcess>,
    pub top_close_wait_peers: Vec<TopPeer>,
    pub close_wait_by_local_port: Vec<TopPort>,
    pub listeners: Vec<ListenerRow>,
    pub fd_usage: Vec<FdRow>,
    pub unreadable_processes: u64,
    pub conntrack: Option<ConntrackRow>,
    /// Why the conntrack table could not be read (then `conntrack` is null), if so.
    pub conntrack_unknown: Option<String>,
    pub poll_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopProcess {
    pub pid: Option<u32>,
    pub comm: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopPeer {
    pub peer: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopPort {
    pub port: u16,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListenerRow {
    pub local: String,
    pub queued: u32,
    pub backlog: u32,
    pub fill_pct: f64,
    pub pid: Option<u32>,
    pub comm: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FdRow {
    pub pid: u32,
    pub comm: String,
    pub open: u64,
    pub soft_limit: Option<u64>,
    pub pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConntrackRow {
    pub count: u64,
    pub max: u64,
    pub pct: f64,
}

impl SocketsSection {
    pub fn from_snapshot(s: &SocketSnapshot) -> Self {
        let clean = |t: &str| sanitize::line(t).into_owned();
        SocketsSection {
            backend: s.backend.map(|b| match b {
                crate::domain::sockets::SocketBackend::Netlink => "netlink",
                crate::domain::sockets::SocketBackend::ProcNet => "proc",
            }),
            states: TcpState::ALL
                .iter()
                .map(|st| (st.netstat_name(), s.states.get(*st)))
                .collect(),
            total: s.states.total(),
            listen_overflows: s.listen.overflows,
            listen_drops: s.listen.drops,
            top_close_wait: s
                .close_wait_by_process
                .iter()
                .map(|p| TopProcess {
                    pid: p.pid,
                    comm: clean(&p.comm),
                    count: p.count,
                })
                .collect(),
            top_close_wait_peers: s
                .close_wait_by_peer
                .iter()
                .map(|p| TopPeer {
                    peer: p.peer.to_string(),
                    count: p.count,
                })
                .collect(),
            close_wait_by_local_port: s
                .close_wait_by_local_port
                .iter()
                .map(|p| TopPort {
                    port: p.port,
                    count: p.count,
                })
                .collect(),
            listeners: s
                .listeners
                .iter()
                .map(|l| ListenerRow {
                    local: l.local.to_string(),
                    queued: l.queued,
                    backlog: l.backlog,
                    fill_pct: round1(l.fill_pct()),
                    pid: l.pid,
                    comm: l.comm.as_deref().map(clean),
                })
                .collect(),
            fd_usage: s
                .fd_usage
                .iter()
                .map(|f| FdRow {
                    pid: f.pid,
                    comm: clean(&f.comm),
                    open: f.open,
                    soft_limit: f.soft_limit,
                    pct: f.pct().map(round1),
                })
                .collect(),
            unreadable_processes: s.unreadable_processes,
            conntrack: s.conntrack.map(|c| ConntrackRow {
                count: c.count,
                max: c.max,
                pct: round1(c.pct()),
            }),
            conntrack_unknown: s
                .conntrack
                .is_none()
                .then(|| clean(s.conntrack_unknown.as_deref().unwrap_or("not read"))),
            poll_ms: s.poll_duration.as_secs_f64() * 1000.0,
        }
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

impl SocketsSection {
    fn text(&self) -> Vec<String> {
        let mut out = Vec::new();
        let states: Vec<String> = self
            .states
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        out.push(format!(
            "sockets ({}, {:.1} ms): {}",
            self.backend.unwrap_or("?"),
            self.poll_ms,
            if states.is_empty() {
                "none".into()
            } else {
                states.join(", ")
            }
        ));
        if !self.top_close_wait.is_empty() {
            let top: Vec<String> = self
                .top_close_wait
                .iter()
                .take(5)
                .map(|p| match p.pid {
                    Some(pid) => format!("{} (pid {pid}) {}", p.comm, p.count),
                    None => format!(
                        "{} {}",
                        crate::rules::sockets::unknown_owner(self.unreadable_processes),
                        p.count
                    ),
                })
                .collect();
            out.push(format!("CLOSE_WAIT by process: {}", top.join(", ")));
        }
        if let Some(why) = &self.conntrack_unknown {
            out.push(format!("conntrack: unknown ({why})"));
        }
        if !self.top_close_wait_peers.is_empty() {
            let top: Vec<String> = self
                .top_close_wait_peers
                .iter()
                .take(5)
                .map(|p| format!("{} {}", p.peer, p.count))
                .collect();
            out.push(format!("CLOSE_WAIT by peer: {}", top.join(", ")));
        }
        out
    }

    /// Its Prometheus metrics; process names stay distinct series (see
    /// [`distinct_label`](crate::sources::registry::distinct_label)).
    pub fn prometheus(&self) -> String {
        let mut seen = crate::sources::registry::Series::default();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP ondeck_tcp_sockets TCP sockets (IPv4 and IPv6) by state."
        );
        let _ = writeln!(out, "# TYPE ondeck_tcp_sockets gauge");
        for (state, n) in &self.states {
            let _ = writeln!(out, "ondeck_tcp_sockets{{state=\"{state}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP ondeck_tcp_close_wait_by_process CLOSE_WAIT sockets held per process."
        );
        let _ = writeln!(out, "# TYPE ondeck_tcp_close_wait_by_process gauge");
        for p in &self.top_close_wait {
            let pid = p
                .pid
                .map(|p| p.to_string())
                .unwrap_or_else(|| "unknown".into());
            let labels = format!(
                "pid=\"{pid}\",comm=\"{}\"",
                crate::sources::registry::distinct_label(&p.comm)
            );
            seen.write(
                &mut out,
                "ondeck_tcp_close_wait_by_process",
                &labels,
                p.count,
            );
        }
        let _ = writeln!(
            out,
            "# HELP ondeck_tcp_listen_overflows_total ListenOverflows since boot."
        );
        let _ = writeln!(out, "# TYPE ondeck_tcp_listen_overflows_total counter");
        let _ = writeln!(
            out,
            "ondeck_tcp_listen_overflows_total {}",
            self.listen_overflows
        );
        let _ = writeln!(
            out,
            "# HELP ondeck_tcp_listen_drops_total ListenDrops since boot."
        );
        let _ = writeln!(out, "# TYPE ondeck_tcp_listen_drops_total counter");
        let _ = writeln!(out, "ondeck_tcp_listen_drops_total {}", self.listen_drops);
        if let Some(c) = &self.conntrack {
            let _ = writeln!(
                out,
                "# HELP ondeck_conntrack_entries conntrack table entries in use."
            );
            let _ = writeln!(out, "# TYPE ondeck_conntrack_entries gauge");
            let _ = writeln!(out, "ondeck_conntrack_entries {}", c.count);
            let _ = writeln!(
                out,
                "# HELP ondeck_conntrack_max conntrack table size (nf_conntrack_max)."
            );
            let _ = writeln!(out, "# TYPE ondeck_conntrack_max gauge");
            let _ = writeln!(out, "ondeck_conntrack_max {}", c.max);
        }
        out
    }
}
