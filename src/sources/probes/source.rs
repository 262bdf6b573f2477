//! The probes source's registry entry ([`Probes`]): the console's task, `check`'s attempts and
//! its `probes` section (JSON rows, text lines, Prometheus `ondeck_probe_*`), its rules and its
//! pane.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use futures::FutureExt as _;
use futures::StreamExt as _;
use futures::future::BoxFuture;
use serde::Serialize;
use tokio::task::JoinHandle;

use super::config::ProbeConfig;
use super::state::ProbeState;
use crate::domain::Level;
use crate::domain::pane::{PaneKind, PaneSpec};
use crate::domain::probes::{AuditSnapshot, ProbeRow, ProbesSnapshot, short_latency};
use crate::domain::{SourceError, SourceId};
use crate::rules;
use crate::sources::registry::{
    CheckData, CheckSection, CollectCtx, KubeCtx, LocalCtx, SectionCtx, Series, Source,
    distinct_label,
};
use std::any::Any;

/// HTTP(S) probes of the configured URLs (and the demo's endpoints under `--demo`).
pub struct Probes;

/// Where the console's Kubernetes probe audit sends its results: the probes collector that
/// `spawn_local` started (the audit itself starts later, per target, in `spawn_kube`).
static AUDIT_SINK: std::sync::Mutex<Option<tokio::sync::mpsc::Sender<AuditSnapshot>>> =
    std::sync::Mutex::new(None);

/// Whether the console audits the Kubernetes probes: `[probing] kubernetes = true`, or
/// `--demo` (whose cluster has a finding).
pub fn audit_enabled(cfg: &crate::config::Config) -> bool {
    cfg.probing.kubernetes || !super::demo::published().borrow().is_empty()
}

/// Stops the audit of a target when dropped (a `:ctx` / `:ns` switch, or exit).
struct AuditGuard(JoinHandle<()>);

impl Drop for AuditGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The probes `check` and the console run: the config's, then the demo's (if one runs).
pub fn configured(cfg: &crate::config::Config) -> Vec<ProbeConfig> {
    let mut all = cfg.probes.clone();
    all.extend(super::demo::published().borrow().iter().cloned());
    all
}

impl Source for Probes {
    fn id(&self) -> SourceId {
        SourceId::Probes
    }

    fn spawn_local(&self, ctx: &mut LocalCtx<'_>) -> Option<JoinHandle<()>> {
        let (audit_tx, audit_rx) = tokio::sync::mpsc::channel(4);
        if let Ok(mut sink) = AUDIT_SINK.lock() {
            *sink = Some(audit_tx);
        }
        Some(super::task::spawn(
            super::task::TaskOptions {
                probes: ctx.cfg.probes.clone(),
                settings: ctx.cfg.probing.clone(),
                rules: ctx.cfg.rules.probes.clone(),
                refresh: ctx.cfg.refresh.0,
                more: Some(super::demo::published()),
                audits: Some(audit_rx),
                certs: Some(crate::sources::certs::from_probes::Feed {
                    cfg: ctx.cfg.certs.clone(),
                    to: None,
                }),
            },
            ctx.tx.clone(),
            ctx.cancel.clone(),
        ))
    }

    /// Not a Kubernetes source (its probes run without a cluster, and a cluster's absence is
    /// no error of theirs), but once a cluster is connected it audits that target's pods' HTTP
    /// probes; the guard stops the audit on `:ctx` / `:ns`, and the next target's starts.
    fn spawn_kube(&self, ctx: &mut KubeCtx<'_>) -> Option<Box<dyn Any + Send>> {
        if !audit_enabled(ctx.cfg) {
            return None;
        }
        let sink = AUDIT_SINK.lock().ok().and_then(|s| s.clone())?;
        Some(Box::new(AuditGuard(spawn_audit(
            ctx.target,
            ctx.cfg.probing.clone(),
            sink,
        ))))
    }

