//! The Kubernetes probe audit (incident 3: a readiness probe with `timeoutSeconds: 1` against
//! an endpoint whose p99 is 2.1 s): the HTTP readiness/liveness/startup probes of the pods in
//! scope (a paged list, keeping only the probe facts, never whole pods), each endpoint measured
//! through the API server's pod proxy (`pods/NAME:PORT/proxy/PATH`, at most
//! `kubernetes_concurrency` requests at once) and its p99 compared with the probe's timeout in
//! words. Where the proxy is forbidden, the configuration alone is shown, saying why.
//! Probe-failure events (`Readiness probe failed: ...`) join the row.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use k8s_openapi::api::core::v1::{Container, Event, Pod, Probe};
use kube::api::{Api, ListParams};

use super::config::ProbeSettings;
use crate::domain::Level;
use crate::domain::probes::{AuditRow, AuditSnapshot, History, short_latency};
use crate::domain::text::Clean;

/// Measurements per endpoint.
pub const SAMPLES: usize = 3;
/// Pods listed per page.
const PAGE: u32 = 500;
/// At most this many probes are audited (the rest are counted in the error line).
const MAX_PROBES: usize = 2000;

/// One HTTP probe of one container, as configured.
#[derive(Debug, Clone)]
struct Target {
    namespace: String,
    pod: String,
    container: String,
    kind: &'static str,
    port: String,
    path: String,
    timeout: Duration,
    period: Duration,
    failure_threshold: u32,
    running: bool,
}

/// Lists the pods in scope (`namespace` `None`: all), measures their HTTP probes' endpoints
/// (when `measure`) and returns the rows.
pub async fn audit(
    client: kube::Client,
    namespace: Option<&str>,
    settings: &ProbeSettings,
    measure: bool,
    deadline: Duration,
) -> AuditSnapshot {
    let pods: Api<Pod> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let mut targets = Vec::new();
    let mut cont: Option<String> = None;
    loop {
        let mut lp = ListParams::default().limit(PAGE);
        if let Some(c) = &cont {
            lp = lp.continue_token(c);
        }
        let page = match tokio::time::timeout(deadline, pods.list(&lp)).await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                return AuditSnapshot {
                    error: Some(Clean::from_string(format!("cannot list pods: {e}"))),
                    at: Some(jiff::Timestamp::now()),
                    ..Default::default()
                };
            }
            Err(_) => {
                return AuditSnapshot {
                    error: Some(Clean::from_string(format!(
                        "listing pods took longer than {}",
                        humantime::format_duration(deadline)
                    ))),
                    at: Some(jiff::Timestamp::now()),
                    ..Default::default()
                };
            }
        };
        for pod in &page.items {
            targets.extend(targets_of(pod));
        }
        cont = page.metadata.continue_.filter(|c| !c.is_empty());
        if cont.is_none() || targets.len() >= MAX_PROBES {
            break;
        }
    }
    targets.truncate(MAX_PROBES);
    let events = probe_events(&client, namespace, deadline).await;
    let concurrency = settings.kubernetes_concurrency.max(1);
    let rows: Vec<AuditRow> = futures::stream::iter(targets.into_iter().map(|t| {
        let client = client.clone();
        let events = events.get(&(t.namespace.clone(), t.pod.clone())).cloned();
        async move { measure_one(client, t, measure, events.unwrap_or_default()).await }
    }))
    .buffered(concurrency)
    .collect()
    .await;
    AuditSnapshot {
        rows,
        error: None,
        scope: None,
        at: Some(jiff::Timestamp::now()),
    }
}

/// The console's audit of one Kubernetes target: says at once that it runs for `scope` (so
/// rows of a previous target disappear), then audits now and every `kubernetes_interval`,
/// sending each result to `sink` (the probes collector). Runs until aborted (the target's
/// guard, dropped on `:ctx` / `:ns`) or until `sink` closes.
pub async fn run_loop(
    client: kube::Client,
    namespace: Option<String>,
    scope: String,
    settings: ProbeSettings,
    deadline: Duration,
    sink: tokio::sync::mpsc::Sender<AuditSnapshot>,
) {
    let scope = Clean::from_string(scope);
    let starting = AuditSnapshot {
        scope: Some(scope.clone()),
        ..Default::default()
    };
    if sink.send(starting).await.is_err() {
        return;
    }
    loop {
        let mut snap = audit(
            client.clone(),
            namespace.as_deref(),
            &settings,
            true,
            deadline,
        )
        .await;
        snap.scope = Some(scope.clone());
        if sink.send(snap).await.is_err() {
            return;
        }
        tokio::time::sleep(settings.kubernetes_interval.0).await;
    }
}

/// The HTTP probes of a pod's containers.
fn targets_of(pod: &Pod) -> Vec<Target> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let running = pod
        .status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .is_some_and(|p| p == "Running");
    let mut out = Vec::new();
    let Some(spec) = &pod.spec else { return out };
    for c in &spec.containers {
        for (kind, probe) in [
            ("readiness", &c.readiness_probe),
            ("liveness", &c.liveness_probe),
            ("startup", &c.startup_probe),
        ] {
            let Some(p) = probe else { continue };
            if let Some(t) = target(&ns, &name, c, kind, p, running) {
                out.push(t);
            }
        }
    }
    out
}

