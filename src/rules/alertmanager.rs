//! Optional `[alerts] alertmanager_url`: firing and resolved alerts posted to Alertmanager's v2
//! API (`POST /api/v2/alerts`), so existing routing to a pager or a chat works.
//!
//! One alert per firing subject, labelled `alertname` = the **rule id** (stable for routing;
//! titles may be reworded), `severity`, `namespace` (Kubernetes subjects), `instance` (the pod,
//! claim, listener or process; `host` for host-wide rules), `rule`, `source` and `host`; the
//! title, a summary and the message are annotations. Alertmanager groups them (by `alertname`,
//! as routes usually do): 1,000 OOM-killed pods are one alert group and one notification.
//!
//! The client runs on its own task. The UI hands it the book's current firing set through a
//! `watch` channel (a queue of one that always holds the latest state), so publishing never
//! waits and a dead receiver never blocks the console. The task posts on every change, sends
//! everything again every `resend` (with `endsAt` 4 times that ahead: an ondeck that vanished
//! lets its alerts resolve), and resolves alerts that left the set once, with `endsAt` now.
//! Each request has a deadline and is retried with exponential backoff and jitter.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use super::{Alert, AlertBook};
use crate::domain::Level;
use crate::domain::source::SourceId;

/// Alerts per request.
pub const BATCH: usize = 500;
/// Attempts per request (the first and its retries).
pub const ATTEMPTS: u32 = 4;

/// One alert as Alertmanager gets it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AmAlert {
    pub labels: BTreeMap<&'static str, String>,
    pub annotations: BTreeMap<&'static str, String>,
    #[serde(rename = "startsAt")]
    pub starts_at: String,
    #[serde(rename = "endsAt", skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<String>,
}

fn severity(level: Level) -> &'static str {
    match level {
        Level::Critical => "critical",
        Level::Warning => "warning",
        Level::Info | Level::Ok => "info",
    }
}

/// The Alertmanager form of one alert (`host` = this machine's name).
pub fn am_alert(a: &Alert, host: &str, now: jiff::Timestamp) -> AmAlert {
    let mut labels = BTreeMap::new();
    labels.insert("alertname", a.key.rule.to_string());
    labels.insert("rule", a.key.rule.to_string());
    labels.insert("severity", severity(a.key.level).to_string());
    labels.insert("source", a.key.source.name().to_string());
    labels.insert("host", host.to_string());
    let instance = match (a.key.source, a.key.namespace()) {
        (SourceId::Sockets, _) => a.key.subject.to_string(),
        (_, Some(ns)) => {
            labels.insert("namespace", ns.to_string());
            a.key.subject[ns.len() + 1..].to_string()
        }
        (_, None) => a.key.subject.to_string(),
    };
    labels.insert("instance", instance);
    let value = a.value_text(now);
    let limit = a.limit_text();
    let mut annotations = BTreeMap::new();
    annotations.insert("title", a.title.to_string());
    annotations.insert(
        "summary",
        if limit.is_empty() {
            format!("{}: {value}", a.title)
        } else {
            format!("{}: {value} (limit {limit})", a.title)
        },
    );
    annotations.insert("description", a.message.clone());
    AmAlert {
        labels,
        annotations,
        starts_at: a.since_wall.to_string(),
        ends_at: None,
    }
}

/// Every firing alert of the book (pending ones are not sent, as Prometheus does).
pub fn firing_set(book: &AlertBook, host: &str, now: jiff::Timestamp) -> Vec<AmAlert> {
    book.all()
        .filter(|a| a.is_firing())
        .map(|a| am_alert(a, host, now))
        .collect()
}

/// This machine's name (the `host` label), `localhost` if it cannot be read.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .map(|s| crate::sanitize::line(&s).into_owned())
        .unwrap_or_else(|| "localhost".into())
}

/// What the client has done so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AmStats {
    /// Requests Alertmanager accepted.
    pub posted: u64,
    /// Requests that failed after every attempt.
    pub failed: u64,
    /// Attempts that failed (timeouts, refused, 5xx), retried or not.
    pub attempts_failed: u64,
    pub last_error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AmError {
    #[error("alerts.alertmanager_url {0:?} is not a valid URL: {1}")]
    Url(String, String),
    #[error("cannot build the Alertmanager client: {0}")]
    Client(String),
}

/// The handle the UI keeps: publishing never waits.
#[derive(Debug, Clone)]
pub struct AlertmanagerClient {
    tx: Arc<watch::Sender<Arc<Vec<AmAlert>>>>,
    stats: Arc<Mutex<AmStats>>,
    host: Arc<str>,
}

impl AlertmanagerClient {
    /// Starts the client task for `base` (`http://127.0.0.1:9093`). Must be called inside a
    /// tokio runtime.
    pub fn spawn(
        base: &str,
        timeout: Duration,
        resend: Duration,
    ) -> Result<AlertmanagerClient, AmError> {
        let url = reqwest::Url::parse(base)
            .and_then(|u| u.join("api/v2/alerts"))
            .map_err(|e| AmError::Url(base.to_string(), e.to_string()))?;
        // reqwest is built without a default TLS provider: ondeck's is ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .user_agent(concat!("ondeck/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| AmError::Client(e.to_string()))?;
        let (tx, rx) = watch::channel(Arc::new(Vec::new()));
        let stats = Arc::new(Mutex::new(AmStats::default()));
        tokio::spawn(run(client, url, rx, resend, stats.clone()));
        Ok(AlertmanagerClient {
            tx: Arc::new(tx),
            stats,
            host: hostname().into(),
        })
    }

    /// Hands the current firing set to the task (the latest wins; never waits).
    pub fn publish(&self, alerts: Vec<AmAlert>) {
        self.tx.send_replace(Arc::new(alerts));
    }

