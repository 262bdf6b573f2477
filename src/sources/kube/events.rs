//! The second watch: core/v1 Events about pods (`involvedObject.kind=Pod`), kept as a bounded
//! map of recent events per pod (Unhealthy probe messages, BackOff, FailedScheduling, OOM) for
//! the detail view. Published as an immutable shared map, replaced at most once a second. Their
//! text is [`Clean`] from here on.

use std::collections::{BTreeMap, HashMap};
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

/// Recent events per pod, newest first. The lists are the event book's own (shared, not
/// copied, by every published map).
pub type EventsMap = BTreeMap<PodKey, Arc<[PodEvent]>>;

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
    per_pod: HashMap<PodKey, PodEvents>,
    clock: u64,
}

/// One pod's recent events: the list shared with the published maps (newest first) and the
/// events' ids (hashed; same order), with when the pod last had an event (for eviction).
#[derive(Debug)]
struct PodEvents {
    events: Arc<[PodEvent]>,
    ids: Vec<u64>,
    touched: u64,
}

/// An event's identity (its uid) as a 64-bit hash: 8 bytes per kept event, not a string.
fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

impl EventBook {
    pub fn clear(&mut self) {
        self.per_pod.clear();
    }

    pub fn apply(&mut self, e: &Event) {
        let Some((key, id, ev)) = pod_event(e) else {
            return;
        };
        let id = id_hash(&id);
        self.clock += 1;
        let clock = self.clock;
        let entry = self.per_pod.entry(key).or_insert_with(|| PodEvents {
            events: Arc::from(Vec::new()),
            ids: Vec::new(),
            touched: clock,
        });
        entry.touched = clock;
        let mut list: Vec<(u64, PodEvent)> = entry
            .ids
            .iter()
            .copied()
            .zip(entry.events.iter().cloned())
            .filter(|(i, _)| *i != id)
            .collect();
        list.push((id, ev));
        // Newest first; past PER_POD the oldest by last_seen goes.
        list.sort_by_key(|(_, e)| std::cmp::Reverse(e.last_seen));
        list.truncate(PER_POD);
        entry.ids = list.iter().map(|(i, _)| *i).collect();
        entry.events = list.into_iter().map(|(_, e)| e).collect();
        if self.per_pod.len() > MAX_PODS
            && let Some(oldest) = self
                .per_pod
                .iter()
                .min_by_key(|(_, p)| p.touched)
                .map(|(k, _)| k.clone())
        {
            self.per_pod.remove(&oldest);
        }
    }

    pub fn delete(&mut self, e: &Event) {
        let Some((key, id, _)) = pod_event(e) else {
            return;
        };
        let id = id_hash(&id);
        let Some(p) = self.per_pod.get_mut(&key) else {
            return;
        };
        if !p.ids.contains(&id) {
            return;
        }
        let (ids, events): (Vec<u64>, Vec<PodEvent>) = p
            .ids
            .iter()
            .copied()
            .zip(p.events.iter().cloned())
            .filter(|(i, _)| *i != id)
            .unzip();
        if ids.is_empty() {
            self.per_pod.remove(&key);
        } else {
            p.ids = ids;
            p.events = events.into();
        }
    }

