//! The text (Nagios plugin) and Prometheus textfile renderings of a [`CheckReport`](super::CheckReport).

use std::fmt::Write as _;

use super::{CheckReport, SourceStatus};
use crate::domain::Level;
use crate::rules::CheckResult;
use crate::sanitize;

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
    for c in &r.checks {
        let _ = writeln!(
            out,
            "ondeck_check_level{{source=\"{}\",name=\"{}\",subject=\"{}\"}} {}",
            prometheus_label(c.source),
            prometheus_label(&c.name),
            prometheus_label(&c.subject),
            level_num(c.level)
        );
    }
    out.push_str(&r.prometheus);
    out
}

/// Escapes a Prometheus label value (backslash, double quote, newline) after sanitizing.
pub fn prometheus_label(s: &str) -> String {
    sanitize::line(s)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
