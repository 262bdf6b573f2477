//! `ondeck check`: one evaluation of every registered source (`crate::sources::registry`),
//! printed as text, JSON or Prometheus textfile format, with the Nagios exit code (0 OK,
//! 1 WARNING, 2 CRITICAL, 3 UNKNOWN). In one-shot mode `for` durations are not evaluated; each
//! check says so. Each source renders its own section; this module frames them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::config::Config;
use crate::domain::pods::NamespaceScope;
use crate::domain::{CheckStatus, Level};
use crate::rules::CheckResult;
use crate::sanitize;
use crate::sources::kube::TargetArgs;
use crate::sources::registry::{self, CheckData, CollectCtx, SectionCtx};
use crate::sources::{SourceError, SourceId};

mod format;
pub use crate::sources::registry::{Series, distinct_label, prometheus_label};
pub use format::{format_from_args, render_early_error, render_prometheus, render_text};

/// Sources `check` knows, in registry order; `--only` takes their names.
pub fn sources() -> Vec<SourceId> {
    registry::SOURCES.iter().map(|s| s.id()).collect()
}

/// `ondeck check`'s own flags (the global ones arrive resolved, as a [`Startup`]).
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// Same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Only these sources, comma-separated (e.g. sockets).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub only: Vec<String>,
    /// HTTP probes: attempts per probe (default 1, or `[probing] check_attempts`); a probe is
    /// critical when every attempt failed (up to the rules' consecutive-failure count).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub attempts: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    /// node_exporter textfile collector format.
    Prometheus,
}

/// What the Kubernetes sources covered: all namespaces or one, and the context. In JSON
/// `{"namespaces": "all", "context": "prod"}` or `{"namespace": "shop", "context": "prod"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckScope {
    pub namespaces: NamespaceScope,
    /// The kubeconfig context used (`None` when it could not be resolved, e.g. no kubeconfig).
    pub context: Option<String>,
}

impl Default for CheckScope {
    fn default() -> Self {
        CheckScope {
            namespaces: NamespaceScope::All,
            context: None,
        }
    }
}

impl CheckScope {
    /// `in all namespaces` / `in namespace shop`.
    pub fn phrase(&self) -> String {
        crate::startup::scope_phrase(&self.namespaces)
    }
}

impl Serialize for CheckScope {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = ser.serialize_map(Some(2))?;
        match &self.namespaces {
            NamespaceScope::All => m.serialize_entry("namespaces", "all")?,
            NamespaceScope::One(ns) => m.serialize_entry("namespace", &sanitize::line(ns))?,
        }
        m.serialize_entry(
            "context",
            &self
                .context
                .as_deref()
                .map(|c| sanitize::line(c).into_owned()),
        )?;
        m.end()
    }
}

/// How long one source may take in one-shot mode before it counts as failed.
const SOURCE_DEADLINE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    Ok,
    NotConfigured,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceReport {
    pub status: SourceStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
}

/// The whole report; its JSON form is documented in the README and is a stable contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    pub status: CheckStatus,
    pub generated_at: String,
    pub demo: bool,
    /// Which namespaces (and context) the Kubernetes sources covered.
    pub scope: CheckScope,
    pub checks: Vec<CheckResult>,
    pub sources: BTreeMap<&'static str, SourceReport>,
    /// Each source's members (`sockets`; `pods`; `pvcs`, `pvs`, `pvc_summary`), flattened into
    /// the top level.
    #[serde(flatten)]
    pub sections: BTreeMap<&'static str, serde_json::Value>,
    /// The sources' text lines, in registry order.
    #[serde(skip)]
    pub text: Vec<String>,
    /// Nagios perfdata items for the first line.
    #[serde(skip)]
    pub perfdata: Vec<String>,
    /// The sources' Prometheus metrics.
    #[serde(skip)]
    pub prometheus: String,
    /// Whether a Kubernetes source produced data (the summary then names the scope).
    #[serde(skip)]
    pub kube_data: bool,
}

/// One source's collection: its data (or why there is none) and how long it took.
#[derive(Debug)]
pub struct Collection {
    pub source: SourceId,
    pub result: Result<Box<dyn CheckData>, SourceError>,
    pub took: Duration,
}