    fn collect_once<'a>(
        &'a self,
        ctx: &'a CollectCtx<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn CheckData>, SourceError>> {
        async move {
            let probes = configured(ctx.cfg);
            // The audit runs when enabled, and under --demo (whose cluster has a finding).
            let demo = !super::demo::published().borrow().is_empty();
            let audit_on = ctx.cfg.probing.kubernetes || demo;
            if probes.is_empty() && !audit_on {
                return Err(SourceError::NotConfigured(
                    "no [[probes]] in the config file".into(),
                ));
            }
            let attempts = ctx.cfg.probing.check_attempts.max(1);
            let checks = run_once(&probes, &ctx.cfg.probing, &ctx.cfg.rules.probes, attempts);
            let audit = async {
                if !audit_on {
                    return None;
                }
                Some(run_audit(ctx).await)
            };
            let (mut data, audit) = futures::join!(checks, audit);
            data.snap.audit = audit;
            Ok(Box::new(data) as Box<dyn CheckData>)
        }
        .boxed()
    }

    fn rule_ids(&self) -> &'static [&'static str] {
        &[
            rules::probes::FAILING,
            rules::probes::SLO,
            rules::probes::AUDIT,
        ]
    }

    fn pane(&self) -> PaneSpec {
        PaneSpec {
            kind: PaneKind::Probes,
            name: "probes",
            title: "Probes",
            aliases: &["probe", "http"],
            source: Some(SourceId::Probes),
            available: true,
            actions: &[],
            help: &[("Enter", "probes: last attempts with every phase, peer, TLS")],
        }
    }

    fn empty(&self) -> Box<dyn CheckData> {
        Box::new(ProbesCheck {
            snap: ProbesSnapshot::default(),
            attempts: 1,
        })
    }
}

/// `check`'s data: the rows after `attempts` attempts per probe.
#[derive(Debug, Clone)]
pub struct ProbesCheck {
    pub snap: ProbesSnapshot,
    pub attempts: u32,
}

/// Runs every probe `attempts` times in a row (the probes concurrently, at most 64 at once),
/// and returns their rows. One shot: a probe that failed every attempt is critical.
pub async fn run_once(
    probes: &[ProbeConfig],
    settings: &super::config::ProbeSettings,
    rules: &crate::config::ProbeRules,
    attempts: u32,
) -> ProbesCheck {
    let owned = settings.clone();
    let states = futures::stream::iter(
        probes
            .iter()
            .cloned()
            .map(move |cfg| run_probe(cfg, owned.clone(), attempts)),
    )
    .buffered(64)
    .collect::<Vec<_>>()
    .await;
    let needed = rules.failures_before_critical.min(attempts).max(1);
    ProbesCheck {
        snap: ProbesSnapshot {
            rows: states.iter().map(|s| s.row(rules, needed)).collect(),
            at: Some(jiff::Timestamp::now()),
            audit: None,
        },
        attempts,
    }
}

/// The console could not connect to a cluster: when the audit is on, its strip says why
/// (`k8s probe audit: unknown (…)`) rather than showing nothing.
pub fn audit_not_started(cfg: &crate::config::Config, why: &crate::sources::SourceError) {
    if !audit_enabled(cfg) {
        return;
    }
    let Some(sink) = AUDIT_SINK.lock().ok().and_then(|s| s.clone()) else {
        return;
    };
    let _ = sink.try_send(AuditSnapshot {
        error: Some(crate::domain::text::Clean::from_string(format!(
            "not run: no cluster connection: {why}"
        ))),
        at: Some(jiff::Timestamp::now()),
        ..Default::default()
    });
}

