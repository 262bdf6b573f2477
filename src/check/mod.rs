//! `ondeck check`: one evaluation of every available source, printed as text, JSON or
//! Prometheus textfile format, with the Nagios exit code (0 OK, 1 WARNING, 2 CRITICAL,
//! 3 UNKNOWN). In one-shot mode `for` durations are not evaluated; each check says so.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cli::{CheckArgs, CheckFormat, GlobalArgs};
use crate::config::Config;
use crate::domain::pvcs::{PvcCounts, PvcsSnapshot, StorageClassInfo, UsageStatus};
use crate::domain::sockets::{SocketSnapshot, TcpState};
use crate::domain::{CheckStatus, Level};
use crate::rules::{self, CheckResult};
use crate::sanitize;
use crate::sources::{SourceError, SourceId};

mod format;
#[cfg(test)]
use format::label;
pub use format::{render_prometheus, render_text};

/// Sources `check` knows; `--only` takes these names.
pub const SOURCES: &[SourceId] = &[SourceId::Sockets, SourceId::Pods, SourceId::Pvcs];

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
    pub checks: Vec<CheckResult>,
    pub sources: BTreeMap<&'static str, SourceReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sockets: Option<SocketsSection>,
    /// Pod rows with `level` and `reasons` (see `sources::kube::check_json`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pods: Option<serde_json::Value>,
    /// Claim rows with `level`, `reasons`, `markers` (see `sources::kube::pvcs_check_json`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pvcs: Option<serde_json::Value>,
    /// PV rows with `level`, `reasons`, `orphaned` (see `sources::kube::pvs_check_json`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pvs: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pvc_summary: Option<PvcSummary>,
}

/// Counts and caveats of the PVC source, for the summary line and Prometheus.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PvcSummary {
    pub claims: usize,
    pub pvs: usize,
    pub counts: PvcCounts,
    /// Why PVs could not be listed (reclaim policies then unknown: no AT RISK markers).
    pub pv_error: Option<String>,
    /// Whether used space could be collected (`ok`, `unavailable` with `why`, `not_collected`).
    pub usage: UsageStatus,
    pub storage_classes: Vec<StorageClassInfo>,
}

impl PvcSummary {
    pub fn from_snapshot(s: &PvcsSnapshot) -> Self {
        let clean = |t: &str| sanitize::line(t).into_owned();
        PvcSummary {
            claims: s.rows.len(),
            pvs: s.pvs.len(),
            counts: s.counts(),
            pv_error: s.pv_error.as_ref().map(|e| clean(&e.to_string())),
            usage: match &s.usage {
                UsageStatus::Unavailable { why } => UsageStatus::Unavailable { why: clean(why) },
                other => other.clone(),
            },
            storage_classes: s
                .storage_classes
                .iter()
                .map(|c| StorageClassInfo {
                    name: clean(&c.name),
                    provisioner: clean(&c.provisioner),
                    reclaim_policy: clean(&c.reclaim_policy),
                    volume_binding_mode: c.volume_binding_mode.as_deref().map(clean),
                    ..c.clone()
                })
                .collect(),
        }
    }
}

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
            poll_ms: s.poll_duration.as_secs_f64() * 1000.0,
        }
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// What one run of the sources produced, before rendering.
#[derive(Debug, Default)]
pub struct Collected {
    pub sockets: Option<(Result<SocketSnapshot, SourceError>, Duration)>,
    pub pods: Option<(
        Result<Vec<crate::domain::pods::PodRow>, SourceError>,
        Duration,
    )>,
    pub pvcs: Option<(Result<PvcsSnapshot, SourceError>, Duration)>,
}

/// One source's entry in `sources`: on data, `use_data` adds its checks and section; a
/// failure makes the whole check UNKNOWN, "not configured" does not.
fn source_report<T>(
    result: &Result<T, SourceError>,
    took: Duration,
    status: &mut CheckStatus,
    use_data: impl FnOnce(&T),
) -> SourceReport {
    let duration_ms = Some(took.as_secs_f64() * 1000.0);
    match result {
        Ok(data) => {
            use_data(data);
            SourceReport {
                status: SourceStatus::Ok,
                error: None,
                duration_ms,
            }
        }
        Err(e) => {
            if e.is_failure() {
                *status = status.combine(CheckStatus::Unknown);
            }
            SourceReport {
                status: if e.is_failure() {
                    SourceStatus::Failed
                } else {
                    SourceStatus::NotConfigured
                },
                error: Some(e.to_string()),
                duration_ms,
            }
        }
    }
}