/// What one run of the sources produced, before rendering.
#[derive(Debug, Default)]
pub struct Collected {
    pub results: Vec<Collection>,
    /// What the Kubernetes sources covered.
    pub scope: CheckScope,
    /// The report is not printed as JSON: sections may leave out their per-object JSON.
    pub skip_rows_json: bool,
}

impl Collected {
    /// Adds one source's result (tests feed snapshots this way).
    pub fn with<T: CheckData + 'static>(
        mut self,
        source: SourceId,
        result: Result<T, SourceError>,
        took: Duration,
    ) -> Self {
        self.results.push(Collection {
            source,
            result: result.map(|d| Box::new(d) as Box<dyn CheckData>),
            took,
        });
        self
    }
}

/// Builds the report from collected data: pure, so tests feed it snapshots. A failed source
/// makes the whole check UNKNOWN; "not configured" does not.
pub fn build_report(
    cfg: &Config,
    collected: &Collected,
    demo: bool,
    now: jiff::Timestamp,
) -> CheckReport {
    let scope_words = match &collected.scope.context {
        Some(c) => format!(
            "{} (context {})",
            collected.scope.phrase(),
            sanitize::line(c)
        ),
        None => collected.scope.phrase(),
    };
    let ctx = SectionCtx {
        cfg,
        now,
        scope_words: &scope_words,
        rows_json: !collected.skip_rows_json,
    };
    let mut report = CheckReport {
        status: CheckStatus::Ok,
        generated_at: now.to_string(),
        demo,
        scope: collected.scope.clone(),
        checks: Vec::new(),
        sources: BTreeMap::new(),
        sections: BTreeMap::new(),
        text: Vec::new(),
        perfdata: Vec::new(),
        prometheus: String::new(),
        kube_data: false,
    };
    // Registry order, whatever order the collections finished in.
    let mut results: Vec<&Collection> = collected.results.iter().collect();
    results.sort_by_key(|c| {
        registry::SOURCES
            .iter()
            .position(|s| s.id() == c.source)
            .unwrap_or(usize::MAX)
    });
    for c in results {
        let duration_ms = Some(c.took.as_secs_f64() * 1000.0);
        let entry = match &c.result {
            Ok(data) => {
                let section = data.section(&ctx);
                report.checks.extend(section.checks);
                report.sections.extend(section.json);
                report.text.extend(section.text);
                report.perfdata.extend(section.perfdata);
                report.prometheus.push_str(&section.prometheus);
                report.kube_data |= registry::source(c.source).is_some_and(|s| s.kubernetes());
                SourceReport {
                    status: SourceStatus::Ok,
                    error: None,
                    duration_ms,
                }
            }
            Err(e) => {
                if e.is_failure() {
                    report.status = report.status.combine(CheckStatus::Unknown);
                }
                SourceReport {
                    status: if e.is_failure() {
                        SourceStatus::Failed
                    } else {
                        SourceStatus::NotConfigured
                    },
                    error: Some(sanitize::line(&e.to_string()).into_owned()),
                    duration_ms,
                }
            }
        };
        report.sources.insert(c.source.name(), entry);
    }
    let worst = report
        .checks
        .iter()
        .map(|c| c.level)
        .max()
        .unwrap_or(Level::Ok);
    report.status = report.status.combine(CheckStatus::from_level(worst));
    report
}

/// Runs the selected sources once, concurrently, each under a deadline. `kube` says which
/// Kubernetes target to use (the startup's, or the demo cluster's).
pub async fn collect(cfg: &Config, only: &[SourceId], kube: &TargetArgs) -> Collected {
    let ctx = CollectCtx { cfg, kube };
    let jobs = registry::SOURCES
        .iter()
        .filter(|s| only.contains(&s.id()))
        .map(|s| {
            let ctx = &ctx;
            async move {
                let (result, took) =
                    registry::timed(s.id(), SOURCE_DEADLINE, s.collect_once(ctx)).await;
                Collection {
                    source: s.id(),
                    result,
                    took,
                }
            }
        });
    let results = futures::future::join_all(jobs).await;
    Collected {
        results,
        scope: CheckScope {
            namespaces: match (&kube.namespace, kube.all_namespaces) {
                (Some(ns), false) => NamespaceScope::One(ns.clone()),
                _ => NamespaceScope::All,
            },
            // Only the kubeconfig is read here (no network): the context the sources use.
            context: crate::sources::kube::client::resolve(
                kube,
                &crate::sources::kube::KubeEnv::from_process(),
            )
            .ok()
            .map(|r| r.context),
        },
        skip_rows_json: false,
    }
}