    /// The shared form: newest first per pod (the lists themselves are shared, not copied).
    pub fn to_map(&self) -> EventsMap {
        self.per_pod
            .iter()
            .map(|(k, p)| (k.clone(), Arc::clone(&p.events)))
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
    Ok(book
        .to_map()
        .remove(key)
        .map(|v| v.to_vec())
        .unwrap_or_default())
}

/// Newest event time of a list (for tests and sorting).
pub fn newest(events: &[PodEvent]) -> Option<Timestamp> {
    events.iter().filter_map(|e| e.last_seen).max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ObjectReference;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

    fn event(pod: &str, uid: &str, reason: &str, at: i64) -> Event {
        Event {
            metadata: ObjectMeta {
                namespace: Some("web".into()),
                uid: Some(uid.into()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                kind: Some("Pod".into()),
                name: Some(pod.into()),
                namespace: Some("web".into()),
                ..Default::default()
            },
            reason: Some(reason.into()),
            message: Some(format!("{reason} message")),
            last_timestamp: Some(Time(
                Timestamp::from_second(1_795_000_000 + at).unwrap_or(Timestamp::UNIX_EPOCH),
            )),
            ..Default::default()
        }
    }

    fn reasons(map: &EventsMap, pod: &str) -> Vec<String> {
        map.get(&PodKey::new("web", pod))
            .map(|v| v.iter().map(|e| e.reason.to_string()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn newest_first_bounded_per_pod_and_replaced_by_uid() {
        let mut book = EventBook::default();
        for i in 0..(PER_POD as i64 + 3) {
            book.apply(&event("a", &format!("u{i}"), &format!("R{i}"), i));
        }
        // The same event again (same uid), newer: replaced, not added.
        book.apply(&event("a", "u12", "R12-again", 100));
        book.apply(&event("b", "x", "Only", 5));
        let map = book.to_map();
        let a = reasons(&map, "a");
        assert_eq!(a.len(), PER_POD, "{a:?}");
        assert_eq!(a[0], "R12-again");
        assert_eq!(a[1], "R11");
        assert!(
            !a.iter()
                .any(|r| r == "R0" || r == "R1" || r == "R2" || r == "R12"),
            "{a:?}"
        );
        assert_eq!(reasons(&map, "b"), ["Only"]);
        // An event of something else than a pod is not kept.
        let mut node = event("n1", "n", "NodeNotReady", 1);
        node.involved_object.kind = Some("Node".into());
        book.apply(&node);
        assert_eq!(book.to_map().len(), 2);
    }

    #[test]
    fn deleting_an_event_removes_it_and_an_emptied_pod() {
        let mut book = EventBook::default();
        book.apply(&event("a", "u1", "BackOff", 1));
        book.apply(&event("a", "u2", "Unhealthy", 2));
        book.delete(&event("a", "u2", "Unhealthy", 2));
        assert_eq!(reasons(&book.to_map(), "a"), ["BackOff"]);
        // Deleting what is not there changes nothing.
        book.delete(&event("a", "nope", "X", 3));
        assert_eq!(reasons(&book.to_map(), "a"), ["BackOff"]);
        book.delete(&event("a", "u1", "BackOff", 1));
        assert!(book.to_map().is_empty());
    }

    #[test]
    fn published_maps_share_the_books_lists() {
        let mut book = EventBook::default();
        book.apply(&event("a", "u1", "BackOff", 1));
        book.apply(&event("b", "u2", "Unhealthy", 2));
        let (m1, m2) = (book.to_map(), book.to_map());
        let key = PodKey::new("web", "a");
        let (Some(l1), Some(l2)) = (m1.get(&key), m2.get(&key)) else {
            panic!("pod a has events: {m1:?}");
        };
        assert!(Arc::ptr_eq(l1, l2), "one list, shared");
        // A new event for pod a gives a new list for a only.
        book.apply(&event("a", "u3", "Killing", 3));
        let m3 = book.to_map();
        assert!(!Arc::ptr_eq(l1, &m3[&key]));
        let b = PodKey::new("web", "b");
        assert!(Arc::ptr_eq(&m1[&b], &m3[&b]));
    }

    #[test]
    fn the_least_recently_touched_pod_goes_past_the_bound() {
        let mut book = EventBook::default();
        for i in 0..=MAX_PODS {
            book.apply(&event(&format!("p{i}"), &format!("u{i}"), "BackOff", 1));
        }
        let map = book.to_map();
        assert_eq!(map.len(), MAX_PODS);
        assert!(!map.contains_key(&PodKey::new("web", "p0")));
        assert!(map.contains_key(&PodKey::new("web", &*format!("p{MAX_PODS}"))));
    }
}
