//! The text (Nagios plugin) and Prometheus textfile renderings of a [`CheckReport`](super::CheckReport).

use super::*;

/// Nagios plugin style: a first line `ONDECK STATUS - summary | perfdata`, then details.
pub fn render_text(r: &CheckReport) -> String {
    let mut out = String::new();
    let bad: Vec<&CheckResult> = r
        .checks
        .iter()
        .filter(|c| c.level >= Level::Warning)
        .collect();
    let failed: Vec<&str> = r
        .sources
        .iter()
        .filter(|(_, s)| s.status == SourceStatus::Failed)
        .map(|(n, _)| *n)
        .collect();
    let mut summary = Vec::new();
    for c in bad.iter().take(3) {
        summary.push(format!("{} {}", c.name, c.message));
    }
    if bad.len() > 3 {
        summary.push(format!("and {} more", bad.len() - 3));
    }
    for f in &failed {
        summary.push(format!("{f} source failed"));
    }
    if summary.is_empty() {
        summary.push("all checks ok".into());
    }
    let perf = r
        .sockets
        .as_ref()
        .map(|s| {
            format!(
                " | close_wait={} time_wait={} established={} listen_overflows={}c",
                s.states.get("CLOSE_WAIT").copied().unwrap_or(0),
                s.states.get("TIME_WAIT").copied().unwrap_or(0),
                s.states.get("ESTABLISHED").copied().unwrap_or(0),
                s.listen_overflows
            )
        })
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "ONDECK {}{} - {}{perf}",
        r.status.label(),
        if r.demo {
            " (DEMO: simulated cluster)"
        } else {
            ""
        },
        sanitize::line(&summary.join("; "))
    );
    for c in &r.checks {
        let for_note = match &c.for_ {
            Some(f) if c.level > Level::Ok => format!(" [for {f} not evaluated in one-shot mode]"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{:<8} {}/{} {}: {}{for_note}",
            c.level.label(),
            c.source,
            c.name,
            sanitize::line(&c.subject),
            sanitize::line(&c.message)
        );
    }
    for (name, s) in &r.sources {
        match s.status {
            SourceStatus::Ok => {}
            SourceStatus::NotConfigured => {
                let _ = writeln!(
                    out,
                    "source {name}: not configured ({})",
                    s.error.as_deref().unwrap_or("")
                );
            }
            SourceStatus::Failed => {
                let _ = writeln!(
                    out,
                    "UNKNOWN  source {name} failed: {}",
                    sanitize::line(s.error.as_deref().unwrap_or(""))
                );
            }
        }
    }
    if let Some(s) = &r.sockets {
        let states: Vec<String> = s
            .states
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "sockets ({}, {:.1} ms): {}",
            s.backend.unwrap_or("?"),
            s.poll_ms,
            if states.is_empty() {
                "none".into()
            } else {
                states.join(", ")
            }
        );
        if !s.top_close_wait.is_empty() {
            let top: Vec<String> = s
                .top_close_wait
                .iter()
                .take(5)
                .map(|p| match p.pid {
                    Some(pid) => format!("{} (pid {pid}) {}", p.comm, p.count),
                    None => format!("(unknown owner) {}", p.count),
                })
                .collect();
            let _ = writeln!(out, "CLOSE_WAIT by process: {}", top.join(", "));
        }
        if !s.top_close_wait_peers.is_empty() {
            let top: Vec<String> = s
                .top_close_wait_peers
                .iter()
                .take(5)
                .map(|p| format!("{} {}", p.peer, p.count))
                .collect();
            let _ = writeln!(out, "CLOSE_WAIT by peer: {}", top.join(", "));
        }
    }
    if let Some(p) = &r.pvc_summary {
        let c = &p.counts;
        let _ = writeln!(
            out,
            "pvcs: {} claims ({} critical, {} warning), {} unused, {} at risk (reclaim Delete); \
             {} PVs, {} orphaned",
            p.claims, c.critical, c.warning, c.unused, c.at_risk, p.pvs, c.orphaned_pvs
        );
        if let Some(e) = &p.pv_error {
            let _ = writeln!(
                out,
                "pvcs: PVs not readable, reclaim policies unknown: {}",
                sanitize::line(e)
            );
        }
        if let UsageStatus::Unavailable { why } = &p.usage {
            let _ = writeln!(out, "pvcs: used space unknown: {}", sanitize::line(why));
        }
    }
    out
}

