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
    let mut seen = Series::default();
    for c in &r.checks {
        let labels = format!(
            "source=\"{}\",name=\"{}\",subject=\"{}\"",
            label(c.source),
            distinct_label(&c.name),
            distinct_label(&c.subject),
        );
        seen.write(&mut out, "ondeck_check_level", &labels, level_num(c.level));
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
            let labels = format!("pid=\"{pid}\",comm=\"{}\"", distinct_label(&p.comm));
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
    }
    out
}

/// A label value for a name from outside that must stay distinct: [`label`], plus `~` and a
/// short hash of the raw text when sanitizing changed it. Two names that clean up alike (`a\x07b`
/// and `a\x08b` both read `a\u{FFFD}b`) then still give two series, the same ones on every run.
pub(super) fn distinct_label(s: &str) -> String {
    let clean = label(s);
    if sanitize::line(s) == s {
        return clean;
    }
    // FNV-1a over the raw bytes: stable across runs and builds, unlike std's hasher.
    let h = s.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{clean}~{:08x}", h >> 32)
}

/// The series written so far: a label set seen before (the same raw name twice) gets a
/// `series` label numbering it, so the file never holds a duplicate series, which node_exporter
/// and Prometheus reject.
#[derive(Default)]
struct Series {
    seen: std::collections::HashMap<String, u32>,
}

impl Series {
    fn write(
        &mut self,
        out: &mut String,
        metric: &str,
        labels: &str,
        value: impl std::fmt::Display,
    ) {
        let n = self
            .seen
            .entry(format!("{metric}{{{labels}}}"))
            .or_insert(0);
        *n += 1;
        if *n == 1 {
            let _ = writeln!(out, "{metric}{{{labels}}} {value}");
        } else {
            let _ = writeln!(out, "{metric}{{{labels},series=\"{n}\"}} {value}");
        }
    }
}

/// Escapes a Prometheus label value (backslash, double quote, newline) after sanitizing.
pub(super) fn label(s: &str) -> String {
    sanitize::line(s)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(subject: &str) -> CheckResult {
        CheckResult {
            source: "pods",
            name: "crashloop".into(),
            subject: subject.into(),
            level: Level::Warning,
            value: 1.0,
            threshold: None,
            message: "m".into(),
            for_evaluated: false,
            for_: None,
        }
    }

    fn report() -> CheckReport {
        let top = |pid, comm: &str| TopProcess {
            pid,
            comm: comm.into(),
            count: 3,
        };
        CheckReport {
            status: CheckStatus::Warning,
            generated_at: "2026-12-02T00:00:00Z".into(),
            demo: false,
            // Three subjects that clean up to the same text (one is that text itself).
            checks: vec![
                check("shop/api\u{7}x"),
                check("shop/api\u{8}x"),
                check("shop/api\u{FFFD}x"),
            ],
            sources: BTreeMap::new(),
            sockets: Some(SocketsSection {
                backend: Some("netlink"),
                states: BTreeMap::from([("CLOSE_WAIT", 6)]),
                total: 6,
                listen_overflows: 0,
                listen_drops: 0,
                // Two owners nobody could name: the same label set twice.
                top_close_wait: vec![
                    top(None, "?"),
                    top(None, "?"),
                    top(Some(7), "ja\u{1b}[1mva"),
                ],
                top_close_wait_peers: Vec::new(),
                close_wait_by_local_port: Vec::new(),
                listeners: Vec::new(),
                fd_usage: Vec::new(),
                unreadable_processes: 0,
                conntrack: Some(ConntrackRow {
                    count: 10,
                    max: 100,
                    pct: 10.0,
                }),
                poll_ms: 1.0,
            }),
            pods: None,
            pvcs: None,
            pvs: None,
            pvc_summary: None,
        }
    }

    #[test]
    fn series_are_unique_when_names_clean_up_alike() {
        let p = render_prometheus(&report());
        let mut series = std::collections::HashSet::new();
        for line in p.lines().filter(|l| !l.starts_with('#')) {
            let (s, value) = line.rsplit_once(' ').unwrap_or((line, ""));
            assert!(value.parse::<f64>().is_ok(), "{line}");
            assert!(series.insert(s.to_string()), "duplicate series {s}:\n{p}");
        }
        let levels: Vec<&str> = p
            .lines()
            .filter(|l| l.starts_with("ondeck_check_level{"))
            .collect();
        assert_eq!(levels.len(), 3, "{p}");
        assert!(
            levels
                .iter()
                .any(|l| l.contains("subject=\"shop/api\u{FFFD}x\"}")),
            "the clean name keeps its text: {p}"
        );
        assert!(!p.contains('\u{1b}') && !p.contains('\u{7}'), "{p}");
        assert!(p.contains("comm=\"java~"), "{p}");
        assert!(p.contains("series=\"2\""), "{p}");
    }

    #[test]
    fn every_sample_follows_its_own_help_and_type() {
        let p = render_prometheus(&report());
        let mut current: Option<&str> = None;
        let mut helped = std::collections::HashSet::new();
        for line in p.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                helped.insert(rest.split(' ').next().unwrap_or(""));
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                current = rest.split(' ').next();
            } else {
                let name = line.split(['{', ' ']).next().unwrap_or("");
                assert_eq!(Some(name), current, "{name} under another TYPE:\n{p}");
                assert!(helped.contains(name), "{name} has no HELP:\n{p}");
            }
        }
        assert!(p.contains("ondeck_conntrack_max 100\n"), "{p}");
    }

    #[test]
    fn distinct_labels_are_stable_and_leave_clean_names_alone() {
        assert_eq!(distinct_label("grafana-data"), "grafana-data");
        assert_eq!(distinct_label("a\u{7}b"), distinct_label("a\u{7}b"));
        assert_ne!(distinct_label("a\u{7}b"), distinct_label("a\u{8}b"));
        assert!(distinct_label("a\u{7}b").starts_with("a\u{FFFD}b~"));
    }
}