/// Starts the console's audit of `target` ([`super::audit::run_loop`]), sending to `sink`.
pub fn spawn_audit(
    target: &crate::sources::kube::KubeTarget,
    settings: super::config::ProbeSettings,
    sink: tokio::sync::mpsc::Sender<AuditSnapshot>,
) -> JoinHandle<()> {
    use crate::domain::pods::NamespaceScope;
    let namespace = match &target.scope {
        NamespaceScope::One(n) => Some(n.clone()),
        NamespaceScope::All => None,
    };
    let scope = match &namespace {
        Some(n) => format!("context {}, namespace {n}", target.context),
        None => format!("context {}, all namespaces", target.context),
    };
    tokio::spawn(super::audit::run_loop(
        target.client.clone(),
        namespace,
        scope,
        settings,
        target.request_timeout,
        sink,
    ))
}

/// The Kubernetes probe audit for `check`: connects to the target and measures.
async fn run_audit(ctx: &CollectCtx<'_>) -> crate::domain::probes::AuditSnapshot {
    let env = crate::sources::kube::KubeEnv::from_process();
    match crate::sources::kube::client::connect(ctx.kube, &env, &ctx.cfg.kubernetes).await {
        Ok(target) => {
            let ns = match (&ctx.kube.namespace, ctx.kube.all_namespaces) {
                (Some(ns), false) => Some(ns.as_str()),
                _ => None,
            };
            super::audit::audit(
                target.client,
                ns,
                &ctx.cfg.probing,
                true,
                ctx.cfg.kubernetes.request_timeout.0,
            )
            .await
        }
        Err(e) => crate::domain::probes::AuditSnapshot {
            error: Some(crate::domain::text::Clean::from_string(format!(
                "Kubernetes probe audit: {e}"
            ))),
            at: Some(jiff::Timestamp::now()),
            ..Default::default()
        },
    }
}

/// One row of `check`'s `probe_audit` list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditJson {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub kind: &'static str,
    pub port: u16,
    pub path: String,
    pub timeout_seconds: u64,
    pub period_seconds: u64,
    pub failure_threshold: u32,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub level: Level,
    pub finding: Option<String>,
    pub unmeasured: Option<String>,
    pub events: Vec<String>,
}

impl AuditJson {
    pub fn from_row(a: &crate::domain::probes::AuditRow) -> AuditJson {
        AuditJson {
            namespace: a.namespace.to_string(),
            pod: a.pod.to_string(),
            container: a.container.to_string(),
            kind: a.kind,
            port: a.port,
            path: a.path.to_string(),
            timeout_seconds: a.timeout.as_secs(),
            period_seconds: a.period.as_secs(),
            failure_threshold: a.failure_threshold,
            p50_ms: a.stats.p50.map(ms),
            p99_ms: a.stats.p99.map(ms),
            level: a.level,
            finding: a.finding.as_deref().map(str::to_string),
            unmeasured: a.unmeasured.as_deref().map(str::to_string),
            events: a.events.iter().map(|e| e.to_string()).collect(),
        }
    }
}

/// One probe, `attempts` times in a row (a kept connection is reused with `reuse = true`).
async fn run_probe(
    cfg: ProbeConfig,
    settings: super::config::ProbeSettings,
    attempts: u32,
) -> ProbeState {
    let mut st = ProbeState::new(&cfg, &settings);
    if let Some(a) = st.setup_failure() {
        st.record(a, Instant::now());
        return st;
    }
    let Ok(p) = st.prepared.clone() else {
        return st;
    };
    let mut warm = None;
    for _ in 0..attempts {
        let started = Instant::now();
        let a = super::client::attempt(&p, &mut warm).await;
        st.record(a, started);
    }
    st
}

/// One row of `check`'s `probes` list (documented in the README).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeJson {
    pub name: String,
    pub url: String,
    pub level: Level,
    pub ok: bool,
    pub status_code: Option<u16>,
    pub failed_phase: Option<&'static str>,
    pub error: Option<String>,
    pub timings_ms: TimingsJson,
    pub peer: Option<String>,
    pub consecutive_failures: u32,
    pub attempts: usize,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub slo_p99_ms: Option<f64>,
    pub tls_version: Option<&'static str>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimingsJson {
    pub dns: Option<f64>,
    pub connect: Option<f64>,
    pub tls: Option<f64>,
    pub headers: Option<f64>,
    pub transfer: Option<f64>,
    pub total: Option<f64>,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