/// Builds the report from collected data: pure, so tests feed it snapshots.
pub fn build_report(
    cfg: &Config,
    collected: &Collected,
    demo: bool,
    now: jiff::Timestamp,
) -> CheckReport {
    let mut status = CheckStatus::Ok;
    let mut checks = Vec::new();
    let mut sources = BTreeMap::new();
    let mut sockets = None;

    if let Some((result, took)) = &collected.sockets {
        let report = source_report(result, *took, &mut status, |snap| {
            let conds = rules::sockets::evaluate(snap, &cfg.rules.sockets);
            checks.extend(rules::one_shot(&conds));
            sockets = Some(SocketsSection::from_snapshot(snap));
        });
        sources.insert("sockets", report);
    }

    // Pods: one list, the same rules as the TUI.
    let mut pods = None;
    if let Some((result, took)) = &collected.pods {
        let report = source_report(result, *took, &mut status, |rows| {
            checks.extend(rules::one_shot(&rules::pods::evaluate(rows)));
            pods = Some(crate::sources::kube::check_json(rows, now));
        });
        sources.insert("pods", report);
    }

    // PVCs: one list of claims, PVs, StorageClasses and pods, the same rules as the TUI.
    let (mut pvcs, mut pvs, mut pvc_summary) = (None, None, None);
    if let Some((result, took)) = &collected.pvcs {
        let report = source_report(result, *took, &mut status, |snap| {
            // Subjects and messages carry names and messages from the cluster.
            checks.extend(
                rules::one_shot(&rules::pvcs::evaluate(snap))
                    .into_iter()
                    .map(|mut c| {
                        c.subject = sanitize::line(&c.subject).into_owned();
                        c.message = sanitize::line(&c.message).into_owned();
                        c
                    }),
            );
            pvcs = Some(crate::sources::kube::pvcs_check_json(&snap.rows, now));
            pvs = Some(crate::sources::kube::pvs_check_json(&snap.pvs, now));
            pvc_summary = Some(PvcSummary::from_snapshot(snap));
        });
        sources.insert("pvcs", report);
    }

    let worst = checks.iter().map(|c| c.level).max().unwrap_or(Level::Ok);
    status = status.combine(CheckStatus::from_level(worst));
    CheckReport {
        status,
        generated_at: now.to_string(),
        demo,
        checks,
        sources,
        sockets,
        pods,
        pvcs,
        pvs,
        pvc_summary,
    }
}

/// `job` if `source` is selected, under [`SOURCE_DEADLINE`], with how long it took.
async fn timed<T>(
    only: &[SourceId],
    source: SourceId,
    job: impl std::future::Future<Output = Result<T, SourceError>>,
) -> Option<(Result<T, SourceError>, Duration)> {
    if !only.contains(&source) {
        return None;
    }
    let started = Instant::now();
    let result = match tokio::time::timeout(SOURCE_DEADLINE, job).await {
        Ok(r) => r,
        Err(_) => Err(SourceError::Timeout(format!(
            "{} took longer than {SOURCE_DEADLINE:?}",
            source.name()
        ))),
    };
    Some((result, started.elapsed()))
}

