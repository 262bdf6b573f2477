//! The second watch: core/v1 Events about pods (`involvedObject.kind=Pod`), kept as a bounded
//! map of recent events per pod (Unhealthy probe messages, BackOff, FailedScheduling, OOM) for
//! the detail view. Published as an immutable shared map, replaced at most once a second. Their
//! text is [`Clean`] from here on.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::kube::Api;
use ::kube::runtime::watcher;
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Event;
use tokio::sync::watch;

use crate::domain::pods::{NamespaceScope, PodEvent, PodKey};
use crate::domain::text::Clean;

use super::backoff::Backoff;
use super::client::{KubeTarget, WATCH_TIMEOUT_SECS};
use super::errors::{self, Op};

/// Recent events per pod, newest first.
pub type EventsMap = BTreeMap<PodKey, Vec<PodEvent>>;

/// Events kept per pod.
pub const PER_POD: usize = 10;
/// Pods with events kept at most (the least recently updated are dropped first).
pub const MAX_PODS: usize = 10_000;
/// The shared map is republished at most this often.
const PUBLISH_EVERY: Duration = Duration::from_secs(1);

/// Converts an API event (every field optional) into what the detail view shows.
pub fn pod_event(e: &Event) -> Option<(PodKey, String, PodEvent)> {
    let obj = &e.involved_object;
    if obj.kind.as_deref() != Some("Pod") {
        return None;
    }
    let key = PodKey::new(
        obj.namespace
            .clone()
            .or_else(|| e.metadata.namespace.clone())
            .unwrap_or_default(),
        obj.name.clone()?,
    );
    let id = e
        .metadata
        .uid
        .clone()
        .or_else(|| e.metadata.name.clone())
        .unwrap_or_default();
    let last_seen = e
        .series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref().map(|t| t.0))
        .or_else(|| e.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| e.event_time.as_ref().map(|t| t.0))
        .or_else(|| e.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0));
    let count = e
        .series
        .as_ref()
        .and_then(|s| s.count)
        .or(e.count)
        .unwrap_or(1)
        .max(1) as u32;
    let source = e
        .source
        .as_ref()
        .and_then(|s| s.component.clone())
        .or_else(|| e.reporting_component.clone())
        .unwrap_or_default();
    Some((
        key,
        id,
        PodEvent {
            type_: Clean::new(e.type_.as_deref().unwrap_or("Normal")),
            reason: Clean::new(e.reason.as_deref().unwrap_or_default()),
            message: Clean::new(e.message.as_deref().unwrap_or_default()),
            count,
            last_seen,
            source: Clean::from(source),
        },
    ))
}

/// Bounded recent events per pod.
#[derive(Debug, Default)]
pub struct EventBook {
    per_pod: HashMap<PodKey, VecDeque<(String, PodEvent)>>,
    touched: HashMap<PodKey, u64>,
    clock: u64,
}

impl EventBook {
    pub fn clear(&mut self) {
        self.per_pod.clear();
        self.touched.clear();
    }

    pub fn apply(&mut self, e: &Event) {
        let Some((key, id, ev)) = pod_event(e) else {
            return;
        };
        self.clock += 1;
        self.touched.insert(key.clone(), self.clock);
        let q = self.per_pod.entry(key).or_default();
        q.retain(|(i, _)| *i != id);
        q.push_back((id, ev));
        if q.len() > PER_POD {
            // Drop the oldest by last_seen.
            if let Some(idx) = q
                .iter()
                .enumerate()
                .min_by_key(|(_, (_, e))| e.last_seen)
                .map(|(i, _)| i)
            {
                q.remove(idx);
            }
        }
        if self.per_pod.len() > MAX_PODS
            && let Some(oldest) = self
                .touched
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(k, _)| k.clone())
        {
            self.per_pod.remove(&oldest);
            self.touched.remove(&oldest);
        }
    }

    pub fn delete(&mut self, e: &Event) {
        if let Some((key, id, _)) = pod_event(e)
            && let Some(q) = self.per_pod.get_mut(&key)
        {
            q.retain(|(i, _)| *i != id);
            if q.is_empty() {
                self.per_pod.remove(&key);
                self.touched.remove(&key);
            }
        }
    }

    /// The shared form: newest first per pod.
    pub fn to_map(&self) -> EventsMap {
        self.per_pod
            .iter()
            .map(|(k, q)| {
                let mut v: Vec<PodEvent> = q.iter().map(|(_, e)| e.clone()).collect();
                v.sort_by_key(|e| std::cmp::Reverse(e.last_seen));
                (k.clone(), v)
            })
            .collect()
    }
}

