//! The text (Nagios plugin) and Prometheus textfile renderings of a [`CheckReport`](super::CheckReport).

use std::fmt::Write as _;

use super::{CheckReport, SourceStatus};
use crate::domain::Level;
use crate::rules::CheckResult;
use crate::sanitize;
use crate::sources::registry::{Series, distinct_label, prometheus_label};

/// What `check` prints when it cannot even start (bad command line, bad config, no demo
/// cluster): `(stdout, stderr)` in the format asked for, so a Prometheus textfile or a JSON
/// consumer never receives Nagios text. Text: the Nagios line. JSON: `{"status": "unknown",
/// "error": ...}`. Prometheus: only `ondeck_status 3` (valid for promtool and node_exporter),
/// the message on stderr. The exit code is 3 (UNKNOWN) in every case.
pub fn render_early_error(format: super::CheckFormat, message: &str) -> (String, String) {
    let message = sanitize::line(message).into_owned();
    match format {
        super::CheckFormat::Text => (format!("ONDECK UNKNOWN - {message}\n"), String::new()),
        super::CheckFormat::Json => {
            let v = serde_json::json!({
                "status": "unknown",
                "error": message,
                "checks": [],
            });
            (format!("{v}\n"), String::new())
        }
        super::CheckFormat::Prometheus => (
            "# HELP ondeck_status Overall check status: 0 ok, 1 warning, 2 critical, 3 unknown.\n\
             # TYPE ondeck_status gauge\n\
             ondeck_status 3\n"
                .to_string(),
            format!("ondeck check: {message}\n"),
        ),
    }
}

/// The output format a `check` command line asks for, read from the raw arguments (for errors
/// before, or instead of, a successful parse): `--json`, `--format X`, `--format=X`.
pub fn format_from_args(args: &[String]) -> super::CheckFormat {
    use super::CheckFormat;
    let mut format = CheckFormat::Text;
    let mut it = args.iter().peekable();
    while let Some(a) = it.next() {
        let value = if a == "--format" {
            it.peek().map(|v| v.as_str())
        } else {
            a.strip_prefix("--format=")
        };
        match (a.as_str(), value) {
            ("--json", _) => format = CheckFormat::Json,
            (_, Some("json")) => format = CheckFormat::Json,
            (_, Some("prometheus")) => format = CheckFormat::Prometheus,
            (_, Some("text")) => format = CheckFormat::Text,
            _ => {}
        }
    }
    format
}

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
    // A Kubernetes result always says what it covered: "all checks ok" about one namespace
    // must not read as the whole cluster.
    if r.kube_data {
        summary.push(scope_words(r));
    }
    let perf = if r.perfdata.is_empty() {
        String::new()
    } else {
        format!(" | {}", r.perfdata.join(" "))
    };
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
    for line in &r.text {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// `in all namespaces (context prod)` / `in namespace shop (context prod)`.
fn scope_words(r: &CheckReport) -> String {
    match &r.scope.context {
        Some(c) => format!("{} (context {})", r.scope.phrase(), sanitize::line(c)),
        None => r.scope.phrase(),
    }
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
        "# HELP ondeck_scope_info What the Kubernetes sources covered: all namespaces or one, and the context."
    );
    let _ = writeln!(out, "# TYPE ondeck_scope_info gauge");
    let (all, ns) = match &r.scope.namespaces {
        crate::domain::pods::NamespaceScope::All => ("true", String::new()),
        crate::domain::pods::NamespaceScope::One(n) => ("false", prometheus_label(n)),
    };
    let _ = writeln!(
        out,
        "ondeck_scope_info{{all_namespaces=\"{all}\",namespace=\"{ns}\",context=\"{}\"}} 1",
        prometheus_label(r.scope.context.as_deref().unwrap_or(""))
    );
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
                prometheus_label(name),
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
            prometheus_label(c.source),
            distinct_label(&c.name),
            distinct_label(&c.subject),
        );
        seen.write(&mut out, "ondeck_check_level", &labels, level_num(c.level));
    }
    out.push_str(&r.prometheus);
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::domain::CheckStatus;

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
        use crate::sources::sockets::source::{ConntrackRow, SocketsSection, TopProcess};
        let top = |pid, comm: &str| TopProcess {
            pid,
            comm: comm.into(),
            count: 3,
        };
        let sockets = SocketsSection {
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
            conntrack_unknown: None,
            poll_ms: 1.0,
        };
        CheckReport {
            status: CheckStatus::Warning,
            generated_at: "2026-12-02T00:00:00Z".into(),
            demo: false,
            scope: Default::default(),
            // Three subjects that clean up to the same text (one is that text itself).
            checks: vec![
                check("shop/api\u{7}x"),
                check("shop/api\u{8}x"),
                check("shop/api\u{FFFD}x"),
            ],
            sources: BTreeMap::new(),
            sections: BTreeMap::new(),
            text: Vec::new(),
            perfdata: Vec::new(),
            prometheus: sockets.prometheus(),
            kube_data: false,
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