/// node_exporter textfile collector format.
pub fn render_prometheus(r: &CheckReport) -> String {
    let mut out = String::new();
    let level_num = |l: Level| match l {
        Level::Ok => 0,
        Level::Info => 0,
        Level::Warning => 1,
        Level::Critical => 2,
    };
    let _ = writeln!(
        out,
        "# HELP ondeck_status Overall check status: 0 ok, 1 warning, 2 critical, 3 unknown."
    );
    let _ = writeln!(out, "# TYPE ondeck_status gauge");
    let _ = writeln!(out, "ondeck_status {}", r.status.exit_code());
    let _ = writeln!(
        out,
        "# HELP ondeck_source_up Whether the source produced data (1) or failed (0)."
    );
    let _ = writeln!(out, "# TYPE ondeck_source_up gauge");
    for (name, s) in &r.sources {
        if s.status != SourceStatus::NotConfigured {
            let _ = writeln!(
                out,
                "ondeck_source_up{{source=\"{}\"}} {}",
                label(name),
                u8::from(s.status == SourceStatus::Ok)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP ondeck_check_level Level of each check: 0 ok, 1 warning, 2 critical."
    );
    let _ = writeln!(out, "# TYPE ondeck_check_level gauge");
    for c in &r.checks {
        let _ = writeln!(
            out,
            "ondeck_check_level{{source=\"{}\",name=\"{}\",subject=\"{}\"}} {}",
            label(c.source),
            label(&c.name),
            label(&c.subject),
            level_num(c.level)
        );
    }
    if let Some(p) = &r.pvc_summary {
        let c = &p.counts;
        let _ = writeln!(out, "# HELP ondeck_pvcs PersistentVolumeClaims by level.");
        let _ = writeln!(out, "# TYPE ondeck_pvcs gauge");
        for (level, n) in [
            ("ok", c.ok),
            ("warning", c.warning),
            ("critical", c.critical),
        ] {
            let _ = writeln!(out, "ondeck_pvcs{{level=\"{level}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP ondeck_pvcs_unused PersistentVolumeClaims no pod mounts."
        );
        let _ = writeln!(out, "# TYPE ondeck_pvcs_unused gauge");
        let _ = writeln!(out, "ondeck_pvcs_unused {}", c.unused);
        let _ = writeln!(
            out,
            "# HELP ondeck_pvcs_at_risk PersistentVolumeClaims bound to a PV with reclaim policy Delete."
        );
        let _ = writeln!(out, "# TYPE ondeck_pvcs_at_risk gauge");
        let _ = writeln!(out, "ondeck_pvcs_at_risk {}", c.at_risk);
        let _ = writeln!(
            out,
            "# HELP ondeck_pvs_orphaned PersistentVolumes Released or Failed."
        );
        let _ = writeln!(out, "# TYPE ondeck_pvs_orphaned gauge");
        let _ = writeln!(out, "ondeck_pvs_orphaned {}", c.orphaned_pvs);
    }
    if let Some(s) = &r.sockets {
        let _ = writeln!(
            out,
            "# HELP ondeck_tcp_sockets TCP sockets (IPv4 and IPv6) by state."
        );
        let _ = writeln!(out, "# TYPE ondeck_tcp_sockets gauge");
        for (state, n) in &s.states {
            let _ = writeln!(out, "ondeck_tcp_sockets{{state=\"{state}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP ondeck_tcp_close_wait_by_process CLOSE_WAIT sockets held per process."
        );
        let _ = writeln!(out, "# TYPE ondeck_tcp_close_wait_by_process gauge");
        for p in &s.top_close_wait {
            let pid = p
                .pid
                .map(|p| p.to_string())
                .unwrap_or_else(|| "unknown".into());
            let _ = writeln!(
                out,
                "ondeck_tcp_close_wait_by_process{{pid=\"{pid}\",comm=\"{}\"}} {}",
                label(&p.comm),
                p.count
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
            s.listen_overflows
        );
        let _ = writeln!(
            out,
            "# HELP ondeck_tcp_listen_drops_total ListenDrops since boot."
        );
        let _ = writeln!(out, "# TYPE ondeck_tcp_listen_drops_total counter");
        let _ = writeln!(out, "ondeck_tcp_listen_drops_total {}", s.listen_drops);
        if let Some(c) = &s.conntrack {
            let _ = writeln!(
                out,
                "# HELP ondeck_conntrack_entries conntrack table entries and maximum."
            );
            let _ = writeln!(out, "# TYPE ondeck_conntrack_entries gauge");
            let _ = writeln!(out, "ondeck_conntrack_entries {}", c.count);
            let _ = writeln!(out, "ondeck_conntrack_max {}", c.max);
        }
    }
    out
}

/// Escapes a Prometheus label value (backslash, double quote, newline) after sanitizing.
pub(super) fn label(s: &str) -> String {
    sanitize::line(s)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