    /// Publishes the book's firing set.
    pub fn publish_book(&self, book: &AlertBook, now: jiff::Timestamp) {
        self.publish(firing_set(book, &self.host, now));
    }

    pub fn stats(&self) -> AmStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// Identity of an alert for Alertmanager: its label set.
type Fingerprint = BTreeMap<&'static str, String>;

async fn run(
    client: reqwest::Client,
    url: reqwest::Url,
    mut rx: watch::Receiver<Arc<Vec<AmAlert>>>,
    resend: Duration,
    stats: Arc<Mutex<AmStats>>,
) {
    let mut current: BTreeMap<Fingerprint, AmAlert> = BTreeMap::new();
    let mut tick = tokio::time::interval(resend);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        let changed = tokio::select! {
            r = rx.changed() => r.is_ok(),
            _ = tick.tick() => {
                if !current.is_empty() {
                    let all: Vec<AmAlert> = current.values().cloned().collect();
                    post_all(&client, &url, all, resend, &stats).await;
                }
                continue;
            }
        };
        if !changed {
            // The console is gone. Its alerts resolve on their own at `endsAt`.
            break;
        }
        let latest = rx.borrow_and_update().clone();
        let mut next: BTreeMap<Fingerprint, AmAlert> = latest
            .iter()
            .map(|a| (a.labels.clone(), a.clone()))
            .collect();
        let now = jiff::Timestamp::now().to_string();
        let mut batch: Vec<AmAlert> = Vec::with_capacity(next.len());
        for (fp, old) in &current {
            if !next.contains_key(fp) {
                let mut resolved = old.clone();
                resolved.ends_at = Some(now.clone());
                batch.push(resolved);
            }
        }
        batch.extend(next.values().cloned());
        std::mem::swap(&mut current, &mut next);
        if !batch.is_empty() {
            post_all(&client, &url, batch, resend, &stats).await;
        }
    }
}

/// Posts `alerts` in batches; firing ones get `endsAt` 4 resend intervals ahead.
async fn post_all(
    client: &reqwest::Client,
    url: &reqwest::Url,
    mut alerts: Vec<AmAlert>,
    resend: Duration,
    stats: &Mutex<AmStats>,
) {
    let ends = jiff::Timestamp::now()
        .checked_add(
            jiff::SignedDuration::try_from(resend * 4)
                .unwrap_or(jiff::SignedDuration::from_secs(240)),
        )
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string();
    for a in alerts.iter_mut().filter(|a| a.ends_at.is_none()) {
        a.ends_at = Some(ends.clone());
    }
    for chunk in alerts.chunks(BATCH) {
        let outcome = post_with_retry(client, url, chunk, stats).await;
        if let Ok(mut s) = stats.lock() {
            match outcome {
                Ok(()) => s.posted += 1,
                Err(e) => {
                    tracing::warn!(error = %e, alerts = chunk.len(), "Alertmanager post failed");
                    s.failed += 1;
                    s.last_error = Some(e);
                }
            }
        }
    }
}

/// One request with its deadline (the client's timeout), retried after 250ms, 500ms, 1s (plus
/// up to half again of jitter) on timeouts, connection errors, 429 and 5xx.
async fn post_with_retry(
    client: &reqwest::Client,
    url: &reqwest::Url,
    alerts: &[AmAlert],
    stats: &Mutex<AmStats>,
) -> Result<(), String> {
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            let base = Duration::from_millis(250) * 2u32.pow(attempt - 1);
            let jitter = base.mul_f64(fastrand::f64() * 0.5);
            tokio::time::sleep(base + jitter).await;
        }
        let retry = match client.post(url.clone()).json(alerts).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                last = format!(
                    "HTTP {status}: {}",
                    body.chars().take(200).collect::<String>()
                );
                status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS
            }
            Err(e) => {
                last = e.to_string();
                true
            }
        };
        if let Ok(mut s) = stats.lock() {
            s.attempts_failed += 1;
        }
        if !retry {
            break;
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Comparison;
    use crate::rules::{AlertKey, AlertPhase, Shown};
    use std::time::Instant;

    #[test]
    fn a_pod_alert_is_labelled_for_routing() {
        let now = jiff::Timestamp::from_second(1_700_000_000).expect("valid");
        let a = Alert {
            key: AlertKey {
                source: SourceId::Pods,
                rule: "pod_oom_killed".into(),
                subject: "shop/api-7d9".into(),
                level: Level::Critical,
            },
            phase: AlertPhase::Firing {
                since: Instant::now(),
            },
            value: 720.0,
            threshold: 3600.0,
            op: Comparison::AtMost,
            message: "shop/api-7d9: OOMKilled 12m ago (container api)".into(),
            title: "Pod OOM-killed".into(),
            shown: Shown::Ago {
                what: "OOMKilled".into(),
                at: now - jiff::SignedDuration::from_secs(720),
            },
            since_wall: now,
            ack: None,
        };
        let am = am_alert(&a, "node-1", now);
        assert_eq!(am.labels["alertname"], "pod_oom_killed");
        assert_eq!(am.labels["severity"], "critical");
        assert_eq!(am.labels["namespace"], "shop");
        assert_eq!(am.labels["instance"], "api-7d9");
        assert_eq!(am.labels["host"], "node-1");
        assert_eq!(
            am.annotations["summary"],
            "Pod OOM-killed: OOMKilled 12m ago (limit within 1h)"
        );
        let json = serde_json::to_value(&am).expect("serializes");
        assert!(json.get("startsAt").is_some());
        assert!(json.get("endsAt").is_none(), "set when posted");
    }
}