impl ProbeJson {
    pub fn from_row(r: &ProbeRow) -> ProbeJson {
        let last = r.last();
        let t = last.map(|a| a.timings);
        ProbeJson {
            name: r.name.to_string(),
            url: r.url.to_string(),
            level: r.verdict.level,
            ok: last.is_some_and(|a| a.ok),
            status_code: last.and_then(|a| a.status_code),
            failed_phase: last.and_then(|a| a.failed).map(|p| p.name()),
            error: last.and_then(|a| a.error.as_deref().map(str::to_string)),
            timings_ms: TimingsJson {
                dns: t.and_then(|t| t.dns).map(ms),
                connect: t.and_then(|t| t.connect).map(ms),
                tls: t.and_then(|t| t.tls).map(ms),
                headers: t.and_then(|t| t.headers).map(ms),
                transfer: t.and_then(|t| t.transfer).map(ms),
                total: t.map(|t| ms(t.total)),
            },
            peer: last.and_then(|a| a.peer).map(|p| p.to_string()),
            consecutive_failures: r.consecutive_failures,
            attempts: r.stats.attempts,
            p50_ms: r.stats.p50.map(ms),
            p99_ms: r.stats.p99.map(ms),
            slo_p99_ms: r.slo_p99.map(ms),
            tls_version: last.and_then(|a| a.tls.as_ref()).and_then(|t| t.version),
            reasons: r.verdict.reasons.iter().map(|c| c.to_string()).collect(),
        }
    }
}

impl CheckData for ProbesCheck {
    fn section(&self, ctx: &SectionCtx<'_>) -> CheckSection {
        let rules_cfg = &ctx.cfg.rules.probes;
        let needed = rules_cfg.failures_before_critical.min(self.attempts).max(1);
        let conds = rules::probes::evaluate(&self.snap, rules_cfg, needed);
        let rows: Vec<ProbeJson> = self.snap.rows.iter().map(ProbeJson::from_row).collect();
        let failing = rows.iter().filter(|r| !r.ok).count();
        let mut json = vec![(
            "probes",
            serde_json::to_value(&rows).unwrap_or(serde_json::Value::Null),
        )];
        let mut lines = text(&self.snap, self.attempts);
        if let Some(audit) = &self.snap.audit {
            let rows: Vec<AuditJson> = audit.rows.iter().map(AuditJson::from_row).collect();
            json.push((
                "probe_audit",
                serde_json::json!({
                    "rows": rows,
                    "error": audit.error.as_deref(),
                }),
            ));
            lines.extend(audit_text(audit));
        }
        CheckSection {
            checks: rules::one_shot(&conds),
            json,
            text: lines,
            perfdata: vec![
                format!("probes={}", rows.len()),
                format!("probes_failing={failing}"),
            ],
            prometheus: prometheus(&self.snap),
        }
    }
}

fn text(snap: &ProbesSnapshot, attempts: u32) -> Vec<String> {
    if snap.rows.is_empty() {
        return vec!["probes: none configured".into()];
    }
    let mut out = vec![format!(
        "probes: {} ({} attempt{} each)",
        snap.rows.len(),
        attempts,
        if attempts == 1 { "" } else { "s" }
    )];
    for r in &snap.rows {
        let Some(a) = r.last() else { continue };
        let t = &a.timings;
        let phases: Vec<String> = [
            ("dns", t.dns),
            ("connect", t.connect),
            ("tls", t.tls),
            ("headers", t.headers),
            ("transfer", t.transfer),
        ]
        .iter()
        .filter_map(|(n, d)| d.map(|d| format!("{n} {}", short_latency(d))))
        .collect();
        let what = match (&a.error, a.status_code) {
            (Some(e), _) => format!(
                "failed in {}: {e}",
                a.failed.map(|p| p.name()).unwrap_or("?")
            ),
            (None, Some(c)) => format!("{c} in {}", short_latency(t.total)),
            (None, None) => "ok".into(),
        };
        let p99 = r
            .stats
            .p99
            .map(|p| match r.slo_p99 {
                Some(slo) => format!(", p99 {} (SLO {})", short_latency(p), short_latency(slo)),
                None => format!(", p99 {}", short_latency(p)),
            })
            .unwrap_or_default();
        out.push(format!(
            "probe {}: {} {what} ({}){p99}",
            r.name,
            r.verdict.level.label(),
            phases.join(", ")
        ));
    }
    out
}