/// Parses `--only`; unknown names are an error listing the known ones.
pub fn parse_only(only: &[String]) -> Result<Vec<SourceId>, String> {
    if only.is_empty() {
        return Ok(sources());
    }
    only.iter()
        .map(|name| {
            let name = name.trim();
            registry::by_name(name).map(|s| s.id()).ok_or_else(|| {
                let known: Vec<&str> = sources().iter().map(|s| s.name()).collect();
                format!(
                    "unknown source {name:?} in --only (known: {})",
                    known.join(", ")
                )
            })
        })
        .collect()
}

/// Prints what `check` says when it cannot start, in the format asked for.
pub fn early_error(format: CheckFormat, message: &str) {
    let (out, err) = render_early_error(format, message);
    print!("{out}");
    eprint!("{err}");
}

/// The `check` subcommand on a resolved [`Startup`](crate::startup::Startup). Returns the
/// process exit code.
pub async fn main(startup: &crate::startup::Startup, args: &CheckArgs) -> i32 {
    let format = if args.json {
        CheckFormat::Json
    } else {
        args.format
    };
    let only = match parse_only(&args.only) {
        Ok(o) => o,
        Err(e) => {
            early_error(format, &e.to_string());
            return CheckStatus::Unknown.exit_code();
        }
    };
    // --demo: the Kubernetes sources read the built-in simulated cluster (alive for the run).
    let launched = match startup.launch().await {
        Ok(l) => l,
        Err(e) => {
            early_error(
                format,
                &format!(
                    "demo cluster: {}",
                    crate::domain::source::error_chain(e.as_ref())
                ),
            );
            return CheckStatus::Unknown.exit_code();
        }
    };
    let mut with_attempts = None;
    if let Some(n) = args.attempts {
        let mut c = startup.config.clone();
        c.probing.check_attempts = n;
        with_attempts = Some(c);
    }
    let cfg = with_attempts.as_ref().unwrap_or(&startup.config);
    let mut collected = collect(cfg, &only, &launched.target().args()).await;
    collected.skip_rows_json = format != CheckFormat::Json;
    let report = build_report(
        cfg,
        &collected,
        launched.demo().is_some(),
        jiff::Timestamp::now(),
    );
    launched.stop().await;
    let text = match format {
        CheckFormat::Text => render_text(&report),
        CheckFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(s) => s + "\n",
            Err(e) => format!("{{\"status\":\"unknown\",\"error\":{:?}}}\n", e.to_string()),
        },
        CheckFormat::Prometheus => render_prometheus(&report),
    };
    print!("{text}");
    report.status.exit_code()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sockets::{
        PeerCount, ProcessCount, SocketBackend, SocketSnapshot, TcpState,
    };

    fn snap(close_wait: u64) -> SocketSnapshot {
        let mut s = SocketSnapshot {
            backend: Some(SocketBackend::Netlink),
            ..Default::default()
        };
        s.states.add(TcpState::CloseWait, close_wait);
        s.states.add(TcpState::Established, 12);
        s.close_wait_by_process = vec![ProcessCount {
            pid: Some(4242),
            comm: "ja\u{1b}[31mva".into(),
            count: close_wait,
        }];
        s.close_wait_by_peer = vec![PeerCount {
            peer: "10.0.0.7".parse().unwrap(),
            count: close_wait,
        }];
        s
    }

    fn report(c: Result<SocketSnapshot, SourceError>) -> CheckReport {
        let collected = Collected::default().with(SourceId::Sockets, c, Duration::from_millis(3));
        let now = jiff::Timestamp::from_second(1_700_000_000).expect("valid");
        build_report(&Config::default(), &collected, false, now)
    }

    #[test]
    fn status_follows_the_close_wait_thresholds() {
        assert_eq!(report(Ok(snap(10))).status, CheckStatus::Ok);
        assert_eq!(report(Ok(snap(1500))).status, CheckStatus::Warning);
        assert_eq!(report(Ok(snap(2500))).status, CheckStatus::Critical);
        assert_eq!(
            report(Err(SourceError::Other("netlink: EPERM".into()))).status,
            CheckStatus::Unknown
        );
        assert_eq!(
            report(Err(SourceError::NotConfigured("off".into()))).status,
            CheckStatus::Ok
        );
    }

    #[test]
    fn json_has_the_documented_shape() {
        let v = serde_json::to_value(report(Ok(snap(1500)))).expect("serializes");
        assert_eq!(v["status"], "warning");
        assert_eq!(v["sockets"]["states"]["CLOSE_WAIT"], 1500);
        assert_eq!(v["sockets"]["states"]["ESTABLISHED"], 12);
        for state in [
            "LISTEN",
            "SYN_SENT",
            "SYN_RECV",
            "FIN_WAIT1",
            "FIN_WAIT2",
            "LAST_ACK",
            "CLOSING",
            "CLOSE",
            "TIME_WAIT",
        ] {
            assert_eq!(v["sockets"]["states"][state], 0, "{state}");
        }
        assert_eq!(v["sockets"]["top_close_wait"][0]["pid"], 4242);
        assert_eq!(
            v["sockets"]["top_close_wait"][0]["comm"], "java",
            "escape sequences stripped"
        );
        assert_eq!(v["sockets"]["top_close_wait_peers"][0]["peer"], "10.0.0.7");
        let cw = v["checks"]
            .as_array()
            .expect("list")
            .iter()
            .find(|c| c["name"] == "close_wait")
            .expect("close_wait check");
        assert_eq!(cw["level"], "warning");
        assert_eq!(cw["value"], 1500.0);
        assert_eq!(cw["threshold"], 1000.0);
        assert_eq!(cw["for_evaluated"], false);
        assert_eq!(cw["source"], "sockets");
        assert_eq!(v["sources"]["sockets"]["status"], "ok");
    }

    #[test]
    fn text_starts_with_a_nagios_line() {
        let t = render_text(&report(Ok(snap(2500))));
        let first = t.lines().next().expect("a line");
        assert!(
            first.starts_with("ONDECK CRITICAL - close_wait 2,500 sockets in CLOSE_WAIT"),
            "{first}"
        );
        assert!(first.contains("| close_wait=2500"), "{first}");
        assert!(t.contains("java (pid 4242) 2500"), "{t}");
        assert!(!t.contains('\u{1b}'));
        let t = render_text(&report(Err(SourceError::Other("boom".into()))));
        assert!(
            t.starts_with("ONDECK UNKNOWN - sockets source failed"),
            "{t}"
        );
    }

    #[test]
    fn prometheus_format_is_well_formed() {
        let p = render_prometheus(&report(Ok(snap(2500))));
        assert!(p.contains("ondeck_status 2\n"), "{p}");
        assert!(
            p.contains("ondeck_tcp_sockets{state=\"CLOSE_WAIT\"} 2500\n"),
            "{p}"
        );
        assert!(
            p.contains("ondeck_tcp_close_wait_by_process{pid=\"4242\",comm=\"java\"} 2500\n"),
            "{p}"
        );
        assert!(
            p.contains(
                "ondeck_check_level{source=\"sockets\",name=\"close_wait\",subject=\"host\"} 2\n"
            ),
            "{p}"
        );
        for line in p.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').expect("metric value");
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
        assert_eq!(prometheus_label("a\"b\\c"), "a\\\"b\\\\c");
    }

    #[test]
    fn only_rejects_unknown_sources() {
        assert_eq!(parse_only(&[]).expect("all"), sources());
        assert_eq!(
            parse_only(&["sockets".into()]).expect("known"),
            vec![SourceId::Sockets]
        );
        let e = parse_only(&["bogus".into()]).unwrap_err();
        assert!(e.contains("bogus") && e.contains("sockets"), "{e}");
    }
}