/// Runs the selected sources once, concurrently, each under a deadline. `kube` says which
/// Kubernetes target to use (`--kubeconfig`, `--context`, `-n`, `-A`, or the demo cluster).
pub async fn collect(
    cfg: &Config,
    only: &[SourceId],
    kube: &crate::sources::kube::TargetArgs,
) -> Collected {
    let mut out = Collected::default();
    let pods_job = timed(only, SourceId::Pods, async {
        let env = crate::sources::kube::KubeEnv::from_process();
        crate::sources::kube::collect_pods_once(cfg, kube, &env).await
    });
    let pvcs_job = timed(only, SourceId::Pvcs, async {
        let env = crate::sources::kube::KubeEnv::from_process();
        crate::sources::kube::collect_pvcs_once(cfg, kube, &env).await
    });
    let sockets_job = async {
        if !only.contains(&SourceId::Sockets) {
            return None;
        }
        let started = Instant::now();
        let opts = crate::sources::socket_options(&cfg.sockets);
        let job = tokio::task::spawn_blocking(move || {
            let mut collector = crate::sources::sockets::SocketCollector::new(opts);
            collector.poll(Instant::now(), true)
        });
        let result = match tokio::time::timeout(SOURCE_DEADLINE, job).await {
            Ok(Ok(r)) => r,
            Ok(Err(join)) => Err(SourceError::Other(format!("sockets poll crashed: {join}"))),
            Err(_) => Err(SourceError::Timeout(format!(
                "sockets poll took longer than {SOURCE_DEADLINE:?}"
            ))),
        };
        Some((result, started.elapsed()))
    };
    (out.sockets, out.pods, out.pvcs) = tokio::join!(sockets_job, pods_job, pvcs_job);
    out
}

/// Parses `--only`; unknown names are an error listing the known ones.
pub fn parse_only(only: &[String]) -> Result<Vec<SourceId>, String> {
    if only.is_empty() {
        return Ok(SOURCES.to_vec());
    }
    only.iter()
        .map(|name| {
            let name = name.trim();
            SOURCES
                .iter()
                .copied()
                .find(|s| s.name() == name)
                .ok_or_else(|| {
                    let known: Vec<&str> = SOURCES.iter().map(|s| s.name()).collect();
                    format!(
                        "unknown source {name:?} in --only (known: {})",
                        known.join(", ")
                    )
                })
        })
        .collect()
}

/// The `check` subcommand. Returns the process exit code.
pub async fn main(g: &GlobalArgs, args: &CheckArgs) -> i32 {
    let format = if args.json {
        CheckFormat::Json
    } else {
        args.format
    };
    let (cfg, _) = match crate::cli::effective_config(g) {
        Ok(c) => c,
        Err(e) => {
            println!("ONDECK UNKNOWN - config: {e}");
            return CheckStatus::Unknown.exit_code();
        }
    };
    let only = match parse_only(&args.only) {
        Ok(o) => o,
        Err(e) => {
            println!("ONDECK UNKNOWN - {e}");
            return CheckStatus::Unknown.exit_code();
        }
    };
    // --demo: the pods come from the built-in simulated cluster (kept alive for the run).
    let demo = if g.demo {
        match crate::demo::Demo::start(g.scenario.as_deref()).await {
            Ok(d) => Some(d),
            Err(e) => {
                println!("ONDECK UNKNOWN - demo cluster: {e}");
                return CheckStatus::Unknown.exit_code();
            }
        }
    } else {
        None
    };
    let kube = match &demo {
        Some(d) => crate::sources::kube::TargetArgs::for_kubeconfig(d.kubeconfig()),
        None => crate::sources::kube::TargetArgs {
            kubeconfig: g.kubeconfig.clone(),
            context: g.context.clone(),
            namespace: g.namespace.clone(),
            all_namespaces: g.all_namespaces,
        },
    };
    let collected = collect(&cfg, &only, &kube).await;
    let report = build_report(&cfg, &collected, g.demo, jiff::Timestamp::now());
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
    use crate::domain::sockets::{PeerCount, ProcessCount, SocketBackend};

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
        let collected = Collected {
            sockets: Some((c, Duration::from_millis(3))),
            ..Default::default()
        };
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
        assert_eq!(label("a\"b\\c"), "a\\\"b\\\\c");
    }

    #[test]
    fn only_rejects_unknown_sources() {
        assert_eq!(parse_only(&[]).expect("all"), SOURCES.to_vec());
        assert_eq!(
            parse_only(&["sockets".into()]).expect("known"),
            vec![SourceId::Sockets]
        );
        let e = parse_only(&["bogus".into()]).unwrap_err();
        assert!(e.contains("bogus") && e.contains("sockets"), "{e}");
    }
}