fn audit_text(audit: &crate::domain::probes::AuditSnapshot) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(e) = &audit.error {
        out.push(format!("probe audit: {e}"));
    }
    let findings = audit.rows.iter().filter(|a| a.finding.is_some()).count();
    out.push(format!(
        "probe audit: {} HTTP probes of pods, {findings} with a timeout below the endpoint's p99",
        audit.rows.len()
    ));
    for a in &audit.rows {
        let what = match (&a.finding, &a.unmeasured, a.stats.p99) {
            (Some(f), _, _) => f.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(p)) => format!("p99 {} within the timeout", short_latency(p)),
            (None, None, None) => "not measured".into(),
        };
        let not_running = a
            .unmeasured
            .as_deref()
            .is_some_and(|u| u.contains("not running"));
        if a.finding.is_some() || (a.stats.p99.is_none() && !not_running) {
            out.push(format!(
                "probe audit {}/{} {} {}: {} (timeoutSeconds {}, periodSeconds {}, failureThreshold {})",
                a.namespace,
                a.pod,
                a.container,
                a.kind,
                what,
                a.timeout.as_secs(),
                a.period.as_secs(),
                a.failure_threshold
            ));
        }
    }
    out
}

fn prometheus(snap: &ProbesSnapshot) -> String {
    let mut out = String::new();
    let mut seen = Series::default();
    let _ = writeln!(
        out,
        "# HELP ondeck_probe_success Whether the probe's last attempt succeeded (1) or not (0)."
    );
    let _ = writeln!(out, "# TYPE ondeck_probe_success gauge");
    for r in &snap.rows {
        let ok = r.last().is_some_and(|a| a.ok);
        let labels = format!("name=\"{}\"", distinct_label(&r.name));
        seen.write(&mut out, "ondeck_probe_success", &labels, u8::from(ok));
    }
    let _ = writeln!(
        out,
        "# HELP ondeck_probe_duration_seconds Duration of each phase of the probe's last attempt."
    );
    let _ = writeln!(out, "# TYPE ondeck_probe_duration_seconds gauge");
    for r in &snap.rows {
        let Some(a) = r.last() else { continue };
        let t = &a.timings;
        for (phase, d) in [
            ("dns", t.dns),
            ("connect", t.connect),
            ("tls", t.tls),
            ("headers", t.headers),
            ("transfer", t.transfer),
            ("total", Some(t.total)),
        ] {
            let Some(d) = d else { continue };
            let labels = format!("name=\"{}\",phase=\"{phase}\"", distinct_label(&r.name));
            seen.write(
                &mut out,
                "ondeck_probe_duration_seconds",
                &labels,
                format!("{:.6}", d.as_secs_f64()),
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP ondeck_probe_status_code HTTP status code of the probe's last response (0: none)."
    );
    let _ = writeln!(out, "# TYPE ondeck_probe_status_code gauge");
    for r in &snap.rows {
        let code = r.last().and_then(|a| a.status_code).unwrap_or(0);
        let labels = format!("name=\"{}\"", distinct_label(&r.name));
        seen.write(&mut out, "ondeck_probe_status_code", &labels, code);
    }
    out
}