fn target(
    ns: &str,
    pod: &str,
    c: &Container,
    kind: &'static str,
    p: &Probe,
    running: bool,
) -> Option<Target> {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let get = p.http_get.as_ref()?;
    let port = match &get.port {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(s) => c
            .ports
            .iter()
            .flatten()
            .find(|pt| pt.name.as_deref() == Some(s.as_str()))
            .map(|pt| pt.container_port.to_string())
            .unwrap_or_else(|| s.clone()),
    };
    let secs = |v: Option<i32>, default: i32| {
        Duration::from_secs(
            u64::try_from(v.unwrap_or(default))
                .unwrap_or(1)
                .clamp(1, 86_400),
        )
    };
    let scheme_https = get.scheme.as_deref() == Some("HTTPS");
    Some(Target {
        namespace: ns.to_string(),
        pod: pod.to_string(),
        container: c.name.clone(),
        kind,
        port: if scheme_https {
            format!("https:{port}")
        } else {
            port
        },
        path: get.path.clone().unwrap_or_else(|| "/".into()),
        timeout: secs(p.timeout_seconds, 1),
        period: secs(p.period_seconds, 10),
        failure_threshold: u32::try_from(p.failure_threshold.unwrap_or(3)).unwrap_or(3),
        running,
    })
}

/// Probe-failure events (`reason=Unhealthy`) per pod, newest messages first (at most 3).
async fn probe_events(
    client: &kube::Client,
    namespace: Option<&str>,
    deadline: Duration,
) -> HashMap<(String, String), Vec<Clean>> {
    let api: Api<Event> = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let lp = ListParams::default().fields("reason=Unhealthy").limit(PAGE);
    let mut out: HashMap<(String, String), Vec<Clean>> = HashMap::new();
    let Ok(Ok(list)) = tokio::time::timeout(deadline, api.list(&lp)).await else {
        return out;
    };
    for e in list.items {
        let (Some(ns), Some(name)) = (e.involved_object.namespace, e.involved_object.name) else {
            continue;
        };
        let Some(msg) = e.message else { continue };
        let list = out.entry((ns, name)).or_default();
        if list.len() < 3 {
            list.push(Clean::from_string(msg));
        }
    }
    out
}

async fn measure_one(
    client: kube::Client,
    t: Target,
    measure: bool,
    events: Vec<Clean>,
) -> AuditRow {
    let mut row = AuditRow {
        namespace: Clean::identifier(&t.namespace),
        pod: Clean::identifier(&t.pod),
        container: Clean::identifier(&t.container),
        kind: t.kind,
        port: t
            .port
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0),
        path: Clean::new(&t.path),
        timeout: t.timeout,
        period: t.period,
        failure_threshold: t.failure_threshold,
        stats: Default::default(),
        unmeasured: None,
        level: Level::Ok,
        finding: None,
        events,
    };
    if !measure {
        row.unmeasured = Some(Clean::new(
            "not measured: [probing] kubernetes = false (configuration only)",
        ));
        return row;
    }
    if !t.running {
        row.unmeasured = Some(Clean::new("not measured: the pod is not running"));
        return row;
    }
    // `NAME:PORT`, or `https:NAME:PORT` for an HTTPS probe (the API server's syntax).
    let name_port = match t.port.split_once(':') {
        Some((scheme, port)) => format!("{scheme}:{}:{port}", t.pod),
        None => format!("{}:{}", t.pod, t.port),
    };
    let path = format!(
        "/api/v1/namespaces/{}/pods/{name_port}/proxy{}{}",
        t.namespace,
        if t.path.starts_with('/') { "" } else { "/" },
        t.path
    );
    // Each request may take up to 10x the probe's timeout (at least 3 s, at most 30 s): the
    // point is to see how slow the endpoint is, not to fail where the kubelet would.
    let limit = (t.timeout * 10).clamp(Duration::from_secs(3), Duration::from_secs(30));
    let mut history = History::new(SAMPLES, Duration::from_secs(3600));
    let mut failures = Vec::new();
    for _ in 0..SAMPLES {
        let req = match http::Request::get(&path).body(Vec::new()) {
            Ok(r) => r,
            Err(e) => {
                row.unmeasured = Some(Clean::from_string(format!("bad proxy path: {e}")));
                return row;
            }
        };
        let started = Instant::now();
        let r = tokio::time::timeout(limit, client.request_text(req)).await;
        let took = started.elapsed();
        match r {
            Ok(Ok(_)) => history.push(started, took, true),
            Ok(Err(kube::Error::Api(s))) if s.code == 403 => {
                row.unmeasured = Some(Clean::from_string(format!(
                    "not measured: the pod proxy is forbidden ({}); configuration only",
                    s.message
                )));
                return row;
            }
            Ok(Err(e)) => {
                history.push(started, took, false);
                failures.push(e.to_string());
            }
            Err(_) => {
                // Past the limit: counts as that slow.
                history.push(started, took, true);
            }
        }
    }
    row.stats = history.stats(Instant::now());
    if row.stats.ok == 0 {
        row.unmeasured = Some(Clean::from_string(format!(
            "not measured: every request through the pod proxy failed ({})",
            failures.first().map(String::as_str).unwrap_or("?")
        )));
        return row;
    }
    if let Some(p99) = row.stats.p99
        && p99 > t.timeout
    {
        row.level = Level::Warning;
        let consequence = match t.kind {
            "liveness" => "containers will be restarted under load",
            "startup" => "containers will be killed before they start under load",
            _ => "pods will flap under load",
        };
        row.finding = Some(Clean::from_string(format!(
            "{} timeout {}s is below this endpoint's p99 {}: {consequence}",
            t.kind,
            t.timeout.as_secs(),
            short_latency(p99)
        )));
    }
    row
}