/// Runs the events watch: the map goes to `out`; `unknown` says why the events cannot be known
/// (`Some` until the first list completes and after every failure, `None` while the watch
/// works), so the detail says `events: unknown (why)` rather than "no recent events".
pub(crate) async fn watch_events(
    target: KubeTarget,
    out: watch::Sender<Arc<EventsMap>>,
    unknown: watch::Sender<Option<String>>,
    mut backoff: Backoff,
) {
    let known = || {
        unknown.send_if_modified(|u| u.take().is_some());
    };
    let api: Api<Event> = match &target.scope {
        NamespaceScope::All => Api::all(target.watch_client.clone()),
        NamespaceScope::One(ns) => Api::namespaced(target.watch_client.clone(), ns),
    };
    let wc = watcher::Config::default()
        .fields("involvedObject.kind=Pod")
        .timeout(WATCH_TIMEOUT_SECS)
        .page_size(500);
    let mut stream = std::pin::pin!(watcher(api, wc));
    let op = Op {
        verb: "list",
        resource: "events",
        scope: &target.scope,
        server: &target.cluster_url,
        user: target.user.as_deref(),
    };
    let mut book = EventBook::default();
    let mut staging: Option<EventBook> = None;
    let mut dirty = false;
    let mut last_publish = Instant::now() - PUBLISH_EVERY;
    loop {
        let next = if dirty {
            let wait = PUBLISH_EVERY.saturating_sub(last_publish.elapsed());
            match tokio::time::timeout(wait, stream.next()).await {
                Ok(n) => n,
                Err(_) => {
                    out.send_replace(Arc::new(book.to_map()));
                    last_publish = Instant::now();
                    dirty = false;
                    continue;
                }
            }
        } else {
            stream.next().await
        };
        let Some(item) = next else { return };
        if matches!(&item, Ok(ev) if !matches!(ev, watcher::Event::Init)) {
            target.contact.answered();
            backoff.delivered();
        }
        match item {
            Ok(watcher::Event::Init) => staging = Some(EventBook::default()),
            Ok(watcher::Event::InitApply(e)) => {
                if let Some(s) = staging.as_mut() {
                    s.apply(&e);
                }
            }
            Ok(watcher::Event::InitDone) => {
                if let Some(s) = staging.take() {
                    book = s;
                }
                known();
                dirty = true;
            }
            Ok(watcher::Event::Apply(e)) => {
                book.apply(&e);
                known();
                dirty = true;
            }
            Ok(watcher::Event::Delete(e)) => {
                book.delete(&e);
                dirty = true;
            }
            Err(e) if super::backoff::status_code(&e) == Some(410) => {
                // Too old a resourceVersion: the watcher relists on its next step, at once,
                // as the pods and PVC watches do (it once waited a whole backoff here).
                target.contact.answered();
                tracing::debug!("event watch expired (410 Gone), relisting");
            }
            Err(e) => {
                // Events are an extra: their failure is logged, the pods keep flowing.
                if super::backoff::server_answered(&e) {
                    target.contact.answered();
                }
                let err = errors::classify_watcher(&e, &op);
                let why = crate::rules::pods::events_unknown_why(Some(&err));
                unknown.send_if_modified(|u| {
                    let changed = u.as_deref() != Some(why.as_str());
                    *u = Some(why);
                    changed
                });
                let (delay, err) = super::backoff::after_failure(&mut backoff, &e, err);
                tracing::warn!(error = %err, retry_in = ?delay, "event watch failed");
                tokio::time::sleep(delay).await;
            }
        }
        if dirty && last_publish.elapsed() >= PUBLISH_EVERY {
            out.send_replace(Arc::new(book.to_map()));
            last_publish = Instant::now();
            dirty = false;
        }
    }
}

/// Events of one pod fetched once (for `check` or a detail view without a running source).
pub async fn fetch_pod_events(
    target: &KubeTarget,
    key: &PodKey,
) -> Result<Vec<PodEvent>, crate::sources::SourceError> {
    let api: Api<Event> = Api::namespaced(target.client.clone(), &key.namespace);
    let lp = ::kube::api::ListParams::default().fields(&format!(
        "involvedObject.kind=Pod,involvedObject.name={}",
        key.name
    ));
    let scope = NamespaceScope::One(key.namespace.to_string());
    let op = Op {
        verb: "list",
        resource: "events",
        scope: &scope,
        server: &target.cluster_url,
        user: target.user.as_deref(),
    };
    let list = tokio::time::timeout(target.request_timeout, api.list(&lp))
        .await
        .map_err(|_| errors::deadline(&op, target.request_timeout))?
        .map_err(|e| errors::classify(&e, &op))?;
    let mut book = EventBook::default();
    for e in &list.items {
        book.apply(e);
    }
    Ok(book.to_map().remove(key).unwrap_or_default())
}

/// Newest event time of a list (for tests and sorting).
pub fn newest(events: &[PodEvent]) -> Option<Timestamp> {
    events.iter().filter_map(|e| e.last_seen).max()
}
